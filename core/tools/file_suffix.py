"""``change_suffix``: give every file of one kind in a folder another extension, contents kept.

"Rename every .txt file in notes/ to .md" asks for no code: a small model answering in file
blocks can only write new files (the old ones stay) and cannot say that a file goes. Done as one
operation, each file is renamed in place, nothing else changes, and each rename is recorded in
the open snapshot (the new file as absent before, the old one with its content), so ``smallcode
undo`` puts every file back.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field

from .registry import Tool, ToolContext, ToolError, ToolRegistry, ToolResult

_SUFFIX = re.compile(r"\.[A-Za-z0-9][A-Za-z0-9_-]{0,9}")
# the router offers the tool when a message pairs a renaming word with an extension
_WORD = r"(?:renam\w*|\bextensions?\b|\bsuffix(?:es)?\b|->|→)"
_EXT = r"(?<![\w/])\*?\.[A-Za-z][A-Za-z0-9]{0,7}\b"
CHANGE_SUFFIX_RE = re.compile(rf"{_WORD}[^\n]{{0,200}}?{_EXT}|{_EXT}[^\n]{{0,200}}?{_WORD}",
                              re.IGNORECASE)


class ChangeSuffixArgs(BaseModel):
    """Extra arguments are ignored."""

    folder: str = Field(description="the folder whose files are renamed, like notes/ (its "
                                    "subfolders too)")
    old_suffix: str = Field(description="the extension the files have now, like .txt")
    new_suffix: str = Field(description="the extension they get, like .md")


def _suffix(text: str) -> str:
    s = text.strip().strip("`'\"").lstrip("*")
    s = s if s.startswith(".") else "." + s
    if not _SUFFIX.fullmatch(s):
        raise ToolError(f"{text!r} is not a file extension (like .txt)")
    return s


def change_suffix(args: ChangeSuffixArgs, ctx: ToolContext) -> ToolResult:
    from .files import record_pre_edit, resolve_path

    ws = ctx.workspace
    old, new = _suffix(args.old_suffix), _suffix(args.new_suffix)
    if old == new:
        raise ToolError(f"the files already end in {old}")
    folder = resolve_path(ctx, args.folder.strip().strip("`'\"").rstrip("/") or ".",
                          must_exist=True)
    if not folder.is_dir():
        raise ToolError(f"{ws.rel(folder)} is not a folder")
    files = sorted(p for p in ws.iter_files() if p.is_relative_to(folder) and p.suffix == old)
    if not files:
        raise ToolError(f"no {old} file in {ws.rel(folder)}/")
    targets = [p.with_suffix(new) for p in files]
    taken = [ws.rel(t) for t in targets if t.exists()]
    if taken:
        raise ToolError(f"{', '.join(taken)} already exist{'s' if len(taken) == 1 else ''}: "
                        "renaming onto them would lose a file")
    changed: list[str] = []
    for src, dst in zip(files, targets, strict=True):
        record_pre_edit(ctx, ws.rel(dst), dst)
        record_pre_edit(ctx, ws.rel(src), src)
        src.rename(dst)
        changed += [ws.rel(src), ws.rel(dst)]
    pairs = [f"{ws.rel(s)} -> {ws.rel(d)}" for s, d in zip(files, targets, strict=True)]
    return ToolResult(ok=True, output=f"renamed {len(files)} file(s), contents kept: "
                      + ", ".join(pairs), changed_files=changed,
                      data={"renamed": [[ws.rel(s), ws.rel(d)]
                                        for s, d in zip(files, targets, strict=True)]})


def register(registry: ToolRegistry, settings: Any = None) -> None:
    registry.register(Tool("change_suffix", "Give every file with one extension in a folder "
                                            "another extension (notes/*.txt -> .md), contents "
                                            "kept, in one call.",
                           ChangeSuffixArgs, change_suffix, frozenset({"write", "plan"}),
                           mutates=True))


__all__ = ["CHANGE_SUFFIX_RE", "ChangeSuffixArgs", "change_suffix", "register"]
