"""Plan step workers as real Ray actors, against a real loopback model server."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from smallcode.core.config import Settings
from smallcode.core.events import Event, PlanUpdate
from smallcode.core.plan.depgraph import DependencyGraph
from smallcode.core.plan.executor import PlanExecutor
from smallcode.core.plan.tracker import PlanTracker

from tests.plan.scripted_steps import StepScript, finish, write
from tests.support.scripted_server import Reply, ScriptedServer

NAMESPACE = "smallcode-test-step-workers"


@pytest.fixture(scope="module")
def pool(ray_session):
    from smallcode.actors.step_worker import RayStepRunner

    runner = RayStepRunner(2, namespace=NAMESPACE)
    asyncio.run(runner.warm())
    yield runner
    runner.shutdown()


def settings() -> Settings:
    s = Settings()
    s.agent.permission_mode = "yolo"
    s.agent.max_turns = 4
    s.model.detect_local = False
    return s


async def test_steps_share_two_workers_concurrently_and_stream_their_events(
        tmp_path: Path, pool) -> None:
    (tmp_path / "a.py").write_text("A = 1\n")
    (tmp_path / "b.py").write_text("B = 1\n")
    script = StepScript({1: [write("a.py", "A = 2\n"), finish("a")],
                         2: [write("b.py", "B = 2\n"), finish("b")],
                         3: [write("c.py", "C = 2\n"), finish("c")]})
    steps = ["Set A to 2 in `a.py`", "Set B to 2 in `b.py`", "Create `c.py`"]  # 3 steps, 2 workers
    events: list[Event] = []
    # 1.5 s per request: long enough that the two workers overlap even on a loaded machine
    with ScriptedServer(default=script, latency=1.5) as srv:
        ex = PlanExecutor(PlanTracker(tmp_path, steps), DependencyGraph(steps), tmp_path, pool,
                          settings=settings(), base_url=srv.base_url, retries=0)
        report = await ex.run(events.append)
        assert srv.max_concurrent == 2
    assert report.ok, report.summary()
    assert (tmp_path / "a.py").read_text() == "A = 2\n"
    assert (tmp_path / "b.py").read_text() == "B = 2\n"
    assert (tmp_path / "c.py").read_text() == "C = 2\n"
    for n in (1, 2, 3):
        mine = [e.type for e in events if getattr(e, "step", None) == n]
        assert mine[0] == "route" and mine[-1] == "done" and "tool_result" in mine
    assert isinstance(events[-2], PlanUpdate) and events[-2].anchor.startswith("PLAN COMPLETE")


async def test_killing_a_worker_mid_step_undoes_that_step_and_spares_the_other(
        tmp_path: Path, pool) -> None:
    import ray

    original = b"def a():\n    return 1\n"
    (tmp_path / "a.py").write_bytes(original)
    (tmp_path / "b.py").write_text("B = 1\n")
    # step 1 writes a.py, then its next model reply hangs: the worker is killed meanwhile
    script = StepScript({1: [write("a.py", "def a():\n    return 2\n"),
                             Reply(content=finish("late"), delay=20)],
                         2: [write("b.py", "B = 2\n"), finish("b")]})
    steps = ["Change `a.py` to return 2", "Set B to 2 in `b.py`"]
    with ScriptedServer(default=script) as srv:
        ex = PlanExecutor(PlanTracker(tmp_path, steps), DependencyGraph(steps), tmp_path, pool,
                          settings=settings(), base_url=srv.base_url, retries=0)
        run = asyncio.create_task(ex.run(lambda ev: None))
        deadline = time.monotonic() + 30
        while (tmp_path / "a.py").read_bytes() == original or 1 not in pool.assigned:
            assert time.monotonic() < deadline, "step 1 never wrote a.py"
            await asyncio.sleep(0.05)
        name = pool.assigned[1]
        victim = ray.get_actor(name, namespace=NAMESPACE)
        ray.kill(victim)
        report = await asyncio.wait_for(run, 30)
    assert [s.status for s in report.steps] == ["failed", "done"]
    assert report.errors[1] == f"worker {name} died during step 1"
    assert f"FAILED: worker {name} died during step 1; its changes were undone (a.py)" in \
        report.summary()
    assert (tmp_path / "a.py").read_bytes() == original  # byte-identical
    assert report.compensated[1] == ["a.py"]
    assert (tmp_path / "b.py").read_text() == "B = 2\n"


async def test_the_pool_checks_solve_candidates_side_by_side_in_scratch_copies(
        tmp_path: Path, pool) -> None:
    """Under serve, the solve path's candidates are checked on the step workers."""
    from smallcode.core.solve.oracle import Oracle

    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (tmp_path / "test_calc.py").write_text(
        "from calc import add\n\ndef test_add():\n    assert add(2, 3) == 5\n")
    oracle = Oracle("tests", True, "1 test fails now and must pass",
                    start_failures=["test_calc.py::test_add"])
    right = {"calc.py": "def add(a, b):\n    return a + b\n"}
    wrong = {"calc.py": "def add(a, b):\n    return a * b\n"}
    before = [await pool.handle(f"{pool.prefix}{i}").describe.remote() for i in range(2)]
    ok, bad = await asyncio.gather(pool.check(tmp_path, right, oracle),
                                   pool.check(tmp_path, wrong, oracle))
    assert ok.passed and not bad.passed and "assert 6 == 5" in bad.detail
    # the project itself is never written
    assert (tmp_path / "calc.py").read_text() == "def add(a, b):\n    return a - b\n"
    after = [await pool.handle(f"{pool.prefix}{i}").describe.remote() for i in range(2)]
    checked = sum(a["candidates_checked"] - b["candidates_checked"]
                  for a, b in zip(after, before, strict=True))
    assert checked == 2
    # both workers took one: the two checks ran side by side, one per worker
    assert all(a["candidates_checked"] > b["candidates_checked"]
               for a, b in zip(after, before, strict=True))
