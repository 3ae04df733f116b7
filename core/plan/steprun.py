"""One plan step, run by a fresh agent: the step's journal of pre-edit bytes (its saga
compensation), the snapshot recorder a step's agent writes through, and :func:`run_step`.

The journal lives on the shared project folder (``.smallcode/plans/<run>/step-<n>/``): the
executor captures the step's declared files *before* the step starts, and every write or patch
the step's agent makes records the file's content first (first record wins). Restoring puts every
journaled file back byte-identical (and deletes files the step created), from any process — so a
step whose worker was killed mid-step is compensated by the executor, and a crashed run by
:meth:`~smallcode.core.plan.saga.Saga.recover`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from smallcode.core.events import DoneEvent, Event
from smallcode.core.model.types import ChatModel

from .saga import register_compensator

JOURNAL_KIND = "restore_step_journal"


def _fsync_write(path: Path, data: bytes, *, exclusive: bool = False) -> bool:
    """Write ``data`` durably; with ``exclusive`` only when ``path`` does not exist yet."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    tmp = path if exclusive else path.with_name(path.name + ".tmp")
    try:
        fd = os.open(tmp, flags, 0o600)
    except FileExistsError:
        return False
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    if not exclusive:
        os.replace(tmp, path)
    return True


class StepJournal:
    """Pre-step content of the files one step may change, on disk, first record wins."""

    def __init__(self, root: str | os.PathLike[str], journal_dir: str | os.PathLike[str]):
        self.root = Path(root).resolve()
        self.dir = Path(journal_dir)
        if not self.dir.is_absolute():
            self.dir = self.root / self.dir
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _entry_path(self, rel: str) -> Path:
        return self.dir / (hashlib.sha1(rel.encode()).hexdigest()[:20] + ".json")

    def _safe(self, rel: str) -> Path:
        p = (self.root / rel).resolve()
        if p != self.root and self.root not in p.parents:
            raise ValueError(f"{rel} is outside the workspace")
        return p

    def capture(self, rel: str, pre: bytes | None | object = ...) -> bool:
        """Remember ``rel``'s content before the step changes it (read now unless ``pre`` is
        given; ``None`` = the file does not exist). Returns False when already captured."""
        rel = rel.replace("\\", "/")
        while rel.startswith("./"):
            rel = rel[2:]
        entry_path = self._entry_path(rel)
        if entry_path.exists():
            return False
        p = self._safe(rel)
        if pre is ...:
            pre = p.read_bytes() if p.is_file() else None
        entry: dict[str, Any] = {"path": rel, "existed": pre is not None, "mode": None,
                                 "blob": None, "new_dirs": []}
        if isinstance(pre, bytes):
            sha = hashlib.sha256(pre).hexdigest()
            blob = self.dir / f"{sha}.blob"
            if not blob.exists():
                _fsync_write(blob, pre)
            entry["blob"] = blob.name
            with contextlib.suppress(OSError):
                entry["mode"] = p.stat().st_mode & 0o7777
        else:
            parent = Path(rel).parent
            while parent != Path(".") and not (self.root / parent).exists():
                entry["new_dirs"].append(parent.as_posix())
                parent = parent.parent
        return _fsync_write(entry_path, json.dumps(entry).encode(), exclusive=True)

    def entries(self) -> list[dict[str, Any]]:
        out = []
        for p in sorted(self.dir.glob("*.json")):
            with contextlib.suppress(OSError, json.JSONDecodeError):
                out.append(json.loads(p.read_text()))
        return out

    def pre_contents(self) -> list[tuple[str, bytes | None]]:
        """(path, content before the step; None = it did not exist), by path."""
        out: list[tuple[str, bytes | None]] = []
        for e in sorted(self.entries(), key=lambda e: e["path"]):
            out.append((e["path"], (self.dir / e["blob"]).read_bytes() if e["existed"] else None))
        return out

    def paths(self) -> list[str]:
        return sorted(e["path"] for e in self.entries())

    def restore(self) -> list[str]:
        """Put every journaled file back as it was before the step; returns the paths touched."""
        touched = []
        for e in self.entries():
            p = self._safe(e["path"])
            if e["existed"]:
                data = (self.dir / e["blob"]).read_bytes()
                if p.is_file() and p.read_bytes() == data:
                    continue
                p.parent.mkdir(parents=True, exist_ok=True)
                tmp = p.with_name(p.name + ".smallcode-restore")
                tmp.write_bytes(data)
                if e.get("mode") is not None:
                    os.chmod(tmp, int(e["mode"]))
                os.replace(tmp, p)
                touched.append(e["path"])
            elif p.exists() or p.is_symlink():
                p.unlink()
                for d in e.get("new_dirs") or []:
                    with contextlib.suppress(OSError):
                        (self.root / d).rmdir()
                touched.append(e["path"])
        return touched

    def discard(self) -> None:
        """Forget the journal (the step's result is kept)."""
        for p in self.dir.glob("*"):
            with contextlib.suppress(OSError):
                p.unlink()
        with contextlib.suppress(OSError):
            self.dir.rmdir()


