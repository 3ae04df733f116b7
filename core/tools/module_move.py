"""Move (rename) a Python module and every import of it, as one deterministic operation.

"Rename app/helpers.py to app/text_tools.py and fix the imports" is mechanical, and a small
model does it badly: it runs a ``sed`` whose slashes break the expression, or patches the one
import it sees. Here the imports are found with the AST, so every form follows the module:

- ``import app.helpers`` / ``import app.helpers as h`` (and ``app.helpers.slug`` in the code),
- ``from app.helpers import slug``, ``from .helpers import slug``,
- ``from app import helpers`` / ``from . import helpers`` (and ``helpers.slug`` in the code),
- the dotted name inside strings (``mock.patch("app.helpers.slug")``) and config files
  (``app.helpers:main`` entry points).

Text is changed token by token, so the rest of each file keeps its formatting.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from .registry import Tool, ToolContext, ToolError, ToolRegistry, ToolResult

CONFIG_SUFFIXES = (".toml", ".cfg", ".ini", ".json", ".yaml", ".yml")
# a message that may move a module: a ``.py`` file and a renaming or moving word (the router
# offers move_module only then; the solve path decides with find_module_move)
_MOVE_WORD = r"(?:\b(?:renam\w*|renmae\w*|mov(?:e|es|ed|ing)|mv|called|named?)\b|->|→|=>)"
MOVE_RE = re.compile(rf"{_MOVE_WORD}[^\n]{{0,200}}?\.py\b|\.py\b[^\n]{{0,200}}?{_MOVE_WORD}",
                     re.IGNORECASE)


def dotted(rel: str) -> str:
    """``app/helpers.py`` -> ``app.helpers`` (``app/__init__.py`` -> ``app``)."""
    parts = list(Path(rel).with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _package_of(rel: str) -> list[str]:
    """The package a file's relative imports start from."""
    parts = list(Path(rel).with_suffix("").parts)
    return parts[:-1]


def _resolve(rel: str, node: ast.ImportFrom) -> str:
    """The absolute module an ``ImportFrom`` names, as seen from the file ``rel``."""
    if not node.level:
        return node.module or ""
    base = _package_of(rel)
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)] if node.level - 1 <= len(base) else []
    return ".".join([*base, *([node.module] if node.module else [])])


@dataclass
class _Edit:
    start: tuple[int, int]  # (line, col) of a token, 1-based lines
    end: tuple[int, int]
    text: str


def _tokens(source: str) -> list[tokenize.TokenInfo]:
    return list(tokenize.generate_tokens(io.StringIO(source).readline))


def _apply(source: str, edits: list[_Edit]) -> str:
    if not edits:
        return source
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def pos(lc: tuple[int, int]) -> int:
        return offsets[lc[0] - 1] + lc[1]

    out = source
    for e in sorted(edits, key=lambda e: pos(e.start), reverse=True):
        out = out[:pos(e.start)] + e.text + out[pos(e.end):]
    return out


