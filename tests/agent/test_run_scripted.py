"""End-to-end `smallcode run` against the scripted loopback server (deterministic)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.scripted_server import ScriptedServer

BUGGY = "def add(a, b):\n    return a - b\n"
TEST = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"


def make_repo(root: Path) -> Path:
    (root / "calc.py").write_text(BUGGY)
    (root / "test_calc.py").write_text(TEST)
    return root


def run_cli(root: Path, *args: str, env: dict[str, str] | None = None,
            timeout: float = 120, solve: bool = False) -> subprocess.CompletedProcess[str]:
    """`smallcode run` in ``root``. These tests script the tool loop (tool calls), so the solve
    path is off unless ``solve``; tests/solve script the solve path's whole-file replies."""
    # no retries: a scripted server answers 500 once its script is used up, and a retry's
    # back-off would only add seconds to every test that reaches that point
    full_env = {**os.environ, "SMALLCODE_MODEL__DETECT_LOCAL": "false",
                "SMALLCODE_MODEL__MAX_RETRIES": "0",
                "SMALLCODE_SOLVE__ENABLED": "true" if solve else "false",
                "XDG_CONFIG_HOME": str(root / ".cfg"), **(env or {})}
    return subprocess.run([sys.executable, "-m", "smallcode.cli.main", "-C", str(root), "run",
                           *args], capture_output=True, text=True, timeout=timeout, env=full_env,
                          check=False)


