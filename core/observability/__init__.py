"""Observability of a run: structured JSON logs, metrics, token accounting — all fed by the
agent's event stream, so the agent loop needs no hooks.

Wiring a run (``cmd_run``, the TUI)::

    obs = RunObservability.open(workspace_root, session_id, verbose=args.verbose, model=name,
                                prior_usage=saved_usage, prior_tasks=len(saved_tasks))
    obs.task_started(task)
    done = await agent.run(task, obs.wrap(printer))      # printer sees every event too
    summary = obs.finish(client)                          # a UsageSummary event
    obs.close()
"""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TextIO

from smallcode.core.events import Event

from .jsonlog import EventLogger, JsonLogWriter, log_path, readable, tee
from .metrics import AgentMetrics, MetricsHub, attach_hub, parse_families, with_label
from .timing import EventClock, Timing
from .tokens import TokenLedger, TokenTotals, UsageSummary, format_totals, format_usage

__all__ = [
    "AgentMetrics",
    "EventClock",
    "EventLogger",
    "JsonLogWriter",
    "MetricsHub",
    "RunObservability",
    "Timing",
    "TokenLedger",
    "TokenTotals",
    "UsageSummary",
    "attach_hub",
    "format_totals",
    "format_usage",
    "log_path",
    "parse_families",
    "readable",
    "tee",
    "with_label",
]


@dataclass
class RunObservability:
    """The logger, the metrics and the token ledger of one session, as one ``emit`` wrapper."""

    logger: EventLogger | None
    metrics: AgentMetrics
    ledger: TokenLedger

    @classmethod
    def open(cls, workspace_root: str | os.PathLike[str], session_id: str, *,
             verbose: bool = False, model: str = "", mirror: TextIO | None = None,
             metrics: AgentMetrics | None = None, prior_usage: Any = None,
             prior_tasks: int = 0, log: bool = True) -> RunObservability:
        """``verbose`` mirrors log lines to ``mirror`` (stderr by default). A resumed session
        passes its saved ``usage`` dict as ``prior_usage`` and its task count as ``prior_tasks``
        (log records then number tasks on from there). With ``log=False`` nothing is written."""
        logger = None
        if log:
            logger = EventLogger.for_session(
                workspace_root, session_id, model=model,
                mirror=(mirror or sys.stderr) if verbose else None)
            logger.clock.task = max(0, prior_tasks)
        ledger = TokenLedger(session_id=session_id, prior=TokenTotals.from_dict(prior_usage))
        return cls(logger, metrics or AgentMetrics(), ledger)

    def wrap(self, *sinks: Callable[[Event], Any]) -> Callable[[Event], Awaitable[None] | None]:
        """An ``emit`` that feeds the ledger, metrics and log, then ``sinks`` (e.g. the printer)."""
        return tee(self.ledger, self.metrics, self.logger, *sinks)  # type: ignore[arg-type]

    def task_started(self, task: str) -> None:
        if self.logger is not None:
            self.logger.task_started(task)

    def finish(self, client: Any = None) -> UsageSummary:
        """After a task: fold in the client's retries, log and return the usage summary."""
        if client is not None:
            self.metrics.observe_client(client)
        summary = self.ledger.summary_event()
        if self.logger is not None:
            self.logger.log("usage_summary", {"task_usage": summary.task,
                                              "session_usage": summary.session})
        return summary

    def close(self) -> None:
        if self.logger is not None:
            self.logger.close()
