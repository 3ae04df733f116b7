"""The runner driving the real `smallcode run` against a scripted OpenAI-compatible server."""

from __future__ import annotations

import re

from smallcode.cli.main import build_parser
from smallcode.core.bench import BenchOptions, BenchRunner, list_runs, load_run, results_dir

from tests.support.scripted_server import ScriptedServer

FIXED_CALC = ('def add(a, b):\n    """Return the sum of a and b."""\n    return a + b\n\n\n'
              'def multiply(a, b):\n    """Return the product of a and b."""\n    return a * b\n')


def test_real_agent_fixing_the_bug_passes_and_its_events_are_recorded(tmp_path):
    """The default path of `smallcode run`: the whole file back as plain code, checked by the
    smoke task's failing test before it is applied."""
    replies = [f"calc.py\n```python\n{FIXED_CALC}```\n"]
    with ScriptedServer(replies=replies, default="done") as server:
        runner = BenchRunner(BenchOptions(
            suite="smoke", task_patterns=["smoke-add"], base_url=server.base_url,
            model="scripted-model", project_dir=tmp_path))
        run = runner.run()
        # nothing can check the fix, so the whole first round (K = 4) is sampled for the vote
        # (the other three replies carry no code), then the model writes example calls to run
        # the kept candidate on even though no other candidate competes with it
        assert len(server.requests) == 5
        assert "names come from: calc" in server.requests[-1]["messages"][-1]["content"]
    (rec,) = run.records
    # the bug report gives no expected value and the task's tests are hidden: the fix is kept
    # but reported as unverified (exit 4), while the bench's own verify passes it
    assert rec.passed and rec.agent_success is True and rec.agent_exit_code == 4
    assert run.summary().exit_vs_verdict == {"other/pass": 1}
    assert (rec.turns, rec.tool_calls) == (5, 0)
    assert rec.prompt_tokens > 0
    assert rec.changed_files == ["calc.py"]
    transcript = (runner.results_path.parent / rec.transcript).read_text().splitlines()
    assert '"type":"done"' in transcript[-2].replace(" ", "")  # then the usage summary
    assert '"type":"usage_summary"' in transcript[-1].replace(" ", "")
    stored = load_run(runner.results_path)
    assert stored.records[0] == rec
    assert (stored.endpoint_source, stored.model_served) == ("configured", "scripted-model")


def test_every_candidate_is_scored_on_the_hidden_tests(tmp_path, capsys, monkeypatch):
    """--score-candidates: each distinct candidate the transcript records is run through the
    task's verify in a fresh copy, so a run tells "no candidate was right" from "the wrong one
    was kept"."""
    wrong = FIXED_CALC.replace("return a + b", "return abs(a - b)")
    replies = [f"calc.py\n```python\n{wrong}```\n", f"calc.py\n```python\n{FIXED_CALC}```\n",
               f"calc.py\n```python\n{wrong}```\n"]  # the third repeats the first
    monkeypatch.setenv("COLUMNS", "200")
    with ScriptedServer(replies=replies, default="done") as server:
        args = build_parser().parse_args([
            "-C", str(tmp_path), "bench", "--suite", "smoke", "--task", "smoke-add",
            "--base-url", server.base_url, "--model", "scripted-model", "--score-candidates"])
        assert args.func(args) == 0
    # without example calls to vote on, the first-made candidate (the wrong one) is kept
    assert re.search(r"a candidate passed \(of scored tasks\) +│ +1/1", capsys.readouterr().out)
    (stored,) = list_runs(results_dir(tmp_path))
    (rec,) = stored.run.records
    assert not rec.passed and (rec.candidates, rec.candidates_passing) == (2, 1)
    summary = stored.run.summary()
    assert (summary.scored_tasks, summary.solvable_tasks) == (1, 1)
    assert summary.exit_vs_verdict == {"other/fail": 1}  # exit 4: not verified, and wrong


def test_candidates_are_not_scored_unless_asked(tmp_path):
    replies = [f"calc.py\n```python\n{FIXED_CALC}```\n"]
    with ScriptedServer(replies=replies, default="done") as server:
        run = BenchRunner(BenchOptions(
            suite="smoke", task_patterns=["smoke-add"], base_url=server.base_url,
            model="scripted-model", project_dir=tmp_path)).run()
    (rec,) = run.records
    assert (rec.candidates, rec.candidates_passing) == (None, None)
    assert run.summary().scored_tasks == 0


def test_real_agent_that_only_talks_fails_verification(tmp_path):
    with ScriptedServer(replies=[], default="The bug is in add(); it subtracts.") as server:
        run = BenchRunner(BenchOptions(
            suite="smoke", task_patterns=["smoke-add"], base_url=server.base_url,
            model="scripted-model", project_dir=tmp_path, max_turns=2)).run()
    (rec,) = run.records
    assert not rec.passed
    assert rec.changed_files == []
    assert rec.verify_exit_code not in (0, None)


def test_endpoint_is_resolved_once_and_shared_by_every_task(tmp_path, monkeypatch):
    """Without --base-url the runner resolves the endpoint as `smallcode run` would (here from
    the environment) and passes it to each task, so an embedded server is started only once."""
    with ScriptedServer(replies=[], default="nothing to do") as server:
        url = server.base_url
        monkeypatch.setenv("SMALLCODE_BASE_URL", url)
        notices: list[str] = []
        runner = BenchRunner(BenchOptions(suite="smoke", task_patterns=["smoke-add"],
                                          project_dir=tmp_path, max_turns=1),
                             notice=notices.append)
        run = runner.run()
    assert run.base_url == url
    assert (run.endpoint_source, run.model_served) == ("configured", "scripted-model")
    assert notices == [f"model server {url} (configured, scripted-model)"]
    assert not run.records[0].passed and run.records[0].error == ""
