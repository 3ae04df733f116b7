"""The parallel plan executor: Kahn batches of a plan's steps, the steps of one batch at the same
time, each on a step runner with a small fresh context, all through one shared model.

Each step is a saga step. Before it starts, its declared files are journaled (their bytes); the
step's agent journals every other file it writes. A step that fails after its retries — or whose
worker dies — is compensated (its files byte-identical again), the steps that depend on it are
skipped, independent steps keep their results, and :class:`PlanReport` says what happened. Events
from every runner reach the caller as one ordered stream (each tagged with ``step``), interleaved
with :class:`~smallcode.core.events.PlanUpdate` events whenever a step changes status.

Runners: :class:`InProcessStepRunner` (asyncio tasks, the caller's model object) and the Ray step
workers in ``smallcode.actors.step_worker`` (same protocol).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from smallcode.core.config import Settings
from smallcode.core.events import Event, NoticeEvent, PlanUpdate, ToolCallEvent, ToolResultEvent
from smallcode.core.model.types import ChatModel

from .depgraph import DependencyGraph
from .saga import RecoveryReport, Saga, SagaError, SagaLog, SagaStep, SagaStepFailed, owner_alive
from .steprun import JOURNAL_KIND, StepJournal, StepOutcome, StepSpec, files_context, run_step
from .tracker import STATUS_MARK, PlanStep, PlanTracker

Emit = Callable[[Event], Awaitable[None] | None]
PLANS_DIR = Path(".smallcode") / "plans"


class PlanExecutionError(RuntimeError):
    """The plan cannot be executed as given (e.g. two steps of one batch share a file)."""


class StepWorkerLost(RuntimeError):
    """The runner executing a step died mid-step (e.g. its Ray actor was killed)."""


class StepFailed(RuntimeError):
    def __init__(self, outcome: StepOutcome, attempts: int):
        super().__init__(f"step {outcome.n} failed after {attempts} attempt(s): {outcome.reason}")
        self.outcome = outcome
        self.attempts = attempts


class StepRunner(Protocol):
    """Runs one step to completion, emitting its agent's events in order."""

    async def run(self, spec: StepSpec, emit: Emit) -> StepOutcome: ...

    async def aclose(self) -> None: ...


class InProcessStepRunner:
    """Steps as asyncio tasks in this process, sharing ``model`` (one client, many requests)."""

    def __init__(self, model: ChatModel | None = None, *, confirm: Any = None):
        self.model = model
        self.confirm = confirm

    async def run(self, spec: StepSpec, emit: Emit) -> StepOutcome:
        return await run_step(spec, emit, model=self.model, confirm=self.confirm)

    async def aclose(self) -> None:
        return None


@dataclass
class PlanReport:
    """What the plan run did, step by step, for the user and the caller."""

    ok: bool
    steps: list[PlanStep]
    batches: list[list[int]]
    outcomes: dict[int, StepOutcome] = field(default_factory=dict)
    compensated: dict[int, list[str]] = field(default_factory=dict)  # step -> files restored
    skipped: dict[int, int] = field(default_factory=dict)  # step -> the failed step it needed
    errors: dict[int, str] = field(default_factory=dict)
    missing: list[tuple[int, str]] = field(default_factory=list)
    parallel: bool = True
    wall_s: float = 0.0
    log_path: str = ""

    def summary(self) -> str:
        done = [s.n for s in self.steps if s.status == "done"]
        head = (f"plan {'completed' if self.ok else 'incomplete'}: {len(done)} of "
                f"{len(self.steps)} steps done in {len(self.batches)} batch(es) "
                f"({'parallel' if self.parallel else 'sequential'}, {self.wall_s:.1f}s)")
        lines = [head]
        for s in self.steps:
            mark = STATUS_MARK.get(s.status, "?")
            line = f"{mark} {s.n}. {s.text}"
            if s.status == "failed":
                line += f" — FAILED: {self.errors.get(s.n, s.note)}"
                files = self.compensated.get(s.n)
                line += (f"; its changes were undone ({', '.join(files)})" if files
                         else "; it had changed nothing")
            elif s.status == "skipped":
                line += f" — skipped: depends on step {self.skipped.get(s.n, '?')}, which failed"
            lines.append(line)
        return "\n".join(lines)

    @property
    def changed_files(self) -> list[str]:
        out: list[str] = []
        for n in sorted(self.outcomes):
            o = self.outcomes[n]
            if o.ok:
                out += [f for f in o.changed_files if f not in out]
        return out


