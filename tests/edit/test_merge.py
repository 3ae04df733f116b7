"""Semantic merge over a real loopback OpenAI-compatible server: region-only, never truncating."""

from __future__ import annotations

import pytest
from smallcode.core.edit import merge
from smallcode.core.edit.merge import semantic_merge
from smallcode.core.model.client import OpenAIChatClient

from tests.support.scripted_server import Reply, ScriptedServer


@pytest.fixture(autouse=True)
def _empty_cache():
    merge._cache.clear()
    yield
    merge._cache.clear()


def big_file() -> str:
    lines = [f"def f{i}(x):\n    return x + {i}\n\n" for i in range(100)]
    return "".join(lines)  # 300 lines


async def client_for(srv: ScriptedServer) -> OpenAIChatClient:
    return OpenAIChatClient(srv.base_url, model="scripted-model", max_retries=0,
                            read_timeout=10)


async def test_merge_of_a_large_file_sends_and_replaces_only_a_region():
    text = big_file()
    # the model remembers f50 as "x + 50 + 0"; the file says "x + 50"
    old = "def f50(x):\n    return x + 50 + 0\n"
    new = "def f50(x):\n    return x * 50\n"

    def answer(body):
        prompt = body["messages"][-1]["content"]
        region = prompt.split("```\n", 1)[1].split("\n```", 1)[0]
        return Reply(content="```python\n" + region.replace("return x + 50\n", "return x * 50\n")
                     + "\n```")

    with ScriptedServer([answer]) as srv:
        model = await client_for(srv)
        merged = await semantic_merge(model, text, old, new, timeout=10, path="big.py")
        await model.aclose()
        prompt = srv.requests[0]["messages"][-1]["content"]
    assert merged == text.replace("return x + 50\n", "return x * 50\n")
    assert "def f50(x):" in prompt and "def f10(x):" not in prompt and "def f90(x):" not in prompt
    assert prompt.startswith("Current code (lines 139-164 of big.py):")


async def test_a_truncated_answer_is_refused_and_the_file_is_not_touched():
    text = big_file()
    old = "def f50(x):\n    return x + 50 + 0\n"
    new = "def f50(x):\n    return x * 50\n"
    # the model answers with only the changed function: the surrounding context is gone
    with ScriptedServer([Reply(content="```\ndef f50(x):\n    return x * 50\n```")]) as srv:
        model = await client_for(srv)
        assert await semantic_merge(model, text, old, new, timeout=10) is None
        await model.aclose()


async def test_small_file_is_merged_whole():
    text = "A = 1\nB = 2\n\n\ndef area(r):\n    return 3.14 * r * r\n"
    old = "def area(radius):\n    return 3.14 * radius * radius\n"
    new = "def area(radius):\n    return math.pi * radius ** 2\n"
    answer = "A = 1\nB = 2\n\n\ndef area(r):\n    return math.pi * r ** 2\n"
    with ScriptedServer([Reply(content=f"Here you go:\n```python\n{answer}```\n")]) as srv:
        model = await client_for(srv)
        merged = await semantic_merge(model, text, old, new, timeout=10)
        await model.aclose()
        prompt = srv.requests[0]["messages"][-1]["content"]
    assert merged == answer
    assert "(lines 1-6)" in prompt


async def test_timeout_and_server_errors_return_none():
    text = "def f():\n    return 1\n"
    with ScriptedServer([Reply(content="```\nx\n```", delay=3.0)]) as srv:
        model = await client_for(srv)
        assert await semantic_merge(model, text, "def f():\n  return 2", "def f():\n  return 3",
                                    timeout=0.5) is None
        await model.aclose()
    with ScriptedServer([Reply(status=500, body={"error": "boom"})]) as srv:
        model = await client_for(srv)
        assert await semantic_merge(model, text, "def f():\n  return 2", "def f():\n  return 3",
                                    timeout=5) is None
        await model.aclose()


async def test_cut_off_reply_and_unchanged_reply_are_refused():
    text = "def f():\n    return 1\n"
    with ScriptedServer([Reply(content="```\ndef f():\n    return", finish_reason="length"),
                         Reply(content="```\ndef f():\n    return 1\n```")]) as srv:
        model = await client_for(srv)
        assert await semantic_merge(model, text, "def f():\n  return 2", "def f():\n  return 3",
                                    timeout=5) is None
        assert await semantic_merge(model, text, "def f():\n  return 2", "def f():\n  return 3",
                                    timeout=5) is None
        await model.aclose()


async def test_large_file_with_nothing_similar_is_refused_without_a_call():
    with ScriptedServer([]) as srv:
        model = await client_for(srv)
        assert await semantic_merge(model, big_file(), "SELECT 1 FROM t;\nDROP t;", "x",
                                    timeout=5) is None
        await model.aclose()
        assert srv.requests == []


async def test_same_inputs_are_answered_from_the_cache():
    text = "A = 1\n\n\ndef g():\n    return 1\n"
    with ScriptedServer([Reply(content="```\nA = 1\n\n\ndef g():\n    return 2\n```")]) as srv:
        model = await client_for(srv)
        one = await semantic_merge(model, text, "def g():\n  return 0", "def g():\n  return 2",
                                   timeout=5)
        two = await semantic_merge(model, text, "def g():\n  return 0", "def g():\n  return 2",
                                   timeout=5)
        await model.aclose()
        assert len(srv.requests) == 1
    assert one == two == "A = 1\n\n\ndef g():\n    return 2\n"
