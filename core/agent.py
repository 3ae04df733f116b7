"""The agent loop: one task in, a typed event stream out.

user message → pre-work (vagueness, @file, images, git, memory) → route (two-stage when the window
is small) → first prompt with likely-relevant code and the failing test output → model →
extraction / repair → permission → tool → validation + covering tests (improvement loop) → loop
guards → events, until `finish` (accepted only when the evidence holds), a final answer, or a
limit. Everything it talks to is a small protocol (ChatModel, ToolRegistry, graph, memory,
snapshots), so the same loop runs in-process in a test and against actor handles under `serve`.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from . import prefetch
from .awaitables import maybe_await
from .config import Settings
from .context.budget import TokenCounter, fit, prompt_budget
from .context.layout import PromptLayout
from .context.prework import prepare_message
from .edit.loop import ImprovementLoop
from .edit.patch import NO_OP_EDIT
from .events import (
    AssistantText,
    DoneEvent,
    ErrorEvent,
    Event,
    NoticeEvent,
    RouteEvent,
    TextDelta,
    ToolCallEvent,
    ToolResultEvent,
    UsageEvent,
)
from .guards import LoopGuard
from .model.types import ChatModel, ChatResponse, Message, ModelError, Usage
from .router import Router, choose_category
from .toolcalls import ActionParseError, interpret_reply, parse_action, resolve_call
from .toolcalls.action import action_schema
from .toolcalls.resolution import CallProblem, ResolvedCall
from .tools.files import undo_regression
from .tools.registry import Tool, ToolContext, ToolRegistry, ToolResult
from .tools.services import Services
from .tools.services import TaskState as ToolTaskState
from .tools.workspace import Workspace

if TYPE_CHECKING:
    from .plan.tracker import PlanTracker

Emit = Callable[[Event], Awaitable[None] | None]
Confirm = Callable[[str, str], Awaitable[bool] | bool]  # (kind "edit"|"shell", detail) -> ok?

SYSTEM_PROMPT = """\
You are smallcode, a careful coding agent working in a project folder. You act by calling tools.
Rules:
- Make the smallest change that does the task. Do not rewrite whole files when a patch will do.
- To change a file use `patch`: old_str must be copied exactly from the file, without line numbers.
- Paths are relative to the project root.
- After every edit the file is checked and the tests are run for you; read that result.
- When the task is done, call `finish` with a one-line summary. If the user asked a question,
  put the answer in the `finish` summary (or answer in plain text when no tools are offered).
