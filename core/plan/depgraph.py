"""The dependency graph of a plan's steps (pure code, no model): which files each step touches,
which steps must wait for which, and Kahn batches of steps that can run at the same time.

Edges: a step that mentions a file an earlier step mentions depends on that step; "after step N"
(also "once step N is done", "depends on step N", "using the result of step N") adds an edge; a
step that names no file at all is a barrier (it waits for every earlier step, every later step
waits for it), because nothing bounds what it may touch. Symbols named in a step (backticked
identifiers, "function foo", "class Bar") become files through a code graph when one is given.
A cycle (only possible through "after step N" pointing forward) falls back to sequential order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

KNOWN_EXTENSIONS = (
    "py", "pyi", "js", "jsx", "mjs", "cjs", "ts", "tsx", "go", "rs", "java", "kt", "rb", "php",
    "c", "h", "cc", "cpp", "hpp", "cs", "swift", "scala", "sh", "bash", "sql", "md", "rst", "txt",
    "json", "toml", "yaml", "yml", "ini", "cfg", "html", "css", "scss", "vue", "svelte", "lua",
    "ex", "exs", "dart", "r", "jl", "proto", "graphql", "env", "lock", "xml", "csv",
)
_EXT = "|".join(sorted(KNOWN_EXTENSIONS, key=len, reverse=True))
_BARE_PATH = re.compile(rf"(?<![\w/.@-])((?:\.{{0,2}}/)?(?:[\w.-]+/)*[\w-][\w.-]*\.(?:{_EXT}))(?![\w/-])")
_QUOTED = re.compile(r"`([^`\n]{1,200})`|\"([^\"\n]{1,200})\"|'([^'\n]{1,200})'")
_PATHLIKE = re.compile(rf"^(?:\.{{0,2}}/)?(?:[\w.-]+/)*[\w-][\w.-]*(?:\.(?:{_EXT})|/)$")
_SPECIAL_FILES = {"Makefile", "Dockerfile", "Gemfile", "Rakefile", "Procfile", "Justfile"}
_IDENT = re.compile(r"^[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*(?:\(\))?$")
_KIND_SYMBOL = re.compile(r"\b(?:function|method|class|def|func|struct|interface|type)\s+"
                          r"`?([A-Za-z_]\w*)`?")
_AFTER_STEP = re.compile(r"\b(?:after|once|following|when)\s+(?:completing\s+|finishing\s+)?"
                         r"step\s*#?(\d{1,2})|\bdepends?\s+on\s+step\s*#?(\d{1,2})"
                         r"|\b(?:result|output)s?\s+of\s+step\s*#?(\d{1,2})", re.IGNORECASE)
_CREATE_BEFORE = re.compile(r"\b(?:create[sd]?|creating|new|generate[sd]?|scaffold|touch|"
                            r"add(?:s|ing)?\s+(?:a\s+)?(?:new\s+)?(?:file|module))\b[^.;\n]{0,40}$",
                            re.IGNORECASE)
_COMMON_WORDS = {"true", "false", "none", "null", "self", "this", "return", "import", "test",
                 "tests", "pytest", "npm", "main", "init", "setup", "run", "python"}


class SymbolResolver(Protocol):
    def resolve_symbol_files(self, name: str) -> list[str]: ...


def _norm(path: str) -> str:
    path = path.strip().replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path.rstrip("/")


def _looks_like_path(token: str) -> bool:
    token = token.strip()
    if not token or " " in token or "://" in token:
        return False
    return bool(_PATHLIKE.match(token)) or token in _SPECIAL_FILES


def mentioned_paths(text: str) -> list[str]:
    """Paths a step mentions: backticked or quoted tokens that look like paths, and bare paths
    with a known extension. In order of first mention, normalised (no ``./``, no trailing ``/``)."""
    hits: list[tuple[int, str]] = []
    spans: list[tuple[int, int]] = []
    for m in _QUOTED.finditer(text):
        token = next(g for g in m.groups() if g is not None)
        if _looks_like_path(token):
            hits.append((m.start(), token))
            spans.append(m.span())
    for m in _BARE_PATH.finditer(text):
        if any(a <= m.start() < b for a, b in spans):
            continue
        token = m.group(1)
        if re.fullmatch(r"\d+(?:\.\d+)+", token.rsplit(".", 1)[0]):  # "v1.2.py"-like versions
            continue
        hits.append((m.start(), token))
    found: list[str] = []
    for _, token in sorted(hits):
        p = _norm(token)
        if p and p not in found and not p.startswith("../") and not p.startswith("/"):
            found.append(p)
    return found


def created_paths(text: str) -> list[str]:
    """Paths the step says it creates ("create `x.py`", "a new module utils/io.py")."""
    out = []
    for path in mentioned_paths(text):
        for m in re.finditer(re.escape(path), text):
            if _CREATE_BEFORE.search(text[max(0, m.start() - 60):m.start()]):
                out.append(path)
                break
    return out


def mentioned_symbols(text: str) -> list[str]:
    """Identifiers a step names: backticked names that are not paths, and "function foo"."""
    names: list[str] = []
    for m in _QUOTED.finditer(text):
        if m.group(1) is None:  # only backticks name code; quotes are often prose
            continue
        token = m.group(1).strip()
        if _looks_like_path(token) or not _IDENT.match(token):
            continue
        token = token.removesuffix("()").split(".")[-1]
        if token.lower() not in _COMMON_WORDS and token not in names:
            names.append(token)
    for m in _KIND_SYMBOL.finditer(text):
        name = m.group(1)
        if name.lower() not in _COMMON_WORDS and name not in names:
            names.append(name)
    return names


def after_steps(text: str) -> list[int]:
    """Step numbers this step says it comes after."""
    return sorted({int(g) for m in _AFTER_STEP.finditer(text) for g in m.groups() if g})


@dataclass
class StepNode:
    n: int  # 1-based
    text: str
    files: list[str] = field(default_factory=list)  # mentioned + resolved from symbols
    created: list[str] = field(default_factory=list)
    symbols: dict[str, list[str]] = field(default_factory=dict)  # symbol -> files it resolved to
    after: list[int] = field(default_factory=list)

    @property
    def scoped(self) -> bool:
        """Whether the step names the files it works on (else it is a barrier)."""
        return bool(self.files)


class DependencyGraph:
    """Steps, their files, their dependencies, and the batches that can run concurrently."""

    def __init__(self, steps: Sequence[str], graph: SymbolResolver | Any | None = None,
                 declared: Mapping[int, Sequence[str]] | None = None):
        """``declared``: step number -> its files, when they are known (a plan derived from the
        message); those steps' files are not guessed from their text."""
        self.nodes: list[StepNode] = []
        declared = declared or {}
        for i, text in enumerate(steps, 1):
            node = StepNode(i, text, files=mentioned_paths(text), created=created_paths(text),
                            after=[a for a in after_steps(text) if 1 <= a <= len(steps) and a != i])
            if i in declared:
                node.files = [_norm(f) for f in declared[i]]
            elif graph is not None and hasattr(graph, "resolve_symbol_files"):
                for sym in mentioned_symbols(text):
                    try:
                        hits = [_norm(str(p)) for p in graph.resolve_symbol_files(sym)]
                    except Exception:  # noqa: BLE001 - the code graph is an aid, never a blocker
                        hits = []
                    if hits:
                        node.symbols[sym] = hits
                        node.files += [h for h in hits if h not in node.files]
            self.nodes.append(node)
        self.deps: dict[int, set[int]] = {n.n: set() for n in self.nodes}
        for node in self.nodes:
            earlier = self.nodes[:node.n - 1]
            self.deps[node.n].update(node.after)
            if not node.scoped:
                self.deps[node.n].update(e.n for e in earlier)
                continue
            for e in earlier:
                if not e.scoped or set(e.files) & set(node.files):
                    self.deps[node.n].add(e.n)
        self.cyclic = False
        self._batches = self._kahn()

    def node(self, n: int) -> StepNode:
        return self.nodes[n - 1]

    def _kahn(self) -> list[list[int]]:
        remaining = {n: set(d) for n, d in self.deps.items()}
        batches: list[list[int]] = []
        while remaining:
            ready = sorted(n for n, d in remaining.items() if not d)
            if not ready:
                self.cyclic = True
                return [[n.n] for n in self.nodes]
            batches.append(ready)
            for n in ready:
                del remaining[n]
            for d in remaining.values():
                d.difference_update(ready)
        return batches

    def batches(self) -> list[list[int]]:
        """Kahn levels: every step of a batch depends only on steps of earlier batches. No two
        steps of one batch share a file. Sequential singletons when the graph has a cycle."""
        return [list(b) for b in self._batches]

    def batch_of(self, n: int) -> int:
        return next(i for i, b in enumerate(self._batches) if n in b)

    def dependents(self, n: int) -> set[int]:
        """Every step that depends on ``n``, directly or not."""
        out: set[int] = set()
        frontier = {n}
        while frontier:
            nxt = {m for m, d in self.deps.items() if d & frontier} - out
            out |= nxt
            frontier = nxt
        return out

    def independent_steps(self) -> int:
        """The size of the widest batch (≥ 2 means parallel execution is worth it)."""
        return max((len(b) for b in self._batches), default=0)

    def missing_paths(self, workspace_root: str | Path) -> list[tuple[int, str]]:
        """(step, path) for paths that do not exist and that no step up to and including this
        one says it creates. Flag these to the model before it starts."""
        root = Path(workspace_root)
        will_exist: set[str] = set()
        missing: list[tuple[int, str]] = []
        for node in self.nodes:
            will_exist.update(node.created)
            for path in node.files:
                if path in will_exist or (root / path).exists():
                    continue
                if any(path.startswith(c.rstrip("/") + "/") for c in will_exist):
                    continue
                missing.append((node.n, path))
        return missing

    def describe(self) -> str:
        """A short text of the batches, for the transcript."""
        parts = []
        for i, batch in enumerate(self._batches, 1):
            steps = ", ".join(str(n) for n in batch)
            parts.append(f"batch {i}: step{'s' if len(batch) > 1 else ''} {steps}")
        note = " (a cycle in the plan: running in order)" if self.cyclic else ""
        return "; ".join(parts) + note


__all__ = ["KNOWN_EXTENSIONS", "DependencyGraph", "StepNode", "after_steps", "created_paths",
           "mentioned_paths", "mentioned_symbols"]
