"""The DuckDB memory store: typed entries, duplicates, BM25 search, lazy index, decay, budget."""

from __future__ import annotations

import duckdb
import pytest
from smallcode.core.memory.database import DatabaseError, Migration, apply_migrations
from smallcode.core.memory.store import (
    MEMORY_MIGRATIONS,
    MemoryProtocol,
    MemoryStore,
    MemoryStoreError,
    classify_memory,
    detect_remember,
)

DAY = 86400.0


class Clock:
    def __init__(self, t: float = 1_700_000_000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture()
def store(tmp_path):
    s = MemoryStore(tmp_path / ".smallcode" / "memory.duckdb")
    yield s
    s.close()


def test_remember_returns_new_id_then_detects_duplicate_by_normalized_content(store):
    first = store.remember("convention", "Lint", "Run ruff before committing.", tags=["Lint"])
    again = store.remember("gotcha", "other title", "  run RUFF   before committing. ")
    assert first == (1, True)
    assert again == (1, False)
    assert store.count() == 1


def test_remember_rejects_unknown_type_and_empty_content(store):
    with pytest.raises(MemoryStoreError, match="unknown memory type 'note'"):
        store.remember("note", "t", "x")
    with pytest.raises(MemoryStoreError, match="empty"):
        store.remember("context", "t", "   ")
    assert store.count() == 0


def test_missing_title_defaults_to_first_sentence_and_tags_are_normalized(store):
    entry_id, _ = store.remember("decision", "", "We use DuckDB for memory. It has FTS.",
                                 tags=["#Storage", "storage", "full text"])
    entry = store.get(entry_id)
    assert entry is not None
    assert entry.title == "We use DuckDB for memory."
    assert entry.tags == ("storage", "full-text")
    assert entry.source == "user"


def test_search_ranks_by_bm25_with_stemming_and_sees_new_writes(store):
    store.remember("gotcha", "Flaky tests", "The integration tests are flaky when run in parallel")
    store.remember("workflow", "Release", "To release, bump the version and tag the commit")
    hits = store.search("parallel testing")
    assert [h.type for h in hits] == ["gotcha"]
    assert hits[0].score is not None and hits[0].score > 0
    # a write after the index was built is found by the next search (lazy rebuild)
    assert store.index_is_current()
    store.remember("convention", "Tests", "Never run the tests in parallel on CI runners")
    assert not store.index_is_current()
    hits = store.search("parallel")
    assert {h.title for h in hits} == {"Flaky tests", "Tests"}
    assert store.index_is_current()


def test_search_prefers_entries_that_match_more_query_terms(store):
    store.remember("context", "a", "snapshot restore works on files")
    store.remember("context", "b", "snapshot restore rollback after failed validation")
    hits = store.search("rollback snapshot validation")
    assert [h.title for h in hits] == ["b", "a"]


def test_search_splits_identifiers_and_keeps_digits(store):
    store.remember("gotcha", "t", "load_for_task must stay under the budget on python3")
    assert [h.title for h in store.search("budget for task")] == ["t"]
    assert [h.title for h in store.search("python3")] == ["t"]


def test_search_with_no_indexable_terms_or_no_match_is_empty(store):
    store.remember("context", "t", "something about caching")
    assert store.search("") == []
    assert store.search("the and of") == []
    assert store.search("zebra") == []


def test_forget_removes_from_list_and_search(store):
    a, _ = store.remember("context", "a", "gateway routes requests to backends")
    store.remember("context", "b", "gateway quota per user")
    assert len(store.search("gateway")) == 2
    assert store.forget(a) is True
    assert store.forget(a) is False
    assert [h.title for h in store.search("gateway")] == ["b"]
    assert [e.title for e in store.list()] == ["b"]


def test_list_filters_by_type_newest_first_and_export_is_complete(tmp_path):
    clock = Clock()
    with MemoryStore(tmp_path / "m.duckdb", clock=clock) as s:
        s.remember("decision", "d1", "first decision")
        clock.t += 10
        s.remember("gotcha", "g1", "a gotcha")
        clock.t += 10
        s.remember("decision", "d2", "second decision")
        assert [e.title for e in s.list()] == ["d2", "g1", "d1"]
        assert [e.title for e in s.list(type="decision")] == ["d2", "d1"]
        assert [e.title for e in s.list(limit=1)] == ["d2"]
        exported = s.export()
        assert [d["title"] for d in exported] == ["d1", "g1", "d2"]
        assert exported[0] == {"id": 1, "type": "decision", "title": "d1",
                               "content": "first decision", "tags": [], "source": "user",
                               "created": clock.t - 20, "updated": clock.t - 20,
                               "last_used": None, "uses": 0}
        with pytest.raises(MemoryStoreError):
            s.list(type="bogus")


def test_entries_survive_reopen_and_migrations_are_recorded_once(tmp_path):
    path = tmp_path / "m.duckdb"
    with MemoryStore(path) as s:
        s.remember("workflow", "deploy", "deploy with make release")
        s.search("deploy")
        s.cache.set({"k": 1}, "v")
    with MemoryStore(path) as s:
        assert s.index_is_current()  # built before closing: no rebuild needed on reopen
        assert s.cache.get({"k": 1}) == "v"
        assert [h.title for h in s.search("release")] == ["deploy"]
        assert s.remember("workflow", "x", "deploy with make release") == (1, False)
    con = duckdb.connect(str(path))
    rows = con.execute("SELECT component, version, name FROM schema_migrations "
                       "ORDER BY component, version").fetchall()
    con.close()
    assert ("memory", 1, "memories") in rows
    assert ("cache", 1, "cache entries") in rows
    assert len(rows) == len(MEMORY_MIGRATIONS) + 1


def test_migrations_apply_only_new_steps_and_refuse_a_newer_database(tmp_path):
    con = duckdb.connect(str(tmp_path / "x.duckdb"))
    one = [Migration(1, "a", ("CREATE TABLE a (x INT)",))]
    two = [*one, Migration(2, "b", ("CREATE TABLE b (x INT)",))]
    assert apply_migrations(con, "t", one) == [1]
    assert apply_migrations(con, "t", two) == [2]
    assert apply_migrations(con, "t", two) == []
    with pytest.raises(DatabaseError, match="newer than this smallcode"):
        apply_migrations(con, "t", one)
    con.close()


def test_failed_migration_rolls_back_completely(tmp_path):
    con = duckdb.connect(str(tmp_path / "x.duckdb"))
    bad = [Migration(1, "bad", ("CREATE TABLE ok (x INT)", "CREATE TABLE broken (x NOSUCHTYPE)"))]
    with pytest.raises(duckdb.Error):
        apply_migrations(con, "t", bad)
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert "ok" not in tables
    assert con.execute("SELECT count(*) FROM schema_migrations").fetchone() == (0,)
    con.close()


def test_second_process_gets_a_clear_error_while_the_file_is_held(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "m.duckdb"
    with MemoryStore(path):
        code = ("import sys\nfrom smallcode.core.memory.store import MemoryStore\n"
                "from smallcode.core.memory.database import DatabaseError\n"
                f"try:\n    MemoryStore({str(path)!r})\nexcept DatabaseError as e:\n"
                "    print(e); sys.exit(3)\n")
        proc = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True,
                              timeout=60)
    assert proc.returncode == 3, proc.stderr
    assert "in use by another process" in proc.stdout


def test_load_for_task_orders_by_relevance_times_staleness_and_marks_use(tmp_path):
    clock = Clock()
    with MemoryStore(tmp_path / "m.duckdb", clock=clock) as s:
        old, _ = s.remember("context", "old", "the parser module handles parser errors")
        clock.t += 200 * DAY  # "context" notes halve every 30 days: old is now at the floor
        fresh, _ = s.remember("context", "fresh", "parser")
        text = s.load_for_task("fix the parser errors", max_tokens=500)
        lines = text.splitlines()
        assert lines[0].startswith(f"- (context #{fresh})")
        assert lines[1].startswith(f"- (context #{old})")
        used = s.get(old)
        assert used is not None and used.uses == 1 and used.last_used == clock.t
        assert s.load_for_task("something unrelated entirely", max_tokens=500) == ""


def test_load_for_task_stays_within_the_token_budget(store):
    for i in range(30):
        store.remember("convention", f"rule {i}", f"database rule number {i} " + "x" * 200)
    text = store.load_for_task("database rule", max_tokens=200)
    from smallcode.core.memory.instructions import estimate_tokens

    assert text
    assert sum(estimate_tokens(line) + 1 for line in text.splitlines()) <= 200
    assert store.load_for_task("database rule", max_tokens=0) == ""


def test_memory_store_satisfies_the_protocol(store):
    assert isinstance(store, MemoryProtocol)


@pytest.mark.parametrize(("message", "fact"), [
    ("remember that the API uses snake_case", "The API uses snake_case"),
    ("Please remember: tests need docker running", "Tests need docker running"),
    ("note that CI runs on ubuntu-22.04", "CI runs on ubuntu-22.04"),
    ("From now on, run ruff before committing", "Run ruff before committing"),
    ("keep in mind that the staging db is read-only", "The staging db is read-only"),
    ("don't forget: deploys happen on Fridays only", "Deploys happen on Fridays only"),
])
def test_detect_remember_extracts_the_fact(message, fact):
    assert detect_remember(message) == fact


@pytest.mark.parametrize("message", [
    "do you remember the port?",
    "remember when we fixed the parser",
    "remember how the cache works",
    "fix the failing test",
    "I can't remember the flag",
    "remember",
])
def test_detect_remember_ignores_questions_recollections_and_other_messages(message):
    assert detect_remember(message) is None


@pytest.mark.parametrize(("text", "type_"), [
    ("Never call the billing API from tests, it breaks", "gotcha"),
    ("We decided to use DuckDB instead of SQLite", "decision"),
    ("To deploy, run make release then tag", "workflow"),
    ("Always use snake_case for function names", "convention"),
    ("The staging server is db2.internal", "context"),
])
def test_classify_memory_guesses_the_type(text, type_):
    assert classify_memory(text) == type_


def test_import_entries_adds_new_skips_duplicates_and_rejects_bad_batches(store):
    store.remember("context", "a", "alpha beta")
    added = store.import_entries([
        {"type": "context", "content": "Alpha  beta"},  # already stored
        {"type": "gotcha", "title": "g", "content": "gamma delta", "tags": ["X"], "created": 5.0},
        {"type": "gotcha", "content": "gamma delta"},  # duplicate inside the batch
        {"type": "decision", "content": "epsilon"},
    ])
    assert added == (2, 2)
    g = store.search("gamma")[0]
    assert (g.title, g.tags, g.source, g.created, g.updated) == ("g", ("x",), "import", 5.0, 5.0)
    assert [e.title for e in store.list(type="decision")] == ["epsilon"]
    with pytest.raises(MemoryStoreError, match="entry 2: unknown memory type 'nope'"):
        store.import_entries([{"type": "context", "content": "zeta"},
                              {"type": "nope", "content": "eta"}])
    assert store.search("zeta") == []
    assert store.import_entries([]) == (0, 0)


@pytest.mark.parametrize(("query", "limit"), [
    ("common rare", 3),  # pruned to entries with "rare": exact because their scores win
    ("common rare", 10),  # fewer candidates than the limit: scored in full
    ("common middling", 5),
    ("common", 5),
    ("rare middling common", 8),
])
def test_search_with_common_terms_matches_exhaustive_bm25(tmp_path, monkeypatch, query, limit):
    import smallcode.core.memory.store as store_module

    entries = []
    for i in range(400):
        words = ["common", f"filler{i}"]
        if i % 80 == 0:
            words.append("rare")
        if i % 4 == 0:
            words += ["middling"] * (1 + i % 3)
        entries.append({"type": "context", "content": " ".join(words) + f" entry{i}"})
    with MemoryStore(tmp_path / "m.duckdb") as s:
        assert s.import_entries(entries) == (400, 0)
        pruned = [(h.id, round(h.score, 9)) for h in s.search(query, limit=limit)]
        monkeypatch.setattr(store_module, "_SELECTIVE_MIN_DF", 10**9)
        full = [(h.id, round(h.score, 9)) for h in s.search(query, limit=limit)]
    assert pruned == full
    assert len(full) == limit


def test_a_selective_term_spares_scoring_every_entry_with_a_common_term(tmp_path, monkeypatch):
    import smallcode.core.memory.store as store_module

    entries = [{"type": "context", "content": f"common words entry{i}" + (" rare" if i < 4 else "")}
               for i in range(300)]
    with MemoryStore(tmp_path / "m.duckdb") as s:
        s.import_entries(entries)
        s.rebuild_index()
        monkeypatch.setattr(store_module, "_BM25_SQL", "SELECT error('exhaustive path used')")
        hits = s.search("common rare", limit=3)
        assert [h.content for h in hits] == ["common words entry3 rare", "common words entry2 rare",
                                             "common words entry1 rare"]
        with pytest.raises(duckdb.Error, match="exhaustive path used"):
            s.search("common words", limit=3)


def test_remember_from_message_stores_the_fact_once(store):
    from smallcode.core.memory.store import RememberedFact, remember_from_message

    first = remember_from_message(store, "remember that we always use ruff format")
    assert first == RememberedFact(1, True, "convention", "We always use ruff format")
    again = remember_from_message(store, "Please remember: we always use ruff format")
    assert again == RememberedFact(1, False, "convention", "We always use ruff format")
    assert remember_from_message(store, "run the tests") is None
    assert store.get(1).source == "user"


def test_secrets_pasted_into_memory_are_redacted(store):
    entry_id, _ = store.remember("context", "key sk-ant-api03-AAAABBBBCCCCDDDDEEEE1234",
                                 "the deploy token is ghp_0123456789abcdefghijABCDEFGHIJ0123")
    entry = store.get(entry_id)
    assert entry.title == "key [REDACTED]"
    assert entry.content == "the deploy token is [REDACTED]"
