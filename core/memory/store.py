"""Long-term project memory in DuckDB: typed entries, duplicate detection, BM25 search, and the
relevant notes loaded at the start of a task.

Entries live in ``memories``; BM25 comes from DuckDB's fts extension (porter stemmer, English stop
words). DuckDB's fts index is not updated by writes, so the store notes writes and rebuilds the index
lazily on the first search after them (milliseconds for a few thousand entries). After a build the
postings are aggregated per (term, entry) and sorted by term, so a search reads only the postings
of its terms and joins just the top hits back to the entries. One process owns
the file: the memory actor under ``smallcode serve``, or this object in-process.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import math
import re
import tempfile
import threading
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, Self, get_args, runtime_checkable

import duckdb

from .database import Migration, apply_migrations, connect, load_fts
from .instructions import estimate_tokens
from .redact import redact

MemoryType = Literal["decision", "workflow", "gotcha", "convention", "context"]
MEMORY_TYPES: tuple[str, ...] = get_args(MemoryType)
MEMORY_DB = Path(".smallcode") / "memory.duckdb"

# Half-life (days) of an entry's relevance since it was last written or used. Conventions and
# decisions stay true for long; "context" notes (what is going on right now) go stale fast.
HALF_LIFE_DAYS: dict[str, float] = {"decision": 180.0, "workflow": 180.0, "gotcha": 120.0,
                                    "convention": 365.0, "context": 30.0}
MIN_DECAY = 0.2  # an old entry still counts for a fifth of a fresh one

_FTS_SCHEMA = "fts_main_memories"
# keep digits and split identifiers on punctuation/underscores: "load_for_task" -> load for task
_FTS_IGNORE = r"(\.|[^a-z0-9])+"
_MAX_TITLE = 120
_MAX_CONTENT = 8000

MEMORY_MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "memories", (
        "CREATE SEQUENCE IF NOT EXISTS memories_id START 1",
        """CREATE TABLE IF NOT EXISTS memories (
               id BIGINT PRIMARY KEY DEFAULT nextval('memories_id'),
               type VARCHAR NOT NULL,
               title VARCHAR NOT NULL,
               content VARCHAR NOT NULL,
               tags VARCHAR[] NOT NULL,
               tags_text VARCHAR NOT NULL,
               source VARCHAR NOT NULL,
               content_hash VARCHAR NOT NULL UNIQUE,
               created DOUBLE NOT NULL,
               updated DOUBLE NOT NULL,
               last_used DOUBLE,
               uses INTEGER NOT NULL DEFAULT 0
           )""",
        # what the full-text index was built from: (count, max id) of memories at build time
        """CREATE TABLE IF NOT EXISTS memory_meta (
               key VARCHAR PRIMARY KEY,
               value BIGINT NOT NULL
           )""",
        ("INSERT INTO memory_meta VALUES ('index_count', -1), ('index_max_id', -1) "
         "ON CONFLICT DO NOTHING"),
    )),
)


class MemoryStoreError(ValueError):
    """Bad input for the memory store (unknown type, empty content, unknown id)."""


@dataclass
class MemoryEntry:
    id: int
    type: str
    title: str
    content: str
    tags: tuple[str, ...]
    source: str
    created: float
    updated: float
    last_used: float | None = None
    uses: int = 0
    score: float | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["tags"] = list(self.tags)
        if self.score is None:
            d.pop("score")
        return d

    def render(self) -> str:
        """One line for a prompt or a tool result."""
        tags = f" [{', '.join(self.tags)}]" if self.tags else ""
        body = self.content if self.content.strip() != self.title.strip() else ""
        text = f"{self.title}: {body}" if body else self.title
        return f"- ({self.type} #{self.id}){tags} {text}"


@runtime_checkable
class MemoryProtocol(Protocol):
    """What the agent and the memory tools need; :class:`MemoryStore` in-process, or the memory
    actor's client (``smallcode.actors.memory_store.MemoryStoreClient``)."""

    def remember(self, type: str, title: str, content: str, tags: tuple[str, ...] | list[str] = (),
                 source: str = "user") -> tuple[int, bool]: ...

    def search(self, query: str, limit: int = 10) -> list[MemoryEntry]: ...

    def list(self, type: str | None = None, limit: int = 50) -> list[MemoryEntry]: ...

    def forget(self, id: int) -> bool: ...

    def export(self) -> builtins.list[dict[str, Any]]: ...

    def load_for_task(self, message: str, max_tokens: int = 600) -> str: ...


