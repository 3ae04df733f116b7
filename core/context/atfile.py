"""``@path`` and ``@path:10-40`` in a user message: the file's numbered lines go into the prompt.

Caps per file and per message keep one mention from eating the window; a capped file says how to
read the rest. Paths outside the workspace are refused with a note; binary files are not inlined;
a folder mention lists its files. Emails and decorators (``@property``) are left alone unless a
file by that name exists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from smallcode.core.tools.workspace import Workspace, WorkspaceError

MAX_FILE_CHARS = 12_000
MAX_MESSAGE_CHARS = 32_000
MAX_DIR_ENTRIES = 80
MAX_FILE_BYTES = 2_000_000

AT_RE = re.compile(r"(?<![\w@/])@(\"[^\"]+\"|'[^']+'|[\w.~/+-][\w./~+-]*)(?::(\d+)(?:-(\d+))?)?")


@dataclass(frozen=True)
class AtFileAttachment:
    """One ``@`` mention and what became of it."""

    mention: str  # as written, e.g. "@src/app.py:10-40"
    path: str  # workspace-relative (or as written when refused)
    start: int = 0  # first line included (1-based), 0 when nothing was included
    end: int = 0  # last line included
    total_lines: int = 0
    chars: int = 0
    truncated: bool = False
    refused: str = ""  # why nothing was included ("" when included)

    @property
    def included(self) -> bool:
        return not self.refused


class AtFileExpansion(NamedTuple):
    text: str
    attachments: list[AtFileAttachment]


def _number(lines: list[str], start: int) -> str:
    width = len(str(start + len(lines)))
    return "\n".join(f"{i:>{width}}| {line}" for i, line in enumerate(lines, start))


def expand_at_files(message: str, workspace: Workspace, *, max_file_chars: int = MAX_FILE_CHARS,
                    max_message_chars: int = MAX_MESSAGE_CHARS) -> AtFileExpansion:
    """Replace each ``@path`` by the plain path and append the files' numbered content.

    Returns the new message text and one attachment per mention (refusals included, so the
    caller can show them). A message without mentions comes back unchanged.
    """
    blocks: list[str] = []
    attachments: list[AtFileAttachment] = []
    budget = max_message_chars
    seen: set[tuple[str, int, int]] = set()

    def replace(match: re.Match[str]) -> str:
        nonlocal budget
        raw = match.group(1).strip("\"'")
        trail = ""
        while raw and raw[-1] in ".,;:!?)":
            trail = raw[-1] + trail
            raw = raw[:-1]
        if not raw:
            return match.group(0)
        start_s, end_s = match.group(2), match.group(3)
        looks_like_path = "/" in raw or "." in raw or start_s is not None
        try:
            path = workspace.resolve(raw)
        except WorkspaceError as exc:
            if not looks_like_path:
                return match.group(0)
            attachments.append(AtFileAttachment(match.group(0), raw, refused=str(exc)))
            blocks.append(f"[@{raw} refused: {exc}]")
            return raw + trail + _range_suffix(start_s, end_s)
        rel = workspace.rel(path)
        if not path.exists():
            if not looks_like_path:
                return match.group(0)  # "@property", "@someone": not a file mention
            attachments.append(AtFileAttachment(match.group(0), rel, refused="not found"))
            blocks.append(f"[@{rel}: no such file in the workspace]")
            return rel + trail + _range_suffix(start_s, end_s)
        if path.is_dir():
            entries = [workspace.rel(p) for p in workspace.iter_files(rel)]
            shown = entries[:MAX_DIR_ENTRIES]
            more = f"\n... and {len(entries) - len(shown)} more" if len(entries) > len(shown) else ""
            listing = f"Folder {rel}/ ({len(entries)} files):\n" + "\n".join(shown) + more
            listing = listing[: max(budget, 0)]
            budget -= len(listing)
            blocks.append(listing)
            attachments.append(AtFileAttachment(match.group(0), rel, chars=len(listing)))
            return rel + trail
        block, att = _file_block(match.group(0), path, rel, start_s, end_s,
                                 min(max_file_chars, budget))
        key = (rel, att.start, att.end)
        if att.included and key in seen:
            return rel + trail + _range_suffix(start_s, end_s)
        seen.add(key)
        budget -= att.chars
        blocks.append(block)
        attachments.append(att)
        return rel + trail + _range_suffix(start_s, end_s)

    text = AT_RE.sub(replace, message)
    if not blocks:
        return AtFileExpansion(message, attachments)
    return AtFileExpansion(text + "\n\n" + "\n\n".join(blocks), attachments)


def _range_suffix(start: str | None, end: str | None) -> str:
    if start is None:
        return ""
    return f":{start}-{end}" if end is not None else f":{start}"


def _file_block(mention: str, path: object, rel: str, start_s: str | None, end_s: str | None,
                cap: int) -> tuple[str, AtFileAttachment]:
    from pathlib import Path

    p = Path(str(path))
    if cap <= 200:
        return (f"[@{rel} not included: the message's file budget is used up]",
                AtFileAttachment(mention, rel, refused="message cap reached"))
    size = p.stat().st_size
    if size > MAX_FILE_BYTES:
        return (f"[@{rel} not included: {size} bytes is too large; read a line range]",
                AtFileAttachment(mention, rel, refused="file too large"))
    data = p.read_bytes()
    if b"\x00" in data[:8192]:
        return (f"[@{rel} not included: binary file]",
                AtFileAttachment(mention, rel, refused="binary file"))
    lines = data.decode("utf-8", errors="replace").splitlines()
    total = len(lines)
    first = max(int(start_s), 1) if start_s else 1
    last = min(int(end_s), total) if end_s else (first if start_s else total)
    if start_s and not end_s:
        last = min(first + 39, total)  # "@file:10" means a window from line 10
    if total == 0:
        block = f"File {rel} (empty)"
        return block, AtFileAttachment(mention, rel, 0, 0, 0, len(block))
    if first > total or last < first:
        return (f"[@{rel}: lines {first}-{last} are outside the file ({total} lines)]",
                AtFileAttachment(mention, rel, total_lines=total, refused="range outside file"))
    chosen = lines[first - 1:last]
    body = _number(chosen, first)
    truncated = False
    if len(body) > cap:
        kept: list[str] = []
        used = 0
        for line in body.splitlines():
            if used + len(line) + 1 > cap - 120:
                break
            kept.append(line)
            used += len(line) + 1
        last = first + len(kept) - 1
        body = "\n".join(kept)
        truncated = True
    span = f"lines {first}-{last} of {total}" if (first, last) != (1, total) else f"{total} lines"
    tail = (f"\n[... truncated; read_file {rel} from line {last + 1} for the rest]"
            if truncated else "")
    block = f"File {rel} ({span}):\n```\n{body}\n```{tail}"
    return block, AtFileAttachment(mention, rel, first, last, total, len(block), truncated)


__all__ = ["AtFileAttachment", "AtFileExpansion", "expand_at_files"]
