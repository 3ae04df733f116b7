"""Structured JSON-lines logs per session under ``.smallcode/logs/<session>.jsonl``.

:class:`EventLogger` is an event sink: put it next to the printer with :func:`tee` and every
event of a run becomes one redacted JSON object (event, session, task, turn, tool, duration,
tokens). :class:`JsonLogWriter` appends and rotates by size (``<id>.jsonl.1`` … ``.N``).
``mirror`` prints each record readably (``--verbose``).
"""

from __future__ import annotations

import inspect
import json
import os
import re
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TextIO

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
from smallcode.core.memory.redact import redact, redact_obj

from .timing import EventClock

LOG_DIR = Path(".smallcode") / "logs"
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_BACKUPS = 3
OUTPUT_HEAD_CHARS = 400  # how much of a tool's output a record keeps
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")

Sink = Callable[[Event], Any]


def log_path(workspace_root: str | os.PathLike[str], session_id: str) -> Path:
    """Where a session's log lives. Raises ValueError for an id that is not a plain file name."""
    if not _SAFE_ID.match(session_id) or ".." in session_id:
        raise ValueError(f"not a usable session id for a log file: {session_id!r}")
    return Path(workspace_root) / LOG_DIR / f"{session_id}.jsonl"


class JsonLogWriter:
    """Appends one JSON object per line; when the file would pass ``max_bytes`` it is rotated
    (``x.jsonl`` → ``x.jsonl.1`` → … → ``x.jsonl.<backups>``, the oldest dropped). Thread-safe."""

    def __init__(self, path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES,
                 backups: int = DEFAULT_BACKUPS):
        if max_bytes < 1024:
            raise ValueError("max_bytes must be at least 1024")
        if backups < 0:
            raise ValueError("backups must be 0 or more")
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.backups = backups
        self._lock = threading.Lock()
        self._file: TextIO | None = None
        self._size = 0
        self._flushed = 0.0
        self.flush_interval_s = 0.5
        self.rotations = 0

    def _open(self) -> TextIO:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - kept open
            self._size = self._file.tell()
        return self._file

    def _rotate(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if self.backups == 0:
            self.path.unlink(missing_ok=True)
        else:
            for n in range(self.backups - 1, 0, -1):
                older = self.path.with_name(f"{self.path.name}.{n}")
                if older.exists():
                    os.replace(older, self.path.with_name(f"{self.path.name}.{n + 1}"))
            if self.path.exists():
                os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))
        self.rotations += 1

    def write(self, record: dict[str, Any], *, flush: bool = True) -> str:
        """Append ``record`` (already redacted) and return the line written (without newline).
        With ``flush=False`` the line reaches the file within ``flush_interval_s`` (or at the next
        flushed write, or ``close``)."""
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str)
        size = len(line.encode("utf-8")) + 1
        with self._lock:
            f = self._open()
            if self._size > 0 and self._size + size > self.max_bytes:
                self._rotate()
                f = self._open()
            f.write(line + "\n")
            now = time.monotonic()
            if flush or now - self._flushed >= self.flush_interval_s:
                f.flush()
                self._flushed = now
            self._size += size
        return line

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def _head(text: str, limit: int = OUTPUT_HEAD_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + f"… (+{len(text) - limit} chars)"


class EventLogger:
    """An event sink that writes one record per event (text deltas are folded into the turn's
    ``usage`` record as ``streamed_chars``). Records carry ``ts``, ``event``, ``session``,
    ``task``, ``turn`` and, by kind, ``tool``, ``ok``, ``duration_ms`` and token counts."""

    def __init__(self, writer: JsonLogWriter, session_id: str, *,
                 mirror: TextIO | None = None, model: str = ""):
        self.writer = writer
        self.session_id = session_id
        self.mirror = mirror
        self.model = model
        self.clock = EventClock()
        self._streamed = 0
        self.records = 0

    @classmethod
    def for_session(cls, workspace_root: str | os.PathLike[str], session_id: str, *,
                    mirror: TextIO | None = None, model: str = "",
                    max_bytes: int = DEFAULT_MAX_BYTES, backups: int = DEFAULT_BACKUPS
                    ) -> EventLogger:
        writer = JsonLogWriter(log_path(workspace_root, session_id), max_bytes=max_bytes,
                               backups=backups)
        return cls(writer, session_id, mirror=mirror, model=model)

    def task_started(self, task: str) -> None:
        """Optional: record the task text (the event stream itself does not carry it)."""
        self.log("task", {"text": task, "model": self.model}, task=self.clock.task + 1, turn=0)

    def log(self, event: str, fields: dict[str, Any], *, turn: int | None = None,
            task: int | None = None) -> None:
        """Write one record of any fields (redacted here)."""
        self._write(event, redact_obj(fields), turn, task, flush=True)

    def _write(self, event: str, fields: dict[str, Any], turn: int | None, task: int | None,
               *, flush: bool) -> None:
        record: dict[str, Any] = {
            "ts": round(time.time(), 3), "event": event, "session": self.session_id,
            "task": self.clock.task if task is None else task,
            "turn": self.clock.turn if turn is None else turn}
        record.update(fields)
        self.writer.write(record, flush=flush)
        self.records += 1
        if self.mirror is not None:
            self.mirror.write(readable(record) + "\n")
            self.mirror.flush()

    def __call__(self, ev: Event) -> None:
        t = self.clock.observe(ev)
        if isinstance(ev, TextDelta):
            self._streamed += len(ev.text)
            return
        fields: dict[str, Any]
        if isinstance(ev, UsageEvent):
            fields = {"prompt_tokens": ev.prompt_tokens, "completion_tokens": ev.completion_tokens,
                      "cached_tokens": ev.cached_tokens, "context_window": ev.context_window,
                      "duration_ms": _ms(t.model_seconds)}
            if t.first_token_seconds is not None:
                fields["first_token_ms"] = _ms(t.first_token_seconds)
            if self._streamed:
                fields["streamed_chars"] = self._streamed
            self._streamed = 0
            name = "model_call"
        elif isinstance(ev, ToolCallEvent):
            fields = {"tool": ev.name, "call_id": ev.call_id,
                      "arguments": redact_obj(ev.arguments)}
            if ev.repaired:
                fields["repaired"] = ev.repaired
            name = "tool_call"
        elif isinstance(ev, ToolResultEvent):
            fields = {"tool": ev.name, "call_id": ev.call_id, "ok": ev.ok,
                      "duration_ms": _ms(t.tool_seconds), "output_chars": len(ev.output),
                      "output": _head(redact(ev.output[: OUTPUT_HEAD_CHARS + 400]))}
            if ev.changed_files:
                fields["changed_files"] = ev.changed_files
            if ev.diff:
                fields["diff_lines"] = ev.diff.count("\n") + 1
            name = "tool_result"
        elif isinstance(ev, RouteEvent):
            fields = {"category": ev.category, "tools": ev.tools, "reason": redact(ev.reason)}
            name = "route"
        elif isinstance(ev, PlanUpdate):
            fields = {"steps": [{"n": s.get("n"), "status": s.get("status")} for s in ev.steps]}
            name = "plan"
        elif isinstance(ev, AssistantText):
            fields = {"text": _head(redact(ev.text[:2400]), 2000)}
            name = "assistant_text"
        elif isinstance(ev, ErrorEvent):
            fields = {"message": redact(ev.message), "recoverable": ev.recoverable}
            name = "error"
        elif isinstance(ev, NoticeEvent):
            fields = {"message": redact(ev.message)}
            name = "notice"
        elif isinstance(ev, DoneEvent):
            fields = {"success": ev.success, "reason": redact(ev.reason), "turns": ev.turns,
                      "tool_calls": ev.tool_calls, "prompt_tokens": ev.prompt_tokens,
                      "completion_tokens": ev.completion_tokens,
                      "duration_ms": _ms(t.task_seconds)}
            name = "done"
        else:
            fields = redact_obj(ev.model_dump(exclude={"type", "ts"}))
            name = ev.type
        self._write(name, fields, t.turn, t.task, flush=name in ("done", "error"))

    def close(self) -> None:
        self.writer.close()


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000.0, 1)


