"""Reliable editing: the patch matching ladder, semantic merge, validators, test runners and the
improvement-loop policy that turns a failed edit into a smaller, fixable problem."""

from __future__ import annotations

from .loop import Feedback, ImprovementLoop
from .merge import semantic_merge
from .patch import PatchError, PatchOutcome, apply_patch, closest_region, strip_line_numbers
from .testrunner import TestRun, TestRunner, detect_test_runner, run_tests, tests_for_file
from .validate import Diagnostic, format_diagnostics, validate_file

__all__ = [
    "Diagnostic",
    "Feedback",
    "ImprovementLoop",
    "PatchError",
    "PatchOutcome",
    "TestRun",
    "TestRunner",
    "apply_patch",
    "closest_region",
    "detect_test_runner",
    "format_diagnostics",
    "run_tests",
    "semantic_merge",
    "strip_line_numbers",
    "tests_for_file",
    "validate_file",
]
