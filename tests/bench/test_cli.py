"""`smallcode bench` end to end through the real argument parser, with the fake agent."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from smallcode.cli.main import build_parser
from smallcode.core.bench import list_runs, load_run, results_dir
from smallcode.core.bench.tasks import SUITES_DIR

FAKE = f"{sys.executable} {Path(__file__).with_name('fake_agent.py')}"


def smallcode(*argv: str) -> int:
    args = build_parser().parse_args(list(argv))
    return args.func(args)


@pytest.fixture()
def project(tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_AGENT_SUITE", str(SUITES_DIR / "smoke"))
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path


def test_run_compare_chart_and_list_runs(project, monkeypatch, capsys):
    monkeypatch.setenv("FAKE_AGENT_MODE", "idle")
    code = smallcode("-C", str(project), "bench", "--suite", "smoke", "--task", "smoke-a*",
                     "--task", "smoke-greet", "--label", "baseline", "--agent-command", FAKE)
    assert code == 0
    out = capsys.readouterr().out
    assert "0/2 tasks passed" in out
    assert "smoke-add: FAIL" in out  # not a terminal: one line per finished attempt

    monkeypatch.setenv("FAKE_AGENT_MODE", "solve")
    code = smallcode("-C", str(project), "bench", "run", "--task", "smoke-a*", "--task",
                     "smoke-greet", "--label", "solved", "--set", "agent.router=false",
                     "--agent-command", FAKE, "--min-pass-rate", "1.0")
    assert code == 0
    assert "2/2 tasks passed" in capsys.readouterr().out
    runs = list_runs(results_dir(project))
    assert [r.run.label for r in runs] == ["baseline", "solved"]
    assert runs[1].run.settings == {"agent.router": "false"}

    assert smallcode("-C", str(project), "bench", "compare", "baseline", "solved") == 0
    out = capsys.readouterr().out
    assert "smoke-add" in out and "fixed" in out
    assert "2 paired tasks: A passed 0.0 %, B passed 100.0 %" in out
    assert "pass-rate difference B - A: +100.0 points, 95 % CI [+" in out

    chart = project / "c.png"
    assert smallcode("-C", str(project), "bench", "chart", "-o", str(chart)) == 0
    assert chart.read_bytes()[:4] == b"\x89PNG"
    assert "chart of 2 runs" in capsys.readouterr().out

    assert smallcode("-C", str(project), "bench", "list", "--runs") == 0
    out = capsys.readouterr().out
    assert "baseline" in out and "2/2" in out and "agent.router=false" in out


def test_min_pass_rate_fails_the_command_when_not_reached(project, monkeypatch, capsys):
    monkeypatch.setenv("FAKE_AGENT_MODE", "idle")
    code = smallcode("-C", str(project), "bench", "--task", "smoke-add", "--agent-command", FAKE,
                     "--min-pass-rate", "0.5")
    assert code == 1
    stored = load_run(list_runs(results_dir(project))[0].path)
    assert stored.complete and stored.label == "smoke"


def test_bad_options_exit_2_with_a_message_and_run_nothing(project, capsys):
    assert smallcode("-C", str(project), "bench", "--set", "agent.routr=false") == 2
    assert "unknown setting 'routr' in [agent]" in capsys.readouterr().err
    assert smallcode("-C", str(project), "bench", "--suite", "nosuch") == 2
    assert "no suite 'nosuch'" in capsys.readouterr().err
    assert smallcode("-C", str(project), "bench", "compare", "x", "y") == 2
    assert "no results file or run matching 'x'" in capsys.readouterr().err
    assert not results_dir(project).exists()


def test_list_shows_suites_and_a_suites_tasks(project, capsys):
    assert smallcode("bench", "list") == 0
    out = capsys.readouterr().out
    assert "smoke" in out and "dev" in out
    assert smallcode("bench", "list", "smoke") == 0
    out = capsys.readouterr().out
    assert "smoke-config-debug" in out and "Turn on debug mode" in out


def test_progress_table_on_a_terminal_shows_each_attempt(tmp_path):
    import io

    from rich.console import Console
    from smallcode.cli.cmd_bench import ProgressTable
    from smallcode.core.bench import ProgressUpdate, TaskRecord, load_suite

    tasks = list(load_suite("smoke").tasks[:2])
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=160, color_system=None)
    table = ProgressTable(console, tasks, repeats=1)
    table.update(ProgressUpdate(tasks[0], 0, "running"))
    rec = TaskRecord(task_id=tasks[1].id, category=tasks[1].category, language="python",
                     passed=True, wall_seconds=42.4, turns=3, tool_calls=2, prompt_tokens=1500,
                     completion_tokens=100)
    table.update(ProgressUpdate(tasks[1], 0, "done", rec))
    text = out.getvalue()
    assert f"[1/2] {tasks[1].id}: pass 42s, 3 turns, 1,600 tokens" in text
    console.print(table.render())
    text = out.getvalue()
    assert "1/2 done, 1 passed" in text
    assert "running" in text
    assert "pass" in text and "42s" in text and "1,600" in text
