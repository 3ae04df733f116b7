"""An excerpt of a long Python file for the prompt: the definitions that matter in full, every
other one by its first line only.

A 1.5B model shown a 600-line module to fix one function spends its reply copying the module
(cut off by the token limit) or rewrites the wrong function; its prompt is also the slowest part
of every candidate. When the task, the failing tests or the fault localisation name the
definitions that matter, the rest of the file is shown as signatures with ``...`` for bodies:
enough to call them, too little to copy. The model writes back whole functions (the function
format); a definition it echoes with the elided body is dropped by :func:`drop_elided` instead
of replacing the real one.
"""

from __future__ import annotations

import ast
import re

ELIDED = "..."
_WORD = re.compile(r"[A-Za-z_]\w*")


def _is_elided(node: ast.AST) -> bool:
    """A body that is only ``...`` (after an optional docstring)."""
    body = list(getattr(node, "body", []))
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    return len(body) == 1 and isinstance(body[0], ast.Expr) \
        and isinstance(body[0].value, ast.Constant) and body[0].value.value is Ellipsis


def _defs(tree: ast.Module) -> list[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef]:
    return [n for n in tree.body
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]


def _start(node: ast.stmt) -> int:
    """The 1-based first line of a definition, decorators included."""
    return min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])


def _header(lines: list[str], node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str] | None:
    """The function's lines up to its body, then ``...``; None for a function written on one or
    two lines (nothing to leave out)."""
    first, body_line = _start(node), node.body[0].lineno
    if body_line == node.lineno or (node.end_lineno or node.lineno) - first < 2:
        return None
    return [*lines[first - 1:body_line - 1], " " * (node.body[0].col_offset) + ELIDED]


def names_in(text: str) -> set[str]:
    """The identifiers a text mentions (a task message, a test failure)."""
    return set(_WORD.findall(text))


def excerpt(text: str, focus: set[str], *, max_share: float = 0.6) -> str | None:
    """``text`` with every function and method not in ``focus`` cut to its header and ``...``
    (a class keeps its statements and its methods' headers), a long module docstring cut to its
    first and last lines; imports and other module-level statements stay. None when the file
    does not parse, nothing in it is in focus, or the definitions shown in full are most
    (``max_share``) of the lines of the definitions anyway."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    lines = text.splitlines()
    replaced: list[tuple[int, int, list[str]]] = []  # (first, last) 1-based, new lines
    full = 0

    def elide(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        nonlocal full
        first, last = _start(fn), fn.end_lineno or fn.lineno
        header = None if fn.name in focus else _header(lines, fn)
        if header is None:
            full += last - first + 1 if fn.name in focus else 0
        else:
            replaced.append((first, last, header))

    def cut_long_string(stmt: ast.stmt) -> None:
        value = stmt.value if isinstance(stmt, (ast.Expr, ast.Assign)) else None
        if isinstance(value, ast.Constant) and isinstance(value.value, str) \
                and (stmt.end_lineno or 0) - stmt.lineno > 4:
            last = stmt.end_lineno or stmt.lineno
            replaced.append((stmt.lineno, last, [lines[stmt.lineno - 1], ELIDED,
                                                 lines[last - 1]]))

    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            elide(node)
        elif isinstance(node, ast.ClassDef):
            if node.name in focus:
                full += (node.end_lineno or node.lineno) - _start(node) + 1
                continue
            for member in node.body:
                if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    elide(member)
                else:
                    cut_long_string(member)
    for stmt in tree.body:  # long strings (the module's docstring, ``__about__ = """...``)
        cut_long_string(stmt)
    cut = sum(last - first + 1 for first, last, _new in replaced)
    if not full or full > max_share * (full + cut):
        return None
    out: list[str] = []
    at = 1
    for first, last, new in sorted(replaced):
        out.extend(lines[at - 1:first - 1])
        out.extend(new)
        at = last + 1
    out.extend(lines[at - 1:])
    return "\n".join(out) + "\n"


def focus_of(text: str, mentioned: set[str], suspect_functions: set[str]) -> set[str]:
    """The definitions of ``text`` to show in full: those holding a suspect line, and the
    functions, methods and classes whose names the task or the failure mentions."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return set()
    defined = {n.name for n in ast.walk(tree)
               if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    return defined & (mentioned | suspect_functions)


def drop_elided(body: str, current: str) -> str:
    """``body`` (a reply's code block for a file shown as an excerpt) without the definitions
    it writes with a ``...`` body where the current file has a real one: an echo of the
    excerpt, not a change. Unchanged when it does not parse."""
    try:
        tree = ast.parse(body)
        now = ast.parse(current)
    except (SyntaxError, ValueError):
        return body
    real = {n.name for n in ast.walk(now)
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and not _is_elided(n)}
    cut: list[tuple[int, int]] = []
    for stmt in tree.body:  # a long string copied as shown: its first and last lines only
        value = stmt.value if isinstance(stmt, (ast.Expr, ast.Assign)) else None
        if isinstance(value, ast.Constant) and isinstance(value.value, str) \
                and f"\n{ELIDED}\n" in value.value:
            cut.append((stmt.lineno, stmt.end_lineno or stmt.lineno))
    for node in _defs(tree):
        if isinstance(node, ast.ClassDef):
            members = [m for m in node.body
                       if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))]
            gone = [m for m in members if _is_elided(m) and m.name in real]
            if gone and len(gone) == len(node.body):
                cut.append((_start(node), node.end_lineno or node.lineno))
            else:
                cut += [(_start(m), m.end_lineno or m.lineno) for m in gone]
        elif _is_elided(node) and node.name in real:
            cut.append((_start(node), node.end_lineno or node.lineno))
    if not cut:
        return body
    lines = body.splitlines()
    keep = [line for n, line in enumerate(lines, 1)
            if not any(first <= n <= last for first, last in cut)]
    return "\n".join(keep).strip("\n") + "\n" if any(k.strip() for k in keep) else ""
