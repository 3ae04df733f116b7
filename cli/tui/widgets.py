"""The TUI's widgets: chat entries, tool cards with diffs, the plan panel, the status line and
the confirmation modal. Each one shows data it is given; none of them decides anything."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Collapsible, Label, Markdown, Static
from textual.widgets.markdown import MarkdownStream

KEY_ARGUMENTS = ("path", "command", "query", "pattern", "name", "summary", "url", "symbol")
STEP_MARKS = {"done": "✓", "active": "→", "pending": "·", "failed": "✗", "skipped": "–"}
MAX_DIFF_LINES = 400
_FENCED_CALL_RE = re.compile(r"```[\w-]*\s*\{.*?\}\s*(```|$)", re.DOTALL)
_TAGGED_CALL_RE = re.compile(r"<tool_call>.*?(</tool_call>|$)", re.DOTALL)
_BARE_CALL_RE = re.compile(r"\{\s*\"(name|tool)\"\s*:.*\}\s*$", re.DOTALL)


def shorten(value: object, limit: int = 60) -> str:
    """One line, at most ``limit`` characters."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def key_arguments(arguments: dict[str, Any], limit: int = 2) -> str:
    """The arguments that identify a call (path, command, query...), shortened, for a card title."""
    keys = [k for k in KEY_ARGUMENTS if k in arguments]
    keys += [k for k in arguments if k not in keys and isinstance(arguments[k], (int, float))]
    shown = [f"{k}={shorten(arguments[k], 48)}" for k in keys[:limit]]
    return "  ".join(shown)


def diff_text(diff: str, max_lines: int = MAX_DIFF_LINES) -> Text:
    """A unified diff coloured line by line: additions green, removals red, hunks cyan."""
    out = Text(no_wrap=False)
    lines = diff.splitlines()
    for line in lines[:max_lines]:
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        elif line.startswith("@@"):
            style = "cyan"
        elif line.startswith(("diff ", "index ")):
            style = "bold dim"
        else:
            style = "dim"
        out.append(line + "\n", style=style)
    if len(lines) > max_lines:
        out.append(f"… {len(lines) - max_lines} more lines\n", style="italic dim")
    return out


def strip_call_text(text: str) -> str:
    """Streamed text without the tool call written into it (text mode: a fenced JSON block, a
    <tool_call> tag or a bare JSON object) — the tool card shows the call instead."""
    for rx in (_FENCED_CALL_RE, _TAGGED_CALL_RE, _BARE_CALL_RE):
        text = rx.sub("", text)
    return text.strip()


class UserMessage(Static):
    """What the user typed."""

    def __init__(self, text: str) -> None:
        super().__init__(Text("› ", style="bold") + Text(text), classes="user-message")
        self.text = text


class AssistantMessage(Markdown):
    """The model's text: streamed token by token, rendered as markdown with highlighted code.

    Deltas go through a :class:`MarkdownStream`, which batches whatever arrived while the last
    batch was rendering; :meth:`finish` renders the whole text once more so the end result is
    exactly the text received."""

    def __init__(self, text: str = "") -> None:
        super().__init__(text, classes="assistant-message")
        self.text = text
        self._stream: MarkdownStream | None = None

    async def add(self, chunk: str) -> None:
        self.text += chunk
        if self._stream is None:
            self._stream = Markdown.get_stream(self)
        await self._stream.write(chunk)

    async def finish(self) -> None:
        if self._stream is not None:
            stream, self._stream = self._stream, None
            await stream.stop()
            await self.update(self.text)

    async def replace(self, text: str) -> None:
        if self._stream is not None:
            stream, self._stream = self._stream, None
            await stream.stop()
        self.text = text
        await self.update(text)


class NoteLine(Static):
    """A one-line notice, error or command output from the UI itself."""

    def __init__(self, text: str | Text, kind: str = "notice") -> None:
        super().__init__(text, classes=f"note note-{kind}", markup=False)
        self.kind = kind
        self.text = text.plain if isinstance(text, Text) else text


class CommandOutput(Static):
    """The output of a slash command (plain text, or a coloured diff)."""

    def __init__(self, title: str, body: RenderableType) -> None:
        super().__init__(body, classes="command-output")
        self.title = title
        self.body_text = body.plain if isinstance(body, Text) else str(body)


