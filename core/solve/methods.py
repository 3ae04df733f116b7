"""Examples written as calls of one class's methods become checks.

A specification often shows an object in use rather than a function: ``add("pen", 150, 2),
add("book", 1200) -> count() is 3, total() is 1500``. Each method call with a stated result
becomes one check that builds a fresh object, makes every call of the same example before it
in order, and compares the last one's result: ``[obj := Cart(), obj.add('pen', 150, 2),
obj.add('book', 1200), obj.count()][-1] == 3``. Only calls whose arguments are all literals count
(``add(name, price, quantity=1)`` is a signature, not an example), every call of an example must
be a method of the same class, the class must be built without arguments, or with the literal
arguments the example gives it (``Cart()`` / ``Cart(10)``), and an example that does not build
its object must change it by a call before its first result (``add two pens -> count() is 2``
sets its state up in words, which no check can repeat).

:func:`method_examples` is called by :func:`smallcode.core.solve.oracle.repro_checks`, which
keeps the checks that fail on the untouched code.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..edit import testrunner

# a call, optionally on an object ("cart.add(...)"), with at most one level of nested brackets
_CALL = re.compile(r"(?<![\w.])(?:[A-Za-z_]\w*\.)?([A-Za-z_]\w*)\(((?:[^()\n]|\([^()\n]*\))*)\)")
# what follows a call that states its result
_RESULT = re.compile(r"\s*`?\s*(?:->|=>|→|==|\bis\b|\breturns\b|\bgives\b|\bequals\b|"
                     r"\byields\b)\s*`?")
_VALUE = re.compile(r"""(?:[-+]?\d[\d_]*(?:\.\d+)?|'[^'\n]*'|"[^"\n]*"|\[[^\]\n]*\]|"""
                    r"""\{[^}\n]*\}|\([^)\n]*\)|True|False|None)(?![\w(])""")


@dataclass(frozen=True)
class MethodExample:
    """One check: ``call`` (an expression) evaluated in ``module`` must equal ``expected``."""

    module: str
    call: str
    expected: str
    shown: str  # the same steps as statements, for the messages the model reads


@dataclass
class _Class:
    module: str
    name: str
    methods: set[str]
    bare: bool  # can be built without arguments


def module_name(rel: str) -> str:
    """The import name of a project Python file: ``pkg/mod.py`` -> ``pkg.mod``, a package's
    ``pkg/__init__.py`` -> ``pkg``."""
    return rel[:-3].replace("/", ".").removesuffix(".__init__")


def python_trees(root: Path, files: list[str]) -> Iterator[tuple[str, ast.Module | None]]:
    """Each non-test Python file of ``files`` and its syntax tree (None when it cannot be read
    or parsed)."""
    for rel in files:
        if not rel.endswith(".py") or testrunner.is_test_file(rel):
            continue
        try:
            yield rel, ast.parse((root / rel).read_text(errors="replace"))
        except (OSError, SyntaxError, ValueError):
            yield rel, None


def _classes(root: Path, files: list[str]) -> list[_Class]:
    out: list[_Class] = []
    for rel, tree in python_trees(root, files):
        if tree is None:
            continue
        module = module_name(rel)
        for node in tree.body:
            if not isinstance(node, ast.ClassDef):
                continue
            methods = {f.name for f in node.body
                       if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))}
            init = next((f for f in node.body if isinstance(f, ast.FunctionDef)
                         and f.name == "__init__"), None)
            bare = init is None or (len(init.args.args) - 1 <= len(init.args.defaults))
            out.append(_Class(module, node.name, methods - {"__init__"}, bare))
    return out


def _literal_args(args: str) -> str | None:
    """``'pen', 150, quantity=2`` when every argument is a literal, else None."""
    try:
        call = ast.parse(f"f({args})", mode="eval").body
    except SyntaxError:
        return None
    if not isinstance(call, ast.Call) or any(k.arg is None for k in call.keywords):
        return None
    try:
        for a in [*call.args, *(k.value for k in call.keywords)]:
            ast.literal_eval(a)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    return args.strip()


def _value(text: str) -> str | None:
    m = _VALUE.match(text)
    if not m:
        return None
    try:
        ast.literal_eval(m.group(0))
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    return m.group(0)


def method_examples(texts: list[str], root: Path, files: list[str]) -> list[MethodExample]:
    """The method examples of ``texts`` (the task and the documents it points at), one
    paragraph at a time: a paragraph is one example, its calls made on one fresh object."""
    classes = _classes(root, files)
    if not classes:
        return []
    out: list[MethodExample] = []
    for text in texts:
        for para in re.split(r"\n\s*\n", text):
            out += _paragraph(para, classes)
    return out


def _paragraph(para: str, classes: list[_Class]) -> list[MethodExample]:
    steps: list[tuple[str, str | None]] = []  # (call on the object, its stated result)
    owner: _Class | None = None
    built = ""
    for m in _CALL.finditer(para):
        name, args = m.group(1), _literal_args(m.group(2))
        if args is None:
            continue
        cls = next((c for c in classes if c.name == name), None)
        if cls is not None:  # "Cart(10)": how the example builds its object
            if owner not in (None, cls) or steps:
                return []
            owner, built = cls, f"{cls.name}({args})"
            continue
        holders = [c for c in classes if name in c.methods]
        if len(holders) != 1 or owner not in (None, holders[0]):
            continue  # not a method of one class (a function, or a word with brackets)
        owner = holders[0]
        after = _RESULT.match(para, m.end())
        steps.append((f"{name}({args})", _value(para[after.end():]) if after else None))
    if owner is None or not any(result is not None for _, result in steps):
        return []
    if not built:
        # "add two pens -> count() is 2": the state is set up in words, which no check can
        # repeat; the example must write out how its object is built or changed first
        if steps[0][1] is not None or not owner.bare:
            return []
        built = f"{owner.name}()"
    var = "obj"
    out: list[MethodExample] = []
    for i, (call, result) in enumerate(steps):
        if result is None:
            continue
        made = [f"{var}.{c}" for c, _ in steps[: i + 1]]
        seq = ", ".join([f"{var} := {built}", *made])
        shown = "; ".join([f"{var} = {built}", *made])
        out.append(MethodExample(owner.module, f"[{seq}][-1]", result, shown))
    return out
