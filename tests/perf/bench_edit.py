"""Patch-ladder benchmark: recovery of imperfect ``old_str`` variants, false edits, apply time.

Snippets of 3-8 lines are cut from real source files (CPython standard-library modules, so the
corpus is fixed for a Python version), then damaged the way small models damage them: trailing
spaces, CRLF, dropped blank lines, shifted or re-scaled indentation, a one-character typo,
``read_file`` line-number prefixes. Each variant is applied with the ladder on and off; a result is
*recovered* when the new text equals the intended edit exactly, a *false edit* when the patch
applied but the text differs (this must be 0), *refused* when PatchError was raised. Negative
cases (snippets mutated beyond recognition, or taken from another file) must always be refused.

Run: ``python tests/perf/bench_edit.py [--per-file N] [--seed S]``
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from difflib import SequenceMatcher
from pathlib import Path

from smallcode.core.edit.patch import PatchError, apply_patch

MODULES = (
    "textwrap",
    "shlex",
    "heapq",
    "bisect",
    "colorsys",
    "graphlib",
    "calendar",
    "fractions",
    "difflib",
    "argparse",
    "json.decoder",
    "string",
    "fnmatch",
    "glob",
)


def corpus() -> list[tuple[str, str]]:
    out = []
    for name in MODULES:
        spec = importlib.util.find_spec(name)
        if spec and spec.origin and spec.origin.endswith(".py"):
            out.append((name, Path(spec.origin).read_text()))
    return out


def pick_window(lines: list[str], rng: random.Random, text: str) -> tuple[int, int] | None:
    for _ in range(50):
        k = rng.randint(3, 8)
        start = rng.randrange(0, max(1, len(lines) - k))
        window = lines[start : start + k]
        if not window[0].strip() or not window[-1].strip():
            continue
        if sum(1 for ln in window if ln.strip()) < 3:
            continue
        snippet = "\n".join(window)
        if text.count(snippet) != 1 or '"""' in snippet or "'''" in snippet:
            continue
        return start, start + k
    return None


def make_new(window: list[str]) -> list[str]:
    """The intended edit: change the last line and insert one line after the first."""
    first, last = window[0], window[-1]
    indent = last[: len(last) - len(last.lstrip())]
    body_indent = window[1][: len(window[1]) - len(window[1].lstrip())] or indent
    return [first, body_indent + "_bench_marker = 1"] + window[1:-1] + [last + "  # edited"]


def _typo(line: str, rng: random.Random) -> str:
    idx = [i for i, c in enumerate(line) if c.isalpha()]
    if not idx:
        return line
    i = rng.choice(idx)
    c = line[i]
    repl = "x" if c != "x" else "y"
    return line[:i] + repl + line[i + 1 :]


def shift(lines: list[str], delta: int) -> list[str]:
    out = []
    for ln in lines:
        if not ln.strip():
            out.append(ln)
            continue
        ws = len(ln) - len(ln.lstrip())
        out.append(" " * max(0, ws + delta) + ln.lstrip())
    return out


