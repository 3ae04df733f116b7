"""A step's journal: pre-step bytes on the shared folder, restored byte-identically."""

from __future__ import annotations

from pathlib import Path

from smallcode.core.events import ToolCallEvent
from smallcode.core.plan.saga import Saga, SagaStep
from smallcode.core.plan.steprun import (
    JOURNAL_KIND,
    StepJournal,
    StepSnapshots,
    StepSpec,
    event_from_dict,
    files_context,
)


def test_restore_puts_bytes_and_mode_back_and_removes_created_files(tmp_path: Path) -> None:
    original = b"line one\r\nline two\x00\xff"
    (tmp_path / "a.bin").write_bytes(original)
    (tmp_path / "a.bin").chmod(0o640)
    journal = StepJournal(tmp_path, tmp_path / ".smallcode/plans/r/step-1")
    assert journal.capture("a.bin") is True
    assert journal.capture("./a.bin") is False  # first record wins
    assert journal.capture("new/dir/b.py") is True
    (tmp_path / "a.bin").write_bytes(b"changed")
    (tmp_path / "a.bin").chmod(0o600)
    (tmp_path / "new/dir").mkdir(parents=True)
    (tmp_path / "new/dir/b.py").write_text("x = 1\n")
    assert sorted(journal.restore()) == ["a.bin", "new/dir/b.py"]
    assert (tmp_path / "a.bin").read_bytes() == original
    assert (tmp_path / "a.bin").stat().st_mode & 0o777 == 0o640
    assert not (tmp_path / "new").exists()
    assert journal.restore() == []  # idempotent


