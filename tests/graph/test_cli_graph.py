"""`smallcode index` and `smallcode graph ...` through the real argument parser."""

from __future__ import annotations

from pathlib import Path

import pytest
from smallcode.cli.main import build_parser


def run(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


def test_index_then_warm_index(sample_repo: Path, capsys):
    assert run(["-C", str(sample_repo), "index"]) == 0
    first = capsys.readouterr().out
    assert first.startswith("indexed 8 files (8 parsed, 0 unchanged, 0 removed, 0 skipped)")
    assert run(["-C", str(sample_repo), "index"]) == 0
    assert capsys.readouterr().out.startswith("indexed 8 files (0 parsed, 8 unchanged")


def test_index_problems_lists_partial_files(sample_repo: Path, capsys):
    (sample_repo / "bad.py").write_text("def x(:\n  pass\n")
    assert run(["-C", str(sample_repo), "index", "--problems"]) == 0
    out = capsys.readouterr().out
    assert "  partial: bad.py: " in out


@pytest.mark.parametrize(("argv", "expected", "code"), [
    (["graph", "search", "compute", "--max-tokens", "200"],
     "### pkg/models.py:10-12 method Model.compute (match)", 0),
    (["graph", "explain", "Model.compute"], "method Model.compute — pkg/models.py:10-12", 0),
    (["graph", "refs", "Model"], "  6 [call] in main: m = Model(3)", 0),
    (["graph", "map", "--max-tokens", "60", "--focus", "srv/server.go"], "srv/server.go:", 0),
    (["graph", "explain", "NoSuchThing"], "No symbol named 'NoSuchThing'", 1),
])
def test_graph_queries(sample_repo: Path, capsys, argv, expected, code):
    assert run(["-C", str(sample_repo), *argv]) == code
    assert expected in capsys.readouterr().out


def test_missing_workspace_is_a_clear_error(tmp_path: Path, capsys):
    assert run(["-C", str(tmp_path / "nope"), "index"]) == 2
    assert "is not a directory" in capsys.readouterr().err
