"""Keep a CodeGraph fresh: watch the workspace with watchfiles and re-index what changed.

Changes are debounced (default 50 ms), filtered to files the graph holds (known language, not
ignored, not under ``.smallcode/``), and applied with ``CodeGraph.update_files``. A failed update
(for example the index locked by another process) is kept and retried with the next batch.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from watchfiles import Change, watch

from .codegraph import CodeGraph
from .languages import language_for_path
from .model import IndexReport

log = logging.getLogger(__name__)


class GraphWatcher:
    """Runs a watchfiles loop in a daemon thread and feeds changes to ``graph.update_files``."""

    def __init__(self, graph: CodeGraph, *, debounce_ms: int = 50, step_ms: int = 10,
                 on_update: Callable[[IndexReport], None] | None = None):
        self.graph = graph
        self.debounce_ms = debounce_ms
        self.step_ms = step_ms
        self.on_update = on_update
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self.updates = 0
        self.last_report: IndexReport | None = None
        self.last_error: str = ""
        self._retry_changed: set[str] = set()
        self._retry_deleted: set[str] = set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, wait: float = 5.0) -> None:
        if self.running:
            return
        self._stop.clear()
        self._ready.clear()
        self._thread = threading.Thread(target=self._run, name="graph-watcher", daemon=True)
        self._thread.start()
        self._ready.wait(wait)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread = None

    def _keep(self, change: Change, path: str) -> bool:
        try:
            rel = Path(path).resolve().relative_to(self.graph.root).as_posix() \
                if change != Change.deleted else \
                Path(path).relative_to(self.graph.root).as_posix()
        except ValueError:
            return False
        if rel.startswith((".smallcode/", ".git/")):
            return False
        if rel == ".gitignore":
            return True
        if self.graph.tracked_language(rel) is not None:
            return True
        # A directory moved in or out: its files arrive as one event for the directory.
        if change == Change.deleted:
            return language_for_path(rel) is None and not self.graph.workspace.is_ignored(rel)
        return Path(path).is_dir() and not self.graph.workspace.is_ignored(rel, is_dir=True)

    def _run(self) -> None:
        root = str(self.graph.root)
        self._ready.set()
        while not self._stop.is_set():
            try:
                for changes in watch(root, watch_filter=self._keep, debounce=self.debounce_ms,
                                     step=self.step_ms, stop_event=self._stop,
                                     rust_timeout=500, yield_on_timeout=True,
                                     raise_interrupt=False):
                    if changes or self._retry_changed or self._retry_deleted:
                        self._apply(changes)
            except Exception as exc:  # noqa: BLE001 - the watcher must survive odd filesystems
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("graph watcher error: %s; restarting in 1s", self.last_error)
                self._stop.wait(1.0)

    def _apply(self, changes: set[tuple[Change, str]]) -> None:
        changed = set(self._retry_changed)
        deleted = set(self._retry_deleted)
        for change, path in changes:
            if change == Change.deleted and not Path(path).exists():
                deleted.add(path)
                changed.discard(path)
            else:
                changed.add(path)
                deleted.discard(path)
        if not changed and not deleted:
            return
        try:
            t0 = time.perf_counter()
            if any(Path(p).name == ".gitignore" and Path(p).parent == self.graph.root
                   for p in changed | deleted):
                self.graph.reload_ignores()
                report = self.graph.index()  # what is tracked changed: walk everything
            else:
                report = self.graph.update_files(sorted(changed), sorted(deleted))
            log.debug("graph updated in %.3fs: %s", time.perf_counter() - t0, report.summary())
        except Exception as exc:  # noqa: BLE001 - keep the paths and retry with the next batch
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.warning("graph update failed (%s); will retry", self.last_error)
            self._retry_changed, self._retry_deleted = changed, deleted
            return
        self._retry_changed, self._retry_deleted = set(), set()
        self.updates += 1
        self.last_report = report
        if self.on_update is not None:
            self.on_update(report)
