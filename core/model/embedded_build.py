"""Build llama.cpp's ``llama-server`` from the ``llama-cpp-python`` sdist on PyPI, once per machine.

Debian has no llama.cpp package and nothing may come from a model hub, so the server is compiled
here: ``pip download --no-deps --no-binary :all: llama-cpp-python==0.3.36`` (the sdist vendors
llama.cpp), then ``cmake`` with ``GGML_NATIVE=ON`` builds only the ``llama-server`` target into
``cache_dir()/llama-server/<version>/build/bin/llama-server`` (about 6 minutes on 2 cores; the
``[ NN%]`` lines from the build are passed on as progress). A native build may not run on another
CPU, so a cached binary that fails ``--version`` (e.g. SIGILL) is rebuilt from scratch.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tarfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..config import cache_dir
from .embedded_cache import CacheLock, EmbeddedError, Progress, pip_download

LLAMA_CPP_PYTHON_VERSION = "0.3.36"
CMAKE_FLAGS: tuple[str, ...] = (
    "-DCMAKE_BUILD_TYPE=Release",
    "-DGGML_NATIVE=ON",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_CURL=OFF",
    "-DBUILD_SHARED_LIBS=OFF",
)
MAKE_PERCENT = re.compile(r"^\[\s*(\d{1,3})%\]")
NINJA_STEP = re.compile(r"^\[(\d+)/(\d+)\]")
LOG_TAIL_LINES = 25


def _no_progress(_: str) -> None:
    return None


@dataclass(frozen=True)
class BinaryCheck:
    """Whether a llama-server binary starts on this machine, and what it said (or why not)."""

    ok: bool
    detail: str


def llama_server_dir(cache: Path | None = None, version: str = LLAMA_CPP_PYTHON_VERSION) -> Path:
    return (cache or cache_dir()) / "llama-server" / version


def llama_server_path(cache: Path | None = None, version: str = LLAMA_CPP_PYTHON_VERSION) -> Path:
    """Where the built binary lives (whether or not it has been built yet)."""
    return llama_server_dir(cache, version) / "build" / "bin" / "llama-server"


def llama_server_runs(binary: Path, timeout: float = 30.0) -> BinaryCheck:
    """Run ``binary --version``: ok when it exits 0. SIGILL means it was built for another CPU."""
    if not binary.is_file():
        return BinaryCheck(False, f"{binary} does not exist")
    try:
        done = subprocess.run([str(binary), "--version"], check=False, capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return BinaryCheck(False, f"`{binary.name} --version` did not finish in {timeout:.0f}s")
    except OSError as exc:
        return BinaryCheck(False, f"cannot execute {binary}: {exc}")
    output = (done.stdout + done.stderr).strip()
    if done.returncode == 0:
        first = next((ln for ln in output.splitlines() if ln.startswith("version")), "")
        return BinaryCheck(True, (first or output.splitlines()[0]) if output else "ok")
    if done.returncode == -signal.SIGILL:
        return BinaryCheck(False, "killed by SIGILL (illegal instruction): it was built for "
                                  "another CPU")
    if done.returncode < 0:
        return BinaryCheck(False, f"killed by signal {-done.returncode}")
    return BinaryCheck(False, f"exit code {done.returncode}: {output[-300:]}")


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _run_logged(cmd: Sequence[str], log: Path, on_line: Callable[[str], None],
                what: str) -> None:
    """Run ``cmd`` appending its output to ``log``; each line also goes to ``on_line``."""
    with log.open("a") as sink:
        sink.write(f"$ {' '.join(cmd)}\n")
        sink.flush()
        proc = subprocess.Popen(list(cmd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, errors="replace", stdin=subprocess.DEVNULL, bufsize=1)
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                sink.write(line)
                on_line(line.rstrip())
            code = proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    if code != 0:
        raise EmbeddedError(f"{what} failed (exit {code}); full log: {log}\n{_tail(log)}")


def _build_progress(progress: Progress) -> Callable[[str], None]:
    last = -1

    def on_line(line: str) -> None:
        nonlocal last
        match = MAKE_PERCENT.match(line)
        if match:
            percent = int(match.group(1))
        else:
            step = NINJA_STEP.match(line)
            if not step:
                return
            percent = 100 * int(step.group(1)) // max(1, int(step.group(2)))
        if percent != last:
            last = percent
            progress(f"building llama-server: {percent}%")

    return on_line


def _find_compiler() -> str | None:
    for name in (os.environ.get("CXX", ""), "c++", "g++", "clang++"):
        if name and shutil.which(name):
            return name
    return None


def _source_tree(folder: Path, version: str, pip_options: Sequence[str],
                 progress: Progress) -> Path:
    """Download (if needed) and unpack the sdist; return the vendored llama.cpp folder."""
    stem = f"llama_cpp_python-{version}"
    vendored = folder / "src" / stem / "vendor" / "llama.cpp"
    if (vendored / "CMakeLists.txt").is_file():
        return vendored
    downloads = folder / "dl"
    tarball = downloads / f"{stem}.tar.gz"
    if not tarball.is_file():
        progress(f"downloading the llama-cpp-python {version} sdist from PyPI (llama.cpp source)")
        pip_download([f"llama-cpp-python=={version}"], downloads,
                     options=["--no-binary", ":all:", *pip_options])
        if not tarball.is_file():
            found = sorted(downloads.glob("*.tar.gz"))
            if not found:
                raise EmbeddedError(f"pip download left no sdist in {downloads}")
            tarball = found[0]
    progress(f"unpacking {tarball.name}")
    staging = folder / "src.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        with tarfile.open(tarball) as archive:
            archive.extractall(staging, filter="data")
    except (tarfile.TarError, OSError) as exc:
        tarball.unlink(missing_ok=True)
        raise EmbeddedError(f"cannot unpack {tarball}: {exc}; removed it, run again") from exc
    if not (staging / stem / "vendor" / "llama.cpp" / "CMakeLists.txt").is_file():
        raise EmbeddedError(f"{tarball.name} has no vendor/llama.cpp/CMakeLists.txt")
    shutil.rmtree(folder / "src", ignore_errors=True)
    os.replace(staging, folder / "src")
    return vendored


def ensure_llama_server(progress: Progress = _no_progress, *, cache: Path | None = None,
                        version: str = LLAMA_CPP_PYTHON_VERSION,
                        pip_options: Sequence[str] = (), jobs: int | None = None,
                        lock_timeout: float | None = None) -> Path:
    """Return a ``llama-server`` binary that runs on this CPU, building it first if needed.

    A cached binary that answers ``--version`` is reused (well under a second). A missing one is
    built (the sdist and an interrupted build are resumed); one that fails to start is rebuilt
    from a clean build folder. Concurrent callers serialise on a lock; the second one finds the
    binary ready. Raises :class:`EmbeddedError` with the end of the build log on failure.
    """
    folder = llama_server_dir(cache, version)
    binary = llama_server_path(cache, version)
    if llama_server_runs(binary).ok:
        return binary
    lock = CacheLock((cache or cache_dir()) / "locks" / f"llama-server-{version}.lock",
                     timeout=lock_timeout, progress=progress)
    with lock:
        check = llama_server_runs(binary)
        if check.ok:
            return binary
        build = folder / "build"
        if binary.exists():
            progress(f"the cached llama-server does not run here ({check.detail}); rebuilding")
            shutil.rmtree(build, ignore_errors=True)
        cmake = shutil.which("cmake")
        compiler = _find_compiler()
        if cmake is None or compiler is None:
            missing = " and ".join(n for n, v in (("cmake", cmake), ("a C++ compiler", compiler))
                                   if v is None)
            raise EmbeddedError(
                f"building llama-server needs {missing}; install them (Debian/Ubuntu: "
                "`apt-get install cmake g++`) or point smallcode at a running server with "
                "SMALLCODE_BASE_URL")
        source = _source_tree(folder, version, pip_options, progress)
        log = folder / "build.log"
        log.write_text(f"# llama-server {version} build, {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        progress(f"configuring llama-server (cmake; log: {log})")
        _run_logged([cmake, "-S", str(source), "-B", str(build), *CMAKE_FLAGS], log,
                    lambda _line: None, "cmake configure")
        workers = jobs or os.cpu_count() or 2
        progress(f"building llama-server with {workers} jobs (about 6 minutes on 2 cores)")
        _run_logged([cmake, "--build", str(build), "--target", "llama-server", "-j",
                     str(workers)], log, _build_progress(progress), "cmake build")
        check = llama_server_runs(binary)
        if not check.ok:
            raise EmbeddedError(f"llama-server was built but does not run: {check.detail}; "
                                f"build log: {log}\n{_tail(log)}")
        progress(f"llama-server ready ({binary}; {check.detail})")
        return binary
