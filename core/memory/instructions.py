"""Project instruction files (``AGENTS.md``, ``CLAUDE.md``, ``.smallcode/rules.md``) for the stable
part of the prompt, capped so a long file cannot eat a small model's context window.

The output is deterministic for unchanged files (it sits in the cached prompt prefix). When the
files exceed the cap, each gets a fair share (short files whole, the rest split what remains), cut
at a line boundary, and a note says what was left out.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from smallcode.core.context.budget import DEFAULT_CHARS_PER_TOKEN

INSTRUCTION_FILES: tuple[str, ...] = ("AGENTS.md", "CLAUDE.md", ".smallcode/rules.md")
_READ_LIMIT = 1_000_000  # bytes; anything longer is certainly over any cap


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / DEFAULT_CHARS_PER_TOKEN) if text else 0


@dataclass
class _Doc:
    name: str
    text: str
    tokens: int
    share: int = 0


def _read(path: Path) -> str | None:
    try:
        if not path.is_file():
            return None
        with path.open("rb") as fh:
            raw = fh.read(_READ_LIMIT)
    except OSError:
        return None
    text = raw.decode("utf-8", errors="replace").replace("\r\n", "\n").strip()
    return text or None


def _cut(text: str, max_tokens: int, count: Callable[[str], int]) -> str:
    """The longest prefix of whole lines within ``max_tokens`` (a partial line if the first is
    already too long)."""
    if count(text) <= max_tokens:
        return text
    out: list[str] = []
    used = 0
    for line in text.split("\n"):
        cost = count(line + "\n")
        if used + cost > max_tokens:
            if not out:  # a single enormous first line: cut by characters
                return line[: max(0, int(max_tokens * DEFAULT_CHARS_PER_TOKEN))]
            break
        out.append(line)
        used += cost
    return "\n".join(out).rstrip()


def load_instructions(workspace_root: str | os.PathLike[str], cap_tokens: int = 1500,
                      count_tokens: Callable[[str], int] | None = None) -> str:
    """The project's instruction files as one prompt section, or "" when there are none."""
    count = count_tokens or estimate_tokens
    root = Path(workspace_root)
    docs: list[_Doc] = []
    seen_paths: set[Path] = set()
    seen_texts: set[str] = set()
    for name in INSTRUCTION_FILES:
        path = root / name
        text = _read(path)
        if text is None:
            continue
        real = path.resolve()
        if real in seen_paths or text in seen_texts:  # CLAUDE.md symlinked/copied to AGENTS.md
            continue
        seen_paths.add(real)
        seen_texts.add(text)
        docs.append(_Doc(name, text, count(text)))
    if not docs:
        return ""

    header = "# Project instructions"
    headings = {d.name: f"## {d.name}" for d in docs}
    overhead = count(header) + sum(count(h) + 1 for h in headings.values())
    budget = max(0, cap_tokens - overhead)
    total = sum(d.tokens for d in docs)
    truncated: list[str] = []
    if total > budget:
        budget = max(0, budget - 40)  # room for the truncation note
        # water-filling: files under the fair share keep everything, the rest split the remainder
        remaining, pending = budget, sorted(docs, key=lambda d: d.tokens)
        while pending:
            fair = remaining // len(pending)
            doc = pending.pop(0)
            doc.share = min(doc.tokens, fair)
            remaining -= doc.share
        for doc in docs:
            if doc.share < doc.tokens:
                doc.text = _cut(doc.text, doc.share, count)
                truncated.append(f"{doc.name} ({count(doc.text)} of {doc.tokens} tokens)")

    parts = [header]
    for doc in docs:
        if doc.text:
            parts.append(f"{headings[doc.name]}\n{doc.text}")
    if truncated:
        parts.append(f"[instructions truncated to fit {cap_tokens} tokens: "
                     + "; ".join(truncated) + ". Read the files for the rest.]")
    return "\n\n".join(parts)


__all__ = ["INSTRUCTION_FILES", "estimate_tokens", "load_instructions"]
