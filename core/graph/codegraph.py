"""CodeGraph: the code graph of one workspace — index, keep fresh, answer queries.

Indexing walks the workspace (``.gitignore`` respected), re-parses only files whose content hash
changed (a cheap size+mtime check first), parses in a small process pool when there is a lot to
do, and writes each batch to DuckDB in one transaction before patching the in-memory graph.
Queries read the in-memory graph under a lock that writers hold only while patching, so queries
keep being answered while a long index runs.
"""

from __future__ import annotations

import gc
import logging
import os
import re
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pathspec

from ..tools.workspace import Workspace, WorkspaceError
from .extract import DEFAULT_MAX_FILE_BYTES, content_hash, extract_batch, extract_file
from .languages import language_for_path
from .model import STATUS_ERROR, STATUS_PARTIAL, STATUS_SKIPPED, FileFacts, IndexReport
from .parse_pool import ParsePool
from .ranking import RankEdges, build_edges, personalised_pagerank
from .render import (
    SourceReader,
    query_terms,
    render_explain,
    render_references,
    render_repo_map,
    render_search,
)
from .store import GraphStore, GraphStoreBusy
from .symbol_graph import SymbolGraph

log = logging.getLogger(__name__)

DB_RELATIVE_PATH = ".smallcode/graph.duckdb"
_DATA_KINDS = frozenset({"variable", "constant"})  # ranked lower in the repository map
_PATH_MENTION = re.compile(r"[\w./-]*\w\.[A-Za-z]{1,5}\b")


