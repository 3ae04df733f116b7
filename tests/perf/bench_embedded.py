"""Benchmark: the embedded model's fixed costs. Run: ``python tests/perf/bench_embedded.py``.

Prints, per installed size (0.5b, 1.5b; add ``--sizes 135m,0.5b,1.5b`` for others):
- ``install_model`` + ``ensure_llama_server`` on a warm cache (what every `smallcode run` pays),
- llama-server start to healthy ``/health`` (the file may already be in the page cache; caches
  are not dropped on a shared machine, so the first run after boot is slower),
- resident memory (RSS) of the server after load, and after one short completion,
- time to that first 16-token answer.
Settings match the embedded default: ``-c 16384 -np 2 -t 2``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import httpx
from smallcode.core.model.embedded import (
    EmbeddedServer,
    ensure_llama_server,
    install_model,
    installed_model,
)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def bench(size: str, ctx: int, parallel: int) -> None:
    if installed_model(size) is None:
        print(f"{size:>5}: not installed (smallcode model install --size {size}); skipped")
        return
    t0 = time.perf_counter()
    model = install_model(size)  # type: ignore[arg-type]
    binary = ensure_llama_server()
    cached = time.perf_counter() - t0

    server = EmbeddedServer(model, binary=binary, ctx=ctx, parallel=parallel, threads=2)
    t0 = time.perf_counter()
    server.start()
    healthy = time.perf_counter() - t0
    try:
        assert server.pid is not None
        rss_loaded = rss_mb(server.pid)
        t0 = time.perf_counter()
        reply = httpx.post(f"{server.base_url}/chat/completions", trust_env=False, timeout=300,
                           json={"model": "local-model", "max_tokens": 16, "temperature": 0,
                                 "messages": [{"role": "user",
                                               "content": "Write a Python hello world."}]})
        first_answer = time.perf_counter() - t0
        reply.raise_for_status()
        usage = reply.json().get("usage", {})
        rss_after = rss_mb(server.pid)
    finally:
        server.stop()
    print(f"{size:>5}: cached install check {cached * 1000:6.0f} ms | start->healthy "
          f"{healthy:5.2f} s | RSS loaded {rss_loaded:6.0f} MB, after 1 reply {rss_after:6.0f} MB"
          f" | 1st reply {first_answer:5.2f} s ({usage.get('prompt_tokens')} prompt + "
          f"{usage.get('completion_tokens')} completion tokens) | {model.stat().st_size / 1e6:.0f}"
          f" MB file")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0.5b,1.5b")
    parser.add_argument("--ctx", type=int, default=16384)
    parser.add_argument("--parallel", type=int, default=2)
    args = parser.parse_args()
    print(f"embedded llama-server benchmark: -c {args.ctx} -np {args.parallel} -t 2, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    for size in args.sizes.split(","):
        bench(size.strip(), args.ctx, args.parallel)
    return 0


if __name__ == "__main__":
    sys.exit(main())
