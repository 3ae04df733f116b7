"""Token counting and fitting a conversation into the window."""

from __future__ import annotations

import json

import pytest
from smallcode.core.context.budget import (
    SUMMARY_HEADER,
    TokenCounter,
    cut_output,
    fit,
    is_tool_result,
    prompt_budget,
    turn_starts,
)
from smallcode.core.model.client import OpenAIChatClient

from tests.support.scripted_server import ScriptedServer


def _conversation(turns: int, result_chars: int = 4000, arg_chars: int = 0) -> list[dict]:
    msgs: list[dict] = [{"role": "system", "content": "system prompt"}]
    for t in range(turns):
        msgs.append({"role": "user", "content": f"task {t}: please fix module_{t}.py"})
        args = json.dumps({"path": f"module_{t}.py", "content": "x" * arg_chars})
        msgs.append({"role": "assistant", "content": "",
                     "tool_calls": [{"id": f"c{t}", "type": "function",
                                     "function": {"name": "write_file", "arguments": args}}]})
        msgs.append({"role": "tool", "tool_call_id": f"c{t}", "content": f"out{t} " + "y" * result_chars})
        msgs.append({"role": "assistant", "content": f"done with task {t}"})
    return msgs


def test_counter_estimates_from_chars_and_calibrates_from_a_tokenizer():
    counter = TokenCounter(chars_per_token=4.0)
    assert counter.count("") == 0
    assert counter.count("abcdefgh") == 2
    assert counter.count("abcdefghi") == 3


async def test_calibrate_with_the_servers_tokenize_endpoint():
    with ScriptedServer([]) as server:
        client = OpenAIChatClient(server.base_url)
        try:
            await client.discover()  # the scripted server reports itself as llama.cpp
            counter = TokenCounter(tokenize=client.tokenize)
            ratio = await counter.calibrate()
        finally:
            await client.aclose()
    assert counter.calibrated is True
    assert ratio == pytest.approx(4.0, rel=0.02)  # the scripted tokenizer: one token / 4 chars
    assert "/tokenize" in server.paths


async def test_calibrate_keeps_the_estimate_when_the_tokenizer_fails():
    async def broken(text: str) -> int | None:
        raise ConnectionError("down")

    counter = TokenCounter(chars_per_token=3.0, tokenize=broken)
    assert await counter.calibrate() == 3.0
    assert counter.calibrated is False
    assert await counter.count_exact("abcdef") == 2


def test_count_message_includes_tool_call_arguments():
    counter = TokenCounter(chars_per_token=1.0)
    plain = counter.count_message({"role": "assistant", "content": "abcd"})
    with_call = counter.count_message({"role": "assistant", "content": "abcd", "tool_calls": [
        {"function": {"name": "ab", "arguments": "0123456789"}}]})
    assert with_call - plain == 2 + 10 + 6


def test_prompt_budget_subtracts_reply_tools_and_margin():
    assert prompt_budget(16384, max_tokens=1024, tools_tokens=500) == int(16384 * 0.95) - 1524
    assert prompt_budget(1000, max_tokens=2000) == 256


def test_cut_output_keeps_head_and_tail_with_a_hint():
    text = "\n".join(f"line {i}" for i in range(1000))
    out = cut_output(text, 600, hint="use a range")
    assert len(out) <= 600
    assert out.startswith("line 0\n")
    assert out.rstrip().endswith("line 999")
    assert "characters" in out and "use a range" in out
    assert cut_output("short", 600) == "short"


def test_tool_results_and_turn_starts_recognise_text_mode_results():
    msgs = [{"role": "user", "content": "do it"}, {"role": "assistant", "content": "x"},
            {"role": "user", "content": "[read_file result]\n1| a"},
            {"role": "tool", "content": "z", "tool_call_id": "1"},
            {"role": "user", "content": "next"}]
    assert [is_tool_result(m) for m in msgs] == [False, False, True, True, False]
    assert turn_starts(msgs) == [0, 4]


async def test_fit_returns_the_history_unchanged_when_it_fits():
    msgs = _conversation(2, result_chars=100)
    result = await fit(msgs, 10_000, TokenCounter(4.0))
    assert result.messages == msgs and not result.changed and result.fits


async def test_fit_evicts_old_tool_results_first_and_keeps_the_last_turns():
    msgs = _conversation(6, result_chars=4000)
    counter = TokenCounter(4.0)
    before = counter.count_messages(msgs)
    result = await fit(msgs, before - 2000, counter, keep_last_steps=6)
    assert result.fits and result.evicted >= 1 and result.compacted == 0 and result.dropped == 0
    first_tool = result.messages[3]
    assert first_tool["content"] == "[evicted: 1002 tokens]"
    # the last two turns are intact
    assert result.messages[-8:] == msgs[-8:]
    assert msgs[3]["content"].startswith("out0")  # the input was not modified


async def test_fit_keeps_the_header_of_text_mode_tool_results():
    msgs = [{"role": "user", "content": "t0"}, {"role": "assistant", "content": "call"},
            {"role": "user", "content": "[search result]\n" + "hit\n" * 2000},
            {"role": "user", "content": "t1"}, {"role": "user", "content": "t2"}]
    result = await fit(msgs, 300, TokenCounter(4.0), keep_last_steps=2)
    assert result.messages[2]["content"].startswith("[search result]\n[evicted: ")


