"""Checkpoints of the files the agent changes, and undo.

A checkpoint opens before each agent turn (:meth:`SnapshotStore.begin`). Every write and patch
calls :meth:`SnapshotStore.record` with the file's content *before* the change; only the first
record of a path in a checkpoint counts. Shell commands are bracketed by
:meth:`SnapshotStore.before_shell` / :meth:`SnapshotStore.after_shell`, which find the files a
command created, modified or deleted and record their pre-command content too.

On disk, under ``<root>/.smallcode/snapshots/``:

* ``checkpoints/<id>.json`` — one JSON document per checkpoint: label, status, and per path the
  sha256 of the content before (``pre``, ``null`` = the file did not exist) and after the agent's
  change (``post``, filled in when the checkpoint is closed);
* ``blobs/<aa>/<sha256>`` — file contents, stored once by hash.

Every file is written atomically (temp file, fsync, rename), so a crash leaves either the old or
the new document, never half of one; ``record`` persists the blob and the metadata *before* the
tool changes the file. Folders are 0700 and files 0600 (they hold source code).

Undo restores byte-identical content (and deletes files the agent created). It never touches a
file the agent did not change, and refuses a file whose current content is not what the agent
left (the user edited it since) unless ``force=True``.

Shell capture limits: the pre-command content of a file is known from an in-memory content cache
that is refreshed at each ``before_shell`` (only files whose size/mtime/inode changed are re-read).
The cache holds at most :data:`CACHE_MAX_FILES` files / :data:`CACHE_MAX_BYTES` bytes, single files
up to :data:`CACHE_MAX_FILE_BYTES`. Past those limits, a file's pre-command content comes from git
when it is tracked and unmodified (its blob id is taken from ``git ls-files -s`` at
``before_shell``); otherwise the change is recorded as *not restorable* and reported as such.
Files matched by ``.gitignore`` (and ``.git/``, ``.smallcode/``, build caches) are not tracked.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smallcode.core.tools.registry import ToolContext, ToolRegistry, ToolResult
from smallcode.core.tools.workspace import Workspace, WorkspaceError

log = logging.getLogger(__name__)

SNAPSHOT_DIR = Path(".smallcode") / "snapshots"
CACHE_MAX_FILES = 2_000
CACHE_MAX_BYTES = 50 * 1024 * 1024
CACHE_MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_CHECKPOINTS = 200  # older ones are pruned (and their unreferenced blobs removed)
UNKNOWN = "unknown"  # a pre-command content we could not capture
_ID_RE = re.compile(r"^\d{6}-\d{8}T\d{6}$")


class SnapshotError(Exception):
    """A snapshot operation could not be done (unknown checkpoint, bad id, unreadable store)."""


@dataclass
class RestoreReport:
    """What a restore/undo did: files put back, files deleted, files refused and why."""

    checkpoints: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    conflicts: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    unrestorable: list[str] = field(default_factory=list)  # pre-content never captured

    @property
    def ok(self) -> bool:
        return not self.conflicts and not self.unrestorable

    def summary(self) -> str:
        if not self.checkpoints:
            return "nothing to undo"
        lines = [f"undid {len(self.checkpoints)} checkpoint(s): {', '.join(self.checkpoints)}"]
        lines += [f"  restored {p}" for p in self.restored]
        lines += [f"  deleted  {p} (the agent created it)" for p in self.deleted]
        lines += [f"  KEPT     {p}: {why}" for p, why in self.conflicts]
        lines += [f"  LOST     {p}: its earlier content was never captured" for p in self.unrestorable]
        if not (self.restored or self.deleted or self.conflicts or self.unrestorable):
            lines.append("  (every file was already as it was before)")
        return "\n".join(lines)


@dataclass
class CheckpointInfo:
    """One line of :meth:`SnapshotStore.list`."""

    id: str
    label: str
    created: float
    status: str  # open | closed | partial (some files refused, still undoable) | undone
    files: list[str]


@dataclass
class _Fingerprint:
    size: int
    mtime_ns: int
    ino: int
    ctime_ns: int
    mode: int


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _atomic_write(path: Path, data: bytes, mode: int = 0o600, *, durable: bool = True) -> None:
    """Temp file + rename: readers see the old or the new content, never a mix. ``durable``
    also fsyncs (survives an OS crash, not only a process crash)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            if durable:
                os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class SnapshotStore:
    """Checkpoints and undo for one workspace. One agent process writes; ``undo`` may run from
    another (a file lock serialises metadata changes)."""

    def __init__(self, workspace_root: str | os.PathLike[str] | Workspace, *,
                 max_checkpoints: int = MAX_CHECKPOINTS):
        self.workspace = workspace_root if isinstance(workspace_root, Workspace) \
            else Workspace(workspace_root)
        self.root = self.workspace.root
        self.dir = self.root / SNAPSHOT_DIR
        self.blob_dir = self.dir / "blobs"
        self.cp_dir = self.dir / "checkpoints"
        self.max_checkpoints = max_checkpoints
        self.current: str | None = None
        self._doc: dict[str, Any] | None = None  # the open checkpoint's document
        self._cache: dict[str, tuple[_Fingerprint, bytes]] = {}
        self._cache_bytes = 0
        self._before: dict[str, _Fingerprint] | None = None
        self._git_blobs: dict[str, str] = {}
        self._before_dirs: set[str] = set()
        self._ignored: dict[str, bool] = {}  # .gitignore verdicts by path ("dir/" for folders)
        self._lock_depth = 0
        self._shell_depth = 0
        self._shell_lock = threading.Lock()
        self.last_shell_warnings: list[str] = []

    # -- storage ----------------------------------------------------------------------------
    def _ensure_dirs(self) -> None:
        for d in (self.root / ".smallcode", self.dir, self.blob_dir, self.cp_dir):
            if not d.is_dir():
                d.mkdir(mode=0o700, parents=True, exist_ok=True)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        if self._lock_depth:
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
            return
        self._ensure_dirs()
        fd = os.open(self.dir / "lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._lock_depth = 1
            yield
        finally:
            self._lock_depth = 0
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _blob_path(self, sha: str) -> Path:
        return self.blob_dir / sha[:2] / sha

    def _put_blob(self, data: bytes, *, durable: bool = True) -> str:
        sha = _sha(data)
        p = self._blob_path(sha)
        if not p.exists():
            if not p.parent.is_dir():
                p.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            _atomic_write(p, data, durable=durable)
        return sha

    def _get_blob(self, sha: str) -> bytes:
        p = self._blob_path(sha)
        try:
            data = p.read_bytes()
        except FileNotFoundError:
            raise SnapshotError(f"snapshot content {sha[:12]} is missing from {self.blob_dir}") from None
        if _sha(data) != sha:
            raise SnapshotError(f"snapshot content {sha[:12]} is corrupt")
        return data

    def _cp_path(self, cp_id: str) -> Path:
        if not _ID_RE.match(cp_id):
            raise SnapshotError(f"not a checkpoint id: {cp_id!r}")
        return self.cp_dir / f"{cp_id}.json"

    def _save(self, doc: dict[str, Any]) -> None:
        _atomic_write(self._cp_path(doc["id"]),
                      json.dumps(doc, indent=1, sort_keys=True).encode())

    def _load(self, cp_id: str, *, fresh: bool = False) -> dict[str, Any]:
        if not fresh and self._doc is not None and self._doc["id"] == cp_id:
            return self._doc
        p = self._cp_path(cp_id)
        try:
            doc = json.loads(p.read_text())
        except FileNotFoundError:
            raise SnapshotError(f"no checkpoint {cp_id}") from None
        except (OSError, ValueError) as exc:
            raise SnapshotError(f"checkpoint {cp_id} is unreadable: {exc}") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("entries"), dict):
            raise SnapshotError(f"checkpoint {cp_id} is malformed")
        return doc

    def _ids(self) -> list[str]:
        if not self.cp_dir.is_dir():
            return []
        return sorted(p.stem for p in self.cp_dir.glob("*.json") if _ID_RE.match(p.stem))

    def _docs(self) -> list[dict[str, Any]]:
        docs = []
        for cp_id in self._ids():
            try:
                docs.append(self._load(cp_id))
            except SnapshotError as exc:
                log.warning("skipping checkpoint: %s", exc)
        return docs

    # -- checkpoints --------------------------------------------------------------------------
    def begin(self, label: str = "turn") -> str:
        """Close the open checkpoint (if any) and open a new one; returns its id."""
        with self._locked():
            self._close_current()
            ids = self._ids()
            for stale in ids[-5:]:  # left open by a process that died mid-turn
                with contextlib.suppress(SnapshotError):
                    doc = self._load(stale)
                    if doc.get("status") == "open" and self._owner_is_dead(doc):
                        self._doc = doc
                        self._close_current()
            seq = int(ids[-1].split("-")[0]) + 1 if ids else 1
            cp_id = f"{seq:06d}-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}"
            self._doc = {"id": cp_id, "label": str(label)[:200], "created": time.time(),
                         "status": "open", "entries": {}, "history": [],
                         "owner": {"pid": os.getpid(), "host": socket.gethostname()}}
            self.current = cp_id
            self._save(self._doc)
            self._prune()
        return cp_id

    def attach(self, checkpoint_id: str) -> None:
        """Record into a checkpoint another process opened (e.g. a step worker of the same turn).
        Records from several processes are merged under the store's file lock."""
        doc = self._load(checkpoint_id, fresh=True)
        if doc.get("status") != "open":
            raise SnapshotError(f"checkpoint {checkpoint_id} is not open")
        self._doc, self.current = doc, checkpoint_id

    @staticmethod
    def _owner_is_dead(doc: dict[str, Any]) -> bool:
        owner = doc.get("owner") or {}
        if owner.get("host") != socket.gethostname() or not isinstance(owner.get("pid"), int):
            return owner.get("host") is None  # another machine's turn: leave it alone
        if owner["pid"] == os.getpid():
            return True  # an earlier store object of this process
        try:
            os.kill(owner["pid"], 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    def _add_entries(self, entries: dict[str, dict[str, Any]]) -> list[str]:
        """Add entries to the open checkpoint unless their path is there already (first record
        wins, also across processes); persisted before returning. Returns the paths added."""
        with self._locked():
            doc = self._open_doc()
            with contextlib.suppress(SnapshotError):  # merge what other processes recorded
                on_disk = self._load(doc["id"], fresh=True)
                for rel, entry in on_disk["entries"].items():
                    doc["entries"].setdefault(rel, entry)
            added = [rel for rel in entries if rel not in doc["entries"]]
            for rel in added:
                doc["entries"][rel] = entries[rel]
            if added:
                self._save(doc)
        return added

    def end(self) -> None:
        """Close the open checkpoint: note the agent's final content of every file it changed
        (undo compares against it to detect later edits by the user). Call at the end of a turn."""
        with self._locked():
            self._close_current()

    def _close_current(self) -> None:
        doc = self._doc
        if doc is None:
            return
        if doc["status"] == "open":
            for rel, entry in doc["entries"].items():
                entry["post"] = self._current_sha(rel)
            doc["status"] = "closed"
            doc["closed"] = time.time()
            self._save(doc)
        self._doc = None
        self.current = None

    def _current_sha(self, rel: str) -> str | None:
        p = self.root / rel
        try:
            return _sha(p.read_bytes()) if p.is_file() else None
        except OSError:
            return UNKNOWN

    def _open_doc(self) -> dict[str, Any]:
        if self._doc is None:
            self.begin("implicit")
        assert self._doc is not None
        return self._doc

    def _rel(self, rel_path: str) -> str:
        try:
            return self.workspace.rel(self.workspace.resolve(rel_path))
        except WorkspaceError as exc:
            raise SnapshotError(str(exc)) from None

    def record(self, rel_path: str, pre: bytes | None, *, source: str = "tool") -> bool:
        """Remember ``rel_path``'s content before the agent changes it (``None``: it did not
        exist). Persisted before returning. Only the first record per path per checkpoint counts;
        returns whether this one did."""
        rel = self._rel(rel_path)
        doc = self._open_doc()
        if rel in doc["entries"]:
            return False
        entry: dict[str, Any] = {"pre": None, "mode": None, "source": source, "new_dirs": []}
        p = self.root / rel
        if pre is not None:
            entry["pre"] = self._put_blob(pre)
            with contextlib.suppress(OSError):
                entry["mode"] = p.stat().st_mode & 0o7777
        else:
            entry["new_dirs"] = self._missing_parents(rel)
        return bool(self._add_entries({rel: entry}))

    def _missing_parents(self, rel: str) -> list[str]:
        out = []
        parent = Path(rel).parent
        while parent != Path(".") and not (self.root / parent).exists():
            out.append(parent.as_posix())
            parent = parent.parent
        return out

    # -- shell commands ----------------------------------------------------------------------
    def _scan(self) -> tuple[dict[str, _Fingerprint], set[str]]:
        """Fingerprint every non-ignored file (the rules of Workspace.iter_files)."""
        files: dict[str, _Fingerprint] = {}
        dirs: set[str] = set()
        ignored = self._ignored
        is_ignored = self.workspace.is_ignored
        stack = [(self.root, "")]
        while stack:
            d, prefix = stack.pop()
            try:
                it = os.scandir(d)
            except OSError:
                continue
            with it:
                for e in it:
                    rel = prefix + e.name
                    try:
                        if e.is_symlink():
                            continue
                        if e.is_dir():
                            key = rel + "/"
                            if key not in ignored:
                                ignored[key] = is_ignored(rel, is_dir=True)
                            if not ignored[key]:
                                dirs.add(rel)
                                stack.append((Path(e.path), key))
                        elif e.is_file():
                            if rel not in ignored:
                                ignored[rel] = is_ignored(rel)
                            if ignored[rel]:
                                continue
                            st = e.stat()
                            files[rel] = _Fingerprint(st.st_size, st.st_mtime_ns, st.st_ino,
                                                      st.st_ctime_ns, st.st_mode & 0o7777)
                    except OSError:
                        continue
        return files, dirs

    def before_shell(self) -> None:
        """Call right before a shell command: fingerprint the workspace and make sure the
        pre-command content of every file is recoverable (content cache, else git).

        Overlapping commands (parallel steps) nest: the first ``before_shell`` takes the
        fingerprint and the last ``after_shell`` records the union of their changes."""
        with self._shell_lock:
            self._shell_depth += 1
            if self._shell_depth > 1:
                return
            self._take_fingerprint()

    def _take_fingerprint(self) -> None:
        files, dirs = self._scan()
        self._before = files
        self._before_dirs = dirs
        for rel in [r for r in self._cache if r not in files]:
            self._cache_bytes -= len(self._cache.pop(rel)[1])
        uncached: list[str] = []
        # most recently changed first: those are the likeliest to change again
        order = sorted(files, key=lambda r: files[r].mtime_ns, reverse=True)
        for rel in order:
            fp = files[rel]
            hit = self._cache.get(rel)
            if hit is not None and hit[0] == fp:
                continue
            if hit is not None:
                self._cache_bytes -= len(hit[1])
                del self._cache[rel]
            if fp.size > CACHE_MAX_FILE_BYTES or len(self._cache) >= CACHE_MAX_FILES \
                    or self._cache_bytes + fp.size > CACHE_MAX_BYTES:
                uncached.append(rel)
                continue
            try:
                data = (self.root / rel).read_bytes()
            except OSError:
                uncached.append(rel)
                continue
            self._cache[rel] = (fp, data)
            self._cache_bytes += len(data)
        self._git_blobs = self._git_index_blobs(uncached) if uncached else {}

    def _git_index_blobs(self, rels: list[str]) -> dict[str, str]:
        """Blob ids of tracked files whose content is unchanged from git's index."""
        if not (self.root / ".git").exists():
            return {}
        try:
            ls = subprocess.run(["git", "ls-files", "-s", "-z"], cwd=self.root, capture_output=True,
                                timeout=30, check=True).stdout.decode(errors="surrogateescape")
            dirty = subprocess.run(["git", "diff", "--name-only", "-z"], cwd=self.root,
                                   capture_output=True, timeout=30,
                                   check=True).stdout.decode(errors="surrogateescape")
        except (OSError, subprocess.SubprocessError):
            return {}
        wanted = set(rels) - set(filter(None, dirty.split("\0")))
        out: dict[str, str] = {}
        for rec in filter(None, ls.split("\0")):
            meta, _, path = rec.partition("\t")
            parts = meta.split()
            if len(parts) == 3 and parts[2] == "0" and path in wanted:
                out[path] = parts[1]
        return out

    def _git_blob(self, blob: str) -> bytes | None:
        try:
            return subprocess.run(["git", "cat-file", "blob", blob], cwd=self.root,
                                  capture_output=True, timeout=30, check=True).stdout
        except (OSError, subprocess.SubprocessError):
            return None

    def after_shell(self) -> list[str]:
        """Call right after the shell command: record every file it created, modified or deleted.
        Returns the changed paths (workspace-relative, sorted; empty for an inner overlapping
        command, whose changes the outermost one reports)."""
        with self._shell_lock:
            if self._shell_depth == 0 or self._before is None:
                raise SnapshotError("after_shell() without before_shell()")
            self._shell_depth -= 1
            if self._shell_depth:
                return []
            return self._record_shell_changes()

    def _record_shell_changes(self) -> list[str]:
        before = self._before
        assert before is not None
        self._before = None
        after, _ = self._scan()
        changed = sorted(r for r in set(before) | set(after) if before.get(r) != after.get(r))
        self.last_shell_warnings = []
        if not changed:
            return []
        doc = self._open_doc()
        new: dict[str, dict[str, Any]] = {}
        for rel in changed:
            if rel in doc["entries"]:
                continue
            if rel not in before:
                entry: dict[str, Any] = {"pre": None, "mode": None, "source": "shell",
                                         "new_dirs": self._new_dirs_from_scan(rel)}
            else:
                fp = before[rel]
                hit = self._cache.get(rel)
                data: bytes | None = hit[1] if hit is not None and hit[0] == fp else None
                if data is None and rel in self._git_blobs:
                    data = self._git_blob(self._git_blobs[rel])
                if data is None:
                    self.last_shell_warnings.append(
                        f"{rel}: changed by a shell command, earlier content not captured "
                        "(workspace over the snapshot cache limit and file not clean in git)")
                    entry = {"pre": UNKNOWN, "mode": fp.mode, "source": "shell", "new_dirs": []}
                else:
                    # no fsync per blob (a command may change hundreds of files): safe against
                    # a crash of this process; after an OS crash a torn blob fails its hash check
                    entry = {"pre": self._put_blob(data, durable=False), "mode": fp.mode,
                             "source": "shell",
                             "new_dirs": []}
            new[rel] = entry
        self._add_entries(new)
        return changed

    def _new_dirs_from_scan(self, rel: str) -> list[str]:
        out = []
        parent = Path(rel).parent
        known = self._before_dirs
        while parent != Path(".") and parent.as_posix() not in known:
            out.append(parent.as_posix())
            parent = parent.parent
        return out

    # -- listing -----------------------------------------------------------------------------
    def list(self) -> list[CheckpointInfo]:
        """Every checkpoint that changed files, oldest first."""
        return [CheckpointInfo(d["id"], d.get("label", ""), float(d.get("created", 0)),
                               d.get("status", "?"),
                               sorted(set(d["entries"]) | set(d.get("undone_entries", {}))))
                for d in self._docs() if d["entries"] or d.get("undone_entries")]

    def find(self, name_or_id: str) -> str:
        """Resolve an id, a unique id prefix / sequence number, or a label (the newest wins)."""
        ids = self._ids()
        key = name_or_id.strip()
        if key in ids:
            return key
        if key.isdigit():
            by_seq = [i for i in ids if int(i.split("-")[0]) == int(key)]
            if by_seq:
                return by_seq[0]
        prefixed = [i for i in ids if i.startswith(key)] if key else []
        if len(prefixed) == 1:
            return prefixed[0]
        labelled = [d["id"] for d in self._docs() if d.get("label") == key]
        if labelled:
            return labelled[-1]
        raise SnapshotError(f"no checkpoint named {name_or_id!r} (see `smallcode undo --list`)")

    # -- restoring ---------------------------------------------------------------------------
    def restore(self, checkpoint_id: str, *, force: bool = False) -> RestoreReport:
        """Put every file the checkpoint changed back as it was when the checkpoint opened.

        For the open checkpoint (auto-rollback, best-of-N), the checkpoint stays open and empty
        afterwards, so the turn can continue from a clean state. Checkpoints opened after this one
        are undone first (newest first), so the result is the workspace as of ``checkpoint_id``."""
        self._cp_path(checkpoint_id)  # validates the id
        with self._locked():
            ids = self._ids()
            if checkpoint_id not in ids:
                raise SnapshotError(f"no checkpoint {checkpoint_id}")
            chain = [self._load(i) for i in ids[ids.index(checkpoint_id):]]
            chain = [d for d in chain if d.get("status") != "undone"]
            return self._undo_chain(list(reversed(chain)), force)

    def undo(self, n: int = 1, *, force: bool = False) -> RestoreReport:
        """Revert the last ``n`` checkpoints that changed files and are not undone yet."""
        if n < 1:
            raise SnapshotError("undo needs a positive number of turns")
        with self._locked():
            self._close_current()
            live = [d for d in self._docs() if d["entries"] and d.get("status") != "undone"]
            return self._undo_chain(list(reversed(live[-n:])), force)

    def undo_to(self, name_or_id: str, *, force: bool = False) -> RestoreReport:
        """Revert the named checkpoint and every later one: the workspace as it was when the
        named checkpoint opened."""
        cp_id = self.find(name_or_id)
        with self._locked():
            self._close_current()
        return self.restore(cp_id, force=force)

    def _undo_chain(self, chain: builtins.list[dict[str, Any]], force: bool) -> RestoreReport:
        """Undo checkpoints newest first against a virtual view of the files, then write."""
        for doc in chain:  # a turn another process has open: finished if it died, else refuse
            if doc.get("status") == "open" and doc is not self._doc:
                if not self._owner_is_dead(doc):
                    pid = (doc.get("owner") or {}).get("pid")
                    raise SnapshotError(f"checkpoint {doc['id']} belongs to an agent turn still "
                                        f"running (pid {pid}); undo when it has finished")
                for rel, entry in doc["entries"].items():
                    entry["post"] = self._current_sha(rel)
                doc["status"] = "closed"
        report = RestoreReport()
        state: dict[str, str | None] = {}  # rel -> sha of the (planned) content, None = absent
        target: dict[str, dict[str, Any]] = {}  # rel -> entry whose pre becomes the content
        refused: set[str] = set()

        def now(rel: str) -> str | None:
            if rel not in state:
                state[rel] = self._current_sha(rel)
            return state[rel]

        for doc in chain:
            is_open = doc.get("status") == "open"
            for rel, entry in sorted(doc["entries"].items()):
                pre = entry.get("pre")
                cur = now(rel)
                if cur == pre:
                    continue  # already as it was
                if rel in refused:
                    continue
                post = entry.get("post", cur if is_open else UNKNOWN)
                if pre == UNKNOWN:
                    report.unrestorable.append(rel)
                    refused.add(rel)
                    continue
                if not force and (cur == UNKNOWN or (post != cur and not is_open)):
                    why = "changed after the agent's edit (not by the agent); use --force to " \
                          "overwrite" if cur is not None else "deleted after the agent's edit; " \
                          "use --force to recreate it"
                    report.conflicts.append((rel, why))
                    refused.add(rel)
                    continue
                state[rel] = pre
                target[rel] = entry
        for rel, entry in sorted(target.items()):
            self._apply(rel, entry, report)
        stamp = time.time()
        for doc in chain:
            report.checkpoints.append(doc["id"])
            if doc.get("status") == "open":
                doc["history"].append({"rolled_back": stamp, "entries": doc["entries"]})
                doc["entries"] = {}
            else:
                kept = {p for p, _ in report.conflicts} & set(doc["entries"])
                done = {r: e for r, e in doc["entries"].items() if r not in kept}
                doc.setdefault("undone_entries", {}).update(done)
                doc["entries"] = {r: e for r, e in doc["entries"].items() if r in kept}
                # refused files stay pending: a later `undo --force` can still revert them
                doc["status"] = "partial" if kept else "undone"
                doc["undone"] = stamp
            self._save(doc)
        report.checkpoints.reverse()
        return report

    def _apply(self, rel: str, entry: dict[str, Any], report: RestoreReport) -> None:
        p = self.root / rel
        pre = entry.get("pre")
        if pre is None:
            if p.is_file() or p.is_symlink():
                p.unlink()
            for d in entry.get("new_dirs") or []:  # deepest first
                with contextlib.suppress(OSError):
                    (self.root / d).rmdir()  # only when empty
            report.deleted.append(rel)
            return
        data = self._get_blob(pre)
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        mode = entry.get("mode")
        _atomic_write(p, data, mode=int(mode) if mode is not None else 0o644, durable=False)
        report.restored.append(rel)

    # -- housekeeping ------------------------------------------------------------------------
    def _prune(self) -> None:
        ids = self._ids()
        excess = len(ids) - self.max_checkpoints
        if excess <= 0:
            return
        for cp_id in ids[:excess]:
            if cp_id != self.current:
                with contextlib.suppress(OSError):
                    self._cp_path(cp_id).unlink()
        used: set[str] = set()
        for d in self._docs():
            for e in d["entries"].values():
                used.add(str(e.get("pre")))
            for h in d.get("history", []):
                used.update(str(e.get("pre")) for e in h.get("entries", {}).values())
        for blob in self.blob_dir.glob("*/*"):
            if blob.name not in used and not blob.name.endswith(".tmp"):
                with contextlib.suppress(OSError):
                    blob.unlink()


async def execute_with_snapshots(registry: ToolRegistry, name: str, arguments: dict[str, Any],
                                 ctx: ToolContext) -> ToolResult:
    """``registry.execute`` with shell capture: a tool that runs commands (``bash``,
    ``create_and_run``, ``edit_and_verify``...) is bracketed by ``before_shell``/``after_shell``
    of ``ctx``'s snapshot store (off the event loop). Files the command changed are listed in
    ``result.data["shell_changed_files"]``; capture warnings in ``result.data["snapshot_warnings"]``.
    Without a store, or for other tools, this is exactly ``registry.execute``."""
    store = ctx.services.snapshots
    tool = registry.get(name)
    if not isinstance(store, SnapshotStore) or tool is None or not tool.runs_commands:
        return await registry.execute(name, arguments, ctx)
    await asyncio.to_thread(store.before_shell)
    try:
        result = await registry.execute(name, arguments, ctx)
    finally:
        changed = await asyncio.to_thread(store.after_shell)
    if changed:
        result.data["shell_changed_files"] = changed
    if store.last_shell_warnings:
        result.data["snapshot_warnings"] = list(store.last_shell_warnings)
    return result


__all__ = ["CheckpointInfo", "RestoreReport", "SnapshotError", "SnapshotStore",
           "execute_with_snapshots"]
