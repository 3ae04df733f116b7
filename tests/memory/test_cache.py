"""Caches: canonical-JSON keys, TTL, persistence in DuckDB, purge of expired rows."""

from __future__ import annotations

import pytest
from smallcode.core.cache import Cache, DuckDBCache, MemoryCache, cache_key, canonical_json


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_canonical_json_sorts_keys_and_has_no_spaces():
    assert canonical_json({"b": [1, {"d": 2, "c": 3}], "a": "é"}) == '{"a":"é","b":[1,{"c":3,"d":2}]}'
    assert cache_key({"x": 1, "y": 2}) == cache_key({"y": 2, "x": 1})
    assert cache_key({"x": 1}) != cache_key({"x": "1"})
    assert len(cache_key("k")) == 64


def test_unserialisable_keys_are_refused():
    with pytest.raises(TypeError, match="JSON-able"):
        cache_key({"f": object()})


@pytest.fixture(params=["memory", "duckdb"])
def cache_and_clock(request, tmp_path):
    clock = Clock()
    if request.param == "memory":
        yield MemoryCache(clock=clock), clock
    else:
        c = DuckDBCache(tmp_path / "cache.duckdb", clock=clock)
        yield c, clock
        c.close()


def test_get_set_and_ttl_expiry(cache_and_clock):
    cache, clock = cache_and_clock
    assert isinstance(cache, Cache)
    assert cache.get({"task": "summarize", "input": "x"}) is None
    cache.set({"task": "summarize", "input": "x"}, {"summary": "short"}, ttl=60)
    cache.set({"forever": True}, [1, 2, 3])
    assert cache.get({"input": "x", "task": "summarize"}) == {"summary": "short"}
    clock.t += 59
    assert cache.get({"input": "x", "task": "summarize"}) == {"summary": "short"}
    clock.t += 1
    assert cache.get({"input": "x", "task": "summarize"}) is None
    assert cache.get({"forever": True}) == [1, 2, 3]
    cache.set({"forever": True}, "replaced", ttl=5)
    assert cache.get({"forever": True}) == "replaced"


def test_bad_ttl_is_refused(cache_and_clock):
    cache, _ = cache_and_clock
    with pytest.raises(ValueError, match="ttl"):
        cache.set("k", 1, ttl=0)
    assert cache.get("k") is None


def test_duckdb_cache_persists_and_purges_expired_rows(tmp_path):
    clock = Clock()
    path = tmp_path / "c.duckdb"
    c = DuckDBCache(path, clock=clock, purge_interval_s=100)
    c.set("short", 1, ttl=10)
    c.set("long", 2, ttl=1000)
    c.close()
    c = DuckDBCache(path, clock=clock, purge_interval_s=100)
    assert c.get("long") == 2
    assert len(c) == 2
    clock.t += 150  # past "short"'s expiry and the purge interval: the next write purges
    c.set("new", 3)
    assert len(c) == 2
    assert c.get("short") is None
    assert c.delete("new") is True and c.delete("new") is False
    c.close()


def test_memory_cache_evicts_least_recently_used():
    c = MemoryCache(max_entries=2)
    c.set("a", 1)
    c.set("b", 2)
    assert c.get("a") == 1  # a is now the most recent
    c.set("c", 3)
    assert c.get("b") is None
    assert (c.get("a"), c.get("c")) == (1, 3)


def test_cached_values_are_copies():
    c = MemoryCache()
    value = {"list": [1]}
    c.set("k", value)
    value["list"].append(2)
    assert c.get("k") == {"list": [1]}
