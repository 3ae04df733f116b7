"""What the CPU reports, and the llama.cpp (ggml) ISA flags a build for it should use.

``-march=native`` is not trusted: on a CPU that reports AMX it compiles ggml's AMX kernels, and
in a VM where AMX tiles cannot be used the server dies at its first matrix multiply. So the
flags are named one by one from ``/proc/cpuinfo``; AMX is always off. :func:`baseline_flags` is
the conservative fallback used when a build with the full flags fails its start-up proof.
"""

from __future__ import annotations

import hashlib
import platform
from dataclasses import dataclass
from pathlib import Path

# /proc/cpuinfo flag -> ggml CMake option, in the order ggml documents them.
GGML_ISA: tuple[tuple[str, str], ...] = (
    ("sse4_2", "GGML_SSE42"),
    ("avx", "GGML_AVX"),
    ("avx_vnni", "GGML_AVX_VNNI"),
    ("avx2", "GGML_AVX2"),
    ("bmi2", "GGML_BMI2"),
    ("fma", "GGML_FMA"),
    ("f16c", "GGML_F16C"),
    ("avx512f", "GGML_AVX512"),
    ("avx512vbmi", "GGML_AVX512_VBMI"),
    ("avx512_vnni", "GGML_AVX512_VNNI"),
    ("avx512_bf16", "GGML_AVX512_BF16"),
)
NEVER_ON: tuple[str, ...] = ("GGML_NATIVE", "GGML_AMX_TILE", "GGML_AMX_INT8", "GGML_AMX_BF16")
BASELINE_FEATURES: tuple[str, ...] = ("avx", "avx2", "fma", "f16c")
SHOWN_FEATURES: tuple[str, ...] = (
    *(flag for flag, _ in GGML_ISA), "amx_tile", "amx_int8", "amx_bf16")


@dataclass(frozen=True)
class CpuInfo:
    """The CPU's model name and the feature flags the kernel reports for it."""

    model: str
    flags: frozenset[str]

    @property
    def shown_features(self) -> list[str]:
        """The features that matter for llama.cpp, as ``doctor`` and ``model status`` show them."""
        return [f for f in SHOWN_FEATURES if f in self.flags]

    @property
    def key(self) -> str:
        """A short stable id of this CPU (model and features), for build caches."""
        text = self.model + "|" + " ".join(sorted(self.flags))
        return hashlib.sha256(text.encode()).hexdigest()[:10]


def read_cpu(cpuinfo: Path = Path("/proc/cpuinfo")) -> CpuInfo:
    """The first processor's model name and flags; an unreadable file gives no flags."""
    model, flags = "", frozenset[str]()
    try:
        text = cpuinfo.read_text(errors="replace")
    except OSError:
        text = ""
    for line in text.splitlines():
        name, _, value = line.partition(":")
        name = name.strip()
        if name == "model name" and not model:
            model = value.strip()
        elif name == "flags" and not flags:
            flags = frozenset(value.split())
        if model and flags:
            break
    return CpuInfo(model or platform.processor() or platform.machine() or "unknown CPU", flags)


def _switches(on: set[str]) -> tuple[str, ...]:
    options = [name for _, name in GGML_ISA]
    return (*(f"-D{name}=OFF" for name in NEVER_ON),
            *(f"-D{name}={'ON' if name in on else 'OFF'}" for name in options))


def isa_flags(cpu: CpuInfo) -> tuple[str, ...]:
    """Every ISA extension the CPU reports that ggml can use, named explicitly; never AMX."""
    return _switches({name for flag, name in GGML_ISA if flag in cpu.flags})


def baseline_flags(cpu: CpuInfo) -> tuple[str, ...]:
    """The fallback: AVX2/FMA/F16C when the CPU has all of them, else no SIMD flags at all."""
    if all(f in cpu.flags for f in BASELINE_FEATURES):
        return _switches({name for flag, name in GGML_ISA if flag in BASELINE_FEATURES})
    return _switches(set())


def enabled(flags: tuple[str, ...]) -> list[str]:
    """The options switched on in a flag list, without the ``GGML_`` prefix (for display)."""
    return [f[len("-DGGML_"):-len("=ON")] for f in flags
            if f.startswith("-DGGML_") and f.endswith("=ON")]
