"""A saga runtime: steps with an action and a compensation, backward compensation on failure, and
a persisted JSON-lines log so a run that crashed can be compensated when the program restarts.

The log (one JSON object per line, appended with a single ``write`` on an ``O_APPEND`` descriptor
and fsynced) records ``begin``, then per step ``started`` (before the action runs, with the step's
``kind`` and ``data``), ``done`` or ``failed``, ``compensated`` or ``compensation_failed``, and
finally ``end``. A step's compensation must be derivable from ``kind`` + ``data`` alone, so
:meth:`Saga.recover` can run it in a new process: register it with :func:`register_compensator`
(or pass ``compensators=``). A started step is compensated on recovery even if its action never
finished — compensations must therefore be safe on partial effects (restore recorded bytes, not
"undo the diff").
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Compensator = Callable[[dict[str, Any]], Awaitable[Any] | Any]
_COMPENSATORS: dict[str, Compensator] = {}
_ACTIVE_LOGS: set[str] = set()  # logs of sagas this process is running (never "crashed")


def register_compensator(kind: str, fn: Compensator) -> None:
    """Make ``kind`` recoverable: ``fn(data)`` undoes a step of that kind in any process."""
    _COMPENSATORS[kind] = fn


class SagaError(Exception):
    """The saga log is unusable, or a step was declared wrongly."""


class SagaStepFailed(Exception):
    """A step's action raised; it has been compensated (see ``compensated``)."""

    def __init__(self, name: str, cause: BaseException, compensated: bool,
                 compensation_error: str = ""):
        super().__init__(f"saga step {name} failed: {cause}")
        self.name = name
        self.cause = cause
        self.compensated = compensated
        self.compensation_error = compensation_error


@dataclass
class SagaStep:
    """One step: ``action()`` does the work; ``compensation()`` undoes it (also when the action
    failed halfway). ``kind``/``data`` make the compensation recoverable after a crash."""

    name: str
    action: Callable[[], Awaitable[Any] | Any]
    compensation: Callable[[], Awaitable[Any] | Any] | None = None
    kind: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class SagaResult:
    ok: bool
    results: dict[str, Any] = field(default_factory=dict)
    failed: str | None = None
    error: str = ""
    compensated: list[str] = field(default_factory=list)  # in the order they were undone
    compensation_errors: dict[str, str] = field(default_factory=dict)


@dataclass
class RecoveryReport:
    saga_id: str | None
    compensated: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    already_ended: bool = False


async def _call(fn: Callable[..., Any], *args: Any) -> Any:
    res = fn(*args)
    if inspect.isawaitable(res):
        res = await res
    return res


