"""Sessions on disk: ``<workspace>/.smallcode/sessions/<id>.json``, one JSON file per session.

Ids sort newest first (an inverted millisecond timestamp plus a random suffix), are validated
against a strict pattern before touching the file system, and every save is atomic (temp file in
the same folder, fsync, rename, fsync of the folder), so a crash leaves the old or the new file,
never a broken one. Files are 0600, folders 0700, and secrets are redacted before anything is
written. The session dict is opaque here except for the fields used in listings and transcripts:
``id, created, updated, workspace, model, messages, events, plan, usage``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .redact import redact_obj

SESSIONS_DIR = Path(".smallcode") / "sessions"
_ID_RE = re.compile(r"^[0-9]{13}-[0-9a-f]{6}$")
_ID_PREFIX_RE = re.compile(r"^[0-9]{1,13}(?:-[0-9a-f]{0,6})?$")
_INVERT_BASE = 10**13  # milliseconds; good until the year 2286
_SUFFIX = ".json"
_TMP_MARK = ".tmp-"


class SessionError(Exception):
    """A session could not be found, read or written; the message says which and why."""


class SessionNotFound(SessionError, KeyError):
    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "session not found"


@dataclass(frozen=True)
class SessionInfo:
    """One line of ``sessions list``."""

    id: str
    created: float  # unix seconds
    updated: float  # unix seconds
    title: str  # the first user message, shortened
    model: str
    messages: int
    size: int  # bytes on disk
    path: Path


def validate_id(session_id: str) -> str:
    """Return ``session_id`` if it is a well-formed id, else raise SessionError (no paths, ever)."""
    if not isinstance(session_id, str) or not _ID_RE.match(session_id):
        raise SessionError(f"invalid session id {session_id!r}: expected 13 digits, '-', 6 hex "
                           "characters (see `smallcode sessions list`)")
    return session_id


def id_created(session_id: str) -> float:
    """The creation time (unix seconds) encoded in a session id."""
    validate_id(session_id)
    return (_INVERT_BASE - int(session_id[:13])) / 1000.0


class SessionStore:
    """The sessions of one workspace."""

    def __init__(self, workspace_root: str | os.PathLike[str]):
        self.workspace_root = Path(workspace_root).resolve()
        self.dir = self.workspace_root / SESSIONS_DIR

    # ids ---------------------------------------------------------------------------------------
    def new_id(self, now: float | None = None) -> str:
        """A fresh id that sorts before every older one (lexicographically)."""
        ms = int((time.time() if now is None else now) * 1000)
        return f"{_INVERT_BASE - ms:013d}-{secrets.token_hex(3)}"

    def resolve(self, text: str) -> str:
        """Turn a full id or a unique id prefix (as typed by a user) into the full id."""
        text = text.strip()
        if _ID_RE.match(text):
            return text
        if not text or not _ID_PREFIX_RE.match(text):
            validate_id(text)  # raises with the standard message
        matches = [p.name[: -len(_SUFFIX)] for p in self._files() if p.name.startswith(text)]
        if not matches:
            raise SessionNotFound(f"no session matches {text!r}")
        if len(matches) > 1:
            raise SessionError(f"{text!r} matches {len(matches)} sessions; type more of the id")
        return matches[0]

    # files -------------------------------------------------------------------------------------
    def path(self, session_id: str) -> Path:
        return self.dir / f"{validate_id(session_id)}{_SUFFIX}"

    def _ensure_dir(self) -> None:
        parent = self.dir.parent
        if not parent.exists():
            parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.dir.mkdir(mode=0o700, exist_ok=True)
        if (self.dir.stat().st_mode & 0o777) != 0o700:
            os.chmod(self.dir, 0o700)

    def _files(self) -> list[Path]:
        if not self.dir.is_dir():
            return []
        return sorted(p for p in self.dir.iterdir()
                      if p.name.endswith(_SUFFIX) and _ID_RE.match(p.name[: -len(_SUFFIX)]))

    def save(self, session_id: str, data: dict[str, Any]) -> Path:
        """Write ``data`` (redacted) atomically. Returns the file's path."""
        target = self.path(session_id)
        self._ensure_dir()
        record = dict(data)
        record["id"] = session_id
        record.setdefault("created", id_created(session_id))
        record.setdefault("updated", time.time())
        payload = json.dumps(redact_obj(record), ensure_ascii=False, separators=(",", ":"),
                             default=str).encode("utf-8")
        tmp = self.dir / f".{session_id}{_TMP_MARK}{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            try:
                view = memoryview(payload)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        dir_fd = os.open(self.dir, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return target

    def load(self, session_id: str) -> dict[str, Any]:
        path = self.path(session_id)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise SessionNotFound(f"no session {session_id} in {self.dir}") from None
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise SessionError(f"session {session_id} is not valid JSON ({exc}); "
                               f"the file is {path}") from None
        if not isinstance(data, dict):
            raise SessionError(f"session {session_id}: expected a JSON object in {path}")
        return data

    def exists(self, session_id: str) -> bool:
        return self.path(session_id).is_file()

    def delete(self, session_id: str) -> None:
        path = self.path(session_id)
        try:
            path.unlink()
        except FileNotFoundError:
            raise SessionNotFound(f"no session {session_id} in {self.dir}") from None

    def clean_temp_files(self, older_than_s: float = 3600.0) -> int:
        """Remove temp files left by writers that crashed mid-save. Returns how many."""
        if not self.dir.is_dir():
            return 0
        removed = 0
        cutoff = time.time() - older_than_s
        for p in self.dir.iterdir():
            if p.name.startswith(".") and _TMP_MARK in p.name:
                try:
                    if p.stat().st_mtime < cutoff:
                        p.unlink()
                        removed += 1
                except FileNotFoundError:
                    pass
        return removed

    # listing -----------------------------------------------------------------------------------
    def ids(self) -> list[str]:
        """Every session id, newest first."""
        return [p.name[: -len(_SUFFIX)] for p in self._files()]

    def info(self, session_id: str) -> SessionInfo:
        path = self.path(session_id)
        try:
            stat = path.stat()
        except FileNotFoundError:
            raise SessionNotFound(f"no session {session_id} in {self.dir}") from None
        try:
            data = self.load(session_id)
        except SessionError:
            data = {}
        raw_messages = data.get("messages")
        messages: list[Any] = raw_messages if isinstance(raw_messages, list) else []
        return SessionInfo(
            id=session_id,
            created=_as_time(data.get("created"), id_created(session_id)),
            updated=_as_time(data.get("updated"), stat.st_mtime),
            title=session_title(data),
            model=str(data.get("model") or ""),
            messages=len(messages),
            size=stat.st_size,
            path=path,
        )

    def list(self, limit: int | None = None) -> list[SessionInfo]:
        """Sessions, newest first."""
        ids = self.ids()
        if limit is not None:
            ids = ids[:limit]
        out = []
        for sid in ids:
            try:
                out.append(self.info(sid))
            except SessionNotFound:  # deleted meanwhile
                continue
        return out

    def latest(self) -> str | None:
        """The most recently saved session (what ``--continue`` resumes), or None.

        Ordered by last save; on a tie, the newer id wins.
        """
        candidates: list[tuple[float, str]] = []
        for p in self._files():
            try:
                candidates.append((-p.stat().st_mtime, p.name[: -len(_SUFFIX)]))
            except FileNotFoundError:
                continue
        return min(candidates)[1] if candidates else None


def _as_time(value: Any, default: float) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).timestamp()
        except ValueError:
            return default
    return default


