"""Plan detection, the anchor's exact format, and advancement that needs evidence."""

from __future__ import annotations

from pathlib import Path

import pytest
from smallcode.core.plan.tracker import PLAN_REQUEST, PlanTracker, detect_plan_needed

SPEC_STEPS = ["Read the existing auth module", "Identify the JWT validation function",
              "Add the refresh token handler", "Update the route middleware", "Run tests"]


@pytest.mark.parametrize("message", [
    "Refactor the auth module to use dependency injection",
    "Migrate the settings from INI to TOML",
    "rewrite the parser",
    "Implement the CSV export feature",
    "Add a new payment service",
    "Walk me through it step by step and fix the warnings",
    "Rename the logger in all files",
    "Add a --verbose flag. Update the README. Run the tests.",
    "x " * 400,
])
def test_plan_worthy_messages_are_detected(message: str) -> None:
    assert detect_plan_needed(message)


@pytest.mark.parametrize("message", [
    "fix the typo in README.md", "what does parse_args do?", "run the tests", "",
    "Add a docstring to main.py", "Add a docstring to the utils module",
])
def test_small_messages_need_no_plan(message: str) -> None:
    assert not detect_plan_needed(message)


def test_plan_request_asks_for_a_numbered_plan_before_tools_and_to_start_step_one() -> None:
    assert "numbered plan of at most 8 steps" in PLAN_REQUEST
    assert "Before any tool call" in PLAN_REQUEST
    assert "start step 1 immediately" in PLAN_REQUEST


def test_anchor_matches_the_spec_exactly() -> None:
    t = PlanTracker(None, SPEC_STEPS)
    t.observe("step 1 done")
    t.observe("Step 2 is complete.")
    assert t.anchor() == (
        "ACTIVE PLAN (step 3 of 5):\n"
        "✓ 1. Read the existing auth module\n"
        "✓ 2. Identify the JWT validation function\n"
        "→ 3. Add the refresh token handler\n"
        "  4. Update the route middleware\n"
        "  5. Run tests")


def test_a_claim_without_changed_files_does_not_advance(tmp_path: Path) -> None:
    (tmp_path / "auth.py").write_text("def check():\n    return True\n")
    t = PlanTracker(tmp_path, ["Add a refresh handler to `auth.py`", "Run the tests"])
    obs = t.observe("Step 1 done!")
    assert obs.advanced == [] and obs.refused == {1: "auth.py was not changed"}
    assert "Step 1 is not done yet: auth.py was not changed." == obs.message_for_model()
    assert t.step(1).status == "active"


def test_a_claim_with_a_changed_file_that_does_not_validate_does_not_advance(
        tmp_path: Path) -> None:
    (tmp_path / "auth.py").write_text("def check(:\n    return True\n")
    t = PlanTracker(tmp_path, ["Add a refresh handler to `auth.py`", "Run the tests"])
    obs = t.observe("step 1 done", changed_files=["auth.py"])
    assert obs.advanced == []
    assert obs.refused[1].startswith("auth.py does not validate")


def test_a_claim_with_a_changed_valid_file_advances(tmp_path: Path) -> None:
    (tmp_path / "auth.py").write_text("def refresh():\n    return True\n")
    t = PlanTracker(tmp_path, ["Add a refresh handler to `auth.py`", "Run the tests"])
    obs = t.observe("I added it. Step 1 done.", changed_files=["auth.py"])
    assert obs.advanced == [1]
    assert t.anchor().splitlines()[:3] == ["ACTIVE PLAN (step 2 of 2):",
                                           "✓ 1. Add a refresh handler to `auth.py`",
                                           "→ 2. Run the tests"]


def test_a_command_step_needs_the_command_to_have_succeeded(tmp_path: Path) -> None:
    t = PlanTracker(tmp_path, ["Run the tests", "Run `make docs`"])
    assert t.observe("step 1 done", command_results=[("pytest -q", False)]).advanced == []
    assert t.observe("step 1 done", command_results=[("python -m pytest -q", True)]).advanced == [1]
    assert t.observe("step 2 done", command_results=[{"command": "make lint", "ok": True}]
                     ).refused == {2: "`make docs` did not run successfully yet"}
    assert t.observe("step 2 done", command_results=[{"command": "make docs", "ok": True}]
                     ).advanced == [2]
    assert t.complete and t.volatile_anchor() is None
    assert t.anchor().startswith("PLAN COMPLETE (2 of 2):")


def test_tracker_round_trips_through_the_session(tmp_path: Path) -> None:
    t = PlanTracker(tmp_path, ["Edit `a.py`", "Run the tests"])
    (tmp_path / "a.py").write_text("A = 1\n")
    t.observe("step 1 done", changed_files=["a.py"], command_results=[("pytest", False)])
    back = PlanTracker.from_dict(t.to_dict(), tmp_path)
    assert back.anchor() == t.anchor()
    assert back.changed_files == {"a.py"} and back.commands == [("pytest", False)]
    assert [s.status for s in back.steps] == ["done", "active"]


async def test_capture_parses_a_numbered_plan_without_a_model_call() -> None:
    t = PlanTracker(None)
    reply = "Plan:\n1. Read `auth.py`\n2. Add `refresh()` to `auth.py`\n3. Run the tests\n\n" \
            "Starting with step 1."
    assert await t.capture(reply) is True
    assert [s.text for s in t.steps] == ["Read `auth.py`", "Add `refresh()` to `auth.py`",
                                         "Run the tests"]
    assert t.source == "fallback"
    assert t.step(2).files == ["auth.py"] and t.step(3).command == "tests"
    assert t.step(1).read_only


async def test_capture_keeps_at_most_eight_steps() -> None:
    t = PlanTracker(None)
    assert await t.capture("\n".join(f"{i}. Edit `f{i}.py`" for i in range(1, 11)))
    assert len(t.steps) == 8


async def test_capture_of_text_without_a_plan_fails_cleanly() -> None:
    t = PlanTracker(None)
    assert await t.capture("Sure, I can help with that.") is False
    assert t.steps == [] and t.anchor() == ""
