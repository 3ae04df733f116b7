"""Rendering the event stream for a terminal (human progress) or as JSON lines."""

from __future__ import annotations

import json
import sys
from typing import TextIO

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


def _short(value: object, n: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    text = text.replace("\n", "⏎")
    return text if len(text) <= n else text[: n - 1] + "…"


class JsonPrinter:
    """One JSON object per line, exactly the event's fields."""

    def __init__(self, out: TextIO = sys.stdout):
        self.out = out

    def __call__(self, ev: Event) -> None:
        self.out.write(ev.model_dump_json() + "\n")
        self.out.flush()


class HumanPrinter:
    """Compact progress for a person watching a headless run."""

    def __init__(self, out: TextIO = sys.stderr, verbose: bool = False):
        self.out = out
        self.verbose = verbose
        self._streaming = False
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.cached_tokens = 0

    def _line(self, text: str) -> None:
        if self._streaming:
            self.out.write("\n")
            self._streaming = False
        self.out.write(text + "\n")
        self.out.flush()

    def __call__(self, ev: Event) -> None:
        if isinstance(ev, TextDelta):
            if self.verbose:
                self.out.write(ev.text)
                self._streaming = True
                self.out.flush()
        elif isinstance(ev, RouteEvent):
            self._line(f"· route: {ev.category} ({len(ev.tools)} tools)")
        elif isinstance(ev, ToolCallEvent):
            args = ", ".join(f"{k}={_short(v, 60)}" for k, v in ev.arguments.items())
            fix = f"  [recovered: {ev.repaired}]" if ev.repaired else ""
            self._line(f"→ {ev.name}({args}){fix}")
        elif isinstance(ev, ToolResultEvent):
            mark = "✓" if ev.ok else "✗"
            first = ev.output.strip().splitlines()[0] if ev.output.strip() else ""
            self._line(f"  {mark} {_short(first, 100)}")
            if ev.diff:
                for line in ev.diff.splitlines()[:40]:
                    self._line("    " + line)
        elif isinstance(ev, AssistantText):
            self._line(ev.text)
        elif isinstance(ev, PlanUpdate):
            self._line(ev.anchor)
        elif isinstance(ev, UsageEvent):
            self.prompt_tokens += ev.prompt_tokens
            self.completion_tokens += ev.completion_tokens
            self.cached_tokens += ev.cached_tokens
        elif isinstance(ev, ErrorEvent):
            self._line(f"! {ev.message}")
        elif isinstance(ev, NoticeEvent):
            self._line(f"· {ev.message}")
        elif isinstance(ev, DoneEvent):
            verdict = "done" if ev.success else "not done"
            self._line(f"{verdict}: {ev.reason} — {ev.turns} turns, {ev.tool_calls} tool calls")
            if ev.summary:
                self._line(ev.summary)