def events(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def fenced(name: str, arguments: dict) -> str:
    return "```json\n" + json.dumps({"name": name, "arguments": arguments}, indent=2) + "\n```"


def test_text_mode_fix_makes_failing_test_pass(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    replies = [
        fenced("patch", {"path": "calc.py", "old_str": "return a - b", "new_str": "return a + b"}),
        fenced("finish", {"summary": "add now adds"}),
    ]
    with ScriptedServer(replies) as srv:
        proc = run_cli(repo, "--yes", "--json", "--base-url", srv.base_url, "test_add fails, fix it")
        reqs = srv.requests
    assert proc.returncode == 0, proc.stderr
    assert (repo / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
    evs = events(proc.stdout)
    kinds = [e["type"] for e in evs]
    assert kinds[0] == "route" and kinds[-2:] == ["done", "usage_summary"]
    done = evs[-2]
    summary = evs[-1]
    assert summary["task"]["calls"] == 2 and summary["task"]["prompt_tokens"] > 0
    assert done["success"] is True and done["reason"] == "finished"
    calls = [e for e in evs if e["type"] == "tool_call"]
    assert [c["name"] for c in calls] == ["patch", "finish"]
    assert calls[0]["repaired"] == "fence"
    result = next(e for e in evs if e["type"] == "tool_result")
    assert result["ok"] and "+    return a + b" in result["diff"]
    # the first prompt carried the failing test run and the module under test
    first_user = reqs[0]["messages"][-1]["content"]
    assert "assert -1 == 5" in first_user and "return a - b" in first_user
    # after the edit the tests ran and passed; the model saw it
    assert "TESTS PASS" in reqs[1]["messages"][-1]["content"]
    # assistant messages never go out with null content
    for r in reqs:
        for m in r["messages"]:
            assert m.get("content") is not None


def test_constrained_mode_sends_json_schema_and_parses_action(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    replies = [
        json.dumps({"tool": "patch", "args": {"path": "calc.py", "old_str": "a - b",
                                              "new_str": "a + b"}}),
        json.dumps({"tool": "finish", "args": {"summary": "fixed"}}),
    ]
    with ScriptedServer(replies, model="qwen2.5-coder-1.5b-instruct") as srv:
        proc = run_cli(repo, "--yes", "--json", "--base-url", srv.base_url, "fix the failing test")
        reqs = srv.requests
    assert proc.returncode == 0, proc.stderr
    assert "a + b" in (repo / "calc.py").read_text()
    rf = reqs[0]["response_format"]
    assert rf["type"] == "json_schema"
    assert "patch" in json.dumps(rf["json_schema"]["schema"])
    # the system prompt and tool list are byte-identical across turns (prompt cache stays warm)
    assert reqs[0]["messages"][0] == reqs[1]["messages"][0]
    assert reqs[1]["messages"][: len(reqs[0]["messages"])] == reqs[0]["messages"]


def test_near_miss_tool_name_and_argument_names_are_mapped(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    replies = [
        fenced("pach", {"file": "calc.py", "old": "a - b", "new": "a + b"}),
        fenced("finish", {"summary": "ok"}),
    ]
    with ScriptedServer(replies) as srv:
        proc = run_cli(repo, "--yes", "--json", "--base-url", srv.base_url, "fix test_add")
    assert proc.returncode == 0, proc.stderr
    evs = events(proc.stdout)
    call = next(e for e in evs if e["type"] == "tool_call")
    assert call["name"] == "patch" and call["arguments"]["path"] == "calc.py"
    assert "pach" in call["repaired"]
    assert not [e for e in evs if e["type"] == "error"]
    assert "a + b" in (repo / "calc.py").read_text()


def test_unusable_call_is_repaired_by_the_model_micro_task(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    replies = [
        fenced("nonsense_tool", {"x": 1}),
        # the repair micro-task's request gets this: a valid call
        json.dumps({"name": "patch", "arguments": {"path": "calc.py", "old_str": "a - b",
                                                   "new_str": "a + b"}}),
        fenced("finish", {"summary": "ok"}),
    ]
    with ScriptedServer(replies) as srv:
        proc = run_cli(repo, "--yes", "--json", "--base-url", srv.base_url, "fix test_add")
    assert proc.returncode == 0, proc.stderr
    call = next(e for e in events(proc.stdout) if e["type"] == "tool_call")
    assert call["name"] == "patch" and "repaired by the model" in call["repaired"]
    assert "a + b" in (repo / "calc.py").read_text()


def test_unrepairable_call_gets_one_correction_and_the_bad_turn_is_replaced(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    replies = [
        fenced("nonsense_tool", {"x": 1}),
        "I cannot do that.",  # the repair micro-task fails
        fenced("patch", {"path": "calc.py", "old_str": "a - b", "new_str": "a + b"}),
        fenced("finish", {"summary": "ok"}),
    ]
    with ScriptedServer(replies) as srv:
        proc = run_cli(repo, "--yes", "--json", "--base-url", srv.base_url, "fix test_add")
        reqs = srv.requests
    assert proc.returncode == 0, proc.stderr
    errors = [e for e in events(proc.stdout) if e["type"] == "error"]
    assert len(errors) == 1 and "nonsense_tool" in errors[0]["message"]
    third = reqs[2]["messages"]  # the agent's next turn after the correction
    assert not any(m["role"] == "assistant" and "nonsense_tool" in m["content"] for m in third)
    assert "nonsense_tool" in third[-1]["content"]  # the one short correction


def test_finish_is_refused_while_tests_still_fail(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    replies = [
        fenced("finish", {"summary": "looks fine"}),
        fenced("patch", {"path": "calc.py", "old_str": "a - b", "new_str": "a + b"}),
        fenced("finish", {"summary": "fixed"}),
    ]
    with ScriptedServer(replies) as srv:
        proc = run_cli(repo, "--yes", "--json", "--base-url", srv.base_url, "test_add fails")
        reqs = srv.requests
    assert proc.returncode == 0, proc.stderr
    assert "Not done yet: the tests still fail" in reqs[1]["messages"][-1]["content"]
    assert "a + b" in (repo / "calc.py").read_text()


def test_path_outside_workspace_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    repo = make_repo(tmp_path / "repo")
    outside = tmp_path / "outside.txt"
    replies = [
        fenced("write_file", {"path": "../outside.txt", "content": "pwned"}),
        fenced("read_file", {"path": "/etc/passwd"}),
        fenced("finish", {"summary": "stopped"}),
    ]
    with ScriptedServer(replies) as srv:
        proc = run_cli(repo, "--yes", "--json", "--base-url", srv.base_url, "write a file")
    evs = events(proc.stdout)
    results = [e for e in evs if e["type"] == "tool_result"]
    assert not results[0]["ok"] and "outside the workspace" in results[0]["output"]
    assert not results[1]["ok"] and "outside the workspace" in results[1]["output"]
    assert not outside.exists()


def test_dead_server_gives_clear_error_and_exit_code(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    proc = run_cli(repo, "--yes", "--base-url", "http://127.0.0.1:9/v1", "fix it",
                   env={"SMALLCODE_MODEL__MAX_RETRIES": "0"})
    assert proc.returncode == 3
    assert "cannot reach the model server" in proc.stderr
    assert (repo / "calc.py").read_text() == BUGGY


def test_without_yes_edits_are_refused_headless(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    replies = [fenced("patch", {"path": "calc.py", "old_str": "a - b", "new_str": "a + b"}),
               fenced("finish", {"summary": "could not edit"})]
    with ScriptedServer(replies) as srv:
        proc = subprocess.run(
            [sys.executable, "-m", "smallcode.cli.main", "-C", str(repo), "run", "--json",
             "--base-url", srv.base_url, "fix add"], capture_output=True, text=True,
            stdin=subprocess.DEVNULL, timeout=60, check=False,
            env={**os.environ, "SMALLCODE_MODEL__DETECT_LOCAL": "false",
                 "SMALLCODE_MODEL__MAX_RETRIES": "0", "SMALLCODE_SOLVE__ENABLED": "false"})
    evs = events(proc.stdout)
    res = next(e for e in evs if e["type"] == "tool_result")
    assert res["ok"] is False and "did not allow" in res["output"]
    assert (repo / "calc.py").read_text() == BUGGY


def test_plain_answer_for_a_question(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    with ScriptedServer(["It adds two numbers (currently it subtracts)."]) as srv:
        proc = run_cli(repo, "--json", "--base-url", srv.base_url, "thanks! what is calc.py?")
    evs = events(proc.stdout)
    assert next(e for e in evs if e["type"] == "done")["success"] is True
    assert any(e["type"] == "assistant_text" and "subtracts" in e["text"] for e in evs)


def test_session_is_saved_and_continue_resumes_the_conversation(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    with ScriptedServer(["The add function is in calc.py.", "It returns a - b."]) as srv:
        first = run_cli(repo, "--json", "--base-url", srv.base_url, "thanks, where is add?")
        second = run_cli(repo, "--json", "--continue", "--base-url", srv.base_url,
                         "what does it return?")
        reqs = srv.requests
    assert first.returncode == 0 and second.returncode == 0, second.stderr
    sessions = sorted((repo / ".smallcode" / "sessions").glob("*.json"))
    assert len(sessions) == 1  # --continue appends to the same session
    assert oct(sessions[0].stat().st_mode & 0o777) == "0o600"
    saved = json.loads(sessions[0].read_text())
    assert [t["task"] for t in saved["tasks"]] == ["thanks, where is add?", "what does it return?"]
    # the second task's request carries the first conversation
    contents = [m["content"] for m in reqs[1]["messages"]]
    assert any("where is add" in c for c in contents)
    assert any("The add function is in calc.py." in c for c in contents)


def test_remember_that_is_stored_and_loaded_into_the_next_task(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    with ScriptedServer(["Noted.", "Use pytest -q."]) as srv:
        first = run_cli(repo, "--json", "--base-url", srv.base_url,
                        "remember that the tests must be run with pytest -q")
        second = run_cli(repo, "--json", "--base-url", srv.base_url,
                         "thanks, how do I run the tests with pytest in this project?")
        reqs = srv.requests
    assert first.returncode == 0 and second.returncode == 0, second.stderr
    notices = [e["message"] for e in events(first.stdout) if e["type"] == "notice"]
    assert any(n.startswith("remembered") and "pytest -q" in n for n in notices)
    last_user = reqs[1]["messages"][-1]["content"]
    assert "Project memory:" in last_user and "pytest -q" in last_user


def test_widening_announces_new_tools_in_constrained_mode(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    replies = [
        json.dumps({"tool": "read_file", "args": {"path": "calc.py"}}),
        json.dumps({"tool": "patch", "args": {"path": "calc.py", "old_str": "a - b",
                                              "new_str": "a + b"}}),
        json.dumps({"tool": "finish", "args": {"summary": "done"}}),
    ]
    with ScriptedServer(replies, model="qwen2.5-coder-1.5b-instruct") as srv:
        proc = run_cli(repo, "--yes", "--json", "--base-url", srv.base_url, "show me calc.py")
        reqs = srv.requests
    assert proc.returncode == 4, proc.stderr  # finished; nothing could verify it
    route = next(e for e in events(proc.stdout) if e["type"] == "route")
    assert route["category"] == "read" and "patch" not in route["tools"]
    # after the first call the route widened; the model is told, and the grammar allows it
    assert "Now also available: " in reqs[1]["messages"][-1]["content"]
    assert "patch(path, old_str, new_str, line?)" in reqs[1]["messages"][-1]["content"]
    assert '"patch"' in json.dumps(reqs[1]["response_format"])
    assert reqs[1]["messages"][0] == reqs[0]["messages"][0]  # system prompt unchanged
    assert "a + b" in (repo / "calc.py").read_text()


def test_repeated_failed_call_is_not_rerun_and_the_next_call_samples_hotter(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    bad = fenced("patch", {"path": "calc.py", "old_str": "import numpy as np", "new_str": "x"})
    replies = [bad, bad,
               fenced("patch", {"path": "calc.py", "old_str": "a - b", "new_str": "a + b"}),
               fenced("finish", {"summary": "ok"})]
    with ScriptedServer(replies) as srv:
        proc = run_cli(repo, "--yes", "--json", "--base-url", srv.base_url, "fix test_add")
        reqs = srv.requests
    assert proc.returncode == 0, proc.stderr
    results = [e for e in events(proc.stdout) if e["type"] == "tool_result"]
    assert len(results) == 3  # the repeat was answered without running the tool again
    third = reqs[2]
    assert third["temperature"] == 0.8
    assert "You already made exactly this call" in third["messages"][-1]["content"]
    assert sum("import numpy" in m["content"] for m in third["messages"]
               if m["role"] == "assistant") == 1
    assert reqs[3]["temperature"] != 0.8


def test_best_of_n_keeps_the_first_candidate_whose_tests_pass(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    replies = [
        # candidate 1: a wrong fix, then finish (refused twice while tests fail, then accepted)
        fenced("patch", {"path": "calc.py", "old_str": "a - b", "new_str": "a * b"}),
        fenced("finish", {"summary": "fixed?"}),
        fenced("finish", {"summary": "fixed?"}),
        fenced("finish", {"summary": "fixed?"}),
        # candidate 2 starts from the same checkpoint: the file is buggy again
        fenced("patch", {"path": "calc.py", "old_str": "a - b", "new_str": "a + b"}),
        fenced("finish", {"summary": "fixed"}),
    ]
    with ScriptedServer(replies) as srv:
        proc = run_cli(repo, "--yes", "--json", "--base-url", srv.base_url, "test_add fails",
                       env={"SMALLCODE_AGENT__BEST_OF_N": "2"})
        reqs = srv.requests
    assert proc.returncode == 0, proc.stderr + proc.stdout[-1500:]
    evs = events(proc.stdout)
    assert [e["message"] for e in evs if e["type"] == "notice" and "best-of" in e["message"]] == \
        ["best-of-2: candidate 1", "best-of-2: candidate 2"]
    dones = [e for e in evs if e["type"] == "done"]
    assert len(dones) == 1 and "candidate 2 of 2" in dones[0]["reason"]
    assert (repo / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
    # candidate 2 saw the original file, not candidate 1's edit, and sampled hotter
    assert "return a - b" in reqs[4]["messages"][-1]["content"]
    assert reqs[4]["temperature"] == 0.7


def test_finish_without_any_successful_edit_after_a_failed_one_is_refused(tmp_path: Path) -> None:
    (tmp_path / "stats.py").write_text("def largest(xs):\n    return min(xs)\n")  # no tests here
    replies = [
        fenced("patch", {"path": "stats.py", "old_str": "import numpy as np", "new_str": "x"}),
        fenced("finish", {"summary": "fixed"}),
        fenced("patch", {"path": "stats.py", "old_str": "return min(xs)", "new_str": "return max(xs)"}),
        fenced("finish", {"summary": "fixed"}),
    ]
    with ScriptedServer(replies) as srv:
        proc = run_cli(tmp_path, "--yes", "--json", "--base-url", srv.base_url,
                       "largest() returns the smallest number, fix it")
        reqs = srv.requests
    assert proc.returncode == 4, proc.stderr  # finished; nothing could verify it
    assert "Not done yet: no file was changed" in reqs[2]["messages"][-1]["content"]
    assert (tmp_path / "stats.py").read_text() == "def largest(xs):\n    return max(xs)\n"


def test_smallcode_state_is_kept_out_of_git(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    with ScriptedServer(["Sure."]) as srv:
        run_cli(repo, "--json", "--base-url", srv.base_url, "thanks!")
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=repo,
                            capture_output=True, text=True, check=True).stdout
    assert ".smallcode" not in status and "calc.py" in status


def test_a_repeated_read_is_not_run_again_and_the_grammar_leaves_it_out(tmp_path: Path) -> None:
    make_repo(tmp_path)
    read = fenced("read_file", {"path": "calc.py"})
    replies = [read, read,
               fenced("patch", {"path": "calc.py", "old_str": "a - b", "new_str": "a + b"}),
               fenced("finish", {"summary": "fixed"})]
    with ScriptedServer(replies) as srv:
        proc = run_cli(tmp_path, "--yes", "--json", "--base-url", srv.base_url,
                       "test_add fails, fix it", env={"SMALLCODE_MODEL__TOOL_MODE": "constrained"})
        reqs = srv.requests
    assert proc.returncode == 0, proc.stderr
    evs = events(proc.stdout)
    assert [e["name"] for e in evs if e["type"] == "tool_call"] == ["read_file", "patch", "finish"]
    assert any(e["type"] == "notice" and e["message"] == "repeated read_file call not run"
               for e in evs)
    assert "You already made exactly this call" in reqs[2]["messages"][-1]["content"]

    def offered(req: dict) -> set[str]:
        schema = req["response_format"]["json_schema"]["schema"]
        if "oneOf" in schema:
            return {o["properties"]["tool"]["const"] for o in schema["oneOf"]}
        return set(schema["properties"]["tool"]["enum"])

    assert "read_file" in offered(reqs[1]) and "read_file" not in offered(reqs[2])
    assert "read_file" in offered(reqs[3])  # only the one turn after the repeat


def test_finish_is_sent_back_while_the_file_the_task_asks_for_is_missing(tmp_path: Path) -> None:
    (tmp_path / "server.py").write_text("PORT = 7431\n")
    replies = [fenced("finish", {"summary": "The port is 7431."}),
               fenced("write_file", {"path": "answer.txt", "content": "7431\n"}),
               fenced("finish", {"summary": "written"})]
    with ScriptedServer(replies) as srv:
        proc = run_cli(tmp_path, "--yes", "--json", "--base-url", srv.base_url,
                       "What port does server.py use? Write just the number into answer.txt.")
        reqs = srv.requests
    assert proc.returncode == 4, proc.stderr  # finished; nothing could verify it
    assert "the task asks you to write `answer.txt`" in reqs[1]["messages"][-1]["content"]
    assert (tmp_path / "answer.txt").read_text() == "7431\n"


def test_an_edit_that_breaks_a_passing_test_is_undone(tmp_path: Path) -> None:
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a - b\n\n\n"
                                      "def mul(a, b):\n    return a * b\n")
    (tmp_path / "test_calc.py").write_text(
        "from calc import add, mul\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\n"
        "def test_mul():\n    assert mul(2, 3) == 6\n")
    replies = [
        fenced("edit_and_verify", {"path": "calc.py", "old_str": "return a * b",
                                   "new_str": "return a + b"}),  # breaks test_mul
        fenced("patch", {"path": "calc.py", "old_str": "return a - b", "new_str": "return a + b"}),
        fenced("finish", {"summary": "fixed"}),
    ]
    with ScriptedServer(replies) as srv:
        proc = run_cli(tmp_path, "--yes", "--json", "--base-url", srv.base_url,
                       "test_add fails, fix it")
        reqs = srv.requests
    assert proc.returncode == 0, proc.stderr
    undone = reqs[1]["messages"][-1]["content"]
    assert "EDIT UNDONE: it broke tests that passed before (test_calc.py::test_mul)" in undone
    assert (tmp_path / "calc.py").read_text() == ("def add(a, b):\n    return a + b\n\n\n"
                                                  "def mul(a, b):\n    return a * b\n")


def test_after_an_edit_that_changes_nothing_the_next_call_samples_hotter(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    replies = [fenced("patch", {"path": "calc.py", "old_str": "a - b", "new_str": "a - b"}),
               fenced("patch", {"path": "calc.py", "old_str": "a - b", "new_str": "a + b"}),
               fenced("finish", {"summary": "fixed"})]
    with ScriptedServer(replies) as srv:
        proc = run_cli(repo, "--yes", "--json", "--base-url", srv.base_url, "test_add fails")
        reqs = srv.requests
    assert proc.returncode == 0, proc.stderr
    assert reqs[1]["temperature"] == 0.8 and reqs[2]["temperature"] != 0.8


def test_sigterm_mid_task_saves_the_session_and_closes_memory_cleanly(tmp_path: Path) -> None:
    import signal
    import time

    from smallcode.core.memory.store import MEMORY_DB

    from tests.support.scripted_server import Reply, ScriptedServer

    repo = make_repo(tmp_path)
    env = {**os.environ, "SMALLCODE_MODEL__DETECT_LOCAL": "false",
           "SMALLCODE_SOLVE__ENABLED": "false", "XDG_CONFIG_HOME": str(repo / ".cfg")}
    with ScriptedServer(default=Reply(content="thinking", delay=30)) as srv:
        proc = subprocess.Popen([sys.executable, "-m", "smallcode.cli.main", "-C", str(repo),
                                 "run", "--yes", "--base-url", srv.base_url, "fix test_add"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        deadline = time.monotonic() + 60
        while not srv.requests and time.monotonic() < deadline:  # the task is under way
            time.sleep(0.1)
        assert srv.requests, "the run never called the model"
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        stopped = time.monotonic() - started
    assert proc.returncode == 143, err
    assert stopped < 10
    assert "the session was saved" in err
    saved = list((repo / ".smallcode" / "sessions").glob("*.json"))
    assert len(saved) == 1
    task = json.loads(saved[0].read_text())["tasks"][0]
    assert task["task"] == "fix test_add" and task["success"] is False
    assert "cancel" in task["reason"] or task["reason"].startswith("interrupted")
    db = repo / MEMORY_DB
    assert db.exists() and not db.with_name(db.name + ".wal").exists()


@pytest.mark.parametrize("task", [
    "Complete the stub in calc.py so that it follows the notes in the docstring.",
    "calc.py: add must also accept strings of digits",
    "Implementing subtraction in calc.py is what is left to do.",
])
def test_a_request_that_ends_without_any_change_never_exits_0(tmp_path: Path, task: str) -> None:
    repo = make_repo(tmp_path)
    finish = fenced("finish", {"summary": "done, it is implemented"})
    with ScriptedServer(default=finish) as srv:
        proc = run_cli(repo, "--yes", "--json", "--base-url", srv.base_url, task)
    done = next(e for e in events(proc.stdout) if e["type"] == "done")
    assert proc.returncode != 0 and done["verified"] != "answer", (proc.returncode, done)


def test_a_question_answered_without_a_change_exits_0(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    with ScriptedServer(["add is defined in calc.py."]) as srv:
        proc = run_cli(repo, "--json", "--base-url", srv.base_url, "where is add defined?")
    done = next(e for e in events(proc.stdout) if e["type"] == "done")
    assert proc.returncode == 0 and done["verified"] == "answer", proc.stderr
