"""Wiring plans into the agent loop: ask for a plan, capture it, build the dependency graph, flag
missing paths, then either run the independent steps on the parallel executor or install the
anchor + tracker for the ordinary sequential loop.

The agent loop calls :func:`run_plan` before its own turns when :func:`detect_plan_needed` says
so, and :func:`observe_turn` after each of its turns while a tracker is installed.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from smallcode.core.events import (
    AssistantText,
    DoneEvent,
    Event,
    NoticeEvent,
    PlanUpdate,
    TextDelta,
    ToolCallEvent,
    ToolResultEvent,
    UsageEvent,
)

from .depgraph import DependencyGraph
from .derive import derive_plan
from .executor import InProcessStepRunner, PlanExecutor, PlanReport, StepRunner
from .tracker import PLAN_REQUEST, Observation, PlanTracker, detect_plan_needed

Emit = Callable[[Event], Awaitable[None] | None]

PLANNER_SYSTEM = ("You are smallcode, a careful coding agent working in a project folder. Paths "
                  "are relative to the project root. Plan before you act.")


async def _emit(emit: Emit, ev: Event) -> None:
    res = emit(ev)
    if inspect.isawaitable(res):
        await res


def plan_update(tracker: PlanTracker) -> PlanUpdate:
    return PlanUpdate(anchor=tracker.anchor(), steps=tracker.event_steps())


def missing_note(missing: list[tuple[int, str]]) -> str:
    if not missing:
        return ""
    items = ", ".join(f"`{p}` (step {n})" for n, p in missing)
    return (f"These paths named in the plan do not exist: {items}. Check the real names "
            "(find_files) before editing, or create them if that is the step.")


def install_tracker(agent: Any, tracker: PlanTracker, note: str = "") -> None:
    """Put the tracker in ``agent.plan_tracker`` and its anchor in ``agent.volatile`` (replacing
    an earlier plan's). The note (missing paths) rides along until the first step is done."""
    old = agent.plan_anchor
    if old is not None and old in agent.volatile:
        agent.volatile.remove(old)

    def anchor() -> str | None:
        text = tracker.volatile_anchor()
        if text and note and not any(s.status == "done" for s in tracker.steps):
            text += "\n" + note
        if text and tracker.last_refusal:
            text += "\n" + tracker.last_refusal
        return text

    agent.volatile.append(anchor)
    agent.plan_anchor = anchor
    agent.plan_tracker = tracker


def uninstall_tracker(agent: Any) -> None:
    old = agent.plan_anchor
    if old is not None and old in agent.volatile:
        agent.volatile.remove(old)
    agent.plan_anchor = None
    agent.plan_tracker = None


def observe_turn(agent: Any, reply_text: str, changed_files: Iterable[str] = (),
                 command_results: Iterable[tuple[str, bool] | dict[str, Any]] = ()
                 ) -> tuple[PlanUpdate | None, str]:
    """After one agent turn: advance the installed tracker. Returns (the PlanUpdate to emit when
    a step advanced, else None; a note for the model when a "step N done" claim was refused,
    else ""). A no-op without a tracker."""
    tracker: PlanTracker | None = agent.plan_tracker
    if tracker is None or not tracker.steps:
        return None, ""
    obs: Observation = tracker.observe(reply_text, changed_files, command_results)
    return (plan_update(tracker) if obs.changed else None), obs.message_for_model()


class PlanObserver:
    """An emit wrapper that advances the installed tracker from the agent's own event stream:
    the model's text of the current reply (deltas, final text, a ``finish`` summary), the files
    each tool result changed, and the commands tools ran. Emits a PlanUpdate right after the
    event that advanced the plan, before the next model call (so the next prompt's anchor is
    current). ``agent.run(task, PlanObserver(agent, emit))``."""

    def __init__(self, agent: Any, emit: Emit):
        self.agent = agent
        self.inner = emit
        self._text: list[str] = []
        self._new_reply = True
        self._commands: dict[str, str] = {}

    async def __call__(self, ev: Event) -> None:
        await _emit(self.inner, ev)
        tracker: PlanTracker | None = self.agent.plan_tracker
        if tracker is None or not tracker.steps:
            return
        if isinstance(ev, TextDelta):
            if self._new_reply:
                self._text, self._new_reply = [], False
            self._text.append(ev.text)
            return
        if isinstance(ev, UsageEvent):
            self._new_reply = True  # the reply is complete; its tool events follow
            return
        changed: list[str] = []
        commands: list[tuple[str, bool]] = []
        if isinstance(ev, ToolCallEvent):
            self._new_reply = True
            command = ev.arguments.get("command")
            if isinstance(command, str):
                self._commands[ev.call_id] = command
            summary = ev.arguments.get("summary")
            if ev.name == "finish" and isinstance(summary, str):
                self._text.append("\n" + summary)
            return
        if isinstance(ev, ToolResultEvent):
            changed = list(ev.changed_files)
            if ev.call_id in self._commands:
                commands.append((self._commands.pop(ev.call_id), ev.ok))
        elif isinstance(ev, AssistantText):
            self._text.append("\n" + ev.text)
        else:
            return
        obs = tracker.observe("".join(self._text), changed, commands)
        if obs.changed:
            await _emit(self.inner, plan_update(tracker))


async def request_plan(agent: Any, task: str, emit: Emit) -> PlanTracker | None:
    """One model call with :data:`PLAN_REQUEST`; the plan captured (None when there is none)."""
    messages = [{"role": "system", "content": PLANNER_SYSTEM},
                {"role": "user", "content": f"{task}\n\n{PLAN_REQUEST}"}]
    reply = await agent.model.chat(messages, max_tokens=min(600, agent.settings.model.max_tokens))
    agent.usage.add(reply.usage)
    await _emit(emit, UsageEvent(prompt_tokens=reply.usage.prompt_tokens,
                                 completion_tokens=reply.usage.completion_tokens,
                                 cached_tokens=reply.usage.cached_tokens,
                                 context_window=agent.model.context_window))
    text = reply.content or ""
    if text.strip():
        await _emit(emit, AssistantText(text=text.strip()))
    tracker = PlanTracker(agent.workspace.root)
    if not await tracker.capture(text, model=agent.model):
        return None
    return tracker


def _worker_settings(agent: Any) -> Any:
    s = agent.settings.model_copy(deep=True)
    s.agent.permission_mode = "yolo" if agent.settings.agent.permission_mode == "yolo" \
        else "auto-edit"  # the user approved the plan's edits once; shell still needs yolo
    return s


async def run_plan(agent: Any, task: str, emit: Emit, *, runner: StepRunner | None = None,
                   force: bool = False) -> DoneEvent | None:
    """Plan the task; run it on the parallel executor when it has ≥ 2 independent steps and
    ``settings.agent.parallel`` (returns the plan's DoneEvent), else install the anchor and the
    tracker for the sequential loop and return None (the agent then runs the task itself).

    ``runner``: where steps run (default: in-process asyncio tasks sharing ``agent.model``; pass
    ``smallcode.actors.step_worker.RayStepRunner`` under serve).
    """
    if not agent.settings.agent.plan:
        return None
    derived = derive_plan(task, agent.workspace) if agent.settings.agent.derive_plans else None
    if derived is None and not (force or detect_plan_needed(task)):
        return None
    if derived is None and not force and agent.settings.solve.enabled:
        from ..solve import find_module_move, find_rename, find_suffix_change

        if find_rename(task, agent.workspace) is not None \
                or find_module_move(task, agent.workspace) is not None \
                or find_suffix_change(task, agent.workspace) is not None:
            # one rename, however many files and words it takes: a deterministic operation on
            # the solve path, not steps a model plans and runs in the tool loop ("rename a to b
            # across all the modules, tests included" had been planned, then stopped unfinished);
            # so is the move of one module, and an extension change of a folder's files
            return None
    tracker: PlanTracker | None
    if derived is not None:
        tracker = PlanTracker(agent.workspace.root, derived.steps)
        await _emit(emit, NoticeEvent(message=f"plan read from the message ({derived.reason}); "
                                              f"{len(derived.steps)} steps"))
    else:
        tracker = await request_plan(agent, task, emit)
    if tracker is None:
        await _emit(emit, NoticeEvent(message="no plan found in the model's reply; working "
                                              "without one"))
        return None
    graph = DependencyGraph([s.text for s in tracker.steps], graph=agent.ctx.services.graph,
                            declared=derived.files if derived is not None else None)
    missing = graph.missing_paths(agent.workspace.root)
    note = missing_note(missing)
    if note:
        await _emit(emit, NoticeEvent(message=note))
    await _emit(emit, plan_update(tracker))
    parallel = agent.settings.agent.parallel and graph.independent_steps() >= 2 \
        and len(tracker.steps) >= 2
    if parallel and agent.settings.agent.permission_mode == "ask":
        files = sorted({f for n in graph.nodes for f in n.files})
        ok = False
        if agent.confirm is not None:
            res = agent.confirm("edit", f"run the plan's {len(tracker.steps)} steps "
                                        f"({graph.describe()}), editing {', '.join(files)}")
            ok = bool(await res) if inspect.isawaitable(res) else bool(res)
        if not ok:
            parallel = False
            await _emit(emit, NoticeEvent(message="parallel plan not approved; running the "
                                                  "steps one by one"))
    if not parallel:
        install_tracker(agent, tracker, note)
        return None
    snaps = agent.ctx.services.snapshots
    model = agent.model
    notes = ""
    memory = agent.ctx.services.memory
    if memory is not None:
        try:
            loaded = memory.load_for_task(task, max_tokens=400)
            notes = str(await loaded if inspect.isawaitable(loaded) else loaded or "")
        except Exception as exc:  # noqa: BLE001 - memory is help, never a blocker
            await _emit(emit, NoticeEvent(message=f"memory unavailable: {exc}"))
    executor = PlanExecutor(
        tracker, graph, agent.workspace.root,
        runner or InProcessStepRunner(model), settings=_worker_settings(agent),
        base_url=getattr(model, "base_url", None), api_key=getattr(model, "_api_key", None),
        model_name=getattr(model, "_model", None),
        snapshots=snaps, memory_notes=notes)
    report = await executor.run(emit)
    agent.plan_tracker = tracker  # /plan shows the final state; nothing left to anchor
    done = done_from_report(report)
    if report.ok:
        done = await _check_tests(agent, done, emit)
    agent.history.append({"role": "user", "content": task})
    agent.history.append({"role": "assistant", "content": done.summary})
    return done


async def _check_tests(agent: Any, done: DoneEvent, emit: Emit) -> DoneEvent:
    """Every step held its evidence; the plan is done only when the project's tests pass too."""
    if not agent.settings.agent.validate_edits:
        return done
    runner, run_tests = agent._test_hooks()
    if runner is None:
        return done
    run = await run_tests(runner)
    if run is None:
        return done
    from smallcode.core import prefetch

    verdict = "the tests pass" if run.ok else "the tests fail"
    await _emit(emit, NoticeEvent(message=f"after the plan, {verdict} (`{run.command}`)"))
    if run.ok:
        return done.model_copy(update={"summary": done.summary + f"\nTests pass: `{run.command}`",
                                       "verified": "structural" if done.success else "none"})
    return done.model_copy(update={
        "success": False, "reason": "plan completed but the tests fail",
        "summary": done.summary + f"\nTests fail (`{run.command}`):\n"
                                  + prefetch.test_run_text(run, tail=800)})


def done_from_report(report: PlanReport) -> DoneEvent:
    outcomes = report.outcomes.values()
    return DoneEvent(success=report.ok,
                     reason="plan completed" if report.ok else "plan incomplete",
                     summary=report.summary(), turns=sum(o.turns for o in outcomes),
                     tool_calls=sum(o.tool_calls for o in outcomes),
                     prompt_tokens=sum(o.prompt_tokens for o in outcomes),
                     completion_tokens=sum(o.completion_tokens for o in outcomes))


__all__ = ["PLANNER_SYSTEM", "PlanObserver", "done_from_report", "install_tracker",
           "missing_note", "observe_turn", "plan_update", "request_plan", "run_plan",
           "uninstall_tracker"]
