"""GraphWatcher: file saves reach the graph through watchfiles, debounced, filtered."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from smallcode.core.graph import CodeGraph
from smallcode.core.graph.watch import GraphWatcher


def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@pytest.fixture()
def watched(sample_repo: Path) -> Iterator[tuple[CodeGraph, GraphWatcher]]:
    graph = CodeGraph(sample_repo, workers=0)
    graph.index()
    watcher = GraphWatcher(graph)
    watcher.start()
    time.sleep(0.2)  # let the OS watch register
    yield graph, watcher
    watcher.stop()


def test_saved_file_becomes_queryable(watched, sample_repo: Path):
    graph, _watcher = watched
    util = sample_repo / "pkg" / "util.py"
    util.write_text(util.read_text() + "\n\ndef fresh_symbol():\n    return helper(1)\n")
    assert wait_for(lambda: graph.resolve_symbol_files("fresh_symbol") == ["pkg/util.py"])
    assert "callers (3)" in graph.explain("pkg.util.helper")


def test_added_and_deleted_files_are_tracked(watched, sample_repo: Path):
    graph, _watcher = watched
    (sample_repo / "extra.rs").write_text("fn brand_new() {}\n")
    assert wait_for(lambda: graph.resolve_symbol_files("brand_new") == ["extra.rs"])
    (sample_repo / "srv" / "net.go").unlink()
    assert wait_for(lambda: graph.resolve_symbol_files("listen") == [])


def test_ignored_and_unknown_files_do_not_trigger_updates(watched, sample_repo: Path):
    graph, watcher = watched
    (sample_repo / "build" / "more.py").write_text("def hidden():\n    pass\n")
    (sample_repo / "notes.txt").write_text("hello\n")
    (sample_repo / "visible.py").write_text("def visible():\n    pass\n")
    assert wait_for(lambda: graph.resolve_symbol_files("visible") == ["visible.py"])
    assert graph.resolve_symbol_files("hidden") == []
    assert wait_for(lambda: watcher.updates == 1)
    time.sleep(0.3)
    assert watcher.updates == 1
    assert watcher.last_report is not None and watcher.last_report.parsed == 1


def test_moved_directory_is_reindexed_under_its_new_path(watched, sample_repo: Path):
    graph, _watcher = watched
    (sample_repo / "srv").rename(sample_repo / "server")
    assert wait_for(lambda: graph.resolve_symbol_files("listen") == ["server/net.go"])
    assert graph.resolve_symbol_files("Server") == ["server/server.go"]


def test_gitignore_change_reindexes_what_is_tracked(watched, sample_repo: Path):
    graph, _watcher = watched
    (sample_repo / ".gitignore").write_text("web/\n")
    assert wait_for(lambda: graph.resolve_symbol_files("ignored_by_gitignore")
                    == ["build/generated.py"])
    assert wait_for(lambda: graph.resolve_symbol_files("format") == [])