def _compensate_journal(data: dict[str, Any]) -> list[str]:
    return StepJournal(data["root"], data["journal"]).restore()


register_compensator(JOURNAL_KIND, _compensate_journal)


@dataclass
class StepRestore:
    """What the step's own rollback did (the agent prints ``summary()``)."""

    restored: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return True

    def summary(self) -> str:
        return f"restored {', '.join(self.restored)}" if self.restored else "nothing to restore"


class StepSnapshots:
    """The snapshot service a step's agent sees: records go to the step journal; the agent's own
    auto-rollback restores this step's files only. (The executor hands a finished step's
    journal to the caller's snapshot store, so `undo` covers the plan.) Shell capture is off in
    steps: concurrent steps share the folder, so a scan could not tell whose change it saw."""

    def __init__(self, journal: StepJournal):
        self.journal = journal
        self.current: str | None = None

    def begin(self, label: str = "step") -> str:
        self.current = f"step:{self.journal.dir.name}"
        return self.current

    def end(self) -> None:
        self.current = None

    def record(self, rel_path: str, pre: bytes | None, *, source: str = "tool") -> bool:
        return self.journal.capture(rel_path, pre)

    def before_shell(self) -> None:
        return None

    def after_shell(self) -> list[str]:
        return []

    def restore(self, checkpoint_id: str, *, force: bool = False) -> StepRestore:
        return StepRestore(self.journal.restore())


@dataclass
class StepSpec:
    """Everything a step runner needs; plain data, so it crosses to a Ray actor."""

    n: int
    text: str
    root: str
    journal_dir: str
    anchor: str = ""
    files: list[str] = field(default_factory=list)
    allowed_edit_paths: list[str] | None = None  # None: unscoped step (runs alone)
    context: str = ""  # the declared files' content
    base_url: str | None = None
    api_key: str | None = None
    model_name: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    attempt: int = 1
    previous_error: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StepSpec:
        return cls(**data)

    def task(self) -> str:
        """The step worker's whole task: the anchor, its step, its files."""
        parts = []
        if self.anchor:
            parts.append(self.anchor)
        parts.append(f"YOUR STEP: {self.n}. {self.text}")
        if self.allowed_edit_paths is not None:
            allowed = ", ".join(self.allowed_edit_paths) or "no files (this step only reads or runs)"
            parts.append(f"Do only this step. Other steps run at the same time and own the other "
                         f"files. You may edit only: {allowed}. Call `finish` when the step is done.")
        else:
            parts.append("Do only this step. Call `finish` when the step is done.")
        if self.previous_error:
            parts.append(f"An earlier attempt at this step failed ({self.previous_error}); its "
                         f"changes were undone. Try again.")
        if self.context:
            parts.append(self.context)
        return "\n\n".join(parts)


@dataclass
class StepOutcome:
    n: int
    ok: bool
    reason: str
    summary: str = ""
    changed_files: list[str] = field(default_factory=list)
    turns: int = 0
    tool_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StepOutcome:
        return cls(**data)


def files_context(root: str | Path, files: list[str], max_chars: int = 12_000) -> str:
    """The declared files' content for the step's prompt (numbered, trimmed to a budget)."""
    root = Path(root)
    chunks = []
    budget = max_chars
    for rel in files:
        p = root / rel
        if not p.is_file():
            chunks.append(f"`{rel}` does not exist yet.")
            continue
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            chunks.append(f"`{rel}` is not a text file.")
            continue
        if len(text) > budget:
            text = text[:max(0, budget)] + "\n... (truncated; read_file for the rest)"
        budget -= len(text)
        chunks.append(f"Current content of `{rel}`:\n```\n{text}\n```")
    return ("Files of this step (already read):\n\n" + "\n\n".join(chunks)) if chunks else ""


