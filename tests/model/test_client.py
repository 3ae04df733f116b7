"""The OpenAI-compatible client against the scripted loopback server."""

from __future__ import annotations

import json

import pytest
from smallcode.core.model.client import OpenAIChatClient, sanitize_messages, split_thinking
from smallcode.core.model.types import ModelError

from tests.support.scripted_server import Reply, ScriptedServer, tool_call


async def test_non_stream_reply_usage_and_discovery() -> None:
    with ScriptedServer(["hello"], context_window=12288, model="qwen2.5-coder-1.5b") as srv:
        c = OpenAIChatClient(srv.base_url)
        r = await c.chat([{"role": "user", "content": "hi"}])
        await c.aclose()
    assert r.content == "hello"
    assert r.usage.prompt_tokens >= 1 and r.usage.completion_tokens >= 1
    assert c.context_window == 12288 and c.server_kind == "llamacpp"
    assert c.profile is not None and c.profile.family == "qwen2.5-coder"
    assert srv.requests[0]["cache_prompt"] is True


async def test_stream_deltas_and_tool_call_assembly() -> None:
    reply = Reply(content="let me read", tool_calls=[tool_call("read_file", {"path": "a.py"}, "c1")])
    with ScriptedServer([reply]) as srv:
        c = OpenAIChatClient(srv.base_url)
        seen: list[str] = []
        r = await c.chat([{"role": "user", "content": "x"}], on_delta=seen.append)
        await c.aclose()
    assert "".join(seen) == "let me read" and len(seen) >= 2
    assert r.tool_calls[0]["function"]["name"] == "read_file"
    assert json.loads(r.tool_calls[0]["function"]["arguments"]) == {"path": "a.py"}
    assert srv.requests[0]["stream"] is True


async def test_think_blocks_and_reasoning_are_separated() -> None:
    with ScriptedServer([Reply(content="<think>plan it</think>The answer is 4.",
                               reasoning="more")]) as srv:
        c = OpenAIChatClient(srv.base_url)
        r = await c.chat([{"role": "user", "content": "2+2"}])
        await c.aclose()
    assert r.content == "The answer is 4."
    assert "plan it" in r.reasoning and "more" in r.reasoning


async def test_retries_on_500_and_429_then_succeeds() -> None:
    with ScriptedServer([Reply(status=500), Reply(status=429), "ok"]) as srv:
        c = OpenAIChatClient(srv.base_url, max_retries=3)
        r = await c.chat([{"role": "user", "content": "x"}])
        await c.aclose()
    assert r.content == "ok" and c.retries == 2 and len(srv.requests) == 3


async def test_bounded_retries_then_clear_error() -> None:
    with ScriptedServer(default=Reply(status=503)) as srv:
        c = OpenAIChatClient(srv.base_url, max_retries=1)
        with pytest.raises(ModelError) as exc:
            await c.chat([{"role": "user", "content": "x"}])
        await c.aclose()
    assert exc.value.status == 503 and len(srv.requests) == 2


async def test_client_error_is_not_retried() -> None:
    with ScriptedServer(default=Reply(status=400, body={"error": {"message": "bad schema"}})) as srv:
        c = OpenAIChatClient(srv.base_url, max_retries=3)
        with pytest.raises(ModelError, match="bad schema"):
            await c.chat([{"role": "user", "content": "x"}])
        await c.aclose()
    assert len(srv.requests) == 1


async def test_length_cut_with_empty_answer_is_retried_with_more_room() -> None:
    with ScriptedServer([Reply(content="", reasoning="long thoughts", finish_reason="length"),
                         "final"]) as srv:
        c = OpenAIChatClient(srv.base_url, default_max_tokens=100)
        r = await c.chat([{"role": "user", "content": "x"}])
        await c.aclose()
    assert r.content == "final"
    assert srv.requests[0]["max_tokens"] == 100 and srv.requests[1]["max_tokens"] == 200


async def test_dead_server_is_a_clear_retryable_error() -> None:
    c = OpenAIChatClient("http://127.0.0.1:9/v1", max_retries=0, connect_timeout=1)
    with pytest.raises(ModelError, match="cannot reach the model server"):
        await c.chat([{"role": "user", "content": "x"}])
    await c.aclose()


def test_assistant_content_is_never_null_and_reasoning_not_echoed() -> None:
    out = sanitize_messages([{"role": "assistant", "content": None, "reasoning_content": "x"},
                             {"role": "assistant", "content": "<think>a</think>b"}])
    assert out[0] == {"role": "assistant", "content": ""}
    assert out[1]["content"] == "b"


def test_split_thinking_unclosed_block() -> None:
    assert split_thinking("<think>never closed") == ("", "never closed")
