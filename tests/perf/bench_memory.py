"""Memory and session benchmarks; prints figures (no timed assertions).

    python tests/perf/bench_memory.py [--entries 100000] [--queries 200]

- memory insert throughput: ``remember()`` one entry at a time (the agent/user path) and
  ``import_entries()`` in bulk;
- the first search after writes (lazy BM25 index rebuild) at the full size;
- memory search p50/p95 at the full size (goal: p50 <= 5 ms at 100k entries), and
  ``load_for_task`` p50;
- session save and load p50 for a 200-turn session.

Each latency is printed as wall-clock and as this process's CPU time (DuckDB runs the memory
queries on the calling thread), so figures taken on a busy shared machine stay interpretable.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Self

from smallcode.core.memory.sessions import SessionStore
from smallcode.core.memory.store import MEMORY_TYPES, MemoryStore

TECH = [
    "parser", "cache", "gateway", "router", "snapshot", "session", "memory", "index", "graph",
    "symbol", "patch", "test", "lint", "deploy", "release", "docker", "ruff", "pytest", "duckdb",
    "ray", "actor", "worker", "budget", "token", "prompt", "model", "schema", "migration", "config",
    "plugin", "tool", "shell", "file", "folder", "commit", "branch", "merge", "diff", "error",
    "timeout", "retry", "stream", "backend", "queue", "quota", "user", "api", "endpoint", "server",
    "client", "http", "json", "yaml", "toml", "python", "typescript", "rust", "golang", "java",
    "build", "wheel", "package", "install",
]


def make_vocabulary(rng: random.Random, size: int = 20_000) -> list[str]:
    words = list(TECH)
    while len(words) < size:
        words.append("".join(rng.choice("abcdefghijklmnopqrstuvwxyz")
                             for _ in range(rng.randint(4, 10))))
    return words


class ZipfText:
    """Words drawn with Zipf-like frequencies, like natural text (a few very common terms)."""

    def __init__(self, rng: random.Random, words: list[str]):
        self.rng = rng
        self.words = words
        self.weights = [1.0 / (rank + 1) for rank in range(len(words))]
        total = 0.0
        self.cum = []
        for w in self.weights:
            total += w
            self.cum.append(total)

    def sample(self, k: int) -> list[str]:
        return self.rng.choices(self.words, cum_weights=self.cum, k=k)


def entry(i: int, text: ZipfText, rng: random.Random) -> dict:
    return {"type": MEMORY_TYPES[i % len(MEMORY_TYPES)],
            "title": " ".join(text.sample(5)),
            "content": f"note {i}: " + " ".join(text.sample(rng.randint(15, 45))),
            "tags": text.sample(2)}


def pct(samples: list[float], p: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


class Timer:
    """Collects wall-clock and process CPU milliseconds per call."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def __enter__(self) -> Self:
        self._w, self._c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall.append((time.perf_counter() - self._w) * 1000)
        self.cpu.append((time.process_time() - self._c) * 1000)

    def summary(self) -> str:
        return (f"p50 {pct(self.wall, 50):.2f} ms wall / {pct(self.cpu, 50):.2f} ms CPU, "
                f"p95 {pct(self.wall, 95):.2f} ms wall")


