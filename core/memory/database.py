"""Opening smallcode's DuckDB files: the offline full-text-search extension and append-only schema
migrations recorded in a table (one list per component, so the memory store and the cache can share
a file or live apart).

``INSTALL fts`` needs the internet; the ``duckdb-extension-fts`` wheel ships the extension built
for the pinned DuckDB version, and :func:`load_fts` loads it from that package's folder.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb


class DatabaseError(RuntimeError):
    """A database could not be opened, migrated, or lacks full-text search."""


@dataclass(frozen=True)
class Migration:
    """One schema step. Never edit or reorder a released migration: append a new one."""

    version: int
    name: str
    statements: tuple[str, ...]


MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    component VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    name VARCHAR NOT NULL,
    applied_at DOUBLE NOT NULL,
    PRIMARY KEY (component, version)
)
"""


def fts_extension_path() -> Path:
    """The ``fts.duckdb_extension`` file matching the installed DuckDB."""
    try:
        import duckdb_extension_fts
    except ImportError:
        raise DatabaseError("full-text search needs the duckdb-extension-fts package "
                            f"(pip install duckdb-extension-fts=={duckdb.__version__})") from None
    base = Path(duckdb_extension_fts.__file__).parent / "extensions"
    exact = base / f"v{duckdb.__version__}" / "fts.duckdb_extension"
    if exact.is_file():
        return exact
    found = sorted(base.glob("*/fts.duckdb_extension"))
    versions = ", ".join(p.parent.name for p in found) or "none"
    raise DatabaseError(f"duckdb-extension-fts has no build for DuckDB {duckdb.__version__} "
                        f"(found: {versions}); install duckdb-extension-fts=={duckdb.__version__}")


def load_fts(con: duckdb.DuckDBPyConnection) -> None:
    """Load the full-text-search extension from the installed wheel (no network)."""
    try:
        con.execute("LOAD fts")  # already loaded in this database instance, or autoloadable
        return
    except duckdb.Error:
        pass
    path = fts_extension_path()
    try:
        con.execute(f"LOAD '{path.as_posix()}'")
    except duckdb.Error as exc:
        raise DatabaseError(f"cannot load the DuckDB fts extension from {path}: {exc}") from None


def connect(db_path: str | os.PathLike[str]) -> duckdb.DuckDBPyConnection:
    """Open (creating folders 0700 as needed) a DuckDB file, with a clear error when another
    process holds it (DuckDB allows one writing process per file)."""
    path = Path(db_path)
    if str(db_path) != ":memory:" and not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        return duckdb.connect(str(path))
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise DatabaseError(
                f"{path} is in use by another process (DuckDB allows one writer per file). "
                "Use the running `smallcode serve` memory actor, or stop the other process."
            ) from None
        raise DatabaseError(f"cannot open {path}: {exc}") from None


def apply_migrations(con: duckdb.DuckDBPyConnection, component: str,
                     migrations: Sequence[Migration]) -> list[int]:
    """Apply the migrations of ``component`` not yet recorded. Returns the versions applied."""
    versions = [m.version for m in migrations]
    if versions != sorted(set(versions)):
        raise DatabaseError(f"{component}: migration versions must be unique and ascending")
    con.execute(MIGRATIONS_TABLE)
    done = {row[0] for row in con.execute(
        "SELECT version FROM schema_migrations WHERE component = ?", [component]).fetchall()}
    newer = [v for v in done if v > (versions[-1] if versions else 0)]
    if newer:
        raise DatabaseError(f"{component}: the database has schema version {max(newer)}, newer "
                            "than this smallcode knows; upgrade smallcode")
    applied = []
    for m in migrations:
        if m.version in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            for statement in m.statements:
                con.execute(statement)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, ?, ?)",
                        [component, m.version, m.name, time.time()])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(m.version)
    return applied


__all__ = ["DatabaseError", "Migration", "apply_migrations", "connect", "fts_extension_path",
           "load_fts"]
