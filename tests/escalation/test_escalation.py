"""Escalation: nothing without a key, provider order, native request shapes recorded on loopback
servers (Anthropic and OpenAI-shaped), the per-session cap, retries, and keys kept secret."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from pydantic import SecretStr
from smallcode.core.config import EscalationSettings, load_settings
from smallcode.core.model.escalation import (
    FRAMING_NOTE,
    NO_RESULT,
    EscalationError,
    Escalator,
    to_anthropic,
    to_openai,
)
from smallcode.core.toolcalls.extraction import extract_tool_calls
from smallcode.core.tools import ToolContext, Workspace, build_registry

from tests.escalation.anthropic_server import AnthropicReply, AnthropicServer
from tests.support.scripted_server import Reply, ScriptedServer, tool_call

ANTHROPIC_KEY = "sk-ant-api03-Zq8xR2vLm9TtYw4KpN7cJd5HsB1fGe6U"
OPENAI_KEY = "sk-proj-Hc3Vn8Qw2Lr7Yt5Mz1Xb9Kd4Pf6Sg0Ja"
READ_OUT = "calc.py (2 lines)\n1| def add(a, b):\n2|     return a - b"
PATCH_ARGS = {"path": "calc.py", "old_str": "return a - b", "new_str": "return a + b"}
TOOLS = build_registry().schemas(["read_file", "patch", "finish"])

NATIVE = [
    {"role": "system", "content": "You are smallcode."},
    {"role": "user", "content": "Fix add() in calc.py"},
    {"role": "assistant", "content": "", "tool_calls": [
        {"id": "call_1", "type": "function",
         "function": {"name": "read_file", "arguments": '{"path": "calc.py"}'}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": READ_OUT},
    {"role": "assistant", "content": "Fixing.", "tool_calls": [
        {"id": "call_2", "type": "function",
         "function": {"name": "patch", "arguments": json.dumps({**PATCH_ARGS, "old_str": "a-b"})}}]},
    {"role": "tool", "tool_call_id": "call_2", "content": "no match for old_str"},
    {"role": "user", "content": "The tests still fail."},
]
TEXT = [
    {"role": "system", "content": "You are smallcode."},
    {"role": "user", "content": "Fix add() in calc.py"},
    {"role": "assistant", "content": '{"tool": "read_file", "args": {"path": "calc.py"}}'},
    {"role": "user", "content": f"[read_file result]\n{READ_OUT}"},
    {"role": "assistant", "content": "<think>hmm</think>I will patch it.\n"
                                     '{"tool": "patch", "args": {"path": "calc.py", '
                                     '"old_str": "a-b", "new_str": "a+b"}}'},
    {"role": "user", "content": "[patch result]\nno match for old_str"},
]


def settings(**kw) -> EscalationSettings:
    return EscalationSettings(**kw)


def anthropic_tools() -> list[dict]:
    return [{"name": t["function"]["name"], "description": t["function"]["description"],
             "input_schema": t["function"]["parameters"]} for t in TOOLS]


# -- opt-in ------------------------------------------------------------------------------
async def test_no_key_means_no_escalation_and_nothing_sent() -> None:
    with AnthropicServer([]) as anth, ScriptedServer(["x"]) as oai:
        esc = Escalator(settings(anthropic_base_url=anth.base_url, openai_base_url=oai.base_url,
                                 deepseek_base_url=oai.base_url))
        assert esc.can_escalate() is False and esc.provider is None and esc.remaining == 0
        with pytest.raises(EscalationError, match="not configured"):
            await esc.escalate(NATIVE, TOOLS)
        blank = Escalator(settings(openai_api_key=SecretStr("   "), openai_base_url=oai.base_url))
        assert blank.can_escalate() is False
        assert anth.requests == [] and oai.requests == []


def test_keys_come_from_the_environment_in_preference_order(tmp_path: Path) -> None:
    env = {"DEEPSEEK_API_KEY": "ds-key-123456789", "OPENAI_API_KEY": OPENAI_KEY}
    assert Escalator(load_settings(tmp_path, env=env).escalation).provider == "openai"
    env["ANTHROPIC_API_KEY"] = ANTHROPIC_KEY
    assert Escalator(load_settings(tmp_path, env=env).escalation).provider == "anthropic"
    only_ds = {"DEEPSEEK_API_KEY": "ds-key-123456789"}
    assert Escalator(load_settings(tmp_path, env=only_ds).escalation).provider == "deepseek"


# -- Anthropic -----------------------------------------------------------------------------
async def test_native_history_becomes_anthropic_turns_with_tool_blocks() -> None:
    reply = AnthropicReply([{"type": "text", "text": "Patching."},
                            {"type": "tool_use", "id": "toolu_01A", "name": "patch",
                             "input": PATCH_ARGS}], stop_reason="tool_use")
    with AnthropicServer([reply]) as anth:
        esc = Escalator(settings(anthropic_api_key=SecretStr(ANTHROPIC_KEY),
                                 openai_api_key=SecretStr(OPENAI_KEY),
                                 anthropic_base_url=anth.base_url))
        resp = await esc.escalate(NATIVE, TOOLS)
    assert anth.paths == ["/v1/messages"]
    assert anth.headers[0]["x-api-key"] == ANTHROPIC_KEY
    assert anth.headers[0]["anthropic-version"] == "2023-06-01"
    assert anth.requests[0] == {
        "model": "claude-sonnet-4-5", "max_tokens": 4096, "system": "You are smallcode.",
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "Fix add() in calc.py"}]},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "call_1",
                                               "name": "read_file", "input": {"path": "calc.py"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_1",
                                          "content": READ_OUT}]},
            {"role": "assistant", "content": [
                {"type": "text", "text": "Fixing."},
                {"type": "tool_use", "id": "call_2", "name": "patch",
                 "input": {**PATCH_ARGS, "old_str": "a-b"}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "call_2", "content": "no match for old_str"},
                {"type": "text", "text": "The tests still fail."},
                {"type": "text", "text": FRAMING_NOTE}]},
        ],
        "tools": anthropic_tools()}
    assert resp.content == "Patching." and resp.finish_reason == "tool_calls"
    assert resp.tool_calls == [{"id": "toolu_01A", "type": "function",
                                "function": {"name": "patch", "arguments": json.dumps(PATCH_ARGS)}}]
    assert (resp.usage.prompt_tokens, resp.usage.completion_tokens, resp.usage.cached_tokens) == \
        (321, 45, 7)
    assert resp.raw["escalated_to"] == "anthropic" and esc.used == 1


def test_text_mode_history_is_paired_into_tool_use_and_tool_result() -> None:
    body = to_anthropic(TEXT, TOOLS)
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Fix add() in calc.py"}]},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "call_text_1",
                                           "name": "read_file", "input": {"path": "calc.py"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_text_1",
                                      "content": READ_OUT}]},
        {"role": "assistant", "content": [
            {"type": "text", "text": "I will patch it."},
            {"type": "tool_use", "id": "call_text_2", "name": "patch",
             "input": {"path": "calc.py", "old_str": "a-b", "new_str": "a+b"}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "call_text_2", "content": "no match for old_str"},
            {"type": "text", "text": FRAMING_NOTE}]},
    ]


def test_awkward_histories_still_make_valid_alternating_requests() -> None:
    messages = [
        {"role": "assistant", "content": "Hello."},  # starts with the assistant
        {"role": "assistant", "content": None, "tool_calls": [  # unanswered call, odd id, bad JSON
            {"id": "call:9/x", "type": "function",
             "function": {"name": "read_file", "arguments": '{"path": "a.py",'}}]},
        {"role": "tool", "tool_call_id": "call_nobody", "content": "orphan output"},
        {"role": "user", "content": "[bash result]\nno call asked for this"},
        {"role": "user", "content": "   "},
    ]
    body = to_anthropic(messages, TOOLS)
    msgs = body["messages"]
    assert [m["role"] for m in msgs] == ["user", "assistant", "user"]
    assert msgs[1]["content"] == [{"type": "text", "text": "Hello."},
                                  {"type": "tool_use", "id": "call_9_x", "name": "read_file",
                                   "input": {"path": "a.py"}}]
    assert msgs[2]["content"] == [
        {"type": "tool_result", "tool_use_id": "call_9_x", "content": NO_RESULT},
        {"type": "text", "text": "[tool result]\norphan output\n\n[bash result]\nno call asked for this"},
        {"type": "text", "text": FRAMING_NOTE}]
    assert "system" not in body
    for m in msgs:  # no empty text blocks anywhere
        assert all(b.get("text", "x").strip() for b in m["content"])


# -- OpenAI / DeepSeek ---------------------------------------------------------------------
async def test_openai_request_shape_and_reply_on_loopback() -> None:
    call = tool_call("patch", PATCH_ARGS, call_id="call_up_1")
    with ScriptedServer([Reply(content="", tool_calls=[call], finish_reason="tool_calls")]) as srv:
        esc = Escalator(settings(openai_api_key=SecretStr(OPENAI_KEY),
                                 deepseek_api_key=SecretStr("ds-key-123456789"),
                                 openai_base_url=srv.base_url), models={"openai": "gpt-test"})
        resp = await esc.escalate(TEXT, TOOLS)
        body = srv.requests[0]
    assert body["model"] == "gpt-test" and body["max_completion_tokens"] == 4096
    assert body["tools"] == TOOLS
    assert body["messages"] == [
        {"role": "system", "content": "You are smallcode."},
        {"role": "user", "content": "Fix add() in calc.py"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_text_1", "type": "function",
             "function": {"name": "read_file", "arguments": '{"path": "calc.py"}'}}]},
        {"role": "tool", "tool_call_id": "call_text_1", "content": READ_OUT},
        {"role": "assistant", "content": "I will patch it.", "tool_calls": [
            {"id": "call_text_2", "type": "function",
             "function": {"name": "patch", "arguments": json.dumps(
                 {"path": "calc.py", "old_str": "a-b", "new_str": "a+b"})}}]},
        {"role": "tool", "tool_call_id": "call_text_2", "content": "no match for old_str"},
        {"role": "user", "content": FRAMING_NOTE},
    ]
    assert resp.tool_calls == [call] and resp.raw["escalated_to"] == "openai"


def test_native_history_to_openai_keeps_ids_and_results_in_order() -> None:
    body = to_openai(NATIVE, None, model="deepseek-chat")
    roles = [(m["role"], m.get("tool_call_id")) for m in body["messages"]]
    assert roles == [("system", None), ("user", None), ("assistant", None), ("tool", "call_1"),
                     ("assistant", None), ("tool", "call_2"), ("user", None), ("user", None)]
    assert body["messages"][6]["content"] == "The tests still fail."
    assert body["max_tokens"] == 4096 and "tools" not in body


async def test_deepseek_is_used_with_only_its_key() -> None:
    with ScriptedServer(["done"]) as srv:
        esc = Escalator(settings(deepseek_api_key=SecretStr("ds-key-123456789"),
                                 deepseek_base_url=srv.base_url))
        resp = await esc.escalate(NATIVE, TOOLS)
        assert srv.requests[0]["model"] == "deepseek-chat"
        assert srv.requests[0]["max_tokens"] == 4096
    assert resp.content == "done" and resp.raw["escalated_to"] == "deepseek"


# -- the cap -------------------------------------------------------------------------------
@pytest.mark.parametrize("cap", [5, 2])
async def test_at_most_max_per_session_calls(cap: int) -> None:
    with ScriptedServer(default="ok") as srv:
        esc = Escalator(settings(openai_api_key=SecretStr(OPENAI_KEY),
                                 openai_base_url=srv.base_url, max_per_session=cap))
        for i in range(cap):
            assert esc.can_escalate() and esc.remaining == cap - i
            await esc.escalate(NATIVE, TOOLS)
        assert esc.can_escalate() is False and esc.remaining == 0
        with pytest.raises(EscalationError, match=f"limit reached \\({cap} per session\\)"):
            await esc.escalate(NATIVE, TOOLS)
        assert len(srv.requests) == cap


async def test_default_cap_is_five_and_failures_count() -> None:
    assert EscalationSettings().max_per_session == 5
    with ScriptedServer(default=Reply(status=400, body={"error": {"message": "bad request"}})) as srv:
        esc = Escalator(settings(openai_api_key=SecretStr(OPENAI_KEY), openai_base_url=srv.base_url))
        for _ in range(5):
            with pytest.raises(EscalationError, match="openai answered 400: bad request"):
                await esc.escalate(NATIVE, TOOLS)
        assert not esc.can_escalate() and len(srv.requests) == 5


async def test_retries_on_overload_then_succeeds() -> None:
    replies = [AnthropicReply([], status=529), AnthropicReply([], status=500),
               AnthropicReply([{"type": "text", "text": "fixed"}])]
    with AnthropicServer(replies) as anth:
        esc = Escalator(settings(anthropic_api_key=SecretStr(ANTHROPIC_KEY),
                                 anthropic_base_url=anth.base_url), retry_backoff=0.01)
        resp = await esc.escalate(NATIVE, TOOLS)
    assert resp.content == "fixed" and len(anth.requests) == 3 and esc.used == 1


# -- secrets -------------------------------------------------------------------------------
async def test_keys_never_in_errors_logs_or_reprs(caplog) -> None:
    caplog.set_level(logging.DEBUG)
    echo = {"type": "error", "error": {"type": "authentication_error",
                                       "message": f"invalid x-api-key {ANTHROPIC_KEY} "
                                                  f"(ends {ANTHROPIC_KEY[-10:]})"}}
    with AnthropicServer([AnthropicReply([], status=401, error_body=echo)]) as anth:
        esc = Escalator(settings(anthropic_api_key=SecretStr(ANTHROPIC_KEY),
                                 anthropic_base_url=anth.base_url))
        with pytest.raises(EscalationError) as info:
            await esc.escalate(NATIVE, TOOLS)
    err = str(info.value)
    assert err.startswith("anthropic answered 401: invalid x-api-key [redacted]")
    assert info.value.status == 401
    with ScriptedServer([Reply(status=401, body={"error": {
            "message": f"Incorrect API key provided: {OPENAI_KEY[:10]}...{OPENAI_KEY[-8:]}"}})]) as srv:
        esc2 = Escalator(settings(openai_api_key=SecretStr(OPENAI_KEY), openai_base_url=srv.base_url))
        with pytest.raises(EscalationError) as info2:
            await esc2.escalate(NATIVE, TOOLS)
    unreachable = Escalator(settings(openai_api_key=SecretStr(OPENAI_KEY),
                                     openai_base_url="http://127.0.0.1:9/v1"), max_retries=0)
    with pytest.raises(EscalationError, match="cannot reach openai") as info3:
        await unreachable.escalate(NATIVE, TOOLS)
    texts = [err, str(info2.value), str(info3.value), repr(esc), repr(esc2),
             repr(settings(anthropic_api_key=SecretStr(ANTHROPIC_KEY))),
             *(r.getMessage() for r in caplog.records)]
    for key in (ANTHROPIC_KEY, OPENAI_KEY):
        for text in texts:
            assert key not in text
            assert key[-10:] not in text and key[-8:] not in text
    assert any("escalation failed" in r.getMessage() for r in caplog.records)


# -- the reply runs through the normal tool execution --------------------------------------
async def test_escalated_reply_runs_through_the_registry(tmp_path: Path) -> None:
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    reply = AnthropicReply([{"type": "tool_use", "id": "toolu_9", "name": "patch",
                             "input": PATCH_ARGS}], stop_reason="tool_use")
    with AnthropicServer([reply]) as anth:
        esc = Escalator(settings(anthropic_api_key=SecretStr(ANTHROPIC_KEY),
                                 anthropic_base_url=anth.base_url))
        resp = await esc.escalate(TEXT, TOOLS)
    ex = extract_tool_calls(resp.content, resp.reasoning, resp.tool_calls,
                            known_tools=["read_file", "patch", "finish"])
    assert [(c.name, c.arguments, c.id) for c in ex.calls] == [("patch", PATCH_ARGS, "toolu_9")]
    ctx = ToolContext(Workspace(tmp_path))
    result = await build_registry().execute("patch", ex.calls[0].arguments, ctx)
    assert result.ok, result.output
    assert (tmp_path / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
