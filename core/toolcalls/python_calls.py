"""Python-call syntax for tool calls, parsed with :mod:`ast` (never evaluated).

Liquid models write ``[read_file(path='a.py', start_line=3)]``; Gemma-style models write
``print(default_api.read_file(path="a.py"))``; some small models write a bare ``finish(summary=...)``.
Values may be strings, numbers, True/False/None (or JSON's true/false/null), lists, dicts, tuples.
"""

from __future__ import annotations

import ast
from typing import Any

__all__ = ["POSITIONAL_KEY", "PythonCallError", "parse_python_calls"]

POSITIONAL_KEY = "_positional"
"""Key under which positional arguments are kept; resolution maps them onto the tool's fields."""

_WRAPPERS = {"print"}
_NAME_LITERALS = {"true": True, "false": False, "null": None, "none": None,
                  "True": True, "False": False, "None": None}
_CLOSERS = ("", ")", "]", ")]", "')", "')]", '")', '")]', "'})", "'})]", '"})', '"})]',
            "])", "])]", "'])", "'])]", '"])', '"])]')


class PythonCallError(ValueError):
    """The text is not a list of Python-style calls with literal arguments."""


def parse_python_calls(source: str) -> list[tuple[str, dict[str, Any]]]:
    """Parse ``[f(a=1), g()]``, ``f(a=1)`` or one call per line into ``(name, arguments)`` pairs.

    A call cut off at the end (missing ``)`` / ``]`` / quote) is closed. Positional arguments are
    kept as a list under :data:`POSITIONAL_KEY`.
    """
    text = source.strip()
    if not text:
        raise PythonCallError("empty call text")
    last_error: Exception | None = None
    for closer in _CLOSERS:
        try:
            tree = ast.parse(text + closer, mode="exec")
        except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
            last_error = exc
            continue
        return _calls_from_module(tree)
    raise PythonCallError(f"not Python call syntax: {last_error}")


def _calls_from_module(tree: ast.Module) -> list[tuple[str, dict[str, Any]]]:
    calls: list[tuple[str, dict[str, Any]]] = []
    if not tree.body:
        raise PythonCallError("no call found")
    for stmt in tree.body:
        if not isinstance(stmt, ast.Expr):
            raise PythonCallError(f"not a call: {type(stmt).__name__}")
        node = stmt.value
        items = node.elts if isinstance(node, ast.List | ast.Tuple) else [node]
        for item in items:
            calls.append(_one_call(item))
    return calls


def _one_call(node: ast.expr) -> tuple[str, dict[str, Any]]:
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id in _WRAPPERS and len(node.args) == 1 and not node.keywords):
        node = node.args[0]
    if not isinstance(node, ast.Call):
        raise PythonCallError(f"not a call: {ast.unparse(node)[:60]}")
    name = _dotted_name(node.func)
    arguments: dict[str, Any] = {}
    for kw in node.keywords:
        if kw.arg is None:
            spread = _literal(kw.value)
            if not isinstance(spread, dict):
                raise PythonCallError("**arguments must be a dict literal")
            arguments.update(spread)
        else:
            arguments[kw.arg] = _literal(kw.value)
    if node.args:
        positional = [_literal(a) for a in node.args]
        if len(positional) == 1 and isinstance(positional[0], dict) and not arguments:
            arguments = dict(positional[0])  # f({"path": "a.py"})
        else:
            arguments[POSITIONAL_KEY] = positional
    return name, arguments


def _dotted_name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted_name(node.value)}.{node.attr}"
    raise PythonCallError(f"call target is not a name: {ast.unparse(node)[:60]}")


def _literal(node: ast.expr) -> Any:
    if isinstance(node, ast.Name):
        if node.id in _NAME_LITERALS:
            return _NAME_LITERALS[node.id]
        raise PythonCallError(f"argument {node.id!r} is a variable, not a value")
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return [_literal(e) for e in node.elts]
    if isinstance(node, ast.Dict):
        out: dict[Any, Any] = {}
        for k, v in zip(node.keys, node.values, strict=True):
            if k is None:
                spread = _literal(v)
                if isinstance(spread, dict):
                    out.update(spread)
                continue
            out[_literal(k)] = _literal(v)
        return out
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as exc:
        raise PythonCallError(f"argument is not a literal: {ast.unparse(node)[:60]}") from exc
