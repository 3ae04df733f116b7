"""Micro-task: a one-line commit message for a diff. Fallback: "Update a.py, b.py"."""

from __future__ import annotations

import re
from typing import Any

from smallcode.core.model.types import ChatModel

from .microtask import Cache, MicroResult, MicroTask

MAX_DIFF_CHARS = 8_000
MAX_SUBJECT = 72

_FILE_RE = re.compile(r"^diff --git a/(\S+) b/(\S+)", re.MULTILINE)


def files_in_diff(diff: str) -> list[tuple[str, str]]:
    """(path, kind) for each file of a unified git diff; kind is add, remove or update."""
    out = []
    chunks = re.split(r"(?=^diff --git )", diff, flags=re.MULTILINE)
    for chunk in chunks:
        m = _FILE_RE.match(chunk)
        if not m:
            continue
        kind = "update"
        if re.search(r"^new file mode", chunk, re.MULTILINE):
            kind = "add"
        elif re.search(r"^deleted file mode", chunk, re.MULTILINE):
            kind = "remove"
        out.append((m.group(2), kind))
    return out


def fallback_message(diff: str) -> str | None:
    files = files_in_diff(diff)
    if not files:
        return None
    kinds = {k for _, k in files}
    verb = {"add": "Add", "remove": "Remove"}.get(kinds.pop(), "Update") if len(kinds) == 1 \
        else "Update"
    names = [p.rsplit("/", 1)[-1] for p, _ in files]
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return f"{verb} {shown}"[:MAX_SUBJECT]


def _build(inputs: dict[str, Any]) -> list[dict[str, Any]]:
    diff = inputs["diff"]
    if len(diff) > MAX_DIFF_CHARS:
        diff = diff[:MAX_DIFF_CHARS] + "\n... (diff truncated)"
    return [
        {"role": "system", "content": "Write a git commit subject line for the diff: imperative "
         "mood, at most 72 characters, no trailing period, no quotes. Output only the line."},
        {"role": "user", "content": diff},
    ]


def _parse(text: str, inputs: dict[str, Any]) -> str | None:
    for line in text.splitlines():
        line = line.strip().strip("`\"'* ").removeprefix("Commit message:").strip()
        if not line or line.startswith(("diff ", "+", "-", "@@", "#")):
            continue
        if not re.search(r"[A-Za-z]{3}", line) or len(line) > 100:
            return None
        line = line.rstrip(".")
        return line[:MAX_SUBJECT]
    return None


COMMIT_MESSAGE: MicroTask[str] = MicroTask(
    name="commit_message", output=str, build=_build, parse=_parse,
    fallback=lambda inputs: fallback_message(inputs["diff"]), timeout=30.0, max_tokens=60)


async def commit_message(model: ChatModel | None, diff: str, *, cache: Cache | None = None,
                         timeout: float | None = None) -> MicroResult[str]:
    return await COMMIT_MESSAGE.run(model, {"diff": diff}, cache=cache, timeout=timeout)
