"""The agent loop: one task in, a typed event stream out.

user message → pre-work (vagueness, @file, git, memory, route, prefetch) → prompt → model →
extraction/repair → permission → tool → validation/tests → events, until `finish`, a final
answer, or a limit. Everything it talks to is a small protocol (ChatModel, ToolRegistry, graph,
memory), so the same loop runs in-process in a test and against actor handles under `serve`.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from . import prefetch
from .config import Settings
from .events import (
    AssistantText,
    DoneEvent,
    ErrorEvent,
    Event,
    NoticeEvent,
    PlanUpdate,
    RouteEvent,
    TextDelta,
    ToolCallEvent,
    ToolResultEvent,
    UsageEvent,
)
from .model.types import ChatModel, ChatResponse, Message, ModelError, Usage
from .tools.registry import Tool, ToolContext, ToolRegistry, ToolResult
from .tools.workspace import Workspace

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

CONSTRAINED_NOTE = """\
Answer with ONE JSON object per turn: {"tool": "<name>", "args": {...}}.
Tools:
"""


@dataclass
class TaskState:
    """Per-task bookkeeping the loop needs; persisted in the session."""

    task: str = ""
    category: str = "read"
    tool_names: list[str] = field(default_factory=list)
    turns: int = 0
    tool_calls: int = 0
    edits: int = 0
    changed_files: list[str] = field(default_factory=list)
    finish_summary: str | None = None
    tests_failing_at_start: bool | None = None
    verify_attempts: int = 0
    nudges: int = 0
    usage: Usage = field(default_factory=Usage)


class Agent:
    """Runs tasks in one workspace with one model. Keeps the conversation between tasks."""

    def __init__(self, model: ChatModel, registry: ToolRegistry, workspace: Workspace,
                 settings: Settings | None = None, *, confirm: Confirm | None = None,
                 services: dict[str, Any] | None = None, session_id: str | None = None):
        self.model = model
        self.registry = registry
        self.workspace = workspace
        self.settings = settings or Settings()
        self.confirm = confirm
        self.session_id = session_id or uuid.uuid4().hex[:12]
        self.ctx = ToolContext(workspace, **(services or {}))
        self.ctx.set("validate_edits", self.settings.agent.validate_edits)
        self.ctx.set("patch_ladder", self.settings.agent.patch_ladder)
        self.history: list[Message] = []
        self.usage = Usage()
        self.state = TaskState()
        self._route_state: Any = None
        self._cancel = asyncio.Event()

    # -- public API --------------------------------------------------------------------------
    def cancel(self) -> None:
        self._cancel.set()

    async def events(self, task: str) -> AsyncIterator[Event]:
        """The task's events as an async iterator (the same stream `run` emits)."""
        queue: asyncio.Queue[Event | None] = asyncio.Queue()

        async def emit(ev: Event) -> None:
            await queue.put(ev)

        runner = asyncio.create_task(self.run(task, emit))
        runner.add_done_callback(lambda _: queue.put_nowait(None))
        while (ev := await queue.get()) is not None:
            yield ev
        await runner

    async def run(self, task: str, emit: Emit) -> DoneEvent:
        """Run one task to completion; every step is emitted; returns the final DoneEvent."""
        self._cancel.clear()
        self.state = TaskState(task=task)
        self._emit_fn = emit
        try:
            done = await self._run(task)
        except ModelError as exc:
            await self._emit(ErrorEvent(message=str(exc), recoverable=False))
            done = self._done(False, f"model error: {exc}")
        except asyncio.CancelledError:
            done = self._done(False, "cancelled")
        await self._emit(done)
        return done

    # -- internals ------------------------------------------------------------------------------
    async def _emit(self, ev: Event) -> None:
        res = self._emit_fn(ev)
        if inspect.isawaitable(res):
            await res

    def _done(self, success: bool, reason: str, summary: str = "") -> DoneEvent:
        s = self.state
        return DoneEvent(success=success, reason=reason, summary=summary or (s.finish_summary or ""),
                         turns=s.turns, tool_calls=s.tool_calls,
                         prompt_tokens=s.usage.prompt_tokens,
                         completion_tokens=s.usage.completion_tokens)

    def _route(self, task: str) -> tuple[str, list[str], str]:
        all_names = [n for n in self.registry.names() if n != "select_category"]
        if not self.settings.agent.router:
            return "write", all_names, "router off: every tool"
        try:
            from .router import Router
        except ImportError:
            return "write", all_names, "no router available"
        router = Router(self.registry)
        decision = router.route(task, self._route_state)
        self._route_state = getattr(decision, "state", None) or decision
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
        text = SYSTEM_PROMPT
        instructions = self.ctx.get("instructions")
        if instructions:
            text += "\nProject instructions:\n" + instructions.strip() + "\n"
        if mode in ("constrained", "text") and self.state.tool_names:
            lines = []
            for t in self._offered():
                props = t.args_model.model_json_schema().get("properties", {})
                required = set(t.args_model.model_json_schema().get("required", []))
                args = ", ".join(f"{k}{'' if k in required else '?'}" for k in props)
                lines.append(f"- {t.name}({args}): {t.description}")
            if mode == "constrained":
                text += "\n" + CONSTRAINED_NOTE + "\n".join(lines) + "\n"
            else:
                text += ("\nCall a tool by writing a JSON object in a ```json block: "
                         '{"name": "<tool>", "arguments": {...}}. One call per reply.\nTools:\n'
                         + "\n".join(lines) + "\n")
        return text

    async def _first_user_message(self, task: str) -> str:
        parts = [task.strip()]
        volatile: list[str] = []
        try:
            from .context.vagueness import is_vague
            has_ctx = bool(self.history) or bool(prefetch.mentioned_paths(task, self.workspace))
            if is_vague(task, has_ctx):
                volatile.append("The request is vague. Ask ONE short clarifying question instead "
                                "of guessing (answer in plain text, or in the finish summary).")
        except ImportError:
            pass
        memory = self.ctx.get("memory")
        if memory is not None:
            try:
                loaded = await prefetch._maybe_await(memory.load_for_task(task, max_tokens=400))
                if loaded:
                    volatile.append("Project memory:\n" + loaded)
            except Exception as exc:  # noqa: BLE001 - memory is help, never a blocker
                await self._emit(NoticeEvent(message=f"memory unavailable: {exc}"))
        if self.settings.agent.prefetch_context and self.state.category != "respond":
            runner, run_tests = self._test_hooks()
            budget = int(self.model.context_window * 3.2 * 0.45)  # chars, ~45 % of the window
            pf = await prefetch.gather(task, self.workspace, budget_chars=budget,
                                       graph=self.ctx.get("graph"), test_runner=runner,
                                       run_tests=run_tests)
            self.state.tests_failing_at_start = pf.tests_failing
            for rel in pf.files:
                self.ctx.files_read.add(rel)
            rendered = pf.render()
            if rendered:
                volatile.append("Context gathered for you (already read; no need to read these "
                                "files again):\n\n" + rendered)
        return "\n\n".join(parts + volatile)

    def _test_hooks(self) -> tuple[Any, Any]:
        try:
            from .edit import testrunner
        except ImportError:
            return None, None
        runner = testrunner.detect_test_runner(self.workspace.root)
        if runner is None:
            return None, None

        async def run_tests(r: Any, targets: list[str] | None = None) -> Any:
            return await asyncio.to_thread(testrunner.run_tests, r, targets or [], 120)

        return runner, run_tests

    async def _run(self, task: str) -> DoneEvent:
        s = self.state
        s.category, s.tool_names, reason = self._route(task)
        await self._emit(RouteEvent(category=s.category, tools=s.tool_names, reason=reason))
        mode = self._mode() if s.tool_names else "none"
        system = self._system_prompt(mode)
        if not self.history or self.history[0].get("content") != system:
            self.history = [{"role": "system", "content": system}] + \
                [m for m in self.history if m.get("role") != "system"]
        self.history.append({"role": "user", "content": await self._first_user_message(task)})
        max_turns = self.settings.agent.max_turns
        while s.turns < max_turns:
            if self._cancel.is_set():
                return self._done(False, "cancelled")
            s.turns += 1
            reply = await self._call_model(mode)
            if reply is None:
                continue
            outcome = await self._handle_reply(reply, mode)
            if outcome is not None:
                return outcome
            if s.tool_calls >= self.settings.agent.max_tool_calls:
                return self._done(False, f"stopped: {s.tool_calls} tool calls (limit)")
        return self._done(False, f"stopped: {max_turns} turns without finishing")

    async def _call_model(self, mode: str) -> ChatResponse | None:
        tools = self._offered()
        kwargs: dict[str, Any] = {}
        if mode == "native":
            kwargs["tools"] = [t.schema() for t in tools]
        elif mode == "constrained":
            from .toolcalls import action_schema
            kwargs["response_format"] = action_schema(tools)

        async def on_delta(text: str) -> None:
            await self._emit(TextDelta(text=text))

        reply = await self.model.chat(self.history, on_delta=on_delta if mode != "constrained"
                                      else None, max_tokens=self.settings.model.max_tokens, **kwargs)
        self.state.usage.add(reply.usage)
        self.usage.add(reply.usage)
        await self._emit(UsageEvent(prompt_tokens=reply.usage.prompt_tokens,
                                    completion_tokens=reply.usage.completion_tokens,
                                    cached_tokens=reply.usage.cached_tokens,
                                    context_window=self.model.context_window))
        return reply

    async def _handle_reply(self, reply: ChatResponse, mode: str) -> DoneEvent | None:
        from .toolcalls import CallProblem, extract_tool_calls, resolve_call

        s = self.state
        if mode == "constrained":
            from .toolcalls import parse_action
            try:
                raws = [parse_action(reply.content)]
                text = ""
            except ValueError:
                ex = extract_tool_calls(reply.content, reply.reasoning, reply.tool_calls,
                                        known_tools=s.tool_names)
                raws, text = ex.calls, ex.text
        elif mode == "none":
            raws, text = [], reply.content
        else:
            ex = extract_tool_calls(reply.content, reply.reasoning, reply.tool_calls,
                                    known_tools=s.tool_names)
            raws, text = ex.calls, ex.text
        if not raws:
            answer = (text or reply.content).strip()
            self.history.append({"role": "assistant", "content": reply.content})
            if not answer:
                if s.nudges < 2:
                    s.nudges += 1
                    self.history.append({"role": "user", "content": "Your reply was empty. "
                                         "Call a tool, or call finish if the task is done."})
                    await self._emit(NoticeEvent(message="empty reply; nudged the model"))
                    return None
                return self._done(False, "the model gave empty replies")
            await self._emit(AssistantText(text=answer))
            if s.category in ("write", "run", "plan") and s.edits == 0 and s.tool_names \
                    and s.nudges < 2 and "```" in answer:
                s.nudges += 1
                self.history.append({"role": "user", "content": "Do not show the code; apply the "
                                     "change to the file with the patch tool."})
                return None
            s.finish_summary = answer
            return self._done(True, "answered", answer)
        # one short record of what the model asked for; bad calls are replaced by a correction
        assistant_msg: Message = {"role": "assistant", "content": reply.content}
        if mode == "native" and reply.tool_calls:
            assistant_msg["tool_calls"] = reply.tool_calls
        self.history.append(assistant_msg)
        results: list[tuple[str, str, str | None]] = []  # (name, output, native id)
        for raw in raws[:3]:
            resolved = resolve_call(raw, self.registry)
            if isinstance(resolved, CallProblem):
                await self._emit(ErrorEvent(message=f"unusable tool call: {resolved.message}"))
                self.history[-1] = {"role": "assistant", "content": f"(unusable call: {raw.name})"}
                fix = resolved.message + (f"\nExample: {resolved.example}" if resolved.example else "")
                self.history.append({"role": "user", "content": fix})
                return None
            if resolved.name not in s.tool_names:
                s.tool_names.append(resolved.name)  # widen: a valid tool is never "hallucinated"
            call_id = raw.id or f"call_{uuid.uuid4().hex[:8]}"
            await self._emit(ToolCallEvent(call_id=call_id, name=resolved.name,
                                           arguments=resolved.arguments,
                                           repaired=", ".join(resolved.fixes + raw.repairs)
                                           or ("" if raw.fmt in ("native", "action") else raw.fmt)))
            result = await self._execute(resolved.name, resolved.arguments)
            s.tool_calls += 1
            await self._emit(ToolResultEvent(call_id=call_id, name=resolved.name, ok=result.ok,
                                             output=result.output, diff=result.diff,
                                             changed_files=result.changed_files))
            if result.data.get("finish"):
                verdict = await self._verify_finish(result.output)
                if verdict is None:
                    s.finish_summary = result.output
                    return self._done(True, "finished", result.output)
                results.append((resolved.name, verdict, raw.id))
                break
            output = result.output
            if result.changed_files:
                s.edits += 1
                for f in result.changed_files:
                    if f not in s.changed_files:
                        s.changed_files.append(f)
                output += await self._after_edit(result)
            results.append((resolved.name, output, raw.id))
        for name, output, native_id in results:
            if mode == "native" and native_id:
                self.history.append({"role": "tool", "tool_call_id": native_id, "content": output})
            else:
                self.history.append({"role": "user", "content": f"[{name} result]\n{output}"})
        return None

    async def _execute(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        tool = self.registry.get(name)
        assert tool is not None
        if tool.mutates or tool.runs_commands:
            kind = "shell" if tool.runs_commands else "edit"
            mode = self.settings.agent.permission_mode
            needs = mode == "ask" or (mode == "auto-edit" and kind == "shell")
            if needs:
                detail = arguments.get("command") or arguments.get("path") or json.dumps(arguments)
                ok = False
                if self.confirm is not None:
                    res = self.confirm(kind, str(detail))
                    ok = bool(await res) if inspect.isawaitable(res) else bool(res)
                if not ok:
                    return ToolResult(ok=False, output=f"the user did not allow this {kind}")
        return await self.registry.execute(name, arguments, self.ctx)

    async def _after_edit(self, result: ToolResult) -> str:
        """Improvement loop: after a good edit, run the tests that cover it."""
        if not self.settings.agent.validate_edits or not result.ok:
            return ""
        runner, run_tests = self._test_hooks()
        if runner is None:
            return ""
        run = await run_tests(runner)
        if run is None:
            return ""
        head = "TESTS PASS" if run.ok else "TESTS FAIL"
        return f"\n{head} (`{run.command}`):\n{prefetch.test_run_text(run)}"

    async def _verify_finish(self, summary: str) -> str | None:
        """Accept `finish` only when the evidence holds: tests that failed at start now pass."""
        s = self.state
        if not self.settings.agent.validate_edits or not s.tests_failing_at_start:
            return None
        if s.verify_attempts >= 2:
            return None
        runner, run_tests = self._test_hooks()
        if runner is None:
            return None
        run = await run_tests(runner)
        if run is None or run.ok:
            return None
        s.verify_attempts += 1
        await self._emit(NoticeEvent(message="finish refused: the tests still fail"))
        return (f"Not done yet: the tests still fail (`{run.command}`):\n"
                f"{prefetch.test_run_text(run)}\nFix the code, then call finish.")


def content_hash(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


__all__ = ["SYSTEM_PROMPT", "Agent", "PlanUpdate", "TaskState"]
