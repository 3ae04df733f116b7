"""50 concurrent clients of 4 users against a backend with 4 slots, through the real gateway."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import httpx
from smallcode.gateway import UserConfig, hash_token

from tests.gateway.conftest import chat, make_config, running_gateway
from tests.support.scripted_server import Reply, ScriptedServer

USERS = {"alice": 20, "bob": 15, "carol": 10, "dave": 5}  # clients per user: 50 in all
MAX_QUEUE = 24


def jain_index(values: list[float]) -> float:
    """Jain's fairness index: 1.0 = perfectly equal shares, 1/n = one user gets everything."""
    return sum(values) ** 2 / (len(values) * sum(v * v for v in values))


def echo(body: dict) -> Reply:
    return Reply(content=body["messages"][-1]["content"])


async def test_fifty_clients_no_loss_bounded_queue_429s_and_fair_share():
    tokens = {user: f"sc-token-{user}" for user in USERS}
    users = [UserConfig(name=u, token_sha256=hash_token(t), max_concurrent=4) for u, t in tokens.items()]
    with ScriptedServer(default=echo, latency=0.05, slots=4) as backend:
        config = make_config([("llama", backend.base_url, 4)], users=users, max_queue=MAX_QUEUE,
                             max_queue_per_user=8)
        async with running_gateway(config) as (server, _):
            done: Counter[str] = Counter()
            rejected: Counter[str] = Counter()
            wrong: list[str] = []
            retry_after: set[str] = set()
            limits = httpx.Limits(max_connections=60, max_keepalive_connections=60)
            async with httpx.AsyncClient(base_url=server.url, timeout=30, limits=limits) as client:
                deadline = time.monotonic() + 2.5

                async def client_loop(user: str, index: int) -> None:
                    n = 0
                    headers = {"Authorization": f"Bearer {tokens[user]}"}
                    while time.monotonic() < deadline:
                        tag = f"{user}/{index}/{n}"
                        n += 1
                        r = await client.post("/chat/completions", json=chat(tag), headers=headers)
                        if r.status_code == 200:
                            if r.json()["choices"][0]["message"]["content"] != tag:
                                wrong.append(tag)
                            done[user] += 1
                        elif r.status_code == 429:
                            rejected[user] += 1
                            retry_after.add(r.headers.get("Retry-After", ""))
                            await asyncio.sleep(0.1)
                        else:
                            wrong.append(f"{tag}: HTTP {r.status_code} {r.text[:100]}")

                await asyncio.gather(*(client_loop(u, i) for u, n in USERS.items() for i in range(n)))
            snap = server.service.scheduler.snapshot()
            served = {u: server.service.m_requests.value(user=u, backend="llama", status="200")
                      for u in USERS}
    fairness = jain_index([float(done[u]) for u in USERS])
    print(f"\ncompleted per user {dict(done)}; 429s per user {dict(rejected)}; "
          f"peak queue {snap['peak_queued']}/{MAX_QUEUE}; Jain's index {fairness:.3f}")
    assert wrong == []
    assert {u: int(v) for u, v in served.items()} == dict(done)  # every accepted request answered
    assert len(backend.requests) == sum(done.values())
    assert snap["peak_queued"] <= MAX_QUEUE
    assert sum(rejected.values()) > 0 and all(v.isdigit() and int(v) >= 1 for v in retry_after)
    assert backend.max_concurrent <= 4
    assert fairness >= 0.9
    # first-come-first-served would give shares proportional to client counts (Jain 0.83)
    assert jain_index([float(n) for n in USERS.values()]) < 0.85
