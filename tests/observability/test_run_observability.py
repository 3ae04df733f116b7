"""Logs, metrics and token accounting of a real agent run against the scripted loopback server."""

from __future__ import annotations

import io
import json
from pathlib import Path

from smallcode.core.agent import Agent
from smallcode.core.config import Settings
from smallcode.core.events import DoneEvent, Event
from smallcode.core.model.client import OpenAIChatClient
from smallcode.core.observability import RunObservability, UsageSummary, format_usage
from smallcode.core.tools import build_registry
from smallcode.core.tools.workspace import Workspace

from tests.support.scripted_server import Reply, ScriptedServer, tool_call

SECRET = "sk-abcdefghijklmnopqrstuvwxyz123456"


def make_agent(root: Path, srv: ScriptedServer) -> tuple[Agent, OpenAIChatClient]:
    s = Settings()
    s.agent.permission_mode = "yolo"  # type: ignore[assignment]
    s.agent.max_turns = 6
    s.agent.prefetch_context = False
    s.agent.two_stage_routing = "off"
    s.solve.enabled = False  # this scripts the tool loop's calls
    s.model.detect_local = False
    client = OpenAIChatClient(srv.base_url, max_retries=0)
    return Agent(client, build_registry(s), Workspace(root), s, session_id="sess-1"), client


def usage(prompt: int, completion: int, cached: int) -> dict:
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion, "prompt_tokens_details": {"cached_tokens": cached}}


def replies() -> list[Reply]:
    return [
        Reply(tool_calls=[tool_call("read_file", {"path": "app.py"}, "c1")],
              usage=usage(1000, 20, 0)),
        Reply(tool_calls=[tool_call("read_file", {"path": "missing.py"}, "c2")],
              usage=usage(1300, 15, 900)),
        Reply(tool_calls=[tool_call("finish", {"summary": f"done, key was {SECRET}"}, "c3")],
              usage=usage(1500, 12, 1200)),
    ]


async def test_a_run_is_logged_counted_and_accounted(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(f"API_KEY = '{SECRET}'\nprint('hi')\n")
    mirror = io.StringIO()
    obs = RunObservability.open(tmp_path, "sess-1", verbose=True, mirror=mirror, model="m")
    seen: list[Event] = []
    with ScriptedServer(replies()) as srv:
        agent, client = make_agent(tmp_path, srv)
        try:
            obs.task_started("read app.py and finish")
            done = await agent.run("read app.py and finish", obs.wrap(seen.append))
            summary = obs.finish(client)
        finally:
            await client.aclose()
            obs.close()
    assert done.success, done.reason
    assert seen and seen[-1].type == "done"  # the printer still sees every event

    # token accounting: exact per task and per session
    assert isinstance(summary, UsageSummary)
    assert summary.task == {"calls": 3, "prompt_tokens": 3800, "completion_tokens": 47,
                            "cached_tokens": 2100, "total_tokens": 3847}
    assert summary.session == summary.task
    assert format_usage(obs.ledger) == \
        "tokens: task 3,800 prompt (2,100 cached) + 47 completion in 3 calls"

    # structured log
    log = tmp_path / ".smallcode" / "logs" / "sess-1.jsonl"
    records = [json.loads(line) for line in log.read_text().splitlines()]
    kinds = [r["event"] for r in records]
    assert kinds[0] == "task" and kinds[-1] == "usage_summary" and "done" in kinds
    assert all(r["session"] == "sess-1" and r["task"] == 1 for r in records)
    assert records[0]["text"] == "read app.py and finish" and records[0]["turn"] == 0
    calls = [r for r in records if r["event"] == "model_call"]
    assert [(r["turn"], r["prompt_tokens"], r["cached_tokens"]) for r in calls] == \
        [(1, 1000, 0), (2, 1300, 900), (3, 1500, 1200)]
    assert all(r["duration_ms"] >= 0 for r in calls)
    results = [r for r in records if r["event"] == "tool_result"]
    assert [(r["tool"], r["ok"], r["turn"]) for r in results][:2] == \
        [("read_file", True, 1), ("read_file", False, 2)]
    assert all(isinstance(r["duration_ms"], float) for r in results)
    text = log.read_text()
    assert SECRET not in text and "[REDACTED]" in text
    # the --verbose mirror: one readable line per record
    lines = mirror.getvalue().splitlines()
    assert len(lines) == len(records)
    assert any(" model_call 1300+15 tok (900 cached)" in ln for ln in lines)
    assert any("tool_result read_file FAILED" in ln for ln in lines)
    assert lines[-1].endswith("usage_summary task 3800+47 tok (2100 cached) in 3 calls")

    # metrics, derived from the events alone
    m = obs.metrics
    assert m.model_calls.value() == 3
    assert m.prompt_tokens.value() == 3800 and m.cached_tokens.value() == 2100
    assert m.tool_calls.value(tool="read_file", outcome="ok") == 1
    assert m.tool_calls.value(tool="read_file", outcome="failed") == 1
    assert m.tasks.value(outcome="success") == 1
    assert m.tool_seconds.count(tool="read_file") == 2
    prom = m.render()
    assert "smallcode_model_calls_total 3" in prom
    assert 'smallcode_tool_calls_total{tool="read_file",outcome="failed"} 1' in prom


async def test_session_totals_span_tasks_and_a_resumed_prior(tmp_path: Path) -> None:
    obs = RunObservability.open(tmp_path, "sess-2", prior_tasks=3,
                                prior_usage={"calls": 2, "prompt_tokens": 500,
                                             "completion_tokens": 50, "cached_tokens": 0})
    script = replies()
    with ScriptedServer(script + replies()) as srv:
        agent, client = make_agent(tmp_path, srv)
        (tmp_path / "app.py").write_text("x = 1\n")
        try:
            await agent.run("first", obs.wrap())
            first = obs.finish(client)
            await agent.run("second", obs.wrap())
            second = obs.finish(client)
        finally:
            await client.aclose()
    assert first.task_index == 1 and second.task_index == 2
    assert second.task["prompt_tokens"] == 3800
    assert second.session == {"calls": 8, "prompt_tokens": 500 + 7600, "completion_tokens": 144,
                              "cached_tokens": 4200, "total_tokens": 8244}
    assert format_usage(obs.ledger).endswith(
        "· session 8,100 prompt (4,200 cached) + 144 completion in 8 calls")
    obs.close()
    records = [json.loads(x) for x in
               (tmp_path / ".smallcode/logs/sess-2.jsonl").read_text().splitlines()]
    assert [r["task"] for r in records if r["event"] == "done"] == [4, 5]  # numbered on


def test_without_logging_nothing_is_written(tmp_path: Path) -> None:
    obs = RunObservability.open(tmp_path, "sess-3", log=False)
    obs.wrap()(DoneEvent(success=True, reason="finished"))
    obs.close()
    assert obs.ledger.tasks and not (tmp_path / ".smallcode").exists()
