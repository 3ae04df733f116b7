"""Oracle-verified best-of-N: candidates from the same checkpoint, first passing one kept."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from smallcode.core.bestofn import best_of_n
from smallcode.core.config import AgentSettings
from smallcode.core.snapshots import SnapshotStore
from smallcode.core.tools import ToolContext, Workspace, build_registry

ORIGINAL = "def add(a, b):\n    return a - b\n"
ORACLE = f"{sys.executable} -c 'import calc; assert calc.add(2, 3) == 5'"


@pytest.fixture()
async def setup(tmp_path: Path):
    (tmp_path / "calc.py").write_text(ORIGINAL)
    store = SnapshotStore(tmp_path)
    ctx = ToolContext(Workspace(tmp_path), snapshots=store)
    registry = build_registry()
    yield tmp_path, store, ctx, registry
    shell = ctx.services.shell
    if shell is not None:
        await shell.close()


def make_attempt(root: Path, store: SnapshotStore, ctx: ToolContext, registry, bodies: list[str],
                 seen: list[tuple[str, list[str]]]):
    async def attempt(i: int) -> bool:
        seen.append(((root / "calc.py").read_text(),
                     sorted(p.name for p in root.iterdir() if p.name not in (".smallcode", "__pycache__"))))
        if bodies[i] == "raise":
            raise RuntimeError("model server went away")
        await registry.execute("read_file", {"path": "calc.py"}, ctx)
        r = await registry.execute("write_file", {"path": "calc.py",
                                                  "content": f"def add(a, b):\n    return {bodies[i]}\n"},
                                   ctx)
        assert r.ok, r.output
        await registry.execute("write_file", {"path": f"scratch_{i}.txt", "content": "notes"}, ctx)
        store.before_shell()
        try:
            result = await registry.execute("bash", {"command": f"touch made_by_{i} && {ORACLE}"}, ctx)
        finally:
            store.after_shell()
        return result.ok
    return attempt


async def test_first_passing_candidate_is_kept_each_from_the_same_state(setup) -> None:
    root, store, ctx, registry = setup
    cp = store.begin("fix add")
    seen: list[tuple[str, list[str]]] = []
    result = await best_of_n(4, make_attempt(root, store, ctx, registry,
                                             ["a * b", "raise", "a + b", "b - a"], seen), store, cp)
    assert (result.passed, result.winner, result.attempts) == (True, 2, 3)
    assert result.failures == ["candidate 1: the oracle failed",
                               "candidate 2: RuntimeError: model server went away"]
    assert seen == [(ORIGINAL, ["calc.py"])] * 3  # every candidate saw the untouched project
    assert (root / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
    assert sorted(p.name for p in root.iterdir() if p.name not in (".smallcode", "__pycache__")) == \
        ["calc.py", "made_by_2", "scratch_2.txt"]
    store.end()
    store.undo()  # the kept candidate is one ordinary, undoable turn
    assert sorted(p.name for p in root.iterdir() if p.name not in (".smallcode", "__pycache__")) == ["calc.py"]
    assert (root / "calc.py").read_text() == ORIGINAL


async def test_no_candidate_passes(setup) -> None:
    root, store, ctx, registry = setup
    cp = store.begin("fix add")
    seen: list[tuple[str, list[str]]] = []
    result = await best_of_n(2, make_attempt(root, store, ctx, registry, ["a * b", "a - 1"], seen),
                             store, cp)
    assert (result.passed, result.winner, result.attempts) == (False, None, 2)
    assert (root / "calc.py").read_text() == "def add(a, b):\n    return a - 1\n"  # last kept
    seen.clear()
    result = await best_of_n(2, make_attempt(root, store, ctx, registry, ["a * b", "a - 1"], seen),
                             store, cp, on_failure="restore")
    assert not result.passed
    assert sorted(p.name for p in root.iterdir() if p.name not in (".smallcode", "__pycache__")) == ["calc.py"]
    assert (root / "calc.py").read_text() == ORIGINAL


async def test_default_is_one_candidate_and_bad_arguments_are_refused(setup) -> None:
    root, store, ctx, registry = setup
    assert AgentSettings().best_of_n == 1
    seen: list[tuple[str, list[str]]] = []
    result = await best_of_n(1, make_attempt(root, store, ctx, registry, ["a + b"], seen), None, None)
    assert (result.passed, result.attempts) == (True, 1)
    with pytest.raises(ValueError, match="at least one"):
        await best_of_n(0, make_attempt(root, store, ctx, registry, [], seen), store, None)
    with pytest.raises(ValueError, match="needs snapshots and a checkpoint"):
        await best_of_n(3, make_attempt(root, store, ctx, registry, [], seen), store, None)