async def test_fit_shrinks_old_long_arguments():
    msgs = _conversation(5, result_chars=10, arg_chars=6000)
    counter = TokenCounter(4.0)
    result = await fit(msgs, counter.count_messages(msgs) - 3000, counter, keep_last_steps=6)
    assert result.shrunk >= 1 and result.fits
    args = json.loads(result.messages[2]["tool_calls"][0]["function"]["arguments"])
    assert args["path"] == "module_0.py"
    assert "chars shrunk]" in args["content"] and len(args["content"]) < 300


async def test_fit_compacts_old_turns_with_the_compactor():
    msgs = _conversation(8, result_chars=20)
    seen: list[list[dict]] = []

    async def compactor(old: list[dict]) -> str:
        seen.append(old)
        return "Fixed modules 0-5; all tests passed."

    counter = TokenCounter(4.0)
    result = await fit(msgs, counter.count_messages(msgs) // 3, counter, keep_last_steps=6,
                       compactor=compactor)
    assert result.fits and result.compacted == 24 and result.dropped == 0
    assert result.messages[0] == msgs[0]
    assert result.messages[1] == {"role": "user",
                                  "content": f"{SUMMARY_HEADER}\nFixed modules 0-5; all tests passed."}
    assert result.messages[2:] == msgs[-8:]
    assert seen[0] == msgs[1:-8]


@pytest.mark.parametrize("behaviour", ["none", "raises", "empty"])
async def test_fit_drops_oldest_turns_when_compaction_is_unavailable(behaviour):
    msgs = _conversation(8, result_chars=20)

    async def compactor(old: list[dict]) -> str | None:
        if behaviour == "raises":
            raise RuntimeError("model down")
        return None if behaviour == "none" else "   "

    counter = TokenCounter(4.0)
    budget = counter.count_messages(msgs) // 3
    result = await fit(msgs, budget, counter, keep_last_steps=6, compactor=compactor)
    assert result.fits and result.compacted == 0 and result.dropped > 0
    assert result.messages[0] == msgs[0]
    assert result.messages[-8:] == msgs[-8:]  # the last steps survive
    if behaviour == "raises":
        assert any("model down" in n for n in result.notes)


async def test_fit_cuts_a_huge_recent_tool_result_as_a_last_resort():
    msgs = [{"role": "system", "content": "s"}, {"role": "user", "content": "read the log"},
            {"role": "tool", "tool_call_id": "1", "content": "L" * 40_000}]
    result = await fit(msgs, 2000, TokenCounter(4.0), keep_last_steps=1)
    assert result.fits
    assert result.messages[1] == msgs[1]
    assert "characters" in result.messages[2]["content"]


def _one_long_task(steps: int, result_chars: int = 3000) -> list[dict]:
    """One user request followed by many tool steps: the usual shape of an agent task."""
    msgs: list[dict] = [{"role": "system", "content": "s"},
                        {"role": "user", "content": "rename foo to bar everywhere"}]
    for i in range(steps):
        msgs.append({"role": "assistant", "content": "", "tool_calls": [
            {"id": f"c{i}", "type": "function",
             "function": {"name": "read_file", "arguments": json.dumps({"path": f"f{i}.py"})}}]})
        msgs.append({"role": "tool", "tool_call_id": f"c{i}", "content": f"r{i} " + "z" * result_chars})
    return msgs


async def test_fit_evicts_inside_one_long_task_and_keeps_the_request_and_last_steps():
    msgs = _one_long_task(10)
    counter = TokenCounter(4.0)
    result = await fit(msgs, counter.count_messages(msgs) // 2, counter, keep_last_steps=4)
    assert result.fits and result.evicted >= 5 and result.compacted == 0
    assert result.messages[1] == msgs[1]
    assert result.messages[3]["content"].startswith("[evicted: ")
    assert result.messages[-8:] == msgs[-8:]


async def test_compaction_inside_one_long_task_keeps_the_request_before_the_summary():
    msgs = _one_long_task(10, result_chars=30)
    counter = TokenCounter(4.0)
    seen = []

    async def compactor(old):
        seen.append(old)
        return "read f0-f5; foo is defined in f2.py"

    result = await fit(msgs, counter.count_messages(msgs) // 2, counter, keep_last_steps=4,
                       compactor=compactor)
    assert result.fits and result.compacted == 12
    assert result.messages[:3] == [msgs[0], msgs[1], {"role": "user", "content":
                                   f"{SUMMARY_HEADER}\nread f0-f5; foo is defined in f2.py"}]
    assert result.messages[3:] == msgs[-8:]
    assert msgs[1] not in seen[0]  # the request is kept verbatim, not summarized


async def test_dropping_inside_one_long_task_keeps_call_and_result_together():
    msgs = _one_long_task(10, result_chars=30)
    counter = TokenCounter(4.0)
    result = await fit(msgs, counter.count_messages(msgs) // 2, counter, keep_last_steps=4)
    assert result.fits and result.dropped > 0 and result.dropped % 2 == 0
    assert result.messages[1] == msgs[1]
    kept = result.messages[2:]
    assert kept[0]["role"] == "assistant"  # never an orphaned tool result
    assert kept == msgs[-len(kept):]
