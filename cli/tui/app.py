"""The Textual application: one agent session, rendered from its event stream.

Layout: the chat (user messages, streamed markdown answers, tool cards with diffs, notices) with
the plan panel beside it, the completion list and the prompt below, the status line at the
bottom. A turn runs in a worker; Ctrl+C cancels it and keeps the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from smallcode.core.config import Settings
from smallcode.core.events import (
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
from smallcode.core.tools.workspace import Workspace
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option
from textual.worker import Worker

from . import commands
from .completion import Completion, PathIndex, complete, edit_preview
from .widgets import (
    AssistantMessage,
    CommandOutput,
    ConfirmScreen,
    DiffBlock,
    NoteLine,
    PlanPanel,
    StatusLine,
    ToolCard,
    UserMessage,
    human_tokens,
    strip_call_text,
)

SessionOpener = Callable[..., Awaitable[Any]]
QUEUE_POLL_SECONDS = 2.0
EXIT_CONFIRM_SECONDS = 2.0
MAX_CHAT_ENTRIES = 150  # widgets in the chat view; Textual's layout cost grows with their number


def _default_opener() -> SessionOpener:
    from smallcode.cli.backends import backend_for
    from smallcode.core.session import open_session

    async def open_with_backend(workspace: str, settings: Any, **kw: Any) -> Any:
        return await open_session(workspace, settings, backend=backend_for(settings), **kw)
    return open_with_backend


class PromptInput(Input):
    """The prompt: arrows move in the completion list when it is open (else through earlier
    prompts), Tab accepts a completion, Escape closes the list."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("up", "move(-1)", show=False), Binding("down", "move(1)", show=False),
                Binding("tab", "accept_completion", show=False),
                Binding("escape", "close_completions", show=False)]

    def __init__(self) -> None:
        super().__init__(placeholder="Ask, or / for commands, @ for files", id="prompt")
        self.history: list[str] = []
        self._history_pos = 0

    def remember(self, text: str) -> None:
        if text and (not self.history or self.history[-1] != text):
            self.history.append(text)
        self._history_pos = len(self.history)

    def action_move(self, delta: int) -> None:
        app = self.app
        assert isinstance(app, SmallcodeApp)
        if app.completions_open():
            app.move_completion(delta)
            return
        if not self.history:
            return
        self._history_pos = max(0, min(len(self.history), self._history_pos + delta))
        self.value = self.history[self._history_pos] if self._history_pos < len(self.history) \
            else ""
        self.cursor_position = len(self.value)

    def action_accept_completion(self) -> None:
        app = self.app
        assert isinstance(app, SmallcodeApp)
        app.accept_completion()

    def action_close_completions(self) -> None:
        app = self.app
        assert isinstance(app, SmallcodeApp)
        app.close_completions()


