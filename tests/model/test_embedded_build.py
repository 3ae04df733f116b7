"""Building llama-server: sdist via a real ``pip download --no-binary :all:`` from a local index,
unpacked, configured and built with the real cmake and compiler, reused when it runs, rebuilt when
it does not (SIGILL), with build progress and failures that quote the build log.

The sdist is a stand-in with the real layout (``llama_cpp_python-0.3.36/vendor/llama.cpp``) whose
CMake project builds a tiny C ``llama-server``, so the whole path runs in seconds.
"""

from __future__ import annotations

import io
import shutil
import stat
import tarfile
import textwrap
from pathlib import Path

import pytest
from smallcode.core.model.embedded import (
    BuildRecord,
    CpuInfo,
    EmbeddedError,
    EmbeddedServer,
    EmbeddedServerError,
    StartupProof,
    build_record,
    ensure_llama_server,
    isa_flags,
    llama_server_path,
    llama_server_runs,
)

CPU = CpuInfo("Test CPU 3000", frozenset({"sse2", "avx", "avx2", "fma", "f16c"}))

pytestmark = pytest.mark.skipif(shutil.which("cmake") is None or shutil.which("cc") is None,
                                reason="needs cmake and a C compiler")

CMAKE_LISTS = """\
cmake_minimum_required(VERSION 3.13)
project(fake_llama C)
set(CMAKE_RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
add_executable(llama-server server.c)
add_executable(llama-cli cli.c)
"""

SERVER_C = """\
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        fprintf(stderr, "version: 9.9.9-test (build 1, commit fake)\\n");
        return 0;
    }
    return 2;
}
"""

# pip prepares an sdist's metadata before "downloading" it; an in-tree backend with no
# requirements lets that work with no index and no build tools installed.
IN_TREE_BACKEND_TOML = """\
[build-system]
requires = []
build-backend = "metadata_backend"
backend-path = ["."]
"""

IN_TREE_BACKEND = """\
import os

def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    name = "llama_cpp_python-{version}.dist-info"
    os.makedirs(os.path.join(metadata_directory, name))
    with open(os.path.join(metadata_directory, name, "METADATA"), "w") as fh:
        fh.write("Metadata-Version: 2.1\\nName: llama_cpp_python\\nVersion: {version}\\n")
    return name

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    raise RuntimeError("not buildable: only the vendored C sources are used")
"""


def build_sdist(index: Path, server_c: str = SERVER_C, version: str = "0.3.36",
                cmake_lists: str = CMAKE_LISTS) -> Path:
    """A ``llama_cpp_python-<version>.tar.gz`` pip can fetch and prepare without network."""
    index.mkdir(parents=True, exist_ok=True)
    stem = f"llama_cpp_python-{version}"
    files = {
        f"{stem}/pyproject.toml": IN_TREE_BACKEND_TOML,
        f"{stem}/metadata_backend.py": IN_TREE_BACKEND.format(version=version),
        f"{stem}/PKG-INFO": f"Metadata-Version: 2.1\nName: llama_cpp_python\n"
                            f"Version: {version}\n",
        f"{stem}/vendor/llama.cpp/CMakeLists.txt": cmake_lists,
        f"{stem}/vendor/llama.cpp/server.c": server_c,
        f"{stem}/vendor/llama.cpp/cli.c": "int main(void) { return 0; }\n",
    }
    path = index / f"{stem}.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    return path


def local_index(index: Path) -> list[str]:
    return ["--no-index", "--find-links", str(index)]


def put_script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + textwrap.dedent(body))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_builds_llama_server_from_the_sdist_with_progress(tmp_path):
    build_sdist(tmp_path / "index")
    lines: list[str] = []

    binary = ensure_llama_server(lines.append, cache=tmp_path / "cache",
                                 pip_options=local_index(tmp_path / "index"), jobs=1, cpu=CPU)

    folder = binary.parent.parent.parent
    assert folder.parent == tmp_path / "cache/llama-server/0.3.36"
    assert binary == folder / "build/bin/llama-server" == llama_server_path(tmp_path / "cache",
                                                                            cpu=CPU)
    assert llama_server_runs(binary).detail == "version: 9.9.9-test (build 1, commit fake)"
    assert lines[0] == "downloading the llama-cpp-python 0.3.36 sdist from PyPI (llama.cpp source)"
    assert "unpacking llama_cpp_python-0.3.36.tar.gz" in lines
    assert "building llama-server: 100%" in lines
    assert lines[-1] == (f"llama-server ready ({binary}; version: 9.9.9-test (build 1, commit "
                         "fake); flags: AVX, AVX2, FMA, F16C; start-up check: not yet run (no "
                         "model installed))")
    assert not (binary.parent / "llama-cli").exists()  # only the server target is built
    log = (folder / "build.log").read_text()
    assert "-DGGML_NATIVE=OFF" in log and "-DLLAMA_CURL=OFF" in log
    assert "-DGGML_AMX_TILE=OFF" in log and "-DGGML_AVX2=ON" in log and "-DGGML_AVX512=OFF" in log
    assert "-DBUILD_SHARED_LIBS=OFF" in log and "--target llama-server" in log


