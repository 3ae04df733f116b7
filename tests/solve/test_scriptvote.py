"""The vote among candidates that write a shell script: what each script prints, run in a copy
of the project, decides (unit parts here, the whole solve path in test_solve_path)."""

from __future__ import annotations

from pathlib import Path

import pytest
from smallcode.core.solve.scriptvote import (
    majority_output,
    runnable_script,
    runs_cleanly,
    script_output,
)


@pytest.mark.parametrize("rel, text, runnable", [
    ("scripts/count.sh", "find src -name '*.py' | xargs cat | wc -l\n", True),
    ("tools/stats", "#!/usr/bin/env bash\nset -euo pipefail\nls | wc -l\n", True),
    ("bin/report", "#!/bin/sh\necho hi\n", True),
    ("run.bash", "# usage: run.bash (no arguments; $1 is not read)\necho ok\n", True),
    # arguments nobody gave: not run
    ("scripts/greet.sh", "echo \"hello $1\"\n", False),
    ("scripts/all.sh", "for f in \"$@\"; do wc -l \"$f\"; done\n", False),
    ("scripts/opts.sh", "while getopts v o; do :; done\necho x\n", False),
    ("scripts/n.sh", "echo ${#}\n", False),
    # not a shell script
    ("tool.py", "#!/usr/bin/env python3\nprint(1)\n", False),
    ("notes.txt", "echo hi\n", False),
])
def test_a_script_runs_only_when_it_is_shell_and_takes_no_arguments(rel, text, runnable):
    assert runnable_script(rel, text) is runnable


def test_a_script_runs_in_the_project_with_its_home_there(tmp_path: Path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("x = 1\ny = 2\n")
    (tmp_path / "count.sh").write_text("cat src/*.py | wc -l\necho \"$HOME\" > home.txt\n")
    assert script_output(tmp_path, "count.sh") == (0, "2")
    assert (tmp_path / "home.txt").read_text().strip() == str(tmp_path)
    (tmp_path / "bad.sh").write_text("echo partial\nexit 3\n")
    assert script_output(tmp_path, "bad.sh") == (3, "partial")
    (tmp_path / "slow.sh").write_text("sleep 5\n")
    assert script_output(tmp_path, "slow.sh", timeout=0.5) == (-1, "")


def test_the_output_most_candidates_print_wins_when_it_runs_cleanly():
    right, wrong, broken = ((0, "19"),), ((0, "5 src/a.py\n14 src/b.py"),), ((1, ""),)
    assert majority_output({right: 2, wrong: 1}, wrong) == right
    # a tie goes to the best-ranked candidate's output
    assert majority_output({right: 1, wrong: 1}, wrong) == wrong
    assert majority_output({right: 1, wrong: 1}, right) == right
    # more candidates that stop with an error do not outvote one that runs
    assert majority_output({broken: 3, right: 1}, broken) == right
    # nothing to choose: one output for all, or none that runs
    assert majority_output({right: 4}, right) is None
    assert majority_output({broken: 2, ((2, "usage"),): 1}, broken) is None
    assert runs_cleanly(((0, ""), (0, "x"))) and not runs_cleanly(((0, ""),))


def test_a_command_that_outlives_its_timeout_is_killed_with_what_it_started(tmp_path: Path):
    import time

    from smallcode.core.solve.scriptvote import command_output

    began = time.monotonic()
    # the background sleep keeps the output pipe open: killing bash alone would wait for it
    assert command_output(tmp_path, "sleep 30 & wait", timeout=0.5) == (-1, "")
    assert time.monotonic() - began < 10
    assert command_output(tmp_path, "printf 'a\\nb\\n' | wc -l") == (0, "2")
