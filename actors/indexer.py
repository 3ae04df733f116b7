"""The indexer actor: hosts the CodeGraph of one project and keeps it fresh with watchfiles.

A threaded actor (``max_concurrency``), so queries are answered while a (re-)index runs; Ray
restarts it after a crash (``max_restarts``) and retries the calls that were in flight. The
index survives because every write is one DuckDB transaction: a restarted actor loads the last
committed state, re-parses only files whose content changed, and starts watching again.

``IndexerClient`` wraps a handle so it satisfies ``GraphProtocol`` like an in-process CodeGraph.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ray
from smallcode.core.graph import CodeGraph, IndexReport
from smallcode.core.graph.watch import GraphWatcher

DEFAULT_MAX_RESTARTS = 10


class IndexerActor:
    """Plain class wrapped with ``ray.remote`` below; usable in-process for tests, too."""

    def __init__(self, workspace_root: str, *, watch: bool = True, index_on_start: bool = True,
                 debounce_ms: int = 50, db_path: str | None = None, workers: int | None = None):
        self.graph = CodeGraph(workspace_root, db_path=db_path, workers=workers)
        self.graph.load()  # answer from the last committed index straight away
        self.watcher: GraphWatcher | None = None
        self._watch = watch
        self._debounce_ms = debounce_ms
        self.initial_report: IndexReport | None = None
        self.initial_error = ""
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._start, args=(index_on_start,),
                                        name="indexer-start", daemon=True)
        self._thread.start()

    def _start(self, index_on_start: bool) -> None:
        try:
            if self._watch:  # watch first, so edits made during the initial index are not lost
                self.watcher = GraphWatcher(self.graph, debounce_ms=self._debounce_ms)
                self.watcher.start()
            if index_on_start:
                self.initial_report = self.graph.index()
        except Exception as exc:  # noqa: BLE001 - reported through ready(), never fatal
            self.initial_error = f"{type(exc).__name__}: {exc}"
        finally:
            self._started.set()

    # -- lifecycle ----------------------------------------------------------------------------

    def ready(self, timeout: float | None = None) -> dict[str, Any]:
        """Wait for the start-up index (and watcher) and return the graph's stats."""
        self._started.wait(timeout)
        stats = self.graph.stats()
        stats["started"] = self._started.is_set()
        stats["watching"] = bool(self.watcher and self.watcher.running)
        stats["initial_report"] = self.initial_report.summary() if self.initial_report else ""
        stats["initial_error"] = self.initial_error
        return stats

    def stop_watching(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()

    def watcher_updates(self) -> int:
        return self.watcher.updates if self.watcher is not None else 0

    def pid(self) -> int:
        import os

        return os.getpid()

    # -- GraphProtocol ------------------------------------------------------------------------

    def index(self, paths: Sequence[str] | None = None) -> IndexReport:
        return self.graph.index(paths)

    def update_files(self, changed: Sequence[str], deleted: Sequence[str] = ()) -> IndexReport:
        return self.graph.update_files(changed, deleted)

    def search(self, query: str, max_tokens: int = 2000) -> str:
        return self.graph.search(query, max_tokens)

    def explain(self, name: str, max_tokens: int = 1500) -> str:
        return self.graph.explain(name, max_tokens)

    def references(self, name: str, max_tokens: int = 2000) -> str:
        return self.graph.references(name, max_tokens)

    def repo_map(self, max_tokens: int, focus_files: Sequence[str] = (),
                 focus_names: Sequence[str] = ()) -> str:
        return self.graph.repo_map(max_tokens, focus_files, focus_names)

    def resolve_symbol_files(self, name: str) -> list[str]:
        return self.graph.resolve_symbol_files(name)

    def relevant_files(self, text: str, limit: int = 5) -> list[str]:
        return self.graph.relevant_files(text, limit)

    def stats(self) -> dict[str, Any]:
        return self.graph.stats()


RemoteIndexer = ray.remote(IndexerActor)


def indexer_name(workspace_root: str | Path) -> str:
    """The actor name for a project: stable per resolved workspace path."""
    root = str(Path(workspace_root).resolve())
    return "smallcode-indexer-" + hashlib.sha1(root.encode()).hexdigest()[:12]


def start_indexer(workspace_root: str | Path, *, name: str | None = None,
                  max_restarts: int = DEFAULT_MAX_RESTARTS, max_concurrency: int = 8,
                  num_cpus: float = 0, get_if_exists: bool = True,
                  **options: Any) -> Any:
    """Start (or find) the named indexer actor for a project and return its handle.

    ``options`` go to :class:`IndexerActor` (watch, index_on_start, debounce_ms, db_path,
    workers). The actor reserves no CPU by default; its parse workers are short-lived.
    """
    root = str(Path(workspace_root).resolve())
    return RemoteIndexer.options(
        name=name or indexer_name(root),
        get_if_exists=get_if_exists,
        max_restarts=max_restarts,
        max_task_retries=3,
        max_concurrency=max_concurrency,
        num_cpus=num_cpus,
    ).remote(root, **options)


class IndexerClient:
    """GraphProtocol over an indexer actor handle (blocking calls with a timeout)."""

    def __init__(self, handle: Any, timeout: float = 120.0):
        self.handle = handle
        self.timeout = timeout

    def _call(self, method: str, *args: Any) -> Any:
        return ray.get(getattr(self.handle, method).remote(*args), timeout=self.timeout)

    def ready(self, timeout: float | None = None) -> dict[str, Any]:
        return ray.get(self.handle.ready.remote(timeout), timeout=self.timeout)

    def index(self, paths: Sequence[str] | None = None) -> IndexReport:
        return self._call("index", list(paths) if paths is not None else None)

    def update_files(self, changed: Sequence[str], deleted: Sequence[str] = ()) -> IndexReport:
        return self._call("update_files", list(changed), list(deleted))

    def search(self, query: str, max_tokens: int = 2000) -> str:
        return self._call("search", query, max_tokens)

    def explain(self, name: str, max_tokens: int = 1500) -> str:
        return self._call("explain", name, max_tokens)

    def references(self, name: str, max_tokens: int = 2000) -> str:
        return self._call("references", name, max_tokens)

    def repo_map(self, max_tokens: int, focus_files: Sequence[str] = (),
                 focus_names: Sequence[str] = ()) -> str:
        return self._call("repo_map", max_tokens, list(focus_files), list(focus_names))

    def resolve_symbol_files(self, name: str) -> list[str]:
        return self._call("resolve_symbol_files", name)

    def relevant_files(self, text: str, limit: int = 5) -> list[str]:
        return self._call("relevant_files", text, limit)

    def stats(self) -> dict[str, Any]:
        return self._call("stats")


__all__ = ["IndexerActor", "IndexerClient", "RemoteIndexer", "indexer_name", "start_indexer"]