class CodeGraph:
    """The code graph of one workspace. Thread-safe; cheap to construct (loads lazily)."""

    def __init__(self, workspace_root: str | os.PathLike[str], *,
                 db_path: str | os.PathLike[str] | None = None,
                 workers: int | None = None,
                 max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
                 extra_ignores: Sequence[str] = (),
                 pool_threshold: int = 64,
                 batch_files: int = 400):
        self.workspace = Workspace(workspace_root)
        self.root = self.workspace.root
        self.db_path = Path(db_path) if db_path is not None else self.root / DB_RELATIVE_PATH
        self.workers = min(2, os.cpu_count() or 1) if workers is None else max(0, workers)
        self.max_file_bytes = max_file_bytes
        self.pool_threshold = pool_threshold
        self.batch_files = batch_files
        self._extra_ignores = pathspec.PathSpec.from_lines("gitignore", list(extra_ignores))
        self._store: GraphStore | None = None
        self._graph: SymbolGraph | None = None
        self._lock = threading.RLock()  # guards the in-memory graph
        self._write_lock = threading.Lock()  # one index/update at a time
        self._reader = SourceReader(self.root)
        self._rank_edges: RankEdges | None = None
        self.indexing = False
        self.recovered_from: Path | None = None  # where an unreadable index file was moved

    # -- loading ------------------------------------------------------------------------------

    def _open_store(self) -> GraphStore:
        if self._store is None:
            try:
                self._store = GraphStore(self.db_path)
            except GraphStoreBusy:
                raise
            except duckdb.Error as exc:
                # Not a usable DuckDB file (truncated, foreign, corrupt): keep it aside, rebuild.
                aside = self.db_path.with_name(f"{self.db_path.name}.corrupt-{int(time.time())}")
                log.warning("code index %s unreadable (%s); moved to %s and rebuilding",
                            self.db_path, exc, aside)
                os.replace(self.db_path, aside)
                wal = self.db_path.with_name(self.db_path.name + ".wal")
                if wal.exists():
                    os.replace(wal, aside.with_name(aside.name + ".wal"))
                self.recovered_from = aside
                self._store = GraphStore(self.db_path)
        return self._store

    def _loaded(self) -> SymbolGraph:
        graph = self._graph
        if graph is not None:
            return graph
        with self._lock:
            if self._graph is None:
                self._graph = SymbolGraph.from_store(self._open_store().load())
            return self._graph

    def load(self) -> None:
        """Load the stored index into memory now (otherwise done on first use)."""
        self._loaded()

    # -- indexing -----------------------------------------------------------------------------

    def _rel(self, path: str | os.PathLike[str]) -> str:
        raw = os.fspath(path)
        p = Path(raw) if os.path.isabs(raw) else self.root / raw
        try:
            return p.resolve().relative_to(self.root).as_posix()
        except ValueError:
            # a deleted file cannot be resolved through symlinks; fall back to the lexical path
            return Path(os.path.normpath(p)).relative_to(self.root).as_posix()

    def reload_ignores(self) -> None:
        """Re-read ``.gitignore`` (after it changed)."""
        self.workspace = Workspace(self.root)

    def tracked_language(self, rel: str) -> str | None:
        """The language of a workspace file the graph should hold, or None."""
        if rel.startswith("../") or rel in ("", "."):
            return None
        lang = language_for_path(rel)
        if lang is None:
            return None
        if self.workspace.is_ignored(rel) or self._extra_ignores.match_file(rel):
            return None
        parts = rel.split("/")
        for i in range(1, len(parts)):
            if self.workspace.is_ignored("/".join(parts[:i]), is_dir=True):
                return None
        return lang

    def index(self, paths: Sequence[str] | None = None) -> IndexReport:
        """Bring the index up to date with the workspace (or with ``paths`` under it)."""
        t0 = time.perf_counter()
        with self._write_lock:
            self.indexing = True
            try:
                return self._index(paths, t0)
            finally:
                self.indexing = False

    def _index(self, paths: Sequence[str] | None, t0: float) -> IndexReport:
        graph = self._loaded()
        report = IndexReport()
        scopes = [self._rel(p) for p in paths] if paths else None
        current: dict[str, tuple[str, str, int, int]] = {}  # rel -> (abs, lang, size, mtime)
        unders: list[str | None] = list(scopes) if scopes else [None]
        for under in unders:
            try:
                files = self.workspace.iter_files(under)
                for fp in files:
                    rel = fp.relative_to(self.root).as_posix()
                    if language_for_path(rel) is None or self._extra_ignores.match_file(rel):
                        continue
                    try:
                        st = fp.stat()
                    except OSError:
                        continue
                    current[rel] = (str(fp), language_for_path(rel) or "", st.st_size,
                                    st.st_mtime_ns)
            except (WorkspaceError, FileNotFoundError):
                continue
        with self._lock:
            known = {p: (e.hash, e.size, e.mtime_ns) for p, e in graph.files.items()
                     if scopes is None or any(_under(p, s) for s in scopes)}
        jobs: list[tuple[str, str, str, int]] = []
        touched: list[tuple[str, int]] = []
        for rel in sorted(current):
            abs_path, lang, size, mtime = current[rel]
            old = known.get(rel)
            if old is not None and old[1] == size and old[2] == mtime:
                report.unchanged += 1
                continue
            if old is not None and old[1] == size:
                try:
                    same = content_hash(Path(abs_path).read_bytes()) == old[0]
                except OSError:
                    same = False
                if same:
                    touched.append((rel, mtime))
                    report.unchanged += 1
                    continue
            jobs.append((abs_path, rel, lang, self.max_file_bytes))
        deleted = sorted(p for p in known if p not in current)
        report.files_seen = len(current)
        with self._open_store().session():
            for batch in self._parse(jobs):
                self._apply(batch, (), (), report)
            self._apply([], deleted, touched, report)
        if report.parsed >= self.pool_threshold:
            # Keep the many long-lived graph objects out of every future GC pass.
            gc.freeze()
        return self._finish(report, t0)

    def update_files(self, changed: Sequence[str], deleted: Sequence[str] = ()) -> IndexReport:
        """Re-index the given files (absolute or workspace-relative); drop deleted ones."""
        t0 = time.perf_counter()
        with self._write_lock:
            self.indexing = True
            try:
                return self._update(changed, deleted, t0)
            finally:
                self.indexing = False

    def _update(self, changed: Sequence[str], deleted: Sequence[str], t0: float) -> IndexReport:
        graph = self._loaded()
        report = IndexReport()
        gone: set[str] = set()
        jobs: list[tuple[str, str, str, int]] = []
        touched: list[tuple[str, int]] = []
        for raw in deleted:
            try:
                gone.add(self._rel(raw))
            except ValueError:
                continue
        expanded: list[str] = []
        for raw in changed:  # a directory (moved or copied in) stands for the files under it
            p = Path(raw) if os.path.isabs(raw) else self.root / raw
            if p.is_dir():
                try:
                    under = self._rel(p)
                    expanded.extend(f.relative_to(self.root).as_posix()
                                    for f in self.workspace.iter_files(under))
                    gone.add(under)
                except (ValueError, WorkspaceError):
                    continue
            else:
                expanded.append(raw)
        with self._lock:  # a deleted directory takes every file under it along
            for prefix in [g for g in gone if g not in graph.files]:
                gone.update(p for p in graph.files if _under(p, prefix) and prefix not in ("", "."))
        for raw in expanded:
            try:
                rel = self._rel(raw)
            except ValueError:
                continue
            abs_path = self.root / rel
            lang = self.tracked_language(rel)
            if lang is None or not abs_path.is_file():
                gone.add(rel)
                continue
            gone.discard(rel)
            report.files_seen += 1
            with self._lock:
                entry = graph.files.get(rel)
                old = (entry.hash, entry.size) if entry is not None else None
            try:
                st = abs_path.stat()
                if old is not None and old[1] == st.st_size and \
                        content_hash(abs_path.read_bytes()) == old[0]:
                    touched.append((rel, st.st_mtime_ns))
                    report.unchanged += 1
                    continue
            except OSError:
                gone.add(rel)
                continue
            jobs.append((str(abs_path), rel, lang, self.max_file_bytes))
        with self._lock:
            really_gone = sorted(p for p in gone if p in graph.files)
        for batch in self._parse(sorted(set(jobs))):
            self._apply(batch, (), (), report)
        self._apply([], really_gone, touched, report)
        return self._finish(report, t0)

    def _finish(self, report: IndexReport, t0: float) -> IndexReport:
        with self._lock:
            graph = self._loaded()
            report.files = len(graph.files)
            report.symbols = len(graph.symbols)
            report.references = graph.ref_count
        report.seconds = time.perf_counter() - t0
        return report

    def _parse(self, jobs: list[tuple[str, str, str, int]]) -> Iterator[list[FileFacts]]:
        if not jobs:
            return
        if self.workers > 1 and len(jobs) >= self.pool_threshold:
            yield from self._parse_pool(jobs)
            return
        for i in range(0, len(jobs), self.batch_files):
            yield extract_batch(jobs[i:i + self.batch_files])

    def _parse_pool(self, jobs: list[tuple[str, str, str, int]]) -> Iterator[list[FileFacts]]:
        # Big files first so the workers finish together; small batches to balance.
        ordered = sorted(jobs, key=lambda j: -_size(j[0]))
        batches = [ordered[i:i + 24] for i in range(0, len(ordered), 24)]
        done: set[str] = set()
        pending: list[FileFacts] = []
        for results in ParsePool(self.workers).run(batches):
            for facts in results:
                done.add(facts.path)
                pending.append(facts)
            if len(pending) >= self.batch_files:
                yield pending
                pending = []
        if pending:
            yield pending
        rest = [j for j in jobs if j[1] not in done]
        if rest:
            log.warning("parse workers left %d files; parsing them in-process", len(rest))
        for i in range(0, len(rest), self.batch_files):
            yield extract_batch(rest[i:i + self.batch_files])

    def _apply(self, facts: list[FileFacts], deleted: Sequence[str],
               touched: Sequence[tuple[str, int]], report: IndexReport) -> None:
        """Patch the in-memory graph (queries see the change at once), then persist it in one
        transaction. If the process dies in between, the stored hash is still the old one, so
        the next start re-parses exactly those files: the store can lag, never lie."""
        if not facts and not deleted and not touched:
            return
        with self._lock, _gc_paused(len(facts) > 50):
            graph = self._loaded()
            for path in deleted:
                graph.remove_file(path)
            for f in facts:
                graph.add_file(f)
            for path, mtime in touched:
                graph.touch_file(path, mtime)
        self._open_store().apply(facts, deleted, touched)
        report.removed += len(deleted)
        for f in facts:
            if f.status == STATUS_SKIPPED:
                report.skipped.append((f.path, f.message))
            else:
                report.parsed += 1
                if f.status in (STATUS_PARTIAL, STATUS_ERROR):
                    report.errors.append((f.path, f.message))

    # -- queries ------------------------------------------------------------------------------

    def search(self, query: str, max_tokens: int = 2000) -> str:
        graph = self._loaded()
        with self._lock:
            return render_search(graph, self._reader, query, max_tokens)

    def explain(self, name: str, max_tokens: int = 1500) -> str:
        graph = self._loaded()
        with self._lock:
            return render_explain(graph, name, max_tokens)

    def references(self, name: str, max_tokens: int = 2000) -> str:
        graph = self._loaded()
        with self._lock:
            return render_references(graph, self._reader, name, max_tokens)

    def repo_map(self, max_tokens: int, focus_files: Sequence[str] = (),
                 focus_names: Sequence[str] = ()) -> str:
        graph = self._loaded()
        with self._lock:
            edges = self._rank_edges
            if edges is None or edges.version != graph.version:
                edges = self._rank_edges = build_edges(graph)
            personal: dict[int, float] = {}
            for raw in focus_files:
                try:
                    rel = self._rel(raw)
                except ValueError:
                    continue
                node = edges.file_index.get(rel)
                entry = graph.files.get(rel)
                if node is None or entry is None:
                    continue
                personal[node] = personal.get(node, 0.0) + 1.0
                for sid in range(entry.base, entry.base + entry.count):
                    idx = edges.index_of.get(sid)
                    if idx is not None:
                        personal[idx] = personal.get(idx, 0.0) + 1.0 / max(1, entry.count)
            for name in focus_names:
                ids = graph.lookup(name)
                for sid in ids:
                    idx = edges.index_of.get(sid)
                    if idx is not None:
                        personal[idx] = personal.get(idx, 0.0) + 2.0 / len(ids)
            ranks = personalised_pagerank(edges, personal or None)
            symbols = graph.symbols
            rank = {sid: float(ranks[idx]) * (0.3 if symbols[sid].kind in _DATA_KINDS else 1.0)
                    for sid, idx in edges.index_of.items()}
            return render_repo_map(graph, rank, max_tokens)

    def resolve_symbol_files(self, name: str) -> list[str]:
        graph = self._loaded()
        with self._lock:
            return sorted({graph.symbols[sid].path for sid in graph.lookup(name)})

    def relevant_files(self, text: str, limit: int = 5) -> list[str]:
        """Files most related to the paths and names a message mentions, best first."""
        graph = self._loaded()
        scores: dict[str, float] = {}
        with self._lock:
            files = graph.files
            for mention in _PATH_MENTION.findall(text):
                rel = mention.lstrip("./") if mention.startswith("./") else mention
                if rel in files:
                    scores[rel] = scores.get(rel, 0.0) + 10.0
                    continue
                hits = [p for p in files if p.endswith("/" + rel)]
                for p in hits[:10]:
                    scores[p] = scores.get(p, 0.0) + 8.0 / len(hits)
            for term in query_terms(text):
                ids = graph.lookup(term)
                weight = 3.0
                if not ids and len(term) >= 4:
                    ids = [sid for name in graph.names_ignoring_case(term)
                           for sid in graph.by_name[name]]
                    weight = 1.5
                defining = {graph.symbols[sid].path for sid in ids}
                if not defining or len(defining) > 20:
                    continue
                for p in defining:
                    scores[p] = scores.get(p, 0.0) + weight / len(defining)
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
        return [p for p, _ in ranked[:limit]]

    def stats(self) -> dict[str, Any]:
        graph = self._loaded()
        with self._lock:
            statuses: dict[str, int] = {}
            for entry in graph.files.values():
                statuses[entry.status] = statuses.get(entry.status, 0) + 1
            return {"root": str(self.root), "db_path": str(self.db_path),
                    "files": len(graph.files), "symbols": len(graph.symbols),
                    "references": graph.ref_count, "statuses": statuses,
                    "indexing": self.indexing, "version": graph.version}

    def close(self) -> None:
        """Drop cached file text. (The store keeps no connection open between writes.)"""
        self._reader.clear()

    def problems(self) -> list[tuple[str, str, str]]:
        """(path, status, message) of every file that did not parse cleanly or was skipped."""
        graph = self._loaded()
        with self._lock:
            return sorted((p, e.status, e.message) for p, e in graph.files.items()
                          if e.status != "ok")


@contextmanager
def _gc_paused(pause: bool) -> Iterator[None]:
    """Creating many small objects makes the cyclic GC rescan the heap over and over."""
    if not pause or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _under(path: str, scope: str) -> bool:
    return scope in ("", ".") or path == scope or path.startswith(scope.rstrip("/") + "/")


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


__all__ = ["DB_RELATIVE_PATH", "CodeGraph", "extract_file"]
