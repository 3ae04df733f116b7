"""The improvement-loop policy: retry → decompose → escalate → stop, per file and error."""

from __future__ import annotations

from pathlib import Path

from smallcode.core.edit.loop import ImprovementLoop, enclosing_region, failure_signature
from smallcode.core.edit.testrunner import TestRun
from smallcode.core.edit.validate import Diagnostic

SOURCE = (
    "import math\n"
    "\n"
    "\n"
    "class Shape:\n"
    "    def area(self):\n"
    "        return 0\n"
    "\n"
    "    def perimeter(self):\n"
    "        total = 0\n"
    "        for side in self.sides:\n"
    "            total += side\n"
    "        return totl\n"
    "\n"
    "\n"
    "def helper():\n"
    "    return 1\n"
)


def diag(line: int, message: str = "F821 Undefined name `totl`") -> Diagnostic:
    return Diagnostic("shapes.py", line, 16, message, "ruff")


def test_clean_edit_is_ok_and_mentions_tests(tmp_path):
    loop = ImprovementLoop(workspace_root=tmp_path)
    fb = loop.after_edit("shapes.py", [], TestRun(True, "3 passed in 0.1s"))
    assert fb.ok and fb.stage == "ok"
    assert fb.message_for_model == "shapes.py: no errors. Tests: 3 passed in 0.1s."


def test_same_error_twice_retries_then_decomposes_to_the_enclosing_function(tmp_path):
    (tmp_path / "shapes.py").write_text(SOURCE)
    loop = ImprovementLoop(max_fix_attempts=2, escalation_available=True, workspace_root=tmp_path)
    first = loop.after_edit("shapes.py", [diag(12)])
    assert (first.stage, first.attempts) == ("retry", 0)
    assert first.message_for_model.startswith("The edit of shapes.py has errors:\n"
                                              "shapes.py:12: F821 Undefined name `totl`")
    second = loop.after_edit("shapes.py", [diag(12)])
    assert (second.stage, second.attempts) == ("retry", 1)
    assert "has errors again" in second.message_for_model
    # the line moved, the error is the same: still the same thing
    third = loop.after_edit(tmp_path / "shapes.py", [diag(11)])
    assert (third.stage, third.attempts) == ("decompose", 2)
    assert third.focus == (8, 12)
    msg = third.message_for_model
    assert "The one error to fix now: shapes.py:11: F821 Undefined name `totl`" in msg
    assert "Change only function perimeter (lines 8-12)." in msg
    assert "  12|         return totl" in msg
    assert "   8|     def perimeter(self):" in msg
    assert "def helper" not in msg
    fourth = loop.after_edit("shapes.py", [diag(12)])
    assert fourth.stage == "escalate"
    fifth = loop.after_edit("shapes.py", [diag(12)])
    assert fifth.stage == "stop"
    assert fifth.message_for_model.startswith("Stopped editing shapes.py: 4 fixes of the same error")


def test_without_escalation_decompose_is_followed_by_stop(tmp_path):
    (tmp_path / "shapes.py").write_text(SOURCE)
    loop = ImprovementLoop(max_fix_attempts=1, escalation_available=False, workspace_root=tmp_path)
    stages = [loop.after_edit("shapes.py", [diag(12)]).stage for _ in range(4)]
    assert stages == ["retry", "decompose", "stop", "stop"]


def test_a_different_error_is_progress_and_restarts_the_count(tmp_path):
    (tmp_path / "shapes.py").write_text(SOURCE)
    loop = ImprovementLoop(max_fix_attempts=2, workspace_root=tmp_path)
    assert loop.after_edit("shapes.py", [diag(12)]).stage == "retry"
    assert loop.after_edit("shapes.py", [diag(12)]).stage == "retry"
    other = loop.after_edit("shapes.py", [diag(6, "F821 Undefined name `nope`")])
    assert (other.stage, other.attempts) == ("retry", 0)


def test_success_resets_the_file(tmp_path):
    loop = ImprovementLoop(max_fix_attempts=1, workspace_root=tmp_path)
    loop.after_edit("a.py", [diag(1)])
    assert loop.after_edit("a.py", []).stage == "ok"
    assert loop.after_edit("a.py", [diag(1)]).stage == "retry"


def test_failing_tests_decompose_to_the_function_named_in_the_failure(tmp_path):
    src = "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n"
    (tmp_path / "calc.py").write_text(src)
    run = TestRun(False, "1 failed, 1 passed in 0.1s",
                  ["tests/test_calc.py::test_add - assert -1 == 5 (at calc.py:2)"])
    loop = ImprovementLoop(max_fix_attempts=1, workspace_root=tmp_path)
    assert loop.after_edit("calc.py", [], run).stage == "retry"
    fb = loop.after_edit("calc.py", [], run)
    assert fb.stage == "decompose"
    assert fb.focus == (1, 2)
    assert "Change only function add (lines 1-2)." in fb.message_for_model
    assert "mul" not in fb.message_for_model


def test_syntax_error_file_falls_back_to_the_indentation_block(tmp_path):
    src = "def ok():\n    return 1\n\n\ndef broken(x):\n    if x\n        return 2\n    return 3\n"
    (tmp_path / "b.py").write_text(src)
    loop = ImprovementLoop(max_fix_attempts=1, workspace_root=tmp_path)
    d = Diagnostic("b.py", 6, 9, "SyntaxError: expected ':'", "python")
    loop.after_edit("b.py", [d])
    fb = loop.after_edit("b.py", [d])
    assert fb.stage == "decompose"
    assert fb.focus == (5, 8)
    assert "def broken" in fb.message_for_model


def test_signatures_ignore_line_numbers_but_not_messages():
    a = failure_signature([diag(3)], None)
    assert a == failure_signature([diag(30)], None)
    assert a != failure_signature([diag(3, "F821 Undefined name `x`")], None)
    t = failure_signature([], TestRun(False, "1 failed", ["t.py::test_a - assert 1 == 2"]))
    assert t == "tests:t.py::test_a"


def test_enclosing_region_prefers_the_innermost_function():
    region = enclosing_region(SOURCE, 11)
    assert region is not None
    assert (region.start, region.end, region.name) == (8, 12, "function perimeter")
    assert enclosing_region(SOURCE, 1) is None
    assert enclosing_region("def (:\n", 1) is None


def test_absolute_and_relative_paths_are_the_same_file(tmp_path):
    loop = ImprovementLoop(max_fix_attempts=1, escalation_available=False, workspace_root=tmp_path)
    loop.after_edit(Path(tmp_path / "x.py"), [diag(1)])
    assert loop.after_edit("x.py", [diag(1)]).stage == "decompose"


def test_diagnostics_in_their_dict_form_are_accepted(tmp_path):
    loop = ImprovementLoop(max_fix_attempts=1, escalation_available=False, workspace_root=tmp_path)
    as_dict = {"file": "a.py", "line": 3, "col": 1, "message": "SyntaxError: x", "tool": "python"}
    first = loop.after_edit("a.py", [as_dict])
    assert first.stage == "retry"
    assert "a.py:3: SyntaxError: x" in first.message_for_model
    assert loop.after_edit("a.py", [Diagnostic("a.py", 9, 0, "SyntaxError: x", "python")]).stage == (
        "decompose")