def _text_of(content: Any) -> str:
    """Plain text of an OpenAI message content (a string or a list of parts)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict):
                if part.get("type") == "text":
                    parts.append(str(part.get("text", "")))
                elif part.get("type") in ("image_url", "image"):
                    parts.append("[image]")
            elif isinstance(part, str):
                parts.append(part)
        return "\n".join(parts)
    return str(content)


def session_title(data: dict[str, Any], width: int = 60) -> str:
    """A one-line title: the explicit ``title`` or the first user message, shortened."""
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        title = ""
        for msg in data.get("messages") or []:
            if isinstance(msg, dict) and msg.get("role") == "user":
                title = _text_of(msg.get("content"))
                break
    title = " ".join(title.split())
    return title if len(title) <= width else title[: width - 1] + "…"


def format_time(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).astimezone().strftime("%Y-%m-%d %H:%M")


def render_transcript(data: dict[str, Any], *, max_tool_chars: int = 2000) -> str:
    """The session's turns as readable text: who said what, tool calls and (capped) results."""
    lines: list[str] = []
    head = f"session {data.get('id', '?')}"
    if data.get("model"):
        head += f" · model {data['model']}"
    if isinstance(data.get("created"), int | float):
        head += f" · started {format_time(float(data['created']))}"
    lines.append(head)
    if data.get("workspace"):
        lines.append(f"workspace {data['workspace']}")
    names: dict[str, str] = {}
    for msg in data.get("messages") or []:
        if not isinstance(msg, dict):
            continue
        role = msg.get("role", "?")
        text = _text_of(msg.get("content")).strip()
        lines.append("")
        if role == "system":
            lines.append(f"── system ({len(text)} chars, not shown)")
        elif role == "user":
            lines.append("── user")
            lines.append(text)
        elif role == "assistant":
            lines.append("── assistant")
            if text:
                lines.append(text)
            for call in msg.get("tool_calls") or []:
                fn = call.get("function", {}) if isinstance(call, dict) else {}
                name = str(fn.get("name", "?"))
                if isinstance(call, dict) and call.get("id"):
                    names[str(call["id"])] = name
                args = fn.get("arguments", "")
                if not isinstance(args, str):
                    args = json.dumps(args, ensure_ascii=False)
                lines.append(f"  → {name}({_cap(args, 300)})")
        elif role == "tool":
            name = msg.get("name") or names.get(str(msg.get("tool_call_id")), "tool")
            lines.append(f"── result of {name}")
            lines.append(_indent(_cap(text, max_tool_chars)))
        else:
            lines.append(f"── {role}")
            lines.append(text)
    usage = data.get("usage")
    if isinstance(usage, dict) and usage:
        lines.append("")
        lines.append("usage: " + ", ".join(f"{k} {v}" for k, v in usage.items()
                                            if isinstance(v, int | float | str)))
    return "\n".join(lines).rstrip() + "\n"


def _cap(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"… [{len(text) - limit} more chars]"


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines()) if text else "  (empty)"


__all__ = ["SESSIONS_DIR", "SessionError", "SessionInfo", "SessionNotFound", "SessionStore",
           "format_time", "id_created", "render_transcript", "session_title", "validate_id"]
