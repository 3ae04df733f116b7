"""Micro-tasks: good answers are used and cached; hangs, errors and garbage end in the fallback."""

from __future__ import annotations

import asyncio
import time

import pytest
from smallcode.core.context.budget import SUMMARY_HEADER, TokenCounter, fit
from smallcode.core.features import (
    MicroTask,
    compact_history,
    extract_plan,
    history_compactor,
    parse_plan_text,
)
from smallcode.core.features.plan_extract import PlanSteps
from smallcode.core.model.client import OpenAIChatClient
from smallcode.core.model.types import ChatResponse

from tests.features.conftest import FakeModel
from tests.support.scripted_server import Reply, ScriptedServer

PROSE = "First I'll look at the parser, then I'll fix the bracket handling and rerun tests."
STEPS_JSON = '{"steps": ["Read parser.py", "Fix bracket handling", "Run the tests"]}'
STEPS = ["Read parser.py", "Fix bracket handling", "Run the tests"]

# --- the framework -----------------------------------------------------------------------------


def _echo_task(**kw) -> MicroTask[str]:
    return MicroTask(name="echo", output=str,
                     build=lambda i: [{"role": "user", "content": i["q"]}],
                     parse=lambda text, i: text if text.startswith("A:") else None,
                     fallback=lambda i: "fallback answer", **kw)


async def test_a_good_reply_is_used_and_then_served_from_the_cache(cache):
    task = _echo_task()
    model = FakeModel("A: forty-two")
    first = await task.run(model, {"q": "meaning?"}, cache=cache)
    second = await task.run(model, {"q": "meaning?"}, cache=cache)
    assert (first.value, first.source) == ("A: forty-two", "model")
    assert (second.value, second.source) == ("A: forty-two", "cache")
    assert len(model.calls) == 1


async def test_cache_key_includes_inputs_model_and_version(cache):
    task = _echo_task()
    await task.run(FakeModel("A: one"), {"q": "x"}, cache=cache)
    other_input = await task.run(FakeModel("A: two"), {"q": "y"}, cache=cache)
    other_model = await task.run(FakeModel("A: three", name="other"), {"q": "x"}, cache=cache)
    newer = _echo_task(version=2)
    bumped = await newer.run(FakeModel("A: four"), {"q": "x"}, cache=cache)
    assert [r.value for r in (other_input, other_model, bumped)] == ["A: two", "A: three", "A: four"]


async def test_cache_entries_expire_after_their_ttl(cache):
    task = _echo_task(ttl=0.05)
    await task.run(FakeModel("A: old"), {"q": "x"}, cache=cache)
    await asyncio.sleep(0.1)
    fresh = await task.run(FakeModel("A: new"), {"q": "x"}, cache=cache)
    assert (fresh.value, fresh.source) == ("A: new", "model")


async def test_a_hanging_model_times_out_into_the_fallback():
    task = _echo_task(timeout=0.1)
    started = time.perf_counter()
    result = await task.run(FakeModel("hang"), {"q": "x"})
    assert time.perf_counter() - started < 2
    assert (result.value, result.source) == ("fallback answer", "fallback")
    assert result.error == "timed out after 0.1s"


async def test_a_model_error_falls_back(model_error):
    result = await _echo_task().run(FakeModel(model_error), {"q": "x"})
    assert result.source == "fallback" and result.error == "model error: server said 500"


async def test_any_exception_from_the_model_falls_back():
    result = await _echo_task().run(FakeModel(KeyError("boom")), {"q": "x"})
    assert result.source == "fallback" and result.error.startswith("KeyError")


async def test_garbage_and_empty_replies_fall_back():
    garbage = await _echo_task().run(FakeModel("}}} <<not an answer>>"), {"q": "x"})
    empty = await _echo_task().run(FakeModel(ChatResponse(content="<think>hmm</think>")),
                                   {"q": "x"})
    assert garbage.source == "fallback" and garbage.error.startswith("unusable reply")
    assert empty.source == "fallback" and empty.error == "unusable reply: empty reply"


async def test_a_broken_fallback_and_a_broken_cache_still_do_not_raise():
    class BrokenCache:
        def get(self, key):
            raise OSError("disk gone")

        def set(self, key, value, ttl=None):
            raise OSError("disk gone")

    def bad_fallback(inputs):
        raise ValueError("bad")

    task = MicroTask(name="t", output=str, build=lambda i: [], parse=lambda t, i: None,
                     fallback=bad_fallback)
    result = await task.run(FakeModel("x"), {}, cache=BrokenCache())
    assert result.value is None and result.source == "none"
    assert "fallback failed: ValueError: bad" in result.error
    ok = await _echo_task().run(FakeModel("A: fine"), {"q": "x"}, cache=BrokenCache())
    assert ok.value == "A: fine"


async def test_wrong_output_type_is_rejected():
    task = MicroTask(name="n", output=int, build=lambda i: [], parse=lambda t, i: t,
                     fallback=lambda i: 0)
    result = await task.run(FakeModel("not a number"), {})
    assert (result.value, result.source) == (0, "fallback")


async def test_no_model_means_fallback_without_a_call():
    result = await _echo_task().run(None, {"q": "x"})
    assert (result.value, result.source, result.error) == ("fallback answer", "fallback", "no model")


async def test_cancelling_the_caller_still_cancels():
    task = _echo_task(timeout=30)
    runner = asyncio.create_task(task.run(FakeModel("hang"), {"q": "x"}))
    await asyncio.sleep(0.05)
    runner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await runner


# --- through the real client and a real HTTP server ---------------------------------------


