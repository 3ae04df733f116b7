"""Snapshot overhead: before_shell/after_shell around a shell command, record(), and restore.

Run: python tests/perf/bench_snapshots.py  — prints milliseconds per operation for a 500-file and
a 2,000-file workspace (text files of 1-8 KB in nested folders, plus an ignored build folder).
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from smallcode.core.snapshots import SnapshotStore


def make_workspace(root: Path, n_files: int) -> list[str]:
    rng = random.Random(n_files)
    (root / ".gitignore").write_text("build/\n")
    (root / "build").mkdir()
    for i in range(200):
        (root / "build" / f"o{i}.o").write_bytes(b"\0" * 512)
    rels = []
    for i in range(n_files):
        rel = f"pkg{i % 20}/sub{i % 7}/mod_{i}.py"
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("".join(f"line {j} of {rel}\n" for j in range(rng.randint(40, 300))))
        rels.append(rel)
    return rels


def timed(fn: Callable[[], object], repeat: int = 5) -> float:
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t) * 1000)
    return statistics.median(runs)


def bench(n_files: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rels = make_workspace(root, n_files)
        size_mb = sum((root / r).stat().st_size for r in rels) / 1e6
        store = SnapshotStore(root)
        store.begin("bench")
        out: dict[str, float] = {"files": n_files, "MB": size_mb}
        t = time.perf_counter()
        store.before_shell()
        out["before_shell cold (fill cache)"] = (time.perf_counter() - t) * 1000
        store.after_shell()
        befores, afters = [], []
        for _ in range(5):
            t0 = time.perf_counter()
            store.before_shell()
            t1 = time.perf_counter()
            store.after_shell()
            befores.append((t1 - t0) * 1000)
            afters.append((time.perf_counter() - t1) * 1000)
        out["before_shell warm"] = statistics.median(befores)
        out["after_shell, nothing changed"] = statistics.median(afters)

        def shell_changing_10() -> None:
            store.before_shell()
            for rel in rels[:10]:
                (root / rel).write_text("changed by a command\n")
            t0 = time.perf_counter()
            store.after_shell()
            shell_changing_10.last = (time.perf_counter() - t0) * 1000  # type: ignore[attr-defined]

        shell_changing_10()
        out["after_shell, 10 files changed"] = shell_changing_10.last  # type: ignore[attr-defined]
        out["record() per file (blob + metadata, fsync)"] = timed(
            lambda: [store.record(r, (root / r).read_bytes()) for r in rels[10:60]], 1) / 50
        for r in rels[10:60]:
            (root / r).write_text("agent edit\n")
        for i in range(10):
            store.record(f"new/dir{i}/f.py", None)
            (root / f"new/dir{i}").mkdir(parents=True)
            (root / f"new/dir{i}/f.py").write_text("x\n")
        store.end()
        t = time.perf_counter()
        report = store.undo()
        out["undo of 70 files (60 restored, 10 deleted)"] = (time.perf_counter() - t) * 1000
        assert len(report.restored) == 60 and len(report.deleted) == 10, report.summary()
        return out


def main() -> None:
    for n in (500, 2000):
        res = bench(n)
        print(f"\n== workspace: {int(res.pop('files'))} files, {res.pop('MB'):.1f} MB ==")
        for k, v in res.items():
            print(f"  {k:<48} {v:8.2f} ms")


if __name__ == "__main__":
    main()
