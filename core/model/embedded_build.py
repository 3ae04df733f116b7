"""Build llama.cpp's ``llama-server`` from the ``llama-cpp-python`` sdist on PyPI, once per machine.

Debian has no llama.cpp package and nothing may come from a model hub, so the server is compiled
here: ``pip download --no-deps --no-binary :all: llama-cpp-python==0.3.36`` (the sdist vendors
llama.cpp), then ``cmake`` builds only the ``llama-server`` target (about 6 minutes on 2 cores; the
``[ NN%]`` lines from the build are passed on as progress).

Never ``GGML_NATIVE``: ``-march=native`` turns on ggml's AMX kernels on CPUs that report AMX, and
where the tiles cannot be used (a sandboxed VM) the server dies with SIGSEGV at the first request.
The ISA flags are named from what the CPU reports (:mod:`.cpu`), AMX never. Each build lives in
``cache_dir()/llama-server/<version>/<key>/`` where the key hashes the version, the flags and the
CPU model, so a cache copied to another CPU is rebuilt, not trusted. A build is accepted only
after a start-up proof (:func:`prove_llama_server`: the binary serves the installed model and
answers a short completion); when the proof fails, it is rebuilt once with the conservative
baseline flags. What was built and proven is recorded in ``build.json`` next to the binary.
"""

from __future__ import annotations

import hashlib
import json
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
from .cpu import CpuInfo, baseline_flags, enabled, isa_flags, read_cpu
from .embedded_cache import CacheLock, EmbeddedError, Progress, pip_download

