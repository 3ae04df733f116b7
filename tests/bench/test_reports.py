"""Results files, run comparison with Newcombe's paired interval, and the PNG chart."""

from __future__ import annotations

import json
import math

import pytest
from smallcode.core.bench import (
    BenchRun,
    ResultsError,
    TaskRecord,
    compare_runs,
    list_runs,
    load_run,
    paired_difference_interval,
    render_chart,
    resolve_run,
    save_run,
    wilson_interval,
)


def record(task_id: str, passed: bool, attempt: int = 0, category: str = "bugfix",
           tokens: int = 1000) -> TaskRecord:
    return TaskRecord(task_id=task_id, category=category, language="python", attempt=attempt,
                      passed=passed, wall_seconds=10.0, turns=3, prompt_tokens=tokens - 100,
                      completion_tokens=100)


def make_run(label: str, outcomes: dict[str, list[bool]], model: str = "m") -> BenchRun:
    recs = [record(tid, ok, attempt=i) for tid, oks in outcomes.items() for i, ok in enumerate(oks)]
    return BenchRun(label=label, suite="dev", started_at="2026-11-23T22:00:00+00:00",
                    smallcode_version="0.1.0", model=model, records=recs, complete=True)


# --- intervals ---------------------------------------------------------------------------------

def test_wilson_interval_matches_the_closed_form():
    lo, hi = wilson_interval(5, 10)
    assert lo == pytest.approx(0.2366, abs=1e-4)
    assert hi == pytest.approx(0.7634, abs=1e-4)
    assert wilson_interval(0, 10)[0] == pytest.approx(0.0, abs=1e-12)
    assert wilson_interval(10, 10)[1] == 1.0


