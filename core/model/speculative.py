"""llama.cpp's speculative decoding for the embedded server, drafted from the context.

Kept apart from :mod:`.embedded_server` so the CLI can list the choices without importing the
HTTP client.
"""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

# n-gram speculative decoding: drafts come from the text already in the context, so no second
# model is loaded. A whole-file edit copies most of its file from the prompt, and there the
# drafts are accepted: tests/perf/bench_speculative.py measured 1.6x (one request) and 1.8x
# (two at once) the tokens per second of a whole-file edit with the 1.5B on 2 cores, and the
# same speed as without on new code, where nothing is copied
SPECULATIVE_DEFAULT = "ngram-mod"
SPECULATIVE_CHOICES = ("ngram-mod", "ngram-simple", "ngram-cache", "none")


@functools.lru_cache(maxsize=8)
def _help_text(binary: str, mtime_ns: int) -> str:
    try:
        proc = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=30,
                              check=False, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return ""
    return proc.stdout + proc.stderr


def speculative_args(binary: Path, kind: str | None) -> list[str]:
    """``--spec-type KIND`` when ``binary`` lists that option and value in its ``--help``
    (llama.cpp builds older than the option start without it rather than fail); [] for none."""
    if not kind or kind == "none":
        return []
    try:
        mtime = binary.stat().st_mtime_ns
    except OSError:
        return []
    text = _help_text(str(binary), mtime)
    if "--spec-type" not in text or kind not in text:
        return []
    return ["--spec-type", kind]


__all__ = ["SPECULATIVE_CHOICES", "SPECULATIVE_DEFAULT", "speculative_args"]
