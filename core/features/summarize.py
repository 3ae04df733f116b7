"""Micro-task: summarize a large file — what it is for and where things are.

The summary is an orientation aid, never a substitute for the text: it always ends with a pointer
to the exact lines (one ranged ``read_file`` away), so the model never patches from a summary.
Fallback: a regex outline of the file's definitions with line numbers.
"""

from __future__ import annotations

import re
from typing import Any

from smallcode.core.model.types import ChatModel

from .microtask import Cache, MicroResult, MicroTask

MAX_INPUT_CHARS = 12_000
MAX_SUMMARY_CHARS = 1_500

_DEF_RE = re.compile(
    r"^(?:\s{0,4})(?:export\s+)?(?:default\s+)?(?:pub(?:\(crate\))?\s+)?(?:async\s+)?"
    r"(?:def|class|function|func|fn|struct|enum|trait|interface|type|impl|module|const\s+\w+\s*="
    r"\s*(?:async\s*)?\()\s*[\w<>(*&]",
)


def _pointer(path: str, lines: int) -> str:
    return (f"(Summary only: for exact text read_file {path} with a line range; "
            f"the file has {lines} lines.)")


def outline(path: str, text: str, max_items: int = 40) -> str | None:
    """Definitions with line numbers, plus the module docstring's first line when there is one."""
    lines = text.splitlines()
    items = []
    for i, line in enumerate(lines, 1):
        if _DEF_RE.match(line):
            items.append(f"{i}: {line.strip()[:100]}")
    doc = re.match(r'\s*(?:"""|\'\'\')\s*(.+)', text)
    head = [doc.group(1).strip().rstrip('"\'')] if doc else []
    if not items and not head:
        return None
    more = f"\n... {len(items) - max_items} more definitions" if len(items) > max_items else ""
    body = "\n".join(head + items[:max_items]) + more
    return f"Outline of {path}:\n{body}\n{_pointer(path, len(lines))}"


def _build(inputs: dict[str, Any]) -> list[dict[str, Any]]:
    text = inputs["text"]
    if len(text) > MAX_INPUT_CHARS:
        text = text[: MAX_INPUT_CHARS * 2 // 3] + "\n...\n" + text[-MAX_INPUT_CHARS // 3:]
    return [
        {"role": "system", "content": "You summarize source files for a coding agent. In at most "
         "6 short lines: what the file is for, its main functions/classes and where they are "
         "(line numbers when visible). No code, no advice."},
        {"role": "user", "content": f"File {inputs['path']}:\n```\n{text}\n```\nSummary:"},
    ]


def _parse(text: str, inputs: dict[str, Any]) -> str | None:
    text = text.strip()
    if len(text) < 15 or not re.search(r"[A-Za-z]{3}", text):
        return None
    if text.count("\n") > 30 or text.lstrip().startswith(("{", "[")):
        return None  # a code dump or JSON, not a summary
    text = text[:MAX_SUMMARY_CHARS]
    return f"{text}\n{_pointer(inputs['path'], len(inputs['text'].splitlines()))}"


def _fallback(inputs: dict[str, Any]) -> str | None:
    return outline(inputs["path"], inputs["text"])


SUMMARIZE_FILE: MicroTask[str] = MicroTask(
    name="summarize_file", output=str, build=_build, parse=_parse, fallback=_fallback,
    timeout=45.0, max_tokens=220, ttl=30 * 24 * 3600.0)


async def summarize_file(model: ChatModel | None, path: str, text: str, *,
                         cache: Cache | None = None,
                         timeout: float | None = None) -> MicroResult[str]:
    """A short summary of ``path`` ending with a pointer to its exact lines. Keyed by content."""
    return await SUMMARIZE_FILE.run(model, {"path": path, "text": text}, cache=cache,
                                    timeout=timeout)