def normalize_content(text: str) -> str:
    """What the duplicate check compares: case, accents-as-composed and whitespace normalized."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def content_hash(type_: str, content: str) -> str:
    del type_  # the same fact saved under two types is still a duplicate
    return hashlib.sha256(normalize_content(content).encode("utf-8")).hexdigest()


def _clean_tags(tags: Any) -> tuple[str, ...]:
    if isinstance(tags, str):
        tags = re.split(r"[,\s]+", tags)
    out: list[str] = []
    for t in tags or ():
        t = re.sub(r"\s+", "-", str(t).strip().lower().lstrip("#"))
        if t and t not in out:
            out.append(t[:40])
    return tuple(out[:20])


def _default_title(content: str) -> str:
    first = content.strip().split("\n", 1)[0].strip()
    first = re.split(r"(?<=[.!?])\s", first, maxsplit=1)[0]
    return first if len(first) <= 80 else first[:79].rstrip() + "…"


_COLUMNS = "id, type, title, content, tags, source, created, updated, last_used, uses"


def _entry(row: tuple[Any, ...], score: float | None = None) -> MemoryEntry:
    return MemoryEntry(id=int(row[0]), type=row[1], title=row[2], content=row[3],
                       tags=tuple(row[4] or ()), source=row[5], created=float(row[6]),
                       updated=float(row[7]),
                       last_used=None if row[8] is None else float(row[8]), uses=int(row[9]),
                       score=score)


class MemoryStore:
    """The memory of one project, in one DuckDB file. Thread-safe (one lock around the file)."""

    def __init__(self, db_path: str | Path, *, clock: Any = time.time, threads: int = 1):
        self.db_path = Path(db_path)
        self._clock = clock
        self._lock = threading.RLock()
        self._con = connect(self.db_path)
        try:
            # small point queries: one thread avoids scheduling overhead on a busy machine
            self._con.execute(f"SET threads = {max(1, int(threads))}")
            load_fts(self._con)
            apply_migrations(self._con, "memory", MEMORY_MIGRATIONS)
            self._dirty = not self._index_matches_table()
        except Exception:
            self._con.close()
            raise
        self._cache: Any = None
        self._lexicon: dict[str, tuple[int, int]] | None = None
        self._stats: tuple[float, float] = (0.0, 1.0)
        self._stem_cache: dict[str, str] = {}
        self._df_of: dict[int, int] = {}

    @classmethod
    def for_workspace(cls, workspace_root: str | Path) -> MemoryStore:
        return cls(Path(workspace_root) / MEMORY_DB)

    # lifecycle ---------------------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            self._con.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def cache(self) -> Any:
        """A persisted ``DuckDBCache`` in the same file (shares this connection and lock)."""
        from smallcode.core.cache import DuckDBCache  # core.cache imports this package

        with self._lock:
            if self._cache is None:
                self._cache = DuckDBCache(connection=self._con, lock=self._lock)
            return self._cache

    # writes ------------------------------------------------------------------------------------
    def remember(self, type: str, title: str, content: str, tags: tuple[str, ...] | list[str] = (),
                 source: str = "user") -> tuple[int, bool]:
        """Store an entry. Returns ``(id, True)``, or ``(existing_id, False)`` for a duplicate."""
        type_ = (type or "").strip().lower()
        if type_ not in MEMORY_TYPES:
            raise MemoryStoreError(f"unknown memory type {type!r}; use one of: {', '.join(MEMORY_TYPES)}")
        content = redact((content or "").strip())  # never keep a key that was pasted in
        if not content:
            raise MemoryStoreError("memory content is empty")
        if len(content) > _MAX_CONTENT:
            raise MemoryStoreError(f"memory content is {len(content)} characters; keep an entry under "
                              f"{_MAX_CONTENT} (split it, or save the essentials)")
        title = redact(" ".join((title or "").split())) or _default_title(content)
        title = title[:_MAX_TITLE]
        tag_tuple = _clean_tags(tags)
        digest = content_hash(type_, content)
        now = self._clock()
        with self._lock:
            new = self._con.execute(
                "INSERT INTO memories (type, title, content, tags, tags_text, source, "
                "content_hash, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (content_hash) DO NOTHING RETURNING id",
                [type_, title, content, list(tag_tuple), " ".join(tag_tuple),
                 (source or "user")[:40], digest, now, now]).fetchone()
            if new is not None:
                self._dirty = True
                return int(new[0]), True
            row = self._con.execute("SELECT id FROM memories WHERE content_hash = ?",
                                    [digest]).fetchone()
        if row is None:  # pragma: no cover - the conflicting row cannot vanish under our lock
            raise MemoryStoreError("duplicate entry disappeared during remember(); retry")
        return int(row[0]), False

    def import_entries(self, entries: Iterable[dict[str, Any]]) -> tuple[int, int]:
        """Add many entries at once (e.g. an :meth:`export` from another machine) in one
        transaction. Ids are assigned anew; duplicates (in the batch or already stored) are
        skipped. Returns ``(added, skipped)``. A bad entry fails the whole batch, naming it."""
        now = self._clock()
        seen: set[str] = set()
        rows: list[dict[str, Any]] = []
        total = 0
        for n, raw in enumerate(entries, 1):
            total += 1
            if not isinstance(raw, dict):
                raise MemoryStoreError(f"entry {n}: expected an object, got {type(raw).__name__}")
            type_ = str(raw.get("type", "")).strip().lower()
            content = redact(str(raw.get("content") or "").strip())
            if type_ not in MEMORY_TYPES:
                raise MemoryStoreError(f"entry {n}: unknown memory type {raw.get('type')!r}")
            if not content or len(content) > _MAX_CONTENT:
                raise MemoryStoreError(f"entry {n}: content must be 1..{_MAX_CONTENT} characters")
            digest = content_hash(type_, content)
            if digest in seen:
                continue
            seen.add(digest)
            tags = _clean_tags(raw.get("tags") or ())
            created = raw.get("created")
            created = float(created) if isinstance(created, int | float) else now
            updated = raw.get("updated")
            updated = float(updated) if isinstance(updated, int | float) else created
            title = redact(" ".join(str(raw.get("title") or "").split())) or _default_title(content)
            rows.append({"type": type_, "title": title[:_MAX_TITLE], "content": content,
                         "tags": list(tags), "tags_text": " ".join(tags),
                         "source": str(raw.get("source") or "import")[:40],
                         "content_hash": digest, "created": created, "updated": updated,
                         "ord": len(rows)})
        if not rows:
            return 0, total
        with tempfile.TemporaryDirectory(prefix="smallcode-import-") as tmp:
            batch = Path(tmp) / "batch.ndjson"
            with batch.open("w", encoding="utf-8") as fh:
                for row in rows:
                    fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            with self._lock:
                self._con.execute("BEGIN TRANSACTION")
                try:
                    added = self._con.execute(_IMPORT_SQL, [str(batch)]).fetchall()
                    self._con.execute("COMMIT")
                    if added:
                        self._dirty = True
                except Exception:
                    self._con.execute("ROLLBACK")
                    raise
        return len(added), total - len(added)

    def forget(self, id: int) -> bool:
        """Delete entry ``id``. Returns False when there was none."""
        with self._lock:
            row = self._con.execute("DELETE FROM memories WHERE id = ? RETURNING id",
                                    [int(id)]).fetchone()
            if row is not None:
                self._dirty = True
        return row is not None

    def _mark_used(self, ids: list[int]) -> None:
        if not ids:
            return
        with self._lock:
            id_list = ", ".join(str(int(i)) for i in ids)
            self._con.execute("UPDATE memories SET last_used = ?, uses = uses + 1 "
                              f"WHERE id IN ({id_list})", [self._clock()])

    # reads -------------------------------------------------------------------------------------
    def get(self, id: int) -> MemoryEntry | None:
        with self._lock:
            row = self._con.execute(f"SELECT {_COLUMNS} FROM memories WHERE id = ?",
                                    [int(id)]).fetchone()
        return None if row is None else _entry(row)

    def count(self) -> int:
        with self._lock:
            row = self._con.execute("SELECT count(*) FROM memories").fetchone()
        return int(row[0]) if row else 0

    def list(self, type: str | None = None, limit: int = 50) -> list[MemoryEntry]:
        """Entries, most recently updated first, optionally of one type."""
        if type is not None and type not in MEMORY_TYPES:
            raise MemoryStoreError(f"unknown memory type {type!r}; use one of: {', '.join(MEMORY_TYPES)}")
        sql = f"SELECT {_COLUMNS} FROM memories"
        params: builtins.list[Any] = []
        if type is not None:
            sql += " WHERE type = ?"
            params.append(type)
        sql += " ORDER BY updated DESC, id DESC LIMIT ?"
        params.append(max(0, int(limit)))
        with self._lock:
            rows = self._con.execute(sql, params).fetchall()
        return [_entry(r) for r in rows]

    def export(self) -> builtins.list[dict[str, Any]]:
        """Every entry as a plain dict, oldest first (for backups and `smallcode memory export`)."""
        with self._lock:
            rows = self._con.execute(f"SELECT {_COLUMNS} FROM memories ORDER BY id").fetchall()
        return [_entry(r).to_dict() for r in rows]

    # full-text index ---------------------------------------------------------------------------
    def _table_state(self) -> tuple[int, int]:
        row = self._con.execute("SELECT count(*), coalesce(max(id), 0) FROM memories").fetchone()
        assert row is not None
        return int(row[0]), int(row[1])

    def _index_matches_table(self) -> bool:
        meta = dict(self._con.execute("SELECT key, value FROM memory_meta").fetchall())
        # ids only grow, so (count, max id) changes on every insert and every delete
        return (meta.get("index_count"), meta.get("index_max_id")) == self._table_state()

    def index_is_current(self) -> bool:
        with self._lock:
            return not self._dirty

    def rebuild_index(self) -> None:
        """Rebuild the BM25 index from the table (also done lazily by :meth:`search`)."""
        with self._lock:
            count, max_id = self._table_state()
            self._con.execute(
                "PRAGMA create_fts_index('memories', 'id', 'title', 'content', 'tags_text', "
                f"stemmer='porter', stopwords='english', ignore='{_FTS_IGNORE}', "
                "strip_accents=1, lower=1, overwrite=1)")
            # one row per (term, entry) with its frequency and the entry's length, sorted by
            # term: a query scans only the row groups holding its terms
            self._con.execute(f"""
                CREATE OR REPLACE TABLE {_FTS_SCHEMA}.postings AS
                SELECT t.termid, d.name AS id, count(*)::INTEGER AS tf, d.len::INTEGER AS len
                FROM {_FTS_SCHEMA}.terms t JOIN {_FTS_SCHEMA}.docs d USING (docid)
                GROUP BY t.termid, d.name, d.len
                ORDER BY t.termid, d.name""")
            self._con.execute("UPDATE memory_meta SET value = CASE key WHEN 'index_count' THEN ? "
                              "ELSE ? END WHERE key IN ('index_count', 'index_max_id')",
                              [count, max_id])
            self._dirty = False
            self._lexicon = None

    def _ensure_index(self) -> None:
        if self._dirty:
            self.rebuild_index()

    def search(self, query: str, limit: int = 10) -> builtins.list[MemoryEntry]:
        """Entries ranked by BM25 over title, content and tags (best first, with ``score``)."""
        query = (query or "").strip()
        if not query or limit <= 0:
            return []
        with self._lock:
            self._ensure_index()
            try:
                rows = self._bm25(query, int(limit))
            except duckdb.CatalogException:  # index tables missing or damaged: rebuild once
                self.rebuild_index()
                rows = self._bm25(query, int(limit))
        return [_entry(r[:-1], score=float(r[-1])) for r in rows]

    def _load_lexicon(self) -> None:
        """Term ids, document frequencies and corpus statistics of the current index."""
        stats = self._con.execute(f"SELECT num_docs, avgdl FROM {_FTS_SCHEMA}.stats").fetchone()
        self._stats = (float(stats[0]), float(stats[1] or 1.0)) if stats else (0.0, 1.0)
        self._lexicon = {term: (int(termid), int(df)) for term, termid, df in self._con.execute(
            f"SELECT term, termid, df FROM {_FTS_SCHEMA}.dict").fetchall()}
        self._df_of = dict(self._lexicon.values())

    def _stems(self, words: builtins.list[str]) -> builtins.list[str]:
        missing = [w for w in dict.fromkeys(words) if w not in self._stem_cache]
        if missing:
            if len(self._stem_cache) > 100_000:
                self._stem_cache.clear()
            rows = self._con.execute("SELECT w, stem(w, 'porter') FROM (SELECT unnest(?) AS w)",
                                     [missing]).fetchall()
            self._stem_cache.update(rows)
        return [self._stem_cache[w] for w in words]

    def _bm25(self, query: str, limit: int) -> builtins.list[tuple[Any, ...]]:
        if self._lexicon is None:
            self._load_lexicon()
        assert self._lexicon is not None
        n, avgdl = self._stats
        termids: builtins.list[int] = []
        idfs: builtins.list[float] = []
        for stem in dict.fromkeys(self._stems(tokenize(query))):
            hit = self._lexicon.get(stem)
            if hit is not None:
                termid, df = hit
                termids.append(termid)
                idfs.append(math.log(((n - df + 0.5) / (df + 0.5)) + 1.0))
        if not termids:
            return []
        # numbers we computed ourselves go in as literals: binding Python lists costs more than
        # the query itself (the duckdb module probes optional imports on every list parameter)
        weights = ", ".join(f"({t}, {idf!r}::DOUBLE)" for t, idf in zip(termids, idfs, strict=True))
        top = None
        # MaxScore: when the query mixes selective and very common terms, score only the entries
        # holding a selective term. Exact when the k-th score beats the most an entry with only
        # common terms could reach (each term adds at most idf * (k1 + 1)); else score them all.
        common_df = max(_SELECTIVE_MIN_DF, n * _SELECTIVE_FRACTION)
        selective = [t for t in termids if self._df_of[t] <= common_df]
        if selective and len(selective) < len(termids):
            bound = sum(idf * 2.2 for t, idf in zip(termids, idfs, strict=True)
                        if t not in selective)
            top = self._con.execute(_BM25_CANDIDATES_SQL.format(
                weights=weights, avgdl=repr(avgdl), limit=int(limit),
                selective=", ".join(str(t) for t in selective))).fetchall()
            if len(top) < limit or top[-1][1] < bound:
                top = None
        if top is None:
            top = self._con.execute(_BM25_SQL.format(weights=weights, avgdl=repr(avgdl),
                                                     limit=int(limit))).fetchall()
        if not top:
            return []
        # fetch the few winners by id (a literal IN list lets DuckDB skip the rest of the table)
        ids = ", ".join(str(int(entry_id)) for entry_id, _ in top)
        rows = {int(r[0]): r for r in self._con.execute(
            f"SELECT {_COLUMNS} FROM memories WHERE id IN ({ids})").fetchall()}
        return [(*rows[int(i)], score) for i, score in top if int(i) in rows]

    # task start --------------------------------------------------------------------------------
    def decay(self, entry: MemoryEntry, now: float | None = None) -> float:
        """Staleness factor in [MIN_DECAY, 1]: halves every half-life since last write or use."""
        now = self._clock() if now is None else now
        last = max(entry.updated, entry.last_used or 0.0)
        age_days = max(0.0, now - last) / 86400.0
        half = HALF_LIFE_DAYS.get(entry.type, 90.0)
        return max(MIN_DECAY, math.pow(0.5, age_days / half))

    def relevant(self, message: str, limit: int = 20) -> builtins.list[MemoryEntry]:
        """Search hits re-ranked by BM25 score times staleness decay."""
        now = self._clock()
        hits = self.search(message, limit=limit)
        for h in hits:
            h.score = (h.score or 0.0) * self.decay(h, now)
        hits.sort(key=lambda h: (-(h.score or 0.0), -h.id))
        return hits

    def load_for_task(self, message: str, max_tokens: int = 600) -> str:
        """The entries relevant to ``message``, one line each, within ``max_tokens``, or "".

        The caller adds its own heading (the agent uses "Project memory:")."""
        if max_tokens <= 0:
            return ""
        hits = self.relevant(message)
        used = 0
        lines: builtins.list[str] = []
        chosen: builtins.list[int] = []
        for h in hits:
            line = h.render()
            cost = estimate_tokens(line) + 1
            if used + cost > max_tokens:
                continue  # a shorter, less relevant entry may still fit
            lines.append(line)
            chosen.append(h.id)
            used += cost
        if not lines:
            return ""
        self._mark_used(chosen)
        return "\n".join(lines)


def tokenize(text: str) -> builtins.list[str]:
    """Words as the fts index sees them (its ``tokenize`` macro): accents stripped, lower case,
    split on anything but ``a-z0-9``."""
    decomposed = unicodedata.normalize("NFD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return [w for w in _TOKEN_SPLIT.split(plain) if w]


_TOKEN_SPLIT = re.compile(r"[^a-z0-9]+")

# BM25 (k1=1.2, b=0.75) over the aggregated postings of the query's terms; the idf of each term is
# computed in Python from the lexicon, so the query only scans postings and joins the top hits.
# a term in more than this share of entries (and more than this many) counts as common
_SELECTIVE_FRACTION = 0.02
_SELECTIVE_MIN_DF = 50

_BM25_CANDIDATES_SQL = (
    "WITH w(termid, idf) AS (VALUES {weights}), "
    f"cand AS (SELECT DISTINCT id FROM {_FTS_SCHEMA}.postings WHERE termid IN ({{selective}})) "
    "SELECT p.id, sum(w.idf * p.tf * 2.2 / (p.tf + 1.2 * (0.25 + 0.75 * p.len / {avgdl}::DOUBLE))) "
    f"AS score FROM {_FTS_SCHEMA}.postings p JOIN w USING (termid) SEMI JOIN cand USING (id) "
    "GROUP BY p.id ORDER BY score DESC, p.id DESC LIMIT {limit}"
)

_BM25_SQL = (
    "WITH w(termid, idf) AS (VALUES {weights}) "
    "SELECT p.id, sum(w.idf * p.tf * 2.2 / (p.tf + 1.2 * (0.25 + 0.75 * p.len / {avgdl}::DOUBLE))) "
    f"AS score FROM {_FTS_SCHEMA}.postings p JOIN w USING (termid) "
    "GROUP BY p.id ORDER BY score DESC, p.id DESC LIMIT {limit}"
)


_IMPORT_SQL = """
INSERT INTO memories (type, title, content, tags, tags_text, source, content_hash, created, updated)
SELECT type, title, content, tags, tags_text, source, content_hash, created, updated
FROM read_json(?, format = 'newline_delimited', columns = {
    type: 'VARCHAR', title: 'VARCHAR', content: 'VARCHAR', tags: 'VARCHAR[]',
    tags_text: 'VARCHAR', source: 'VARCHAR', content_hash: 'VARCHAR', created: 'DOUBLE',
    updated: 'DOUBLE', ord: 'BIGINT'}) AS b
