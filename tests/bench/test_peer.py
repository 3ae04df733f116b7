"""A peer agent's command line (placeholders) through the same runner, oracles and comparison."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from smallcode.cli.main import build_parser
from smallcode.core.bench import (
    BenchError,
    BenchOptions,
    BenchRun,
    BenchRunner,
    TaskRecord,
    UsageMeter,
    agent_name,
    candidate_files,
    compare_runs,
    expand_command,
    load_run,
    load_suite,
    placeholders_in,
    reply_usage,
    results_dir,
    save_run,
    score_candidates,
)

from tests.support.scripted_server import Reply, ScriptedServer

FAKE_PEER = Path(__file__).with_name("fake_peer.py")
FAKE_AGENT = Path(__file__).with_name("fake_agent.py")
INSTRUCTION = "add() in calc.py subtracts; make add(2, 3) return 5."
FIXED = "def add(a, b):\n    return a + b\n"


@pytest.fixture()
def suite(tmp_path: Path) -> Path:
    """A one-task suite on disk: calc.py to fix, a helper, a hidden docs file, a check."""
    task = tmp_path / "suite" / "tiny-add"
    files = {
        "task.toml": f'id = "tiny-add"\ncategory = "bugfix"\nlanguage = "python"\n'
                     f'instruction = "{INSTRUCTION}"\nverify = "python check.py"\ntimeout = 60\n',
        "repo/calc.py": "def add(a, b):\n    return a - b\n",
        "repo/lib/util.py": "HELP = 'unused'\n",
        "repo/.docs/instructions.md": "Keep add() pure.\n",
        "hidden/check.py": "import calc\nassert calc.add(2, 3) == 5, calc.add(2, 3)\n",
        "solution/calc.py": FIXED,
    }
    for rel, text in files.items():
        (task / rel).parent.mkdir(parents=True, exist_ok=True)
        (task / rel).write_text(text)
    return task.parent


def peer_command(*extra: str) -> list[str]:
    return [sys.executable, str(FAKE_PEER), *extra]


def seen_by_peer(runner: BenchRunner, record: TaskRecord) -> dict:
    log = (runner.results_path.parent / record.transcript).read_text().splitlines()
    return json.loads(log[0])


def test_peer_command_gets_its_placeholders_and_is_judged_by_verify(tmp_path, suite):
    usage = {"prompt_tokens": 321, "completion_tokens": 12}
    with ScriptedServer(replies=[Reply(content=FIXED, usage=usage)]) as server:
        runner = BenchRunner(BenchOptions(
            suite=str(suite), base_url=server.base_url, project_dir=tmp_path / "project",
            agent_command=peer_command("--url", "{base_url}", "--model", "{model}",
                                       "--ws", "{workspace}", "--message", "{instruction}",
                                       "{files}")))
        run = runner.run()
        assert len(server.requests) == 1
        assert server.requests[0]["model"] == "scripted-model"  # {model}: what the server lists
        server_url = server.base_url
    (rec,) = run.records
    seen = seen_by_peer(runner, rec)
    argv = seen["argv"]
    # run as given: no --yes --json --max-turns; the instruction one argument; cwd the workspace
    assert "--yes" not in argv and "--json" not in argv and "--max-turns" not in argv
    assert argv[2:8] == ["--model", "scripted-model", "--ws", seen["cwd"], "--message",
                         INSTRUCTION]
    assert Path(seen["cwd"]).name.startswith("smallcode-bench-tiny-add-")
    # {files}: every file of the repo, relative, one argument each; hidden docs in, .git out
    assert argv[8:] == [".docs/instructions.md", "calc.py", "lib/util.py"]
    # {base_url}: the usage meter in front of the server, same /v1 path
    assert argv[0] == "--url" and argv[1] != server_url
    assert argv[1].startswith("http://127.0.0.1:") and argv[1].endswith("/v1")
    assert rec.passed and rec.verify_exit_code == 0 and rec.agent_exit_code == 0
    assert rec.changed_files == ["calc.py"]
    assert (rec.turns, rec.prompt_tokens, rec.completion_tokens) == (1, 321, 12)
    assert rec.cached_tokens == 0 and rec.processed_tokens == 333  # no cache hit reported
    assert rec.tokens_from == "meter" and rec.error == "" and rec.wall_seconds > 0
    assert rec.transcript.endswith("tiny-add.0.log")
    stored = load_run(runner.results_path)
    assert stored.agent == "fake_peer" and stored.label == "fake_peer-suite"
    assert stored.agent_command[-1] == "{files}"  # the command as given, placeholders kept
    assert stored.summary().tokens_per_solved == 333


def test_peer_without_usage_has_unknown_tokens_and_its_exit_code_recorded(tmp_path, suite,
                                                                          monkeypatch):
    monkeypatch.setenv("FAKE_PEER_EXIT", "5")
    runner = BenchRunner(BenchOptions(
        suite=str(suite), project_dir=tmp_path, label="peer",
        agent_command=peer_command("--message", "{instruction}", "{files}")))
    run = runner.run()
    (rec,) = run.records
    assert not rec.passed and rec.verify_exit_code not in (0, None)  # verify judged it
    assert rec.agent_exit_code == 5 and rec.error.startswith("agent exited 5")
    assert rec.prompt_tokens is None and rec.completion_tokens is None and rec.tokens is None
    assert rec.tokens_from == "unknown" and rec.turns == 0
    assert seen_by_peer(runner, rec)["argv"] == ["--message", INSTRUCTION,
                                                 ".docs/instructions.md", "calc.py",
                                                 "lib/util.py"]
    s = run.summary()
    assert s.total_tokens is None and s.tokens_per_solved is None
    assert run.endpoint_source == ""  # no {base_url}/{model}: no model server looked for


def test_placeholder_rules(tmp_path, suite):
    cmd = ["aider", "--message={instruction}", "{files}", "--x", "{unknown}"]
    assert placeholders_in(cmd) == {"instruction", "files"}
    assert expand_command(cmd, {"instruction": "do it"}, ["a.py", "b c.py"]) == [
        "aider", "--message=do it", "a.py", "b c.py", "--x", "{unknown}"]
    assert placeholders_in(["smallcode", "run"]) == set()
    assert agent_name([sys.executable, "/home/u/aider-run.sh", "{base_url}"]) == "aider-run"
    with pytest.raises(BenchError, match="must be an argument of its own"):
        BenchRunner(BenchOptions(suite=str(suite), project_dir=tmp_path,
                                 agent_command=["peer", "--files={files}"]))
    runner = BenchRunner(BenchOptions(suite=str(suite), project_dir=tmp_path,
                                      shared_endpoint=False,
                                      agent_command=["peer", "{base_url}"]))
    with pytest.raises(BenchError, match="uses {base_url}: give --base-url"):
        runner.run()


def test_reply_usage_reads_json_sse_usage_and_llama_timings():
    assert reply_usage(b'{"usage": {"prompt_tokens": 7, "completion_tokens": 2}}') == (7, 2, 0)
    sse = (b'data: {"choices": [{"delta": {"content": "x"}}]}\n\n'
           b'data: {"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 3}}\n\n'
           b'data: [DONE]\n\n')
    assert reply_usage(sse) == (9, 3, 0)
    timings = b'data: {"choices": [], "timings": {"prompt_n": 40, "cache_n": 960, "predicted_n": 5}}\n'
    assert reply_usage(timings) == (1000, 5, 960)
    # the prompt tokens the server took from its cache: OpenAI's field, else llama.cpp's timings
    cached = (b'{"usage": {"prompt_tokens": 100, "completion_tokens": 4, '
              b'"prompt_tokens_details": {"cached_tokens": 30}}}')
    assert reply_usage(cached) == (100, 4, 30)
    both = (b'data: {"choices": [], "usage": {"prompt_tokens": 50, "completion_tokens": 2}, '
            b'"timings": {"prompt_n": 10, "cache_n": 40, "predicted_n": 2}}\n')
    assert reply_usage(both) == (50, 2, 40)
    # timings without cache_n would undercount a cached prompt: unknown instead
    assert reply_usage(b'data: {"timings": {"prompt_n": 40, "predicted_n": 5}}\n') is None
    assert reply_usage(b"not json") is None


def test_usage_meter_relays_json_replies_and_counts_them():
    import httpx

    reply_spec = Reply(content="hi", usage={"prompt_tokens": 50, "completion_tokens": 4,
                                            "prompt_tokens_details": {"cached_tokens": 20}})
    with ScriptedServer(replies=[reply_spec]) as server, UsageMeter(server.base_url) as meter:
        models = httpx.get(meter.base_url + "/models", timeout=10).json()
        reply = httpx.post(meter.base_url + "/chat/completions", timeout=10,
                           json={"messages": [{"role": "user", "content": "x"}]}).json()
    assert models["data"][0]["id"] == "scripted-model"
    assert reply["choices"][0]["message"]["content"] == "hi"
    assert (meter.totals.calls, meter.totals.prompt_tokens, meter.totals.completion_tokens,
            meter.totals.cached_tokens, meter.totals.known) == (1, 50, 4, 20, True)


# --- comparison: smallcode and a peer in one table ----------------------------------------------

def record(task_id: str, passed: bool, tokens: int | None, wall: float) -> TaskRecord:
    return TaskRecord(task_id=task_id, category="bugfix", language="python", passed=passed,
                      wall_seconds=wall, prompt_tokens=tokens, completion_tokens=0 if tokens
                      is not None else None, tokens_from="transcript" if tokens else "unknown")


def test_compare_smallcode_with_a_peer_whose_tokens_are_unknown(tmp_path, monkeypatch, capsys):
    ours = BenchRun(label="smallcode", suite="dev", started_at="2026-01-01T00:00:00+00:00",
                    smallcode_version="0", complete=True,
                    records=[record("t1", True, 3000, 40.0), record("t2", True, 5000, 60.0),
                             record("t3", False, 9000, 80.0)])
    peer = BenchRun(label="aider", agent="aider-run", suite="dev", complete=True,
                    started_at="2026-01-01T01:00:00+00:00", smallcode_version="0",
                    records=[record("t1", True, None, 20.0), record("t2", False, None, 25.0),
                             record("t3", True, None, 30.0)])
    cmp_ = compare_runs(ours, peer)
    assert (cmp_.a_agent, cmp_.b_agent) == ("smallcode", "aider-run")
    assert (cmp_.a_solved, cmp_.b_solved, cmp_.count("fixed"), cmp_.count("broken")) == (
        2, 2, 1, 1)
    assert cmp_.a_tokens_per_solved == 8500 and cmp_.b_tokens_per_solved is None

    folder = results_dir(tmp_path)
    save_run(ours, folder / "20260101T000000Z-smallcode.json")
    save_run(peer, folder / "20260101T010000Z-aider.json")
    monkeypatch.setenv("COLUMNS", "200")
    args = build_parser().parse_args(["-C", str(tmp_path), "bench", "compare", "smallcode",
                                      "aider"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:-1]]
            for line in out.splitlines() if line.startswith(("│ A ", "│ B "))}
    assert rows["A"] == ["smallcode", "smallcode", "2/3", "66.7", "8,500", "60.0 s", "1"]
    assert rows["B"] == ["aider", "aider-run", "2/3", "66.7", "unknown", "25.0 s", "1"]
    assert "(1 fixed, 1 broken)" in out


def test_cli_runs_smallcode_and_a_peer_on_one_suite_then_compares_them(tmp_path, suite,
                                                                      monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("FAKE_AGENT_MODE", "idle")

    def smallcode(*argv: str) -> int:
        args = build_parser().parse_args(["-C", str(tmp_path / "project"), *argv])
        return args.func(args)

    assert smallcode("bench", "--suite", str(suite), "--label", "ours", "--agent-command",
                     f"{sys.executable} {FAKE_AGENT}") == 0
    with ScriptedServer(replies=[Reply(content=FIXED, usage={"prompt_tokens": 200,
                                                             "completion_tokens": 10})]) as srv:
        peer = f"{sys.executable} {FAKE_PEER} --url {{base_url}} --message {{instruction}} {{files}}"
        assert smallcode("bench", "--suite", str(suite), "--label", "peer", "--base-url",
                         srv.base_url, "--agent-command", peer) == 0
    out = capsys.readouterr().out
    assert "tiny-add: pass" in out and "210 tokens" in out
    assert smallcode("bench", "compare", "ours", "peer") == 0
    out = capsys.readouterr().out
    assert "fake_peer" in out and "fixed" in out and "210" in out


@pytest.mark.parametrize("verify", ["python -m no_such_test_runner_here", "no-such-tool check",
                                    "python check.py && exit 3"])
def test_a_verify_that_cannot_pass_on_the_reference_solution_stops_the_run_first(
        suite: Path, tmp_path: Path, verify: str):
    """A verify that fails here whatever the agent does (its tool missing: pytest not in the
    interpreter) would be recorded as every task failing: the run refuses before any task."""
    toml = suite / "tiny-add" / "task.toml"
    toml.write_text(toml.read_text().replace('verify = "python check.py"', f'verify = "{verify}"'))
    with ScriptedServer(replies=[], default="nothing") as server:
        runner = BenchRunner(BenchOptions(suite=str(suite), base_url=server.base_url,
                                          model="m", project_dir=tmp_path / "p"))
        with pytest.raises(BenchError, match="fails on the task's own reference solution"):
            runner.run()
        assert server.requests == []  # no agent ran
    assert not runner.run_record.records


def test_candidate_files_keeps_distinct_candidates_in_order():
    events = [{"type": "notice", "message": "x"},
              {"type": "candidate", "number": 1, "files": {"a.py": "1"}},
              {"type": "candidate", "number": 2, "files": {}},  # changed nothing
              {"type": "candidate", "number": 3, "files": {"a.py": "2"}},
              {"type": "candidate", "number": 4, "files": {"a.py": "1"}},
              {"type": "raw", "text": "files"}]
    assert candidate_files(events) == [{"a.py": "1"}, {"a.py": "2"}]


def test_a_candidate_writing_outside_the_workspace_scores_as_failing(tmp_path):
    """The candidate replacing the smoke task's calc.py with the reference fix passes; one that
    names a path outside the copy fails and writes nothing there."""
    task = next(t for t in load_suite("smoke").tasks if t.id == "smoke-add")
    fixed = (task.solution_dir / "calc.py").read_text()
    outside = tmp_path / "escaped.py"
    assert score_candidates(task, [{"calc.py": fixed}]) == 1
    assert score_candidates(task, [{"calc.py": fixed, str(outside): "x = 1\n"}]) == 0
    assert score_candidates(task, [{"calc.py": fixed, "../escaped.py": "x = 1\n"}]) == 0
    assert not outside.exists()
