"""Solve-path overhead without a model: what checking one candidate costs.

For a project of N Python modules with a pytest suite, it times the steps the solve path runs
for every candidate: the scratch copy of the workspace, validation and import of the changed
file, and the oracle's test run, sequentially and with 2 candidates checked at once (the
in-process pool). Prints median / p90 per step and the per-candidate wall.

Run: ``python tests/perf/bench_solve.py [--modules N] [--repeats R]``
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from smallcode.core.config import Settings
from smallcode.core.solve.localize import locate
from smallcode.core.solve.oracle import Oracle
from smallcode.core.solve.solver import Candidate, Solver
from smallcode.core.tools.workspace import Workspace


def make_project(root: Path, modules: int) -> None:
    for i in range(modules):
        (root / f"mod{i}.py").write_text(
            f"def f{i}(x):\n    return x + {i}\n\n\ndef g{i}(x):\n    return f{i}(x) * 2\n")
        (root / f"test_mod{i}.py").write_text(
            f"from mod{i} import f{i}, g{i}\n\n\ndef test_f():\n    assert f{i}(1) == {i + 1}\n"
            f"\n\ndef test_g():\n    assert g{i}(1) == {2 * (i + 1)}\n")
    (root / "mod0.py").write_text("def f0(x):\n    return x - 0 + 1\n\n\ndef g0(x):\n"
                                  "    return f0(x) * 2\n")  # two tests fail at the start


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--modules", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=10)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_project(root, args.modules)
        ws = Workspace(root)
        settings = Settings().solve

        async def emit(_event: object) -> None:
            return None

        solver = Solver(model=None, workspace=ws, settings=settings, emit=emit)  # type: ignore[arg-type]
        t0 = time.perf_counter()
        located = locate("test_f in test_mod0.py fails", ws, settings.whole_repo_chars)
        oracle = solver._oracle("test_f in test_mod0.py fails", located)
        setup = time.perf_counter() - t0
        fixed = "def f0(x):\n    return x + 0\n\n\ndef g0(x):\n    return f0(x) * 2\n"
        seq: list[float] = []
        for n in range(args.repeats):
            cand = Candidate(n, 0.0, "", {"mod0.py": fixed}, [])
            t = time.perf_counter()
            result = await asyncio.to_thread(solver._check, cand, oracle, located, "")
            seq.append(time.perf_counter() - t)
            assert result.passed, result.detail
        par: list[float] = []
        for n in range(args.repeats // 2 or 1):
            cands = [Candidate(i, 0.0, "", {"mod0.py": fixed}, []) for i in range(2)]
            t = time.perf_counter()
            await asyncio.gather(*(asyncio.to_thread(solver._check, c, oracle, located, "") for c in cands))
            par.append(time.perf_counter() - t)
        print(f"project: {args.modules} modules + {args.modules} test files; "
              f"oracle: {oracle.kind} ({oracle.description})")
        print(f"localize + oracle at the start (one test run): {setup:.2f}s")
        print(f"check one candidate (copy, validate, import, tests): median "
              f"{statistics.median(seq):.2f}s, p90 {pct(seq, 0.9):.2f}s over {len(seq)}")
        print(f"check two candidates at once: median {statistics.median(par):.2f}s "
              f"({statistics.median(par) / 2:.2f}s per candidate)")
        assert isinstance(oracle, Oracle)


if __name__ == "__main__":
    asyncio.run(main())
