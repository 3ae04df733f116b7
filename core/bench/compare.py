"""Comparing two benchmark runs task by task, with a paired confidence interval on the difference.

Tasks are paired by id (only tasks present in both runs count). A task counts as passed when any
attempt passed (pass@k). The interval on ``pass_rate(B) - pass_rate(A)`` is Newcombe's hybrid
score interval for paired proportions (method 10, Newcombe 1998, Statistics in Medicine 17:2635),
built from Wilson score intervals with the continuity-corrected phi.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist

from smallcode.core.bench.results import BenchRun


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (no continuity correction)."""
    if n <= 0:
        raise ValueError("n must be positive")
    if not 0 <= successes <= n:
        raise ValueError("successes must be between 0 and n")
    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def paired_difference_interval(both: int, only_first: int, only_second: int, neither: int,
                               confidence: float = 0.95) -> tuple[float, float, float]:
    """Newcombe's interval for p1 - p2 from a paired 2x2 table.

    ``both`` = passed in both, ``only_first`` = passed only in the first, and so on.
    Returns ``(estimate, lower, upper)`` of ``p1 - p2``.
    """
    a, b, c, d = both, only_first, only_second, neither
    if min(a, b, c, d) < 0:
        raise ValueError("counts must not be negative")
    n = a + b + c + d
    if n == 0:
        raise ValueError("no paired observations")
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson_interval(a + b, n, confidence)
    l2, u2 = wilson_interval(a + c, n, confidence)
    denom = (a + b) * (c + d) * (a + c) * (b + d)
    phi = 0.0
    if denom > 0:
        cross = a * d - b * c
        if cross > n / 2:
            corrected = cross - n / 2
        elif cross < 0:
            corrected = cross
        else:
            corrected = 0.0
        phi = corrected / math.sqrt(denom)
    estimate = p1 - p2
    delta = math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2))
    eps = math.sqrt(max(0.0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2))
    return estimate, max(-1.0, estimate - delta), min(1.0, estimate + eps)


@dataclass(frozen=True)
class TaskDifference:
    task_id: str
    category: str
    a_passed: int  # attempts that passed in run A
    a_attempts: int
    b_passed: int
    b_attempts: int

    @property
    def a_ok(self) -> bool:
        return self.a_passed > 0

    @property
    def b_ok(self) -> bool:
        return self.b_passed > 0

    @property
    def change(self) -> str:
        """``fixed`` (fails in A, passes in B), ``broken``, ``both`` or ``neither``."""
        if self.a_ok and self.b_ok:
            return "both"
        if self.b_ok:
            return "fixed"
        if self.a_ok:
            return "broken"
        return "neither"


@dataclass
class RunComparison:
    a_label: str
    b_label: str
    tasks: list[TaskDifference]
    only_in_a: list[str] = field(default_factory=list)
    only_in_b: list[str] = field(default_factory=list)
    confidence: float = 0.95
    a_tokens_per_solved: float | None = None
    b_tokens_per_solved: float | None = None
    a_mean_wall: float = 0.0
    b_mean_wall: float = 0.0
    a_agent: str = "smallcode"
    b_agent: str = "smallcode"

    @property
    def paired(self) -> int:
        return len(self.tasks)

    @property
    def a_solved(self) -> int:
        return sum(t.a_ok for t in self.tasks)

    @property
    def b_solved(self) -> int:
        return sum(t.b_ok for t in self.tasks)

    def count(self, change: str) -> int:
        return sum(1 for t in self.tasks if t.change == change)

    @property
    def a_pass_rate(self) -> float:
        return self.a_solved / self.paired if self.paired else 0.0

    @property
    def b_pass_rate(self) -> float:
        return self.b_solved / self.paired if self.paired else 0.0

    def difference(self) -> tuple[float, float, float] | None:
        """``(estimate, lower, upper)`` of pass_rate(B) - pass_rate(A); None without pairs."""
        if not self.paired:
            return None
        return paired_difference_interval(self.count("both"), self.count("fixed"),
                                          self.count("broken"), self.count("neither"),
                                          self.confidence)

    def changed(self) -> list[TaskDifference]:
        """Tasks whose pass@k verdict or pass count differs between the runs."""
        return [t for t in self.tasks
                if t.a_ok != t.b_ok
                or t.a_passed / max(t.a_attempts, 1) != t.b_passed / max(t.b_attempts, 1)]


def compare_runs(a: BenchRun, b: BenchRun, confidence: float = 0.95) -> RunComparison:
    a_ids, b_ids = a.task_ids(), b.task_ids()
    b_set, a_set = set(b_ids), set(a_ids)
    diffs = []
    for tid in a_ids:
        if tid not in b_set:
            continue
        ra, rb = a.attempts_of(tid), b.attempts_of(tid)
        diffs.append(TaskDifference(
            task_id=tid, category=ra[0].category,
            a_passed=sum(r.passed for r in ra), a_attempts=len(ra),
            b_passed=sum(r.passed for r in rb), b_attempts=len(rb)))
    sa, sb = a.summary(), b.summary()
    return RunComparison(
        a_label=a.label, b_label=b.label, tasks=diffs,
        only_in_a=[t for t in a_ids if t not in b_set],
        only_in_b=[t for t in b_ids if t not in a_set],
        confidence=confidence,
        a_tokens_per_solved=sa.tokens_per_solved, b_tokens_per_solved=sb.tokens_per_solved,
        a_mean_wall=sa.mean_wall_seconds, b_mean_wall=sb.mean_wall_seconds,
        a_agent=a.agent, b_agent=b.agent)