def bench_memory(n_entries: int, n_queries: int, folder: Path) -> None:
    rng = random.Random(7)
    text = ZipfText(rng, make_vocabulary(rng))
    store = MemoryStore(folder / "memory.duckdb")

    single = min(1000, n_entries)
    timer = Timer()
    t0 = time.perf_counter()
    for i in range(single):
        e = entry(i, text, rng)
        with timer:
            store.remember(e["type"], e["title"], e["content"], e["tags"])
    dt = time.perf_counter() - t0
    print(f"memory remember(): {single} entries one by one (each committed): "
          f"{single / dt:,.0f} entries/s; {timer.summary()}")

    rest = n_entries - single
    if rest > 0:
        t0 = time.perf_counter()
        batch = [entry(i, text, rng) for i in range(single, n_entries)]
        added, skipped = store.import_entries(batch)
        dt = time.perf_counter() - t0
        print(f"memory import_entries(): {added:,} entries in bulk ({skipped} duplicates): "
              f"{added / dt:,.0f} entries/s ({dt:.2f} s)")

    t0 = time.perf_counter()
    store.search("parser cache")
    print(f"memory first search after writes (index rebuild) at {store.count():,} entries: "
          f"{(time.perf_counter() - t0) * 1000:,.0f} ms")

    mixes = {
        "2-3 common terms": lambda: " ".join(text.sample(rng.randint(2, 3))),
        "2-3 mid-frequency terms": lambda: " ".join(rng.choice(text.words[200:5000])
                                                    for _ in range(rng.randint(2, 3))),
        "task sentence (8 words)": lambda: "fix the " + " ".join(text.sample(6)),
    }
    for label, make in mixes.items():
        timer = Timer()
        hits = 0
        for _ in range(n_queries):
            q = make()
            with timer:
                res = store.search(q, limit=10)
            hits += bool(res)
        print(f"memory search top-10 at {store.count():,} entries, {label}: {timer.summary()}; "
              f"{hits}/{n_queries} with hits (goal p50 <= 5 ms at 100k)")

    timer = Timer()
    for _ in range(max(20, n_queries // 4)):
        q = "why does the " + " ".join(text.sample(5)) + " fail"
        with timer:
            store.load_for_task(q, max_tokens=400)
    print(f"memory load_for_task(400 tokens): {timer.summary()} (includes marking the loaded "
          "entries used: a committed write)")
    store.close()


def make_session(turns: int) -> dict:
    rng = random.Random(3)
    messages: list[dict] = [{"role": "system", "content": "You are smallcode. " * 100}]
    for t in range(turns):
        messages.append({"role": "user", "content": f"step {t}: change the parser to handle case "
                                                    f"{t}; keep tests green"})
        messages.append({"role": "assistant", "content": "", "tool_calls": [{
            "id": f"call_{t}", "type": "function",
            "function": {"name": "read_file", "arguments": f'{{"path": "src/mod_{t}.py"}}'}}]})
        messages.append({"role": "tool", "tool_call_id": f"call_{t}",
                         "content": "\n".join(f"{i:>4}| x_{i} = compute({rng.random():.6f})"
                                              for i in range(40))})
        messages.append({"role": "assistant", "content": f"Done with step {t}. " * 5})
    return {"workspace": "/work/project", "model": "qwen2.5-coder-7b", "messages": messages,
            "events": {"tool_calls": turns, "errors": 0}, "plan": {"steps": []},
            "usage": {"prompt_tokens": 123456, "completion_tokens": 6543}}


def bench_sessions(folder: Path, turns: int = 200, rounds: int = 30) -> None:
    store = SessionStore(folder)
    data = make_session(turns)
    sid = store.new_id()
    first = Timer()
    with first:
        path = store.save(sid, data)
    saves, loads = Timer(), Timer()
    for _ in range(rounds):
        with saves:
            store.save(sid, data)
        with loads:
            store.load(sid)
    size = path.stat().st_size
    print(f"session save ({turns} turns, {len(data['messages'])} messages, {size / 1024:.0f} KiB, "
          f"redacted + fsync + rename): first save {statistics.median(first.wall):.1f} ms "
          f"(cold redaction), then {saves.summary()}")
    print(f"session load ({turns} turns): {loads.summary()}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=200)
    args = ap.parse_args()
    print(f"(machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})")
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        bench_memory(args.entries, args.queries, Path(tmp))
    with tempfile.TemporaryDirectory(prefix="bench-sessions-") as tmp:
        bench_sessions(Path(tmp))


if __name__ == "__main__":
    main()
