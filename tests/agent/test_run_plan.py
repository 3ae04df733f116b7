"""`smallcode run` with a multi-file task: plan request, parallel executor, one ordered stream."""

from __future__ import annotations

from pathlib import Path

from tests.agent.test_run_scripted import events, run_cli
from tests.plan.scripted_steps import StepScript, finish, write
from tests.support.scripted_server import ScriptedServer

PLAN = ("Plan:\n1. Create `greeting.py` with a function hello() returning 'hi'.\n"
        "2. Create `farewell.py` with a function bye() returning 'bye'.")


def test_independent_steps_run_through_the_executor_and_stream_in_order(tmp_path: Path) -> None:
    script = StepScript({1: [write("greeting.py", "def hello():\n    return 'hi'\n"), finish()],
                         2: [write("farewell.py", "def bye():\n    return 'bye'\n"), finish()]},
                        plan_replies=[PLAN])
    with ScriptedServer(default=script) as srv:
        proc = run_cli(tmp_path, "--yes", "--json", "--base-url", srv.base_url,
                       "Implement the greeting module and the farewell module step by step: "
                       "create greeting.py with hello() and farewell.py with bye().")
    assert proc.returncode == 4, proc.stderr + proc.stdout[-2000:]  # done; nothing verifies it
    assert (tmp_path / "greeting.py").read_text() == "def hello():\n    return 'hi'\n"
    assert (tmp_path / "farewell.py").read_text() == "def bye():\n    return 'bye'\n"
    evs = events(proc.stdout)
    plans = [e for e in evs if e["type"] == "plan"]
    assert plans and plans[0]["anchor"].startswith("ACTIVE PLAN")
    assert {e["step"] for e in evs if e.get("step") is not None} == {1, 2}
    step_dones = [e for e in evs if e["type"] == "done" and e.get("step") is not None]
    assert sorted(e["step"] for e in step_dones) == [1, 2]
    done = [e for e in evs if e["type"] == "done"][-1]  # the plan's own, untagged, comes last
    assert done["step"] is None
    assert done["success"] is True and done["reason"] == "plan completed"
    assert [e["type"] for e in evs][-2:] == ["done", "usage_summary"]


def test_sequential_flag_keeps_one_agent_with_the_plan_anchor(tmp_path: Path) -> None:
    script = StepScript({}, plan_replies=[
        PLAN, write("greeting.py", "def hello():\n    return 'hi'\n"),
        write("farewell.py", "def bye():\n    return 'bye'\n"), finish("both done")])
    with ScriptedServer(default=script) as srv:
        proc = run_cli(tmp_path, "--yes", "--json", "--sequential", "--base-url", srv.base_url,
                       "Implement the greeting module and the farewell module step by step: "
                       "create greeting.py with hello() and farewell.py with bye().")
        reqs = srv.requests
    assert proc.returncode == 4, proc.stderr + proc.stdout[-2000:]  # done; nothing verifies it
    assert (tmp_path / "farewell.py").exists()
    # every agent turn carries the anchor late in the prompt
    assert all("ACTIVE PLAN" in r["messages"][-1]["content"] for r in reqs[1:])