class PlanExecutor:
    """Runs a captured plan batch by batch through a :class:`StepRunner`."""

    def __init__(self, tracker: PlanTracker, depgraph: DependencyGraph, root: str | Path,
                 runner: StepRunner, *, settings: Settings | None = None,
                 parallel: bool | None = None, retries: int = 1, base_url: str | None = None,
                 api_key: str | None = None, model_name: str | None = None,
                 snapshots: Any | None = None, max_parallel: int | None = None,
                 run_id: str | None = None, memory_notes: str = ""):
        """``memory_notes``: the project memory relevant to the task; every step sees it under
        its plan, as the single agent sees it under the task."""
        if len(tracker.steps) != len(depgraph.nodes):
            raise PlanExecutionError("the tracker and the dependency graph hold different plans")
        self.tracker = tracker
        self.graph = depgraph
        self.root = Path(root).resolve()
        self.runner = runner
        self.settings = settings or Settings()
        self.parallel = self.settings.agent.parallel if parallel is None else parallel
        self.retries = max(0, retries)
        self.base_url, self.api_key, self.model_name = base_url, api_key, model_name
        self.snapshots = snapshots  # the caller's SnapshotStore: finished steps are recorded
        self.max_parallel = max_parallel
        self.memory_notes = memory_notes.strip()
        self.run_id = run_id or time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + \
            "-" + uuid.uuid4().hex[:6]
        self.run_dir = self.root / PLANS_DIR / self.run_id
        self.batches = depgraph.batches()
        for i, batch in enumerate(self.batches):
            for n in batch:
                tracker.step(n).batch = i
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue()
        self._commands: dict[int, list[tuple[str, bool]]] = {}  # step -> (command, ok)

    # -- events --------------------------------------------------------------------------------
    def _put(self, ev: Event) -> None:
        self._queue.put_nowait(ev)

    def _emit_for(self, n: int) -> Emit:
        """The emit a step's runner gets: tags events with the step, and notes the commands the
        step ran (its evidence)."""
        pending: dict[str, str] = {}
        ran = self._commands.setdefault(n, [])

        def emit(ev: Event) -> None:
            if isinstance(ev, ToolCallEvent) and isinstance(ev.arguments.get("command"), str):
                pending[ev.call_id] = ev.arguments["command"]
            elif isinstance(ev, ToolResultEvent) and ev.call_id in pending:
                ran.append((pending.pop(ev.call_id), ev.ok))
            self._queue.put_nowait(ev.model_copy(update={"step": n}))
        return emit

    def _plan_update(self) -> None:
        self._put(PlanUpdate(anchor=self.tracker.anchor(), steps=self.tracker.event_steps()))

    async def _pump(self, emit: Emit) -> None:
        while (ev := await self._queue.get()) is not None:
            res = emit(ev)
            if inspect.isawaitable(res):
                await res

    def anchor_for(self, n: int) -> str:
        """The plan as step ``n``'s worker sees it: done steps ✓, its own step →."""
        total = len(self.tracker.steps)
        lines = [f"ACTIVE PLAN (step {n} of {total}):"]
        for s in self.tracker.steps:
            mark = "→" if s.n == n else ("✓" if s.status == "done" else " ")
            lines.append(f"{mark} {s.n}. {s.text}")
        if self.memory_notes:
            lines += ["", "Project memory:", self.memory_notes]
        return "\n".join(lines)

    # -- running -------------------------------------------------------------------------------
    def _check_batch(self, batch: Sequence[int]) -> None:
        owner: dict[str, int] = {}
        for n in batch:
            node = self.graph.node(n)
            if not node.scoped and len(batch) > 1:
                raise PlanExecutionError(f"step {n} names no files but shares a batch")
            for f in node.files:
                if f in owner:
                    raise PlanExecutionError(f"steps {owner[f]} and {n} both write {f} in one "
                                             f"batch")
                owner[f] = n

    def _spec(self, n: int, attempt: int, previous_error: str) -> StepSpec:
        node = self.graph.node(n)
        settings = self.settings.model_dump(mode="json")
        settings["model"].pop("api_key", None)
        for key in ("anthropic_api_key", "openai_api_key", "deepseek_api_key"):
            settings["escalation"].pop(key, None)  # model_dump(json) masks secrets anyway
        return StepSpec(n=n, text=node.text, root=str(self.root),
                        journal_dir=str(self.run_dir / f"step-{n}"), anchor=self.anchor_for(n),
                        files=list(node.files),
                        allowed_edit_paths=list(node.files) if node.scoped else None,
                        context=files_context(self.root, node.files),
                        base_url=self.base_url, api_key=self.api_key, model_name=self.model_name,
                        settings=settings,
                        attempt=attempt, previous_error=previous_error)

    async def _step(self, n: int, saga: Saga, report: PlanReport) -> None:
        step = self.tracker.step(n)
        node = self.graph.node(n)
        journal = StepJournal(self.root, self.run_dir / f"step-{n}")
        try:
            for rel in node.files:  # before anything runs: a worker killed at once is undone too
                journal.capture(rel)
        except (OSError, ValueError) as exc:
            report.errors[n] = f"its files could not be recorded before it ran: {exc}"
            report.compensated[n] = []
            step.status, step.note = "failed", report.errors[n]
            self._plan_update()
            return
        step.status = "active"
        self._plan_update()
        undone: list[str] = []

        def compensate() -> None:
            undone.extend(journal.restore())

        async def action() -> StepOutcome:
            error = ""
            outcome: StepOutcome | None = None
            for attempt in range(1, self.retries + 2):
                self._commands[n] = []
                outcome = await self.runner.run(self._spec(n, attempt, error), self._emit_for(n))
                if outcome.ok:
                    why = self.tracker.evidence(step, outcome.changed_files, self._commands[n])
                    if why is None:
                        return outcome
                    outcome.ok, outcome.reason = False, f"finished, but {why}"
                error = outcome.reason
                if attempt <= self.retries:  # the last attempt is undone by the compensation
                    restored = journal.restore()
                    note = f"; undid {', '.join(restored)}" if restored else ""
                    self._put(NoticeEvent(message=f"step {n} attempt {attempt} failed: "
                                                  f"{error}{note}; retrying"))
            assert outcome is not None
            raise StepFailed(outcome, self.retries + 1)

        try:
            outcome = await saga.step(SagaStep(
                name=f"step-{n}", action=action, compensation=compensate, kind=JOURNAL_KIND,
                data={"root": str(self.root), "journal": str(journal.dir)}))
        except SagaStepFailed as exc:
            cause = exc.cause
            if isinstance(cause, StepFailed):
                report.outcomes[n] = cause.outcome
                report.errors[n] = cause.outcome.reason
            elif isinstance(cause, StepWorkerLost):
                report.errors[n] = str(cause)
            else:
                report.errors[n] = f"{type(cause).__name__}: {cause}"
            if not exc.compensated:
                report.errors[n] += f" (UNDO FAILED: {exc.compensation_error})"
            # what the step changed and is now undone (its agent may have rolled back first)
            changed = cause.outcome.changed_files if isinstance(cause, StepFailed) else []
            report.compensated[n] = sorted(set(undone) | set(changed)) if exc.compensated else []
            step.status, step.note = "failed", report.errors[n]
            self._put(NoticeEvent(message=f"step {n} failed and was undone: {report.errors[n]}"))
        else:
            report.outcomes[n] = outcome
            step.status, step.note = "done", ""
            self.tracker.changed_files.update(outcome.changed_files)
            self._record_for_undo(n, journal)
        self._plan_update()

    def _record_for_undo(self, n: int, journal: StepJournal) -> None:
        """Give a finished step's pre-step content to the caller's snapshot store (first record
        per file wins, so a file two steps changed keeps its pre-plan content)."""
        if self.snapshots is None:
            return
        try:
            for rel, pre in journal.pre_contents():
                self.snapshots.record(rel, pre, source=f"plan step {n}")
        except Exception as exc:  # noqa: BLE001 - undo coverage must not fail a finished step
            self._put(NoticeEvent(message=f"step {n}: could not record its changes for undo: "
                                          f"{exc}"))

    async def run(self, emit: Emit) -> PlanReport:
        """Run every batch; returns the report (also emitted as a final PlanUpdate + notice)."""
        started = time.monotonic()
        report = PlanReport(ok=False, steps=self.tracker.steps, batches=self.batches,
                            missing=self.graph.missing_paths(self.root), parallel=self.parallel)
        pump = asyncio.create_task(self._pump(emit))
        saga = Saga(self.run_dir / "saga.jsonl", label=f"plan of {len(self.tracker.steps)} steps")
        report.log_path = str(saga.log_path)
        for s in self.tracker.steps:
            s.status = "pending"
        self._put(NoticeEvent(message=f"plan batches: {self.graph.describe()}"))
        self._plan_update()
        limit = asyncio.Semaphore(self.max_parallel) if self.max_parallel else None

        async def guarded(n: int) -> None:
            if limit is None:
                await self._step(n, saga, report)
                return
            async with limit:
                await self._step(n, saga, report)

        try:
            for batch in self.batches:
                self._check_batch(batch)
                runnable = []
                for n in batch:
                    bad = sorted(d for d in self.graph.deps[n]
                                 if self.tracker.step(d).status in ("failed", "skipped"))
                    if bad:
                        root_cause = report.skipped.get(bad[0], bad[0])
                        report.skipped[n] = root_cause
                        self.tracker.step(n).status = "skipped"
                        self.tracker.step(n).note = f"depends on step {root_cause}, which failed"
                    else:
                        runnable.append(n)
                if len(runnable) < len(batch):
                    self._plan_update()
                if self.parallel:
                    await asyncio.gather(*(guarded(n) for n in runnable))
                else:
                    for n in runnable:
                        await guarded(n)
            report.ok = all(s.status == "done" for s in self.tracker.steps)
            saga.end("ok" if report.ok else "partial")
            for n in range(1, len(self.tracker.steps) + 1):  # ended: nothing left to undo
                StepJournal(self.root, self.run_dir / f"step-{n}").discard()
        finally:
            saga.end("cancelled")  # a no-op when it ended above; in-flight steps were undone
            with contextlib.suppress(OSError):
                prune_plan_runs(self.root)
            report.wall_s = time.monotonic() - started
            self._put(NoticeEvent(message=report.summary()))
            self._queue.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError):
                await pump
        return report


