"""interpret_reply: the whole §4 pipeline on one reply, with the repair micro-task over HTTP."""

from __future__ import annotations

import json

from smallcode.core.model.client import OpenAIChatClient
from smallcode.core.toolcalls import interpret_reply

from tests.support.scripted_server import Reply, ScriptedServer
from tests.toolcalls.tool_set import build_test_registry

REG = build_test_registry()


async def test_clean_reply_gives_validated_calls_and_visible_text():
    got = await interpret_reply(
        'Reading.\n```json\n{"name": "cat", "arguments": {"file": "a.py"}}\n```', REG)
    assert [(c.name, c.arguments) for c in got.calls] == [("read_file", {"path": "a.py"})]
    assert got.text == "Reading."
    assert (got.problems, got.correction, got.repaired) == ([], None, 0)


async def test_invalid_call_without_a_model_gets_one_correction():
    got = await interpret_reply('<tool_call>{"name": "patch", "arguments": {"path": "a.py"}}'
                                "</tool_call>", REG)
    assert got.calls == []
    assert [p.kind for p in got.problems] == ["invalid_arguments"]
    assert got.correction.startswith("Your tool call was not run. Invalid arguments for patch: "
                                     "missing 'old_str', 'new_str'.")


async def test_invalid_call_is_repaired_by_the_model():
    fixed = {"tool": "patch", "args": {"path": "a.py", "old_str": "x", "new_str": "y"}}
    with ScriptedServer([Reply(content=json.dumps(fixed))]) as server:
        model = OpenAIChatClient(server.base_url, max_retries=0, read_timeout=10)
        got = await interpret_reply('<tool_call>{"name": "patch", "arguments": {"path": "a.py", '
                                    '"diff": "-x +y"}}</tool_call>', REG, model=model,
                                    use_schema=True)
        await model.aclose()
    assert [(c.name, c.arguments) for c in got.calls] == [
        ("patch", {"path": "a.py", "old_str": "x", "new_str": "y"})]
    assert got.calls[0].fixes[0] == "repaired by the model (invalid_arguments)"
    assert (got.repaired, got.correction) == (1, None)
    assert "response_format" in server.requests[0]


async def test_unparseable_reply_is_repaired_from_the_whole_content():
    with ScriptedServer([Reply(content='{"tool": "bash", "args": {"command": "pytest -q"}}')]) \
            as server:
        model = OpenAIChatClient(server.base_url, max_retries=0, read_timeout=10)
        got = await interpret_reply("<tool_call>run pytest please</tool_call>", REG, model=model)
        await model.aclose()
    assert [(c.name, c.arguments) for c in got.calls] == [("bash", {"command": "pytest -q"})]
    assert "Broken call:\n<tool_call>run pytest please</tool_call>" in \
        server.requests[0]["messages"][1]["content"]


async def test_failed_repair_falls_back_to_the_correction():
    with ScriptedServer([Reply(content="no idea")]) as server:
        model = OpenAIChatClient(server.base_url, max_retries=0, read_timeout=10)
        got = await interpret_reply('{"name": "browse", "arguments": {"url": "x"}}', REG,
                                    model=model)
        await model.aclose()
    assert got.calls == []
    assert got.correction.startswith("Your tool call was not run. There is no tool named "
                                     "'browse'.")


async def test_truncated_write_is_not_sent_for_repair():
    with ScriptedServer([]) as server:
        model = OpenAIChatClient(server.base_url, max_retries=0, read_timeout=10)
        got = await interpret_reply('<tool_call>{"name": "write_file", "arguments": {"path": '
                                    '"a.py", "content": "def f(', REG, model=model)
        await model.aclose()
    assert [p.kind for p in got.problems] == ["truncated"]
    assert server.requests == []


async def test_plain_answer_has_nothing_to_correct():
    got = await interpret_reply("The bug is in add().", REG)
    assert (got.calls, got.problems, got.correction, got.text) == (
        [], [], None, "The bug is in add().")
