"""Code-graph benchmarks on the running interpreter's standard library.

    python tests/perf/bench_graph.py [--root DIR] [--queries 300] [--saves 20] [--workers 2]

Copies the stdlib's Python files (no site-packages) into a temporary workspace, then prints:
full index time and peak memory, warm start-up, graph_search (2,000-token budget) p50/p99, and
file save -> updated symbols queryable p50 through the watcher. Goals: full index
<= 15 s on 2 cores, warm start <= 1 s, search p50 <= 1 ms, save->queryable p50 <= 150 ms.
The machine's load average is printed too: the box is shared and figures move with it.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from smallcode.core.graph import CodeGraph, estimate_tokens
from smallcode.core.graph.watch import GraphWatcher


def copy_python_tree(src: Path, dst: Path) -> int:
    count = 0
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames[:] = sorted(d for d in dirnames if d not in ("site-packages", "__pycache__"))
        for name in filenames:
            if name.endswith(".py"):
                source = Path(dirpath) / name
                target = dst / source.relative_to(src)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
                count += 1
    return count


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux: KiB


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=sysconfig.get_paths()["stdlib"])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--saves", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-graph-"))
    try:
        n_files = copy_python_tree(Path(args.root), tmp)
        lines = sum(p.read_bytes().count(b"\n") for p in tmp.rglob("*.py"))
        print(f"workspace: {n_files} Python files, {lines:,} lines (copy of {args.root})")
        print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

        # 1. Full index from nothing.
        cpu0 = cpu_seconds()
        t0 = time.perf_counter()
        graph = CodeGraph(tmp, workers=args.workers)
        report = graph.index()
        full = time.perf_counter() - t0
        cpu = cpu_seconds() - cpu0
        print(f"full index: {full:.2f} s ({report.parsed} parsed, {len(report.skipped)} skipped, "
              f"{len(report.errors)} with parse errors) -> {report.symbols:,} symbols, "
              f"{report.references:,} references")
        print(f"  CPU used: {cpu:.2f} s (main + parse workers) -> on 2 idle cores at least "
              f"{cpu / 2:.2f} s wall")
        print(f"peak RSS: main {rss_mb(resource.RUSAGE_SELF):.0f} MB, "
              f"largest parse worker {rss_mb(resource.RUSAGE_CHILDREN):.0f} MB")
        db = tmp / ".smallcode" / "graph.duckdb"
        print(f"index file: {db.stat().st_size / 1e6:.1f} MB")

        # 2. Warm start-up: a new process-equivalent CodeGraph, nothing changed.
        warm = []
        for _ in range(3):
            t0 = time.perf_counter()
            fresh = CodeGraph(tmp, workers=args.workers)
            r = fresh.index()
            warm.append(time.perf_counter() - t0)
            assert r.parsed == 0, r.summary()
        print(f"warm start-up in-process (load + check {n_files} files): median "
              f"{statistics.median(warm):.3f} s (runs: {', '.join(f'{w:.3f}' for w in warm)})")
        del fresh
        probe = ("import time, sys; t = time.perf_counter();"
                 "from smallcode.core.graph import CodeGraph;"
                 "g = CodeGraph(sys.argv[1]); r = g.index(); assert r.parsed == 0;"
                 "print(time.perf_counter() - t)")
        cold = [float(subprocess.run([sys.executable, "-c", probe, str(tmp)], check=True,
                                     capture_output=True, text=True).stdout)
                for _ in range(3)]
        print(f"warm start-up in a new process (imports + load + check): median "
              f"{statistics.median(cold):.3f} s (runs: {', '.join(f'{w:.3f}' for w in cold)})")

        # 3. graph_search with a 2,000-token budget over distinct symbol names.
        with graph._lock:
            names = sorted(n for n in graph._loaded().by_name if len(n) >= 4)
        queries = random.Random(0).sample(names, min(args.queries, len(names)))
        graph.search(queries[0], 2000)  # builds the lazy name indexes once
        times = []
        worst_tokens = 0
        for q in queries:
            t0 = time.perf_counter()
            text = graph.search(q, 2000)
            times.append((time.perf_counter() - t0) * 1000)
            worst_tokens = max(worst_tokens, estimate_tokens(text))
        print(f"graph_search (2000 tokens, {len(queries)} distinct names): "
              f"p50 {percentile(times, 50):.3f} ms, p99 {percentile(times, 99):.3f} ms, "
              f"max {max(times):.1f} ms; largest answer {worst_tokens} tokens")
        again = []
        for q in queries[:100]:
            t0 = time.perf_counter()
            graph.search(q, 2000)
            again.append((time.perf_counter() - t0) * 1000)
        print(f"graph_search repeated queries (resolution memoised, files cached): "
              f"p50 {percentile(again, 50):.3f} ms, p99 {percentile(again, 99):.3f} ms")
        t0 = time.perf_counter()
        text = graph.repo_map(1000)
        print(f"repo_map(1000 tokens) first call: {(time.perf_counter() - t0):.2f} s "
              f"({estimate_tokens(text)} tokens)")

        # 4. Save -> queryable through the watcher.
        watcher = GraphWatcher(graph)
        watcher.start()
        time.sleep(0.5)
        targets = sorted(p for p in tmp.rglob("*.py") if p.stat().st_size < 20_000)
        targets = random.Random(1).sample(targets, min(args.saves, len(targets)))
        latencies = []
        missed = 0
        for i, path in enumerate(targets):
            name = f"bench_saved_symbol_{i}"
            t0 = time.perf_counter()
            with path.open("a") as fh:
                fh.write(f"\n\ndef {name}():\n    return {i}\n")
            deadline = t0 + 10
            while not graph.resolve_symbol_files(name):
                if time.perf_counter() > deadline:
                    missed += 1
                    break
                time.sleep(0.002)
            else:
                latencies.append((time.perf_counter() - t0) * 1000)
            time.sleep(0.1)
        watcher.stop()
        print(f"save -> queryable ({len(latencies)} saves, watcher debounce "
              f"{watcher.debounce_ms} ms): p50 {percentile(latencies, 50):.0f} ms, "
              f"p90 {percentile(latencies, 90):.0f} ms, max {max(latencies or [0]):.0f} ms"
              + (f", {missed} missed" if missed else ""))
        print(f"load average after: {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
