"""MCP ``graph_search`` round trip over stdio (p50/p95) against the in-process call.

Corpus: a copy of smallcode's own ``core/`` (a real project of ~150 Python files), indexed once.
The in-process figures are ``CodeGraph.search`` and ``GraphToolService.graph_search`` (the same
call plus budget enforcement and accounting); the stdio figure is the SDK client's
``call_tool("graph_search")`` against ``smallcode mcp serve`` in a subprocess (JSON-RPC framing,
pipes, validation). The seed's companion tool answered in-process in 0.07–0.15 ms.

Run: ``python tests/perf/bench_mcp.py [--calls 200] [--budget 1500]``
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import mcp_types as types
from mcp import Client, StdioServerParameters
from smallcode.core.graph.codegraph import CodeGraph
from smallcode.core.mcp_server import GraphToolService

REPO = Path(__file__).resolve().parents[2]
QUERIES = ["CodeGraph", "render_search", "Agent.run", "redact", "parse_families", "fit_to_budget",
           "load_settings", "apply_patch", "Router", "TokenLedger", "SessionStore", "Workspace",
           "build_registry", "EventClock", "ScopeChecker", "MetricsRegistry", "estimate_tokens",
           "open_session", "GraphWatcher", "how does the patch ladder match"]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed(fn, calls: int) -> list[float]:
    out = []
    for i in range(calls):
        q = QUERIES[i % len(QUERIES)]
        t0 = time.perf_counter()
        fn(q)
        out.append((time.perf_counter() - t0) * 1000)
    return out


async def stdio_round_trips(root: Path, calls: int, budget: int) -> tuple[list[float], float]:
    params = StdioServerParameters(command=sys.executable, args=[
        "-m", "smallcode.cli.main", "-C", str(root), "mcp", "serve", "--no-watch"])
    t0 = time.perf_counter()
    async with Client(params, client_info=types.Implementation(name="bench", version="1"),
                      read_timeout_seconds=120) as client:
        started = time.perf_counter() - t0
        for q in QUERIES:  # warm up: first calls load the graph and fill caches
            await client.call_tool("graph_search", {"query": q, "max_tokens": budget})
        out = []
        for i in range(calls):
            t = time.perf_counter()
            result = await client.call_tool("graph_search",
                                            {"query": QUERIES[i % len(QUERIES)],
                                             "max_tokens": budget})
            out.append((time.perf_counter() - t) * 1000)
            if result.is_error:
                raise SystemExit(f"graph_search failed: {result.content}")
    return out, started


def main(calls: int, budget: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "project"
        shutil.copytree(REPO / "core", root / "core",
                        ignore=shutil.ignore_patterns("__pycache__", "suites"))
        graph = CodeGraph(root)
        t0 = time.perf_counter()
        report = graph.index()
        index_s = time.perf_counter() - t0
        service = GraphToolService(graph, root)
        for q in QUERIES:
            service.graph_search(q, budget)
        raw = timed(lambda q: graph.search(q, budget), calls)
        svc = timed(lambda q: service.graph_search(q, budget), calls)
        graph.close()  # the server opens the same index
        remote, startup = asyncio.run(stdio_round_trips(root, calls, budget))
    print(f"graph_search, budget {budget} tokens, {calls} calls over {len(QUERIES)} queries; "
          f"corpus: smallcode core/ ({report})")
    print(f"  index: {index_s:.2f} s; stdio server start + handshake: {startup * 1000:.0f} ms")
    print(f"  in-process CodeGraph.search:      p50 {statistics.median(raw):.3f} ms, "
          f"p95 {pct(raw, 0.95):.3f} ms")
    print(f"  in-process service (budget+acct): p50 {statistics.median(svc):.3f} ms, "
          f"p95 {pct(svc, 0.95):.3f} ms")
    print(f"  MCP over stdio round trip:        p50 {statistics.median(remote):.3f} ms, "
          f"p95 {pct(remote, 0.95):.3f} ms "
          f"(x{statistics.median(remote) / max(1e-9, statistics.median(svc)):.1f} the in-process"
          f" call)")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--budget", type=int, default=1500)
    a = ap.parse_args()
    main(a.calls, a.budget)
