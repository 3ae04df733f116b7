"""The memory tools through the real registry, against a real store."""

from __future__ import annotations

import pytest
from smallcode.core.memory.store import MemoryStore
from smallcode.core.router import table_categories
from smallcode.core.tools import ToolContext, build_registry

NAMES = ("memory_remember", "memory_search", "memory_list", "memory_forget")


@pytest.fixture()
def setup(tmp_path, workspace):
    store = MemoryStore(tmp_path / ".smallcode" / "memory.duckdb")
    yield build_registry(), ToolContext(workspace, memory=store), store
    store.close()


def test_memory_tools_are_registered_with_the_router_table_categories():
    registry = build_registry()
    for name in NAMES:
        tool = registry.get(name)
        assert tool is not None, name
        assert tool.categories == table_categories(name) != frozenset()
        assert not tool.mutates


async def test_remember_search_list_forget_roundtrip(setup):
    registry, ctx, store = setup
    r = await registry.execute("memory_remember", {"content": "CI needs docker for the db tests",
                                                   "type": "gotcha", "tags": ["ci"]}, ctx)
    assert (r.ok, r.output, r.data) == (True, "remembered as gotcha #1", {"id": 1, "created": True})
    dup = await registry.execute("memory_remember", {"content": "CI needs docker for the db tests"},
                                 ctx)
    assert dup.ok and dup.output == "already remembered as #1 (same content); nothing added"
    assert store.get(1).source == "agent"

    s = await registry.execute("memory_search", {"query": "docker"}, ctx)
    assert s.ok and s.output == "- (gotcha #1) [ci] CI needs docker for the db tests"
    none = await registry.execute("memory_search", {"query": "kubernetes"}, ctx)
    assert none.ok and none.output == "no memory entries match 'kubernetes'"

    lst = await registry.execute("memory_list", {"type": "gotcha"}, ctx)
    assert lst.data == {"ids": [1]}
    empty = await registry.execute("memory_list", {"type": "decision"}, ctx)
    assert empty.output == "project memory has no decision entries"

    f = await registry.execute("memory_forget", {"id": 1}, ctx)
    assert f.ok and f.output == "forgot memory entry #1"
    again = await registry.execute("memory_forget", {"id": 1}, ctx)
    assert not again.ok and "no memory entry #1" in again.output


async def test_bad_type_and_missing_memory_are_reported_to_the_model(setup, workspace):
    registry, ctx, store = setup
    r = await registry.execute("memory_remember", {"content": "x y z", "type": "note"}, ctx)
    assert not r.ok and "type must be one of decision, workflow, gotcha" in r.output
    assert store.count() == 0
    bare = ToolContext(workspace)
    r = await registry.execute("memory_search", {"query": "x"}, bare)
    assert not r.ok and r.output == "project memory is not available in this session"