def test_a_cached_binary_that_runs_is_reused_without_building(tmp_path):
    cache = tmp_path / "cache"
    binary = put_script(llama_server_path(cache, cpu=CPU), """\
        echo "version: 1.0 (build 7, commit cached)" >&2
        """)
    proven = StartupProof(True, "answered 12 characters", 90.0, 18.0, "model.gguf", "then")
    record = BuildRecord("0.3.36", CPU.model, CPU.key, isa_flags(CPU), "x", "then", proven)
    (binary.parent.parent.parent / "build.json").write_text(record.to_json())
    model = tmp_path / "model.gguf"
    model.write_bytes(b"gguf")
    lines: list[str] = []
    # an index with nothing in it: any download or build attempt would fail
    (tmp_path / "empty").mkdir()
    assert ensure_llama_server(lines.append, cache=cache, model=model, cpu=CPU,
                               pip_options=local_index(tmp_path / "empty")) == binary
    assert lines == []
    assert not (binary.parent.parent.parent / "build.log").exists()


def test_a_cached_binary_killed_by_sigill_is_rebuilt(tmp_path):
    cache = tmp_path / "cache"
    binary = put_script(llama_server_path(cache, cpu=CPU), "kill -ILL $$\n")
    stale = put_script(binary.parent.parent / "CMakeCache.txt", "# from another machine\n")
    record = BuildRecord("0.3.36", CPU.model, CPU.key, isa_flags(CPU), "x", "then")
    (binary.parent.parent.parent / "build.json").write_text(record.to_json())
    assert llama_server_runs(binary).detail.startswith("killed by SIGILL")
    build_sdist(tmp_path / "index")
    lines: list[str] = []

    rebuilt = ensure_llama_server(lines.append, cache=cache, cpu=CPU,
                                  pip_options=local_index(tmp_path / "index"), jobs=1)

    assert rebuilt == binary
    assert llama_server_runs(binary).ok
    assert lines[0] == ("the cached llama-server does not run here (killed by SIGILL (illegal "
                        "instruction): it was built for another CPU); rebuilding")
    assert "# from another machine" not in stale.read_text()  # a clean build folder


def test_a_compile_error_is_reported_with_the_end_of_the_build_log(tmp_path):
    build_sdist(tmp_path / "index", server_c="int main(void) { return undefined_symbol_x; }\n")

    with pytest.raises(EmbeddedError) as caught:
        ensure_llama_server(cache=tmp_path / "cache", cpu=CPU,
                            pip_options=local_index(tmp_path / "index"), jobs=1)

    message = str(caught.value)
    assert message.startswith("cmake build failed (exit ")
    assert "undefined_symbol_x" in message
    folder = llama_server_path(tmp_path / "cache", cpu=CPU).parent.parent.parent
    assert str(folder / "build.log") in message


def test_missing_cmake_is_explained_before_anything_is_downloaded(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))
    monkeypatch.delenv("CXX", raising=False)
    with pytest.raises(EmbeddedError, match=r"building llama-server needs cmake and a C\+\+ "
                                            r"compiler; install them \(Debian/Ubuntu: "
                                            r"`apt-get install cmake g\+\+`\)"):
        ensure_llama_server(cache=tmp_path / "cache")
    assert not (tmp_path / "cache/llama-server/0.3.36/dl").exists()


def test_binary_check_explains_a_missing_file_and_a_failing_exit(tmp_path):
    assert llama_server_runs(tmp_path / "nope").detail == f"{tmp_path / 'nope'} does not exist"
    failing = put_script(tmp_path / "bin" / "llama-server", "echo 'bad flag' >&2; exit 3\n")
    check = llama_server_runs(failing)
    assert (check.ok, check.detail) == (False, "exit code 3: bad flag")


# A llama-server stand-in: `--version` answers; serving either segfaults (a build with AVX512 on,
# like ggml's AMX kernels in a VM that blocks the tiles) or execs a tiny Python HTTP server that
# answers /health and /completion the way llama.cpp does.
CRASHING_CMAKE_LISTS = CMAKE_LISTS + """\
if(GGML_AVX512)
  target_compile_definitions(llama-server PRIVATE CRASH_ON_SERVE=1)
endif()
"""

SERVING_C = """\
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        fprintf(stderr, "version: 9.9.9-test (build 1, commit fake)\\n");
        return 0;
    }
#ifdef CRASH_ON_SERVE
    fprintf(stderr, "ggml_backend_amx_mul_mat: about to crash\\n");
    raise(SIGSEGV);
#endif
    char *args[64];
    int n = 0;
    args[n++] = getenv("FAKE_PYTHON");
    args[n++] = getenv("FAKE_SERVER_PY");
    for (int i = 1; i < argc && n < 63; i++) args[n++] = argv[i];
    args[n] = NULL;
    execv(args[0], args);
    return 127;
}
"""