WHERE NOT EXISTS (SELECT 1 FROM memories m WHERE m.content_hash = b.content_hash)
ORDER BY ord
RETURNING id
"""


# "remember that ..." ---------------------------------------------------------------------------
_REMEMBER_RE = re.compile(
    r"^\s*(?:(?:please|pls|and|also|ok(?:ay)?|hey)[,\s]+)*"
    r"(?:remember|memori[sz]e|note(?:\s+down)?|keep\s+in\s+mind|don'?t\s+forget|do\s+not\s+forget|"
    r"make\s+a\s+note|save\s+(?:a\s+)?(?:note|memory)|for\s+future\s+reference|"
    r"for\s+the\s+record|from\s+now\s+on|going\s+forward)"
    r"(?:\s+(?:that|this|to|for\s+later|for\s+next\s+time|for\s+the\s+future))?"
    r"\s*[:,\-–—]?\s*(?P<body>.+)$",
    re.IGNORECASE | re.DOTALL,
)
_NOT_A_REQUEST = re.compile(
    r"^\s*(?:remember|note)\s+(?:when|how|what|why|where|who|if|whether|the\s+time)\b"
    r"|^\s*(?:remember|note)\s+me\b",
    re.IGNORECASE,
)


def detect_remember(message: str) -> str | None:
    """The fact to save when ``message`` asks to remember something ("remember that the API uses
    snake_case", "from now on, run ruff before committing"), else None. Questions ("do you
    remember ...?") and recollections ("remember when ...") are not requests."""
    text = (message or "").strip()
    if not text or len(text) > 2000 or text.endswith("?"):
        return None
    if _NOT_A_REQUEST.match(text):
        return None
    m = _REMEMBER_RE.match(text)
    if not m:
        return None
    body = m.group("body").strip().strip("\"'").strip()
    body = re.sub(r"^(?:that|this)\s*[:,]?\s+", "", body, flags=re.IGNORECASE)
    if len(body) < 3 or not re.search(r"[A-Za-z0-9]", body):
        return None
    return body[0].upper() + body[1:] if body[0].islower() else body


_TYPE_SIGNALS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("gotcha", re.compile(r"\b(?:gotcha|careful|watch out|beware|pitfall|caveat|bug|breaks?|"
                          r"broken|fails?|failing|crash(?:es)?|flaky|don'?t work|doesn'?t work|"
                          r"won'?t work|must not|never (?:call|use|run|edit|touch)|trap|quirk)\b",
                          re.IGNORECASE)),
    ("decision", re.compile(r"\b(?:we (?:decided|chose|picked|went with|agreed)|decided|decision|"
                            r"chose|instead of|rather than|trade-?off|because we)\b", re.IGNORECASE)),
    ("workflow", re.compile(r"\b(?:to (?:deploy|release|build|run|test|install|publish|start)|"
                            r"first\b.*\bthen|steps?|workflow|procedure|run `|make \w+)\b", re.IGNORECASE)),
    ("convention", re.compile(r"\b(?:always|never|prefer|use \w+ for|we use|naming|style|"
                              r"convention|must|should|don'?t use|do not use|format(?:ted)? with|"
                              r"snake_case|camelCase|indent)\b", re.IGNORECASE)),
)