class SmallcodeApp(App[int]):
    """The full-screen UI over one agent session in ``workspace``."""

    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses live elsewhere
    TITLE = "smallcode"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+c", "interrupt", "cancel / exit", priority=True),
        Binding("shift+tab", "cycle_mode", "permission mode", priority=True),
        Binding("ctrl+p", "toggle_plan", "plan panel"),
        Binding("ctrl+l", "clear_screen", "clear chat", show=False),
    ]

    def __init__(self, workspace: str | Path, settings: Settings, *,
                 open_session: SessionOpener | None = None, resume: str | None = None) -> None:
        """``resume``: a session id (or prefix) to continue, or ``"latest"``."""
        super().__init__()
        self.resume_target = resume
        self.workspace = Workspace(workspace)
        self.settings = settings
        self._open_session = open_session
        self.session: Any = None
        self.session_error = ""
        self.turn_running = False
        self.turn_worker: Worker[Any] | None = None
        self.path_index = PathIndex(self.workspace)
        self.cards: dict[str, ToolCard] = {}
        self.last_done: DoneEvent | None = None
        self.events_seen: list[Event] = []
        self._stream: AssistantMessage | None = None
        self._last_call: ToolCallEvent | None = None
        self._completions: list[Completion] = []
        self._last_interrupt = 0.0
        self._session_tokens = 0
        self._last_error = ""
        self._pinned = True
        self._closed = False

    # -- layout -------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            yield VerticalScroll(id="chat")
            yield PlanPanel()
        yield OptionList(id="completions")
        yield PromptInput()
        yield StatusLine()

    @property
    def chat(self) -> VerticalScroll:
        return self.query_one("#chat", VerticalScroll)

    @property
    def plan_panel(self) -> PlanPanel:
        return self.query_one(PlanPanel)

    @property
    def status(self) -> StatusLine:
        return self.query_one(StatusLine)

    @property
    def prompt(self) -> PromptInput:
        return self.query_one(PromptInput)

    async def on_mount(self) -> None:
        self.plan_panel.display = False
        self.query_one("#completions", OptionList).display = False
        self.watch(self.chat, "scroll_y", self._on_chat_scroll, init=False)
        self.status.set(mode=self.settings.agent.permission_mode)
        self.prompt.focus()
        self.run_worker(self._start_session(), name="open-session", group="session")
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        if self.turn_running:
            self.status.set()  # the elapsed time of the turn

    def _on_chat_scroll(self, scroll_y: float) -> None:
        # Content growing or the completion list resizing the chat leave scroll_y alone; only a
        # scroll (the user's, or ours to the end) moves it. So this says whether to follow.
        self._pinned = scroll_y >= self.chat.max_scroll_y - 1

    def _following(self) -> bool:
        """New content should keep the chat scrolled to its end (the user has not scrolled up)."""
        return self._pinned

    def follow(self, was_following: bool = True) -> None:
        if was_following:
            self.chat.call_after_refresh(self.chat.scroll_end, animate=False)

    async def add_entry(self, widget: Widget) -> Widget:
        following = self._following()
        await self.chat.mount(widget)
        excess = len(self.chat.children) - MAX_CHAT_ENTRIES
        if excess > 0:  # the view keeps the newest entries; the session keeps everything
            oldest = [w for w in list(self.chat.children)[:excess] if w is not self._stream]
            for w in oldest:
                if isinstance(w, ToolCard):
                    self.cards.pop(w.call_id, None)
            await self.chat.remove_children(oldest)
        self.follow(following)
        return widget

    async def note(self, text: str | Text, kind: str = "notice") -> NoteLine:
        line = NoteLine(text, kind)
        await self.add_entry(line)
        return line

    # -- session ------------------------------------------------------------------------------
    async def _start_session(self) -> None:
        await self.note(f"smallcode in {self.workspace.root} — connecting to the model…")

        def progress(msg: str) -> None:  # called from worker threads too (model start-up)
            if threading.get_ident() == self._thread_id:
                self.call_later(self.note, msg)
            else:
                self.call_from_thread(self.call_later, self.note, msg)

        try:
            opener = self._open_session or _default_opener()
            self.session = await opener(str(self.workspace.root), self.settings,
                                        confirm=self.confirm, progress=progress)
        except Exception as exc:  # noqa: BLE001 - shown to the user, the UI stays usable
            self.session_error = str(exc) or type(exc).__name__
            self.status.set(model="no model")
            await self.note(f"cannot start a model session: {self.session_error}\n"
                            "Run `smallcode doctor` to diagnose. Slash commands still work.",
                            "error")
            return
        if self.resume_target:
            await self._resume_at_start(self.resume_target)
        c = self.session.client
        self.status.set(model=c.model_name, backend=c.server_kind,
                        source=self.session.endpoint.source, context_window=c.context_window)
        await self.note(f"model {c.model_name} via {self.session.endpoint.source} "
                        f"({c.server_kind}, window {c.context_window}) — /help for commands")
        if self.session.endpoint.source == "serve":
            self.status.set(queue="…")
            self.set_interval(QUEUE_POLL_SECONDS, self._poll_gateway_queue)

    async def _resume_at_start(self, target: str) -> None:
        session = self.session
        if target == "latest":
            target = await asyncio.to_thread(session.store.latest) or ""
            if not target:
                await self.note("no saved session to continue; starting a new one", "error")
                return
        try:
            await asyncio.to_thread(session.resume, target)
        except Exception as exc:  # noqa: BLE001 - a fresh session instead, and say why
            await self.note(f"cannot resume {target}: {exc}; starting a new session", "error")
            return
        await self.show_history(session.agent.history)
        await self.note(f"resumed session {session.session_id}")

    async def _poll_gateway_queue(self) -> None:
        """The gateway's queue, shown in the status line when attached to `smallcode serve`."""
        if self.session is None:
            return
        import httpx

        ep = self.session.endpoint
        headers = {"Authorization": f"Bearer {ep.api_key}"} if ep.api_key else {}
        try:
            async with httpx.AsyncClient(timeout=2.0) as http:
                r = await http.get(ep.base_url.rstrip("/") + "/smallcode/status", headers=headers)
            q = r.json().get("queue", {}) if r.status_code == 200 else {}
        except (httpx.HTTPError, ValueError):
            q = {}
        if "queued" in q:
            self.status.set(queue=f"{q['queued']} waiting")
        else:
            self.status.set(queue="?")

    async def close_session(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.session is not None:
            with contextlib.suppress(Exception):
                await self.session.aclose()

    async def on_unmount(self) -> None:
        if self.turn_worker is not None and self.turn_running and self.session is not None:
            self.session.agent.cancel()
            self.turn_worker.cancel()
        await self.close_session()

    # -- permission ---------------------------------------------------------------------------
    async def confirm(self, kind: str, detail: str) -> bool:
        """The agent's confirm callback: a modal with the diff (edits) or the command (shell)."""
        preview = ""
        if kind == "edit" and self._last_call is not None:
            preview = edit_preview(self.workspace, self._last_call.arguments)
        elif kind == "shell":
            preview = detail
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        def done(allowed: bool | None) -> None:
            if not answer.done():
                answer.set_result(bool(allowed))

        screen = ConfirmScreen(kind, detail, preview)
        await self.push_screen(screen, callback=done)
        try:
            allowed = await answer
        except asyncio.CancelledError:
            if screen.is_active:
                screen.dismiss(False)
            raise
        return allowed

    def set_permission_mode(self, mode: str) -> None:
        self.settings.agent.permission_mode = mode  # type: ignore[assignment]
        self.status.set(mode=mode)

    def action_cycle_mode(self) -> None:
        modes = commands.PERMISSION_MODES
        current = self.settings.agent.permission_mode
        nxt = modes[(modes.index(current) + 1) % len(modes)] if current in modes else modes[0]
        self.set_permission_mode(nxt)
        self.notify(f"permission mode: {nxt}", timeout=2)

    # -- input --------------------------------------------------------------------------------
    @on(Input.Changed, "#prompt")
    def _on_prompt_changed(self, event: Input.Changed) -> None:
        names = {n: c.help for n, c in commands.registered_commands().items()}
        try:
            self._completions = complete(event.value, self.path_index, names)
        except OSError:
            self._completions = []
        box = self.query_one("#completions", OptionList)
        box.clear_options()
        if not self._completions:
            box.display = False
            return
        box.add_options([Option(Text(c.label) + (Text("  " + c.help, style="dim") if c.help
                                                 else Text()))
                         for c in self._completions])
        box.highlighted = 0
        box.display = True

    def completions_open(self) -> bool:
        return bool(self._completions) and self.query_one("#completions", OptionList).display

    def move_completion(self, delta: int) -> None:
        box = self.query_one("#completions", OptionList)
        current = box.highlighted or 0
        box.highlighted = (current + delta) % len(self._completions)

    def close_completions(self) -> None:
        self._completions = []
        self.query_one("#completions", OptionList).display = False

    def accept_completion(self) -> bool:
        if not self.completions_open():
            return False
        box = self.query_one("#completions", OptionList)
        chosen = self._completions[box.highlighted or 0]
        value = self.prompt.value[: chosen.start] + chosen.replacement
        self.close_completions()
        with self.prompt.prevent(Input.Changed):
            self.prompt.value = value
        self.prompt.cursor_position = len(value)
        return True

    @on(OptionList.OptionSelected, "#completions")
    def _on_completion_clicked(self, event: OptionList.OptionSelected) -> None:
        self.query_one("#completions", OptionList).highlighted = event.option_index
        self.accept_completion()
        self.prompt.focus()

    @on(Input.Submitted, "#prompt")
    async def _on_submit(self, event: Input.Submitted) -> None:
        value = event.value
        if self.completions_open():
            chosen = self._completions[self.query_one("#completions", OptionList).highlighted or 0]
            if not chosen.replacement.startswith("/"):
                self.accept_completion()  # a file path: complete it, keep typing
                return
            value = chosen.replacement  # a command name: run it
        text = value.strip()
        self.close_completions()
        if not text:
            return
        if text.startswith("/"):
            self.prompt.remember(text)
            self.prompt.value = ""
            await self.run_command(text)
        elif self.turn_running:  # keep what was typed; it can be sent when the turn ends
            self.notify("a turn is running: wait, or Ctrl+C to cancel it", severity="warning")
        else:
            self.prompt.remember(text)
            self.prompt.value = ""
            await self.submit_task(text)

    async def run_command(self, line: str) -> None:
        await self.add_entry(UserMessage(line))
        ctx = commands.CommandContext(self, self.workspace, self.settings, self.session)
        try:
            result = await commands.dispatch(ctx, line)
        except Exception as exc:  # noqa: BLE001 - a failing command never takes the UI down
            await self.note(f"{line.split()[0]} failed: {exc}", "error")
            return
        if result is None:
            return
        body = result if isinstance(result, Text) else Text(str(result))
        await self.add_entry(CommandOutput(line.split()[0], body))

    async def submit_task(self, task: str) -> None:
        if self.turn_running:
            self.notify("a turn is running: wait, or Ctrl+C to cancel it", severity="warning")
            return
        await self.add_entry(UserMessage(task))
        if self.session is None:
            why = self.session_error or "the model session is still starting"
            await self.note(f"cannot run the task: {why}", "error")
            return
        self.turn_running = True
        self.status.set(busy=True, busy_since=time.monotonic())
        self.turn_worker = self.run_worker(self._run_turn(task), name="turn", group="turn",
                                           exit_on_error=False)

    async def _run_turn(self, task: str) -> None:
        try:
            # the task path `smallcode run` takes: plan, session log, metrics, ledger, saved
            await self.session.run_task(task, self.handle_event)
        except Exception as exc:  # noqa: BLE001 - shown, the session stays usable
            await self.note(f"the turn failed: {type(exc).__name__}: {exc}", "error")
        finally:
            with contextlib.suppress(Exception):
                await self._end_stream()
            self._stream = None
            self.turn_running = False
            self.status.set(busy=False)
            self.path_index.refresh()

    # -- the event stream ----------------------------------------------------------------------
    async def _end_stream(self) -> None:
        if self._stream is not None:
            stream, self._stream = self._stream, None
            await stream.finish()

    async def handle_event(self, ev: Event) -> None:
        """Render one agent event; the same stream `smallcode run` prints."""
        self.events_seen.append(ev)
        if isinstance(ev, TextDelta):
            if self._stream is None:
                self._stream = AssistantMessage()
                await self.add_entry(self._stream)
            following = self._following()
            await self._stream.add(ev.text)
            self.follow(following)
        elif isinstance(ev, AssistantText):
            if self._stream is not None:
                if self._stream.text.strip() != ev.text.strip():
                    await self._stream.replace(ev.text)
                await self._end_stream()
            else:
                await self.add_entry(AssistantMessage(ev.text))
        elif isinstance(ev, ToolCallEvent):
            if self._stream is not None:
                streamed = self._stream
                await self._end_stream()
                prose = strip_call_text(streamed.text)
                if not prose:
                    await streamed.remove()
                elif prose != streamed.text.strip():
                    await streamed.replace(prose)
            self._last_call = ev
            card = ToolCard(ev.call_id, ev.name, ev.arguments, ev.repaired)
            self.cards[ev.call_id] = card
            await self.add_entry(card)
        elif isinstance(ev, ToolResultEvent):
            found = self.cards.get(ev.call_id)
            if found is None:
                found = ToolCard(ev.call_id, ev.name, {})
                self.cards[ev.call_id] = found
                await self.add_entry(found)
            card = found
            if ev.name == "finish" and ev.ok:
                await card.remove()  # the answer itself follows with the done event
                return
            following = self._following()
            card.set_result(ev.ok, ev.output, ev.diff)
            self.follow(following)
        elif isinstance(ev, PlanUpdate):
            self.plan_panel.display = True
            await self.plan_panel.show_plan(ev.anchor, ev.steps)
        elif isinstance(ev, RouteEvent):
            self.status.set(route=ev.category)
        elif isinstance(ev, UsageEvent):
            self._session_tokens += ev.prompt_tokens + ev.completion_tokens
            self.status.set(context_tokens=ev.prompt_tokens + ev.completion_tokens,
                            context_window=ev.context_window or self.status.info.context_window,
                            session_tokens=self._session_tokens)
        elif isinstance(ev, ErrorEvent):
            self._last_error = ev.message
            await self.note(f"! {ev.message}", "error")
        elif isinstance(ev, NoticeEvent):
            await self.note(f"· {ev.message}")
        elif isinstance(ev, DoneEvent):
            await self._end_stream()
            self.last_done = ev
            if ev.reason == "finished" and ev.summary:
                await self.add_entry(AssistantMessage(ev.summary))
            mark = "✓" if ev.success else "✗"
            tokens = human_tokens(ev.prompt_tokens + ev.completion_tokens)
            reason = "stopped (see above)" if ev.reason == self._last_error else ev.reason
            self._last_error = ""
            await self.note(f"{mark} {reason} — {ev.turns} turns, {ev.tool_calls} tool calls, "
                            f"{tokens} tokens", "done" if ev.success else "failed")

    # -- actions used by commands --------------------------------------------------------------
    async def show_diff(self, diff: str) -> None:
        await self.add_entry(DiffBlock(diff))

    async def clear_chat(self) -> None:
        await self.chat.remove_children()
        self.cards.clear()
        self._stream = None

    async def toggle_plan(self) -> bool:
        panel = self.plan_panel
        panel.display = not panel.display
        return bool(panel.display)

    async def action_toggle_plan(self) -> None:
        await self.toggle_plan()

    async def action_clear_screen(self) -> None:
        if not self.turn_running:
            await self.clear_chat()

    async def show_history(self, messages: list[dict[str, Any]]) -> None:
        """Show a resumed conversation: its user requests and the model's texts."""
        await self.clear_chat()
        for m in messages:
            content = m.get("content")
            if not isinstance(content, str) or not content.strip():
                continue
            if m.get("role") == "user" and not content.startswith("["):
                await self.add_entry(UserMessage(content.split("\n\n")[0]))
            elif m.get("role") == "assistant":
                prose = strip_call_text(content)
                if prose:
                    await self.add_entry(AssistantMessage(prose))

    # -- cancel / exit ------------------------------------------------------------------------
    async def action_interrupt(self) -> None:
        """Ctrl+C: cancel the running turn (the session stays); when idle, clear the prompt, or
        exit on a second press."""
        if self.turn_running and self.session is not None:
            self.session.agent.cancel()
            if self.turn_worker is not None:
                self.turn_worker.cancel()
            await self.note("cancelling the turn…", "refused")
            return
        if self.prompt.value:
            self.prompt.value = ""
            return
        now = time.monotonic()
        if now - self._last_interrupt < EXIT_CONFIRM_SECONDS:
            self.exit(0)
            return
        self._last_interrupt = now
        self.notify("press Ctrl+C again to exit", timeout=EXIT_CONFIRM_SECONDS)
