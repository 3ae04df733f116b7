"""run_plan: ask for a plan, then the parallel executor or the sequential anchor + tracker."""

from __future__ import annotations

from pathlib import Path

from smallcode.core.agent import Agent
from smallcode.core.config import Settings
from smallcode.core.events import DoneEvent, Event, PlanUpdate
from smallcode.core.model.client import OpenAIChatClient
from smallcode.core.plan.integration import observe_turn, run_plan
from smallcode.core.tools import Services, build_registry
from smallcode.core.tools.workspace import Workspace

from tests.plan.scripted_steps import StepScript, finish, write
from tests.support.scripted_server import ScriptedServer


def make_agent(root: Path, srv: ScriptedServer, *, parallel: bool = True,
               mode: str = "yolo", confirm=None, services: Services | None = None
               ) -> tuple[Agent, OpenAIChatClient]:
    s = Settings()
    s.agent.permission_mode = mode  # type: ignore[assignment]
    s.agent.parallel = parallel
    s.agent.max_turns = 4
    s.agent.prefetch_context = False
    s.agent.two_stage_routing = "off"
    s.solve.enabled = False  # these script the tool loop's calls
    s.model.detect_local = False
    client = OpenAIChatClient(srv.base_url, max_retries=0)
    return Agent(client, build_registry(s), Workspace(root), s, confirm=confirm,
                 services=services), client


PLAN = ("Plan:\n1. Create `models.py` with a User class\n2. Create `views.py` with a view\n"
        "3. After step 1, add a test in a new file `test_models.py`\n\nStarting step 1.")


async def test_independent_steps_run_on_the_executor_and_the_plan_is_kept(tmp_path: Path) -> None:
    script = StepScript({1: [write("models.py", "class User:\n    pass\n"), finish()],
                         2: [write("views.py", "def view():\n    return 1\n"), finish()],
                         3: [write("test_models.py", "def test_user():\n    pass\n"),
                             finish()]},
                        plan_replies=[PLAN])
    events: list[Event] = []
    with ScriptedServer(default=script) as srv:
        agent, client = make_agent(tmp_path, srv)
        try:
            done = await run_plan(agent, "Refactor the app into models and views", events.append)
        finally:
            await client.aclose()
        plan_request = srv.requests[0]["messages"][-1]["content"]
    assert "numbered plan of at most 8 steps" in plan_request
    assert isinstance(done, DoneEvent) and done.success, done.summary
    assert done.reason == "plan completed"
    assert (tmp_path / "models.py").read_text() == "class User:\n    pass\n"
    assert (tmp_path / "test_models.py").exists()
    final = [e for e in events if isinstance(e, PlanUpdate)][-1]
    assert [(s["n"], s["status"], s["batch"]) for s in final.steps] == \
        [(1, "done", 0), (2, "done", 0), (3, "done", 1)]
    assert agent.plan_tracker.complete
    assert agent.history[-1]["content"].startswith("plan completed: 3 of 3 steps done")


