"""The gateway over real HTTP: passthrough, auth, errors, retries, cache, affinity, cancellation."""

from __future__ import annotations

import asyncio
import json
import logging
import socket

import httpx
import pytest
from smallcode.gateway import (
    GatewayService,
    UserConfig,
    build_app,
    hash_token,
)

from tests.gateway.conftest import chat, make_config, running_gateway
from tests.gateway.slow_backend import SlowBackend
from tests.support.scripted_server import Reply, ScriptedServer


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


async def test_non_stream_reply_is_passed_through_with_usage():
    with ScriptedServer(["hello there"]) as backend:
        async with running_gateway(make_config([("a", backend.base_url, 2)])) as (_, client):
            r = await client.post("/chat/completions", json=chat("hi"))
    assert r.status_code == 200
    assert r.json()["choices"][0]["message"]["content"] == "hello there"
    assert backend.requests[0]["messages"] == [{"role": "user", "content": "hi"}]


async def test_stream_is_passed_through_as_sse_until_done():
    with ScriptedServer([Reply(content="streamed words here")]) as backend:
        async with (
            running_gateway(make_config([("a", backend.base_url, 2)])) as (_, client),
            client.stream("POST", "/chat/completions", json=chat("hi", stream=True)) as r,
        ):
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            lines = [line async for line in r.aiter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    text = "".join(json.loads(line[6:])["choices"][0]["delta"].get("content") or ""
                   for line in lines[:-1])
    assert text == "streamed words here"


async def test_models_health_status_and_metrics_endpoints():
    with ScriptedServer(["ok"]) as backend:
        config = make_config([("a", backend.base_url, 3)])
        config.backends[0].model = "qwen-coder"
        async with running_gateway(config) as (server, client):
            await client.post("/chat/completions", json=chat("x"))
            models = (await client.get("/models")).json()
            health = await client.get(server.url.removesuffix("/v1") + "/health")
            status = (await client.get("/smallcode/status")).json()
            metrics = (await client.get(server.url.removesuffix("/v1") + "/metrics")).text
    assert [m["id"] for m in models["data"]] == ["qwen-coder", "a"]
    assert health.json() == {"status": "ok"}
    assert status["backends"]["a"]["slots"] == 3 and status["backends"]["a"]["busy"] == 0
    assert status["queue"]["queued"] == 0
    assert 'smallcode_gateway_requests_total{user="local",backend="a",status="200"} 1' in metrics
    assert 'smallcode_gateway_backend_slots{backend="a"} 3' in metrics
    assert backend.requests[0]["model"] == "qwen-coder"  # the backend's model name is sent upstream


async def test_non_loopback_client_needs_a_valid_token_and_token_never_logged(caplog):
    token = "sc-secret-token-value"
    with ScriptedServer(default="fine") as backend:
        config = make_config([("a", backend.base_url, 2)],
                             users=[UserConfig(name="alice", token_sha256=hash_token(token))])
        service = GatewayService(config)
        transport = httpx.ASGITransport(app=build_app(service), client=("10.1.2.3", 4000))
        caplog.set_level(logging.DEBUG)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw/v1") as client:
            missing = await client.post("/chat/completions", json=chat("a"))
            wrong = await client.post("/chat/completions", json=chat("a"),
                                      headers={"Authorization": "Bearer sc-nope"})
            good = await client.post("/chat/completions", json=chat("a"),
                                     headers={"Authorization": f"Bearer {token}"})
            models = await client.get("/models")
        await service.aclose()
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "missing_token"
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_token"
    assert good.status_code == 200
    assert models.status_code == 401
    assert service.m_requests.value(user="alice", backend="a", status="200") == 1
    assert token not in caplog.text and "sc-nope" not in caplog.text
    assert "user=alice" in caplog.text


async def test_bad_body_gets_400_and_nothing_is_forwarded():
    with ScriptedServer(default="x") as backend:
        async with running_gateway(make_config([("a", backend.base_url, 2)])) as (_, client):
            not_json = await client.post("/chat/completions", content=b"{nope",
                                         headers={"Content-Type": "application/json"})
            no_messages = await client.post("/chat/completions", json={"model": "m"})
    assert not_json.status_code == 400 and not_json.json()["error"]["code"] == "invalid_json"
    assert no_messages.status_code == 400
    assert backend.requests == []


async def test_backend_500_is_retried_boundedly_then_502_with_reason():
    with ScriptedServer(default=Reply(status=500, body={"error": {"message": "kv cache full"}})
                        ) as backend:
        config = make_config([("a", backend.base_url, 2)], max_retries=2)
        async with running_gateway(config) as (_, client):
            r = await client.post("/chat/completions", json=chat("x"))
            rs = await client.post("/chat/completions", json=chat("x", stream=True))
    assert r.status_code == 502
    err = r.json()["error"]
    assert err["code"] == "http_5xx" and "kv cache full" in err["message"]
    assert "after 3 attempt(s)" in err["message"]
    assert rs.status_code == 502
    assert len(backend.requests) == 6  # 1 + 2 retries, for each of the two requests


async def test_backend_500_then_success_is_recovered_by_a_retry():
    with ScriptedServer([Reply(status=503), "recovered"]) as backend:
        async with running_gateway(make_config([("a", backend.base_url, 1)])) as (_, client):
            r = await client.post("/chat/completions", json=chat("x"))
    assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"] == "recovered"
    assert len(backend.requests) == 2


async def test_backend_down_gives_502_quickly():
    config = make_config([("down", f"http://127.0.0.1:{_closed_port()}/v1", 2)], max_retries=1)
    async with running_gateway(config) as (_, client):
        r = await asyncio.wait_for(client.post("/chat/completions", json=chat("x")), 5)
        rs = await asyncio.wait_for(client.post("/chat/completions", json=chat("x", stream=True)), 5)
    assert r.status_code == 502 and r.json()["error"]["code"] == "unreachable"
    assert "backend down is unreachable after 2 attempt(s)" in r.json()["error"]["message"]
    assert rs.status_code == 502


async def test_slow_backend_gives_504_not_a_hung_client():
    with SlowBackend(delay=5.0) as backend:
        config = make_config([("slow", backend.base_url, 2)], read_timeout=0.3)
        async with running_gateway(config) as (_, client):
            r = await asyncio.wait_for(client.post("/chat/completions", json=chat("t1")), 4)
    assert r.status_code == 504
    assert r.json()["error"]["code"] == "timeout"


async def test_deterministic_requests_are_cached_and_others_are_not():
    with ScriptedServer(default="same") as backend:
        async with running_gateway(make_config([("a", backend.base_url, 2)])) as (server, client):
            for _ in range(3):
                assert (await client.post("/chat/completions",
                                          json=chat("q", temperature=0))).status_code == 200
            for _ in range(2):
                await client.post("/chat/completions", json=chat("q", temperature=0.7))
            await client.post("/chat/completions", json=chat("q", temperature=0.7, seed=5))
            await client.post("/chat/completions", json=chat("q", temperature=0.7, seed=5))
            cache = server.service.status()["cache"]
    assert len(backend.requests) == 1 + 2 + 1
    assert cache["hits"] == 3


async def test_a_conversation_sticks_to_its_backend():
    with ScriptedServer(default="a") as a, ScriptedServer(default="b") as b:
        config = make_config([("a", a.base_url, 4), ("b", b.base_url, 4)])
        async with running_gateway(config) as (_, client):
            first = [{"role": "system", "content": "sys"}, {"role": "user", "content": "task 1"}]
            served = set()
            for turn in range(4):
                messages = first + [{"role": "assistant", "content": "..."},
                                    {"role": "user", "content": f"more {turn}"}] * turn
                r = await client.post("/chat/completions", json={"model": "m", "messages": messages})
                served.add(r.json()["choices"][0]["message"]["content"])
            by_header = set()
            for turn in range(3):
                r = await client.post("/chat/completions", json=chat(f"different {turn}"),
                                      headers={"X-Smallcode-Session": "sess-42"})
                by_header.add(r.json()["choices"][0]["message"]["content"])
    assert len(served) == 1
    assert len(by_header) == 1


async def test_client_disconnect_aborts_the_upstream_request():
    with SlowBackend(delay=3.0, chunks=50, interval=0.1) as backend:
        async with running_gateway(make_config([("s", backend.base_url, 1)])) as (server, client):
            task = asyncio.create_task(client.post("/chat/completions", json=chat("plain")))
            assert await asyncio.to_thread(backend.wait_for, "started", 1)
            task.cancel()
            assert await asyncio.to_thread(backend.wait_for, "aborted", 1)
            async with client.stream("POST", "/chat/completions",
                                     json=chat("streamed", stream=True)) as r:
                async for _ in r.aiter_lines():
                    break
            assert await asyncio.to_thread(backend.wait_for, "aborted", 2)
            await asyncio.sleep(0.1)
            snap = server.service.scheduler.snapshot()
    assert backend.aborted == ["plain", "streamed"]
    assert backend.finished == []
    assert snap["backends"]["s"]["busy"] == 0  # both slots came back


async def test_backend_dropping_the_connection_gives_502_after_retries():
    with ScriptedServer([Reply(drop_connection=True)]) as backend:
        async with running_gateway(make_config([("a", backend.base_url, 1)], max_retries=0)
                                   ) as (_, client):
            r = await client.post("/chat/completions", json=chat("x", stream=True))
    assert r.status_code == 502
    assert r.json()["error"]["code"] in ("unreachable", "protocol")


@pytest.mark.parametrize("retry_after_floor", [1])
async def test_queue_full_answers_429_with_retry_after(retry_after_floor):
    with SlowBackend(delay=1.0) as backend:
        config = make_config([("s", backend.base_url, 1)], max_queue=1, max_queue_per_user=1)
        async with running_gateway(config) as (_, client):
            running = asyncio.create_task(client.post("/chat/completions", json=chat("r1")))
            assert await asyncio.to_thread(backend.wait_for, "started", 1)
            queued = asyncio.create_task(client.post("/chat/completions", json=chat("r2")))
            await asyncio.sleep(0.2)
            rejected = await client.post("/chat/completions", json=chat("r3"))
            done = await asyncio.gather(running, queued)
    assert rejected.status_code == 429
    assert int(rejected.headers["Retry-After"]) >= retry_after_floor
    assert rejected.json()["error"]["code"] == "queue_full"
    assert [d.status_code for d in done] == [200, 200]
    assert backend.finished == ["r1", "r2"]


async def test_a_request_that_waits_too_long_for_a_slot_gets_503_not_a_hang():
    with SlowBackend(delay=2.0) as backend:
        config = make_config([("s", backend.base_url, 1)], queue_timeout_s=0.3)
        async with running_gateway(config) as (server, client):
            running = asyncio.create_task(client.post("/chat/completions", json=chat("first")))
            assert await asyncio.to_thread(backend.wait_for, "started", 1)
            waited = await asyncio.wait_for(client.post("/chat/completions", json=chat("second")), 3)
            assert (await running).status_code == 200
            queued_after = server.service.scheduler.queued
    assert waited.status_code == 503
    assert waited.json()["error"]["code"] == "queue_timeout" and "Retry-After" in waited.headers
    assert backend.started == ["first"] and queued_after == 0


async def test_backend_dying_mid_stream_ends_the_stream_with_an_error_event():
    with SlowBackend(break_after=2, interval=0.05) as backend:
        async with running_gateway(make_config([("s", backend.base_url, 1)])) as (server, client):
            r = await asyncio.wait_for(
                client.post("/chat/completions", json=chat("cut", stream=True)), 5)
            snap = server.service.scheduler.snapshot()
            metrics = server.service.metrics.render()
    events = [json.loads(line[6:]) for line in r.text.splitlines() if line.startswith("data: {")]
    assert [e["choices"][0]["delta"]["content"] for e in events[:2]] == ["cut-0 ", "cut-1 "]
    assert events[-1]["error"]["code"] == "protocol"
    assert "backend s broke the stream" in events[-1]["error"]["message"]
    assert snap["backends"]["s"]["busy"] == 0
    assert 'smallcode_gateway_requests_total{user="local",backend="s",status="502"} 1' in metrics


async def test_token_quota_is_enforced_with_retry_after():
    token = "sc-quota-user"
    with ScriptedServer(default=Reply(content="x", usage={"prompt_tokens": 40,
                                                          "completion_tokens": 20})) as backend:
        config = make_config([("a", backend.base_url, 2)], users=[
            UserConfig(name="q", token_sha256=hash_token(token), token_quota=100)])
        headers = {"Authorization": f"Bearer {token}"}
        async with running_gateway(config) as (server, client):
            codes = [(await client.post("/chat/completions", json=chat(f"m{i}"), headers=headers)
                      ).status_code for i in range(2)]
            over = await client.post("/chat/completions", json=chat("m3"), headers=headers)
            used = server.service.quotas.used("q")
    assert codes == [200, 200] and used == 120
    assert over.status_code == 429 and over.json()["error"]["code"] == "quota_exceeded"
    assert 1 <= int(over.headers["Retry-After"]) <= 86400
    assert len(backend.requests) == 2


async def test_loopback_needs_a_token_too_when_local_access_is_turned_off():
    with ScriptedServer(default="ok") as backend:
        config = make_config([("a", backend.base_url, 1)], local_without_token=False)
        async with running_gateway(config) as (_, client):
            r = await client.post("/chat/completions", json=chat("x"))
    assert r.status_code == 401 and r.json()["error"]["code"] == "missing_token"
    assert backend.requests == []
