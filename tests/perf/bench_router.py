"""Router benchmark: accuracy on the labelled set, decision time, and tool-schema tokens per call.

    python tests/perf/bench_router.py [--reps 20]

Uses the real registry (``build_registry()``), so the schema figures grow as tool families land.
Tokens are estimated at the default chars-per-token of :class:`TokenCounter`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import Counter, defaultdict
from pathlib import Path

from smallcode.core.context.budget import TokenCounter
from smallcode.core.router import SELECT_CATEGORY_TOOL, Router, RouteState
from smallcode.core.tools import build_registry
from smallcode.core.tools.registry import CATEGORIES

LABELLED = Path(__file__).resolve().parents[1] / "router" / "labelled.jsonl"


def load() -> list[tuple[str, str, str | None, bool]]:
    """(message, expected, previous, from_sequence); sequences use the expected previous."""
    rows = []
    for line in LABELLED.read_text().splitlines():
        row = json.loads(line)
        if "turns" in row:
            prev = None
            for message, expected in row["turns"]:
                rows.append((message, expected, prev, True))
                prev = expected
        else:
            rows.append((row["message"], row["category"], row.get("previous"), False))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=20)
    args = parser.parse_args()
    registry = build_registry()
    router = Router(registry)
    rows = load()

    correct: Counter[str] = Counter()
    total: Counter[str] = Counter()
    misses = []
    for message, expected, prev, _ in rows:
        got = router.route(message, RouteState(previous=prev)).category
        total[expected] += 1
        if got == expected:
            correct[expected] += 1
        else:
            misses.append((message, expected, got))
    n = sum(total.values())
    print(f"labelled set: {n} messages ({LABELLED.name})")
    print(f"accuracy overall: {sum(correct.values())}/{n} = {sum(correct.values()) / n:.1%}")
    for cat in CATEGORIES:
        print(f"  {cat:<11} {correct[cat]:>3}/{total[cat]:<3} {correct[cat] / total[cat]:6.1%}")
    for message, expected, got in misses:
        print(f"  miss: {message!r}: expected {expected}, got {got}")

    times: list[float] = []
    states = [RouteState(previous=prev) for _, _, prev, _ in rows]
    for _ in range(args.reps):
        for (message, _, _, _), state in zip(rows, states, strict=True):
            t0 = time.perf_counter_ns()
            router.route(message, state)
            times.append((time.perf_counter_ns() - t0) / 1000)
    times.sort()
    p50 = times[len(times) // 2]
    p99 = times[int(len(times) * 0.99)]
    print(f"decision time over {len(times)} routes: p50 {p50:.1f} us, p99 {p99:.1f} us, "
          f"mean {statistics.fmean(times):.1f} us (goal p50 <= 50 us)")

    counter = TokenCounter()
    all_schemas = registry.schemas()
    all_tokens = counter.count_tools(all_schemas)
    print(f"registry: {len(all_schemas)} tools, all schemas ~{all_tokens} tokens")
    per_cat_tokens: dict[str, int] = {}
    per_cat_tools: dict[str, list[str]] = {}
    for cat in CATEGORIES:
        names = router.tools_for([cat])
        per_cat_tools[cat] = names
        per_cat_tokens[cat] = counter.count_tools(registry.schemas(names)) if names else 0
    ratios = []
    by_cat: dict[str, list[float]] = defaultdict(list)
    for message, _, prev, _ in rows:
        decision = router.route(message, RouteState(previous=prev))
        tokens = per_cat_tokens[decision.category]
        ratio = tokens / all_tokens if all_tokens else 0.0
        ratios.append(ratio)
        by_cat[decision.category].append(ratio)
    for cat in CATEGORIES:
        print(f"  {cat:<11} {len(per_cat_tools[cat]):>2} tools ~{per_cat_tokens[cat]:>5} tokens "
              f"({per_cat_tokens[cat] / all_tokens if all_tokens else 0:.2f}x)  "
              f"{', '.join(per_cat_tools[cat])}")
    print(f"schema tokens per routed call: mean {statistics.fmean(ratios):.2f}x of all tools "
          f"(goal <= 0.25x); action messages only "
          f"{statistics.fmean([r for r in ratios if r > 0] or [0]):.2f}x")
    select_tokens = counter.count_tools([SELECT_CATEGORY_TOOL])
    print(f"two-stage first call: select_category ~{select_tokens} tokens "
          f"({select_tokens / all_tokens if all_tokens else 0:.2f}x)")


if __name__ == "__main__":
    main()
