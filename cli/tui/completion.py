"""Input completion: ``@`` completes workspace file paths (.gitignore-aware), ``/`` completes
slash commands; plus the edit preview shown when a write asks for confirmation."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smallcode.core.tools.workspace import Workspace, WorkspaceError

MAX_INDEXED_FILES = 20_000
_AT_TOKEN_RE = re.compile(r"(?:^|(?<=\s))@([\w./~+-]*)$")


@dataclass(frozen=True)
class Completion:
    """Replace ``text[start:]`` of the input with ``replacement``; ``label`` is shown in the list."""

    start: int
    replacement: str
    label: str
    help: str = ""


class PathIndex:
    """The workspace's files (relative, sorted, .gitignore respected), read once on demand."""

    def __init__(self, workspace: Workspace, limit: int = MAX_INDEXED_FILES):
        self.workspace = workspace
        self.limit = limit
        self._paths: list[str] | None = None

    def paths(self) -> list[str]:
        if self._paths is None:
            out: list[str] = []
            for p in self.workspace.iter_files():
                out.append(p.relative_to(self.workspace.root).as_posix())
                if len(out) >= self.limit:
                    break
            self._paths = out
        return self._paths

    def refresh(self) -> None:
        self._paths = None

    def match(self, fragment: str, limit: int = 8) -> list[str]:
        """Paths starting with the fragment first, then paths whose file name starts with it,
        then paths containing it; shorter paths first within each group."""
        frag = fragment.lower()
        prefix, name, inside = [], [], []
        for p in self.paths():
            low = p.lower()
            if low.startswith(frag):
                prefix.append(p)
            elif low.rsplit("/", 1)[-1].startswith(frag):
                name.append(p)
            elif frag in low:
                inside.append(p)
        ranked = [sorted(group, key=lambda s: (len(s), s)) for group in (prefix, name, inside)]
        return [p for group in ranked for p in group][:limit]


def complete(text: str, index: PathIndex, commands: dict[str, str], limit: int = 8
             ) -> list[Completion]:
    """Completions for the input as typed (cursor at the end)."""
    if text.startswith("/") and " " not in text:
        word = text[1:].lower()
        return [Completion(0, f"/{name} ", f"/{name}", help_)
                for name, help_ in sorted(commands.items()) if name.startswith(word)][:limit]
    m = _AT_TOKEN_RE.search(text)
    if m:
        return [Completion(m.start(), f"@{p} ", f"@{p}") for p in index.match(m.group(1), limit)]
    return []


def edit_preview(workspace: Workspace, arguments: dict[str, Any]) -> str:
    """The unified diff a write or patch would make, from its arguments ("" when unknown)."""
    path = arguments.get("path")
    if not isinstance(path, str) or not path:
        return ""
    try:
        target: Path = workspace.resolve(path)
        before = target.read_text(errors="replace") if target.is_file() else ""
    except (WorkspaceError, OSError):
        return ""
    if isinstance(arguments.get("content"), str):
        after = arguments["content"]
    elif isinstance(arguments.get("old_str"), str) and isinstance(arguments.get("new_str"), str):
        old, new = arguments["old_str"], arguments["new_str"]
        if old and old in before:
            after = before.replace(old, new, 1)
        else:  # the patch ladder may still place it; show what is asked for
            before, after = old, new
    else:
        return ""
    lines = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                 fromfile=f"a/{path}", tofile=f"b/{path}")
    return "".join(ln if ln.endswith("\n") else ln + "\n" for ln in lines)
