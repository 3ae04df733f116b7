"""Caches keyed by canonical JSON: an in-process one and one persisted in DuckDB, both with TTLs.

A key is any JSON-able object (dicts, lists, strings, numbers, pydantic models, dataclasses); it is
serialised with sorted keys and no spaces and hashed with sha256, so equal inputs hit the same entry
whatever their dict order. Values must be JSON-able. ``ttl`` is in seconds (None = no expiry).
Used by ``MemoryStore.cache`` (``core/memory/store.py``: a ``DuckDBCache`` in the project's memory
file), which the memory actor serves (``actors/memory_store.py``). Both caches satisfy the
micro-task ``Cache`` protocol (``core/features/microtask.py``). The gateway has its own response
cache (``gateway/cache.py``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import duckdb
from pydantic import BaseModel
from smallcode.core.memory.database import Migration, apply_migrations, connect

Clock = Callable[[], float]


@runtime_checkable
class Cache(Protocol):
    def get(self, key: Any) -> Any:
        """The value stored under ``key``, or None when absent or expired."""

    def set(self, key: Any, value: Any, ttl: float | None = None) -> None:
        """Store ``value`` under ``key`` for ``ttl`` seconds (None = until evicted)."""


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if isinstance(obj, set | frozenset):
        return sorted(obj, key=lambda v: canonical_json(v))
    if isinstance(obj, bytes):
        return {"__bytes__": obj.hex()}
    raise TypeError(f"cache keys must be JSON-able; got {type(obj).__name__}")


def canonical_json(obj: Any) -> str:
    """Deterministic JSON: sorted keys, no whitespace, UTF-8 kept as is."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False, default=_jsonable)


def cache_key(obj: Any) -> str:
    """The sha256 hex digest of ``obj``'s canonical JSON."""
    return hashlib.sha256(canonical_json(obj).encode("utf-8")).hexdigest()


def _check_ttl(ttl: float | None) -> float | None:
    if ttl is not None and (not isinstance(ttl, int | float) or ttl <= 0):
        raise ValueError(f"ttl must be a positive number of seconds or None, got {ttl!r}")
    return ttl


class MemoryCache:
    """A bounded in-process cache (least recently used entries go first)."""

    def __init__(self, max_entries: int = 10_000, clock: Clock = time.time):
        if max_entries <= 0:
            raise ValueError("max_entries must be positive")
        self.max_entries = max_entries
        self._clock = clock
        self._data: OrderedDict[str, tuple[float | None, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        k = cache_key(key)
        with self._lock:
            item = self._data.get(k)
            if item is None:
                return None
            expires, value = item
            if expires is not None and expires <= self._clock():
                del self._data[k]
                return None
            self._data.move_to_end(k)
        return json.loads(value)

    def set(self, key: Any, value: Any, ttl: float | None = None) -> None:
        k = cache_key(key)
        expires = None if _check_ttl(ttl) is None else self._clock() + float(ttl)  # type: ignore[arg-type]
        stored = json.dumps(value, ensure_ascii=False)  # a copy, and proof the value is JSON-able
        with self._lock:
            self._data[k] = (expires, stored)
            self._data.move_to_end(k)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def delete(self, key: Any) -> bool:
        with self._lock:
            return self._data.pop(cache_key(key), None) is not None

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def purge_expired(self) -> int:
        now = self._clock()
        with self._lock:
            dead = [k for k, (exp, _) in self._data.items() if exp is not None and exp <= now]
            for k in dead:
                del self._data[k]
        return len(dead)

    def __len__(self) -> int:
        return len(self._data)


CACHE_MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "cache entries", (
        """CREATE TABLE IF NOT EXISTS cache_entries (
               key VARCHAR PRIMARY KEY,
               value VARCHAR NOT NULL,
               created DOUBLE NOT NULL,
               expires DOUBLE
           )""",
    )),
)


class DuckDBCache:
    """A cache persisted in a DuckDB file (or on a connection someone else owns, e.g. the memory
    store's). Expired rows are never returned and are purged on a timer during writes."""

    def __init__(self, db_path: str | os.PathLike[str] | None = None, *,
                 connection: duckdb.DuckDBPyConnection | None = None,
                 lock: threading.RLock | None = None, clock: Clock = time.time,
                 purge_interval_s: float = 300.0):
        if (db_path is None) == (connection is None):
            raise ValueError("give exactly one of db_path or connection")
        self._owns = connection is None
        self._con = connect(db_path) if connection is None else connection  # type: ignore[arg-type]
        self._lock = lock or threading.RLock()
        self._clock = clock
        self._purge_interval = purge_interval_s
        with self._lock:
            apply_migrations(self._con, "cache", CACHE_MIGRATIONS)
        self._last_purge = self._clock()

    def get(self, key: Any) -> Any:
        k = cache_key(key)
        with self._lock:
            row = self._con.execute("SELECT value, expires FROM cache_entries WHERE key = ?",
                                    [k]).fetchone()
            if row is None:
                return None
            value, expires = row
            if expires is not None and expires <= self._clock():
                self._con.execute("DELETE FROM cache_entries WHERE key = ?", [k])
                return None
        return json.loads(value)

    def set(self, key: Any, value: Any, ttl: float | None = None) -> None:
        k = cache_key(key)
        now = self._clock()
        expires = None if _check_ttl(ttl) is None else now + float(ttl)  # type: ignore[arg-type]
        stored = json.dumps(value, ensure_ascii=False)
        with self._lock:
            self._con.execute(
                "INSERT INTO cache_entries VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE "
                "SET value = excluded.value, created = excluded.created, "
                "expires = excluded.expires", [k, stored, now, expires])
            if now - self._last_purge >= self._purge_interval:
                self.purge_expired()

    def delete(self, key: Any) -> bool:
        with self._lock:
            row = self._con.execute("DELETE FROM cache_entries WHERE key = ? RETURNING key",
                                    [cache_key(key)]).fetchone()
        return row is not None

    def purge_expired(self) -> int:
        """Delete every expired row now. Returns how many."""
        with self._lock:
            now = self._clock()
            rows = self._con.execute("DELETE FROM cache_entries WHERE expires IS NOT NULL AND "
                                     "expires <= ? RETURNING key", [now]).fetchall()
            self._last_purge = now
        return len(rows)

    def clear(self) -> None:
        with self._lock:
            self._con.execute("DELETE FROM cache_entries")

    def __len__(self) -> int:
        with self._lock:
            row = self._con.execute("SELECT count(*) FROM cache_entries").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        if self._owns:
            with self._lock:
                self._con.close()


__all__ = ["CACHE_MIGRATIONS", "Cache", "DuckDBCache", "MemoryCache", "cache_key",
           "canonical_json"]
