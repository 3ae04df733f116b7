"""Localize deterministically: which files the model sees, and which it may change.

A small repository (``whole_repo_chars``, a few KB) goes into the prompt whole, so a task that
names no file still shows the model the code. A larger one shows what the message points at:
files it names, files in a traceback it quotes, files defining identifiers it mentions (the code
graph first, a text search otherwise), and their local imports. Existing tests are shown but
read-only unless the task asks to change tests; files the task asks to create are editable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..edit.literals import asked_files, tests_protected
from ..edit.testrunner import is_test_file
from ..prefetch import TRACE_FILE_RE, files_defining, identifiers, local_imports, mentioned_paths
from ..tools.workspace import Workspace, WorkspaceError
from .request import asks_for_change, is_question, reports_defect

MAX_FILE_CHARS = 60_000
BINARY_SNIFF = 2048
LARGE_REPO_SHOWN_CHARS = 24_000
DOC_SUFFIXES = (".md", ".rst", ".txt", ".adoc")
CODE_SUFFIXES = {".py", ".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".go", ".rs", ".java", ".c",
                 ".h", ".cpp", ".rb", ".sh"}


@dataclass
class Located:
    """The files of one task: content by path (None: to be created), shown order, editable."""

    files: dict[str, str | None] = field(default_factory=dict)
    shown: list[str] = field(default_factory=list)
    editable: list[str] = field(default_factory=list)
    named: list[str] = field(default_factory=list)  # files the message names
    answer_file: bool = False  # a question whose answer is written into a new file
    how: str = ""
    failure_text: str = ""  # the start's failing test output, filled by the oracle
    suspects: str = ""  # the lines only the failing tests run, filled by the oracle
    suspect_functions: set[str] = field(default_factory=set)  # the functions holding them

    def describe(self) -> str:
        ro = [r for r in self.shown if r not in self.editable]
        text = f"{self.how}: may change {', '.join(self.editable) or 'nothing'}"
        return text + (f"; shown read-only: {', '.join(ro)}" if ro else "")


def _text_of(path: Path) -> str | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if len(data) > MAX_FILE_CHARS or b"\0" in data[:BINARY_SNIFF]:
        return None
    return data.decode("utf-8", errors="replace")


def _project_files(ws: Workspace) -> dict[str, str]:
    out: dict[str, str] = {}
    for path in ws.iter_files():
        rel = ws.rel(path)
        if rel.startswith((".smallcode/", ".git/")) or "/__pycache__/" in f"/{rel}":
            continue
        text = _text_of(path)
        if text is not None:
            out[rel] = text
    return out


def _pointed_at(task: str, ws: Workspace, graph: Any, all_files: dict[str, str]) -> list[str]:
    found: list[str] = list(mentioned_paths(task, ws))
    for m in TRACE_FILE_RE.finditer(task):
        raw = m.group(1) or m.group(2)
        try:
            rel = ws.rel(ws.resolve(raw))
        except WorkspaceError:
            continue
        if rel in all_files and rel not in found:
            found.append(rel)
    if graph is not None:
        try:
            for rel in graph.relevant_files(task, limit=4):
                if rel in all_files and rel not in found:
                    found.append(rel)
        except Exception:  # noqa: BLE001, S110 - the graph is an aid, never fatal
            pass
    for rel in files_defining(identifiers(task), ws):
        if rel not in found:
            found.append(rel)
    for rel in list(found):
        for imported in local_imports(rel, ws):
            if imported not in found:
                found.append(imported)
    return found


def _order(paths: list[str], first: list[str]) -> list[str]:
    """Named files first, then code, then tests, then documentation."""
    def key(rel: str) -> tuple[int, str]:
        if rel in first:
            return (0, f"{first.index(rel):04d}")
        if is_test_file(rel):
            return (2, rel)
        if Path(rel).suffix.lower() in DOC_SUFFIXES:
            return (3, rel)
        return (1, rel)
    return sorted(paths, key=key)


def _editable(rel: str, task: str, protect_tests: bool) -> bool:
    if protect_tests and is_test_file(rel):
        return False
    hidden = [p for p in Path(rel).parts[:-1] if p.startswith(".")]
    return not hidden or hidden == [".github"]


# the words that make a named document the source of the request, not its target: "as described
# in docs/spec.md", "following the rules in NOTES.md", "according to SPEC.md", "what FORMAT.md
# shows", "see README.md"
_SOURCE_BEFORE = re.compile(
    r"(?:\b(?:per|see|following|according\s+to|based\s+on|as)"
    r"|\b(?:described|explained|specified|defined|listed|shown|given|documented|written|laid\s+out)"
    r"\s+in|\b(?:rules|requirements|spec|specification|instructions|description|format"
    r"|examples?|details|behaviou?r|exercise|notes|contract|design)\s+(?:in|from|of))"
    r"\s+(?:the\s+)?(?:\w+\s+){0,2}(?:in\s+)?`?$", re.IGNORECASE)
_SOURCE_AFTER = re.compile(r"^`?\s+(?:says|say|describes|explains|specifies|shows|defines"
                           r"|lists|asks\s+for|wants)\b", re.IGNORECASE)


def source_documents(task: str, named: list[str]) -> list[str]:
    """Documents the task reads from rather than asks to change: when it names a code file to
    work on and points at a document as where the requirements are ("implement it in stats.py as
    described in docs/spec.md", "make report.py do what FORMAT.md says"). A document named on its
    own ("fix the typo in README.md") or as a target ("add a section to README.md") stays
    editable."""
    if not any(Path(r).suffix.lower() in CODE_SUFFIXES for r in named):
        return []
    out = []
    for rel in named:
        if Path(rel).suffix.lower() not in DOC_SUFFIXES:
            continue
        for m in re.finditer(r"(?<![\w/.-])" + re.escape(rel) + r"(?![\w/-])", task):
            if _SOURCE_BEFORE.search(task[max(0, m.start() - 60):m.start()]) or \
                    _SOURCE_AFTER.match(task[m.end():m.end() + 30]):
                out.append(rel)
                break
    return out


def locate(task: str, ws: Workspace, whole_repo_chars: int, graph: Any = None) -> Located:
    """The files for ``task``: the whole repository when it is small, else what the message
    points at (named files, traceback frames, defining files, local imports)."""
    all_files = _project_files(ws)
    named = [r for r in mentioned_paths(task, ws) if r in all_files]
    # first what defines a name the task mentions, then the named code, then other named files
    # (a data file named in a bug report is context, not the thing to fix; the first file shown
    # is also the example in the reply format, and a small model writes back what it sees first)
    defining = [r for r in files_defining(identifiers(task), ws) if r in all_files]
    code_first = sorted(named, key=lambda r: Path(r).suffix.lower() not in CODE_SUFFIXES)
    first = list(dict.fromkeys(defining + code_first))
    total = sum(len(t) for t in all_files.values())
    if total <= whole_repo_chars:
        shown = _order(list(all_files), first)
        how = f"the whole project ({len(all_files)} files, {total} characters)"
    else:
        pointed = _pointed_at(task, ws, graph, all_files)
        shown, used = [], 0
        for rel in _order(pointed, first):
            size = len(all_files.get(rel, ""))
            if used + size > LARGE_REPO_SHOWN_CHARS and shown:
                continue
            shown.append(rel)
            used += size
        how = f"{len(shown)} of {len(all_files)} files (named, traced or defining what the " \
              "task mentions)"
    located = Located(how=how, named=named)
    protect = tests_protected(task)
    for rel in shown:
        located.files[rel] = all_files[rel]
    for rel in asked_files(task, ws.root):
        if rel not in located.files:
            located.files[rel] = None
            shown.insert(0, rel)
    located.shown = shown
    asked = [r for r in shown if located.files.get(r) is None]
    # a question, or a terse note that asks for nothing but the file ("default port ->
    # answer.txt"): the answer goes into the asked file; the code is context
    if asked and (is_question(task) or not (asks_for_change(task, answer_file=False)
                                            or reports_defect(task))):
        located.editable = asked
        located.answer_file = True
    else:
        sources = source_documents(task, named)
        located.editable = [r for r in shown if _editable(r, task, protect) and r not in sources]
    return located
