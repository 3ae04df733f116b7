"""Missing standard-library imports and Python 2 names, fixed deterministically.

A small model often writes ``re.sub(...)`` or ``List[int]`` and forgets the import: the code is
right and fails with a NameError (seen in every refinement round of a slug task: four candidates
in a row used ``re`` without importing it). A name the module uses but never binds, that is a
standard-library module used as ``name.attr`` or one of a short list of well-known names
(``Counter``, ``List``, ``reduce``...), gets its import at the top of the file. Nothing else is
touched, and a name bound anywhere in the module (a parameter, an assignment, an import) is left
alone. A name another module of the project defines at its top level (and only that one
module: ``DEFAULT_TIMEOUT`` of ``transport.py``, used in ``api.py`` for a new default argument)
gets ``from transport import DEFAULT_TIMEOUT``. The same goes for Python 2 names a model trained on old code still writes (``unichr``,
``xrange``, ``d.iteritems()``): each becomes its Python 3 name where the module does not define
it. :meth:`~smallcode.core.solve.solver.Solver._generate` applies :func:`fix_names` to every
Python file of a candidate.
"""

from __future__ import annotations

import ast
import builtins
import re
import sys
from collections.abc import Mapping

# well-known names and the module they come from; only names a model uses as that module's
# thing (a generic word such as ``count`` or ``product`` is left out: its NameError is a bug)
FROM_IMPORTS: dict[str, str] = {
    **dict.fromkeys(("Counter", "defaultdict", "deque", "namedtuple", "OrderedDict",
                     "ChainMap"), "collections"),
    **dict.fromkeys(("reduce", "lru_cache", "partial", "cmp_to_key", "total_ordering",
                     "wraps"), "functools"),
    **dict.fromkeys(("permutations", "combinations", "combinations_with_replacement",
                     "zip_longest", "groupby", "accumulate", "islice"), "itertools"),
    **dict.fromkeys(("List", "Dict", "Tuple", "Set", "FrozenSet", "Optional", "Union", "Any",
                     "Callable", "Iterable", "Iterator", "Sequence", "Mapping", "Generator",
                     "Type", "NamedTuple"), "typing"),
    **dict.fromkeys(("dataclass", "field"), "dataclasses"),
    **dict.fromkeys(("Enum", "IntEnum", "auto"), "enum"),
    **dict.fromkeys(("sqrt", "floor", "ceil", "gcd", "isqrt", "pi"), "math"),
    **dict.fromkeys(("ascii_lowercase", "ascii_uppercase", "ascii_letters", "digits",
                     "punctuation"), "string"),
    "Fraction": "fractions",
    "Decimal": "decimal",
    **dict.fromkeys(("heappush", "heappop", "heapify"), "heapq"),
    **dict.fromkeys(("bisect_left", "bisect_right", "insort"), "bisect"),
}


# Python 2 builtins and dict methods, and their Python 3 names
PY2_NAMES = {"xrange": "range", "unichr": "chr", "unicode": "str", "basestring": "str",
             "raw_input": "input", "long": "int"}
PY2_METHODS = {"iteritems": "items", "itervalues": "values", "iterkeys": "keys"}


def _bound(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names.update(node.names)
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
            names.add(node.name)
    return names


def top_level_names(source: str) -> set[str]:
    """The functions, classes and assigned names a module defines at its top level (what
    ``from module import name`` can take); empty when it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()
    names: set[str] = set()
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(stmt.name)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def project_names(modules: Mapping[str, str], module: str) -> dict[str, str]:
    """The names ``module`` could import from the other modules of its project
    (``{"DEFAULT_TIMEOUT": "transport"}``): a top-level name defined in exactly one other module,
    which does not import ``module`` itself (the import would be circular). ``modules`` maps
    each module name to its source."""
    owners: dict[str, list[str]] = {}
    for name, source in modules.items():
        if name == module:
            continue
        for defined in top_level_names(source):
            owners.setdefault(defined, []).append(name)
    imports_us = re.compile(rf"^\s*(?:from\s+{re.escape(module)}\s+import|import\s+"
                            rf"{re.escape(module)}\b)", re.MULTILINE)
    return {n: m[0] for n, m in owners.items()
            if len(m) == 1 and not n.startswith("_") and not imports_us.search(modules[m[0]])}


def missing_imports(source: str, project: Mapping[str, str] | None = None) -> list[str]:
    """The import lines ``source`` lacks (``import re``, ``from typing import List``, and with
    ``project`` — :func:`project_names` — ``from transport import DEFAULT_TIMEOUT``), in the
    order the names are first used; empty when it does not parse or lacks none."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    bound = _bound(tree) | set(dir(builtins))
    as_module = {node.value.id for node in ast.walk(tree)
                 if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)}
    lines: list[str] = []
    used = sorted((node for node in ast.walk(tree) if isinstance(node, ast.Name)
                   and isinstance(node.ctx, ast.Load) and node.id not in bound),
                  key=lambda node: (node.lineno, node.col_offset))
    for node in used:
        name = node.id
        if name in as_module and name in sys.stdlib_module_names and not name.startswith("_"):
            line = f"import {name}"
        elif name in FROM_IMPORTS:
            line = f"from {FROM_IMPORTS[name]} import {name}"
        elif project and name in project:
            line = f"from {project[name]} import {name}"
        else:
            continue
        if line not in lines:
            lines.append(line)
    return lines