def readable(record: dict[str, Any]) -> str:
    """One log record as a short line for a person: ``12:03:04.512 t1.2 tool_result read ✓ 3ms``."""
    ts = float(record.get("ts") or 0.0)
    clock = time.strftime("%H:%M:%S", time.localtime(ts)) + f".{int((ts % 1) * 1000):03d}"
    head = f"{clock} t{record.get('task', 0)}.{record.get('turn', 0)} {record.get('event', '?')}"
    ev = record.get("event")
    parts: list[str] = []
    if ev == "model_call":
        parts.append(f"{record.get('prompt_tokens', 0)}+{record.get('completion_tokens', 0)} tok")
        if record.get("cached_tokens"):
            parts.append(f"({record['cached_tokens']} cached)")
    elif ev in ("tool_call", "tool_result"):
        parts.append(str(record.get("tool", "")))
        if ev == "tool_result":
            parts.append("ok" if record.get("ok") else "FAILED")
        if record.get("repaired"):
            parts.append(f"[repaired: {record['repaired']}]")
    elif ev == "route":
        parts.append(f"{record.get('category')} ({len(record.get('tools') or [])} tools)")
    elif ev == "done":
        parts.append(f"{'success' if record.get('success') else 'failure'}: {record.get('reason')}")
    elif ev in ("notice", "error"):
        parts.append(str(record.get("message", ""))[:120])
    elif ev == "usage_summary" and isinstance(record.get("task_usage"), dict):
        u = record["task_usage"]
        parts.append(f"task {u.get('prompt_tokens', 0)}+{u.get('completion_tokens', 0)} tok "
                     f"({u.get('cached_tokens', 0)} cached) in {u.get('calls', 0)} calls")
    elif ev == "task":
        parts.append(str(record.get("text", ""))[:120])
    if record.get("duration_ms") is not None:
        parts.append(f"{record['duration_ms']:g}ms")
    return " ".join([head, *parts])


def tee(*sinks: Sink) -> Callable[[Event], Awaitable[None] | None]:
    """One ``emit`` that hands each event to every sink in order; async sinks are awaited (the
    agent awaits what ``emit`` returns). A sink that raises does not stop the others: the first
    error is re-raised after all sinks have seen the event."""
    active = [s for s in sinks if s is not None]

    def emit(ev: Event) -> Awaitable[None] | None:
        pending: list[Awaitable[Any]] = []
        error: BaseException | None = None
        for sink in active:
            try:
                result = sink(ev)
            except Exception as exc:  # noqa: BLE001 - re-raised below, after the other sinks
                error = error or exc
                continue
            if inspect.isawaitable(result):
                pending.append(result)
        if not pending:
            if error is not None:
                raise error
            return None

        async def finish() -> None:
            first = error
            for aw in pending:
                try:
                    await aw
                except Exception as exc:  # noqa: BLE001 - keep awaiting the rest
                    first = first or exc
            if first is not None:
                raise first

        return finish()

    return emit
