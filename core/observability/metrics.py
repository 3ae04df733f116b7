"""Agent metrics derived from the event stream, and merging metrics from several actors.

:class:`AgentMetrics` is an event sink (put it in :func:`~.jsonlog.tee`) that keeps counters,
histograms and gauges about model calls, tool calls, repairs, routes, plan steps, undo and tasks
in a :class:`~smallcode.core.observability.prometheus.MetricsRegistry` (the gateway's registry class,
reused: one exposition format for the whole product). :class:`MetricsHub` merges the Prometheus
text pushed by other processes (step workers, runs attached to a serve) under an ``actor`` label;
:func:`attach_hub` makes a registry's ``render()`` — e.g. the gateway's ``/metrics`` — include it.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from smallcode.core.events import (
    DoneEvent,
    ErrorEvent,
    Event,
    NoticeEvent,
    PlanUpdate,
    RouteEvent,
    ToolCallEvent,
    ToolResultEvent,
    UsageEvent,
)
from smallcode.core.observability.prometheus import (
    Counter,
    Gauge,
    Histogram,
    MetricsRegistry,
    _Metric,
)

from .timing import EventClock

TOKEN_BUCKETS = (64, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072)
UNDO_KINDS = ("rollback", "undo")


class AgentMetrics:
    """Counters, histograms and gauges of one agent process, fed by its events.

    Call it with every event (it is an ``emit`` sink). Model retries are not events: call
    :meth:`observe_client` with the model client after a task (or any time) to fold in
    ``client.retries``. Undo outside the event stream (``smallcode undo``) goes through
    :meth:`record_undo`.
    """

    def __init__(self, registry: MetricsRegistry | None = None):
        self.registry = registry if registry is not None else MetricsRegistry()
        r = self.registry
        self.model_calls: Counter = r.counter("smallcode_model_calls_total",
                                              "model calls that returned a reply")
        self.model_seconds: Histogram = r.histogram(
            "smallcode_model_call_seconds", "model call latency, request to usage")
        self.first_token_seconds: Histogram = r.histogram(
            "smallcode_model_first_token_seconds", "time to the first streamed token")
        self.prompt_tokens: Counter = r.counter("smallcode_model_prompt_tokens_total",
                                                "prompt tokens, as the server reported them")
        self.completion_tokens: Counter = r.counter("smallcode_model_completion_tokens_total",
                                                    "completion tokens")
        self.cached_tokens: Counter = r.counter(
            "smallcode_model_cached_prompt_tokens_total",
            "prompt tokens served from the server's prompt cache")
        self.prompt_size: Histogram = r.histogram(
            "smallcode_model_prompt_tokens", "prompt tokens per call", buckets=TOKEN_BUCKETS)
        self.context_fill: Gauge = r.gauge("smallcode_model_context_fill_ratio",
                                           "prompt tokens / context window of the last call")
        self.retries: Counter = r.counter("smallcode_model_retries_total",
                                          "model requests retried by the client")
        self.repairs: Counter = r.counter("smallcode_toolcall_repairs_total",
                                          "tool calls recovered from malformed output, by format",
                                          ("format",))
        self.tool_calls: Counter = r.counter("smallcode_tool_calls_total",
                                             "tool calls, by tool and outcome (ok|failed)",
                                             ("tool", "outcome"))
        self.tool_seconds: Histogram = r.histogram("smallcode_tool_call_seconds",
                                                   "tool execution time", ("tool",))
        self.routes: Counter = r.counter("smallcode_routes_total", "routing decisions, by category",
                                         ("category",))
        self.plan_updates: Counter = r.counter("smallcode_plan_updates_total", "plan updates")
        self.plan_steps: Gauge = r.gauge("smallcode_plan_steps",
                                         "steps of the current plan, by status", ("status",))
        self.plan_transitions: Counter = r.counter(
            "smallcode_plan_step_transitions_total", "plan steps entering a status", ("status",))
        self.undo: Counter = r.counter("smallcode_undo_total",
                                       "changes reverted (rollback|undo)", ("kind",))
        self.tasks: Counter = r.counter("smallcode_tasks_total", "tasks, by outcome",
                                        ("outcome",))
        self.task_seconds: Histogram = r.histogram("smallcode_task_seconds", "task wall time")
        self.errors: Counter = r.counter("smallcode_errors_total", "error events",
                                         ("recoverable",))
        self.clock = EventClock()
        self._step_status: dict[Any, str] = {}
        self._plan_statuses: set[str] = set()
        self._retries_seen: dict[int, int] = {}
        self._lock = threading.Lock()

    def __call__(self, ev: Event) -> None:
        with self._lock:
            self._observe(ev)

    def _observe(self, ev: Event) -> None:
        t = self.clock.observe(ev)
        if isinstance(ev, UsageEvent):
            self.model_calls.inc()
            if t.model_seconds is not None:
                self.model_seconds.observe(t.model_seconds)
            if t.first_token_seconds is not None:
                self.first_token_seconds.observe(t.first_token_seconds)
            self.prompt_tokens.inc(ev.prompt_tokens)
            self.completion_tokens.inc(ev.completion_tokens)
            self.cached_tokens.inc(ev.cached_tokens)
            self.prompt_size.observe(ev.prompt_tokens)
            if ev.context_window > 0:
                self.context_fill.set(round(ev.prompt_tokens / ev.context_window, 4))
        elif isinstance(ev, ToolCallEvent):
            if ev.repaired:
                self.repairs.inc(format=ev.repaired)
        elif isinstance(ev, ToolResultEvent):
            self.tool_calls.inc(tool=ev.name, outcome="ok" if ev.ok else "failed")
            if t.tool_seconds is not None:
                self.tool_seconds.observe(t.tool_seconds, tool=ev.name)
            if ev.name == "undo" and ev.ok:
                self.undo.inc(kind="undo")
        elif isinstance(ev, RouteEvent):
            self.routes.inc(category=ev.category)
        elif isinstance(ev, PlanUpdate):
            self._plan(ev)
        elif isinstance(ev, NoticeEvent):
            if ev.message.startswith("rolled back"):
                self.undo.inc(kind="rollback")
        elif isinstance(ev, ErrorEvent):
            self.errors.inc(recoverable="true" if ev.recoverable else "false")
        elif isinstance(ev, DoneEvent):
            self.tasks.inc(outcome="success" if ev.success else "failure")
            if t.task_seconds is not None:
                self.task_seconds.observe(t.task_seconds)

    def _plan(self, ev: PlanUpdate) -> None:
        self.plan_updates.inc()
        counts: dict[str, int] = {}
        current: dict[Any, str] = {}
        for i, step in enumerate(ev.steps):
            status = str(step.get("status") or "pending")
            key = step.get("n", i)
            current[key] = status
            counts[status] = counts.get(status, 0) + 1
            if self._step_status.get(key) != status:
                self.plan_transitions.inc(status=status)
        self._step_status = current
        self._plan_statuses |= set(counts)
        for status in self._plan_statuses:
            self.plan_steps.set(counts.get(status, 0), status=status)

    def observe_client(self, client: Any) -> None:
        """Fold a model client's retry count (``client.retries``) into the counter."""
        retries = int(getattr(client, "retries", 0) or 0)
        with self._lock:
            seen = self._retries_seen.get(id(client), 0)
            if retries > seen:
                self.retries.inc(retries - seen)
            self._retries_seen[id(client)] = max(seen, retries)

    def record_undo(self, kind: str = "undo", count: int = 1) -> None:
        with self._lock:
            self.undo.inc(count, kind=kind)

    def render(self) -> str:
        with self._lock:
            return self.registry.render()


