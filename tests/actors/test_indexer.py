"""The indexer actor: answers graph queries, follows file saves, survives being killed."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from smallcode.actors.indexer import IndexerActor, IndexerClient, indexer_name, start_indexer
from smallcode.core.graph import GraphProtocol

from tests.graph.conftest import SAMPLE, write_tree

pytestmark = pytest.mark.ray


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_in_process_actor_class_and_client_satisfy_the_protocol(tmp_path: Path):
    write_tree(tmp_path, SAMPLE)
    actor = IndexerActor(str(tmp_path), watch=False, workers=0)
    stats = actor.ready(30)
    assert (stats["files"], stats["started"], stats["initial_error"]) == (8, True, "")
    assert isinstance(actor.graph, GraphProtocol)
    assert isinstance(IndexerClient(handle=None), GraphProtocol)
    assert indexer_name(tmp_path) == indexer_name(str(tmp_path) + "/")


def test_actor_queries_follow_saves_and_survive_a_kill(ray_session, tmp_path: Path):
    ray = ray_session
    write_tree(tmp_path, SAMPLE)
    handle = start_indexer(tmp_path, name=f"indexer-test-{uuid.uuid4().hex[:8]}", workers=0)
    client = IndexerClient(handle, timeout=60)
    try:
        stats = client.ready(60)
        assert stats["files"] == 8 and stats["watching"] and stats["initial_error"] == ""
        assert client.explain("Model.compute").startswith("method Model.compute")
        assert client.resolve_symbol_files("Model") == ["pkg/models.py"]
        first_pid = ray.get(handle.pid.remote())

        # A save is picked up by the actor's watcher.
        util = tmp_path / "pkg" / "util.py"
        util.write_text(util.read_text() + "\n\ndef saved_before_kill():\n    return 1\n")
        assert wait_for(lambda: client.resolve_symbol_files("saved_before_kill")
                        == ["pkg/util.py"])
        assert wait_for(lambda: ray.get(handle.watcher_updates.remote()) == 1)  # persisted

        # Kill it; Ray restarts it and the index comes back from DuckDB, intact.
        ray.kill(handle, no_restart=False)
        assert wait_for(lambda: _pid(ray, handle) not in (None, first_pid))
        stats = client.ready(60)
        assert stats["files"] == 8 and stats["initial_error"] == ""
        assert client.resolve_symbol_files("saved_before_kill") == ["pkg/util.py"]
        assert "callers (1): main (app.py:7)" in client.explain("Model.compute")
        assert stats["initial_report"].startswith("indexed 8 files (0 parsed, 8 unchanged")

        # And it keeps watching after the restart.
        (tmp_path / "after.go").write_text("package server\n\nfunc afterRestart() {}\n")
        assert wait_for(lambda: client.resolve_symbol_files("afterRestart") == ["after.go"])
    finally:
        ray.kill(handle, no_restart=True)


def _pid(ray, handle) -> int | None:
    try:
        return ray.get(handle.pid.remote(), timeout=5)
    except Exception:  # noqa: BLE001 - restarting: not reachable yet
        return None
