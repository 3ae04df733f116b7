"""The plan executor against a real loopback model server with in-process step runners."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from smallcode.core.config import Settings
from smallcode.core.events import Event, PlanUpdate
from smallcode.core.model.client import OpenAIChatClient
from smallcode.core.plan.depgraph import DependencyGraph
from smallcode.core.plan.executor import InProcessStepRunner, PlanExecutionError, PlanExecutor
from smallcode.core.plan.saga import SagaLog
from smallcode.core.plan.tracker import PlanTracker

from tests.plan.scripted_steps import StepScript, fenced, finish, write
from tests.support.scripted_server import Reply, ScriptedServer


def settings(parallel: bool = True) -> Settings:
    s = Settings()
    s.agent.permission_mode = "yolo"
    s.agent.parallel = parallel
    s.agent.max_turns = 4
    s.model.detect_local = False
    return s


async def execute(root: Path, steps: list[str], srv: ScriptedServer, *, parallel: bool = True,
                  retries: int = 0) -> tuple[object, list[Event]]:
    tracker = PlanTracker(root, steps)
    graph = DependencyGraph(steps)
    client = OpenAIChatClient(srv.base_url, max_retries=0)
    events: list[Event] = []
    try:
        ex = PlanExecutor(tracker, graph, root, InProcessStepRunner(client),
                          settings=settings(parallel), retries=retries)
        report = await ex.run(events.append)
    finally:
        await client.aclose()
    return report, events


async def test_two_independent_steps_run_concurrently(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("A = 1\n")
    (tmp_path / "b.py").write_text("B = 1\n")
    script = StepScript({1: [write("a.py", "A = 2\n"), finish("a done")],
                         2: [write("b.py", "B = 2\n"), finish("b done")]})
    with ScriptedServer(default=script, latency=0.4) as srv:
        report, events = await execute(tmp_path, ["Set A to 2 in `a.py`",
                                                  "Set B to 2 in `b.py`"], srv)
        assert srv.max_concurrent == 2
    assert report.ok, report.summary()
    assert report.batches == [[1, 2]]
    assert (tmp_path / "a.py").read_text() == "A = 2\n"
    assert (tmp_path / "b.py").read_text() == "B = 2\n"
    assert script.calls == {1: 2, 2: 2}
    plans = [e for e in events if isinstance(e, PlanUpdate)]
    assert plans[-1].steps == [{"n": 1, "text": "Set A to 2 in `a.py`", "status": "done", "batch": 0},
                               {"n": 2, "text": "Set B to 2 in `b.py`", "status": "done", "batch": 0}]
    tagged = [e for e in events if getattr(e, "step", None) is not None]
    assert {e.step for e in tagged} == {1, 2}
    # each worker's own events stay in order: its done event is its last
    for n in (1, 2):
        mine = [e.type for e in tagged if e.step == n]
        assert mine[0] == "route" and mine[-1] == "done"


async def test_failed_step_is_undone_its_dependent_skipped_and_the_independent_kept(
        tmp_path: Path) -> None:
    original_a = b"def f():\n    return 1\n"
    (tmp_path / "a.py").write_bytes(original_a)
    (tmp_path / "b.py").write_text("B = 1\n")
    # step 1 changes a.py but never finishes (an edit that broke the file would be reverted at
    # once, so the change is valid): the step fails after its retries and must be undone
    broken = write("a.py", "def f():\n    return 2  # half done\n")
    script = StepScript({1: [broken] * 8, 2: [write("b.py", "B = 2\n"), finish()],
                         3: [write("a.py", "never\n"), finish()]})
    with ScriptedServer(default=script) as srv:
        report, _ = await execute(tmp_path, [
            "Change f in `a.py` to return 2", "Set B to 2 in `b.py`",
            "After step 1, document `a.py`"], srv, retries=1)
    assert not report.ok
    assert [s.status for s in report.steps] == ["failed", "done", "skipped"]
    assert (tmp_path / "a.py").read_bytes() == original_a  # byte-identical
    assert (tmp_path / "b.py").read_text() == "B = 2\n"  # the independent step kept its result
    assert report.compensated[1] == ["a.py"]
    assert report.skipped == {3: 1}
    assert 3 not in script.calls  # the dependent never ran
    text = report.summary()
    assert "✗ 1. Change f in `a.py` to return 2 — FAILED" in text
    assert "its changes were undone (a.py)" in text
    assert "- 3. After step 1, document `a.py` — skipped: depends on step 1, which failed" in text
    records = SagaLog.read(report.log_path)
    assert [r["event"] for r in records if r.get("step") == "step-1"] == \
        ["started", "failed", "compensated"]
    assert records[-1] == {**records[-1], "event": "end", "status": "partial"}


async def test_sequential_mode_runs_one_step_at_a_time(tmp_path: Path) -> None:
    script = StepScript({1: [write("a.py", "A = 2\n"), finish()],
                         2: [write("b.py", "B = 2\n"), finish()]})
    with ScriptedServer(default=script, latency=0.2) as srv:
        report, _ = await execute(tmp_path, ["Create `a.py`", "Create `b.py`"], srv,
                                  parallel=False)
        assert srv.max_concurrent == 1
    assert report.ok and not report.parallel
    assert (tmp_path / "a.py").read_text() == "A = 2\n"


async def test_a_step_may_edit_only_its_declared_files(tmp_path: Path) -> None:
    (tmp_path / "b.py").write_text("B = 1\n")
    script = StepScript({1: [fenced("read_file", {"path": "b.py"}), write("b.py", "B = 99\n"),
                             finish()],
                         2: [finish()]})
    with ScriptedServer(default=script) as srv:
        report, _ = await execute(tmp_path, ["Create `a.py`", "Read `b.py`"], srv)
        third_turn = [r for r in srv.requests if "YOUR STEP: 1." in json.dumps(r)][2]
    assert (tmp_path / "b.py").read_text() == "B = 1\n"
    assert report.outcomes[1].changed_files == []
    # finishing without touching its own file is not evidence: the step failed
    assert report.steps[0].status == "failed"
    assert report.errors[1] == "finished, but a.py was not changed"
    assert report.steps[1].status == "done"  # a read-only step needs no changed file
    assert "this step may only edit a.py; b.py belongs to another step" in json.dumps(third_turn)


def test_two_steps_sharing_a_file_in_one_batch_are_refused(tmp_path: Path) -> None:
    tracker = PlanTracker(tmp_path, ["Edit `a.py`", "Edit `b.py`"])
    graph = DependencyGraph(["Edit `a.py`", "Edit `b.py`"])
    graph.node(2).files.append("a.py")  # a corrupted graph must not reach the workers
    ex = PlanExecutor(tracker, graph, tmp_path, InProcessStepRunner(None))
    with pytest.raises(PlanExecutionError, match="steps 1 and 2 both write a.py"):
        ex._check_batch([1, 2])



async def test_cancelling_a_plan_undoes_the_running_step_and_keeps_finished_ones(
        tmp_path: Path) -> None:
    import asyncio

    original = b"A = 1\n"
    (tmp_path / "a.py").write_bytes(original)
    script = StepScript({1: [write("a.py", "A = 2\n"), Reply(content=finish(), delay=10)],
                         2: [write("b.py", "B = 2\n"), finish()]})
    steps = ["Set A in `a.py`", "Create `b.py`"]
    with ScriptedServer(default=script) as srv:
        client = OpenAIChatClient(srv.base_url, max_retries=0)
        ex = PlanExecutor(PlanTracker(tmp_path, steps), DependencyGraph(steps), tmp_path,
                          InProcessStepRunner(client), settings=settings())
        run = asyncio.create_task(ex.run(lambda ev: None))
        while (tmp_path / "a.py").read_bytes() == original or \
                not (tmp_path / "b.py").exists() or ex.tracker.step(2).status != "done":
            await asyncio.sleep(0.05)
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run
        await client.aclose()
    assert (tmp_path / "a.py").read_bytes() == original
    assert (tmp_path / "b.py").read_text() == "B = 2\n"
    records = SagaLog.read(ex.run_dir / "saga.jsonl")
    assert [r["event"] for r in records if r.get("step") == "step-1"] == \
        ["started", "failed", "compensated"]
    assert records[-1]["event"] == "end" and records[-1]["status"] == "cancelled"


async def test_a_command_step_is_done_only_when_its_command_succeeded(tmp_path: Path) -> None:
    from tests.plan.scripted_steps import fenced

    script = StepScript({1: [fenced("bash", {"command": "false"}), finish("ran it")],
                         2: [fenced("bash", {"command": "python -c 'print(1)'"}), finish()]})
    s = settings()
    steps = ["Run `false`", "Run `python -c 'print(1)'`"]
    with ScriptedServer(default=script) as srv:
        client = OpenAIChatClient(srv.base_url, max_retries=0)
        ex = PlanExecutor(PlanTracker(tmp_path, steps), DependencyGraph(steps), tmp_path,
                          InProcessStepRunner(client), settings=s, retries=0)
        report = await ex.run(lambda ev: None)
        await client.aclose()
    assert report.batches == [[1], [2]]  # steps without files run alone
    assert report.errors[1] == "finished, but `false` did not run successfully yet"
    assert report.skipped == {2: 1}
