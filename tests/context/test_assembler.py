"""PromptAssembler: fit into the real window only when needed, then lay out with a stable head."""

from __future__ import annotations

import json

from smallcode.core.context.assembler import PromptAssembler
from smallcode.core.context.budget import SUMMARY_HEADER, TokenCounter
from smallcode.core.context.layout import render_chatml
from smallcode.core.features import history_compactor
from smallcode.core.model.client import OpenAIChatClient

from tests.features.conftest import FakeModel
from tests.support.scripted_server import ScriptedServer

TOOLS = [{"type": "function", "function": {"name": "read_file", "description": "Read a file.",
                                           "parameters": {"type": "object", "properties": {}}}}]


def _step(history: list[dict], i: int, chars: int) -> None:
    history.append({"role": "assistant", "content": "", "tool_calls": [
        {"id": f"c{i}", "type": "function",
         "function": {"name": "read_file", "arguments": json.dumps({"path": f"f{i}.py"})}}]})
    history.append({"role": "tool", "tool_call_id": f"c{i}", "content": f"r{i} " + "x" * chars})


async def test_small_history_is_sent_unchanged_with_the_note_last():
    assembler = PromptAssembler("SYS", TOOLS, context_window=16384, max_tokens=512,
                                counter=TokenCounter(4.0))
    history = [{"role": "system", "content": "old"}, {"role": "user", "content": "fix a.py"}]
    out = await assembler.assemble(history, ["ACTIVE PLAN (step 1 of 1)"])
    assert out.messages[0] == {"role": "system", "content": "SYS"}
    assert out.messages[1] == history[1]
    assert out.messages[-1]["content"].endswith("ACTIVE PLAN (step 1 of 1)")
    assert not out.fit.changed and out.history == [history[1]]
    assert out.tools == TOOLS


async def test_a_long_task_is_fitted_to_the_real_window_and_then_stays_stable():
    counter = TokenCounter(4.0)
    assembler = PromptAssembler("SYS", TOOLS, context_window=4096, max_tokens=512,
                                counter=counter,
                                compactor=history_compactor(FakeModel("- read f0..f9")))
    history: list[dict] = [{"role": "user", "content": "find the bug"}]
    for i in range(12):
        _step(history, i, 1200)
    out = await assembler.assemble(history, ["plan"])
    assert out.fit.evicted == 5 and out.fit.compacted == 0 and out.fit.fits
    assert counter.count_messages(out.messages) + counter.count_tools(TOOLS) + 512 <= 4096
    assert out.history[0] == history[0]
    # eviction aimed below the budget, so the next call (one more step) needs no rewrite and
    # its prompt starts with the previous one byte for byte
    kept = out.history
    _step(kept, 99, 50)
    again = await assembler.assemble(kept, ["plan v2"])
    assert not again.fit.changed
    first = render_chatml(out.messages[:-1], TOOLS)
    second = render_chatml(again.messages, TOOLS)
    assert second.startswith(first[: -len("<|im_start|>assistant\n")])


async def test_compaction_runs_when_eviction_is_not_enough():
    counter = TokenCounter(4.0)
    model = FakeModel("- read f0..f9; the bug is in f3.py")
    assembler = PromptAssembler("SYS", TOOLS, context_window=2048, max_tokens=256,
                                counter=counter, compactor=history_compactor(model))
    history: list[dict] = [{"role": "user", "content": "find the bug"}]
    for i in range(60):
        _step(history, i, 30)
    out = await assembler.assemble(history)
    assert out.fit.compacted > 0 and out.fit.fits and len(model.calls) == 1
    assert out.history[0] == history[0]
    assert out.history[1]["content"] == f"{SUMMARY_HEADER}\n- read f0..f9; the bug is in f3.py"
    assert out.history[2:] == history[-8:]


async def test_the_window_read_from_the_server_drives_the_budget():
    with ScriptedServer([], context_window=8192) as server:
        client = OpenAIChatClient(server.base_url)
        try:
            await client.discover()
            counter = TokenCounter(tokenize=client.tokenize)
            await counter.calibrate()
            assembler = PromptAssembler("SYS", TOOLS, context_window=client.context_window,
                                        max_tokens=1024, counter=counter)
        finally:
            await client.aclose()
    budget = assembler.budget_for("")
    assert 8192 * 0.95 - 1024 - 200 < budget < 8192 * 0.95 - 1024
    history = [{"role": "user", "content": "go"}]
    for i in range(40):
        _step(history, i, 2000)
    out = await assembler.assemble(history)
    assert out.fit.fits and out.fit.evicted > 0
    assert not any(m["content"].startswith(SUMMARY_HEADER) for m in out.history
                   if isinstance(m.get("content"), str))
