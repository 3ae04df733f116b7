"""Constrained action schemas, parsing constrained replies, and the repair micro-task over HTTP."""

from __future__ import annotations

import time

import pytest
from pydantic import BaseModel
from smallcode.core.model.client import OpenAIChatClient
from smallcode.core.toolcalls import (
    ActionParseError,
    CallProblem,
    ResolvedCall,
    action_schema,
    parse_action,
    repair_with_model,
    resolve_call,
)
from smallcode.core.tools.registry import Tool, ToolRegistry, ToolResult

from tests.support.scripted_server import Reply, ScriptedServer
from tests.toolcalls.tool_set import build_test_registry

REG = build_test_registry()


def test_oneof_schema_binds_each_tool_to_its_own_closed_arguments():
    fmt = action_schema(REG.tools())
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["name"] == "action"
    options = fmt["json_schema"]["schema"]["oneOf"]
    assert [o["properties"]["tool"] for o in options] == [{"const": n} for n in REG.names()]
    patch = options[2]
    assert patch["required"] == ["tool", "args"]
    assert patch["additionalProperties"] is False
    assert patch["properties"]["args"]["required"] == ["path", "old_str", "new_str"]
    assert patch["properties"]["args"]["additionalProperties"] is False


def test_enum_schema_lists_names_and_any_of_arguments():
    schema = action_schema(REG.tools(), form="enum")["json_schema"]["schema"]
    assert schema["properties"]["tool"] == {"type": "string", "enum": REG.names()}
    assert len(schema["properties"]["args"]["anyOf"]) == len(REG.names())
    with pytest.raises(ValueError):
        action_schema(REG.tools(), form="xml")
    with pytest.raises(ValueError):
        action_schema([])


def test_schema_accepts_openai_tool_dicts_too():
    assert action_schema(REG.schemas()) == action_schema(REG.tools())


class Span(BaseModel):
    start: int
    end: int


class EditArgs(BaseModel):
    path: str
    spans: list[Span]


def test_nested_models_have_their_defs_hoisted_under_the_tool_name():
    reg = ToolRegistry()
    reg.register(Tool(name="multi-edit", description="d", args_model=EditArgs,
                      handler=lambda a, c: ToolResult(ok=True, output=""),
                      categories=frozenset({"write"})))
    schema = action_schema(reg.tools())["json_schema"]["schema"]
    assert set(schema["$defs"]) == {"multi_edit__Span"}
    args = schema["oneOf"][0]["properties"]["args"]
    assert args["properties"]["spans"]["items"] == {"$ref": "#/$defs/multi_edit__Span"}
    assert schema["$defs"]["multi_edit__Span"]["additionalProperties"] is False


@pytest.mark.parametrize("content", [
    '{"tool": "read_file", "args": {"path": "a.py"}}',
    '```json\n{"tool": "read_file", "args": {"path": "a.py"}}\n```',
    '{"name": "read_file", "arguments": {"path": "a.py"}}',
    "{'tool': 'read_file', 'args': {'path': 'a.py'},}",
])
def test_parse_action_reads_constrained_and_near_constrained_replies(content):
    call = parse_action(content)
    assert (call.name, call.arguments, call.fmt) == ("read_file", {"path": "a.py"}, "action")


@pytest.mark.parametrize("content", ["", "   ", "I think read_file", '{"args": {"path": "a"}}'])
def test_parse_action_refuses_replies_without_an_action(content):
    with pytest.raises(ActionParseError):
        parse_action(content)


def _problem() -> CallProblem:
    outcome = resolve_call(parse_action('{"tool": "patch", "args": {"file": "a.py", '
                                        '"before": "x"}}'), REG)
    assert isinstance(outcome, CallProblem)
    return outcome


async def _client(server: ScriptedServer) -> OpenAIChatClient:
    return OpenAIChatClient(server.base_url, max_retries=0, read_timeout=10)


async def test_repair_returns_the_models_rewritten_call_and_it_resolves():
    fixed = '{"tool": "patch", "args": {"path": "a.py", "old_str": "x", "new_str": "y"}}'
    with ScriptedServer([Reply(content=fixed)]) as server:
        client = await _client(server)
        call = await repair_with_model(client, '{"tool": "patch", ...}', _problem(),
                                       REG.schemas(), use_schema=True)
        await client.aclose()
    assert call is not None
    assert (call.name, call.fmt, call.repairs) == ("patch", "repair", ["model_repair"])
    assert isinstance(resolve_call(call, REG), ResolvedCall)
    body = server.requests[-1]
    assert body["response_format"] == action_schema(REG.schemas())
    assert body["temperature"] == 0.0
    user = body["messages"][1]["content"]
    assert "- patch(path: string, old_str: string, new_str: string)" in user
    assert "Problem: Invalid arguments for patch: missing 'new_str'." in user


async def test_repair_without_schema_accepts_a_fenced_call():
    reply = '```json\n{"name": "bash", "arguments": {"command": "ls"}}\n```'
    with ScriptedServer([Reply(content=reply)]) as server:
        client = await _client(server)
        call = await repair_with_model(client, "bash ls", "no JSON", REG.schemas())
        await client.aclose()
    assert (call.name, call.arguments) == ("bash", {"command": "ls"})
    assert "response_format" not in server.requests[-1]


async def test_repair_gives_none_when_the_model_still_writes_no_call():
    with ScriptedServer([Reply(content="Sorry, I cannot help with that.")]) as server:
        client = await _client(server)
        assert await repair_with_model(client, "x", "bad", REG.schemas()) is None
        await client.aclose()


async def test_repair_gives_none_on_server_error():
    with ScriptedServer([Reply(status=500, body={"error": {"message": "boom"}})]) as server:
        client = await _client(server)
        assert await repair_with_model(client, "x", "bad", REG.schemas()) is None
        await client.aclose()


async def test_repair_gives_none_after_its_timeout():
    with ScriptedServer([Reply(content='{"tool": "finish", "args": {}}', delay=3.0)]) as server:
        client = await _client(server)
        started = time.monotonic()
        assert await repair_with_model(client, "x", "bad", REG.schemas(), timeout=0.5) is None
        assert time.monotonic() - started < 2.0
        await client.aclose()


async def test_repair_with_no_tools_gives_none_without_calling_the_model():
    with ScriptedServer([]) as server:
        client = await _client(server)
        assert await repair_with_model(client, "x", "bad", []) is None
        await client.aclose()
    assert server.requests == []
