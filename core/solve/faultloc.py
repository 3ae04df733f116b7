"""Spectrum-based fault localisation: the lines of the project the failing tests run and no
passing test runs.

When tests already fail before the first edit, the lines only the failing tests reach are
where the fault most likely is. A small model shown a 200-line module and a failing test often
rewrites the function the test calls rather than the helper that is wrong; told "line 87 of
_translate runs only in the failing tests" it looks there. The spectrum comes from one pytest
run with a line tracer on the project's code files, in a scratch copy of the workspace.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

MAX_LINES = 12  # more lines than this only the failing tests run: name their functions instead
MAX_FUNCTIONS = 4

# runs pytest in-process with a plugin that records, per test, the lines of the given files run
# while the test's body ran; writes {test id: [outcome, [[file, line], ...]]} as JSON
SPECTRUM = r"""
import json, sys, threading
import pytest
out, files = sys.argv[1], set(sys.argv[2:])


class Spectrum:
    def __init__(self):
        self.lines, self.tests = set(), {}

    def tracer(self, frame, event, arg):
        if frame.f_code.co_filename not in files:
            return None
        if event == "line" or event == "call":
            self.lines.add((frame.f_code.co_filename, frame.f_lineno))
        return self.tracer

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item):
        self.lines = set()
        threading.settrace(self.tracer)
        sys.settrace(self.tracer)
        try:
            yield
        finally:
            sys.settrace(None)
            threading.settrace(None)
            self.tests[item.nodeid] = ["?", sorted(self.lines)]

    def pytest_runtest_logreport(self, report):
        if report.when == "call" and report.nodeid in self.tests:
            self.tests[report.nodeid][0] = report.outcome


spectrum = Spectrum()
pytest.main(["-q", "-p", "no:cacheprovider", "--no-header"], plugins=[spectrum])
with open(out, "w") as f:
    json.dump(spectrum.tests, f)
"""


@dataclass(frozen=True)
class Suspect:
    """A line only the failing tests run."""

    path: str  # relative to the workspace
    line: int
    function: str  # the innermost def around it ('' at module level)
    text: str


def spectrum(root: Path, code_files: list[str], timeout: float,
             python: str = sys.executable) -> dict[str, tuple[str, set[tuple[str, int]]]]:
    """{test id: (outcome, {(relative path, line)})} from one traced pytest run in ``root`` by
    ``python`` (the interpreter the project's tests run with); empty when that run fails, times
    out, or that Python has no pytest."""
    absolute = {str((root / rel).resolve()): rel for rel in code_files}
    with tempfile.TemporaryDirectory(prefix="smallcode-spectrum-") as tmp:
        out = Path(tmp) / "spectrum.json"
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        env.pop("PYTHONPATH", None)
        try:
            subprocess.run([python, "-c", SPECTRUM, str(out), *absolute], cwd=root,
                           capture_output=True, check=False, timeout=timeout,
                           stdin=subprocess.DEVNULL, env=env)
            raw = json.loads(out.read_text())
        except (OSError, subprocess.TimeoutExpired, ValueError):
            return {}
    return {test: (outcome, {(absolute[f], n) for f, n in lines if f in absolute})
            for test, (outcome, lines) in raw.items()}


def suspects(root: Path, code_files: list[str], timeout: float,
             python: str = sys.executable) -> list[Suspect]:
    """The lines the failing tests all run and no passing test runs (Ochiai score 1), in file
    order; none when no test fails or none passes (no contrast to read)."""
    runs = spectrum(root, code_files, timeout, python)
    failed = [lines for outcome, lines in runs.values() if outcome == "failed"]
    passed = [lines for outcome, lines in runs.values() if outcome == "passed"]
    if not failed or not passed:
        return []
    only = set(failed[0]).intersection(*failed[1:])
    for ran in passed:
        only -= ran
    out: list[Suspect] = []
    sources: dict[str, tuple[list[str], list[tuple[int, int, str]]]] = {}
    for rel, line in sorted(only):
        if rel not in sources:
            text = (root / rel).read_text(errors="replace")
            sources[rel] = (text.splitlines(), _functions(text))
        lines, spans = sources[rel]
        if not 0 < line <= len(lines) or _is_def_line(lines[line - 1]):
            continue
        inner = [name for start, end, name in spans if start <= line <= end]
        out.append(Suspect(rel, line, inner[-1] if inner else "", lines[line - 1].strip()))
    return out


def _is_def_line(text: str) -> bool:
    # a "call" event lands on the def (or decorator) line: not a line of the body
    return text.lstrip().startswith(("def ", "async def ", "@", "class "))


def _functions(text: str) -> list[tuple[int, int, str]]:
    """(first line, last line, name) of every def, outer ones first."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    spans = [(n.lineno, n.end_lineno or n.lineno, n.name) for n in ast.walk(tree)
             if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    return sorted(spans, key=lambda s: (s[0], -s[1]))


def describe(found: list[Suspect]) -> str:
    """The section of the prompt that points at the suspects; '' when there are none or too
    many to point at anything."""
    if not found:
        return ""
    if len(found) <= MAX_LINES:
        shown = "\n".join(f"{s.path} line {s.line}"
                          + (f" (in {s.function})" if s.function else "") + f": {s.text}"
                          for s in found)
        return ("Lines that only the failing tests run (no passing test runs them), so the "
                "fault is most likely there:\n" + shown)
    functions: list[str] = []
    for s in found:
        where = f"{s.function} in {s.path}" if s.function else f"the top level of {s.path}"
        if where not in functions:
            functions.append(where)
    if len(functions) > MAX_FUNCTIONS:
        return ""
    return ("Code that only the failing tests run (no passing test runs it), so the fault is "
            "most likely there: " + ", ".join(functions))
