"""Shell scripts that fail when run: running them is the reproduction check."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest
from smallcode.core.solve.commands import FRESH, command_checks

from tests.agent.test_run_scripted import events
from tests.solve.test_solve_path import run_cli
from tests.support.scripted_server import ScriptedServer

BROKEN = """#!/usr/bin/env bash
# Usage: backup.sh SOURCE_DIR DEST_DIR
# Copies SOURCE_DIR to DEST_DIR/<name>-backup.
set -euo pipefail
src="$1"
dest="$2"
mkdir -p "$dest"
cp -r "$source" "$dest/$(basename "$src")-backup"
"""
FIXED = BROKEN.replace('"$source"', '"$src"')
QUOTING = BROKEN.replace('"$source"', '"$src"').replace('mkdir -p "$dest"', "mkdir -p $dest")


def _project(root: Path, script: str = BROKEN) -> Path:
    (root / "data").mkdir()
    (root / "data" / "a.txt").write_text("a\n")
    (root / "backup.sh").write_text(script)
    return root


@pytest.mark.parametrize("task", [
    "backup.sh fails with 'source: unbound variable'. Fix it.",
    "The backup script is broken, please repair backup.sh",
    "fix backup.sh",
])
def test_the_usage_line_gives_the_run_that_fails_now(tmp_path: Path, task: str):
    root = _project(tmp_path)
    [check] = command_checks(task, root, ["backup.sh"])
    # the source is a directory of the project; the destination a fresh path with a space
    assert check.args == ("data", FRESH + "dest_dir")
    assert check.describe() == "`bash backup.sh data 'dest dir'` exits 0"
    assert "source: unbound variable" in check.start_output
    assert not (root / "dest dir").exists()  # made outside the project, per run


@pytest.mark.parametrize("task,args", [
    ("Running `./backup.sh data out` dies with an unbound variable error", ("data", "out")),
    ("`bash backup.sh data backups/today` exits 1", ("data", "backups/today")),
    # a path outside the project becomes a fresh one: checks write only in their copy
    ("when I run backup.sh data /tmp/sc-no-such/x it stops at line 8", ("data", FRESH + "x")),
])
def test_a_command_line_the_task_writes_is_the_run(tmp_path: Path, task: str, args: tuple):
    root = _project(tmp_path)
    [check] = command_checks(task, root, ["backup.sh"])
    assert check.args == args


def test_a_written_command_on_an_existing_outside_path_is_not_run(tmp_path: Path):
    (tmp_path / "p").mkdir()
    root = _project(tmp_path / "p")
    outside = tmp_path / "photos"
    outside.mkdir()
    [check] = command_checks(f"`./backup.sh data {outside}` fails", root, ["backup.sh"])
    assert check.args == ("data", FRESH + "dest_dir")  # the usage line's run instead


def test_the_fix_passes_and_a_script_that_breaks_on_a_space_does_not(tmp_path: Path):
    root = _project(tmp_path)
    [check] = command_checks("fix backup.sh", root, ["backup.sh"])
    (root / "backup.sh").write_text(FIXED)
    assert check.run(root) == (True, "")
    (root / "backup.sh").write_text(QUOTING)
    ok, detail = check.run(root)
    assert not ok and detail.startswith("reproduction check failed: `bash backup.sh data "
                                        "'dest dir'` exited ")


def test_no_check_from_a_script_that_works_or_cannot_be_run(tmp_path: Path):
    root = _project(tmp_path, FIXED)
    assert command_checks("fix backup.sh", root, ["backup.sh"]) == []
    # a placeholder nothing can fill: no guess
    (root / "deploy.sh").write_text("#!/bin/bash\n# Usage: deploy.sh HOSTNAME\nexit 1\n")
    assert command_checks("deploy.sh is broken", root, ["deploy.sh"]) == []
    # no usage line but positional arguments read: no guess either
    (root / "x.sh").write_text("#!/bin/bash\necho \"$1\"\nexit 3\n")
    assert command_checks("x.sh is broken", root, ["x.sh"]) == []
    # no argument read at all: it runs bare
    (root / "y.sh").write_text("#!/bin/bash\nset -u\necho $missing\n")
    [bare] = command_checks("y.sh is broken", root, ["y.sh"])
    assert bare.args == ()
    (root / "z.sh").write_text("#!/bin/bash\nexit 1\n")
    (root / "z.sh").chmod((root / "z.sh").stat().st_mode | stat.S_IEXEC)
    assert [c.script for c in command_checks("z.sh", root, ["z.sh", "x.py"])] == ["z.sh"]


def test_a_candidate_that_still_fails_the_run_is_not_applied(tmp_path: Path):
    root = _project(tmp_path)
    still = f"backup.sh\n```bash\n{QUOTING}```\n"
    right = f"backup.sh\n```bash\n{FIXED}```\n"
    with ScriptedServer([still, right]) as srv:
        proc = run_cli(root, "--yes", "--json", "--base-url", srv.base_url,
                       "The backup script is broken, please repair backup.sh")
    evs = events(proc.stdout)
    notices = [e["message"] for e in evs if e["type"] == "notice"]
    assert any(n.startswith("oracle: repro — from the task's example: `bash backup.sh data "
                            "'dest dir'` exits 0 (fails now)") for n in notices), notices
    assert (root / "backup.sh").read_text() == FIXED
    assert not (root / "dest dir").exists()
    done = next(e for e in evs if e["type"] == "done")
    # exit 0 says the crash is gone, not that the backup is right: unverified
    assert done["success"] is True and done["verified"] == "none"
    assert done["reason"].endswith("exits 0, but what it does is NOT verified")
    assert proc.returncode == 4
    cands = [(e["number"], e["passed"]) for e in evs if e["type"] == "candidate"]
    assert cands[:2] == [(1, False), (2, True)]


REPORT = """import csv
import sys