def halve(lines: list[str]) -> list[str]:
    out = []
    for ln in lines:
        ws = len(ln) - len(ln.lstrip())
        out.append(" " * (ws // 2) + ln.lstrip() if ln.strip() else ln)
    return out


Variant = Callable[[list[str], list[str], int, random.Random], tuple[str, str] | None]


def v_exact(old, new, start, rng):
    return "\n".join(old), "\n".join(new)


def v_trailing(old, new, start, rng):
    return "\n".join(ln + " " * rng.randint(1, 3) for ln in old), "\n".join(new)


def v_crlf(old, new, start, rng):
    return "\r\n".join(old) + "\r\n", "\n".join(new) + "\n"


def v_blank(old, new, start, rng):
    blank = [i for i, ln in enumerate(old) if not ln.strip()]
    if blank:
        kept = [ln for i, ln in enumerate(old) if i != blank[0]]
    else:
        kept = old[:1] + [""] + old[1:]
    return "\n".join(kept), "\n".join(new)


def v_dedent(old, new, start, rng):
    base = min(len(ln) - len(ln.lstrip()) for ln in old if ln.strip())
    if base == 0:
        return "\n".join(shift(old, 4)), "\n".join(shift(new, 4))
    return "\n".join(shift(old, -base)), "\n".join(shift(new, -base))


def v_halved(old, new, start, rng):
    if all((len(ln) - len(ln.lstrip())) % 4 == 0 for ln in old) and any(
        ln.startswith("    ") for ln in old
    ):
        return "\n".join(halve(old)), "\n".join(halve(new))
    return None


def v_typo(old, new, start, rng):
    candidates = [i for i, ln in enumerate(old) if len(ln.strip()) >= 12]
    if not candidates:
        return None
    i = rng.choice(candidates)
    damaged = list(old)
    damaged[i] = _typo(old[i], rng)
    return "\n".join(damaged), "\n".join(new)


def v_numbers(old, new, start, rng):
    width = len(str(start + len(old)))
    return (
        "\n".join(f"{start + 1 + i:>{width}}| {ln}" for i, ln in enumerate(old)),
        "\n".join(new),
    )


def v_numbers_trailing(old, new, start, rng):
    width = len(str(start + len(old)))
    return (
        "\n".join(f"{start + 1 + i:>{width}}| {ln}  " for i, ln in enumerate(old)),
        "\n".join(new),
    )


VARIANTS: dict[str, Variant] = {
    "exact": v_exact,
    "trailing-spaces": v_trailing,
    "crlf": v_crlf,
    "blank-line": v_blank,
    "dedented": v_dedent,
    "indent-2-for-4": v_halved,
    "typo": v_typo,
    "line-numbers": v_numbers,
    "line-numbers+spaces": v_numbers_trailing,
}


def mangle(old: list[str], rng: random.Random) -> str:
    """A negative: 40% of the letters replaced - no longer the same code."""
    out = []
    for ln in old:
        chars = list(ln)
        for i, c in enumerate(chars):
            if c.isalpha() and rng.random() < 0.4:
                chars[i] = rng.choice("qzjxkw")
        out.append("".join(chars))
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-file", type=int, default=25, help="snippets per corpus file")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    files = corpus()
    results: dict[tuple[str, bool], Counter[str]] = defaultdict(Counter)
    strategies: dict[str, Counter[str]] = defaultdict(Counter)
    times: dict[str, list[float]] = defaultdict(list)
    false_edits: list[str] = []
    negatives = Counter[str]()
    total_lines = 0
    for name, text in files:
        lines = text.split("\n")
        total_lines += len(lines)
        for _ in range(args.per_file):
            win = pick_window(lines, rng, text)
            if win is None:
                continue
            a, b = win
            old, new = lines[a:b], make_new(lines[a:b])
            expected = "\n".join(lines[:a] + new + lines[b:])
            for vname, variant in VARIANTS.items():
                made = variant(old, new, a, rng)
                if made is None:
                    continue
                old_s, new_s = made
                for ladder in (True, False):
                    t0 = time.perf_counter()
                    try:
                        out = apply_patch(text, old_s, new_s, ladder=ladder)
                    except PatchError:
                        results[(vname, ladder)]["refused"] += 1
                        continue
                    finally:
                        if ladder:
                            times[vname].append(time.perf_counter() - t0)
                    got = out.new_text.rstrip("\n") if vname == "crlf" else out.new_text
                    want = expected.rstrip("\n") if vname == "crlf" else expected
                    if got == want:
                        results[(vname, ladder)]["recovered"] += 1
                        if ladder:
                            strategies[vname][
                                out.strategy + ("+numbers" if out.line_numbers_stripped else "")
                            ] += 1
                    else:
                        results[(vname, ladder)]["false"] += 1
                        false_edits.append(
                            f"{name}:{a + 1} {vname} ladder={ladder} ({out.strategy})"
                        )
            # negatives: mangled beyond recognition, and a snippet from another file
            for kind, snippet in (
                ("mangled", mangle(old, rng)),
                ("foreign", "\n".join(rng.choice(files)[1].split("\n")[a % 50 : a % 50 + 5])),
            ):
                if not snippet.strip() or snippet in text:
                    continue
                if (
                    kind == "mangled"
                    and SequenceMatcher(None, snippet, "\n".join(old), autojunk=False).ratio()
                    >= 0.8
                ):
                    negatives["mangled-too-little-to-count"] += 1
                    continue  # few letters to damage: still the same code, not a negative
                try:
                    apply_patch(text, snippet, "_bench_marker = 1")
                    negatives[f"{kind}-applied"] += 1
                    false_edits.append(f"{name}:{a + 1} negative {kind} applied")
                except PatchError:
                    negatives[f"{kind}-refused"] += 1

    print(f"corpus: {len(files)} stdlib modules, {total_lines} lines; seed {args.seed}")
    print(
        f"{'variant':22} {'n':>4}  {'ladder on':>10}  {'exact only':>10}  strategies (ladder on)"
        f"{'':8} p50 ms"
    )
    for vname in VARIANTS:
        on, off = results[(vname, True)], results[(vname, False)]
        n = sum(on.values())
        if not n:
            continue
        rate_on = on["recovered"] / n
        rate_off = off["recovered"] / max(1, sum(off.values()))
        strat = ", ".join(f"{k} {v}" for k, v in strategies[vname].most_common())
        p50 = statistics.median(times[vname]) * 1000
        print(f"{vname:22} {n:>4}  {rate_on:>9.0%}  {rate_off:>10.0%}  {strat:30} {p50:6.2f}")
    all_on = sum((results[(v, True)] for v in VARIANTS), Counter())
    all_off = sum((results[(v, False)] for v in VARIANTS), Counter())
    n_on, n_off = sum(all_on.values()), sum(all_off.values())
    print(
        f"{'all':22} {n_on:>4}  {all_on['recovered'] / n_on:>9.0%}  "
        f"{all_off['recovered'] / n_off:>10.0%}"
    )
    every = [t for ts in times.values() for t in ts]
    print(
        f"apply time (ladder on, all variants): p50 {statistics.median(every) * 1000:.2f} ms, "
        f"p95 {sorted(every)[int(len(every) * 0.95)] * 1000:.2f} ms"
    )
    print(f"negatives: {dict(sorted(negatives.items()))}")
    print(f"false edits: {len(false_edits)}")
    for line in false_edits[:20]:
        print("  " + line)
    sys.exit(1 if false_edits else 0)


if __name__ == "__main__":
    main()
