"""DuckDB storage for the code graph: one file per workspace, ``.smallcode/graph.duckdb``.

The schema is an append-only list of migrations recorded in ``schema_migrations``. Every change to
the index (files re-parsed, removed, touched) is written in one transaction, so a process killed
mid-write leaves the previous consistent state. Rows go in as column batches (a dict of numpy
arrays scanned by DuckDB), never row by row.

The connection is opened per operation and closed right after, so another smallcode process (the
CLI next to a running indexer actor) can use the same file between writes; a file locked by another
process is retried briefly, then reported as :class:`GraphStoreBusy`.
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import numpy as np

from .model import FileFacts

MIGRATIONS: tuple[tuple[str, str], ...] = (
    ("create graph tables", """
        CREATE TABLE files (
            id INTEGER NOT NULL, path TEXT NOT NULL, lang TEXT NOT NULL, hash TEXT NOT NULL,
            size BIGINT NOT NULL, mtime_ns BIGINT NOT NULL, lines INTEGER NOT NULL,
            status TEXT NOT NULL, message TEXT NOT NULL,
            indexed_at TIMESTAMP NOT NULL DEFAULT current_timestamp);
        CREATE TABLE symbols (
            file_id INTEGER NOT NULL, ord INTEGER NOT NULL, name TEXT NOT NULL,
            qualname TEXT NOT NULL, kind TEXT NOT NULL, parent INTEGER NOT NULL,
            start_line INTEGER NOT NULL, end_line INTEGER NOT NULL, signature TEXT NOT NULL,
            doc TEXT NOT NULL);
        CREATE TABLE refs (
            file_id INTEGER NOT NULL, src INTEGER NOT NULL, name TEXT NOT NULL,
            qual TEXT NOT NULL, kind TEXT NOT NULL, line INTEGER NOT NULL);
        CREATE TABLE imports (
            file_id INTEGER NOT NULL, module TEXT NOT NULL, name TEXT NOT NULL,
            alias TEXT NOT NULL, line INTEGER NOT NULL);
    """),
)

T = TypeVar("T")

# DuckDB probes ``import pandas`` once per object value it scans when pandas is not installed;
# a failed import is not cached by Python, which made bulk inserts ~50x slower. A None entry in
# sys.modules makes the probe fail immediately. Only done when pandas truly is absent.
if "pandas" not in sys.modules and importlib.util.find_spec("pandas") is None:
    sys.modules["pandas"] = None  # type: ignore[assignment]


class GraphStoreBusy(RuntimeError):
    """The index file is locked by another process for longer than we are willing to wait."""


@dataclass
class FileRow:
    path: str
    lang: str
    hash: str
    size: int
    mtime_ns: int
    lines: int
    status: str
    message: str


@dataclass
class StoredGraph:
    """Everything in the store, as loaded at start-up. Rows of one file are contiguous."""

    files: list[FileRow]
    symbols: dict[str, list[Any]]  # column -> values, ordered by file, ord ("path" column)
    refs: dict[str, tuple[list[Any], ...]]  # path -> columns (src, name, qual, kind, line)
    imports: dict[str, tuple[list[Any], ...]]  # path -> columns (module, name, alias, line)


class GraphStore:
    def __init__(self, path: str | Path, *, lock_timeout: float = 10.0):
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        self._session: duckdb.DuckDBPyConnection | None = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._migrate()

    # -- connection handling ------------------------------------------------------------------

    @contextmanager
    def session(self) -> Iterator[None]:
        """Keep one connection open across several writes (a full index): no reopen and no
        checkpoint between batches. Each write is still its own transaction."""
        if self._session is not None:
            yield
            return
        with self._open() as con:
            self._session = con
            try:
                yield
            finally:
                self._session = None

    @contextmanager
    def _connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        session = self._session
        if session is not None:
            cursor = session.cursor()  # its own handle on the same database; thread-safe
            try:
                yield cursor
            finally:
                cursor.close()
            return
        with self._open() as con:
            yield con

    @contextmanager
    def _open(self) -> Iterator[duckdb.DuckDBPyConnection]:
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.02
        while True:
            try:
                con = duckdb.connect(str(self.path))
                break
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                    if "lock" in str(exc).lower():
                        raise GraphStoreBusy(
                            f"the code index {self.path} is in use by another process "
                            f"(waited {self.lock_timeout:.0f}s): {exc}") from exc
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
        try:
            yield con
        finally:
            con.close()

    def _transaction(self, fn: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        with self._connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                result = fn(con)
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
            return result

    def _migrate(self) -> None:
        def run(con: duckdb.DuckDBPyConnection) -> None:
            con.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                        " name TEXT NOT NULL, applied_at TIMESTAMP NOT NULL)")
            done = {v for (v,) in con.execute("SELECT version FROM schema_migrations").fetchall()}
            for version, (name, sql) in enumerate(MIGRATIONS, start=1):
                if version in done:
                    continue
                con.execute(sql)
                con.execute("INSERT INTO schema_migrations VALUES (?, ?, current_timestamp)",
                            [version, name])

        self._transaction(run)

    def schema_versions(self) -> list[tuple[int, str]]:
        with self._connect() as con:
            return [(int(v), str(n)) for v, n in con.execute(
                "SELECT version, name FROM schema_migrations ORDER BY version").fetchall()]

    # -- reading ------------------------------------------------------------------------------

    def load(self) -> StoredGraph:
        with self._connect() as con:
            rows = con.execute("SELECT id, path, lang, hash, size, mtime_ns, lines, status, message"
                               " FROM files ORDER BY path").fetchall()
            files = [FileRow(*row[1:]) for row in rows]
            path_of = {row[0]: row[1] for row in rows}
            sym = con.execute(
                "SELECT file_id, ord, name, qualname, kind, parent, start_line, end_line,"
                " signature, doc FROM symbols ORDER BY file_id, ord").fetchnumpy()
            symbols = {name: values.tolist() for name, values in sym.items()}
            ids = symbols.pop("file_id")
            symbols["path"] = [path_of.get(i, "") for i in ids]
            refs = _per_file(con.execute(
                "SELECT file_id, src, name, qual, kind, line FROM refs ORDER BY file_id"
            ).fetchnumpy(), path_of)
            imports = _per_file(con.execute(
                "SELECT file_id, module, name, alias, line FROM imports ORDER BY file_id"
            ).fetchnumpy(), path_of)
        return StoredGraph(files, symbols, refs, imports)

    def counts(self) -> dict[str, int]:
        with self._connect() as con:
            return {t: int(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0])  # type: ignore[index]
                    for t in ("files", "symbols", "refs", "imports")}

    # -- writing ------------------------------------------------------------------------------

    def apply(self, facts: Iterable[FileFacts], deleted: Iterable[str] = (),
              touched: Iterable[tuple[str, int]] = ()) -> None:
        """Replace the rows of re-parsed files, drop deleted ones, update mtimes of touched ones,
        all in one transaction."""
        facts = list(facts)
        gone = sorted(set(deleted) | {f.path for f in facts})
        touched = list(touched)
        if not gone and not touched:
            return

        def run(con: duckdb.DuckDBPyConnection) -> None:
            ids: dict[str, int] = {}
            if gone:
                con.register("gone_paths", {"path": np.array(gone, dtype=object)})
                ids = dict(con.execute("SELECT path, id FROM files WHERE path IN "
                                       "(SELECT path FROM gone_paths)").fetchall())
                old_ids = {"id": np.array(sorted(ids.values()), dtype=np.int64)}
                con.register("gone_ids", old_ids)
                con.execute("DELETE FROM files WHERE id IN (SELECT id FROM gone_ids)")
                for table in ("symbols", "refs", "imports"):
                    con.execute(f"DELETE FROM {table} WHERE file_id IN (SELECT id FROM gone_ids)")
                con.unregister("gone_ids")
                con.unregister("gone_paths")
            if facts:
                row = con.execute("SELECT coalesce(max(id), 0) + 1 FROM files").fetchone()
                next_id = int(row[0]) if row else 1
                file_ids = []
                for f in facts:  # a re-parsed file keeps its id; a new one gets the next
                    if f.path in ids:
                        file_ids.append(ids[f.path])
                    else:
                        file_ids.append(next_id)
                        next_id += 1
                _insert(con, "files", ["id", "path", "lang", "hash", "size", "mtime_ns", "lines",
                                       "status", "message"],
                        [(i, f.path, f.lang, f.hash, f.size, f.mtime_ns, f.lines, f.status,
                          f.message) for i, f in zip(file_ids, facts)],
                        extra="current_timestamp")
                _insert(con, "symbols", ["file_id", "ord", "name", "qualname", "kind", "parent",
                                         "start_line", "end_line", "signature", "doc"],
                        [(i, n, *s) for i, f in zip(file_ids, facts)
                         for n, s in enumerate(f.symbols)])
                _insert(con, "refs", ["file_id", "src", "name", "qual", "kind", "line"],
                        [(i, *r) for i, f in zip(file_ids, facts) for r in f.refs])
                _insert(con, "imports", ["file_id", "module", "name", "alias", "line"],
                        [(i, *im) for i, f in zip(file_ids, facts) for im in f.imports])
            for path, mtime_ns in touched:
                con.execute("UPDATE files SET mtime_ns = ? WHERE path = ?", [mtime_ns, path])

        self._transaction(run)


_INT_COLUMNS = {"id", "file_id", "ord", "parent", "start_line", "end_line", "src", "line", "size",
                "mtime_ns", "lines"}


def _insert(con: duckdb.DuckDBPyConnection, table: str, names: list[str],
            rows: list[tuple[Any, ...]], extra: str = "") -> None:
    if not rows:
        return
    batch: dict[str, np.ndarray] = {}
    for i, name in enumerate(names):
        values = [r[i] for r in rows]
        batch[name] = np.array(values, dtype=np.int64 if name in _INT_COLUMNS else object)
    view = f"batch_{table}"
    con.register(view, batch)
    cols = ", ".join(names)
    select = cols + (f", {extra}" if extra else "")
    target = cols + (", indexed_at" if extra else "")
    con.execute(f"INSERT INTO {table} ({target}) SELECT {select} FROM {view}")
    con.unregister(view)


def _per_file(arrays: dict[str, np.ndarray], path_of: dict[int, str]
              ) -> dict[str, tuple[list[Any], ...]]:
    """Split columns ordered by file_id into per-file column slices."""
    file_ids = arrays["file_id"]
    if len(file_ids) == 0:
        return {}
    columns = [values.tolist() for name, values in arrays.items() if name != "file_id"]
    cuts = [0, *(np.flatnonzero(np.diff(file_ids)) + 1).tolist(), len(file_ids)]
    out: dict[str, tuple[list[Any], ...]] = {}
    for a, b in itertools.pairwise(cuts):
        path = path_of.get(int(file_ids[a]))
        if path is not None:
            out[path] = tuple(col[a:b] for col in columns)
    return out