def total(path):
    with open(path) as f:
        return sum(float(row["amount"]) for row in csv.DictReader(f))


if __name__ == "__main__":
    print(total(sys.argv[1]))
"""


def _py_project(root: Path) -> Path:
    (root / "report.py").write_text(REPORT)
    (root / "sales.csv").write_text("item,price\npen,1.5\n")
    return root


@pytest.mark.parametrize("task", [
    "`python report.py sales.csv` crashes with KeyError: 'amount'",
    "Running python report.py sales.csv gives a traceback, the column is called price",
    "report.py sales.csv dies with a KeyError; fix it",
])
def test_a_python_command_the_task_writes_that_crashes_is_a_check(tmp_path: Path, task: str):
    root = _py_project(tmp_path)
    [check] = command_checks(task, root, ["report.py"])
    assert check.args == ("sales.csv",)
    assert check.describe() == "`python report.py sales.csv` exits 0"
    assert "KeyError: 'amount'" in check.start_output
    (root / "report.py").write_text(REPORT.replace('row["amount"]', 'row["price"]'))
    assert check.run(root) == (True, "")


def test_a_python_script_is_never_run_from_a_guess_or_on_a_usage_error(tmp_path: Path):
    root = _py_project(tmp_path)
    # no command line written: a Python file is not run
    assert command_checks("report.py crashes on sales.csv", root, ["report.py"]) == []
    # a usage error is not a crash ("exit 2" from argparse, no traceback)
    (root / "cli.py").write_text("import argparse\np = argparse.ArgumentParser()\n"
                                 "p.add_argument('n', type=int)\np.parse_args()\n")
    assert command_checks("`python cli.py abc` fails", root, ["cli.py"]) == []


def test_a_node_command_that_throws_is_a_check(tmp_path: Path):
    if shutil.which("node") is None:
        pytest.skip("node not installed")
    (tmp_path / "cli.js").write_text("const n = Number(process.argv[2]);\n"
                                     "console.log(undefinedHelper(n));\n")
    [check] = command_checks("`node cli.js 3` throws", tmp_path, ["cli.js"])
    assert check.shown() == "node cli.js 3" and "ReferenceError" in check.start_output
