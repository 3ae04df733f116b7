"""Prompt layout: a fixed head, an append-only history and a late volatile note keep the cache warm."""

from __future__ import annotations

import itertools
import json

from smallcode.core.context.layout import PromptLayout, render_chatml, shared_prefix_chars
from smallcode.core.model.client import OpenAIChatClient

from tests.support.scripted_server import Reply, ScriptedServer, tool_call

SYSTEM = "You are smallcode. Make the smallest change."
TOOLS = [{"type": "function", "function": {"name": "read_file", "description": "Read a file.",
                                           "parameters": {"type": "object", "properties": {
                                               "path": {"type": "string"}}}}}]


def test_build_puts_system_first_history_next_and_the_volatile_note_last():
    layout = PromptLayout(SYSTEM, TOOLS)
    history = [{"role": "user", "content": "fix calc.py"}]
    msgs = layout.build(history, ["ACTIVE PLAN (step 1 of 2):\n→ 1. read calc.py", None, "  "])
    assert msgs[0] == {"role": "system", "content": SYSTEM}
    assert msgs[1] == {"role": "user", "content": "fix calc.py"}
    assert msgs[2]["role"] == "user"
    assert msgs[2]["content"].startswith(layout.note_header)
    assert msgs[2]["content"].endswith("→ 1. read calc.py")
    assert len(msgs) == 3


def test_build_without_volatile_adds_no_note_and_never_mutates_history():
    layout = PromptLayout(SYSTEM)
    history = [{"role": "system", "content": "an older system prompt"},
               {"role": "user", "content": "hi"}]
    snapshot = json.dumps(history)
    msgs = layout.build(history, [])
    assert msgs == [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "hi"}]
    msgs[1]["content"] = "changed"
    assert json.dumps(history) == snapshot


def test_set_tools_counts_a_prefix_break_only_on_a_real_change():
    layout = PromptLayout(SYSTEM, TOOLS)
    assert layout.set_tools([dict(t) for t in TOOLS]) is False
    assert layout.prefix_breaks == 0
    assert layout.set_tools(TOOLS + [{"type": "function", "function": {"name": "patch"}}]) is True
    assert layout.prefix_breaks == 1


def test_shared_prefix_chars():
    assert shared_prefix_chars("abcdef", "abcxyz") == 3
    assert shared_prefix_chars("abc", "abc") == 3
    assert shared_prefix_chars("", "abc") == 0
    assert shared_prefix_chars("abc", "abcdef") == 3


def _task_turns(layout: PromptLayout) -> list[list[dict]]:
    """Four calls of one task: the plan anchor changes every call, the history only grows."""
    history = [{"role": "user", "content": "add a --verbose flag to cli.py and run the tests"}]
    requests = []
    steps = ["→ 1. read cli.py", "✓ 1. read cli.py\n→ 2. patch cli.py",
             "✓ 2. patch cli.py\n→ 3. run tests", "✓ 3. run tests"]
    replies = [("read_file", {"path": "cli.py"}, "1| import argparse\n2| def main(): ..."),
               ("patch", {"path": "cli.py", "old_str": "a", "new_str": "b"}, "patched"),
               ("bash", {"command": "pytest -q"}, "3 passed")]
    for i, step in enumerate(steps):
        requests.append(layout.build(history, [f"ACTIVE PLAN (step {i + 1} of 4):\n{step}"]))
        if i < len(replies):
            name, args, output = replies[i]
            call = tool_call(name, args, call_id=f"call_{i}")
            history.append({"role": "assistant", "content": "", "tool_calls": [call]})
            history.append({"role": "tool", "tool_call_id": f"call_{i}", "content": output})
    return requests


def test_every_request_starts_with_the_previous_request_minus_its_note():
    layout = PromptLayout(SYSTEM, TOOLS)
    requests = _task_turns(layout)
    for prev, cur in itertools.pairwise(requests):
        assert cur[: len(prev) - 1] == prev[:-1]  # everything but the trailing note is reused
        prev_text = render_chatml(prev[:-1], TOOLS)
        cur_text = render_chatml(cur, TOOLS)
        assert cur_text.startswith(prev_text[: -len("<|im_start|>assistant\n")])


async def test_requests_on_the_wire_share_a_byte_identical_prefix():
    """Real HTTP through the real client: consecutive chat bodies keep system, tools and history
    byte-identical; only the trailing note differs."""
    layout = PromptLayout(SYSTEM, TOOLS)
    requests = _task_turns(layout)
    with ScriptedServer([Reply(content="ok")] * len(requests)) as server:
        client = OpenAIChatClient(server.base_url)
        try:
            for msgs in requests:
                await client.chat(msgs, tools=layout.tools)
        finally:
            await client.aclose()
    bodies = server.requests
    assert len(bodies) == 4
    for prev, cur in itertools.pairwise(bodies):
        assert json.dumps(cur["tools"]) == json.dumps(prev["tools"])
        prev_wire = [json.dumps(m, sort_keys=True) for m in prev["messages"]]
        cur_wire = [json.dumps(m, sort_keys=True) for m in cur["messages"]]
        assert cur_wire[: len(prev_wire) - 1] == prev_wire[:-1]
        assert cur_wire[-1] != prev_wire[-1]  # the volatile note moved on
        rendered_prev = render_chatml(prev["messages"], prev["tools"])
        rendered_cur = render_chatml(cur["messages"], cur["tools"])
        shared = shared_prefix_chars(rendered_prev, rendered_cur)
        note_len = len(render_chatml(prev["messages"][-1:])) - len("<|im_start|>assistant\n")
        assert shared >= len(rendered_prev) - note_len - len("<|im_start|>assistant\n")