def test_paired_interval_reproduces_newcombe_method_10_by_hand():
    # a=both pass, b=only first, c=only second, d=neither; computed step by step below
    a, b, c, d = 12, 9, 2, 21
    n = a + b + c + d
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson_interval(a + b, n)
    l2, u2 = wilson_interval(a + c, n)
    phi = (a * d - b * c - n / 2) / math.sqrt((a + b) * (c + d) * (a + c) * (b + d))
    lower = (p1 - p2) - math.sqrt((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2)
    upper = (p1 - p2) + math.sqrt((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2)
    est, lo, hi = paired_difference_interval(a, b, c, d)
    assert est == pytest.approx(7 / 44)
    assert (lo, hi) == (pytest.approx(lower), pytest.approx(upper))
    assert 0 < lo < est < hi < 1  # 9 vs 2 discordant pairs: a real improvement


def test_paired_interval_for_identical_runs_is_centred_on_zero():
    est, lo, hi = paired_difference_interval(20, 0, 0, 20)
    assert est == 0.0
    assert lo == pytest.approx(-hi)
    assert 0 < hi < 0.15


def test_paired_interval_narrows_with_more_tasks_and_stays_in_range():
    _, lo_small, hi_small = paired_difference_interval(2, 3, 1, 4)
    _, lo_big, hi_big = paired_difference_interval(20, 30, 10, 40)
    assert hi_big - lo_big < hi_small - lo_small
    _, lo, hi = paired_difference_interval(0, 10, 0, 0)
    assert -1.0 <= lo <= hi <= 1.0 and hi == 1.0


def test_paired_interval_rejects_empty_and_negative_tables():
    with pytest.raises(ValueError):
        paired_difference_interval(0, 0, 0, 0)
    with pytest.raises(ValueError):
        paired_difference_interval(1, -1, 0, 0)


# --- comparison --------------------------------------------------------------------------------

def test_compare_pairs_tasks_by_id_and_reports_fixed_and_broken():
    a = make_run("base", {"t1": [True], "t2": [False], "t3": [True], "t4": [False],
                          "only-a": [True]})
    b = make_run("router-off", {"t1": [True], "t2": [True], "t3": [False], "t4": [False],
                                "only-b": [False]})
    cmp_ = compare_runs(a, b)
    assert cmp_.paired == 4
    assert {t.task_id: t.change for t in cmp_.tasks} == {
        "t1": "both", "t2": "fixed", "t3": "broken", "t4": "neither"}
    assert [t.task_id for t in cmp_.changed()] == ["t2", "t3"]
    assert cmp_.only_in_a == ["only-a"] and cmp_.only_in_b == ["only-b"]
    assert cmp_.a_pass_rate == cmp_.b_pass_rate == 0.5
    est, lo, hi = cmp_.difference()
    assert est == 0.0 and lo < 0 < hi


def test_compare_with_repeats_uses_pass_at_k_and_shows_partial_changes():
    a = make_run("a", {"t1": [True, False], "t2": [False, False]})
    b = make_run("b", {"t1": [True, True], "t2": [False, True]})
    cmp_ = compare_runs(a, b)
    t1, t2 = cmp_.tasks
    assert (t1.change, t1.a_passed, t1.b_passed) == ("both", 1, 2)
    assert t2.change == "fixed"
    assert [t.task_id for t in cmp_.changed()] == ["t1", "t2"]


def test_summary_counts_pass_at_k_pass_at_1_and_tokens_per_solved():
    run = make_run("a", {"t1": [True, False], "t2": [False, False], "t3": [True, True]})
    s = run.summary()
    assert (s.tasks, s.attempts, s.passed_tasks) == (3, 6, 2)
    assert s.pass_rate == pytest.approx(2 / 3)
    assert s.pass_at_1 == pytest.approx(3 / 6)
    assert s.tokens_per_solved == pytest.approx(6000 / 3)
    assert s.by_category == {"bugfix": [2, 3]}
    assert s.processed_tokens is None  # no attempt said what came from the cache


def test_summary_counts_the_tokens_processed_without_cache_hits():
    run = make_run("a", {"t1": [True], "t2": [False]})
    run.records[0].cached_tokens, run.records[1].cached_tokens = 600, 100
    s = run.summary()
    assert s.processed_tokens == 2000 - 700
    assert s.processed_per_solved == pytest.approx(1300)
    run.records[1].cached_tokens = None  # one attempt unknown: the whole figure is unknown
    assert run.summary().processed_tokens is None


# --- files -------------------------------------------------------------------------------------

def test_results_round_trip_and_resolution_by_label_and_latest(tmp_path):
    folder = tmp_path / ".smallcode" / "benchmarks"
    first = make_run("base", {"t1": [True]})
    second = make_run("router-off", {"t1": [False]})
    save_run(first, folder / "20261123T100000Z-base.json")
    save_run(second, folder / "20261123T110000Z-router-off.json")
    assert load_run(folder / "20261123T100000Z-base.json") == first
    assert resolve_run("base", folder).name == "20261123T100000Z-base.json"
    assert resolve_run("latest", folder).name == "20261123T110000Z-router-off.json"
    assert resolve_run("latest~1", folder).name == "20261123T100000Z-base.json"
    assert [s.run.label for s in list_runs(folder)] == ["base", "router-off"]
    with pytest.raises(ResultsError, match="no results file or run matching 'plan-off'"):
        resolve_run("plan-off", folder)
    with pytest.raises(ResultsError, match="only 2 runs"):
        resolve_run("latest~5", folder)


def test_loading_a_file_that_is_not_a_result_says_so(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text("{not json")
    with pytest.raises(ResultsError, match="not valid JSON"):
        load_run(bad)
    bad.write_text(json.dumps({"label": "x"}))
    with pytest.raises(ResultsError, match="not a smallcode benchmark result"):
        load_run(bad)
    with pytest.raises(ResultsError, match="no such results file"):
        load_run(tmp_path / "missing.json")


def test_chart_is_a_png_with_both_panels(tmp_path):
    import matplotlib.image

    runs = [make_run("base", {"t1": [True], "t2": [False]}),
            make_run("router-off", {"t1": [False], "t2": [False]}, model="qwen-0.5b")]
    out = render_chart(runs, tmp_path / "charts" / "c.png", title="dev suite")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    img = matplotlib.image.imread(out)
    height, width = img.shape[:2]
    assert width > height > 300  # two side-by-side panels
    with pytest.raises(ValueError):
        render_chart([], tmp_path / "none.png")