"""

RESPOND_PROMPT = """\
You are smallcode, a coding assistant. Answer the user briefly and precisely in plain text.
"""

MAX_CALLS_PER_REPLY = 3
_REFUSAL = re.compile(r"may only edit|did not allow|^refused|outside the workspace")


class HardFailure(Exception):
    """The task cannot go on (loop guard stop, improvement loop stop)."""


@dataclass
class TaskState:
    """Per-task bookkeeping the loop needs; persisted in the session. (What the tools know of
    the task is ``ctx.task_state``, a :class:`smallcode.core.tools.services.TaskState`.)"""

    task: str = ""
    category: str = "read"
    tool_names: list[str] = field(default_factory=list)
    mode: str = "native"
    turns: int = 0
    tool_calls: int = 0
    edits: int = 0
    changed_files: list[str] = field(default_factory=list)
    finish_summary: str | None = None
    tests_failing_at_start: bool | None = None
    verify_attempts: int = 0
    nudges: int = 0
    failed_calls: dict[str, str] = field(default_factory=dict)  # call key -> its error
    escape_repetition: bool = False  # sample hotter on the next call (the model is repeating)
    asked_files: list[str] = field(default_factory=list)  # files the task asks to create
    finish_verified: str = "none"  # what verified the accepted finish: tests | answer | none
    remembered: bool = False  # the message was a fact to remember, and it was stored
    finish_failure: str = ""  # finish accepted after refusals: why the task still failed
    seen_calls: set[str] = field(default_factory=set)  # successful read-only calls since a change
    blocked_tool: str | None = None  # left out of the next constrained action (just repeated)
    checkpoint: str | None = None
    usage: Usage = field(default_factory=Usage)


class Agent:
    """Runs tasks in one workspace with one model. Keeps the conversation between tasks.

    ``services``: the session's collaborators (graph, memory, snapshots, escalator...), used as
    the tools' ``ctx.services`` as is; the agent sets its ``model``, ``validate_edits`` and
    ``patch_ladder`` (the last two from the settings) on it."""

    def __init__(self, model: ChatModel, registry: ToolRegistry, workspace: Workspace,
                 settings: Settings | None = None, *, confirm: Confirm | None = None,
                 services: Services | None = None, session_id: str | None = None):
        self.model = model
        self.registry = registry
        self.workspace = workspace
        self.settings = settings or Settings()
        self.confirm = confirm
        self.session_id = session_id or uuid.uuid4().hex[:12]
        # the settings decide validate_edits and patch_ladder, whatever ``services`` says
        self.ctx = ToolContext(workspace, services,
                               validate_edits=self.settings.agent.validate_edits,
                               patch_ladder=self.settings.agent.patch_ladder,
                               model=model)  # for the semantic-merge last resort
        self.history: list[Message] = []
        self.usage = Usage()
        self.state = TaskState()
        self.router = Router(registry, context_window=model.context_window,
                             two_stage=self.settings.agent.two_stage_routing)
        self.counter = TokenCounter()
        self._route_state: Any = None
        self.decision: Any = None  # the current task's RouteDecision
        self._cancel = asyncio.Event()
        self._emit_fn: Emit = lambda ev: None
        self._candidate_temperature: float | None = None
        self.layout: PromptLayout | None = None
        self.guard = LoopGuard()
        escalator = self.ctx.services.escalator
        self.improve = ImprovementLoop(
            workspace_root=workspace.root,
            escalation_available=bool(escalator is not None and escalator.can_escalate()))
        self.ctx.task_state.improvement_loop = self.improve  # edit_and_verify shares the policy
        self.volatile: list[Callable[[], str | None]] = []  # e.g. the plan anchor
        # the session's latest plan and its entry in ``volatile`` (core.plan.integration)
        self.plan_tracker: PlanTracker | None = None
        self.plan_anchor: Callable[[], str | None] | None = None

    # -- public API --------------------------------------------------------------------------
    def cancel(self) -> None:
        self._cancel.set()

    async def events(self, task: str) -> AsyncIterator[Event]:
        """The task's events as an async iterator (the same stream `run` emits)."""
        queue: asyncio.Queue[Event | None] = asyncio.Queue()
        runner = asyncio.create_task(self.run(task, queue.put))
        runner.add_done_callback(lambda _: queue.put_nowait(None))
        while (ev := await queue.get()) is not None:
            yield ev
        await runner

    async def run(self, task: str, emit: Emit) -> DoneEvent:
        """Run one task to completion; every step is emitted; returns the final DoneEvent.

        With ``agent.best_of_n`` > 1 and a test runner in the project, up to N candidates run
        from the same checkpoint and conversation (later ones sample hotter); the first whose
        tests pass is kept."""
        self._emit_fn = emit
        snaps = self.ctx.services.snapshots
        checkpoint = snaps.begin(task[:80]) if snaps is not None else None
        n = self.settings.agent.best_of_n
        runner, run_tests = self._test_hooks()
        try:
            if n <= 1 or snaps is None or runner is None:
                done = await self._run_candidate(task, checkpoint)
            else:
                done = await self._best_of_n(task, n, snaps, checkpoint, runner, run_tests)
        finally:
            if snaps is not None:
                snaps.end()
        await self._emit(done)
        return done

    async def _best_of_n(self, task: str, n: int, snaps: Any, checkpoint: str | None,
                         runner: Any, run_tests: Any) -> DoneEvent:
        from .bestofn import best_of_n

        history0 = list(self.history)
        outcomes: list[DoneEvent] = []

        async def attempt(i: int) -> bool:
            await self._emit(NoticeEvent(message=f"best-of-{n}: candidate {i + 1}"))
            self.history = list(history0)
            self._candidate_temperature = 0.7 if i else None
            done = await self._run_candidate(task, checkpoint, rollback=False)
            outcomes.append(done)
            run = await run_tests(runner)
            return bool(run is not None and run.ok and done.success)

        result = await best_of_n(n, attempt, snaps, checkpoint, on_failure="keep_last")
        self._candidate_temperature = None
        if result.passed and result.winner is not None:
            done = outcomes[result.winner]
            done.reason += f" (candidate {result.winner + 1} of {n} passed the tests)"
            return done
        done = outcomes[-1]
        done.success = False
        done.reason = f"no candidate of {n} passed the tests: " + "; ".join(result.failures)
        await self._rollback()
        return done

    async def _run_candidate(self, task: str, checkpoint: str | None, *,
                             rollback: bool = True) -> DoneEvent:
        self._cancel.clear()
        self.state = TaskState(task=task, checkpoint=checkpoint)
        from .edit.literals import asked_files, tests_protected

        self.state.asked_files = asked_files(task, self.workspace.root)
        # what the tools know of this task; start_failures is set when its tests run at start
        self.ctx.task_state = ToolTaskState(
            task=task,  # tools that need the user's words (e.g. git push guard)
            protect_tests=self.settings.agent.validate_edits and tests_protected(task),
            improvement_loop=self.improve)  # edit_and_verify shares the policy
        self.guard.reset()
        self.improve.reset()
        try:
            done = await self._run(task)
        except ModelError as exc:
            await self._on_error(exc)
            done = self._done(False, f"model error: {exc}")
        except HardFailure as exc:
            await self._on_error(exc)
            done = self._done(False, str(exc))
            if rollback:
                await self._rollback()
        except asyncio.CancelledError:
            done = self._done(False, "cancelled")
        return done

    # -- internals ------------------------------------------------------------------------------
    async def _on_error(self, exc: Exception) -> None:
        await self._emit(ErrorEvent(message=str(exc), recoverable=False))
        ext = self.ctx.services.extensions
        if ext is not None:
            await ext.hooks.on_error(exc, ext.context)

    async def _emit(self, ev: Event) -> None:
        res = self._emit_fn(ev)
        if inspect.isawaitable(res):
            await res

    def _done(self, success: bool, reason: str, summary: str = "") -> DoneEvent:
        s = self.state
        return DoneEvent(success=success, reason=reason,
                         summary=summary or (s.finish_summary or ""), turns=s.turns,
                         tool_calls=s.tool_calls, prompt_tokens=s.usage.prompt_tokens,
                         completion_tokens=s.usage.completion_tokens)

    async def _rollback(self) -> None:
        snaps = self.ctx.services.snapshots
        if snaps is None or not self.settings.agent.auto_rollback or not self.state.checkpoint:
            return
        report = snaps.restore(self.state.checkpoint)
        await self._emit(NoticeEvent(message=f"rolled back this task's changes: {report.summary()}"))

    async def _route(self, task: str, mode_hint: str) -> tuple[str, list[str], str]:
        all_names = self.registry.names()
        if not self.settings.agent.router:
            return "write", all_names, "router off: every tool"
        decision = self.router.route(task, self._route_state)
        if decision.two_stage:
            decision = await choose_category(self.model, self.router, decision, task,
                                             constrained=mode_hint == "constrained")
            await self._emit(NoticeEvent(message=f"two-stage routing chose {decision.category}"))
        self._route_state = decision.state
        self.decision = decision
        return decision.category, list(decision.tool_names), decision.reason

    def _mode(self) -> str:
        mode = self.settings.model.tool_mode
        if mode != "auto":
            return mode
        profile = getattr(self.model, "profile", None)
        if profile is None:
            return "native"
        if profile.tool_mode == "constrained" and not profile.json_schema:
            return "text"
        return profile.tool_mode

    def _offered(self) -> list[Tool]:
        return [t for n in self.state.tool_names if (t := self.registry.get(n)) is not None]

    def _system_prompt(self, mode: str) -> str:
        text = SYSTEM_PROMPT if mode != "none" else RESPOND_PROMPT
        instructions = self.ctx.services.instructions
        if instructions:
            text += "\nProject instructions:\n" + instructions.strip() + "\n"
        ext = self.ctx.services.extensions
        if ext is not None:  # skills: chosen once per task, so the prefix stays stable
            skills = ext.skills_for(self.state.task, self.state.category)
            if skills:
                text += "\n" + skills.strip() + "\n"
        if mode in ("constrained", "text"):
            lines = []
            for t in self._offered():
                schema = t.args_model.model_json_schema()
                required = set(schema.get("required", []))
                args = ", ".join(f"{k}{'' if k in required else '?'}"
                                 for k in schema.get("properties", {}))
                lines.append(f"- {t.name}({args}): {t.description}")
            if mode == "constrained":
                text += ('\nAnswer with ONE JSON object per turn: {"tool": "<name>", "args": '
                         '{...}}.\nTools:\n' + "\n".join(lines) + "\n")
            else:
                text += ("\nCall a tool by writing a JSON object in a ```json block: "
                         '{"name": "<tool>", "arguments": {...}}. One call per reply.\nTools:\n'
                         + "\n".join(lines) + "\n")
        return text

    async def _first_user_message(self, task: str) -> str:
        s = self.state
        profile = getattr(self.model, "profile", None)
        prepared = prepare_message(task, self.workspace, vision=bool(profile and profile.vision),
                                   has_context=len(self.history) > 1,
                                   assistant_asked=bool(self.history) and str(
                                       self.history[-1].get("content", "")).rstrip().endswith("?"))
        for notice in prepared.user_notices:
            await self._emit(NoticeEvent(message=notice))
        content = prepared.user_content()
        parts = [content if isinstance(content, str) else prepared.text]
        memory = self.ctx.services.memory
        if memory is not None:
            from .memory.store import remember_from_message

            try:
                fact = await maybe_await(remember_from_message(memory, task))
                if fact is not None:
                    s.remembered = True
                    verb = "remembered" if fact.created else "already remembered"
                    await self._emit(NoticeEvent(message=f"{verb} ({fact.type}): {fact.content}"))
            except Exception as exc:  # noqa: BLE001 - memory is help, never a blocker
                await self._emit(NoticeEvent(message=f"could not remember that: {exc}"))
            try:
                loaded = await maybe_await(memory.load_for_task(task, max_tokens=400))
                if loaded:
                    parts.append("Project memory:\n" + loaded)
            except Exception as exc:  # noqa: BLE001 - memory is help, never a blocker
                await self._emit(NoticeEvent(message=f"memory unavailable: {exc}"))
        if self.settings.agent.prefetch_context and s.category != "respond" and not prepared.vague:
            runner, run_tests = self._test_hooks()
            budget = int(self.model.context_window * 3.2 * 0.45)  # chars, ~45 % of the window
            pf = await prefetch.gather(prepared.text, self.workspace, budget_chars=budget,
                                       graph=self.ctx.services.graph, test_runner=runner,
                                       run_tests=run_tests,
                                       always_test=s.category in ("write", "run", "plan"))
            s.tests_failing_at_start = pf.tests_failing
            self.ctx.task_state.start_failures = pf.test_failures
            for rel in pf.files:
                self.ctx.files_read.add(rel)
            rendered = pf.render()
            if rendered:
                parts.append("Context gathered for you (already read; no need to read these "
                             "files again):\n\n" + rendered)
        return "\n\n".join(parts)

    def _test_hooks(self) -> tuple[Any, Any]:
        from .edit import testrunner

        runner = testrunner.detect_test_runner(self.workspace.root)
        if runner is None:
            return None, None

        async def run_tests(r: Any, targets: list[str] | None = None) -> Any:
            return await asyncio.to_thread(testrunner.run_tests, r, targets or [], 120)

        return runner, run_tests

    async def _run(self, task: str) -> DoneEvent:
        s = self.state
        mode = self._mode()
        s.category, s.tool_names, reason = await self._route(task, mode)
        s.mode = mode = mode if s.tool_names else "none"
        await self._emit(RouteEvent(category=s.category, tools=s.tool_names, reason=reason))
        solved = await self._solve(task)
        if solved is not None:
            return solved
        tools_schema = [t.schema() for t in self._offered()] if mode == "native" else None
        self.layout = PromptLayout(system=self._system_prompt(mode), tools=tools_schema)
        self.history.append({"role": "user", "content": await self._first_user_message(task)})
        max_turns = self.settings.agent.max_turns
        while s.turns < max_turns:
            if self._cancel.is_set():
                return self._done(False, "cancelled")
            s.turns += 1
            reply = await self._call_model(mode)
            outcome = await self._handle_reply(reply, mode)
            if outcome is not None:
                return outcome
            if s.tool_calls >= self.settings.agent.max_tool_calls:
                raise HardFailure(f"stopped: {s.tool_calls} tool calls (limit)")
        if s.edits and s.tests_failing_at_start:
            raise HardFailure(f"stopped: {max_turns} turns without finishing")
        return self._done(False, f"stopped: {max_turns} turns without finishing")

    async def _solve(self, task: str) -> DoneEvent | None:
        """The solve path for edit tasks (and renames, module moves and extension changes,
        whatever the route): candidates as plain code checked by an oracle. None when it does
        not apply; the tool loop then runs."""
        from .solve import (
            Solver,
            find_module_move,
            find_rename,
            find_suffix_change,
            outcome_event,
            wants_change,
        )

        conf = self.settings.solve
        if not conf.enabled:
            return None
        # a question whose answer goes into a file ("... Write the number into answer.txt")
        # is an edit of that file alone
        edit_like = wants_change(self.state.category, task, bool(self.state.asked_files))
        if not edit_like and find_rename(task, self.workspace) is None \
                and find_module_move(task, self.workspace) is None \
                and find_suffix_change(task, self.workspace) is None:
            return None
        from .tools.file_suffix import ChangeSuffixArgs, change_suffix
        from .tools.module_move import MoveModuleArgs, move_module
        from .tools.refactor import RenameArgs, rename_symbol

        def rename(old: str, new: str) -> ToolResult:
            return rename_symbol(RenameArgs(old=old, new=new), self.ctx)

        def move(old: str, new: str) -> ToolResult:
            return move_module(MoveModuleArgs(old_path=old, new_path=new), self.ctx)

        def suffix(folder: str, old: str, new: str) -> ToolResult:
            return change_suffix(ChangeSuffixArgs(folder=folder, old_suffix=old,
                                                  new_suffix=new), self.ctx)

        async def allow_edit(detail: str) -> bool:
            if self.settings.agent.permission_mode != "ask":
                return True
            if self.confirm is None:
                return False
            res = self.confirm("edit", detail)
            return bool(await res) if inspect.isawaitable(res) else bool(res)

        solver = Solver(self.model, self.workspace, conf, snapshots=self.ctx.services.snapshots,
                        graph=self.ctx.services.graph, emit=self._emit, rename_tool=rename,
                        move_tool=move, suffix_tool=suffix,
                        allow_edit=allow_edit, checker=self.ctx.services.candidate_checker)
        try:
            outcome = await solver.solve(task)
        except (ModelError, asyncio.CancelledError):
            raise
        except Exception as exc:  # noqa: BLE001 - a solve-path bug must not lose the task
            await self._emit(ErrorEvent(message=f"solve path failed ({type(exc).__name__}: "
                                                f"{exc}); using the tool loop", recoverable=True))
            return None
        if outcome is None:
            await self._emit(NoticeEvent(message="solve: no file to change was found; using "
                                                 "the tool loop"))
            return None
        s = self.state
        s.turns += outcome.calls
        s.usage.add(outcome.usage)
        self.usage.add(outcome.usage)
        s.edits += len(outcome.changed)
        s.changed_files.extend(outcome.changed)
        self.history.append({"role": "user", "content": task})
        self.history.append({"role": "assistant", "content": outcome.reason})
        return outcome_event(outcome, s.turns)

    async def _fit_history(self) -> None:
        assert self.layout is not None
        budget = prompt_budget(self.model.context_window, max_tokens=self.settings.model.max_tokens,
                               tools_tokens=self.counter.count_tools(self.layout.tools)
                               + self.counter.count(self.layout.system))
        if self.counter.count_messages(self.history) <= budget:
            return
        from .features.compaction import history_compactor

        result = await fit(self.history, budget, self.counter,
                           compactor=history_compactor(self.model, timeout=60))
        if result.changed:
            self.history = list(result.messages)
            await self._emit(NoticeEvent(message="history compacted to fit the context window"))

    async def _call_model(self, mode: str) -> ChatResponse:
        assert self.layout is not None
        await self._fit_history()
        volatile = [v() for v in self.volatile]
        ext = self.ctx.services.extensions
        if ext is not None:
            notes = await ext.hooks.before_model_request(self.history, self.state.tool_names,
                                                         ext.context)
            volatile += [n for n in (notes or []) if n]
        request = self.layout.request(self.history, volatile)
        kwargs: dict[str, Any] = {}
        if request.tools:
            kwargs["tools"] = request.tools
        if mode == "constrained":
            offered = self._offered()
            blocked = self.state.blocked_tool
            self.state.blocked_tool = None
            if blocked and any(t.name != blocked for t in offered):
                offered = [t for t in offered if t.name != blocked]  # the grammar forbids it
            kwargs["response_format"] = action_schema(offered)

        async def on_delta(text: str) -> None:
            await self._emit(TextDelta(text=text))

        if self.state.escape_repetition:
            kwargs["temperature"] = 0.8
            self.state.escape_repetition = False
        else:
            kwargs["temperature"] = self._candidate_temperature or self.settings.model.temperature
        reply = await self.model.chat(request.messages,
                                      on_delta=None if mode == "constrained" else on_delta,
                                      max_tokens=self.settings.model.max_tokens, **kwargs)
        if ext is not None:
            await ext.hooks.after_model_request(reply, ext.context)
        self.state.usage.add(reply.usage)
        self.usage.add(reply.usage)
        await self._emit(UsageEvent(prompt_tokens=reply.usage.prompt_tokens,
                                    completion_tokens=reply.usage.completion_tokens,
                                    cached_tokens=reply.usage.cached_tokens,
                                    context_window=self.model.context_window))
        return reply

    async def _calls_from(self, reply: ChatResponse, mode: str
                          ) -> tuple[list[ResolvedCall], str, str | None, list[CallProblem]]:
        """(runnable calls, visible text, correction for the model, problems)."""
        if mode == "none":
            return [], reply.content, None, []
        if mode == "constrained":
            try:
                raw = parse_action(reply.content)
            except ActionParseError:
                pass
            else:
                outcome = resolve_call(raw, self.registry)
                if isinstance(outcome, ResolvedCall):
                    return [outcome], "", None, []
        parsed = await interpret_reply(reply.content, self.registry, reasoning=reply.reasoning,
                                       native=reply.tool_calls, model=self.model,
                                       use_schema=mode == "constrained")
        return parsed.calls, parsed.text, parsed.correction, parsed.problems

    async def _handle_reply(self, reply: ChatResponse, mode: str) -> DoneEvent | None:
        s = self.state
        calls, text, correction, problems = await self._calls_from(reply, mode)
        for problem in problems:
            await self._emit(ErrorEvent(message=f"unusable tool call: {problem.message}"))
        if not calls:
            if correction:
                # the unusable turn is replaced by one short correction: no bad example piles up
                self.history.append({"role": "assistant", "content": "(unusable tool call)"})
                self.history.append({"role": "user", "content": correction})
                return None
            return await self._handle_text(reply, text)
        self.guard.note_reply()
        assistant_msg: Message = {"role": "assistant", "content": reply.content}
        if mode == "native" and reply.tool_calls:
            assistant_msg["tool_calls"] = reply.tool_calls
        self.history.append(assistant_msg)
        results: list[tuple[str, str, str | None]] = []  # (name, output, native id)
        for call in calls[:MAX_CALLS_PER_REPLY]:
            added = self._widen(call.name)
            call_id = call.raw.id or f"call_{uuid.uuid4().hex[:8]}"
            key = call.name + json.dumps(call.arguments, sort_keys=True)
            if key in s.failed_calls:
                # a small model repeats a failed call verbatim: do not run it again, keep one
                # short record instead of another copy, and sample hotter next time
                s.escape_repetition = True
                s.tool_calls += 1
                self.history[-1] = {"role": "assistant", "content":
                                    f"(repeated the failed {call.name} call)"}
                verdict = self.guard.check(call.name, call.arguments, False, changed=False)
                if verdict.action == "stop":
                    raise HardFailure(f"loop guard ({verdict.rule}): {verdict.message}")
                await self._emit(NoticeEvent(message=f"repeated failed {call.name} call not run"))
                results.append((call.name, ("You already made exactly this call and it failed:\n"
                                f"{s.failed_calls[key]}\nDo not repeat it: change the arguments "
                                "(copy old_str exactly from the file, with more lines) or use "
                                "another tool."), call.raw.id))
                continue
            tool = self.registry.get(call.name)
            read_only = tool is not None and not tool.mutates and not tool.runs_commands \
                and call.name != "finish"
            if read_only and key in s.seen_calls:
                # the same read again with nothing changed: the answer is already above. Not
                # re-run (another copy of the file teaches the model to read once more); the
                # next constrained action may not pick this tool
                s.escape_repetition = True
                s.blocked_tool = call.name
                s.tool_calls += 1
                self.history[-1] = {"role": "assistant", "content": f"(repeated the {call.name} "
                                                                    "call)"}
                verdict = self.guard.check(call.name, call.arguments, True, changed=False)
                if verdict.action == "stop":
                    raise HardFailure(f"loop guard ({verdict.rule}): {verdict.message}")
                await self._emit(NoticeEvent(message=f"repeated {call.name} call not run"))
                results.append((call.name, ("You already made exactly this call; its result is "
                                "above and nothing has changed since. Do not read it again: make "
                                "the change now, or call finish if the task is done."),
                                call.raw.id))
                continue
            repaired = ", ".join(call.fixes + call.raw.repairs) or \
                ("" if call.raw.fmt in ("native", "action") else call.raw.fmt)
            await self._emit(ToolCallEvent(call_id=call_id, name=call.name,
                                           arguments=call.arguments, repaired=repaired))
            result = await self._execute(call.name, call.arguments)
            s.tool_calls += 1
            ext = self.ctx.services.extensions
            if ext is not None:
                await ext.hooks.after_tool_call(call.name, call.arguments, result, ext.context)
            await self._emit(ToolResultEvent(call_id=call_id, name=call.name, ok=result.ok,
                                             output=result.output, diff=result.diff,
                                             changed_files=result.changed_files))
            if result.data.get("finish"):
                refusal = await self._verify_finish()
                if refusal is None:
                    s.finish_summary = result.output
                    if s.finish_failure:
                        return self._done(False, s.finish_failure, result.output)
                    done = self._done(True, "finished", result.output)
                    done.verified = s.finish_verified  # type: ignore[assignment]
                    return done
                results.append((call.name, refusal, call.raw.id))
                break
            output = result.output
            if not result.ok and not result.changed_files:
                s.failed_calls[key] = result.output[:1500]
                if NO_OP_EDIT in result.output:
                    s.escape_repetition = True  # it copied the line unchanged: sample hotter
            elif read_only and result.ok:
                s.seen_calls.add(key)
            if result.changed_files:
                s.failed_calls.clear()  # the files changed: earlier failures may succeed now
                s.seen_calls.clear()
                s.edits += 1
                for f in result.changed_files:
                    if f not in s.changed_files:
                        s.changed_files.append(f)
            if (result.changed_files or result.data.get("reverted")) \
                    and "stage" not in result.data:  # edit_and_verify already ran the loop
                output += await self._after_edit(result)
            verdict = self.guard.check(call.name, call.arguments, result.ok,
                                       changed=bool(result.changed_files))
            if verdict.action == "stop":
                raise HardFailure(f"loop guard ({verdict.rule}): {verdict.message}")
            if verdict.action == "nudge":
                output += "\n" + verdict.message
                await self._emit(NoticeEvent(message=f"nudge ({verdict.rule})"))
            if added and s.mode in ("constrained", "text"):
                # the system prompt stays byte-identical; new tools are announced in the history
                output += "\nNow also available: " + "; ".join(self._describe(n) for n in added)
            results.append((call.name, output, call.raw.id))
        for name, output, native_id in results:
            if mode == "native" and native_id:
                self.history.append({"role": "tool", "tool_call_id": native_id, "content": output})
            else:
                self.history.append({"role": "user", "content": f"[{name} result]\n{output}"})
        return None

    def _describe(self, name: str) -> str:
        tool = self.registry.get(name)
        if tool is None:
            return name
        schema = tool.args_model.model_json_schema()
        required = set(schema.get("required", []))
        args = ", ".join(f"{k}{'' if k in required else '?'}" for k in schema.get("properties", {}))
        return f"{name}({args}): {tool.description}"

    def _widen(self, called: str) -> list[str]:
        """After the first tool call the route grows (WIDEN_TABLE); a valid tool outside the
        route is admitted, never reported as hallucinated. The system prompt stays as it is (its
        bytes are the prompt cache's prefix); in native mode the tool list changes once."""
        s = self.state
        first = s.tool_calls == 0
        if self.decision is None or (not first and called in s.tool_names):
            return []
        if self.decision.widened and called in s.tool_names:
            return []
        before = list(s.tool_names)
        self.decision = self.router.widen(self.decision, called)
        s.tool_names = list(self.decision.tool_names)
        if called not in s.tool_names:
            s.tool_names.append(called)
        if s.mode == "native" and self.layout is not None:
            self.layout.set_tools([t.schema() for t in self._offered()])
        return [n for n in s.tool_names if n not in before and n != called]

    async def _handle_text(self, reply: ChatResponse, text: str) -> DoneEvent | None:
        s = self.state
        answer = (text or reply.content).strip()
        if not answer:
            verdict = self.guard.check_empty_reply()
            if verdict.action == "stop":
                return self._done(False, "the model gave empty replies")
            self.history.append({"role": "assistant", "content": ""})
            self.history.append({"role": "user", "content": verdict.message or
                                 "Your reply was empty. Call a tool, or finish."})
            await self._emit(NoticeEvent(message="empty reply; nudged the model"))
            return None
        self.guard.note_reply()
        self.history.append({"role": "assistant", "content": reply.content})
        await self._emit(AssistantText(text=answer))
        if s.category in ("write", "run", "plan") and s.edits == 0 and s.mode != "none" \
                and s.nudges < 2 and "```" in answer:
            s.nudges += 1
            self.history.append({"role": "user", "content": "Do not show the code; apply the "
                                 "change to the file with the patch tool."})
            return None
        s.finish_summary = answer
        done = self._done(True, "answered", answer)
        done.verified = self._unchanged_verdict()
        return done

    async def _execute(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        tool = self.registry.get(name)
        assert tool is not None
        if tool.mutates or tool.runs_commands:
            kind = "shell" if tool.runs_commands else "edit"
            mode = self.settings.agent.permission_mode
            if mode == "ask" or (mode == "auto-edit" and kind == "shell"):
                detail = arguments.get("command") or arguments.get("path") or json.dumps(arguments)
                ok = False
                if self.confirm is not None:
                    res = self.confirm(kind, str(detail))
                    ok = bool(await res) if inspect.isawaitable(res) else bool(res)
                if not ok:
                    return ToolResult(ok=False, output=f"the user did not allow this {kind}")
        if self.ctx.services.snapshots is not None:
            from .snapshots import execute_with_snapshots

            return await execute_with_snapshots(self.registry, name, arguments, self.ctx)
        return await self.registry.execute(name, arguments, self.ctx)

    async def _after_edit(self, result: ToolResult) -> str:
        """Improvement loop: validation already ran in the tool; now the covering tests, then
        the policy (retry → decompose → escalate → stop)."""
        if not self.settings.agent.validate_edits:
            return ""
        from .edit import testrunner

        diags = list(result.data.get("diagnostics") or [])
        path = result.changed_files[0] if result.changed_files else result.data["path"]
        graph = self.ctx.services.graph
        if graph is not None:
            await maybe_await(graph.update_files(result.changed_files, []))
        test_run = None
        runner, run_tests = self._test_hooks()
        if runner is not None and not diags and not result.data.get("reverted"):
            targets = testrunner.tests_for_file(self.workspace.root, path)
            test_run = await run_tests(runner, targets)
        undone = undo_regression(self.ctx, result, test_run)
        feedback = self.improve.after_edit(path, diags, test_run)
        if feedback.stage == "stop":
            raise HardFailure(f"could not fix {path}: {feedback.message_for_model}")
        if feedback.stage == "escalate":
            await self._emit(NoticeEvent(message="escalating to a stronger model"))
            return "\n" + feedback.message_for_model + await self._escalate()
        text = ""
        if test_run is not None:
            head = "TESTS PASS" if test_run.ok else "TESTS FAIL"
            text = f"\n{head} (`{test_run.command}`):\n{prefetch.test_run_text(test_run)}"
            text += undone
        if not feedback.ok and diags or not feedback.ok and feedback.stage == "decompose":
            text += "\n" + feedback.message_for_model
        return text

    async def _escalate(self) -> str:
        escalator = self.ctx.services.escalator
        if escalator is None or not escalator.can_escalate():
            return ""
        try:
            reply = await escalator.escalate(self.history,
                                             self.registry.schemas(self.state.tool_names))
        except Exception as exc:  # noqa: BLE001 - escalation is a bonus, never a crash
            return f"\n(escalation failed: {exc})"
        calls, text, _, _ = await self._calls_from(reply, "native")
        notes = []
        for call in calls[:MAX_CALLS_PER_REPLY]:
            result = await self._execute(call.name, call.arguments)
            await self._emit(ToolResultEvent(call_id=f"esc_{uuid.uuid4().hex[:6]}", name=call.name,
                                             ok=result.ok, output=result.output, diff=result.diff,
                                             changed_files=result.changed_files))
            notes.append(f"[stronger model ran {call.name}: {result.output[:300]}]")
        return "\n" + "\n".join(notes or [text])

    def _unchanged_verdict(self) -> Literal["answer", "none"]:
        """What verified a task that ends without tests: an answer to a question is "answer";
        a task that asked for something else and changed nothing (or changed files nothing
        checked) is "none", so `smallcode run` never reports it as done and checked."""
        from .solve import is_question

        s = self.state
        answered = s.category == "respond" or s.remembered or is_question(s.task)
        return "answer" if not s.edits and answered else "none"

    async def _verify_finish(self) -> str | None:
        """Accept `finish` only when the evidence holds: a change was made when one was asked
        for, an asked-for file exists, and tests that failed at the start now pass. After two
        refusals finish is accepted, but the task is reported as failed with the reason
        (``state.finish_failure``); ``state.finish_verified`` says what verified it."""
        s = self.state
        s.finish_verified = self._unchanged_verdict()
        refusal, failure = await self._finish_evidence()
        if refusal is None:
            return None
        if s.verify_attempts >= 2:
            s.finish_failure = failure
            return None
        s.verify_attempts += 1
        return refusal

    async def _finish_evidence(self) -> tuple[str | None, str]:
        """(what to tell the model, the failure to report) — (None, "") when finish holds."""
        s = self.state
        failed_edits = [err for key, err in s.failed_calls.items()
                        if (t := self.registry.get(key.split("{", 1)[0])) is not None and t.mutates
                        and not _REFUSAL.search(err)]  # a refusal is not a failed fix
        if s.edits == 0 and failed_edits and s.category in ("write", "run", "plan"):
            await self._emit(NoticeEvent(message="finish refused: no edit has succeeded yet"))
            return (("Not done yet: no file was changed — your last edit failed:\n"
                    f"{failed_edits[-1]}\nMake the edit work, then call finish."),
                    "finished without a successful edit")
        if not self.settings.agent.validate_edits:
            return None, ""
        absent = [p for p in s.asked_files if not (self.workspace.root / p).exists()]
        if absent and self.ctx.allowed_edit_paths is None:
            shown = ", ".join(f"`{p}`" for p in absent)
            await self._emit(NoticeEvent(message=f"finish refused: {shown} not written yet"))
            return ((f"Not done yet: the task asks you to write {shown}, which does not exist. "
                    "Write it with write_file (the whole content), then call finish."),
                    f"finished but {shown} was never written")
        if not s.tests_failing_at_start:
            return None, ""
        runner, run_tests = self._test_hooks()
        if runner is None:
            return None, ""
        run = await run_tests(runner)
        if run is None:
            return None, ""
        if run.ok:
            s.finish_verified = "tests"
            return None, ""
        await self._emit(NoticeEvent(message="finish refused: the tests still fail"))
        return ((f"Not done yet: the tests still fail (`{run.command}`):\n"
                f"{prefetch.test_run_text(run)}\nFix the code, then call finish."),
                f"finished but the tests still fail (`{run.command}`)")


__all__ = ["SYSTEM_PROMPT", "Agent", "HardFailure", "TaskState"]
