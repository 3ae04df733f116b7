"""Run llama.cpp's ``llama-server`` on a free loopback port for the embedded model.

:class:`EmbeddedServer` starts the binary in its own process group with the flags from
``local-model.md`` (``--host 127.0.0.1 -a local-model -t T -c CTX -np N --jinja --no-webui
--offline``), plus n-gram speculative decoding (``--spec-type ngram-mod``) when the binary has it,
waits until ``/health`` answers 200, and exposes the OpenAI-compatible
``base_url``. If the server dies while loading, the error carries the tail of its log. It is
stopped by :meth:`EmbeddedServer.stop`, by leaving a ``with`` block, or at interpreter exit; the
whole process group is signalled so no child survives.
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

import httpx

from ..config import cache_dir
from .cpu import enabled
from .embedded_build import build_record, llama_server_path
from .embedded_cache import EmbeddedError
from .speculative import SPECULATIVE_DEFAULT, speculative_args

LOG_TAIL_LINES = 30
KEEP_LOGS = 20
BIND_FAILURES = ("couldn't bind", "address already in use", "failed to bind")

_RUNNING: set[EmbeddedServer] = set()
_RUNNING_LOCK = threading.Lock()


def _stop_all_at_exit() -> None:
    with _RUNNING_LOCK:
        servers = list(_RUNNING)
    for server in servers:
        server.stop(timeout=5.0)


atexit.register(_stop_all_at_exit)


class EmbeddedServerError(EmbeddedError):
    """llama-server could not be started or did not become healthy."""


def free_loopback_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _prune_logs(folder: Path, keep: int = KEEP_LOGS) -> None:
    logs = sorted(folder.glob("llama-server-*.log"), key=lambda p: p.stat().st_mtime)
    for old in logs[:-keep]:
        old.unlink(missing_ok=True)


class EmbeddedServer:
    """A llama-server child process serving one GGUF model on 127.0.0.1.

    Nothing runs until :meth:`start` (or ``with EmbeddedServer(...) as server:``). ``port=None``
    picks a free port. ``binary=None`` uses the cached build from ``smallcode model install``.
    Logs go to ``cache_dir()/logs/llama-server-<time>-<port>.log`` (or ``log_dir``).
    """

    def __init__(self, model_path: str | os.PathLike[str], *, port: int | None = None,
                 ctx: int = 16384, parallel: int = 2, threads: int = 2,
                 binary: Path | None = None, alias: str = "local-model",
                 startup_timeout: float = 180.0, log_dir: Path | None = None,
                 extra_args: Sequence[str] = (), explain_crash: bool = True,
                 speculative: str | None = SPECULATIVE_DEFAULT) -> None:
        self.model_path = Path(model_path)
        self.requested_port = port
        self.ctx = ctx
        self.parallel = parallel
        self.threads = threads
        self.binary = binary
        self.alias = alias
        self.startup_timeout = startup_timeout
        self.log_dir = log_dir
        self.extra_args = tuple(extra_args)
        self.explain_crash = explain_crash
        self.speculative = speculative
        self.port: int | None = None
        self.log_path: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    # ------------------------------------------------------------------ properties
    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1`` — what an OpenAI client wants."""
        return f"{self.root_url}/v1"

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT`` — for llama.cpp's own endpoints (/health, /props)."""
        if self.port is None:
            raise EmbeddedServerError("the embedded server has not been started")
        return f"http://127.0.0.1:{self.port}"

    @property
    def model_name(self) -> str:
        return self.alias

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def exit_code(self) -> int | None:
        """The child's exit status (negative: killed by that signal), None while it runs."""
        return self._proc.poll() if self._proc is not None else None

    def _crash_hint(self, code: int) -> str:
        """Why a server dies by a signal at start-up, and the fix (empty for plain exits)."""
        if code >= 0 or not self.explain_crash:
            return ""
        binary = self.binary or llama_server_path()
        record = build_record(binary)
        built = (f" It was built for {record.cpu_model} with "
                 f"{', '.join(enabled(record.flags)) or 'no SIMD flags'}."
                 if record else " It was not built by `smallcode model install`.")
        return (f"\nLikely cause: the binary uses CPU instructions this machine cannot run "
                f"(a build copied from another CPU, or kernels such as AMX that this VM "
                f"blocks).{built} Fix: `smallcode model install --rebuild` builds and checks a "
                f"server for this CPU.")

    def command(self, port: int) -> list[str]:
        """The exact command line used to start the server on ``port``."""
        binary = self.binary or llama_server_path()
        return [str(binary), "-m", str(self.model_path), "--host", "127.0.0.1",
                "--port", str(port), "-a", self.alias, "-t", str(self.threads),
                "-c", str(self.ctx), "-np", str(self.parallel), "--jinja", "--no-webui",
                "--offline", *speculative_args(binary, self.speculative), *self.extra_args]

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Self:
        """Start the server and block until ``/health`` is 200. Returns ``self``."""
        if self.running:
            return self
        if not self.model_path.is_file():
            raise EmbeddedServerError(
                f"model file not found: {self.model_path}; run `smallcode model install`")
        binary = self.binary or llama_server_path()
        if not binary.is_file():
            raise EmbeddedServerError(
                f"llama-server is not built ({binary} is missing); run `smallcode model install`")
        attempts = 1 if self.requested_port is not None else 3
        for attempt in range(1, attempts + 1):
            port = self.requested_port or free_loopback_port()
            try:
                self._spawn(port)
                self._wait_healthy()
                return self
            except EmbeddedServerError:
                log_text = self._log_tail().lower()
                self.stop()
                if attempt < attempts and any(s in log_text for s in BIND_FAILURES):
                    continue
                raise
            except BaseException:  # Ctrl+C or SIGTERM while loading: leave nothing running
                self.stop()
                raise
        raise AssertionError("unreachable")

    def _spawn(self, port: int) -> None:
        folder = self.log_dir or (cache_dir() / "logs")
        folder.mkdir(parents=True, exist_ok=True)
        _prune_logs(folder)
        self.port = port
        self.log_path = folder / f"llama-server-{time.strftime('%Y%m%d-%H%M%S')}-{port}.log"
        self._log = self.log_path.open("ab")
        # Ctrl+C or SIGTERM is held back until the process is recorded: arriving inside Popen
        # it could leave a server running that nobody knows about (start stops it afterwards).
        # Deferred by a handler, not a signal mask: a child inherits the mask, and a server
        # that cannot see SIGTERM only stops after the SIGKILL grace
        pending: list[int] = []
        saved: dict[int, Any] = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                saved[sig] = signal.signal(sig, lambda signum, _frame: pending.append(signum))
        try:
            try:
                self._proc = subprocess.Popen(self.command(port), stdout=self._log,
                                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                              start_new_session=True)
            except OSError as exc:
                self._log.close()
                self._log = None
                raise EmbeddedServerError(
                    f"cannot execute {self.command(port)[0]}: {exc}") from exc
            with _RUNNING_LOCK:
                _RUNNING.add(self)
        finally:
            for sig, handler in saved.items():
                signal.signal(sig, handler)
            if pending:
                signal.raise_signal(pending[0])  # now the caller's handler runs (Ctrl+C raises)

    def _log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        if self.log_path is None:
            return ""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def _wait_healthy(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.startup_timeout
        url = f"{self.root_url}/health"
        with httpx.Client(trust_env=False, timeout=httpx.Timeout(2.0)) as client:
            while True:
                code = self._proc.poll()
                if code is not None:
                    how = (f"was killed by signal {-code}" if code < 0
                           else f"exited with code {code}")
                    raise EmbeddedServerError(
                        f"llama-server {how} before it was ready (model {self.model_path})."
                        f"{self._crash_hint(code)}\n"
                        f"Last lines of {self.log_path}:\n{self._log_tail()}")
                try:
                    if client.get(url).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass  # not listening yet, or busy loading
                if time.monotonic() >= deadline:
                    raise EmbeddedServerError(
                        f"llama-server did not become healthy within {self.startup_timeout:.0f}s "
                        f"(model {self.model_path}).\nLast lines of {self.log_path}:\n"
                        f"{self._log_tail()}")
                time.sleep(0.2)

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the server's process group (SIGTERM, then SIGKILL after ``timeout``)."""
        proc, self._proc = self._proc, None
        with _RUNNING_LOCK:
            _RUNNING.discard(self)
        if proc is not None and proc.poll() is None:
            self._signal_group(proc, signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(proc, signal.SIGKILL)
                proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    @staticmethod
    def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
        try:
            os.killpg(proc.pid, sig)  # start_new_session: the group id is the child's pid
        except (ProcessLookupError, PermissionError):
            pass

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"running on port {self.port}" if self.running else "stopped"
        return f"EmbeddedServer({self.model_path.name}, {state})"
