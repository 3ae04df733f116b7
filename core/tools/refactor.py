"""Refactoring tools: ``rename_symbol``.

A rename across files is where a small model drifts most: it has to find every use, then make
one exact patch per occurrence, and each patch is another chance to miss. Here the rename is one
deterministic call: every whole-identifier occurrence in the project's source files is
replaced (a plan step's: in the files it owns), each file goes through the same guards as ``patch`` (declared
files of a plan step, snapshots, validation, a file that would break is left as it was).

Only whole identifiers match (``calc_total`` does not touch ``calc_totals`` or ``recalc_total``).
Prose files (Markdown, reStructuredText, plain text) are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from .registry import Tool, ToolContext, ToolError, ToolRegistry, ToolResult

MAX_FILE_BYTES = 2_000_000
PROSE_SUFFIXES = frozenset({".md", ".markdown", ".rst", ".txt", ".csv", ".log", ".lock"})
_IDENT = re.compile(r"^[A-Za-z_$][\w$]*$")


def identifier_pattern(name: str) -> re.Pattern[str]:
    """``name`` as a whole identifier (not part of a longer name in Python, JS, Go, Rust, ...)."""
    return re.compile(rf"(?<![\w$]){re.escape(name)}(?![\w$])")


def _text(p: Path) -> str | None:
    try:
        if p.stat().st_size > MAX_FILE_BYTES:
            return None
        data = p.read_bytes()
    except OSError:
        return None
    if b"\x00" in data[:4096]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def source_files(workspace: Any) -> Iterator[Path]:
    """Project files a rename may touch: not ignored, not prose."""
    for f in workspace.iter_files():
        if f.suffix.lower() not in PROSE_SUFFIXES:
            yield f


def files_using(workspace: Any, name: str) -> list[tuple[str, int]]:
    """(relative path, occurrences) of the identifier ``name``, by path."""
    rx = identifier_pattern(name)
    out = []
    for f in source_files(workspace):
        text = _text(f)
        if text is None:
            continue
        n = len(rx.findall(text))
        if n:
            out.append((workspace.rel(f), n))
    return out


def _bare(name: str) -> str:
    name = name.strip().strip("`'\"").removesuffix("()")
    return name.rsplit(".", 1)[-1] if "." in name and not name.startswith(".") else name


class RenameArgs(BaseModel):
    """No ``path``: a rename that stops at one file breaks the others (a 1.5B model names one
    file, renames it, sees the import errors and gives up). Extra arguments are ignored."""

    old: str = Field(description="current name of the function, class, method or variable")
    new: str = Field(description="the new name")


def rename_symbol(args: RenameArgs, ctx: ToolContext) -> ToolResult:
    from .files import write_checked

    old, new = _bare(args.old), _bare(args.new)
    for label, value in (("old", old), ("new", new)):
        if not _IDENT.match(value):
            raise ToolError(f"{label}={value!r} is not an identifier; give the bare name "
                            f"(like calc_total), not code")
    if old == new:
        raise ToolError(f"old and new are the same name ({old})")
    targets = files_using(ctx.workspace, old)
    allowed = ctx.allowed_edit_paths
    skipped = []
    if allowed is not None:
        skipped = [rel for rel, _ in targets if rel not in allowed]
        targets = [(rel, n) for rel, n in targets if rel in allowed]
    if not targets:
        where = "the project's source files"
        extra = f" you may edit ({', '.join(sorted(allowed))})" if allowed is not None else ""
        raise ToolError(f"no whole-word occurrence of {old} in {where}{extra}; check the "
                        f"spelling with search")
    rx = identifier_pattern(old)
    changed: list[str] = []
    diffs: list[str] = []
    lines: list[str] = []
    failed: list[str] = []
    for rel, count in targets:
        p = ctx.workspace.resolve(rel)
        text = _text(p) or ""
        # the tests follow the name (protected tests stay protected from other edits)
        result = write_checked(ctx, rel, p, rx.sub(new, text), rename=True)
        diffs.append(result.diff)
        if result.data.get("reverted") or not result.ok:
            failed.append(f"{rel}: {result.output.strip()}")
            if not result.data.get("reverted"):
                changed.append(rel)
            continue
        changed.append(rel)
        lines.append(f"{rel}: {count} occurrence{'s' if count != 1 else ''}")
    clash = [rel for rel, _ in files_using(ctx.workspace, new) if rel not in changed]
    out = [f"renamed {old} -> {new} in {len(lines)} file{'s' if len(lines) != 1 else ''}:"]
    out += ["  " + x for x in lines]
    if skipped:
        out.append(f"not touched (other steps own them): {', '.join(skipped)}")
    if clash:
        out.append(f"note: {new} already appears in {', '.join(clash[:5])}; check for a clash")
    if failed:
        out.append("NOT RENAMED:\n" + "\n".join(failed))
    return ToolResult(ok=not failed, output="\n".join(out), changed_files=changed,
                      diff="".join(diffs), data={"renamed": lines, "failed": failed})


# "rename calc_total to compute_total", "rename the Cart class to ShoppingCart": a name to a name
# (not "rename every .txt file to .md", not "rename app/helpers.py to ..."). The router offers
# rename_symbol only for these; plan derivation reads the two names from it.
_KIND = r"(?:function|method|class|variable|constant|symbol|helper|field|attribute|property)"
RENAME_RE = re.compile(
    rf"\b(?:rename|renmae)\s+(?:the\s+)?(?:{_KIND}\s+)?[`'\"]?([A-Za-z_]\w*)(?:\(\))?[`'\"]?"
    rf"(?:\s+{_KIND})?\s+(?:to|into|as)\s+[`'\"]?([A-Za-z_]\w*)(?:\(\))?[`'\"]?(?![\w./])",
    re.IGNORECASE)


def register(registry: ToolRegistry, settings: Any = None) -> None:
    registry.register(Tool("rename_symbol", "Rename a function, class or variable everywhere "
                                            "it is used (whole words only), in one call.",
                           RenameArgs, rename_symbol, frozenset({"write", "plan"}), mutates=True))


__all__ = ["PROSE_SUFFIXES", "RENAME_RE", "RenameArgs", "files_using", "identifier_pattern",
           "register", "rename_symbol", "source_files"]