# -- merging across actors ------------------------------------------------------------------

_SAMPLE = re.compile(r"^([A-Za-z_:][A-Za-z0-9_:]*)(\{.*\})?\s+(\S+)(?:\s+\S+)?$")
_SUFFIXES = ("_bucket", "_sum", "_count")


@dataclass
class _Family:
    name: str
    kind: str = "untyped"
    help: str = ""
    samples: list[str] = field(default_factory=list)


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def parse_families(text: str) -> dict[str, _Family]:
    """Prometheus text → families by name (samples kept as lines). Raises ValueError on a line
    that is neither a comment nor a sample."""
    families: dict[str, _Family] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                fam = families.setdefault(parts[2], _Family(parts[2]))
                if parts[1] == "HELP":
                    fam.help = parts[3] if len(parts) > 3 else ""
                else:
                    fam.kind = parts[3].strip() if len(parts) > 3 else "untyped"
            continue
        m = _SAMPLE.match(line)
        if m is None:
            raise ValueError(f"not a Prometheus sample line: {line[:120]!r}")
        name = m.group(1)
        family = name
        for suffix in _SUFFIXES:
            base = name[: -len(suffix)]
            if name.endswith(suffix) and base in families and \
                    families[base].kind in ("histogram", "summary"):
                family = base
                break
        families.setdefault(family, _Family(family)).samples.append(line)
    return families


