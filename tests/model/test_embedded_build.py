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
    EmbeddedError,
    ensure_llama_server,
    llama_server_path,
    llama_server_runs,
)

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


def build_sdist(index: Path, server_c: str = SERVER_C, version: str = "0.3.36") -> Path:
    """A ``llama_cpp_python-<version>.tar.gz`` pip can fetch and prepare without network."""
    index.mkdir(parents=True, exist_ok=True)
    stem = f"llama_cpp_python-{version}"
    files = {
        f"{stem}/pyproject.toml": IN_TREE_BACKEND_TOML,
        f"{stem}/metadata_backend.py": IN_TREE_BACKEND.format(version=version),
        f"{stem}/PKG-INFO": f"Metadata-Version: 2.1\nName: llama_cpp_python\n"
                            f"Version: {version}\n",
        f"{stem}/vendor/llama.cpp/CMakeLists.txt": CMAKE_LISTS,
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
                                 pip_options=local_index(tmp_path / "index"), jobs=1)

    assert binary == tmp_path / "cache/llama-server/0.3.36/build/bin/llama-server"
    assert llama_server_runs(binary).detail == "version: 9.9.9-test (build 1, commit fake)"
    assert lines[0] == "downloading the llama-cpp-python 0.3.36 sdist from PyPI (llama.cpp source)"
    assert "unpacking llama_cpp_python-0.3.36.tar.gz" in lines
    assert "building llama-server: 100%" in lines
    assert lines[-1] == (f"llama-server ready ({binary}; version: 9.9.9-test (build 1, commit "
                         "fake))")
    assert not (binary.parent / "llama-cli").exists()  # only the server target is built
    log = (tmp_path / "cache/llama-server/0.3.36/build.log").read_text()
    assert "-DGGML_NATIVE=ON" in log and "-DLLAMA_CURL=OFF" in log
    assert "-DBUILD_SHARED_LIBS=OFF" in log and "--target llama-server" in log


def test_a_cached_binary_that_runs_is_reused_without_building(tmp_path):
    cache = tmp_path / "cache"
    binary = put_script(llama_server_path(cache), """\
        echo "version: 1.0 (build 7, commit cached)" >&2
        """)
    lines: list[str] = []
    # an index with nothing in it: any download or build attempt would fail
    (tmp_path / "empty").mkdir()
    assert ensure_llama_server(lines.append, cache=cache,
                               pip_options=local_index(tmp_path / "empty")) == binary
    assert lines == []
    assert not (cache / "llama-server/0.3.36/build.log").exists()


def test_a_cached_binary_killed_by_sigill_is_rebuilt(tmp_path):
    cache = tmp_path / "cache"
    binary = put_script(llama_server_path(cache), "kill -ILL $$\n")
    stale = put_script(binary.parent.parent / "CMakeCache.txt", "# from another machine\n")
    assert llama_server_runs(binary).detail.startswith("killed by SIGILL")
    build_sdist(tmp_path / "index")
    lines: list[str] = []

    rebuilt = ensure_llama_server(lines.append, cache=cache,
                                  pip_options=local_index(tmp_path / "index"), jobs=1)

    assert rebuilt == binary
    assert llama_server_runs(binary).ok
    assert lines[0] == ("the cached llama-server does not run here (killed by SIGILL (illegal "
                        "instruction): it was built for another CPU); rebuilding")
    assert "# from another machine" not in stale.read_text()  # a clean build folder


def test_a_compile_error_is_reported_with_the_end_of_the_build_log(tmp_path):
    build_sdist(tmp_path / "index", server_c="int main(void) { return undefined_symbol_x; }\n")

    with pytest.raises(EmbeddedError) as caught:
        ensure_llama_server(cache=tmp_path / "cache",
                            pip_options=local_index(tmp_path / "index"), jobs=1)

    message = str(caught.value)
    assert message.startswith("cmake build failed (exit ")
    assert "undefined_symbol_x" in message
    assert str(tmp_path / "cache/llama-server/0.3.36/build.log") in message


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
