"""Values the user asked to put in the files, and whether the changed files hold them."""

from __future__ import annotations

from pathlib import Path

import pytest
from smallcode.core.edit.literals import missing_literals, required_literals


@pytest.mark.parametrize("task, wanted", [
    ('Change the server port to 9090 and add a "debug": false setting to config/app.json.',
     ["debug", "9090"]),
    ("Raise the flake8 max line length to 100 in setup.cfg.", ["100"]),
    ("Add a currency argument (default 'USD') to format_invoice.", ["USD"]),
    ('Add a "test" script to package.json and require Node 20 or newer.', ["test", "20"]),
    # bug reports describe behaviour, not text that must appear
    ("c_to_f(100) returns 148 instead of 212. Fix the conversion.", []),
    ("slugify('Hello,  World!') gives 'hello---world'; it should be 'hello-world'.", []),
    (("column_total('data/sales.csv', 'amount') raises ValueError: could not convert string "
      "to float: 'amount'. Fix it."), []),
    ("backup.sh fails with 'source: unbound variable'. Fix it.", []),
    # what the user wants gone, and paths
    ("Rename `calc_total` to `compute_total` everywhere.", ["compute_total"]),
    ("Replace 'utf8' with 'utf-8' in `io/read.py`.", ["utf-8"]),
    ("Bump the version in pyproject.toml to 0.4.0 and add requests>=2.31 to the dependencies.",
     ["0.4.0", "requests>=2.31"]),
    ("Add Python 3.12 to the test matrix.", ["3.12"]),
    ("add REDIS_URL=redis://cache:6379/0 to the environment", ["REDIS_URL=redis://cache:6379/0"]),
    ("Set the retries to 3 in `retry.py`.", []),  # one-digit numbers are too weak to check
])
def test_required_literals(task: str, wanted: list[str]) -> None:
    assert required_literals(task) == wanted


def test_missing_literals_reads_the_changed_files(tmp_path: Path) -> None:
    (tmp_path / "app.json").write_text('{"port": 9090}')
    task = 'Change the port to 9090 and add a "debug": false setting.'
    assert missing_literals(task, tmp_path, ["app.json"]) == ["debug"]
    (tmp_path / "app.json").write_text('{"port": 9090, "debug": false}')
    assert missing_literals(task, tmp_path, ["app.json"]) == []
    assert missing_literals(task, tmp_path, []) == []  # nothing changed: other checks apply
    (tmp_path / "cfg.toml").write_text("[server]\nport = 9090\ndebug = false\n")
    assert missing_literals('set "debug = false" and port to 9090', tmp_path, ["cfg.toml"]) == []
    (tmp_path / "package.json").write_text('{"scripts": {"start": "node --test"}}')
    assert missing_literals('Add a "test" script', tmp_path, ["package.json"]) == ["test"]
    (tmp_path / "pyproject.toml").write_text('dependencies = ["requests >= 2.31"]\n')
    assert missing_literals("add requests>=2.31", tmp_path, ["pyproject.toml"]) == []


def test_asked_files_are_the_absent_files_the_task_says_to_write(tmp_path: Path) -> None:
    from smallcode.core.edit.literals import asked_files

    (tmp_path / "routes.py").write_text("")
    assert asked_files("How many endpoints does routes.py register? Write the number into "
                       "answer.txt.", tmp_path) == ["answer.txt"]
    assert asked_files("Make a file todos.txt that lists every file with a TODO", tmp_path) \
        == ["todos.txt"]
    assert asked_files("Fix routes.py", tmp_path) == []  # exists
    assert asked_files("Why does config.yml not load?", tmp_path) == []  # no writing verb


def test_task_parts_are_the_separate_things_asked_for() -> None:
    from smallcode.core.edit.literals import task_parts

    assert task_parts("Bump the version in pyproject.toml to 0.4.0 and add requests>=2.31 to "
                      "the dependencies.") == ["Bump the version in pyproject.toml to 0.4.0",
                                               "add requests>=2.31 to the dependencies"]
    assert task_parts("add() in calc.py returns the wrong result. Fix it.") == ["Fix it"]
    assert task_parts("Users need an email: add an email field to User, accept it in "
                      "create_user(name, email) and include it in to_dict().") == [
        "accept it in create_user(name, email)", "include it in to_dict()"]