class SagaLog:
    """Append-only JSON lines, one ``write`` + fsync per record (safe across threads)."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._seq = 0

    def append(self, record: dict[str, Any]) -> None:
        with self._lock:
            self._seq += 1
            line = json.dumps({**record, "seq": self._seq, "ts": time.time()},
                              ensure_ascii=False, default=str) + "\n"
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)

    @staticmethod
    def read(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
        """Every whole record; a torn last line (a crash mid-write) is skipped."""
        try:
            raw = Path(path).read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            raise SagaError(f"no saga log at {path}") from None
        out = []
        for line in raw.splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(rec, dict) and "event" in rec:
                out.append(rec)
        return out


def owner_alive(records: list[dict[str, Any]], log_path: str | os.PathLike[str] | None = None
                ) -> bool:
    """Whether the process that began this saga log still runs (on this host). A log from
    another host counts as alive: only that host can tell."""
    if log_path is not None and str(Path(log_path).resolve()) in _ACTIVE_LOGS:
        return True
    begin = next((r for r in records if r.get("event") == "begin"), None)
    owner = (begin or {}).get("owner") or {}
    if owner.get("host") not in (None, socket.gethostname()):
        return True
    pid = owner.get("pid")
    if not isinstance(pid, int) or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Saga:
    """Runs steps with compensations; every transition is logged before it matters.

    Two ways to use it: :meth:`run` (classic: steps in order, on a failure compensate the failed
    step and then every completed one, newest first) or :meth:`step` + :meth:`compensate` /
    :meth:`compensate_completed` + :meth:`end` when the caller decides the policy (the plan
    executor compensates only the failed step and keeps independent results). :meth:`step` may
    be awaited concurrently for independent steps.
    """

    def __init__(self, log_path: str | os.PathLike[str], *, saga_id: str | None = None,
                 label: str = ""):
        self.id = saga_id or uuid.uuid4().hex[:12]
        self.log = SagaLog(log_path)
        self._steps: dict[str, SagaStep] = {}
        self._order: list[str] = []  # started order
        self._status: dict[str, str] = {}  # started|done|failed|compensated|compensation_failed
        self._ended = False
        _ACTIVE_LOGS.add(str(self.log.path.resolve()))
        self.log.append({"event": "begin", "saga": self.id, "label": label,
                         "owner": {"pid": os.getpid(), "host": socket.gethostname()}})

    @property
    def log_path(self) -> Path:
        return self.log.path

    def status(self, name: str) -> str | None:
        return self._status.get(name)

    async def step(self, step: SagaStep) -> Any:
        """Run one step. On failure the step itself is compensated and :class:`SagaStepFailed`
        raised (``compensated`` says whether that worked). Cancellation also compensates."""
        if step.name in self._steps:
            raise SagaError(f"saga step {step.name!r} already ran")
        if self._ended:
            raise SagaError("the saga has ended")
        self._steps[step.name] = step
        self._order.append(step.name)
        self._status[step.name] = "started"
        self.log.append({"event": "started", "saga": self.id, "step": step.name,
                         "kind": step.kind, "data": step.data})
        try:
            result = await _call(step.action)
        except BaseException as exc:
            self._status[step.name] = "failed"
            self.log.append({"event": "failed", "saga": self.id, "step": step.name,
                             "error": f"{type(exc).__name__}: {exc}"[:500]})
            err = await self.compensate(step.name)
            if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt | SystemExit):
                raise
            raise SagaStepFailed(step.name, exc, compensated=err is None,
                                 compensation_error=err or "") from exc
        self._status[step.name] = "done"
        self.log.append({"event": "done", "saga": self.id, "step": step.name})
        return result

    async def compensate(self, name: str) -> str | None:
        """Undo one step (once). Returns None on success, else the error text."""
        step = self._steps[name]
        if self._status.get(name) in ("compensated",):
            return None
        if step.compensation is None:
            fn = _COMPENSATORS.get(step.kind or "")
            comp: Callable[[], Any] | None = (lambda: fn(step.data)) if fn else None
        else:
            comp = step.compensation
        if comp is None:
            self._status[name] = "compensated"
            self.log.append({"event": "compensated", "saga": self.id, "step": name,
                             "note": "nothing to undo"})
            return None
        try:
            await _call(comp)
        except Exception as exc:  # noqa: BLE001 - reported, and the log keeps the step pending
            self._status[name] = "compensation_failed"
            msg = f"{type(exc).__name__}: {exc}"[:500]
            self.log.append({"event": "compensation_failed", "saga": self.id, "step": name,
                             "error": msg})
            return msg
        self._status[name] = "compensated"
        self.log.append({"event": "compensated", "saga": self.id, "step": name})
        return None

    async def compensate_completed(self) -> tuple[list[str], dict[str, str]]:
        """Undo every step that is done, newest first. Returns (undone, errors)."""
        undone: list[str] = []
        errors: dict[str, str] = {}
        for name in reversed(self._order):
            if self._status.get(name) != "done":
                continue
            err = await self.compensate(name)
            if err is None:
                undone.append(name)
            else:
                errors[name] = err
        return undone, errors

    def end(self, status: str = "ok") -> None:
        if not self._ended:
            self._ended = True
            self.log.append({"event": "end", "saga": self.id, "status": status})
            _ACTIVE_LOGS.discard(str(self.log.path.resolve()))

    async def run(self, steps: Sequence[SagaStep]) -> SagaResult:
        """Classic saga: run in order; on a failure compensate backward and stop."""
        result = SagaResult(ok=True)
        for step in steps:
            try:
                result.results[step.name] = await self.step(step)
            except SagaStepFailed as exc:
                result.ok = False
                result.failed = step.name
                result.error = str(exc.cause)
                if exc.compensated:
                    result.compensated.append(step.name)
                else:
                    result.compensation_errors[step.name] = exc.compensation_error
                undone, errors = await self.compensate_completed()
                result.compensated += undone
                result.compensation_errors.update(errors)
                break
        self.end("ok" if result.ok else "compensated")
        return result

    @staticmethod
    async def recover(log_path: str | os.PathLike[str],
                      compensators: dict[str, Compensator] | None = None) -> RecoveryReport:
        """Compensate what a crashed run left behind: every step that started and was not
        compensated, newest first, using its logged ``kind``/``data``. Idempotent: a saga whose
        log has ``end`` is left alone, and recovery itself ends the log."""
        records = SagaLog.read(log_path)
        begin = next((r for r in records if r["event"] == "begin"), None)
        report = RecoveryReport(saga_id=begin.get("saga") if begin else None)
        if any(r["event"] == "end" for r in records):
            report.already_ended = True
            return report
        table = {**_COMPENSATORS, **(compensators or {})}
        started: list[dict[str, Any]] = []
        state: dict[str, str] = {}
        for r in records:
            name = r.get("step")
            if name is None:
                continue
            if r["event"] == "started":
                started.append(r)
            state[name] = r["event"]
        log = SagaLog(log_path)
        log._seq = max((int(r.get("seq", 0)) for r in records), default=0)
        for rec in reversed(started):
            name = rec["step"]
            if state.get(name) == "compensated":
                continue
            fn = table.get(rec.get("kind") or "")
            if fn is None:
                report.errors[name] = f"no compensator for kind {rec.get('kind')!r}"
                continue
            try:
                await _call(fn, rec.get("data") or {})
            except Exception as exc:  # noqa: BLE001 - reported; the rest still recover
                report.errors[name] = f"{type(exc).__name__}: {exc}"
                log.append({"event": "compensation_failed", "saga": report.saga_id,
                            "step": name, "error": report.errors[name], "recovery": True})
                continue
            report.compensated.append(name)
            log.append({"event": "compensated", "saga": report.saga_id, "step": name,
                        "recovery": True})
        if not report.errors:  # with errors the log stays open: a later recover retries them
            log.append({"event": "end", "saga": report.saga_id, "status": "recovered"})
        return report


__all__ = [
    "Compensator",
    "RecoveryReport",
    "Saga",
    "SagaError",
    "SagaLog",
    "SagaResult",
    "SagaStep",
    "SagaStepFailed",
    "owner_alive",
    "register_compensator",
]
