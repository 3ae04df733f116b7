"""Changing the extension of a folder's files: one deterministic operation, recognised whatever
the phrasing, contents kept, undone in one step."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from smallcode.core.solve import find_suffix_change
from smallcode.core.tools.workspace import Workspace

from tests.agent.test_run_scripted import events
from tests.solve.test_solve_path import run_cli
from tests.support.scripted_server import ScriptedServer

NOTES = {"groceries.txt": "milk\neggs\n", "ideas.txt": "a bench suite\n", "keep.md": "# keep\n",
         "old/todo.txt": "write docs\n"}


def _project(root: Path) -> Path:
    for rel, text in NOTES.items():
        (root / "notes" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "notes" / rel).write_text(text)
    (root / "requirements.txt").write_text("requests\n")
    (root / "parse.py").write_text("def parse(text):\n    return text.split()\n")
    return root


@pytest.mark.parametrize("task", [
    "Rename every .txt file in notes/ to .md (keep their contents).",
    "notes/*.txt -> *.md",
    "Give the .txt files in the notes folder the .md extension instead",
    "In notes, use .md as the file extension instead of .txt",
    "change the extension of everything in `notes` from .txt to .md",
])
def test_an_extension_change_is_recognised_whatever_the_phrasing(tmp_path: Path, task: str):
    found = find_suffix_change(task, Workspace(_project(tmp_path)))
    assert found is not None
    assert (found.folder, found.old, found.new) == ("notes", ".txt", ".md")


@pytest.mark.parametrize("task", [
    "Convert the .txt files in notes/ to .md",  # a conversion changes the contents
    "Rename .txt to .md",  # no folder: requirements.txt is not a note
    "Add a parser for .md files next to the .txt one in parse.py",  # code to write
    "Rename notes/groceries.txt to notes/list.txt",  # one file, not a kind of file
    "Rename the function parse to parse_words",
    "Rename every .csv file in notes/ to .tsv",  # none there
])
def test_other_requests_are_not_an_extension_change(tmp_path: Path, task: str):
    assert find_suffix_change(task, Workspace(_project(tmp_path))) is None


def test_a_name_the_new_extension_would_take_stops_it(tmp_path: Path):
    _project(tmp_path)
    (tmp_path / "notes" / "ideas.md").write_text("other\n")
    assert find_suffix_change("Rename every .txt file in notes/ to .md",
                              Workspace(tmp_path)) is None


def test_smallcode_run_renames_the_files_without_the_model_and_undo_restores_them(
        tmp_path: Path):
    repo = _project(tmp_path)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    with ScriptedServer([]) as srv:
        proc = run_cli(repo, "--yes", "--json", "--base-url", srv.base_url,
                       "Rename every .txt file in notes/ to .md (keep their contents).")
        assert not [r for r in srv.requests if "messages" in r]  # no model call
    assert proc.returncode == 0, proc.stdout + proc.stderr
    done = next(e for e in events(proc.stdout) if e["type"] == "done")
    assert done["verified"] == "structural", done["reason"]
    notes = repo / "notes"
    assert {p.relative_to(notes).as_posix(): p.read_text() for p in notes.rglob("*")
            if p.is_file()} == {"groceries.md": "milk\neggs\n", "ideas.md": "a bench suite\n",
                                "keep.md": "# keep\n", "old/todo.md": "write docs\n"}
    assert (repo / "requirements.txt").exists()
    undo = subprocess.run([sys.executable, "-m", "smallcode.cli.main", "undo"], cwd=repo,
                          capture_output=True, text=True, check=False)
    assert undo.returncode == 0, undo.stderr
    assert {p.relative_to(notes).as_posix(): p.read_text() for p in notes.rglob("*")
            if p.is_file()} == NOTES


def test_the_tool_refuses_what_would_lose_a_file_and_the_router_offers_it(tmp_path: Path):
    from smallcode.core.router import TRIGGERED_TOOLS
    from smallcode.core.tools.file_suffix import ChangeSuffixArgs, change_suffix
    from smallcode.core.tools.registry import ToolContext, ToolError

    _project(tmp_path)
    ctx = ToolContext(Workspace(tmp_path))
    (tmp_path / "notes" / "ideas.md").write_text("other\n")
    with pytest.raises(ToolError, match="notes/ideas.md already exists"):
        change_suffix(ChangeSuffixArgs(folder="notes", old_suffix=".txt", new_suffix="md"), ctx)
    assert (tmp_path / "notes" / "ideas.txt").read_text() == "a bench suite\n"
    with pytest.raises(ToolError, match="no .csv file in notes/"):
        change_suffix(ChangeSuffixArgs(folder="notes/", old_suffix="*.csv", new_suffix=".tsv"),
                      ctx)
    with pytest.raises(ToolError, match="not a file extension"):
        change_suffix(ChangeSuffixArgs(folder="notes", old_suffix=".txt", new_suffix="m d"), ctx)
    with pytest.raises(ToolError, match="not a folder"):
        change_suffix(ChangeSuffixArgs(folder="parse.py", old_suffix=".txt", new_suffix=".md"),
                      ctx)
    done = change_suffix(ChangeSuffixArgs(folder="notes/old", old_suffix="txt", new_suffix=".rst"),
                         ctx)
    assert done.ok and done.data["renamed"] == [["notes/old/todo.txt", "notes/old/todo.rst"]]
    trigger = TRIGGERED_TOOLS["change_suffix"]
    assert trigger.search("Rename every .txt file in notes/ to .md")
    assert trigger.search("give them the .md extension")
    assert not trigger.search("Rename calc_total to compute_total")