class ToolCard(Vertical):
    """One tool call: a compact title (status, name, key arguments, result summary) that expands
    to the full arguments and output; an edit's coloured diff shows below it."""

    def __init__(self, call_id: str, name: str, arguments: dict[str, Any], repaired: str = ""):
        self.call_id = call_id
        self.tool_name = name
        self.arguments = arguments
        self.repaired = repaired
        self.ok: bool | None = None
        self.output = ""
        self.diff = ""
        self._result = Static("", classes="tool-output")
        self.details = Collapsible(Static(self._arguments_renderable(), classes="tool-args"),
                                   self._result, title=self.title_text(), collapsed=True)
        self._diff = Static("", classes="tool-diff")
        self._diff.display = False
        super().__init__(self.details, self._diff, classes="tool-card running")

    def _arguments_renderable(self) -> RenderableType:
        body = json.dumps(self.arguments, indent=2, ensure_ascii=False)
        if len(body) > 4000:
            body = body[:4000] + "\n…"
        syntax = Syntax(body, "json", theme="ansi_dark", word_wrap=True, background_color="default")
        if self.repaired:
            return Group(Text(f"recovered: {self.repaired}", style="yellow"), syntax)
        return syntax

    def title_text(self) -> str:
        mark = {None: "…", True: "✓", False: "✗"}[self.ok]
        title = f"{mark} {self.tool_name}"
        args = key_arguments(self.arguments)
        if args:
            title += f"  {args}"
        if self.ok is not None:
            summary = self.summary()
            if summary not in title:
                title += f"  — {summary}"
        return title

    def summary(self) -> str:
        """The result in a few words: lines added/removed, or the output's first line."""
        if self.diff:
            lines = self.diff.splitlines()
            plus = sum(1 for ln in lines if ln.startswith("+") and not ln.startswith("+++"))
            minus = sum(1 for ln in lines if ln.startswith("-") and not ln.startswith("---"))
            return f"+{plus} −{minus}"
        first = next((ln for ln in self.output.splitlines() if ln.strip()), "")
        lines_n = len(self.output.splitlines())
        more = f" (+{lines_n - 1} lines)" if lines_n > 1 else ""
        return shorten(first, 50) + more if first else "no output"

    def set_result(self, ok: bool, output: str, diff: str) -> None:
        self.ok = ok
        self.output = output
        self.diff = diff
        self.remove_class("running")
        self.add_class("ok" if ok else "failed")
        self.details.title = self.title_text()
        out = output if len(output) <= 6000 else output[:6000] + "\n…"
        self._result.update(Text(out, style="" if ok else "red"))
        if diff:
            self._diff.update(diff_text(diff))
            self._diff.display = True


class DiffBlock(Static):
    """A coloured diff shown outside a card (e.g. the `/diff` command)."""

    def __init__(self, diff: str) -> None:
        super().__init__(diff_text(diff), classes="diff-block")
        self.diff = diff


class PlanStep(Static):
    """One plan step with its status mark."""

    def __init__(self, step: dict[str, Any]) -> None:
        status = str(step.get("status", "pending"))
        mark = STEP_MARKS.get(status, "?")
        text = Text(f"{mark} {step.get('n', '?')}. ", style="bold")
        text.append(str(step.get("text", "")))
        super().__init__(text, classes=f"plan-step step-{status}")
        self.step = step


