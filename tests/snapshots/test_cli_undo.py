"""`smallcode undo` through the real argument parser (and once through the real entry point)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from smallcode.cli.main import build_parser
from smallcode.core.snapshots import SnapshotStore


def run(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


def agent_turns(root: Path, n: int) -> SnapshotStore:
    """n turns, each rewriting a.txt to its turn number (as the file tools would)."""
    (root / "a.txt").write_text("original\n")
    store = SnapshotStore(root)
    for i in range(n):
        store.begin(f"turn {i}")
        store.record("a.txt", (root / "a.txt").read_bytes())
        (root / "a.txt").write_text(f"turn {i}\n")
        store.end()
    return store


def test_undo_last_turn_then_n_turns(tmp_path: Path, capsys) -> None:
    agent_turns(tmp_path, 4)
    assert run(["-C", str(tmp_path), "undo"]) == 0
    assert (tmp_path / "a.txt").read_text() == "turn 2\n"
    assert "restored a.txt" in capsys.readouterr().out
    assert run(["-C", str(tmp_path), "undo", "2"]) == 0
    assert (tmp_path / "a.txt").read_text() == "turn 0\n"


def test_undo_list_and_to(tmp_path: Path, capsys) -> None:
    store = agent_turns(tmp_path, 3)
    ids = [c.id for c in store.list()]
    assert run(["-C", str(tmp_path), "undo", "--list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in out] == list(reversed(ids))
    assert "turn 2" in out[0] and "a.txt" in out[0]
    assert run(["-C", str(tmp_path), "undo", "--to", ids[1]]) == 0
    assert (tmp_path / "a.txt").read_text() == "turn 0\n"
    assert run(["-C", str(tmp_path), "undo", "--to", "turn 0"]) == 0
    assert (tmp_path / "a.txt").read_text() == "original\n"


def test_conflict_exit_code_and_force(tmp_path: Path, capsys) -> None:
    agent_turns(tmp_path, 1)
    (tmp_path / "a.txt").write_text("user edit\n")
    assert run(["-C", str(tmp_path), "undo"]) == 3
    out = capsys.readouterr().out
    assert "KEPT     a.txt: changed after the agent's edit" in out
    assert (tmp_path / "a.txt").read_text() == "user edit\n"
    assert run(["-C", str(tmp_path), "undo", "--force"]) == 0
    assert (tmp_path / "a.txt").read_text() == "original\n"


def test_bad_input_is_a_clear_error(tmp_path: Path, capsys) -> None:
    agent_turns(tmp_path, 1)
    assert run(["-C", str(tmp_path), "undo", "--to", "nope"]) == 1
    assert "no checkpoint named 'nope'" in capsys.readouterr().err
    assert run(["-C", str(tmp_path), "undo", "0"]) == 1
    assert "positive number" in capsys.readouterr().err
    assert run(["-C", str(tmp_path / "missing"), "undo"]) == 1
    assert (tmp_path / "a.txt").read_text() == "turn 0\n"


def test_nothing_to_undo(tmp_path: Path, capsys) -> None:
    assert run(["-C", str(tmp_path), "undo"]) == 0
    assert capsys.readouterr().out.strip() == "nothing to undo"
    assert run(["-C", str(tmp_path), "undo", "--list"]) == 0
    assert capsys.readouterr().out.strip() == "no checkpoints with changes"


def test_real_entry_point(tmp_path: Path) -> None:
    agent_turns(tmp_path, 1)
    r = subprocess.run([sys.executable, "-m", "smallcode.cli.main", "-C", str(tmp_path), "undo"],
                       check=False, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "a.txt").read_text() == "original\n"
