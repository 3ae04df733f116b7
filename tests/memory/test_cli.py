"""`smallcode memory ...` and `smallcode sessions ...` end to end through the real parser."""

from __future__ import annotations

import json

import pytest
from smallcode.cli.main import build_parser
from smallcode.core.memory.sessions import SessionStore


def run(capsys, *argv: str) -> tuple[int, str, str]:
    args = build_parser().parse_args(list(argv))
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_memory_add_search_list_forget_export(tmp_path, capsys):
    ws = str(tmp_path)
    code, out, _ = run(capsys, "-C", ws, "memory", "add", "--tags", "ci,db",
                       "Never", "run", "migrations", "on", "the", "prod", "db", "from", "CI")
    assert (code, out) == (0, "remembered as gotcha #1\n")
    code, out, _ = run(capsys, "-C", ws, "memory", "add", "--type", "decision", "--title",
                       "Storage", "We chose DuckDB for memory")
    assert (code, out) == (0, "remembered as decision #2\n")
    code, out, _ = run(capsys, "-C", ws, "memory", "add", "we chose duckdb for memory")
    assert out == "already remembered as #2 (same content); nothing added\n"

    code, out, _ = run(capsys, "-C", ws, "memory", "search", "migrations", "--json")
    hits = json.loads(out)
    assert [h["id"] for h in hits] == [1] and hits[0]["tags"] == ["ci", "db"]

    code, out, _ = run(capsys, "-C", ws, "memory", "list", "--type", "decision")
    assert out.splitlines()[0] == "#2     decision   Storage"

    code, out, err = run(capsys, "-C", ws, "memory", "forget", "2", "7")
    assert code == 1 and out == "forgot #2\n" and "no note #7" in err

    target = tmp_path / "export.json"
    code, out, _ = run(capsys, "-C", ws, "memory", "export", "-o", str(target))
    assert code == 0
    assert [e["id"] for e in json.loads(target.read_text())] == [1]

    other = tmp_path / "other"
    other.mkdir()
    code, out, _ = run(capsys, "-C", str(other), "memory", "import", str(target))
    assert (code, out) == (0, "imported 1 notes (0 duplicates skipped)\n")
    code, out, _ = run(capsys, "-C", str(other), "memory", "import", str(target))
    assert out == "imported 0 notes (1 duplicates skipped)\n"
    (tmp_path / "bad.json").write_text('{"not": "a list"}')
    code, _, err = run(capsys, "-C", str(other), "memory", "import", str(tmp_path / "bad.json"))
    assert code == 2 and "expected a JSON list" in err


def test_memory_commands_are_listed_in_main():
    from smallcode.cli.main import COMMAND_MODULES

    assert "cmd_memory" in COMMAND_MODULES and "cmd_sessions" in COMMAND_MODULES


def test_sessions_list_show_delete(tmp_path, capsys):
    store = SessionStore(tmp_path)
    sid = store.new_id()
    store.save(sid, {"model": "qwen", "messages": [
        {"role": "user", "content": "add a test"}, {"role": "assistant", "content": "Done."}],
        "tasks": [{"task": "add a test", "success": True},
                  {"task": "second one", "success": False}]})
    ws = str(tmp_path)

    code, out, _ = run(capsys, "-C", ws, "sessions", "list")
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith("ID")
    assert lines[1].startswith(sid) and lines[1].endswith("add a test")

    code, out, _ = run(capsys, "-C", ws, "sessions", "show", sid)
    assert code == 0 and f"id        {sid}" in out and "messages  2" in out
    assert "  [ok  ] add a test" in out and "  [fail] second one" in out
    code, out, _ = run(capsys, "-C", ws, "sessions", "show", sid[:16], "--transcript")
    assert code == 0 and "── user\nadd a test\n\n── assistant\nDone." in out

    code, out, _ = run(capsys, "-C", ws, "sessions", "show", sid, "--json")
    assert json.loads(out)["id"] == sid

    code, out, err = run(capsys, "-C", ws, "sessions", "show", "../../etc")
    assert code == 1 and "invalid session id" in err

    code, out, _ = run(capsys, "-C", ws, "sessions", "delete", sid)
    assert (code, out) == (0, f"deleted {sid}\n")
    code, out, _ = run(capsys, "-C", ws, "sessions", "list")
    assert out == "no saved sessions in this project\n"


@pytest.mark.parametrize("argv", [["memory"], ["sessions"]])
def test_an_action_is_required(argv, capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(argv)
