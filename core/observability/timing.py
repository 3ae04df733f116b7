"""Turn numbers and durations read from the agent's event stream alone (no agent hooks).

A *turn* is one model call: its :class:`UsageEvent` closes it, and the tool calls that follow
belong to it. A model call's latency is the time from the previous boundary event (route, tool
result, notice, the task's first event) to its ``UsageEvent``; a tool's duration is the time from
its ``ToolCallEvent`` to the matching ``ToolResultEvent``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from smallcode.core.events import (
    DoneEvent,
    Event,
    TextDelta,
    ToolCallEvent,
    ToolResultEvent,
    UsageEvent,
)


@dataclass
class Timing:
    """What :meth:`EventClock.observe` learned from one event."""

    turn: int
    task: int
    model_seconds: float | None = None  # on a UsageEvent
    first_token_seconds: float | None = None  # on a UsageEvent, when the reply streamed
    tool_seconds: float | None = None  # on a ToolResultEvent
    task_seconds: float | None = None  # on a DoneEvent


@dataclass
class EventClock:
    """Follows one agent's events across tasks; ``observe`` must see every event in order."""

    task: int = 0
    turn: int = 0
    _task_start: float | None = None
    _boundary: float | None = None
    _first_delta: float | None = None
    _tool_start: dict[str, float] = field(default_factory=dict)

    def observe(self, ev: Event) -> Timing:
        ts = ev.ts
        if self._task_start is None:  # the first event of a task
            self.task += 1
            self.turn = 0
            self._task_start = self._boundary = ts
            self._tool_start.clear()
        if isinstance(ev, TextDelta):
            if self._first_delta is None:
                self._first_delta = ts
            return Timing(self.turn + 1, self.task)
        if isinstance(ev, UsageEvent):
            self.turn += 1
            start = self._boundary if self._boundary is not None else ts
            first = None if self._first_delta is None else max(0.0, self._first_delta - start)
            self._first_delta = None
            self._boundary = ts
            return Timing(self.turn, self.task, model_seconds=max(0.0, ts - start),
                          first_token_seconds=first)
        if isinstance(ev, ToolCallEvent):
            self._tool_start[ev.call_id] = ts
            return Timing(self.turn, self.task)
        if isinstance(ev, ToolResultEvent):
            started = self._tool_start.pop(ev.call_id, None)
            self._boundary = ts
            return Timing(self.turn, self.task,
                          tool_seconds=None if started is None else max(0.0, ts - started))
        if isinstance(ev, DoneEvent):
            elapsed = max(0.0, ts - (self._task_start or ts))
            timing = Timing(self.turn, self.task, task_seconds=elapsed)
            self._task_start = self._boundary = self._first_delta = None
            return timing
        self._boundary = ts
        return Timing(self.turn, self.task)