LLAMA_CPP_PYTHON_VERSION = "0.3.36"
CMAKE_FLAGS: tuple[str, ...] = (
    "-DCMAKE_BUILD_TYPE=Release",
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


PROOF_PROMPT = ("You are a careful Python programmer.\n"
                "# A function that returns the sum of two integers, with a docstring.\n"
                "def add(a: int, b: int) -> int:\n")
PROOF_TOKENS = 24
RECORD_NAME = "build.json"


@dataclass(frozen=True)
class StartupProof:
    """The result of starting a binary on a model and asking it for a short completion."""

    ok: bool
    detail: str
    prompt_tps: float | None = None
    gen_tps: float | None = None
    model: str = ""
    at: str = ""

    def describe(self) -> str:
        if not self.ok:
            return f"FAILED {self.at}: {self.detail}"
        speed = (f"; prompt {self.prompt_tps:.0f} tok/s, generation {self.gen_tps:.1f} tok/s"
                 if self.prompt_tps and self.gen_tps else "")
        return f"ok {self.at} with {self.model}{speed}"


@dataclass(frozen=True)
class BuildRecord:
    """What a cached build is: for which CPU, with which flags, and whether it was proven."""

    version: str
    cpu_model: str
    cpu_key: str
    flags: tuple[str, ...]
    label: str
    built_at: str
    proof: StartupProof | None = None

    def to_json(self) -> str:
        data = {"version": self.version, "cpu_model": self.cpu_model, "cpu_key": self.cpu_key,
                "flags": list(self.flags), "label": self.label, "built_at": self.built_at,
                "proof": None if self.proof is None else self.proof.__dict__}
        return json.dumps(data, indent=2)

    @classmethod
    def from_json(cls, text: str) -> BuildRecord:
        data = json.loads(text)
        proof = data.get("proof")
        return cls(version=data["version"], cpu_model=data["cpu_model"], cpu_key=data["cpu_key"],
                   flags=tuple(data["flags"]), label=data.get("label", ""),
                   built_at=data.get("built_at", ""),
                   proof=StartupProof(**proof) if isinstance(proof, dict) else None)


def llama_server_dir(cache: Path | None = None, version: str = LLAMA_CPP_PYTHON_VERSION) -> Path:
    """The version's folder: the sdist and sources, and one sub-folder per build key."""
    return (cache or cache_dir()) / "llama-server" / version


def build_key(version: str, flags: Sequence[str], cpu: CpuInfo) -> str:
    """Builds are cached per source version, flag set and CPU (model and features)."""
    text = "\n".join([version, cpu.model, cpu.key, *flags])
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _build_folder(cache: Path | None, version: str, flags: Sequence[str], cpu: CpuInfo) -> Path:
    return llama_server_dir(cache, version) / build_key(version, flags, cpu)


def _binary_in(folder: Path) -> Path:
    return folder / "build" / "bin" / "llama-server"


def _selection_file(cache: Path | None, version: str, cpu: CpuInfo) -> Path:
    return llama_server_dir(cache, version) / f"selected-{cpu.key}.json"


def llama_server_path(cache: Path | None = None, version: str = LLAMA_CPP_PYTHON_VERSION,
                      cpu: CpuInfo | None = None) -> Path:
    """The binary for this CPU: the build selected by the last install, else where the build
    with this CPU's full flags lives (whether or not it has been built yet)."""
    cpu = cpu or read_cpu()
    try:
        key = json.loads(_selection_file(cache, version, cpu).read_text())["key"]
        return _binary_in(llama_server_dir(cache, version) / str(key))
    except (OSError, ValueError, KeyError, TypeError):
        return _binary_in(_build_folder(cache, version, isa_flags(cpu), cpu))


def build_record(binary: Path) -> BuildRecord | None:
    """The record next to a cached binary, or None (not built by smallcode, or unreadable)."""
    try:
        return BuildRecord.from_json((binary.parent.parent.parent / RECORD_NAME).read_text())
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_record(binary: Path, record: BuildRecord) -> None:
    path = binary.parent.parent.parent / RECORD_NAME
    tmp = path.with_suffix(".tmp")
    tmp.write_text(record.to_json())
    os.replace(tmp, path)


def _now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S")


def prove_llama_server(binary: Path, model: Path, *, timeout: float = 300.0,
                       threads: int | None = None) -> StartupProof:
    """Start ``binary`` on ``model``, ask for a short completion, and stop it.

    Ok only when the server became healthy, answered with non-empty text and was still alive
    afterwards. Any signal, exit, timeout or empty answer is a failure whose detail says which.
    The speeds come from llama.cpp's own ``timings`` of that request.
    """
    import httpx

    from .embedded_server import EmbeddedServer, EmbeddedServerError

    stamp = _now()
    server = EmbeddedServer(model, ctx=2048, parallel=1, threads=threads or min(
        4, os.cpu_count() or 2), binary=binary, startup_timeout=timeout,
        log_dir=binary.parent.parent.parent / "logs", explain_crash=False)
    try:
        try:
            server.start()
        except EmbeddedServerError as exc:
            return StartupProof(False, str(exc).splitlines()[0], model=model.name, at=stamp)
        try:
            with httpx.Client(trust_env=False, timeout=httpx.Timeout(timeout)) as client:
                reply = client.post(f"{server.root_url}/completion", json={
                    "prompt": PROOF_PROMPT, "n_predict": PROOF_TOKENS, "temperature": 0,
                    "cache_prompt": False})
            body = reply.json() if reply.status_code == 200 else {}
        except (httpx.HTTPError, ValueError) as exc:
            body, failure = {}, f"the completion request failed: {exc}"
        else:
            failure = "" if reply.status_code == 200 else f"HTTP {reply.status_code}"
        code = server.exit_code()
        if code is not None:
            how = f"killed by signal {-code}" if code < 0 else f"exited with code {code}"
            return StartupProof(False, f"llama-server {how} while answering the first request",
                                model=model.name, at=stamp)
        if failure:
            return StartupProof(False, failure, model=model.name, at=stamp)
        text = str(body.get("content", ""))
        if not text.strip():
            return StartupProof(False, "llama-server answered with no text", model=model.name,
                                at=stamp)
        timings = body.get("timings") or {}
        prompt_tps = timings.get("prompt_per_second")
        gen_tps = timings.get("predicted_per_second")
        return StartupProof(True, f"answered {len(text)} characters", model=model.name, at=stamp,
                            prompt_tps=float(prompt_tps) if prompt_tps else None,
                            gen_tps=float(gen_tps) if gen_tps else None)
    finally:
        server.stop()


def _proven(binary: Path, record: BuildRecord | None, model: Path | None) -> bool:
    """Reusable without work: it runs, and it was proven (or no proof is possible yet)."""
    if record is None or not llama_server_runs(binary).ok:
        return False
    if model is None:
        return record.proof is None or record.proof.ok
    return record.proof is not None and record.proof.ok


def ensure_llama_server(progress: Progress = _no_progress, *, cache: Path | None = None,
                        version: str = LLAMA_CPP_PYTHON_VERSION,
                        pip_options: Sequence[str] = (), jobs: int | None = None,
                        lock_timeout: float | None = None, model: Path | None = None,
                        rebuild: bool = False, cpu: CpuInfo | None = None,
                        prove: Callable[[Path, Path], StartupProof] | None = None) -> Path:
    """Return a ``llama-server`` binary proven to run on this CPU, building it first if needed.

    The flags come from the CPU (:func:`isa_flags`). With ``model`` given, a build is accepted
    only after :func:`prove_llama_server` succeeds on it; when that fails, the server is rebuilt
    once with :func:`baseline_flags` and the progress says so. Without a model (nothing is
    installed yet) the build is kept unproven and proven at its first start by
    :func:`~smallcode.core.model.embedded.start_embedded`. A proven cached build is reused in
    well under a second; ``rebuild`` builds from clean folders. Concurrent callers serialise on
    a lock. Raises :class:`EmbeddedError` with the reason and the end of the build log.
    """
    cpu = cpu or read_cpu()
    prove = prove or prove_llama_server
    selected = llama_server_path(cache, version, cpu)
    if not rebuild and _proven(selected, build_record(selected), model):
        return selected
    lock = CacheLock((cache or cache_dir()) / "locks" / f"llama-server-{version}.lock",
                     timeout=lock_timeout, progress=progress)
    with lock:
        selected = llama_server_path(cache, version, cpu)
        if not rebuild and _proven(selected, build_record(selected), model):
            return selected
        attempts = [("this CPU's ISA flags", isa_flags(cpu))]
        if baseline_flags(cpu) != attempts[0][1]:
            attempts.append(("the conservative baseline flags", baseline_flags(cpu)))
        failures: list[str] = []
        for number, (label, flags) in enumerate(attempts):
            folder = _build_folder(cache, version, flags, cpu)
            binary = _binary_in(folder)
            record = build_record(binary)
            if rebuild or record is None or record.flags != flags or not llama_server_runs(
                    binary).ok:
                check = llama_server_runs(binary)
                if binary.exists() and not rebuild and not check.ok:
                    progress(f"the cached llama-server does not run here ({check.detail}); "
                             "rebuilding")
                _build(folder, flags, label, cache, version, pip_options, jobs, progress)
                record = BuildRecord(version, cpu.model, cpu.key, flags, label, _now())
                _write_record(binary, record)
            proof = record.proof
            if model is not None and (proof is None or not proof.ok or proof.model != model.name):
                progress(f"start-up check: serving {model.name} with the new llama-server and "
                         "asking for a short completion")
                proof = prove(binary, model)
                record = BuildRecord(record.version, record.cpu_model, record.cpu_key,
                                     record.flags, record.label, record.built_at, proof)
                _write_record(binary, record)
            if proof is None or proof.ok:
                _selection_file(cache, version, cpu).write_text(
                    json.dumps({"key": folder.name, "label": label}))
                progress(f"llama-server ready ({binary}; {llama_server_runs(binary).detail}; "
                         f"flags: {', '.join(enabled(flags)) or 'no SIMD flags'}; start-up check: "
                         f"{proof.describe() if proof else 'not yet run (no model installed)'})")
                return binary
            failures.append(f"with {label}: {proof.detail}")
            if number + 1 < len(attempts):
                progress(f"llama-server built with {label} failed its start-up check "
                         f"({proof.detail}); rebuilding once with "
                         f"{attempts[number + 1][0]} "
                         f"({', '.join(enabled(attempts[number + 1][1])) or 'no SIMD flags'})")
        raise EmbeddedError("llama-server does not run on this CPU (" + "; ".join(failures) +
                            f"). CPU: {cpu.model}. Logs: {llama_server_dir(cache, version)}")


def _build(folder: Path, flags: Sequence[str], label: str, cache: Path | None, version: str,
           pip_options: Sequence[str], jobs: int | None, progress: Progress) -> None:
    """Configure and build the ``llama-server`` target into ``folder/build`` from clean."""
    cmake = shutil.which("cmake")
    compiler = _find_compiler()
    if cmake is None or compiler is None:
        missing = " and ".join(n for n, v in (("cmake", cmake), ("a C++ compiler", compiler))
                               if v is None)
        raise EmbeddedError(
            f"building llama-server needs {missing}; install them (Debian/Ubuntu: "
            "`apt-get install cmake g++`) or point smallcode at a running server with "
            "SMALLCODE_BASE_URL")
    source = _source_tree(llama_server_dir(cache, version), version, pip_options, progress)
    build = folder / "build"
    shutil.rmtree(build, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "build.log"
    log.write_text(f"# llama-server {version} build, {_now()}, {label}\n")
    progress(f"configuring llama-server with {label}: "
             f"{', '.join(enabled(tuple(flags))) or 'no SIMD flags'} (cmake; log: {log})")
    _run_logged([cmake, "-S", str(source), "-B", str(build), *CMAKE_FLAGS, *flags], log,
                lambda _line: None, "cmake configure")
    workers = jobs or os.cpu_count() or 2
    progress(f"building llama-server with {workers} jobs (about 6 minutes on 2 cores)")
    _run_logged([cmake, "--build", str(build), "--target", "llama-server", "-j",
                 str(workers)], log, _build_progress(progress), "cmake build")
    check = llama_server_runs(_binary_in(folder))
    if not check.ok:
        raise EmbeddedError(f"llama-server was built but does not run: {check.detail}; "
                            f"build log: {log}\n{_tail(log)}")


def server_report(cache: Path | None = None, version: str = LLAMA_CPP_PYTHON_VERSION,
                  cpu: CpuInfo | None = None) -> tuple[bool, list[tuple[str, str]]]:
    """What ``doctor`` and ``model status`` show about the embedded server on this CPU:
    (usable, [(label, text), ...]) — the CPU and its features, the binary, the flags it was
    built with and the last start-up check. Usable means it runs and its last check passed."""
    cpu = cpu or read_cpu()
    binary = llama_server_path(cache, version, cpu)
    check = llama_server_runs(binary)
    record = build_record(binary)
    features = ", ".join(cpu.shown_features) or "none of the SIMD features llama.cpp uses"
    lines = [("cpu", f"{cpu.model}; features: {features}"),
             ("binary", f"{binary} ({check.detail})")]
    if record is None:
        lines.append(("flags", "unknown (not built by `smallcode model install`)"))
        lines.append(("start-up check", "never run"))
    else:
        lines.append(("flags", (f"{', '.join(enabled(record.flags)) or 'no SIMD flags'} "
                               f"({record.label}, built {record.built_at} for "
                               f"{record.cpu_model})")))
        lines.append(("start-up check", record.proof.describe() if record.proof else
                      "not yet run (proven at the first start with a model)"))
    usable = check.ok and (record is None or record.proof is None or record.proof.ok)
    return usable, lines