FAKE_SERVER_PY = """\
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

port = int(sys.argv[sys.argv.index("--port") + 1])

class Handler(BaseHTTPRequestHandler):
    def _send(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self._send({"status": "ok"})

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._send({"content": "    return a + b", "timings": {
            "prompt_per_second": 91.5, "predicted_per_second": 17.25}})

    def log_message(self, *args):
        pass

HTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""

AVX512_CPU = CpuInfo("Test Xeon with AMX", frozenset(
    {"avx", "avx2", "fma", "f16c", "bmi2", "avx512f", "avx512_vnni", "amx_tile", "amx_int8"}))


def crashing_sdist(tmp_path: Path, monkeypatch) -> Path:
    import sys

    script = tmp_path / "fake_server.py"
    script.write_text(FAKE_SERVER_PY)
    monkeypatch.setenv("FAKE_PYTHON", sys.executable)
    monkeypatch.setenv("FAKE_SERVER_PY", str(script))
    build_sdist(tmp_path / "index", server_c=SERVING_C, cmake_lists=CRASHING_CMAKE_LISTS)
    model = tmp_path / "model.gguf"
    model.write_bytes(b"gguf")
    return model


def test_flags_follow_the_cpu_and_never_turn_on_native_or_amx():
    flags = isa_flags(AVX512_CPU)
    assert "-DGGML_NATIVE=OFF" in flags and "-DGGML_AMX_TILE=OFF" in flags
    assert "-DGGML_AMX_INT8=OFF" in flags and "-DGGML_AMX_BF16=OFF" in flags
    assert "-DGGML_AVX512=ON" in flags and "-DGGML_AVX512_VNNI=ON" in flags
    assert "-DGGML_AVX512_BF16=OFF" in flags  # not reported by this CPU
    from smallcode.core.model.embedded import baseline_flags

    base = baseline_flags(AVX512_CPU)
    assert "-DGGML_AVX2=ON" in base and "-DGGML_AVX512=OFF" in base and "-DGGML_BMI2=OFF" in base
    old = CpuInfo("Old CPU", frozenset({"sse2", "sse4_2"}))
    assert not [f for f in baseline_flags(old) if f.endswith("=ON")]


def test_a_build_that_segfaults_at_start_up_is_rebuilt_once_with_baseline_flags(
        tmp_path, monkeypatch):
    model = crashing_sdist(tmp_path, monkeypatch)
    cache = tmp_path / "cache"
    lines: list[str] = []

    binary = ensure_llama_server(lines.append, cache=cache, model=model, cpu=AVX512_CPU,
                                 pip_options=local_index(tmp_path / "index"), jobs=1)

    configured = [ln for ln in lines if ln.startswith("configuring llama-server")]
    assert len(configured) == 2
    assert "with this CPU's ISA flags: " in configured[0] and "AVX512" in configured[0]
    assert "with the conservative baseline flags: AVX, AVX2, FMA, F16C " in configured[1]
    fallback = next(ln for ln in lines if "failed its start-up check" in ln)
    assert fallback.startswith("llama-server built with this CPU's ISA flags failed its start-up "
                               "check (llama-server was killed by signal 11 before it was ready")
    assert fallback.endswith("rebuilding once with the conservative baseline flags "
                             "(AVX, AVX2, FMA, F16C)")
    record = build_record(binary)
    assert record is not None and record.label == "the conservative baseline flags"
    assert record.proof is not None and record.proof.ok
    assert (record.proof.prompt_tps, record.proof.gen_tps) == (91.5, 17.25)
    assert llama_server_path(cache, cpu=AVX512_CPU) == binary  # the selection is remembered
    assert lines[-1].endswith("start-up check: ok " + record.proof.at + " with model.gguf; "
                              "prompt 92 tok/s, generation 17.2 tok/s)")
    # a second call reuses the proven fallback without building or serving anything
    again: list[str] = []
    assert ensure_llama_server(again.append, cache=cache, model=model, cpu=AVX512_CPU) == binary
    assert again == []
    # the same cache on another CPU is not trusted: it builds for that CPU
    other = CpuInfo("Another CPU", AVX512_CPU.flags - {"amx_tile", "amx_int8"})
    assert llama_server_path(cache, cpu=other) != binary


def test_the_start_up_error_of_a_crashing_server_names_the_cause_and_the_fix(
        tmp_path, monkeypatch):
    model = crashing_sdist(tmp_path, monkeypatch)
    cache = tmp_path / "cache"
    # with no model to prove it on, the crashing build is kept (unproven) as a user may have it
    binary = ensure_llama_server(cache=cache, cpu=AVX512_CPU, model=None,
                                 pip_options=local_index(tmp_path / "index"), jobs=1)
    server = EmbeddedServer(model, binary=binary, log_dir=tmp_path / "logs", startup_timeout=30)
    with pytest.raises(EmbeddedServerError) as caught:
        server.start()
    message = str(caught.value)
    assert "llama-server was killed by signal 11 before it was ready" in message
    assert "Likely cause: the binary uses CPU instructions this machine cannot run" in message
    assert "It was built for Test Xeon with AMX with AVX, AVX2, BMI2, FMA, F16C, AVX512, " \
           "AVX512_VNNI." in message
    assert "Fix: `smallcode model install --rebuild`" in message
    assert "ggml_backend_amx_mul_mat: about to crash" in message
