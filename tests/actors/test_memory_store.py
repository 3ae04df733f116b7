"""The memory store actor: serves the protocol, owns the file, survives being killed."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from smallcode.actors.memory_store import (
    MemoryStoreActor,
    MemoryStoreClient,
    memory_store_name,
    start_memory_actor,
)
from smallcode.actors.runtime import project_actor_name
from smallcode.core.memory.store import MEMORY_DB, MemoryProtocol

pytestmark = pytest.mark.ray


def test_actor_class_runs_in_process_on_a_project_folder(tmp_path: Path):
    actor = MemoryStoreActor(str(tmp_path))
    assert actor.db_path == str(tmp_path / MEMORY_DB)
    assert actor.remember("decision", "db", "we use duckdb") == (1, True)
    assert [e.id for e in actor.search("duckdb")] == [1]
    assert isinstance(MemoryStoreClient(handle=None), MemoryProtocol)
    assert memory_store_name(tmp_path) == project_actor_name("memory", tmp_path)
    assert memory_store_name(tmp_path) == memory_store_name(str(tmp_path) + "/")


def test_killed_actor_restarts_and_loses_no_committed_entry(ray_session, tmp_path: Path):
    ray = ray_session
    handle = start_memory_actor(tmp_path / "memory.duckdb",
                                name=f"test-memory-{uuid.uuid4().hex[:8]}")
    client = MemoryStoreClient(handle, timeout=120)
    try:
        assert client.remember("gotcha", "flaky", "the e2e suite is flaky under load",
                               tags=["ci"]) == (1, True)
        assert client.remember("workflow", "release", "release with make release") == (2, True)
        assert client.forget(2) is True
        first_pid = ray.get(handle.pid.remote(), timeout=60)

        ray.kill(handle, no_restart=False)

        hits = client.search("flaky e2e")  # retried until the restarted actor answers
        assert [(h.id, h.type, h.tags) for h in hits] == [(1, "gotcha", ("ci",))]
        assert ray.get(handle.pid.remote(), timeout=60) != first_pid
        assert [e["id"] for e in client.export()] == [1]
        assert client.remember("gotcha", "x", "The E2E suite is flaky under load") == (1, False)
        assert "flaky" in client.load_for_task("why is the e2e suite flaky", max_tokens=200)
        client.cache.set({"q": 1}, {"a": 2}, ttl=60)
        assert client.cache.get({"q": 1}) == {"a": 2}
    finally:
        ray.kill(handle, no_restart=True)