async def test_http_500_hang_and_garbage_from_a_real_server_never_break_the_caller():
    replies = [Reply(status=500), Reply(content="A: late", delay=2.0), "%%%garbage%%%",
               "A: finally"]
    with ScriptedServer(replies) as server:
        client = OpenAIChatClient(server.base_url, max_retries=0)
        try:
            task = _echo_task(timeout=0.5)
            results = [await task.run(client, {"q": str(i)}) for i in range(4)]
        finally:
            await client.aclose()
    assert [r.source for r in results] == ["fallback", "fallback", "fallback", "model"]
    assert "500" in results[0].error
    assert results[1].error == "timed out after 0.5s"
    assert results[2].error.startswith("unusable reply")
    assert results[3].value == "A: finally"


async def test_a_micro_task_over_http_sends_its_prompt_and_uses_the_models_json():
    with ScriptedServer([STEPS_JSON]) as server:
        client = OpenAIChatClient(server.base_url, max_retries=0)
        try:
            result = await extract_plan(client, PROSE)
        finally:
            await client.aclose()
    assert (result.value, result.source) == (STEPS, "model")
    assert PROSE in server.requests[0]["messages"][1]["content"]


# --- the micro-tasks -----------------------------------------------------------------------------


async def test_structured_micro_tasks_ask_for_json_schema_when_the_server_enforces_it():
    model = FakeModel(STEPS_JSON)
    model.profile = type("P", (), {"json_schema": True})()
    result = await extract_plan(model, PROSE)
    assert result.value == STEPS
    fmt = model.calls[0]["response_format"]
    assert fmt == {"type": "json_schema", "json_schema": {
        "name": "plan", "strict": True, "schema": PlanSteps.model_json_schema()}}
    assert "steps" in fmt["json_schema"]["schema"]["properties"]
    plain = FakeModel(STEPS_JSON)
    await extract_plan(plain, PROSE)
    assert plain.calls[0]["response_format"] is None


@pytest.mark.parametrize("text,steps", [
    ("Here is my plan:\n1. Read auth.py\n2. Add the refresh handler\n3. Run tests\nStarting now.",
     ["Read auth.py", "Add the refresh handler", "Run tests"]),
    ("Plan:\n- read `config.py`\n- patch the port\n", ["read `config.py`", "patch the port"]),
    ("**Step 1:** inspect the code\n**Step 2:** fix it", ["inspect the code", "fix it"]),
    ("### 1. Read `a.py`\n### 2. Patch it", ["Read `a.py`", "Patch it"]),
    ("Step 1: inspect the code\nStep 2: fix the bug", ["inspect the code", "fix the bug"]),
    ("1) a thing\n2) another\n\nLater:\n1. unrelated", ["a thing", "another"]),
    ("Plan: read a.py; patch it; run the tests", ["read a.py", "patch it", "run the tests"]),
    ("I will just fix it.", None),
])
def test_parse_plan_text(text, steps):
    assert parse_plan_text(text) == steps


async def test_extract_plan_parses_numbered_plans_without_a_model_call():
    model = FakeModel("should not be called")
    result = await extract_plan(model, "1. read a.py\n2. patch a.py\n3. run tests")
    assert result.value == ["read a.py", "patch a.py", "run tests"] and model.calls == []


async def test_extract_plan_from_prose_uses_the_model_and_falls_back_to_regex():
    result = await extract_plan(FakeModel(STEPS_JSON), PROSE)
    assert result.value == STEPS
    nothing = await extract_plan(FakeModel("no idea"), PROSE)
    assert nothing.value is None and nothing.source == "none"


async def test_compact_history_and_fit_with_the_micro_task_compactor():
    msgs = [{"role": "system", "content": "s"}]
    for t in range(6):
        msgs += [{"role": "user", "content": f"task {t} " + "q" * 400},
                 {"role": "assistant", "content": f"answer {t} " + "a" * 400}]
    counter = TokenCounter(4.0)
    budget = counter.count_messages(msgs) // 2
    good = await fit(msgs, budget, counter, keep_last_steps=4,
                     compactor=history_compactor(FakeModel("- user asked tasks 0-3; all done.")))
    assert good.compacted == 8 and good.dropped == 0
    assert good.messages[1]["content"] == f"{SUMMARY_HEADER}\n- user asked tasks 0-3; all done."
    hung = await fit(msgs, budget, counter, keep_last_steps=4,
                     compactor=history_compactor(FakeModel("hang"), timeout=0.05))
    assert hung.compacted == 0 and hung.dropped > 0 and hung.fits
    assert hung.messages[-4:] == msgs[-4:]
    direct = await compact_history(FakeModel("{}"), msgs[1:5])
    assert direct.value is None and direct.source == "none"


async def test_results_persist_in_the_duckdb_cache_across_restarts(tmp_path):
    from smallcode.core.cache import DuckDBCache

    db = tmp_path / "cache.duckdb"
    first_cache = DuckDBCache(db)
    first = await extract_plan(FakeModel(STEPS_JSON), PROSE, cache=first_cache)
    first_cache.close()
    reopened = DuckDBCache(db)
    try:
        cached_model, other_model = FakeModel("hang"), FakeModel("hang")
        again = await extract_plan(cached_model, PROSE, cache=reopened, timeout=0.05)
        other = await extract_plan(other_model, PROSE + " Then update the docs.", cache=reopened,
                                   timeout=0.05)
    finally:
        reopened.close()
    assert (first.value, first.source) == (STEPS, "model")
    assert again.source == "cache" and again.value == first.value and cached_model.calls == []
    # a different input is a different key: the model is asked (and hangs), prose has no regex plan
    assert other.source == "none" and len(other_model.calls) == 1
