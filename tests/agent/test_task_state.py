"""The tools' view of the session and of the task: ``ctx.services`` is the session's, shared by
every task; ``ctx.task_state`` is replaced at the start of each task."""

from __future__ import annotations

from pathlib import Path

from smallcode.core.tools import Services

from tests.plan.test_integration import make_agent
from tests.support.scripted_server import ScriptedServer


async def test_services_are_the_sessions_and_each_task_gets_a_fresh_task_state(
        tmp_path: Path) -> None:
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    services = Services(instructions="Answer in one sentence.")
    with ScriptedServer(default="add returns the sum of its two arguments.") as srv:
        agent, client = make_agent(tmp_path, srv, services=services)
        try:
            assert agent.ctx.services is services  # used as is; the agent adds its model
            assert services.model is client and services.validate_edits is True
            await agent.run("What does add in calc.py return?", lambda e: None)
            first = agent.ctx.task_state
            assert first.task == "What does add in calc.py return?"
            assert first.protect_tests is True and first.improvement_loop is agent.improve
            first.start_failures = ["test_calc.py::test_add"]
            await agent.run("Why do you think the tests are wrong?", lambda e: None)
        finally:
            await client.aclose()
        system = srv.requests[0]["messages"][0]["content"]
    assert "Answer in one sentence." in system  # instructions reach the system prompt
    second = agent.ctx.task_state
    assert second is not first and second.task == "Why do you think the tests are wrong?"
    assert second.start_failures is None  # not carried over from the first task
    assert second.protect_tests is False  # this task says the tests are wrong
    assert second.improvement_loop is agent.improve
    assert agent.ctx.services is services
