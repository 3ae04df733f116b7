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