class PlanPanel(VerticalScroll):
    """The plan anchor: the goal, then the steps; steps of one parallel batch side by side."""

    def __init__(self) -> None:
        super().__init__(id="plan-panel")
        self.border_title = "plan"
        self.anchor_text = ""
        self.steps: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield Static("no plan yet", id="plan-anchor")
        yield Vertical(id="plan-steps")

    @staticmethod
    def rows(steps: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
        """Steps in order; consecutive steps sharing a ``batch`` form one row."""
        rows: list[list[dict[str, Any]]] = []
        for step in steps:
            batch = step.get("batch")
            if rows and batch is not None and rows[-1][0].get("batch") == batch:
                rows[-1].append(step)
            else:
                rows.append([step])
        return rows

    async def show_plan(self, anchor: str, steps: list[dict[str, Any]]) -> None:
        self.anchor_text = anchor
        self.steps = [dict(s) for s in steps]
        done = sum(1 for s in steps if s.get("status") == "done")
        self.border_subtitle = f"{done}/{len(steps)} done" if steps else ""
        first = anchor.strip().splitlines()[0] if anchor.strip() else ""
        self.query_one("#plan-anchor", Static).update(Text(first, style="bold"))
        box = self.query_one("#plan-steps", Vertical)
        await box.remove_children()
        widgets: list[Widget] = []
        for row in self.rows(self.steps):
            if len(row) == 1:
                widgets.append(PlanStep(row[0]))
            else:
                batch = Horizontal(*[PlanStep(s) for s in row], classes="plan-batch")
                batch.border_title = f"batch {row[0].get('batch')}"
                widgets.append(batch)
        await box.mount_all(widgets)


@dataclass
class StatusInfo:
    """What the status line shows."""

    model: str = "connecting…"
    backend: str = ""
    source: str = ""
    route: str = ""
    context_tokens: int = 0
    context_window: int = 0
    session_tokens: int = 0
    mode: str = "ask"
    busy: bool = False
    busy_since: float = 0.0  # time.monotonic() when the running turn started
    queue: str | None = None  # gateway queue, only when attached to `smallcode serve`


def human_tokens(n: int) -> str:
    return f"{n / 1000:.1f}k" if n >= 1000 else str(n)


class StatusLine(Static):
    """permission mode · model (backend, endpoint) · route · tokens used of the real window ·
    session tokens · gateway queue — the most important first, as narrow terminals cut the end."""

    def __init__(self) -> None:
        super().__init__("", id="status-line")
        self.info = StatusInfo()

    def set(self, **changes: Any) -> None:
        for key, value in changes.items():
            setattr(self.info, key, value)
        self.update(self.render_info())

    def render_info(self) -> Text:
        i = self.info
        t = Text()
        t.append("● " if i.busy else "○ ", style="yellow" if i.busy else "green")
        if i.busy and i.busy_since:
            t.append(f"{time.monotonic() - i.busy_since:.0f}s ", style="yellow")
        t.append(i.mode, style={"ask": "green", "auto-edit": "yellow", "yolo": "bold red"}
                 .get(i.mode, ""))
        t.append("  ")
        t.append(i.model, style="bold")
        if i.backend or i.source:
            t.append(f" ({', '.join(x for x in (i.backend, i.source) if x)})", style="dim")
        if i.route:
            t.append("  route ", style="dim")
            t.append(i.route)
        if i.context_window:
            pct = 100 * i.context_tokens / i.context_window
            t.append("  ctx ", style="dim")
            t.append(f"{human_tokens(i.context_tokens)}/{human_tokens(i.context_window)}",
                     style="red" if pct > 85 else ("yellow" if pct > 60 else ""))
            t.append(f" ({pct:.0f}%)", style="dim")
        if i.session_tokens:
            t.append(f"  Σ {human_tokens(i.session_tokens)} tok", style="dim")
        if i.queue is not None:
            t.append("  queue ", style="dim")
            t.append(i.queue)
        return t


class ConfirmScreen(ModalScreen[bool]):
    """Asks whether a write or a shell command may run; shows the diff or the command."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("y", "answer(True)", "allow"), Binding("n", "answer(False)", "refuse"),
                Binding("escape", "answer(False)", "refuse")]

    def __init__(self, kind: str, detail: str, preview: str = "") -> None:
        super().__init__()
        self.kind = kind
        self.detail = detail
        self.preview = preview

    def compose(self) -> ComposeResult:
        what = "run this command" if self.kind == "shell" else "change this file"
        with Vertical(id="confirm-box"):
            yield Label(Text(f"Allow the agent to {what}?", style="bold"), id="confirm-question")
            yield Static(Text(self.detail, style="bold yellow"), id="confirm-detail")
            if self.preview:
                body: RenderableType = diff_text(self.preview) if self.kind == "edit" \
                    else Syntax(self.preview, "bash", theme="ansi_dark",
                                background_color="default")
                with VerticalScroll(id="confirm-preview"):
                    yield Static(body)
            with Horizontal(id="confirm-buttons"):
                yield Button("Allow (y)", variant="success", id="allow")
                yield Button("Refuse (n)", variant="error", id="refuse")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "allow")

    def action_answer(self, allowed: bool) -> None:
        self.dismiss(allowed)
