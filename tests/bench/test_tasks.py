"""Task folders: loading, validation errors, workspaces and verify."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from smallcode.core.bench import (
    TaskError,
    filter_tasks,
    load_suite,
    load_task,
    prepare_workspace,
    run_verify,
)

GOOD = """id = "t-one"
category = "bugfix"
language = "python"
instruction = "fix it"
verify = "test -f done.txt"
timeout = 30
"""


def write_task(root: Path, toml: str = GOOD, name: str = "t-one") -> Path:
    d = root / name
    (d / "repo").mkdir(parents=True)
    (d / "repo" / "a.txt").write_text("a\n")
    (d / "solution").mkdir()
    (d / "solution" / "done.txt").write_text("yes\n")
    (d / "task.toml").write_text(toml)
    return d


def test_a_task_folder_loads_with_defaults(tmp_path):
    task = load_task(write_task(tmp_path))
    assert (task.id, task.category, task.language, task.timeout) == ("t-one", "bugfix", "python", 30)
    assert task.verify_timeout == 60 and task.max_turns is None


@pytest.mark.parametrize("change, message", [
    (("id = \"t-one\"", "id = \"other\""), "differs from the folder name"),
    (("category = \"bugfix\"", "category = \"misc\""), "category 'misc' is not one of"),
    (("instruction = \"fix it\"", "instruction = \"  \""), "'instruction' must be a non-empty"),
    (("timeout = 30", "timeout = -1"), "'timeout' must be a positive number"),
    (("verify = \"test -f done.txt\"", ""), "'verify' must be a non-empty string"),
    (("timeout = 30", "timeout = [30"), "not valid TOML"),
])
def test_malformed_task_toml_names_the_file_and_field(tmp_path, change, message):
    d = write_task(tmp_path, GOOD.replace(*change))
    with pytest.raises(TaskError, match=message) as info:
        load_task(d)
    assert "task.toml" in str(info.value)


def test_a_folder_of_tasks_is_a_suite_and_filters_match_id_or_category(tmp_path):
    write_task(tmp_path)
    write_task(tmp_path, GOOD.replace("t-one", "t-two").replace("bugfix", "config"), "t-two")
    suite = load_suite(tmp_path)
    assert [t.id for t in suite.tasks] == ["t-one", "t-two"]
    assert [t.id for t in filter_tasks(suite.tasks, ["config"])] == ["t-two"]
    assert [t.id for t in filter_tasks(suite.tasks, ["t-*"])] == ["t-one", "t-two"]
    with pytest.raises(TaskError, match="no tasks"):
        load_suite(tmp_path / "t-one" / "repo")


def test_workspace_is_a_fresh_git_repo_with_one_commit(tmp_path):
    task = load_task(write_task(tmp_path / "suite"))
    work = prepare_workspace(task, tmp_path / "w")
    log = subprocess.run(["git", "log", "--oneline"], cwd=work, capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert len(log) == 1 and "t-one" in log[0]
    status = subprocess.run(["git", "status", "--porcelain"], cwd=work, capture_output=True,
                            text=True, check=True).stdout
    assert status == ""
    with pytest.raises(TaskError, match="not empty"):
        prepare_workspace(task, work)


def test_verify_verdicts_and_timeout(tmp_path):
    task = load_task(write_task(tmp_path / "suite"))
    assert not run_verify(task, prepare_workspace(task, tmp_path / "a", git=False)).passed
    assert run_verify(task, prepare_workspace(task, tmp_path / "b", with_solution=True,
                                              git=False)).passed
    slow = load_task(write_task(tmp_path / "slow", GOOD.replace(
        'verify = "test -f done.txt"', 'verify = "sleep 30"\nverify_timeout = 0.5')))
    result = run_verify(slow, prepare_workspace(slow, tmp_path / "c", git=False))
    assert result.timed_out and not result.passed and result.seconds < 10


def test_solution_removes_cannot_leave_the_workspace(tmp_path):
    d = write_task(tmp_path, GOOD + 'solution_removes = ["../../etc"]\n')
    task = load_task(d)
    with pytest.raises(TaskError, match="leaves the repo"):
        prepare_workspace(task, tmp_path / "w", with_solution=True, git=False)


def write_based(root: Path, name: str, toml: str) -> Path:
    d = root / name
    d.mkdir(parents=True)
    (d / "task.toml").write_text(toml)
    return d


def test_a_task_with_a_base_inherits_everything_but_id_and_instruction(tmp_path):
    write_task(tmp_path / "orig")
    write_based(tmp_path / "reworded", "t-one-terse",
                'id = "t-one-terse"\nbase = "orig/t-one"\ninstruction = "fix pls"\n')
    suite = load_suite(tmp_path / "reworded")
    (task,) = suite.tasks
    base = load_task(tmp_path / "orig" / "t-one")
    assert (task.id, task.instruction, task.base) == ("t-one-terse", "fix pls", "orig/t-one")
    assert task.path == (tmp_path / "reworded" / "t-one-terse").resolve()
    assert (task.category, task.language, task.verify, task.timeout) == (
        base.category, base.language, base.verify, base.timeout)
    assert (task.repo_dir, task.hidden_dir, task.solution_dir) == (
        base.repo_dir, base.hidden_dir, base.solution_dir)
    assert base.base is None and base.files_dir == base.path
    assert not run_verify(task, prepare_workspace(task, tmp_path / "a", git=False)).passed
    assert run_verify(task, prepare_workspace(task, tmp_path / "b", with_solution=True,
                                              git=False)).passed


@pytest.mark.parametrize("toml, message", [
    ('id = "x"\nbase = "orig/nope"\ninstruction = "i"\n', "base 'orig/nope' not found"),
    ('id = "x"\nbase = "t-one"\ninstruction = "i"\n', "must be '<suite>/<task-id>'"),
    ('id = "x"\nbase = "../orig"\ninstruction = "i"\n', "must be '<suite>/<task-id>'"),
    ('id = "x"\nbase = "orig/t-one"\n', "'instruction' must be a non-empty"),
    ('id = "x"\nbase = "orig/t-one"\ninstruction = "i"\nverify = "true"\n',
     "sets only id, base, instruction .*remove verify"),
    ('id = "x"\nbase = "other/y"\ninstruction = "i"\n', "cannot have a 'base' of its own"),
])
def test_a_malformed_base_names_the_file_and_problem(tmp_path, toml, message):
    write_task(tmp_path / "orig")
    write_based(tmp_path / "other", "y", 'id = "y"\nbase = "third/x"\ninstruction = "i"\n')
    d = write_based(tmp_path / "reworded", "x", toml)
    with pytest.raises(TaskError, match=message) as info:
        load_task(d)
    assert "task.toml" in str(info.value)
