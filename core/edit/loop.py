"""The improvement-loop policy: what to tell the model after each validated edit.

A plain object the agent calls after every write or patch with the validator's diagnostics and
the covering tests' result. It tracks repeated failures of *the same thing* (same file, same error
signature) and walks the ladder: retry with the compact error → after ``max_fix_attempts`` failed
fixes, **decompose** (one error, the enclosing function only) → **escalate** → **stop**.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .patch import number_lines
from .testrunner import TestRun
from .validate import Diagnostic, format_diagnostics

Stage = Literal["ok", "retry", "decompose", "escalate", "stop"]

MAX_FOCUS_LINES = 60  # show the failing function inline when it is at most this long
FALLBACK_WINDOW = 8  # lines either side of an error when no enclosing function is found


@dataclass(frozen=True)
class Feedback:
    """What the agent does next and what it tells the model."""

    ok: bool
    message_for_model: str
    stage: Stage
    signature: str = ""
    attempts: int = 0  # failed fixes of this signature so far
    focus: tuple[int, int] | None = None  # line range the model should restrict itself to


@dataclass(frozen=True)
class FocusRegion:
    """Where to shrink the problem to: a function (or a window) around the first error."""

    start: int
    end: int
    name: str  # "function foo", "class Bar", or "lines 40-56"


@dataclass
class _Track:
    signature: str
    occurrences: int = 0
    decomposed: bool = False
    escalated: bool = False


def as_diagnostic(d: Diagnostic | Mapping[str, Any]) -> Diagnostic:
    """A Diagnostic from itself or from its dict form (``ToolResult.data["diagnostics"]``)."""
    if isinstance(d, Diagnostic):
        return d
    return Diagnostic(
        str(d.get("file", "")),
        int(d.get("line", 0) or 0),
        int(d.get("col", 0) or 0),
        str(d.get("message", "")),
        str(d.get("tool", "")),
    )


def _mask(text: str) -> str:
    """An error message without the details that shift between attempts (numbers, addresses)."""
    text = re.sub(r"0x[0-9a-fA-F]+", "0x?", text)
    text = re.sub(r"\d+(\.\d+)?", "N", text)
    return " ".join(text.split())[:160]


def failure_signature(diagnostics: Sequence[Diagnostic], test_run: TestRun | None) -> str:
    """What 'the same error' means: the first diagnostic's tool and masked message, or the set of
    failing test ids. Line numbers are left out: a fix that moves code does not make a new error."""
    if diagnostics:
        d = diagnostics[0]
        return f"diag:{d.tool}:{_mask(d.message)}"
    if test_run is not None and not test_run.ok:
        ids = sorted({f.split(" - ")[0].strip() for f in test_run.failures}) or [
            _mask(test_run.summary)
        ]
        return "tests:" + "|".join(ids)
    return ""


def enclosing_region(source: str, line: int) -> FocusRegion | None:
    """The innermost function (or else class) of Python ``source`` containing ``line``."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    best: ast.AST | None = None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            start = min([node.lineno] + [d.lineno for d in node.decorator_list])
            end = node.end_lineno or node.lineno
            if start <= line <= end and (best is None or _is_inner(node, best)):
                best = node
    if best is None:
        return None
    assert isinstance(best, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    start = min([best.lineno] + [d.lineno for d in best.decorator_list])
    kind = "class" if isinstance(best, ast.ClassDef) else "function"
    return FocusRegion(start, best.end_lineno or best.lineno, f"{kind} {best.name}")


def _is_inner(node: ast.AST, current: ast.AST) -> bool:
    """Prefer a function over a class, then the narrower span."""
    n_fn = not isinstance(node, ast.ClassDef)
    c_fn = not isinstance(current, ast.ClassDef)
    if n_fn != c_fn:
        return n_fn
    n_span = (getattr(node, "end_lineno", 0) or 0) - getattr(node, "lineno", 0)
    c_span = (getattr(current, "end_lineno", 0) or 0) - getattr(current, "lineno", 0)
    return n_span < c_span


def _indent_block(source: str, line: int) -> FocusRegion | None:
    """Without a parse (syntax error): the nearest ``def``/``class``/``function`` header above
    ``line`` and the lines up to the next header at the same or lower indentation."""
    lines = source.splitlines()
    if not 1 <= line <= len(lines):
        return None
    header = re.compile(r"^(\s*)(async\s+def|def|class|function|func|fn|pub fn)\b")
    for i in range(line - 1, -1, -1):
        m = header.match(lines[i])
        if m:
            indent = len(m.group(1).expandtabs(4))
            end = len(lines)
            for j in range(i + 1, len(lines)):
                s = lines[j]
                if (
                    s.strip()
                    and len(s) - len(s.lstrip()) <= indent
                    and not s.strip().startswith((")", "]", "}"))
                ):
                    end = j
                    break
            while end > i + 1 and not lines[end - 1].strip():
                end -= 1  # trailing blank lines are not part of the block
            if end >= line:
                name = lines[i].strip().split("(")[0][:60]
                return FocusRegion(i + 1, end, name)
            return None
    return None


_LOC = re.compile(r"(?P<file>[\w./\\-]+):(?P<line>\d+)")


def _error_line(path: str, diagnostics: Sequence[Diagnostic], test_run: TestRun | None) -> int:
    for d in diagnostics:
        if d.line and (d.file == path or Path(d.file).name == Path(path).name):
            return d.line
    if diagnostics and diagnostics[0].line:
        return diagnostics[0].line
    if test_run is not None:
        for f in test_run.failures:
            for m in _LOC.finditer(f):
                if Path(m.group("file")).name == Path(path).name:
                    return int(m.group("line"))
    return 0


def _first_error_text(diagnostics: Sequence[Diagnostic], test_run: TestRun | None) -> str:
    if diagnostics:
        return diagnostics[0].compact()
    if test_run is not None:
        return test_run.failures[0] if test_run.failures else test_run.summary
    return ""


@dataclass
class ImprovementLoop:
    """Policy for validate → retry → decompose → escalate → stop, per file and error signature.

    ``escalation_available`` says whether a stronger model is configured; without it the loop goes
    from decompose straight to stop. ``workspace_root`` lets decompose read the file to find the
    enclosing function (paths may be given relative to it).
    """

    max_fix_attempts: int = 2
    escalation_available: bool = True
    workspace_root: Path | None = None
    max_failures_per_file: int = 8  # different errors one after another also end somewhere
    _tracks: dict[str, _Track] = field(default_factory=dict, repr=False)
    _file_failures: dict[str, int] = field(default_factory=dict, repr=False)

    def reset(self, path: str | None = None) -> None:
        if path is None:
            self._tracks.clear()
            self._file_failures.clear()
        else:
            self._tracks.pop(path, None)
            self._file_failures.pop(path, None)

    def after_edit(
        self,
        path: str | Path,
        diagnostics: Sequence[Diagnostic | Mapping[str, Any]] = (),
        test_run: TestRun | None = None,
    ) -> Feedback:
        """Decide what follows an edit of ``path`` that produced these results. Diagnostics may
        be :class:`Diagnostic` objects or their dict form (as tools put them in results)."""
        key = self._key(path)
        diags = [as_diagnostic(d) for d in diagnostics]
        signature = failure_signature(diags, test_run)
        if not signature:
            self.reset(key)
            passed = f" Tests: {test_run.summary}." if test_run is not None else ""
            return Feedback(True, f"{key}: no errors.{passed}", "ok")
        self._file_failures[key] = self._file_failures.get(key, 0) + 1
        track = self._tracks.get(key)
        if track is None or track.signature != signature:
            track = _Track(signature)  # a different error: progress, start counting again
            self._tracks[key] = track
        track.occurrences += 1
        failed_fixes = track.occurrences - 1
        errors = self._error_text(diags, test_run)
        if self._file_failures[key] > self.max_failures_per_file:
            return self._stop(key, track, errors, "too many failed edits of this file")
        if failed_fixes < self.max_fix_attempts and not track.decomposed:
            return Feedback(
                False,
                self._retry_message(key, errors, failed_fixes),
                "retry",
                signature,
                failed_fixes,
            )
        if not track.decomposed:
            track.decomposed = True
            focus, text = self._decompose_message(key, diags, test_run, failed_fixes)
            return Feedback(False, text, "decompose", signature, failed_fixes, focus)
        if self.escalation_available and not track.escalated:
            track.escalated = True
            return Feedback(
                False,
                self._escalate_message(key, errors, failed_fixes),
                "escalate",
                signature,
                failed_fixes,
            )
        return self._stop(key, track, errors, f"{failed_fixes} fixes of the same error failed")

    # ------------------------------------------------------------------------------------------

    def _key(self, path: str | Path) -> str:
        p = Path(path)
        if self.workspace_root is not None and p.is_absolute():
            try:
                return p.resolve().relative_to(Path(self.workspace_root).resolve()).as_posix()
            except ValueError:
                pass
        return p.as_posix()

    @staticmethod
    def _error_text(diagnostics: Sequence[Diagnostic], test_run: TestRun | None) -> str:
        if diagnostics:
            return format_diagnostics(list(diagnostics))
        assert test_run is not None
        return "Tests failed: " + test_run.compact()

    @staticmethod
    def _retry_message(path: str, errors: str, failed_fixes: int) -> str:
        again = " again" if failed_fixes else ""
        return (
            f"The edit of {path} has errors{again}:\n{errors}\n"
            f"Fix the first error with one small patch; do not rewrite the file."
        )

    def _decompose_message(
        self,
        path: str,
        diagnostics: Sequence[Diagnostic],
        test_run: TestRun | None,
        failed_fixes: int,
    ) -> tuple[tuple[int, int] | None, str]:
        first = _first_error_text(diagnostics, test_run)
        line = _error_line(path, diagnostics, test_run)
        source = self._read(path)
        region: FocusRegion | None = None
        if source is not None and line:
            if path.endswith((".py", ".pyi")):
                region = enclosing_region(source, line) or _indent_block(source, line)
            else:
                region = _indent_block(source, line)
            if region is None:
                total = source.count("\n") + 1
                start, end = max(1, line - FALLBACK_WINDOW), min(total, line + FALLBACK_WINDOW)
                region = FocusRegion(start, end, f"lines {start}-{end}")
        head = (
            f"{failed_fixes} fixes of the same error in {path} did not work. Stop changing "
            f"the whole file; solve one small problem.\nThe one error to fix now: {first}\n"
        )
        if region is None or source is None:
            return None, head + (
                "Read only the function that this error points to, then rewrite just that "
                "function with one patch. Ignore every other error for now."
            )
        body = ""
        if region.end - region.start + 1 <= MAX_FOCUS_LINES:
            body = (
                "\nHere it is (line numbers are not part of the code):\n"
                + number_lines(source, region.start, region.end)
                + "\n"
            )
        where = (
            f"{region.name} (lines {region.start}-{region.end})"
            if not region.name.startswith("lines")
            else region.name
        )
        return (region.start, region.end), head + (
            f"Change only {where}.{body}\nRewrite just this part with one patch whose old_str is "
            f"exactly these lines. Fix line {line} only; ignore every other error for now."
        )

    @staticmethod
    def _escalate_message(path: str, errors: str, failed_fixes: int) -> str:
        return (
            f"Escalating: {failed_fixes} fixes of the same error in {path} failed, including "
            f"a decomposed attempt.\n{errors}"
        )

    def _stop(self, path: str, track: _Track, errors: str, why: str) -> Feedback:
        return Feedback(
            False,
            f"Stopped editing {path}: {why}. Remaining errors:\n{errors}\n"
            f"Report this to the user; do not edit the file again.",
            "stop",
            track.signature,
            track.occurrences - 1,
        )

    def _read(self, path: str) -> str | None:
        p = Path(path)
        if not p.is_absolute() and self.workspace_root is not None:
            p = Path(self.workspace_root) / p
        try:
            return p.read_text(errors="replace")
        except OSError:
            return None