@dataclass(frozen=True)
class RememberedFact:
    """What :func:`remember_from_message` stored."""

    id: int
    created: bool  # False: the same fact was already there
    type: str
    content: str


def remember_from_message(memory: MemoryProtocol, message: str) -> RememberedFact | None:
    """If ``message`` asks to remember something, store it (type guessed) and say what was kept.

    For the agent's pre-work: call it on each user message before routing; None = not a request.
    """
    fact = detect_remember(message)
    if fact is None:
        return None
    type_ = classify_memory(fact)
    entry_id, created = memory.remember(type_, "", fact, (), source="user")
    return RememberedFact(int(entry_id), bool(created), type_, fact)


def classify_memory(text: str) -> str:
    """A best-guess type for a free-form fact (used for "remember that ..." messages)."""
    for type_, pattern in _TYPE_SIGNALS:
        if pattern.search(text):
            return type_
    return "context"


__all__ = [
    "HALF_LIFE_DAYS",
    "MEMORY_DB",
    "MEMORY_MIGRATIONS",
    "MEMORY_TYPES",
    "MemoryEntry",
    "MemoryProtocol",
    "MemoryStore",
    "MemoryStoreError",
    "MemoryType",
    "RememberedFact",
    "classify_memory",
    "content_hash",
    "detect_remember",
    "normalize_content",
    "remember_from_message",
    "tokenize",
]
