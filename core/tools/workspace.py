"""The workspace boundary: every file tool resolves paths here, and nothing escapes it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path

import pathspec

ALWAYS_IGNORED = (".git/", ".smallcode/", "__pycache__/", "node_modules/", ".venv/", "venv/",
                  ".mypy_cache/", ".pytest_cache/", ".ruff_cache/", "*.pyc", ".DS_Store")


class WorkspaceError(ValueError):
    """A path that is not allowed: outside the workspace, NUL bytes, or otherwise unusable."""


class Workspace:
    """A project folder. Paths may be relative, or absolute but inside the root."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise WorkspaceError(f"workspace {self.root} is not a directory")

    def resolve(self, path: str | os.PathLike[str], *, must_exist: bool = False) -> Path:
        """Return the absolute, symlink-resolved path, or raise WorkspaceError with a clear reason."""
        raw = os.fspath(path)
        if "\x00" in raw:
            raise WorkspaceError("path contains a NUL byte")
        raw = raw.strip()
        if not raw:
            raise WorkspaceError("empty path")
        p = Path(os.path.expanduser(raw)) if raw.startswith("~") else Path(raw)
        candidate = p if p.is_absolute() else self.root / p
        resolved = candidate.resolve()
        if resolved != self.root and self.root not in resolved.parents:
            raise WorkspaceError(
                f"path {raw!r} is outside the workspace {self.root}; use a path relative to it"
            )
        if must_exist and not resolved.exists():
            raise WorkspaceError(f"{self.rel(resolved)} does not exist")
        return resolved

    def rel(self, path: str | os.PathLike[str]) -> str:
        """Workspace-relative POSIX path for display and for the model."""
        p = Path(path)
        p = p if p.is_absolute() else self.root / p
        try:
            return p.resolve().relative_to(self.root).as_posix() or "."
        except ValueError:
            return str(p)

    @cached_property
    def ignore_spec(self) -> pathspec.PathSpec:
        lines = list(ALWAYS_IGNORED)
        gi = self.root / ".gitignore"
        if gi.is_file():
            lines += gi.read_text(errors="replace").splitlines()
        return pathspec.PathSpec.from_lines("gitignore", lines)

    def is_ignored(self, rel_path: str, is_dir: bool = False) -> bool:
        return self.ignore_spec.match_file(rel_path + ("/" if is_dir else ""))

    def iter_files(self, under: str | None = None) -> Iterator[Path]:
        """Every non-ignored regular file, sorted, .gitignore respected (root .gitignore)."""
        start = self.resolve(under) if under else self.root
        if start.is_file():
            yield start
            return
        for dirpath, dirnames, filenames in os.walk(start):
            d = Path(dirpath)
            rel_dir = d.relative_to(self.root).as_posix()
            prefix = "" if rel_dir == "." else rel_dir + "/"
            dirnames[:] = sorted(
                n for n in dirnames
                if not self.is_ignored(prefix + n, is_dir=True) and not (d / n).is_symlink()
            )
            for name in sorted(filenames):
                rel = prefix + name
                if self.is_ignored(rel):
                    continue
                fp = d / name
                if fp.is_symlink():
                    try:
                        self.resolve(rel)
                    except WorkspaceError:
                        continue
                yield fp