def add_missing_imports(source: str, project: Mapping[str, str] | None = None
                        ) -> tuple[str, list[str]]:
    """``source`` with the imports it lacks (see :func:`missing_imports`) inserted after its
    docstring and ``from __future__`` imports, and the lines added."""
    lines = missing_imports(source, project)
    if not lines:
        return source, []
    tree = ast.parse(source)
    after = 0  # the line the imports go after (1-based end of the docstring / futures)
    for i, stmt in enumerate(tree.body):
        docstring = (i == 0 and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
                     and isinstance(stmt.value.value, str))
        future = isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__"
        if not (docstring or future):
            break
        after = stmt.end_lineno or stmt.lineno
    text = source.splitlines(keepends=True)
    head, rest = "".join(text[:after]), "".join(text[after:])
    block = "".join(line + "\n" for line in lines)
    if head:
        # after the docstring / futures, one blank line before the imports
        return head.rstrip("\n") + "\n\n" + block + rest, lines
    # at the top, one blank line between the imports and the code
    return block + ("\n" if rest.strip() and rest[0].strip() else "") + rest, lines


def python3_names(source: str) -> tuple[str, list[str]]:
    """``source`` with its Python 2 builtins (``unichr(...)``) and dict methods
    (``d.iteritems()``) renamed to their Python 3 names where the module does not define
    them itself, and the renames made (``unichr -> chr``); strings and comments are untouched."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return source, []
    bound = _bound(tree)
    edits: list[tuple[int, int, int, str, str]] = []  # line, start col, end col, old, new
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) \
                and node.id in PY2_NAMES and node.id not in bound:
            edits.append((node.lineno, node.col_offset, node.end_col_offset or 0, node.id,
                          PY2_NAMES[node.id]))
        elif isinstance(node, ast.Attribute) and node.attr in PY2_METHODS \
                and node.attr not in bound and node.end_lineno == node.lineno:
            end = node.end_col_offset or 0
            edits.append((node.lineno, end - len(node.attr), end, node.attr,
                          PY2_METHODS[node.attr]))
    if not edits:
        return source, []
    lines = source.splitlines(keepends=True)
    for line, start, end, old, new in sorted(edits, reverse=True):
        # col offsets count UTF-8 bytes
        raw = lines[line - 1].encode()
        if raw[start:end].decode(errors="replace") != old:
            continue
        lines[line - 1] = (raw[:start] + new.encode() + raw[end:]).decode()
    done = list(dict.fromkeys(f"{old} -> {new}" for _, _, _, old, new in edits))
    return "".join(lines), done


def fix_names(source: str, project: Mapping[str, str] | None = None) -> tuple[str, list[str]]:
    """:func:`python3_names`, then :func:`add_missing_imports` (``project``: the names the
    project's other modules define, :func:`project_names`): the new source and what was done
    (``unichr -> chr``, ``import re``)."""
    source, renamed = python3_names(source)
    source, added = add_missing_imports(source, project)
    return source, renamed + added


__all__ = ["FROM_IMPORTS", "PY2_METHODS", "PY2_NAMES", "add_missing_imports", "fix_names",
           "missing_imports", "project_names", "python3_names", "top_level_names"]