async def test_a_plan_without_independent_steps_installs_the_anchor_and_tracker(
        tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("def main():\n    return 1\n")
    plan = "1. Add a helper to `app.py`\n2. Use the helper in `app.py`"
    script = StepScript({}, plan_replies=[plan, write("app.py", "def helper():\n    return 2\n\n\n"
                                                      "def main():\n    return helper()\n"),
                                          "Step 1 done. Step 2 done.", ])
    with ScriptedServer(default=script) as srv:
        agent, client = make_agent(tmp_path, srv)
        try:
            assert await run_plan(agent, "Refactor app.py around a helper", lambda e: None) is None
            tracker = agent.plan_tracker
            assert [s.text for s in tracker.steps] == ["Add a helper to `app.py`",
                                                       "Use the helper in `app.py`"]
            done = await agent.run("Refactor app.py around a helper", lambda e: None)
            first_turn = srv.requests[1]["messages"]
        finally:
            await client.aclose()
    assert done.success
    assert any("ACTIVE PLAN (step 1 of 2):\n→ 1. Add a helper to `app.py`" in str(m["content"])
               for m in first_turn)
    update, note = observe_turn(agent, "Step 1 done. Step 2 done.", ["app.py"])
    assert note == "" and isinstance(update, PlanUpdate)
    assert update.anchor.startswith("PLAN COMPLETE (2 of 2):")
    assert agent.volatile[-1]() is None  # a complete plan is no longer injected


async def test_sequential_setting_keeps_independent_steps_in_the_agent_loop(
        tmp_path: Path) -> None:
    script = StepScript({}, plan_replies=[PLAN])
    with ScriptedServer(default=script) as srv:
        agent, client = make_agent(tmp_path, srv, parallel=False)
        try:
            assert await run_plan(agent, "Refactor into models and views", lambda e: None) is None
        finally:
            await client.aclose()
    anchor = agent.volatile[-1]()
    assert anchor.startswith("ACTIVE PLAN (step 1 of 3):")
    assert "do not exist" not in anchor  # every path is created by its own step


async def test_ask_mode_needs_approval_for_parallel_steps(tmp_path: Path) -> None:
    asked: list[str] = []

    def confirm(kind: str, detail: str) -> bool:
        asked.append(detail)
        return False

    script = StepScript({}, plan_replies=[PLAN])
    with ScriptedServer(default=script) as srv:
        agent, client = make_agent(tmp_path, srv, mode="ask", confirm=confirm)
        try:
            assert await run_plan(agent, "Refactor into models and views", lambda e: None) is None
        finally:
            await client.aclose()
    assert len(asked) == 1 and "batch 1: steps 1, 2; batch 2: step 3" in asked[0]
    assert agent.plan_tracker is not None and not (tmp_path / "models.py").exists()


async def test_missing_paths_are_flagged_to_the_model(tmp_path: Path) -> None:
    script = StepScript({}, plan_replies=["1. Fix `lib/nothere.py`\n2. Fix `lib/nothere.py` again"])
    notices: list[Event] = []
    with ScriptedServer(default=script) as srv:
        agent, client = make_agent(tmp_path, srv)
        try:
            await run_plan(agent, "Migrate lib to the new API", notices.append)
        finally:
            await client.aclose()
    note = "These paths named in the plan do not exist: `lib/nothere.py` (step 1)"
    assert any(note in getattr(e, "message", "") for e in notices)
    assert note in agent.volatile[-1]()


async def test_small_tasks_are_not_planned(tmp_path: Path) -> None:
    with ScriptedServer([]) as srv:
        agent, client = make_agent(tmp_path, srv)
        try:
            assert await run_plan(agent, "fix the typo in README.md", lambda e: None) is None
        finally:
            await client.aclose()
        assert srv.requests == []


async def test_undo_after_a_parallel_plan_restores_every_file_it_changed(tmp_path: Path) -> None:
    from smallcode.core.snapshots import SnapshotStore

    (tmp_path / "models.py").write_bytes(b"OLD = 1\n")
    script = StepScript({1: [write("models.py", "class User:\n    pass\n"), finish()],
                         2: [write("views.py", "def view():\n    return 1\n"), finish()],
                         3: [write("test_models.py", "def test_user():\n    pass\n"),
                             finish()]},
                        plan_replies=[PLAN])
    store = SnapshotStore(tmp_path)
    store.begin("the plan's turn")
    with ScriptedServer(default=script) as srv:
        agent, client = make_agent(tmp_path, srv, services=Services(snapshots=store))
        try:
            done = await run_plan(agent, "Refactor the app into models and views", lambda e: None)
        finally:
            await client.aclose()
    assert done is not None and done.success
    store.end()
    report = store.undo()
    assert report.ok, report.summary()
    assert (tmp_path / "models.py").read_bytes() == b"OLD = 1\n"
    assert not (tmp_path / "views.py").exists() and not (tmp_path / "test_models.py").exists()


async def test_the_observer_advances_the_plan_from_the_agents_own_events(tmp_path: Path) -> None:
    from smallcode.core.plan.integration import PlanObserver

    from tests.plan.scripted_steps import fenced

    (tmp_path / "app.py").write_text("def main():\n    return 1\n")
    plan = "1. Add a helper to `app.py`\n2. Use the helper in `app.py`"
    helper = "def helper():\n    return 2\n\n\ndef main():\n    return 1\n"
    used = "def helper():\n    return 2\n\n\ndef main():\n    return helper()\n"
    script = StepScript({}, plan_replies=[
        plan,
        "Step 2 done.\n" + fenced("read_file", {"path": "app.py"}),  # a claim, no evidence
        "Step 1 done.\n" + write("app.py", helper),  # the claim and its evidence in one reply
        write("app.py", used),
        fenced("finish", {"summary": "Step 2 done: main uses the helper"}),
    ])
    events: list[Event] = []
    with ScriptedServer(default=script) as srv:
        agent, client = make_agent(tmp_path, srv)
        try:
            await run_plan(agent, "Refactor app.py around a helper", events.append)
            done = await agent.run("Refactor app.py around a helper",
                                   PlanObserver(agent, events.append))
            prompts = [r["messages"] for r in srv.requests[1:]]
        finally:
            await client.aclose()
    assert done.success
    tracker = agent.plan_tracker
    assert [s.status for s in tracker.steps] == ["done", "done"]
    updates = [e.anchor.splitlines()[0] for e in events if isinstance(e, PlanUpdate)]
    assert updates == ["ACTIVE PLAN (step 1 of 2):", "ACTIVE PLAN (step 2 of 2):",
                       "PLAN COMPLETE (2 of 2):"]

    def anchor_in(messages: list[dict]) -> str:
        return next(str(m["content"]) for m in reversed(messages)
                    if "PLAN (step" in str(m["content"]))

    # turn 2's prompt: the step-2 claim had no evidence, so it was refused and the model reads
    # why; turn 3's prompt: step 1 is ✓ (claimed with its write) and step 2 is active
    assert "→ 1. Add a helper" in anchor_in(prompts[1])
    assert anchor_in(prompts[1]).endswith("Step 2 is not done yet: app.py was not changed.")
    assert anchor_in(prompts[2]).endswith(
        "✓ 1. Add a helper to `app.py`\n→ 2. Use the helper in `app.py`")
    assert (tmp_path / "app.py").read_text() == used