def with_label(sample: str, label: str, value: str) -> str:
    """Add ``label="value"`` to one sample line (first position)."""
    m = _SAMPLE.match(sample)
    if m is None:
        raise ValueError(f"not a Prometheus sample line: {sample[:120]!r}")
    pair = f'{label}="{_escape_label(value)}"'
    labels = m.group(2)
    inner = pair if not labels or labels == "{}" else pair + "," + labels[1:-1]
    rest = sample[m.end(1) + len(labels or ""):]
    return f"{m.group(1)}{{{inner}}}{rest}"


class MetricsHub:
    """Latest metrics text per source (``actor`` label), merged into one exposition.

    Sources push their whole registry text (counters are cumulative per process, so the latest
    push replaces the previous one). A source silent for ``ttl_s`` is dropped.
    """

    def __init__(self, ttl_s: float = 600.0, label: str = "actor"):
        self.ttl_s = ttl_s
        self.label = label
        self._pushed: dict[str, tuple[float, dict[str, _Family]]] = {}
        self._lock = threading.Lock()

    def push(self, source: str, text: str, now: float | None = None) -> None:
        """Store ``text`` (Prometheus format) as ``source``'s metrics. Raises ValueError for an
        empty source name or unparsable text (nothing stored then)."""
        if not source or not source.strip():
            raise ValueError("a metrics source needs a name")
        families = parse_families(text)
        with self._lock:
            self._pushed[source] = (time.time() if now is None else now, families)

    def forget(self, source: str) -> None:
        with self._lock:
            self._pushed.pop(source, None)

    def sources(self, now: float | None = None) -> list[str]:
        self._expire(time.time() if now is None else now)
        with self._lock:
            return sorted(self._pushed)

    def _expire(self, now: float) -> None:
        with self._lock:
            for source in [s for s, (ts, _) in self._pushed.items() if now - ts > self.ttl_s]:
                del self._pushed[source]

    def lines(self, now: float | None = None, skip: Iterable[str] = ()) -> list[str]:
        """The merged pushed metrics (families sorted by name; ``skip`` names left out)."""
        self._expire(time.time() if now is None else now)
        merged: dict[str, _Family] = {}
        skipped = set(skip)
        with self._lock:
            snapshot = sorted(self._pushed.items())
        for source, (_, families) in snapshot:
            for name, fam in families.items():
                if name in skipped:
                    continue
                target = merged.setdefault(name, _Family(name, fam.kind, fam.help))
                if target.kind != fam.kind:
                    continue  # the same name with another type from another source: keep the first
                target.samples.extend(with_label(s, self.label, source) for s in fam.samples)
        out: list[str] = []
        for name in sorted(merged):
            fam = merged[name]
            if not fam.samples:
                continue
            out.append(f"# HELP {name} {fam.help}")
            out.append(f"# TYPE {name} {fam.kind}")
            out.extend(fam.samples)
        return out

    def render(self, local: str = "", local_source: str = "") -> str:
        """``local`` text (unchanged, or labelled ``local_source`` when given) plus the pushed
        metrics; a family present in both is labelled and merged."""
        if local_source and local:
            self.push(local_source, local)
            text = "\n".join(self.lines())
            self.forget(local_source)
            return text + "\n" if text else ""
        local_names = set(parse_families(local)) if local else set()
        pushed = self.lines(skip=local_names)
        parts = [local.rstrip("\n")] if local.strip() else []
        if pushed:
            parts.append("\n".join(pushed))
        return "\n".join(parts) + "\n" if parts else ""


class _HubCollector(_Metric):
    """Renders a hub's merged metrics inside another registry's output."""

    kind = "collector"

    def __init__(self, hub: MetricsHub, name: str):
        super().__init__(name, "pushed metrics")
        self.hub = hub

    def header(self) -> list[str]:
        return []

    def samples(self) -> Iterable[str]:
        return self.hub.lines()


def attach_hub(registry: MetricsRegistry, hub: MetricsHub, name: str = "~pushed") -> None:
    """Make ``registry.render()`` end with the hub's merged metrics (the gateway's ``/metrics``
    then shows every actor that pushes). Pushed families must not reuse the registry's names."""
    registry._register(_HubCollector(hub, name))
