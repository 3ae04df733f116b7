"""The saga runtime: backward compensation, the persisted log, recovery after a crash."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from smallcode.core.plan.saga import Saga, SagaError, SagaLog, SagaStep, SagaStepFailed


async def test_a_failure_compensates_the_failed_step_then_completed_ones_backward(
        tmp_path: Path) -> None:
    undone: list[str] = []

    def boom() -> None:
        raise ValueError("disk full")

    saga = Saga(tmp_path / "s.jsonl")
    result = await saga.run([
        SagaStep("a", lambda: "A", lambda: undone.append("a")),
        SagaStep("b", lambda: "B", lambda: undone.append("b")),
        SagaStep("c", boom, lambda: undone.append("c")),
        SagaStep("d", lambda: "D", lambda: undone.append("d")),
    ])
    assert not result.ok and result.failed == "c" and result.error == "disk full"
    assert undone == ["c", "b", "a"]
    assert result.compensated == ["c", "b", "a"]
    assert result.results == {"a": "A", "b": "B"}
    events = [(r["event"], r.get("step")) for r in SagaLog.read(tmp_path / "s.jsonl")]
    assert events == [("begin", None), ("started", "a"), ("done", "a"), ("started", "b"),
                      ("done", "b"), ("started", "c"), ("failed", "c"), ("compensated", "c"),
                      ("compensated", "b"), ("compensated", "a"), ("end", None)]


async def test_step_failure_reports_a_failing_compensation(tmp_path: Path) -> None:
    def fail() -> None:
        raise RuntimeError("no")

    def bad_undo() -> None:
        raise OSError("read-only")

    saga = Saga(tmp_path / "s.jsonl")
    with pytest.raises(SagaStepFailed) as info:
        await saga.step(SagaStep("x", fail, bad_undo))
    assert not info.value.compensated and "read-only" in info.value.compensation_error
    assert saga.status("x") == "compensation_failed"


async def test_async_actions_and_compensations(tmp_path: Path) -> None:
    seen = []

    async def act() -> int:
        return 7

    async def undo() -> None:
        seen.append("undone")

    saga = Saga(tmp_path / "s.jsonl")
    assert await saga.step(SagaStep("x", act, undo)) == 7
    assert await saga.compensate_completed() == (["x"], {})
    assert seen == ["undone"]


CRASHER = textwrap.dedent("""
    import asyncio, os, sys
    from pathlib import Path
    from smallcode.core.plan.saga import Saga, SagaStep, register_compensator

    log, work = Path(sys.argv[1]), Path(sys.argv[2])

    async def main():
        saga = Saga(log)
        for name in ("one", "two"):
            f = work / f"{name}.txt"
            f.write_text("changed")
            await saga.step(SagaStep(name, lambda: None, kind="restore_text",
                                     data={"path": str(f), "text": "original"}))
        f = work / "three.txt"
        async def hang():
            f.write_text("half-changed")
            os._exit(9)  # the process dies mid-step
        await saga.step(SagaStep("three", hang, kind="restore_text",
                                 data={"path": str(f), "text": "original"}))

    asyncio.run(main())
""")


def run_crashing_saga(log: Path, work: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", CRASHER, str(log), str(work)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 9, proc.stderr
    with open(log, "ab") as fh:  # and the crash tore the last line
        fh.write(b'{"event": "don')


async def test_a_crashed_run_is_compensated_on_restart(tmp_path: Path) -> None:
    for name in ("one", "two", "three"):
        (tmp_path / f"{name}.txt").write_text("original")
    log = tmp_path / "saga.jsonl"
    run_crashing_saga(log, tmp_path)
    assert (tmp_path / "three.txt").read_text() == "half-changed"
    order: list[str] = []

    def restore(data: dict) -> None:
        order.append(Path(data["path"]).stem)
        Path(data["path"]).write_text(data["text"])

    report = await Saga.recover(log, {"restore_text": restore})
    assert order == ["three", "two", "one"]
    assert report.compensated == ["three", "two", "one"]
    for name in ("one", "two", "three"):
        assert (tmp_path / f"{name}.txt").read_text() == "original"
    again = await Saga.recover(log, {"restore_text": restore})
    assert again.already_ended and order == ["three", "two", "one"]


async def test_recovery_without_a_compensator_keeps_the_log_open(tmp_path: Path) -> None:
    log = tmp_path / "s.jsonl"
    saga = Saga(log)
    await saga.step(SagaStep("x", lambda: None, kind="unknown-kind", data={}))
    report = await Saga.recover(log, {})
    assert report.errors == {"x": "no compensator for kind 'unknown-kind'"}
    assert not any(r["event"] == "end" for r in SagaLog.read(log))


async def test_recovering_a_missing_log_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SagaError, match="no saga log"):
        await Saga.recover(tmp_path / "nope.jsonl")


def test_log_records_are_whole_lines_with_increasing_seq(tmp_path: Path) -> None:
    log = SagaLog(tmp_path / "l.jsonl")
    for i in range(5):
        log.append({"event": "x", "i": i})
    lines = (tmp_path / "l.jsonl").read_text().splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [1, 2, 3, 4, 5]
    assert oct(os.stat(tmp_path / "l.jsonl").st_mode & 0o777) == "0o600"
