"""Tool-call corpus benchmark: recovery rate (overall, per format, per source) and timing.

Run: ``python tests/perf/bench_toolcalls.py [--repeat N]``. Prints figures; asserts nothing.
A case counts as recovered when extraction + resolution give exactly its labelled calls (or,
for "no call" cases, no call; for problem cases, the labelled problem kind).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from smallcode.core.toolcalls import extract_tool_calls

from tests.toolcalls.corpus_runner import load_cases, run_case
from tests.toolcalls.tool_set import build_test_registry


def _kind(case: dict) -> str:
    expected = case["expected"]
    if not expected:
        return "no call"
    if all("problem" in e for e in expected):
        return "problem"
    return "call"


def _pct(part: int, whole: int) -> str:
    return f"{part}/{whole} = {100.0 * part / whole:5.1f}%" if whole else "n/a"


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50, help="timing repetitions per case")
    args = parser.parse_args()
    registry = build_test_registry()
    known = registry.names()
    cases = load_cases()
    unlabelled = len(load_cases(include_unlabelled=True)) - len(cases)
    outcomes = [run_case(c, registry) for c in cases]

    print(f"corpus: {len(cases)} labelled cases ({unlabelled} unlabelled recordings skipped)")
    ok = sum(o.ok for o in outcomes)
    print(f"overall recovery: {_pct(ok, len(outcomes))}")
    for kind in ("call", "problem", "no call"):
        group = [o for o, c in zip(outcomes, cases, strict=True) if _kind(c) == kind]
        print(f"  {kind:8s} cases: {_pct(sum(o.ok for o in group), len(group))}")

    print("by source:")
    by_source: dict[str, list] = defaultdict(list)
    for o in outcomes:
        by_source[o.source].append(o)
    for source, group in sorted(by_source.items()):
        print(f"  {source:18s} {_pct(sum(o.ok for o in group), len(group))}")

    print("by format:")
    by_fmt: dict[str, list] = defaultdict(list)
    for o in outcomes:
        by_fmt[o.fmt].append(o)
    for fmt, group in sorted(by_fmt.items()):
        print(f"  {fmt:12s} {_pct(sum(o.ok for o in group), len(group))}")

    held_out = [o for o, c in zip(outcomes, cases, strict=True) if c.get("held_out")]
    if held_out:
        first = [c for c in cases if c.get("held_out")]
        print(f"held-out real recordings (recorded after the code was written): now "
              f"{_pct(sum(o.ok for o in held_out), len(held_out))}; on first contact "
              f"{_pct(sum(not c.get('first_pass_failed') for c in first), len(first))}")

    print("repairs needed (cases using each):")
    uses: dict[str, int] = defaultdict(int)
    for o in outcomes:
        for rule in set(o.repairs):
            uses[rule] += 1
    for rule, count in sorted(uses.items(), key=lambda kv: -kv[1]):
        print(f"  {rule:36s} {count}")

    failed = [o for o in outcomes if not o.ok]
    if failed:
        print("unrecovered:")
        for o in failed:
            print(f"  {o.case_id}: {o.detail[:160]}")

    timings: list[float] = []
    for case in cases:
        content, reasoning, native = case.get("content") or "", case.get("reasoning") or "", \
            case.get("native")
        for _ in range(args.repeat):
            started = time.perf_counter()
            extract_tool_calls(content, reasoning, native, known_tools=known)
            timings.append(time.perf_counter() - started)
    print(f"extraction time per reply ({len(timings)} runs): "
          f"p50 {_quantile(timings, 0.5) * 1e3:.3f} ms, p99 {_quantile(timings, 0.99) * 1e3:.3f} ms, "
          f"mean {statistics.fmean(timings) * 1e3:.3f} ms")
    full = [o.seconds for o in outcomes]
    print(f"extract+resolve per reply (1 run each): p50 {_quantile(full, 0.5) * 1e3:.3f} ms, "
          f"p99 {_quantile(full, 0.99) * 1e3:.3f} ms")

    big = ("Here is the module after my change:\n```python\n"
           + "\n".join(f"def f{i}(x):\n    return {{'k{i}': x, 'name': 'v'}}\n" for i in range(400))
           + "```\n" + '<tool_call>{"name": "finish", "arguments": {"summary": "done"}}</tool_call>')
    runs = []
    for _ in range(10):
        started = time.perf_counter()
        ext = extract_tool_calls(big, known_tools=known)
        runs.append(time.perf_counter() - started)
    print(f"large reply ({len(big) // 1024} KiB, {len(ext.calls)} call): "
          f"p50 {_quantile(runs, 0.5) * 1e3:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