def rewrite_imports(rel: str, source: str, old: str, new: str) -> str:
    """``source`` (the file ``rel``) with every import and use of module ``old`` (dotted)
    turned into module ``new``. Unparsable source comes back as it is."""
    try:
        tree = ast.parse(source)
        toks = _tokens(source)
    except (SyntaxError, tokenize.TokenError, ValueError):
        return source
    old_parent, _, old_last = old.rpartition(".")
    new_parent, _, new_last = new.rpartition(".")
    edits: list[_Edit] = []
    bound_names: set[str] = set()  # names bound to the old module itself (``helpers``)
    dotted_uses = False  # ``import app.helpers``: the code says ``app.helpers.slug``
    import_lines: set[int] = set()

    def stmt_tokens(node: ast.stmt) -> list[tokenize.TokenInfo]:
        end = node.end_lineno or node.lineno
        return [t for t in toks if node.lineno <= t.start[0] <= end
                and (t.start[0], t.start[1]) >= (node.lineno, node.col_offset)
                and (t.end[0], t.end[1]) <= (end, node.end_col_offset or 10**9)]

    def replace_dotted(ts: list[tokenize.TokenInfo], first: int, count: int, with_: str) -> None:
        # tokens first..first+2*(count-1) spell the dotted name NAME . NAME . NAME
        last = first + 2 * (count - 1)
        edits.append(_Edit(ts[first].start, ts[last].end, with_))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            ts = stmt_tokens(node)
            for alias in node.names:
                if alias.name != old and not alias.name.startswith(old + "."):
                    continue
                import_lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
                n = old.count(".") + 1
                want = old.split(".")
                for i in range(len(ts)):
                    names = [ts[i + 2 * k].string for k in range(n) if i + 2 * k < len(ts)]
                    if names == want and all(ts[i + 2 * k + 1].string == "." for k in range(n - 1)):
                        replace_dotted(ts, i, n, new)
                        break
                if alias.asname is None:
                    if "." in old:
                        dotted_uses = True
                    else:
                        bound_names.add(old)
        elif isinstance(node, ast.ImportFrom):
            module = _resolve(rel, node)
            ts = stmt_tokens(node)
            if module == old or module.startswith(old + "."):
                import_lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
                # the module part: the tokens between ``from`` and ``import``
                i_from = next(i for i, t in enumerate(ts) if t.string == "from")
                i_imp = next(i for i, t in enumerate(ts) if t.string == "import")
                rest = module[len(old):]
                if node.level and new_parent == old_parent:
                    # a relative import within the same package stays relative
                    mod = node.module or ""
                    head = mod[: len(mod) - len(old_last + rest)].rstrip(".")
                    text = "." * node.level + ".".join(filter(None, [head, new_last + rest]))
                else:
                    text = new + rest
                edits.append(_Edit(ts[i_from + 1].start, ts[i_imp - 1].end, text))
            elif module == old_parent and any(a.name == old_last for a in node.names):
                import_lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
                i_imp = next(i for i, t in enumerate(ts) if t.string == "import")
                if new_parent != old_parent:
                    # the module left the package: ``from new.parent import new_last``
                    i_from = next(i for i, t in enumerate(ts) if t.string == "from")
                    if len(node.names) == 1:
                        edits.append(_Edit(ts[i_from + 1].start, ts[i_imp - 1].end,
                                           new_parent or "."))
                    else:
                        continue  # other names stay: left for the check to report
                prev = ""
                for t in ts[i_imp + 1:]:
                    if t.type == tokenize.NAME and t.string == old_last and prev != "as":
                        edits.append(_Edit(t.start, t.end, new_last))
                    if t.type == tokenize.NAME:
                        prev = t.string
                for a in node.names:
                    if a.name == old_last and a.asname is None:
                        bound_names.add(old_last)
    # the uses in the code
    old_parts = old.split(".")
    for i, t in enumerate(toks):
        if t.start[0] in import_lines:
            continue
        prev = toks[i - 1].string if i else ""
        if t.type == tokenize.NAME and t.string in bound_names and prev != ".":
            nxt = toks[i + 1].string if i + 1 < len(toks) else ""
            if nxt != "=" or toks[i - 1].string not in ("(", ","):
                edits.append(_Edit(t.start, t.end, new_last))
        elif dotted_uses and t.type == tokenize.NAME and t.string == old_parts[0] and prev != ".":
            n = len(old_parts)
            seq = [toks[i + 2 * k].string for k in range(n) if i + 2 * k < len(toks)]
            if seq == old_parts and all(toks[i + 2 * k + 1].string == "." for k in range(n - 1)):
                edits.append(_Edit(t.start, toks[i + 2 * (n - 1)].end, new))
        elif t.type == tokenize.STRING:
            text = re.sub(rf"(?<![\w.]){re.escape(old)}(?![\w])", new, t.string)
            prefix = text[: len(text) - len(text.lstrip("rRbBuUfF"))]
            if "f" in prefix.lower() and bound_names:
                # before Python 3.12 an f-string is one token: its {fields} are code too
                names = "|".join(map(re.escape, bound_names))
                text = re.sub(r"(?<!\{)\{[^{}]*\}", lambda m, names=names: re.sub(
                    rf"(?<![\w.])(?:{names})(?![\w])", new_last, m.group()), text)
            if text != t.string:
                edits.append(_Edit(t.start, t.end, text))
    return _apply(source, edits)


def rewrite_config(text: str, old: str, new: str) -> str:
    """A config file's dotted module names (``app.helpers:main``) follow the module."""
    return re.sub(rf"(?<![\w.]){re.escape(old)}(?![\w])", new, text)


