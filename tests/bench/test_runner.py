"""The benchmark runner against a fake agent: verdicts come from verify, never from the agent."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from smallcode.core.bench import (
    BenchError,
    BenchOptions,
    BenchRunner,
    load_run,
    parse_setting_overrides,
    parse_transcript,
    settings_env,
)
from smallcode.core.bench.tasks import SUITES_DIR

FAKE_AGENT = [sys.executable, str(Path(__file__).with_name("fake_agent.py"))]


@pytest.fixture()
def fake(monkeypatch):
    def use(mode: str, suite: str = "smoke") -> None:
        monkeypatch.setenv("FAKE_AGENT_MODE", mode)
        monkeypatch.setenv("FAKE_AGENT_SUITE", str(SUITES_DIR / suite))
    return use


def options(tmp_path: Path, **kw) -> BenchOptions:
    kw.setdefault("agent_command", list(FAKE_AGENT))
    return BenchOptions(project_dir=tmp_path, **kw)


def seen_by_agent(results_path: Path, transcript: str) -> dict:
    lines = (results_path.parent / transcript).read_text().splitlines()
    return json.loads(json.loads(lines[0])["message"])


def test_agent_that_applies_the_solution_passes_every_smoke_task(tmp_path, fake):
    fake("solve")
    progress = []
    runner = BenchRunner(options(tmp_path, jobs=2, label="ref solve"), progress=progress.append)
    run = runner.run()
    assert [r.task_id for r in run.records] == [t.id for t in runner.tasks]
    assert len(run.records) == 5
    assert all(r.passed for r in run.records)
    for r in run.records:
        assert (r.turns, r.tool_calls, r.prompt_tokens, r.completion_tokens) == (2, 1, 2700, 120)
        assert r.agent_success is True and r.agent_exit_code == 0
        assert r.changed_files  # the solution touched the repo
    # results file: under <project>/.smallcode/benchmarks/<timestamp>-<label>.json
    assert runner.results_path.parent == tmp_path / ".smallcode" / "benchmarks"
    assert runner.results_path.name.endswith("-ref-solve.json")
    stored = load_run(runner.results_path)
    assert stored.complete and stored.label == "ref solve" and stored.suite == "smoke"
    assert stored.summary().pass_rate == 1.0
    assert stored.summary().tokens_per_solved == 2820
    assert [u.state for u in progress].count("done") == 5
    assert [u.state for u in progress].count("running") == 5


def test_agent_that_does_nothing_fails_every_task_even_if_it_claims_success(tmp_path, fake):
    fake("idle")
    run = BenchRunner(options(tmp_path, task_patterns=["smoke-add", "smoke-greet"])).run()
    assert [r.passed for r in run.records] == [False, False]
    assert all(r.verify_exit_code not in (0, None) for r in run.records)
    assert all(r.changed_files == [] for r in run.records)
    assert run.records[0].prompt_tokens == 1200


def test_agent_runs_in_a_committed_copy_without_the_hidden_files(tmp_path, fake):
    fake("idle")
    runner = BenchRunner(options(tmp_path, task_patterns=["smoke-add"]))
    run = runner.run()
    seen = seen_by_agent(runner.results_path, run.records[0].transcript)
    assert seen["git_head"] is True
    assert seen["files"] == ["calc.py"]  # no hidden test_calc.py, no solution
    assert seen["argv"] == ["--yes", "--json", "--max-turns", "8",
                            "add() in calc.py returns the wrong result: add(2, 3) gives -1. Fix it."]


def test_settings_model_and_base_url_reach_the_agent_as_environment(tmp_path, fake):
    fake("idle")
    settings = parse_setting_overrides(["agent.router=false", "agent.plan=false"])
    runner = BenchRunner(options(tmp_path, task_patterns=["smoke-add"], settings=settings,
                                 model="qwen-1.5b", base_url="http://127.0.0.1:9/v1",
                                 max_turns=3))
    run = runner.run()
    seen = seen_by_agent(runner.results_path, run.records[0].transcript)
    assert seen["env"]["SMALLCODE_AGENT__ROUTER"] == "false"
    assert seen["env"]["SMALLCODE_AGENT__PLAN"] == "false"
    assert seen["env"]["SMALLCODE_MODEL__MODEL"] == "qwen-1.5b"
    assert seen["env"]["SMALLCODE_MODEL__BASE_URL"] == "http://127.0.0.1:9/v1"
    assert seen["argv"][:4] == ["--yes", "--json", "--max-turns", "3"]
    stored = load_run(runner.results_path)
    assert stored.settings == {"agent.router": "false", "agent.plan": "false"}
    assert stored.model == "qwen-1.5b"


def test_hanging_agent_is_killed_at_the_timeout_and_its_work_still_verified(tmp_path, fake):
    fake("hang")
    run = BenchRunner(options(tmp_path, task_patterns=["smoke-add"], timeout_scale=0.005)).run()
    (record,) = run.records
    assert record.agent_timed_out
    assert not record.passed
    assert record.wall_seconds < 10
    assert record.verify_exit_code not in (0, None)
    assert record.events == 1  # the notice printed before hanging was kept


def test_repeats_and_task_filter_by_id_and_category(tmp_path, fake):
    fake("solve")
    run = BenchRunner(options(tmp_path, task_patterns=["smoke-add", "config"], repeats=2)).run()
    assert [(r.task_id, r.attempt) for r in run.records] == [
        ("smoke-add", 0), ("smoke-add", 1), ("smoke-config-debug", 0), ("smoke-config-debug", 1)]
    s = run.summary()
    assert (s.tasks, s.attempts, s.passed_tasks) == (2, 4, 2)


def test_agent_that_cannot_start_or_crashes_is_recorded_as_a_runner_error(tmp_path, fake):
    fake("crash")
    run = BenchRunner(options(tmp_path, task_patterns=["smoke-add"])).run()
    assert not run.records[0].passed
    assert run.records[0].agent_exit_code == 3
    assert "cannot reach the model" in run.records[0].error
    missing = BenchRunner(options(tmp_path, task_patterns=["smoke-add"],
                                  agent_command=[str(tmp_path / "no-such-agent")])).run()
    assert missing.records[0].error.startswith("could not start the agent")


def test_transcript_without_done_sums_usage_events(tmp_path, fake):
    fake("noisy")
    runner = BenchRunner(options(tmp_path, task_patterns=["smoke-add"]))
    (record,) = runner.run().records
    assert (record.turns, record.tool_calls) == (2, 1)
    assert (record.prompt_tokens, record.completion_tokens) == (250, 30)
    assert record.agent_success is None


def test_parse_transcript_keeps_non_json_lines_as_raw_events():
    stats = parse_transcript('garbage\n{"type": "usage", "prompt_tokens": 5, '
                             '"completion_tokens": 1}\n[1, 2]\n\n')
    assert [e["type"] for e in stats.events] == ["raw", "usage", "raw"]
    assert (stats.turns, stats.prompt_tokens) == (1, 5)
    assert stats.cached_tokens is None  # the agent did not say


def test_parse_transcript_sums_the_prompt_tokens_taken_from_the_cache():
    lines = [{"type": "usage", "prompt_tokens": 900, "completion_tokens": 300,
              "cached_tokens": 0},
             {"type": "usage", "prompt_tokens": 900, "completion_tokens": 250,
              "cached_tokens": 880},
             {"type": "done", "success": True, "prompt_tokens": 1800, "completion_tokens": 550}]
    stats = parse_transcript("\n".join(json.dumps(e) for e in lines))
    assert (stats.prompt_tokens, stats.completion_tokens, stats.cached_tokens) == (1800, 550, 880)


def test_filter_matching_nothing_is_an_error(tmp_path):
    with pytest.raises(BenchError, match="no task in suite 'smoke' matches nope"):
        BenchRunner(options(tmp_path, task_patterns=["nope"]))


@pytest.mark.parametrize("item, message", [
    ("agent.router", "expected section.key=value"),
    ("router=false", "the key needs a section"),
    ("agnt.router=false", "unknown section 'agnt'"),
    ("agent.routr=false", "unknown setting 'routr' in \\[agent\\]"),
    ("agent.max_turns=many", "valid integer"),
    ("agent.permission_mode=sometimes", "--set 'agent.permission_mode=sometimes'"),
])
def test_bad_setting_overrides_are_rejected_before_running(item, message):
    with pytest.raises(BenchError, match=message):
        parse_setting_overrides([item])


def test_setting_overrides_map_to_smallcode_environment_variables():
    parsed = parse_setting_overrides(["agent.router=false", "model.tool_mode=constrained",
                                      "extra.myplugin.level=3"])
    assert settings_env(parsed) == {
        "SMALLCODE_AGENT__ROUTER": "false",
        "SMALLCODE_MODEL__TOOL_MODE": "constrained",
        "SMALLCODE_EXTRA__MYPLUGIN__LEVEL": "3",
    }


def test_interrupt_kills_the_run_and_keeps_partial_results(tmp_path, fake):
    fake("idle")

    def interrupt(update) -> None:
        if update.state == "done":
            raise KeyboardInterrupt

    runner = BenchRunner(options(tmp_path, task_patterns=["smoke-*"]), progress=interrupt)
    with pytest.raises(KeyboardInterrupt):
        runner.run()
    stored = load_run(runner.results_path)
    assert not stored.complete and stored.finished_at
    assert 1 <= len(stored.records) < 5
