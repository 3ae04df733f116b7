"""Plans read off the message: a rename owns every file using the name, other clauses own the
files they name; nothing is derived when a clause names no file; the scripted run executes the
derived plan without asking the model for one and checks the tests at the end."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from smallcode.core.events import DoneEvent, Event, NoticeEvent, PlanUpdate
from smallcode.core.observability.tokens import TokenLedger
from smallcode.core.plan.depgraph import DependencyGraph
from smallcode.core.plan.derive import derive_plan
from smallcode.core.plan.integration import run_plan
from smallcode.core.tools import Services
from smallcode.core.tools.workspace import Workspace

from tests.plan.scripted_steps import StepScript, fenced, finish, write
from tests.plan.test_integration import make_agent
from tests.support.scripted_server import ScriptedServer

RENAME_REPO = Path(__file__).resolve().parents[2] / "core/bench/suites/dev/py-rename-function/repo"
TASK = ("Rename calc_total to compute_total everywhere (the definition, its callers and the "
        "tests). Also add a line 'compute_total replaces calc_total' to NOTES.md.")


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    shutil.copytree(RENAME_REPO, tmp_path, dirs_exist_ok=True)
    return tmp_path


def test_a_rename_and_an_independent_change_become_two_parallel_steps(repo: Path) -> None:
    plan = derive_plan(TASK, Workspace(repo))
    assert plan is not None and len(plan.steps) == 2
    assert plan.files == {1: ["billing/invoice.py", "billing/summary.py", "billing/totals.py",
                              "tests/test_billing.py"], 2: ["NOTES.md"]}
    assert plan.steps[1] == ("Add a line 'compute_total replaces calc_total' to NOTES.md. "
                             "Create `NOTES.md` with write_file: it does not exist yet.")
    graph = DependencyGraph(plan.steps, declared=plan.files)
    assert graph.batches() == [[1, 2]]
    assert graph.missing_paths(repo) == []  # the step says it creates NOTES.md


@pytest.mark.parametrize("task", [
    "Rename calc_total to compute_total everywhere.",  # one clause: the agent does it alone
    "Rename calc_total to compute_total. Then run the tests and commit.",  # a clause, no file
    "Rename nothing_like_this to other. Also add a line to NOTES.md.",  # name not found
    "Raise the max line length to 100 in setup.cfg and also exclude the migrations folder.",
])
def test_nothing_is_derived_when_the_message_does_not_say_where(repo: Path, task: str) -> None:
    assert derive_plan(task, Workspace(repo)) is None


def test_a_clause_that_refers_back_waits_for_the_one_before(repo: Path) -> None:
    (repo / "stack.py").write_text("class Stack:\n    pass\n")
    (repo / "tests" / "test_stack.py").write_text("")
    plan = derive_plan("Add a peek() method to stack.py. Then add a test for it in "
                       "tests/test_stack.py.", Workspace(repo))
    assert plan is not None
    assert plan.steps == ["Add a peek() method to stack.py.",
                          "Add a test for it in tests/test_stack.py (after step 1)."]
    assert DependencyGraph(plan.steps, declared=plan.files).batches() == [[1], [2]]


async def test_the_derived_plan_runs_without_a_plan_request_and_checks_the_tests(
        repo: Path) -> None:
    script = StepScript({
        1: [fenced("rename_symbol", {"old": "calc_total", "new": "compute_total"}), finish()],
        2: [write("NOTES.md", "compute_total replaces calc_total\n"), finish()],
    })
    events: list[Event] = []
    ledger = TokenLedger()

    def sink(ev: Event) -> None:
        events.append(ev)
        ledger(ev)

    with ScriptedServer(default=script) as srv:
        agent, client = make_agent(repo, srv)
        try:
            done = await run_plan(agent, TASK, sink)
        finally:
            await client.aclose()
        sink(done)
    assert None not in script.calls  # no plan request: the plan came from the message
    assert isinstance(done, DoneEvent) and done.success, done.summary
    assert "Tests pass" in done.summary
    notices = [e.message for e in events if isinstance(e, NoticeEvent)]
    assert any(n.startswith("plan read from the message (the rename of calc_total touches 4 "
                            "files; NOTES.md named)") for n in notices)
    assert any("after the plan, the tests pass" in n for n in notices)
    final = [e for e in events if isinstance(e, PlanUpdate)][-1]
    assert [(s["status"], s["batch"]) for s in final.steps] == [("done", 0), ("done", 0)]
    for rel in ("billing/totals.py", "billing/invoice.py", "billing/summary.py",
                "tests/test_billing.py"):
        text = (repo / rel).read_text()
        assert "compute_total" in text and "calc_total" not in text
    assert done.prompt_tokens > 0 and ledger.last_task.prompt_tokens == done.prompt_tokens
    assert len(ledger.tasks) == 1  # the steps' own `done` events do not end the task


async def test_a_plan_that_leaves_the_tests_red_is_not_a_success(repo: Path) -> None:
    script = StepScript({  # step 1 renames only the definition: callers break
        1: [fenced("patch", {"path": "billing/totals.py", "old_str": "def calc_total",
                             "new_str": "def compute_total"}), finish()],
        2: [write("NOTES.md", "renamed\n"), finish()],
    })
    with ScriptedServer(default=script) as srv:
        agent, client = make_agent(repo, srv)
        try:
            done = await run_plan(agent, TASK, lambda ev: None)
        finally:
            await client.aclose()
    assert isinstance(done, DoneEvent) and not done.success
    assert done.reason == "plan completed but the tests fail"
    assert "Tests fail (`" in done.summary


def test_a_question_with_an_answer_file_is_not_a_plan(repo: Path) -> None:
    (repo / "server.py").write_text("PORT = 7431\n")
    assert derive_plan("What port does server.py use? Write just the number into answer.txt.",
                       Workspace(repo)) is None
    assert derive_plan("server.py crashes on start. Add a guard to server.py and note it in "
                       "NOTES.md.", Workspace(repo)) is None


async def test_every_step_of_a_plan_sees_the_project_memory_relevant_to_the_task(
        repo: Path) -> None:
    from smallcode.core.memory.store import MemoryStore

    script = StepScript({
        1: [fenced("rename_symbol", {"old": "calc_total", "new": "compute_total"}), finish()],
        2: [write("NOTES.md", "compute_total replaces calc_total\n"), finish()],
    })
    store = MemoryStore(repo / "memory.duckdb")
    store.remember("convention", "notes", "NOTES.md lines start with a date in ISO format")
    try:
        with ScriptedServer(default=script) as srv:
            agent, client = make_agent(repo, srv, services=Services(memory=store))
            try:
                await run_plan(agent, TASK, lambda ev: None)
            finally:
                await client.aclose()
            prompts = [r["messages"][-1]["content"] for r in srv.requests]
    finally:
        store.close()
    firsts = [p for p in prompts if p.startswith("ACTIVE PLAN")]
    assert len(firsts) == 2
    assert all("Project memory:\n" in p and "NOTES.md lines start with a date" in p
               for p in firsts)