Emit = Callable[[Event], Awaitable[None] | None]


async def run_step(spec: StepSpec, emit: Emit, *, model: ChatModel | None = None,
                   confirm: Any = None) -> StepOutcome:
    """Run one step with a fresh agent: its own history, the step's task, only its files.

    ``model`` is shared with the caller in-process; without it an ``OpenAIChatClient`` to
    ``spec.base_url`` (the gateway) is opened for the step and closed after.
    """
    from smallcode.core.agent import Agent
    from smallcode.core.config import Settings
    from smallcode.core.tools import Services, build_registry
    from smallcode.core.tools.workspace import Workspace

    settings = Settings.model_validate(spec.settings) if spec.settings else Settings()
    settings.agent.prefetch_context = False  # the step's files are in its task already
    settings.agent.plan = False  # a step never plans again
    settings.agent.two_stage_routing = "off"  # a step is a known change; no category question
    # a step edits only its declared files, through the guarded tools: the solve path (whole
    # project, its own oracle) is for whole tasks, not for one step of a plan
    settings.solve.enabled = False
    owned_client = None
    if model is None:
        from smallcode.core.model.client import OpenAIChatClient

        if not spec.base_url:
            raise ValueError("a step needs a model or a base_url")
        m = settings.model
        owned_client = OpenAIChatClient(spec.base_url, model=spec.model_name, api_key=spec.api_key,
                                        connect_timeout=m.connect_timeout,
                                        read_timeout=m.read_timeout, max_retries=m.max_retries,
                                        context_window=m.context_window,
                                        default_max_tokens=m.max_tokens)
        with contextlib.suppress(Exception):
            await owned_client.discover()
        model = owned_client
    journal = StepJournal(spec.root, spec.journal_dir)
    ws = Workspace(spec.root)
    agent = Agent(model, build_registry(settings), ws, settings, confirm=confirm,
                  services=Services(snapshots=StepSnapshots(journal)))
    if spec.allowed_edit_paths is not None:
        agent.ctx.allowed_edit_paths = set(spec.allowed_edit_paths)
    agent.ctx.files_read.update(f for f in spec.files if (Path(spec.root) / f).is_file())
    try:
        done: DoneEvent = await agent.run(spec.task(), emit)
    finally:
        if owned_client is not None:
            await owned_client.aclose()
    task = asyncio.current_task()
    if task is not None and task.cancelling():  # the agent ends quietly on cancel; we must not
        raise asyncio.CancelledError
    changed = list(agent.state.changed_files)
    ok, reason = done.success, done.reason
    if ok:
        from smallcode.core.edit.validate import format_diagnostics, validate_file

        for rel in changed:
            if (Path(spec.root) / rel).is_file():
                diags = validate_file(Path(spec.root) / rel, Path(spec.root))
                if diags:
                    ok, reason = False, f"{rel} does not validate: {format_diagnostics(diags, 2)}"
                    break
    return StepOutcome(spec.n, ok, reason, done.summary, changed, done.turns, done.tool_calls,
                       done.prompt_tokens, done.completion_tokens)




def event_from_dict(data: dict[str, Any]) -> Event:
    """Rebuild a typed event from its JSON form (events cross process boundaries as dicts)."""
    from smallcode.core import events as ev

    kinds: dict[str, type[Event]] = {}
    for obj in vars(ev).values():
        if isinstance(obj, type) and issubclass(obj, ev.Event) and obj is not ev.Event:
            kind = obj.model_fields["type"].default  # type: ignore[attr-defined]
            if isinstance(kind, str):
                kinds[kind] = obj
    cls = kinds.get(str(data.get("type")))
    step = data.get("step")
    if cls is None:
        return ev.NoticeEvent(message=f"(unknown event {data.get('type')!r})")
    out = cls.model_validate(data)
    return out.model_copy(update={"step": step}) if step is not None else out


__all__ = ["JOURNAL_KIND", "StepJournal", "StepOutcome", "StepSnapshots", "StepSpec",
           "event_from_dict", "files_context", "run_step"]
