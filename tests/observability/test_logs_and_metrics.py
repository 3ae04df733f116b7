"""The log writer (rotation, bad ids), tee, plan/undo metrics, and merging metrics across actors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from smallcode.core.events import DoneEvent, NoticeEvent, PlanUpdate, ToolCallEvent, ToolResultEvent
from smallcode.core.observability import (
    AgentMetrics,
    JsonLogWriter,
    MetricsHub,
    attach_hub,
    log_path,
    tee,
)
from smallcode.core.observability.prometheus import MetricsRegistry


def test_writer_rotates_by_size_and_keeps_the_configured_backups(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "s.jsonl"
    writer = JsonLogWriter(path, max_bytes=1024, backups=2)
    for i in range(40):  # ~60 bytes each: about 2.4 KB in all
        writer.write({"i": i, "pad": "x" * 40})
    writer.close()
    files = sorted(p.name for p in path.parent.iterdir())
    assert files == ["s.jsonl", "s.jsonl.1", "s.jsonl.2"]
    assert all(p.stat().st_size <= 1024 for p in path.parent.iterdir())
    newest = [json.loads(x)["i"] for x in path.read_text().splitlines()]
    older = [json.loads(x)["i"] for x in (path.parent / "s.jsonl.1").read_text().splitlines()]
    assert newest[-1] == 39 and older[-1] == newest[0] - 1  # nothing lost between files
    assert writer.rotations >= 2


def test_log_path_refuses_ids_that_are_not_file_names(tmp_path: Path) -> None:
    assert log_path(tmp_path, "20261123-ab12") == tmp_path / ".smallcode/logs/20261123-ab12.jsonl"
    for bad in ("../x", "a/b", "", ".hidden"):
        with pytest.raises(ValueError, match="session id"):
            log_path(tmp_path, bad)


async def test_tee_awaits_async_sinks_and_a_failing_sink_does_not_starve_the_others() -> None:
    got: list[str] = []

    async def slow(ev):  # an async printer
        got.append("async:" + ev.type)

    def broken(ev):
        raise RuntimeError("sink down")

    emit = tee(lambda ev: got.append("first:" + ev.type), broken, slow)
    result = emit(NoticeEvent(message="hi"))
    assert result is not None
    with pytest.raises(RuntimeError, match="sink down"):
        await result
    assert got == ["first:notice", "async:notice"]
    assert tee(lambda ev: None)(NoticeEvent(message="x")) is None


def test_plan_steps_undo_and_repairs_are_counted_from_events() -> None:
    m = AgentMetrics()
    m(PlanUpdate(anchor="", steps=[{"n": 1, "status": "active"}, {"n": 2, "status": "pending"}]))
    m(PlanUpdate(anchor="", steps=[{"n": 1, "status": "done"}, {"n": 2, "status": "active"}]))
    m(ToolCallEvent(call_id="a", name="patch", arguments={}, repaired="fence"))
    m(ToolResultEvent(call_id="a", name="patch", ok=False, output="no match"))
    m(NoticeEvent(message="rolled back this task's changes: 1 file"))
    m(DoneEvent(success=False, reason="gave up"))
    m.record_undo("undo")
    assert m.plan_updates.value() == 2
    assert m.plan_steps.value(status="done") == 1 and m.plan_steps.value(status="pending") == 0
    assert m.plan_transitions.value(status="active") == 2
    assert m.repairs.value(format="fence") == 1
    assert m.tool_calls.value(tool="patch", outcome="failed") == 1
    assert m.undo.value(kind="rollback") == 1 and m.undo.value(kind="undo") == 1
    assert m.tasks.value(outcome="failure") == 1

    class Client:
        retries = 3
    client = Client()
    m.observe_client(client)
    m.observe_client(client)  # no double counting
    client.retries = 5
    m.observe_client(client)
    assert m.retries.value() == 5


def test_hub_merges_pushed_metrics_under_an_actor_label_into_the_gateway_registry() -> None:
    gateway = MetricsRegistry()
    gateway.counter("smallcode_gateway_requests_total", "requests").inc(4)
    hub = MetricsHub()
    attach_hub(gateway, hub)
    w1, w2 = AgentMetrics(), AgentMetrics()
    w1(ToolResultEvent(call_id="a", name="read_file", ok=True, output=""))
    w2(ToolResultEvent(call_id="b", name="read_file", ok=True, output=""))
    w2(ToolResultEvent(call_id="c", name="shell", ok=False, output=""))
    hub.push("worker-1", w1.render())
    hub.push("worker-2", w2.render())
    text = gateway.render()
    lines = text.splitlines()
    assert "smallcode_gateway_requests_total 4" in lines
    assert 'smallcode_tool_calls_total{actor="worker-1",tool="read_file",outcome="ok"} 1' in lines
    assert 'smallcode_tool_calls_total{actor="worker-2",tool="shell",outcome="failed"} 1' in lines
    assert lines.count("# TYPE smallcode_tool_calls_total counter") == 1  # one family header
    hist = [ln for ln in lines if ln.startswith("smallcode_tool_call_seconds_count")]
    assert hist == []  # no durations without a matching tool_call event
    hub.push("worker-1", w2.render())  # a newer push replaces the older one
    assert 'smallcode_tool_calls_total{actor="worker-1",tool="shell",outcome="failed"} 1' \
        in gateway.render()
    assert hub.sources(now=10**12) == []  # silent sources expire
    with pytest.raises(ValueError, match="not a Prometheus sample"):
        hub.push("bad", "this is not metrics")
