"""Indexing, persistence and incremental updates of CodeGraph on a real DuckDB file."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from smallcode.core.graph import CodeGraph, GraphStoreBusy
from smallcode.core.graph.store import MIGRATIONS, GraphStore


def test_first_index_parses_every_source_file_and_respects_gitignore(sample_repo: Path):
    graph = CodeGraph(sample_repo, workers=0)
    report = graph.index()
    assert report.parsed == 8
    assert report.files == 8
    assert report.errors == [] and report.skipped == []
    assert graph.resolve_symbol_files("ignored_by_gitignore") == []
    assert graph.resolve_symbol_files("Model") == ["pkg/models.py"]
    assert (sample_repo / ".smallcode" / "graph.duckdb").is_file()


def test_restart_reparses_nothing_when_nothing_changed(sample_repo: Path):
    CodeGraph(sample_repo, workers=0).index()
    again = CodeGraph(sample_repo, workers=0)
    report = again.index()
    assert (report.parsed, report.unchanged, report.removed) == (0, 8, 0)
    assert again.resolve_symbol_files("Model.compute") == ["pkg/models.py"]


def test_restart_reparses_only_the_changed_file(sample_repo: Path):
    CodeGraph(sample_repo, workers=0).index()
    util = sample_repo / "pkg" / "util.py"
    util.write_text(util.read_text() + "\n\ndef added_later():\n    return helper(2)\n")
    report = CodeGraph(sample_repo, workers=0).index()
    assert (report.parsed, report.unchanged) == (1, 7)
    assert CodeGraph(sample_repo, workers=0).resolve_symbol_files("added_later") == ["pkg/util.py"]


def test_touched_file_with_same_content_is_not_reparsed(sample_repo: Path):
    CodeGraph(sample_repo, workers=0).index()
    app = sample_repo / "app.py"
    later = time.time() + 10
    os.utime(app, (later, later))
    graph = CodeGraph(sample_repo, workers=0)
    first = graph.index()
    assert (first.parsed, first.unchanged) == (0, 8)
    second = CodeGraph(sample_repo, workers=0).index()  # the new mtime was recorded
    assert (second.parsed, second.unchanged) == (0, 8)


def test_deleted_and_added_files_are_reflected(sample_repo: Path):
    graph = CodeGraph(sample_repo, workers=0)
    graph.index()
    (sample_repo / "web" / "format.ts").unlink()
    (sample_repo / "lib.rb").write_text("class Library\n  def lend; end\nend\n")
    report = graph.index()
    assert (report.parsed, report.removed) == (1, 1)
    assert graph.resolve_symbol_files("format") == []
    assert graph.resolve_symbol_files("Library.lend") == ["lib.rb"]
    fresh = CodeGraph(sample_repo, workers=0)
    assert fresh.resolve_symbol_files("format") == []
    assert fresh.resolve_symbol_files("Library") == ["lib.rb"]


def test_update_files_reindexes_only_given_paths(sample_repo: Path):
    graph = CodeGraph(sample_repo, workers=0)
    graph.index()
    (sample_repo / "app.py").write_text("def renamed_main():\n    pass\n")
    (sample_repo / "srv" / "net.go").unlink()
    report = graph.update_files([str(sample_repo / "app.py")], ["srv/net.go"])
    assert (report.parsed, report.removed) == (1, 1)
    assert graph.resolve_symbol_files("main") == []
    assert graph.resolve_symbol_files("renamed_main") == ["app.py"]
    assert graph.resolve_symbol_files("listen") == []


def test_update_of_ignored_or_unknown_files_is_a_no_op(sample_repo: Path):
    graph = CodeGraph(sample_repo, workers=0)
    graph.index()
    report = graph.update_files(["build/generated.py", "README.md"])
    assert (report.parsed, report.removed) == (0, 0)
    assert graph.resolve_symbol_files("ignored_by_gitignore") == []


def test_parse_error_is_reported_and_the_rest_of_the_file_indexed(sample_repo: Path):
    (sample_repo / "broken.py").write_text("def fine():\n    return 1\n\ndef bad(:\n    pass\n")
    graph = CodeGraph(sample_repo, workers=0)
    report = graph.index()
    assert [p for p, _ in report.errors] == ["broken.py"]
    assert graph.resolve_symbol_files("fine") == ["broken.py"]
    assert graph.problems() == [("broken.py", "partial", report.errors[0][1])]


def test_schema_migrations_are_recorded_once(sample_repo: Path):
    db = sample_repo / ".smallcode" / "graph.duckdb"
    GraphStore(db)
    GraphStore(db)
    assert GraphStore(db).schema_versions() == [(i + 1, name)
                                                for i, (name, _sql) in enumerate(MIGRATIONS)]


def test_unreadable_index_file_is_moved_aside_and_rebuilt(sample_repo: Path):
    db = sample_repo / ".smallcode" / "graph.duckdb"
    db.parent.mkdir()
    db.write_bytes(b"this is not a duckdb database" * 100)
    graph = CodeGraph(sample_repo, workers=0)
    report = graph.index()
    assert report.parsed == 8
    assert graph.recovered_from is not None and graph.recovered_from.exists()
    assert graph.recovered_from.read_bytes().startswith(b"this is not a duckdb")


def test_rows_are_stored_per_file(sample_repo: Path):
    CodeGraph(sample_repo, workers=0).index()
    con = duckdb.connect(str(sample_repo / ".smallcode" / "graph.duckdb"), read_only=True)
    try:
        rows = con.execute(
            "SELECT s.qualname, s.kind, s.start_line, s.end_line FROM symbols s JOIN files f "
            "ON f.id = s.file_id WHERE f.path = 'pkg/models.py' ORDER BY s.ord").fetchall()
    finally:
        con.close()
    assert rows == [("Model", "class", 4, 15), ("Model.__init__", "method", 7, 8),
                    ("Model.compute", "method", 10, 12), ("Model.offset", "method", 14, 15)]


def test_process_pool_gives_the_same_index_as_in_process(sample_repo: Path, tmp_path_factory):
    pooled = CodeGraph(sample_repo, workers=2, pool_threshold=1,
                       db_path=tmp_path_factory.mktemp("db") / "g.duckdb")
    report = pooled.index()
    assert report.parsed == 8
    single = CodeGraph(sample_repo, workers=0)
    single.index()
    assert pooled.stats()["symbols"] == single.stats()["symbols"]
    assert pooled.explain("Model.compute") == single.explain("Model.compute")


def test_a_failed_store_write_is_healed_by_the_next_start(sample_repo: Path, monkeypatch):
    graph = CodeGraph(sample_repo, workers=0)
    graph.index()
    (sample_repo / "app.py").write_text("def after_crash():\n    pass\n")

    def die(*_args, **_kwargs):
        raise OSError("disk vanished mid-write")

    store = graph._open_store()
    monkeypatch.setattr(store, "apply", die)
    try:
        graph.update_files(["app.py"])
    except OSError:
        pass
    assert graph.resolve_symbol_files("after_crash") == ["app.py"]  # memory was patched first
    monkeypatch.undo()
    restarted = CodeGraph(sample_repo, workers=0)
    report = restarted.index()
    assert (report.parsed, report.unchanged) == (1, 7)
    assert restarted.resolve_symbol_files("after_crash") == ["app.py"]


def test_index_locked_by_another_process_is_reported_as_busy(sample_repo: Path):


    db = sample_repo / ".smallcode" / "graph.duckdb"
    GraphStore(db)
    hold = ("import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
            "print('held', flush=True); time.sleep(20)")
    holder = subprocess.Popen([sys.executable, "-c", hold, str(db)], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(GraphStoreBusy, match="in use by another process"):
            GraphStore(db, lock_timeout=0.3)
    finally:
        holder.kill()
        holder.wait()


def test_index_of_a_subtree_only_touches_that_subtree(sample_repo: Path):
    graph = CodeGraph(sample_repo, workers=0)
    first = graph.index()
    assert str(first) == first.summary().splitlines()[0]
    assert str(first).startswith("indexed 8 files (8 parsed")
    (sample_repo / "web" / "format.ts").unlink()
    (sample_repo / "srv" / "net.go").unlink()
    report = graph.index(["web"])
    assert (report.files_seen, report.removed) == (1, 1)
    assert graph.resolve_symbol_files("format") == []
    assert graph.resolve_symbol_files("listen") == ["srv/net.go"]  # outside the scope: kept
