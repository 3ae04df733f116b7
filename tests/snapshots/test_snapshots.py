"""Snapshots and undo: checkpoints around real tool calls (patch, write_file, bash), byte-identical
restore, untouched files left alone, conflicts, crash safety of the metadata."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from smallcode.core import snapshots
from smallcode.core.snapshots import SnapshotError, SnapshotStore, execute_with_snapshots
from smallcode.core.tools import ToolContext, Workspace, build_registry

ORIGINAL_APP = b"def add(a, b):\r\n    return a - b\r\n\r\n# caf\xc3\xa9 \xe2\x9c\x93 no newline at end"
ORIGINAL_NOTES = b"line one\nline two\n"
BINARY = bytes(range(256)) * 4


def make_project(root: Path) -> None:
    (root / "src").mkdir()
    (root / "src" / "app.py").write_bytes(ORIGINAL_APP)
    (root / "notes.txt").write_bytes(ORIGINAL_NOTES)
    (root / "data.bin").write_bytes(BINARY)
    (root / "untouched.md").write_bytes(b"# keep me\n")
    script = root / "run.sh"
    script.write_bytes(b"#!/bin/sh\necho hi\n")
    script.chmod(0o755)


def tree(root: Path) -> dict[str, bytes]:
    """Every file outside .smallcode, with its bytes."""
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_file() and not rel.startswith(".smallcode/") and "__pycache__" not in rel:
            out[rel] = p.read_bytes()
    return out


@pytest.fixture()
async def project(tmp_path: Path):
    make_project(tmp_path)
    store = SnapshotStore(tmp_path)
    registry = build_registry()
    ctx = ToolContext(Workspace(tmp_path), snapshots=store)
    yield tmp_path, store, registry, ctx
    shell = ctx.services.shell
    if shell is not None:
        await shell.close()


async def bash(registry, ctx, store: SnapshotStore, command: str):
    store.before_shell()
    try:
        return await registry.execute("bash", {"command": command}, ctx)
    finally:
        store.after_shell()


async def test_undo_restores_byte_identical_files_after_patch_write_and_bash(project) -> None:
    root, store, registry, ctx = project
    before = tree(root)
    store.begin("fix add")
    r = await registry.execute("patch", {"path": "src/app.py", "old_str": "return a - b",
                                         "new_str": "return a + b"}, ctx)
    assert r.ok, r.output
    await registry.execute("read_file", {"path": "notes.txt"}, ctx)
    r = await registry.execute("write_file", {"path": "notes.txt", "content": "rewritten\n"}, ctx)
    assert r.ok, r.output
    r = await registry.execute("write_file", {"path": "pkg/new/mod.py", "content": "X = 1\n"}, ctx)
    assert r.ok, r.output
    r = await bash(registry, ctx, store,
                   "printf 'junk' > data.bin && rm run.sh && mkdir -p out/deep && "
                   "echo made > out/deep/made.txt && echo more >> src/app.py")
    assert r.ok, r.output
    store.end()
    changed = tree(root)
    assert changed["src/app.py"] != ORIGINAL_APP and "run.sh" not in changed
    assert changed["out/deep/made.txt"] == b"made\n"

    report = store.undo()

    assert report.ok, report.summary()
    assert tree(root) == before
    assert sorted(report.restored) == ["data.bin", "notes.txt", "run.sh", "src/app.py"]
    assert sorted(report.deleted) == ["out/deep/made.txt", "pkg/new/mod.py"]
    assert not (root / "out").exists() and not (root / "pkg").exists()
    assert stat.S_IMODE((root / "run.sh").stat().st_mode) == 0o755


async def test_undo_never_touches_files_the_agent_did_not_change(project) -> None:
    root, store, registry, ctx = project
    store.begin("turn")
    await registry.execute("patch", {"path": "src/app.py", "old_str": "a - b",
                                     "new_str": "a + b"}, ctx)
    store.end()
    # the user changes other files after the turn, and adds one
    (root / "untouched.md").write_bytes(b"# user edit\n")
    (root / "user_new.txt").write_bytes(b"mine\n")
    before_stats = {p: os.stat(root / p).st_mtime_ns for p in ("untouched.md", "notes.txt")}

    report = store.undo()

    assert report.restored == ["src/app.py"]
    assert (root / "src/app.py").read_bytes() == ORIGINAL_APP
    assert (root / "untouched.md").read_bytes() == b"# user edit\n"
    assert (root / "user_new.txt").read_bytes() == b"mine\n"
    assert {p: os.stat(root / p).st_mtime_ns for p in before_stats} == before_stats


async def test_file_edited_by_the_user_after_the_agent_is_refused_unless_forced(project) -> None:
    root, store, registry, ctx = project
    store.begin("turn")
    await registry.execute("patch", {"path": "src/app.py", "old_str": "a - b",
                                     "new_str": "a + b"}, ctx)
    await registry.execute("read_file", {"path": "notes.txt"}, ctx)
    await registry.execute("write_file", {"path": "notes.txt", "content": "agent\n"}, ctx)
    store.end()
    (root / "src/app.py").write_bytes(b"user rewrote this\n")

    report = store.undo()

    assert [p for p, _ in report.conflicts] == ["src/app.py"]
    assert "changed after the agent's edit" in report.conflicts[0][1]
    assert (root / "src/app.py").read_bytes() == b"user rewrote this\n"
    assert report.restored == ["notes.txt"]
    assert (root / "notes.txt").read_bytes() == ORIGINAL_NOTES
    assert "KEPT     src/app.py" in report.summary()

    assert [c.status for c in store.list()] == ["partial"]
    # the refused file stays pending; a forced undo reverts it (and only it)
    (root / "notes.txt").write_bytes(b"user, after the undo\n")
    forced = store.undo(force=True)
    assert forced.restored == ["src/app.py"] and not forced.conflicts
    assert (root / "src/app.py").read_bytes() == ORIGINAL_APP
    assert (root / "notes.txt").read_bytes() == b"user, after the undo\n"
    assert [c.status for c in store.list()] == ["undone"]
    assert store.undo().summary() == "nothing to undo"


async def test_undo_n_turns_and_undo_to_a_named_checkpoint(project) -> None:
    root, store, registry, ctx = project
    contents = []
    for i in range(4):
        store.begin(f"turn {i}")
        contents.append((root / "notes.txt").read_bytes())
        await registry.execute("read_file", {"path": "notes.txt"}, ctx)
        await registry.execute("write_file", {"path": "notes.txt", "content": f"v{i}\n"}, ctx)
        store.end()
    store.begin("question only")  # a turn with no edits is not an undo step
    store.end()
    assert [c.label for c in store.list()] == ["turn 0", "turn 1", "turn 2", "turn 3"]

    rep = store.undo(2)
    assert len(rep.checkpoints) == 2
    assert (root / "notes.txt").read_bytes() == b"v1\n"
    rep = store.undo_to("turn 1")  # already undone → only turn 1 itself is left to revert
    assert (root / "notes.txt").read_bytes() == b"v0\n"
    first = store.list()[0].id
    store.undo_to(first[:6])  # unique sequence prefix
    assert (root / "notes.txt").read_bytes() == ORIGINAL_NOTES
    assert store.undo().summary() == "nothing to undo"
    assert [c.status for c in store.list()] == ["undone"] * 4
    with pytest.raises(SnapshotError, match="no checkpoint named 'nope'"):
        store.undo_to("nope")


async def test_only_the_first_record_per_path_per_checkpoint_counts(project) -> None:
    root, store, registry, ctx = project
    store.begin("turn")
    for n in range(3):
        await registry.execute("read_file", {"path": "notes.txt"}, ctx)
        r = await registry.execute("write_file", {"path": "notes.txt", "content": f"{n}\n"}, ctx)
        assert r.ok
    await bash(registry, ctx, store, "echo shell >> notes.txt")
    assert store.record("notes.txt", b"late") is False
    store.end()
    assert (root / "notes.txt").read_bytes() == b"2\nshell\n"
    store.undo()
    assert (root / "notes.txt").read_bytes() == ORIGINAL_NOTES


async def test_rollback_of_the_open_checkpoint_keeps_it_open_and_empty(project) -> None:
    root, store, registry, ctx = project
    cp = store.begin("turn")
    await registry.execute("patch", {"path": "src/app.py", "old_str": "a - b",
                                     "new_str": "a + b"}, ctx)
    await bash(registry, ctx, store, "echo x > created.txt")
    report = store.restore(cp)
    assert sorted(report.restored + report.deleted) == ["created.txt", "src/app.py"]
    assert (root / "src/app.py").read_bytes() == ORIGINAL_APP and not (root / "created.txt").exists()
    assert store.current == cp
    # the turn continues: the next edit records against the same checkpoint again
    await registry.execute("patch", {"path": "src/app.py", "old_str": "a - b",
                                     "new_str": "b + a"}, ctx)
    store.end()
    doc = json.loads((root / ".smallcode/snapshots/checkpoints" / f"{cp}.json").read_text())
    assert list(doc["entries"]) == ["src/app.py"] and len(doc["history"]) == 1
    store.undo()
    assert (root / "src/app.py").read_bytes() == ORIGINAL_APP


async def test_metadata_survives_a_crash_mid_turn(project) -> None:
    root, store, registry, ctx = project
    store.begin("crashing turn")
    await registry.execute("patch", {"path": "src/app.py", "old_str": "a - b",
                                     "new_str": "a + b"}, ctx)
    # the process dies: no end(); a stray temp file from an interrupted write is left behind
    snap = root / ".smallcode/snapshots/checkpoints"
    (snap / ".000009-20260101T000000.json.abc.tmp").write_text('{"id": "half')
    (snap / "000099-20260101T000000.json").write_text("{not json")  # corrupted by hand
    del store

    fresh = SnapshotStore(root)
    listed = fresh.list()
    assert [c.label for c in listed] == ["crashing turn"] and listed[0].status == "open"
    report = fresh.undo()
    assert report.restored == ["src/app.py"]
    assert (root / "src/app.py").read_bytes() == ORIGINAL_APP


def test_begin_closes_a_checkpoint_left_open_by_a_dead_process(tmp_path: Path) -> None:
    make_project(tmp_path)
    dead = SnapshotStore(tmp_path)
    dead.begin("dead")
    dead.record("notes.txt", ORIGINAL_NOTES)
    (tmp_path / "notes.txt").write_bytes(b"agent\n")
    alive = SnapshotStore(tmp_path)
    alive.begin("next")
    assert [c.status for c in alive.list()] == ["closed"]
    (tmp_path / "notes.txt").write_bytes(b"user\n")  # after the agent: a conflict now
    assert [p for p, _ in alive.undo().conflicts] == ["notes.txt"]


def test_store_files_are_private_and_ids_are_validated(tmp_path: Path) -> None:
    make_project(tmp_path)
    store = SnapshotStore(tmp_path)
    cp = store.begin("t")
    store.record("notes.txt", ORIGINAL_NOTES)
    d = tmp_path / ".smallcode/snapshots"
    assert stat.S_IMODE(d.stat().st_mode) == 0o700
    assert stat.S_IMODE((d / "checkpoints" / f"{cp}.json").stat().st_mode) == 0o600
    with pytest.raises(SnapshotError, match="not a checkpoint id"):
        store.restore("../../etc/passwd")
    with pytest.raises(SnapshotError, match="outside the workspace"):
        store.record("../outside.txt", b"x")


def git_commit_all(root: Path) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "init"]):
        subprocess.run(cmd, cwd=root, check=True, env=env)


async def test_shell_capture_uses_git_when_the_cache_is_full(project, monkeypatch) -> None:
    root, store, registry, ctx = project
    git_commit_all(root)
    (root / "untouched.md").write_bytes(b"dirty, not in git\n")
    monkeypatch.setattr(snapshots, "CACHE_MAX_FILES", 0)  # nothing fits in the content cache
    store.begin("turn")
    await bash(registry, ctx, store, "echo x > notes.txt && echo y > untouched.md")
    assert store.last_shell_warnings == [
        ("untouched.md: changed by a shell command, earlier content not captured (workspace over "
         "the snapshot cache limit and file not clean in git)")]
    store.end()
    report = store.undo()
    assert report.restored == ["notes.txt"] and report.unrestorable == ["untouched.md"]
    assert (root / "notes.txt").read_bytes() == ORIGINAL_NOTES
    assert "LOST     untouched.md" in report.summary()


async def test_ignored_files_are_not_captured(project) -> None:
    root, store, registry, ctx = project
    (root / ".gitignore").write_text("build/\n*.log\n")
    store = SnapshotStore(root)
    ctx.services.snapshots = store
    store.begin("turn")
    await bash(registry, ctx, store, "mkdir -p build && echo o > build/out && echo l > x.log "
                                     "&& echo k > kept.txt")
    store.end()
    assert store.list()[0].files == ["kept.txt"]
    store.undo()
    assert not (root / "kept.txt").exists() and (root / "x.log").exists()


def test_a_worker_process_records_into_the_same_checkpoint(tmp_path: Path) -> None:
    make_project(tmp_path)
    store = SnapshotStore(tmp_path)
    cp = store.begin("parallel turn")
    store.record("notes.txt", ORIGINAL_NOTES)
    (tmp_path / "notes.txt").write_bytes(b"main process\n")
    worker = (
        "import sys; from pathlib import Path\n"
        "from smallcode.core.snapshots import SnapshotStore\n"
        "root = Path(sys.argv[1]); s = SnapshotStore(root); s.attach(sys.argv[2])\n"
        "s.record('untouched.md', (root / 'untouched.md').read_bytes())\n"
        "(root / 'untouched.md').write_bytes(b'worker\\n')\n"
        "s.record('notes.txt', b'must not win')\n"
    )
    subprocess.run([sys.executable, "-c", worker, str(tmp_path), cp], check=True, timeout=60)
    store.record("src/app.py", ORIGINAL_APP)  # the main process records after the worker
    (tmp_path / "src/app.py").write_bytes(b"main again\n")
    store.end()
    assert store.list()[0].files == ["notes.txt", "src/app.py", "untouched.md"]
    report = store.undo()
    assert sorted(report.restored) == ["notes.txt", "src/app.py", "untouched.md"]
    assert (tmp_path / "notes.txt").read_bytes() == ORIGINAL_NOTES
    assert (tmp_path / "untouched.md").read_bytes() == b"# keep me\n"
    assert (tmp_path / "src/app.py").read_bytes() == ORIGINAL_APP


def test_a_checkpoint_open_in_a_live_process_is_left_open(tmp_path: Path) -> None:
    make_project(tmp_path)
    other = SnapshotStore(tmp_path)
    cp = other.begin("running elsewhere")
    path = tmp_path / ".smallcode/snapshots/checkpoints" / f"{cp}.json"
    doc = json.loads(path.read_text())
    doc["owner"]["pid"] = os.getppid()  # as if a live agent process had opened it
    path.write_text(json.dumps(doc))
    mine = SnapshotStore(tmp_path)
    mine_id = mine.begin("mine")
    mine.end()
    assert json.loads(path.read_text())["status"] == "open"
    with pytest.raises(SnapshotError, match=f"checkpoint {mine_id} is not open"):
        SnapshotStore(tmp_path).attach(mine_id)


async def test_execute_with_snapshots_captures_command_tools(project) -> None:
    root, store, registry, ctx = project
    before = tree(root)
    store.begin("compound")
    r = await execute_with_snapshots(registry, "create_and_run", {
        "path": "gen.py", "content": "open('notes.txt', 'w').write('generated')\n",
        "command": f"{sys.executable} gen.py && rm data.bin"}, ctx)
    assert r.ok, r.output
    assert r.data["shell_changed_files"] == ["data.bin", "gen.py", "notes.txt"]
    r = await execute_with_snapshots(registry, "read_file", {"path": "notes.txt"}, ctx)
    assert "shell_changed_files" not in r.data
    store.end()
    store.undo()
    assert tree(root) == before


async def test_overlapping_commands_record_the_union_of_their_changes(project) -> None:
    root, store, registry, ctx = project
    before = tree(root)
    store.begin("parallel")
    ctx2 = ToolContext(Workspace(root), snapshots=store)  # a second step, its own shell
    try:
        await asyncio.gather(
            execute_with_snapshots(registry, "bash", {"command": "sleep 0.3; echo a > a.txt"}, ctx),
            execute_with_snapshots(registry, "bash", {"command": "echo b >> notes.txt"}, ctx2))
    finally:
        await ctx2.services.shell.close()
    store.end()
    assert store.list()[0].files == ["a.txt", "notes.txt"]
    store.undo()
    assert tree(root) == before
    with pytest.raises(SnapshotError, match="without before_shell"):
        store.after_shell()


def test_undo_refuses_a_turn_that_another_live_process_is_running(tmp_path: Path) -> None:
    make_project(tmp_path)
    agent = SnapshotStore(tmp_path)
    cp = agent.begin("running")
    agent.record("notes.txt", ORIGINAL_NOTES)
    (tmp_path / "notes.txt").write_bytes(b"mid-turn\n")
    path = tmp_path / ".smallcode/snapshots/checkpoints" / f"{cp}.json"
    doc = json.loads(path.read_text())
    doc["owner"]["pid"] = os.getppid()  # a live agent process
    path.write_text(json.dumps(doc))
    with pytest.raises(SnapshotError, match=f"checkpoint {cp} belongs to an agent turn still running"):
        SnapshotStore(tmp_path).undo()
    assert (tmp_path / "notes.txt").read_bytes() == b"mid-turn\n"
    doc["owner"]["pid"] = 2**22 + 12345  # that process is gone now
    path.write_text(json.dumps(doc))
    assert SnapshotStore(tmp_path).undo().restored == ["notes.txt"]
    assert (tmp_path / "notes.txt").read_bytes() == ORIGINAL_NOTES
