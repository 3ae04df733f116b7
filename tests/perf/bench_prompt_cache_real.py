"""Prompt tokens re-processed per turn on a real multi-turn task (llama.cpp timings).

Runs the agent in-process against a real llama-server (``--base-url``, or the embedded 1.5B
started here) on a copy of examples/buggy-calc, and prints, per model call, the prompt size, the
tokens served from the prompt cache and the fraction re-processed. Goal: later turns of a task
re-process ≤ 15 % of their prompt.

    python tests/perf/bench_prompt_cache_real.py [--base-url URL] [--task TEXT]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from smallcode.core.config import load_settings
from smallcode.core.events import Event, ToolCallEvent, UsageEvent
from smallcode.core.session import open_session

ROOT = Path(__file__).resolve().parents[2]


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base-url")
    ap.add_argument("--task", default="test_add fails. Read calc.py, fix it, then run the tests "
                                      "with bash and finish.")
    ap.add_argument("--two-stage", default="off", choices=["auto", "on", "off"])
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sc-cache-"))
    shutil.copytree(ROOT / "examples" / "buggy-calc", work, dirs_exist_ok=True)
    subprocess.run(["git", "init", "-q"], cwd=work, check=True)  # noqa: ASYNC221
    settings = load_settings(work, {"model": {"base_url": args.base_url},
                                    "agent": {"permission_mode": "yolo",
                                              "two_stage_routing": args.two_stage}})
    session = await open_session(str(work), settings, progress=lambda m: print("·", m))
    rows: list[tuple[int, int, str]] = []
    last_call = [""]

    def emit(ev: Event) -> None:
        if isinstance(ev, ToolCallEvent):
            last_call[0] = ev.name
        if isinstance(ev, UsageEvent):
            rows.append((ev.prompt_tokens, ev.cached_tokens, last_call[0]))

    started = time.perf_counter()
    try:
        done = await session.agent.run(args.task, emit)
    finally:
        await session.aclose()
    wall = time.perf_counter() - started
    print(f"\nmodel: {session.client.model_name} ({session.endpoint.source}); "
          f"done={done.success} ({done.reason}) in {wall:.1f}s, {done.turns} turns")
    print(f"{'call':>4} {'prompt':>7} {'cached':>7} {'re-processed':>13} {'old prefix missed':>18}")
    later: list[float] = []
    missed_total = 0
    prev = 0
    for i, (prompt, cached, _) in enumerate(rows, 1):
        frac = (prompt - cached) / prompt if prompt else 0.0
        missed = max(0, prev - cached) if i > 1 else 0  # tokens of the last prompt not reused
        missed_total += missed
        if i > 1:
            later.append(frac)
        print(f"{i:>4} {prompt:>7} {cached:>7} {frac:>12.1%} {missed:>18}")
        prev = prompt
    if later:
        total_later = sum(p for p, _, _ in rows[1:])
        print(f"later turns: mean re-processed {sum(later) / len(later):.1%}, "
              f"max {max(later):.1%} (goal ≤ 15 %); tokens of an earlier prompt re-processed: "
              f"{missed_total} of {total_later} ({missed_total / max(1, total_later):.1%}) — "
              "the rest is new content (replies, tool results)")


if __name__ == "__main__":
    asyncio.run(main())
