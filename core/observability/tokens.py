"""Token accounting per task and per session, from the event stream.

:class:`TokenLedger` is an event sink: each :class:`UsageEvent` adds to the current task and the
session; a :class:`DoneEvent` closes the task. :meth:`TokenLedger.summary_event` returns a
``usage_summary`` event (emit it after ``done`` for ``--json``); :func:`format_usage` is the line
`smallcode run` prints at the end.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from pydantic import Field
from smallcode.core.events import DoneEvent, Event, UsageEvent


@dataclass
class TokenTotals:
    """Tokens of some model calls; ``cached_tokens`` is the part of ``prompt_tokens`` the server
    served from its prompt cache (0 when the server does not report it)."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0

    def add_usage(self, ev: UsageEvent) -> None:
        self.calls += 1
        self.prompt_tokens += ev.prompt_tokens
        self.completion_tokens += ev.completion_tokens
        self.cached_tokens += ev.cached_tokens

    def add(self, other: TokenTotals) -> None:
        self.calls += other.calls
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.cached_tokens += other.cached_tokens

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def uncached_prompt_tokens(self) -> int:
        return max(0, self.prompt_tokens - self.cached_tokens)

    def as_dict(self) -> dict[str, int]:
        return {**asdict(self), "total_tokens": self.total_tokens}

    @classmethod
    def from_dict(cls, data: Any) -> TokenTotals:
        if not isinstance(data, dict):
            return cls()
        def num(key: str) -> int:
            value = data.get(key, 0)
            return int(value) if isinstance(value, int | float) and value >= 0 else 0
        return cls(num("calls"), num("prompt_tokens"), num("completion_tokens"),
                   num("cached_tokens"))


class UsageSummary(Event):
    """Token totals of the task that just ended and of the whole session (so far)."""

    type: Literal["usage_summary"] = "usage_summary"
    session_id: str = ""
    task_index: int = 0
    task: dict[str, int] = Field(default_factory=dict)
    session: dict[str, int] = Field(default_factory=dict)


@dataclass
class TokenLedger:
    """Per-task and per-session token totals. ``prior`` seeds the session with the totals of a
    resumed session (as saved under the session's ``usage``)."""

    session_id: str = ""
    prior: TokenTotals = field(default_factory=TokenTotals)
    current: TokenTotals = field(default_factory=TokenTotals)
    tasks: list[TokenTotals] = field(default_factory=list)

    def __call__(self, ev: Event) -> None:
        if isinstance(ev, UsageEvent):
            self.current.add_usage(ev)
        elif isinstance(ev, DoneEvent) and ev.step is None:  # a plan step's end is not the task's
            self.tasks.append(self.current)
            self.current = TokenTotals()

    @property
    def last_task(self) -> TokenTotals:
        """The task that ended last (or the one in progress, before any ended)."""
        return self.tasks[-1] if self.tasks else self.current

    @property
    def session(self) -> TokenTotals:
        total = TokenTotals()
        total.add(self.prior)
        for t in self.tasks:
            total.add(t)
        total.add(self.current)
        return total

    def summary_event(self) -> UsageSummary:
        return UsageSummary(session_id=self.session_id, task_index=len(self.tasks),
                            task=self.last_task.as_dict(), session=self.session.as_dict())


def _n(value: int) -> str:
    return f"{value:,}"


def format_totals(t: TokenTotals) -> str:
    """``12,345 prompt (8,000 cached) + 456 completion in 7 calls``."""
    cached = f" ({_n(t.cached_tokens)} cached)" if t.cached_tokens else ""
    calls = "1 call" if t.calls == 1 else f"{t.calls} calls"
    return f"{_n(t.prompt_tokens)} prompt{cached} + {_n(t.completion_tokens)} completion in {calls}"


def format_usage(ledger: TokenLedger) -> str:
    """The end-of-run line: this task, and the session when it spans more than this task."""
    task = ledger.last_task
    line = f"tokens: task {format_totals(task)}"
    session = ledger.session
    if session.calls != task.calls:
        line += f" · session {format_totals(session)}"
    return line