def test_the_step_snapshot_service_journals_the_first_pre_edit_content(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("A = 1\n")
    journal = StepJournal(tmp_path, tmp_path / "j")
    snaps = StepSnapshots(journal)
    assert snaps.begin("x").startswith("step:")
    assert snaps.record("a.py", b"A = 1\n") is True
    (tmp_path / "a.py").write_text("A = 2\n")
    assert snaps.record("a.py", b"A = 2\n") is False
    (tmp_path / "a.py").write_text("A = 3\n")
    assert snaps.restore("whatever").summary() == "restored a.py"
    assert (tmp_path / "a.py").read_text() == "A = 1\n"


async def test_a_journal_step_is_recoverable_by_kind_alone(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("A = 1\n")
    journal = StepJournal(tmp_path, tmp_path / "j")
    journal.capture("a.py")
    saga = Saga(tmp_path / "saga.jsonl")
    await saga.step(SagaStep("step-1", lambda: (tmp_path / "a.py").write_text("A = 9\n"),
                             kind=JOURNAL_KIND, data={"root": str(tmp_path),
                                                      "journal": str(journal.dir)}))
    # the process "crashed" here: a new one recovers from the log alone
    report = await Saga.recover(tmp_path / "saga.jsonl")
    assert report.compensated == ["step-1"]
    assert (tmp_path / "a.py").read_text() == "A = 1\n"


def test_step_task_holds_the_anchor_the_step_and_its_files(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("A = 1\n")
    spec = StepSpec(n=2, text="Set A in `a.py`", root=str(tmp_path), journal_dir="j",
                    anchor="ACTIVE PLAN (step 2 of 3):", files=["a.py", "b.py"],
                    allowed_edit_paths=["a.py", "b.py"],
                    context=files_context(tmp_path, ["a.py", "b.py"]))
    task = spec.task()
    assert task.startswith("ACTIVE PLAN (step 2 of 3):\n\nYOUR STEP: 2. Set A in `a.py`")
    assert "You may edit only: a.py, b.py." in task
    assert "Current content of `a.py`:\n```\nA = 1\n" in task
    assert "`b.py` does not exist yet." in task
    assert StepSpec.from_dict(spec.to_dict()) == spec


def test_events_cross_process_boundaries_with_their_step_tag() -> None:
    ev = ToolCallEvent(call_id="c1", name="patch", arguments={"path": "a.py"})
    data = {**ev.model_dump(mode="json"), "step": 3}
    back = event_from_dict(data)
    assert isinstance(back, ToolCallEvent) and back.arguments == {"path": "a.py"}
    assert back.step == 3  # type: ignore[attr-defined]


CRASHED_PLAN = """
import asyncio, os, sys
from pathlib import Path
from smallcode.core.plan.executor import PLANS_DIR
from smallcode.core.plan.saga import Saga, SagaStep
from smallcode.core.plan.steprun import JOURNAL_KIND, StepJournal

root = Path(sys.argv[1])
run = root / PLANS_DIR / "run-1"

async def main():
    saga = Saga(run / "saga.jsonl")
    for n, name in ((1, "a.py"), (2, "b.py")):
        journal = StepJournal(root, run / f"step-{n}")
        journal.capture(name)
        journal.capture(f"new_{n}.py")
        async def act(name=name, n=n):
            (root / name).write_text("edited")
            (root / f"new_{n}.py").write_text("created")
            if n == 2:
                os._exit(3)  # the whole run dies mid-step 2
        await saga.step(SagaStep(f"step-{n}", act, kind=JOURNAL_KIND,
                                 data={"root": str(root), "journal": str(journal.dir)}))

asyncio.run(main())
"""


def crash_a_plan(root: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", CRASHED_PLAN, str(root)], capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 3, proc.stderr


async def test_recover_plans_undoes_a_crashed_run_and_leaves_live_ones(tmp_path: Path) -> None:
    from smallcode.core.plan.executor import PLANS_DIR, recover_plans

    (tmp_path / "a.py").write_bytes(b"A = 1\n")
    (tmp_path / "b.py").write_bytes(b"B = 1\n")
    crash_a_plan(tmp_path)
    assert (tmp_path / "b.py").read_text() == "edited"
    live = Saga(tmp_path / PLANS_DIR / "run-2" / "saga.jsonl")  # this process runs it
    await live.step(SagaStep("step-1", lambda: None, kind=JOURNAL_KIND,
                             data={"root": str(tmp_path), "journal": str(tmp_path / "nope")}))
    reports = await recover_plans(tmp_path)
    assert [r.compensated for r in reports] == [["step-2", "step-1"]]
    assert (tmp_path / "a.py").read_bytes() == b"A = 1\n"
    assert (tmp_path / "b.py").read_bytes() == b"B = 1\n"
    assert not (tmp_path / "new_1.py").exists() and not (tmp_path / "new_2.py").exists()
    assert await recover_plans(tmp_path) == []  # ended now; the live one is still left alone
    live.end()


async def test_old_ended_plan_runs_are_pruned_and_open_ones_kept(tmp_path: Path) -> None:
    from smallcode.core.plan.executor import PLANS_DIR, prune_plan_runs

    for i in range(5):
        saga = Saga(tmp_path / PLANS_DIR / f"2026-run-{i}" / "saga.jsonl")
        if i != 0:
            saga.end()
    assert prune_plan_runs(tmp_path, keep=2) == ["2026-run-1", "2026-run-2"]
    left = sorted(p.name for p in (tmp_path / PLANS_DIR).iterdir())
    assert left == ["2026-run-0", "2026-run-3", "2026-run-4"]  # run-0 never ended: kept


def test_smallcode_run_after_a_crashed_plan_restores_its_files_first(tmp_path: Path) -> None:
    import json
    import os
    import subprocess
    import sys

    from tests.support.scripted_server import ScriptedServer

    (tmp_path / "a.py").write_bytes(b"A = 1\n")
    (tmp_path / "b.py").write_bytes(b"B = 1\n")
    crash_a_plan(tmp_path)
    answer = "```json\n" + json.dumps({"name": "finish", "arguments": {"summary": "A is 1"}}) \
        + "\n```"
    env = {**os.environ, "SMALLCODE_MODEL__DETECT_LOCAL": "false",
           "XDG_CONFIG_HOME": str(tmp_path / ".cfg")}
    with ScriptedServer(default=answer) as srv:
        proc = subprocess.run([sys.executable, "-m", "smallcode.cli.main", "-C", str(tmp_path),
                               "run", "--base-url", srv.base_url, "what is A in a.py?"],
                              capture_output=True, text=True, timeout=120, env=env, check=False)
    assert "recovered an interrupted plan run" in proc.stderr, proc.stderr
    assert (tmp_path / "a.py").read_bytes() == b"A = 1\n"
    assert (tmp_path / "b.py").read_bytes() == b"B = 1\n"
    assert not (tmp_path / "new_2.py").exists()