def uses_of(rel: str, source: str, old: str) -> list[int]:
    """The lines of ``source`` (the file ``rel``) that still import module ``old``."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    old_parent, _, old_last = old.rpartition(".")
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(
                a.name == old or a.name.startswith(old + ".") for a in node.names):
            found.append(node.lineno)
        elif isinstance(node, ast.ImportFrom):
            module = _resolve(rel, node)
            if module == old or module.startswith(old + ".") or (
                    module == old_parent and any(a.name == old_last for a in node.names)):
                found.append(node.lineno)
    return found




def import_names(root: Path, rel: str) -> list[str]:
    """The dotted names the project can import the file ``rel`` by: from the project's root
    (``app/helpers.py`` -> ``app.helpers``) and, when the packages around it stop below the
    root (a ``src/`` layout, a folder of scripts), from the first folder that is no package."""
    names = [dotted(rel)]
    parts = list(Path(rel).with_suffix("").parts)
    i = len(parts) - 1  # the packages the file sits in, innermost first
    while i > 0 and (root.joinpath(*parts[:i]) / "__init__.py").is_file():
        i -= 1
    inner = ".".join(parts[i:])
    if inner and inner not in names:
        names.append(inner)
    return names


class MoveModuleArgs(BaseModel):
    """Extra arguments are ignored."""

    old_path: str = Field(description="the Python module file now, like app/helpers.py")
    new_path: str = Field(description="where it goes, like app/text_tools.py (a bare file "
                                      "name stays in the same folder)")


def plan_move(root: Path, old_rel: str, new_rel: str) -> list[tuple[str, str]]:
    """(old dotted name, new dotted name) pairs for a move; the two lists of names line up."""
    olds, news = import_names(root, old_rel), import_names(root, new_rel)
    return list(zip(olds, news, strict=False))


def move_module(args: MoveModuleArgs, ctx: ToolContext) -> ToolResult:
    from .files import record_pre_edit, resolve_path, write_checked
    from .refactor import _text, source_files

    ws = ctx.workspace
    old_p = resolve_path(ctx, args.old_path.strip().strip("`'\""), must_exist=True)
    new_arg = args.new_path.strip().strip("`'\"")
    if "/" not in new_arg and "\\" not in new_arg:
        new_arg = str(Path(ws.rel(old_p)).parent / new_arg)
    if not new_arg.endswith(".py"):
        new_arg += ".py"
    new_p = resolve_path(ctx, new_arg)
    old_rel, new_rel = ws.rel(old_p), ws.rel(new_p)
    if old_p.suffix != ".py" or not old_p.is_file():
        raise ToolError(f"{old_rel} is not a Python module file")
    if old_p.name == "__init__.py":
        raise ToolError(f"{old_rel} is a package's __init__.py: move the package folder instead")
    if new_p.exists():
        raise ToolError(f"{new_rel} already exists; choose a new name")
    if not re.fullmatch(r"[A-Za-z_]\w*", new_p.stem):
        raise ToolError(f"{new_p.stem!r} is not a valid module name")
    root = ws.root
    pairs = plan_move(root, old_rel, new_rel)
    changed: list[str] = []
    diffs: list[str] = []
    failed: list[str] = []
    text = _text(old_p) or ""
    result = write_checked(ctx, new_rel, new_p, text, rename=True)
    diffs.append(result.diff)
    changed.append(new_rel)
    touched: list[str] = []
    for f in source_files(ws):
        rel = ws.rel(f)
        if rel in (old_rel, new_rel) or not (f.suffix == ".py" or f.suffix in CONFIG_SUFFIXES):
            continue
        before = _text(f)
        if before is None:
            continue
        after = before
        for old, new in pairs:
            after = (rewrite_imports(rel, after, old, new) if f.suffix == ".py"
                     else rewrite_config(after, old, new))
        if after == before:
            continue
        res = write_checked(ctx, rel, f, after, rename=True)
        diffs.append(res.diff)
        if res.data.get("reverted") or not res.ok:
            failed.append(f"{rel}: {res.output.strip()}")
        if not res.data.get("reverted"):
            changed.append(rel)
            touched.append(rel)
    record_pre_edit(ctx, old_rel, old_p)
    old_p.unlink()
    changed.append(old_rel)
    out = [f"moved {old_rel} -> {new_rel} ({pairs[0][0]} -> {pairs[0][1]}); imports updated in "
           f"{len(touched)} file{'s' if len(touched) != 1 else ''}"
           + (": " + ", ".join(touched) if touched else "")]
    if failed:
        out.append("NOT UPDATED:\n" + "\n".join(failed))
    return ToolResult(ok=not failed, output="\n".join(out), changed_files=changed,
                      diff="".join(diffs), data={"moved": [old_rel, new_rel], "failed": failed})


def register(registry: ToolRegistry, settings: Any = None) -> None:
    registry.register(Tool("move_module", "Rename or move a Python module file and update "
                                          "every import of it, in one call.",
                           MoveModuleArgs, move_module, frozenset({"write", "plan"}),
                           mutates=True))


__all__ = ["CONFIG_SUFFIXES", "MOVE_RE", "MoveModuleArgs", "dotted", "import_names", "move_module",
           "plan_move", "register", "rewrite_config", "rewrite_imports", "uses_of"]
