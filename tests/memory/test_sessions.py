"""Sessions on disk: ordering, validation, atomic saves (also under SIGKILL), modes, redaction."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time

import pytest
from smallcode.core.memory.sessions import (
    SessionError,
    SessionNotFound,
    SessionStore,
    id_created,
    render_transcript,
    validate_id,
)


def _session(n_turns: int = 2, text: str = "hello") -> dict:
    messages = [{"role": "system", "content": "You are smallcode."}]
    for i in range(n_turns):
        messages.append({"role": "user", "content": f"{text} {i}"})
        messages.append({"role": "assistant", "content": f"reply {i}"})
    return {"workspace": "/w", "model": "qwen2.5-coder-1.5b", "messages": messages,
            "usage": {"prompt_tokens": 10, "completion_tokens": 5}}


def test_new_ids_sort_newest_first_and_encode_creation_time(tmp_path):
    store = SessionStore(tmp_path)
    older = store.new_id(now=1_700_000_000.0)
    newer = store.new_id(now=1_700_000_001.5)
    assert sorted([older, newer]) == [newer, older]
    assert id_created(older) == 1_700_000_000.0
    assert id_created(newer) == 1_700_000_001.5
    assert validate_id(newer) == newer


@pytest.mark.parametrize("bad", ["../etc/passwd", "..", "", "abc", "8299999999999-abcdeg",
                                 "8299999999999-abcdef/../../x", "/tmp/x", "8299999999999-ABCDEF",
                                 "8299999999999-abcdef.json"])
def test_invalid_ids_are_refused_before_touching_files(tmp_path, bad):
    store = SessionStore(tmp_path)
    for op in (store.load, store.delete, lambda i: store.save(i, {})):
        with pytest.raises(SessionError, match="invalid session id"):
            op(bad)
    assert not (tmp_path / ".smallcode").exists()


def test_save_then_load_roundtrip_with_private_modes(tmp_path):
    store = SessionStore(tmp_path)
    sid = store.new_id()
    path = store.save(sid, _session())
    data = store.load(sid)
    assert data["id"] == sid
    assert data["messages"][1] == {"role": "user", "content": "hello 0"}
    assert data["created"] == id_created(sid)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / ".smallcode").stat().st_mode) == 0o700
    assert [p.name for p in store.dir.iterdir()] == [f"{sid}.json"]  # no temp files left


def test_save_redacts_secrets(tmp_path):
    store = SessionStore(tmp_path)
    sid = store.new_id()
    data = _session()
    data["messages"].append({"role": "user", "content":
                             "my key is sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123 ok"})
    data["messages"].append({"role": "tool", "content": "GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789"})
    data["config"] = {"api_key": "plain-secret-value", "max_tokens": 1024}
    store.save(sid, data)
    raw = store.path(sid).read_text()
    assert "sk-ant-api03" not in raw
    assert "ghp_abcdef" not in raw
    assert "plain-secret-value" not in raw
    loaded = store.load(sid)
    assert loaded["messages"][-2]["content"] == "my key is [REDACTED] ok"
    assert loaded["messages"][-1]["content"] == "GITHUB_TOKEN=[REDACTED]"
    assert loaded["config"] == {"api_key": "[REDACTED]", "max_tokens": 1024}


def test_list_latest_resolve_and_delete(tmp_path):
    store = SessionStore(tmp_path)
    a = store.new_id(now=1_700_000_000.0)
    b = store.new_id(now=1_700_000_100.0)
    store.save(a, _session(text="first task"))
    store.save(b, _session(text="second task"))
    infos = store.list()
    assert [i.id for i in infos] == [b, a]
    assert infos[0].title == "second task 0"
    assert infos[0].messages == 5
    assert infos[0].model == "qwen2.5-coder-1.5b"
    # resuming the older one and saving makes it the latest
    os.utime(store.path(b), (time.time() - 100, time.time() - 100))
    store.save(a, store.load(a))
    assert store.latest() == a
    assert store.resolve(a[:15]) == a
    with pytest.raises(SessionNotFound):
        store.resolve("0000")
    store.delete(a)
    assert store.ids() == [b]
    with pytest.raises(SessionNotFound):
        store.load(a)
    with pytest.raises(SessionNotFound):
        store.delete(a)


def test_resolve_refuses_an_ambiguous_prefix(tmp_path):
    store = SessionStore(tmp_path)
    a, b = store.new_id(now=1_700_000_000.0), store.new_id(now=1_700_000_000.0)
    store.save(a, {})
    store.save(b, {})
    with pytest.raises(SessionError, match="matches 2 sessions"):
        store.resolve(a[:13])


def test_empty_store_lists_nothing(tmp_path):
    store = SessionStore(tmp_path)
    assert store.list() == []
    assert store.latest() is None


def test_a_corrupt_file_gives_a_clear_error(tmp_path):
    store = SessionStore(tmp_path)
    sid = store.new_id()
    store.save(sid, {})
    store.path(sid).write_text("{not json")
    with pytest.raises(SessionError, match="not valid JSON"):
        store.load(sid)


_WRITER = """
import sys
from smallcode.core.memory.sessions import SessionStore
store = SessionStore(sys.argv[1])
sid = sys.argv[2]
big = "x" * 400_000
i = 0
print("ready", flush=True)
while True:
    i += 1
    store.save(sid, {"version": i, "messages": [{"role": "user", "content": big + str(i)}]})
"""


def test_killing_a_writer_mid_save_leaves_a_complete_session(tmp_path):
    store = SessionStore(tmp_path)
    sid = store.new_id()
    store.save(sid, {"version": 0, "messages": []})
    seen = set()
    for round_ in range(4):
        proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path), sid],
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(0.15 + 0.1 * round_)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        data = store.load(sid)  # never raises: old or new, never broken
        assert isinstance(data["version"], int)
        if data["version"]:
            assert data["messages"][0]["content"] == "x" * 400_000 + str(data["version"])
        seen.add(data["version"])
        json.loads(store.path(sid).read_text())
    assert len(seen) >= 2  # the writer really did write between kills
    # temp files from killed writers are cleaned once old enough
    assert store.clean_temp_files(older_than_s=0) >= 0
    assert [p.name for p in store.dir.iterdir()] == [f"{sid}.json"]


def test_transcript_renders_turns_tool_calls_and_results(tmp_path):
    data = {"id": "x", "model": "m", "messages": [
        {"role": "system", "content": "sys prompt"},
        {"role": "user", "content": "fix the bug"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "c1", "type": "function",
             "function": {"name": "read_file", "arguments": "{\"path\": \"a.py\"}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "1| print(1)\n2| print(2)"},
        {"role": "assistant", "content": "Fixed."},
    ], "usage": {"prompt_tokens": 12}}
    text = render_transcript(data)
    assert text == (
        "session x · model m\n\n"
        "── system (10 chars, not shown)\n\n"
        "── user\nfix the bug\n\n"
        "── assistant\n  → read_file({\"path\": \"a.py\"})\n\n"
        "── result of read_file\n  1| print(1)\n  2| print(2)\n\n"
        "── assistant\nFixed.\n\n"
        "usage: prompt_tokens 12\n"
    )
