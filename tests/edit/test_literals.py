"""Task texts: files a task asks to create."""

from __future__ import annotations

from pathlib import Path


def test_asked_files_are_the_absent_files_the_task_says_to_write(tmp_path: Path) -> None:
    from smallcode.core.edit.literals import asked_files

    (tmp_path / "routes.py").write_text("")
    assert asked_files("How many endpoints does routes.py register? Write the number into "
                       "answer.txt.", tmp_path) == ["answer.txt"]
    assert asked_files("Make a file todos.txt that lists every file with a TODO", tmp_path) \
        == ["todos.txt"]
    assert asked_files("Fix routes.py", tmp_path) == []  # exists
    assert asked_files("Why does config.yml not load?", tmp_path) == []  # no writing verb


def test_a_file_said_to_hold_something_is_asked_for_whatever_comes_first(tmp_path: Path) -> None:
    from smallcode.core.edit.literals import asked_files

    (tmp_path / "routes.py").write_text("")
    for task in ("answer.txt must hold how many routes routes.py registers",
                 "Put the number of endpoints routes.py registers into answer.txt.",
                 "answer.txt: just the number of routes, nothing else",
                 "The number of routes goes in answer.txt",
                 "answer.txt should contain the default port",
                 # an arrow to the file, in a terse note
                 "default listening port → answer.txt (number only)",
                 "routes count -> answer.txt",
                 "number of routes => `answer.txt`",
                 "answer.txt ← the number of routes",
                 "I need the number of routes routes.py registers, written to answer.txt.",
                 "the route count, saved in answer.txt"):
        assert asked_files(task, tmp_path) == ["answer.txt"], task
    # what a program writes when it runs is not a file to make
    for task in ("the script writes out.csv when run",
                 "results.json holds the totals after a run",
                 "backup.sh copies the folder to backup.tar"):
        assert asked_files(task, tmp_path) == [], task
