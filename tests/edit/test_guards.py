"""Loop guards: each pattern gets its own nudge, then a hard stop; edits reset the counters."""

from __future__ import annotations

from smallcode.core.guards import GuardLimits, LoopGuard


def test_same_call_three_times_nudges_then_stops_at_five():
    g = LoopGuard()
    args = {"command": "pytest -q"}
    verdicts = [g.check("bash", args, True) for _ in range(5)]
    assert [v.action for v in verdicts] == ["ok", "ok", "nudge", "ok", "stop"]
    assert verdicts[2].rule == "same_call"
    assert verdicts[2].message.startswith("You have called bash with exactly these arguments 3 times")
    assert verdicts[4].message.startswith("bash was called 5 times with the same arguments")


def test_argument_order_does_not_make_a_call_different():
    g = LoopGuard()
    g.check("search", {"query": "x", "path": "src"}, True)
    g.check("search", {"path": "src", "query": "x"}, True)
    assert g.check("search", {"query": "x", "path": "src"}, True).rule == "same_call"


def test_successful_edit_resets_same_call_and_read_counters():
    g = LoopGuard()
    g.check("bash", {"command": "pytest"}, True)
    g.check("bash", {"command": "pytest"}, True)
    assert g.check("patch", {"path": "a.py", "old_str": "x", "new_str": "y"}, True).action == "ok"
    assert g.check("bash", {"command": "pytest"}, True).action == "ok"


def test_reading_one_file_repeatedly_without_edit_is_a_read_loop():
    g = LoopGuard(limits=GuardLimits(same_call=(9, 10)))
    verdicts = [g.check("read_file", {"path": "src/app.py", "start_line": n}, True)
                for n in range(1, 6)]
    assert [v.action for v in verdicts] == ["ok", "ok", "nudge", "ok", "stop"]
    assert verdicts[2].rule == "read_loop"
    assert verdicts[2].message.startswith("You have read src/app.py 3 times without changing")
    assert "./src/app.py" not in verdicts[4].message


def test_dotfile_paths_are_kept_intact():
    g = LoopGuard(limits=GuardLimits(same_call=(9, 10), same_file_reads=(2, 3)))
    g.check("read_file", {"path": ".env"}, True)
    assert ".env" in g.check("read_file", {"path": "./.env", "start_line": 2}, True).message


def test_long_explore_streak_without_edit_is_nudged_then_stopped():
    g = LoopGuard()
    actions = [g.check("search", {"query": f"q{i}"}, True).action for i in range(14)]
    assert actions[7] == "nudge" and actions.count("nudge") == 1
    assert actions[13] == "stop"


def test_patch_spiral_on_one_file():
    g = LoopGuard()
    actions = []
    for i in range(6):
        v = g.check("patch", {"path": "a.py", "old_str": f"x{i}", "new_str": "y"}, False)
        actions.append((v.action, v.rule))
    assert actions[2] == ("nudge", "patch_spiral")
    assert actions[5] == ("stop", "patch_spiral")
    # a failure on another file is counted on its own
    assert g.check("patch", {"path": "b.py", "old_str": "x", "new_str": "y"}, False).action == "ok"


def test_successful_patch_ends_the_spiral_for_that_file():
    g = LoopGuard()
    g.check("patch", {"path": "a.py", "old_str": "1", "new_str": "y"}, False)
    g.check("patch", {"path": "a.py", "old_str": "2", "new_str": "y"}, False)
    g.check("patch", {"path": "a.py", "old_str": "3", "new_str": "y"}, True)
    assert g.check("patch", {"path": "a.py", "old_str": "4", "new_str": "y"}, False).action == "ok"


def test_empty_replies_nudge_at_once_and_stop_at_three():
    g = LoopGuard()
    first = g.check_empty_reply()
    assert (first.action, first.rule) == ("nudge", "empty_reply")
    assert first.message.startswith("Your last reply was empty.")
    assert g.check_empty_reply().action == "nudge"
    assert g.check_empty_reply().action == "stop"


def test_a_tool_call_between_empty_replies_restarts_the_count():
    g = LoopGuard()
    g.check_empty_reply()
    g.check_empty_reply()
    g.check("read_file", {"path": "a.py"}, True)
    assert g.check_empty_reply().action == "nudge"
    assert g.nudges == 3


def test_applied_edit_with_failing_checks_is_not_a_failed_patch():
    g = LoopGuard()
    for i in range(4):
        v = g.check("patch", {"path": "a.py", "old_str": f"x{i}", "new_str": "y"}, False,
                    changed=True)
        assert v.action == "ok"
    g.check("read_file", {"path": "a.py"}, True)
    g.check("read_file", {"path": "a.py"}, True)
    g.check("patch", {"path": "a.py", "old_str": "z", "new_str": "y"}, False, changed=True)
    assert g.check("read_file", {"path": "a.py"}, True).action == "ok"  # reads were reset
