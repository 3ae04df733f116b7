"""The memory store actor: one Ray actor owns a project's ``memory.duckdb`` (DuckDB allows one
writing process per file) and serves every agent and user of that project.

:class:`MemoryStoreActor` wraps :class:`~smallcode.core.memory.store.MemoryStore` and its cache;
Ray restarts it when its process dies, and because every write is committed before the call
returns, a restart loses nothing. :class:`MemoryStoreClient` turns the handle back into a
``MemoryProtocol`` (and :class:`MemoryActorCache` into a ``Cache``) for code that should not care
whether memory is in-process or remote.
"""

from __future__ import annotations

import builtins
import os
from pathlib import Path
from typing import Any

from smallcode.core.memory.store import MEMORY_DB, MemoryEntry, MemoryStore

from .runtime import NAMESPACE, SERVE_PREFIX, get_or_create, project_actor_name

MEMORY_PREFIX = SERVE_PREFIX + "memory/"
DEFAULT_TIMEOUT_S = 60.0


class MemoryStoreActor:
    """Hosts one project's memory store. Methods mirror ``MemoryProtocol`` plus the cache."""

    def __init__(self, path: str):
        """``path``: the project folder (its ``.smallcode/memory.duckdb`` is used) or a DB file."""
        p = Path(path)
        self.db_path = str(p / MEMORY_DB if p.is_dir() else p)
        self._store = MemoryStore(self.db_path)

    def remember(self, type: str, title: str, content: str, tags: tuple[str, ...] | list[str] = (),
                 source: str = "user") -> tuple[int, bool]:
        return self._store.remember(type, title, content, tags, source)

    def search(self, query: str, limit: int = 10) -> list[MemoryEntry]:
        return self._store.search(query, limit)

    def list(self, type: str | None = None, limit: int = 50) -> list[MemoryEntry]:
        return self._store.list(type, limit)

    def get(self, id: int) -> MemoryEntry | None:
        return self._store.get(id)

    def forget(self, id: int) -> bool:
        return self._store.forget(id)

    def export(self) -> builtins.list[dict[str, Any]]:
        return self._store.export()

    def load_for_task(self, message: str, max_tokens: int = 600) -> str:
        return self._store.load_for_task(message, max_tokens)

    def count(self) -> int:
        return self._store.count()

    def cache_get(self, key: Any) -> Any:
        return self._store.cache.get(key)

    def cache_set(self, key: Any, value: Any, ttl: float | None = None) -> None:
        self._store.cache.set(key, value, ttl)

    def describe(self) -> dict[str, Any]:
        return {"db_path": self.db_path, "entries": self._store.count(), "pid": os.getpid()}

    def pid(self) -> int:
        return os.getpid()


def memory_store_name(workspace_root: str | os.PathLike[str]) -> str:
    """The actor name for a project: ``serve/memory/<hash of the resolved root>`` (the name
    ``smallcode serve --project`` starts it under)."""
    return project_actor_name("memory", workspace_root)


def memory_actor_options(max_restarts: int = -1) -> dict[str, Any]:
    """Restart forever on process death; retry calls that were in flight when it died."""
    return {"max_restarts": max_restarts, "max_task_retries": 3, "num_cpus": 0}


def start_memory_actor(db_path: str | os.PathLike[str], *, name: str | None = None,
                       namespace: str | None = None, max_restarts: int = -1) -> Any:
    """A (non-detached) memory actor for ``db_path``; Ray must already be connected."""
    import ray

    opts = memory_actor_options(max_restarts)
    if name is not None:
        opts.update(name=name, get_if_exists=True)
        if namespace is not None:
            opts["namespace"] = namespace
    return ray.remote(MemoryStoreActor).options(**opts).remote(str(Path(db_path).resolve()))


def memory_actor_for(workspace_root: str | os.PathLike[str], *,
                     namespace: str = NAMESPACE) -> Any:
    """The project's named, detached memory actor (created on first use), as ``smallcode serve``
    runs it. ``smallcode stop`` removes it with the other ``serve/`` actors."""
    root = Path(workspace_root).resolve()
    opts = memory_actor_options()
    max_restarts = opts.pop("max_restarts")
    return get_or_create(memory_store_name(root), MemoryStoreActor, str(root),
                         namespace=namespace, max_restarts=max_restarts, **opts)


class MemoryStoreClient:
    """A ``MemoryProtocol`` over a memory actor handle (blocking calls; each takes milliseconds)."""

    def __init__(self, handle: Any, timeout: float = DEFAULT_TIMEOUT_S):
        self.handle = handle
        self.timeout = timeout

    def _call(self, method: str, *args: Any) -> Any:
        import ray

        return ray.get(getattr(self.handle, method).remote(*args), timeout=self.timeout)

    def remember(self, type: str, title: str, content: str, tags: tuple[str, ...] | list[str] = (),
                 source: str = "user") -> tuple[int, bool]:
        entry_id, created = self._call("remember", type, title, content, tuple(tags), source)
        return int(entry_id), bool(created)

    def search(self, query: str, limit: int = 10) -> list[MemoryEntry]:
        return list(self._call("search", query, limit))

    def list(self, type: str | None = None, limit: int = 50) -> list[MemoryEntry]:
        return list(self._call("list", type, limit))

    def get(self, id: int) -> MemoryEntry | None:
        return self._call("get", id)

    def forget(self, id: int) -> bool:
        return bool(self._call("forget", id))

    def export(self) -> builtins.list[dict[str, Any]]:
        return list(self._call("export"))

    def load_for_task(self, message: str, max_tokens: int = 600) -> str:
        return str(self._call("load_for_task", message, max_tokens))

    def count(self) -> int:
        return int(self._call("count"))

    @property
    def cache(self) -> MemoryActorCache:
        return MemoryActorCache(self.handle, self.timeout)


class MemoryActorCache:
    """The ``Cache`` protocol over a memory actor (its cache table lives in the project's file)."""

    def __init__(self, handle: Any, timeout: float = DEFAULT_TIMEOUT_S):
        self.handle = handle
        self.timeout = timeout

    def get(self, key: Any) -> Any:
        import ray

        return ray.get(self.handle.cache_get.remote(key), timeout=self.timeout)

    def set(self, key: Any, value: Any, ttl: float | None = None) -> None:
        import ray

        ray.get(self.handle.cache_set.remote(key, value, ttl), timeout=self.timeout)


__all__ = ["MEMORY_PREFIX", "MemoryActorCache", "MemoryStoreActor", "MemoryStoreClient",
           "memory_actor_for", "memory_actor_options", "memory_store_name", "start_memory_actor"]