KEEP_RUNS = 20


def prune_plan_runs(root: str | Path, keep: int = KEEP_RUNS) -> list[str]:
    """Remove the folders of ended plan runs beyond the newest ``keep`` (run ids sort by time).
    Runs without an ``end`` (live, or crashed and not recovered yet) are never removed."""
    import shutil

    base = Path(root) / PLANS_DIR
    if not base.is_dir():
        return []
    ended = []
    for run in sorted(p for p in base.iterdir() if p.is_dir()):
        try:
            records = SagaLog.read(run / "saga.jsonl")
        except SagaError:
            continue
        if any(r["event"] == "end" for r in records):
            ended.append(run)
    removed = []
    for run in ended[:max(0, len(ended) - keep)]:
        shutil.rmtree(run, ignore_errors=True)
        removed.append(run.name)
    return removed


async def recover_plans(root: str | Path) -> list[RecoveryReport]:
    """Undo what crashed plan runs left in ``root``: every plan saga log without an ``end``
    whose owning process is gone is recovered (each started step's files restored from its
    journal). :func:`smallcode.core.session.open_session` calls it once per session; runs of
    a live process are left alone."""
    reports = []
    base = Path(root) / PLANS_DIR
    for log in sorted(base.glob("*/saga.jsonl")) if base.is_dir() else []:
        try:
            records = SagaLog.read(log)
        except SagaError:
            continue
        if any(r["event"] == "end" for r in records) or owner_alive(records, log):
            continue
        report = await Saga.recover(log)
        reports.append(report)
        if not report.errors:
            for journal in log.parent.glob("step-*"):
                StepJournal(root, journal).discard()
    return reports


__all__ = [
    "PLANS_DIR",
    "InProcessStepRunner",
    "PlanExecutionError",
    "PlanExecutor",
    "PlanReport",
    "StepFailed",
    "StepRunner",
    "StepWorkerLost",
    "recover_plans",
]
