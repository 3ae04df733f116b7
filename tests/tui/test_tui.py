"""The TUI driven by Textual's Pilot against the scripted model server (real loopback HTTP),
through the real `open_session`: streaming, tool cards, diffs, confirmations, cancel, commands."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from smallcode.cli.tui import commands
from smallcode.cli.tui.app import SmallcodeApp
from smallcode.cli.tui.widgets import (
    AssistantMessage,
    CommandOutput,
    ConfirmScreen,
    DiffBlock,
    NoteLine,
    PlanStep,
    ToolCard,
    UserMessage,
)
from smallcode.core.config import Settings
from smallcode.core.events import PlanUpdate, TextDelta
from textual.pilot import Pilot

from tests.support.scripted_server import Reply, ScriptedServer
from tests.tui.screen_text import svg_text

pytestmark = pytest.mark.timeout(60)

SIZE = (110, 36)
BUGGY = "def add(a, b):\n    return a - b\n"


def fenced(name: str, arguments: dict) -> str:
    return "```json\n" + json.dumps({"name": name, "arguments": arguments}) + "\n```"


PATCH = fenced("patch", {"path": "calc.py", "old_str": "return a - b", "new_str": "return a + b"})
FINISH = fenced("finish", {"summary": "add now adds"})


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "calc.py").write_text(BUGGY)
    (root / ".gitignore").write_text("build/\n.smallcode/\n")
    (root / "build").mkdir()
    (root / "build" / "calc_generated.py").write_text("x = 1\n")
    (root / "docs").mkdir()
    (root / "docs" / "calculator.md").write_text("# calc\n")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "."], cwd=root, check=True)
    subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "init"],
                   cwd=root, check=True)
    return root


def settings_for(srv: ScriptedServer, mode: str = "yolo") -> Settings:
    return Settings.model_validate({
        "model": {"base_url": srv.base_url, "detect_local": False, "max_retries": 0},
        "agent": {"permission_mode": mode, "validate_edits": False, "prefetch_context": False},
        "solve": {"enabled": False},  # these script the tool loop's calls
    })


async def wait_for(pilot: Pilot, cond, timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


async def ready(pilot: Pilot) -> SmallcodeApp:
    app = pilot.app
    assert isinstance(app, SmallcodeApp)
    await wait_for(pilot, lambda: app.session is not None or app.session_error, what="session")
    assert app.session is not None, app.session_error
    return app


async def type_and_send(pilot: Pilot, text: str) -> None:
    app = pilot.app
    assert isinstance(app, SmallcodeApp)
    app.prompt.focus()
    app.prompt.value = text
    app.prompt.cursor_position = len(text)
    await pilot.pause()
    app.close_completions()
    await pilot.press("enter")


def screen(app: SmallcodeApp) -> str:
    return svg_text(app.export_screenshot())


async def test_typed_task_streams_the_answer_as_markdown(repo: Path) -> None:
    answer = "The function **add** returns `a - b`; it should return the sum."
    with ScriptedServer([Reply(content=answer, chunks=[answer[i:i + 6]
                                                       for i in range(0, len(answer), 6)])]) as srv:
        app = SmallcodeApp(repo, settings_for(srv))
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            await pilot.click("#prompt")
            await pilot.press(*"what does add return?")
            await pilot.press("enter")
            await wait_for(pilot, lambda: app.last_done is not None, what="done")
            await pilot.pause()
            deltas = [e for e in app.events_seen if isinstance(e, TextDelta)]
            assert len(deltas) == len(range(0, len(answer), 6))
            assert "".join(d.text for d in deltas) == answer
            users = list(app.chat.query(UserMessage))
            assert [u.text for u in users] == ["what does add return?"]
            answers = list(app.chat.query(AssistantMessage))
            assert len(answers) == 1 and answers[0].text == answer
            assert app.last_done.success and app.last_done.reason == "answered"
            text = screen(app)
            # markdown rendered: the ** and ` markers are gone
            assert "The function add returns a - b; it should return the sum." in text
            assert "✓ answered" in text
            assert "scripted-model" in text and "route " in text and "/16.4k" in text
            assert srv.requests[0]["messages"][-1]["content"].startswith("what does add return?")


async def test_streaming_shows_each_delta_before_the_turn_ends(repo: Path) -> None:
    with ScriptedServer([]) as srv:
        app = SmallcodeApp(repo, settings_for(srv))
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            await app.handle_event(TextDelta(text="Reading the fi"))
            await pilot.pause()
            assert "Reading the fi" in screen(app)
            await app.handle_event(TextDelta(text="le now, then `patching`"))
            await pilot.pause()
            msgs = list(app.chat.query(AssistantMessage))
            assert len(msgs) == 1 and msgs[0].text == "Reading the file now, then `patching`"
            assert "Reading the file now, then patching" in screen(app)


async def test_edit_shows_a_tool_card_with_a_coloured_diff(repo: Path) -> None:
    with ScriptedServer([Reply(content="The bug is the minus sign.\n" + PATCH), FINISH]) as srv:
        app = SmallcodeApp(repo, settings_for(srv, "yolo"))
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            await type_and_send(pilot, "fix add in calc.py")
            await wait_for(pilot, lambda: app.last_done is not None, what="done")
            await pilot.pause()
            assert (repo / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
            cards = list(app.chat.query(ToolCard))
            assert [c.tool_name for c in cards] == ["patch"]  # finish folds into the answer
            card = cards[0]
            assert card.ok is True and card.details.collapsed
            assert card.details.title == "✓ patch  path=calc.py  — +1 −1"
            assert "+    return a + b" in card.diff
            text = screen(app)
            assert "✓ patch  path=calc.py  — +1 −1" in text
            assert "-    return a - b" in text and "+    return a + b" in text
            # the prose before the call stays; the JSON of the call does not
            assert "The bug is the minus sign." in text and '"old_str"' not in text
            assert "add now adds" in text and "✓ finished" in text
            # a card expands to its arguments and output
            card.details.collapsed = False
            await pilot.pause()
            assert "\"old_str\": \"return a - b\"" in screen(app)
            # the diff is coloured: additions green, removals red
            plain = card.query_one(".tool-diff").render()
            styles = {str(plain)[sp.start:sp.end].strip(): str(sp.style) for sp in plain.spans}
            assert styles["+    return a + b"].endswith("green")
            assert styles["-    return a - b"].endswith("red")


async def test_ask_mode_confirms_a_write_showing_its_diff(repo: Path) -> None:
    with ScriptedServer([PATCH, FINISH]) as srv:
        app = SmallcodeApp(repo, settings_for(srv, "ask"))
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            await type_and_send(pilot, "fix add in calc.py")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="modal")
            await pilot.pause()
            modal = app.screen
            assert isinstance(modal, ConfirmScreen)
            assert modal.kind == "edit" and modal.detail == "calc.py"
            assert "-    return a - b\n+    return a + b" in modal.preview
            text = screen(app)
            assert "Allow the agent to change this file?" in text and "+    return a + b" in text
            assert (repo / "calc.py").read_text() == BUGGY  # nothing written before the answer
            await pilot.press("y")
            await wait_for(pilot, lambda: app.last_done is not None, what="done")
            assert (repo / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
            assert app.last_done.success


async def test_ask_mode_refusal_leaves_the_file_alone(repo: Path) -> None:
    with ScriptedServer([PATCH, "I will leave calc.py as it is."]) as srv:
        app = SmallcodeApp(repo, settings_for(srv, "ask"))
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            await type_and_send(pilot, "fix add in calc.py")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="modal")
            await pilot.click("#refuse")
            await wait_for(pilot, lambda: app.last_done is not None, what="done")
            await pilot.pause()
            assert (repo / "calc.py").read_text() == BUGGY
            card = app.chat.query_one(ToolCard)
            assert card.ok is False and "did not allow" in card.output
            assert "✗ patch  path=calc.py  — the user did not allow this edit" in screen(app)
            # the refusal went back to the model
            assert "the user did not allow this edit" in json.dumps(srv.requests[1]["messages"])


async def test_auto_edit_mode_writes_without_asking(repo: Path) -> None:
    with ScriptedServer([PATCH, FINISH]) as srv:
        app = SmallcodeApp(repo, settings_for(srv, "ask"))
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            await pilot.press("shift+tab")  # ask → auto-edit
            assert app.settings.agent.permission_mode == "auto-edit"
            assert app.session.agent.settings.agent.permission_mode == "auto-edit"
            assert "○ auto-edit  scripted-model" in screen(app)
            await type_and_send(pilot, "fix add in calc.py")
            await wait_for(pilot, lambda: app.last_done is not None, what="done")
            assert not any(isinstance(s, ConfirmScreen) for s in app.screen_stack)
            assert (repo / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"


async def test_ctrl_c_cancels_the_turn_and_keeps_the_session(repo: Path) -> None:
    with ScriptedServer([Reply(content="too late", delay=4.0), "Second answer."]) as srv:
        app = SmallcodeApp(repo, settings_for(srv))
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            await type_and_send(pilot, "what does add return?")
            await wait_for(pilot, lambda: len(srv.requests) == 1, what="first request")
            assert app.turn_running
            started = time.monotonic()
            await pilot.press("ctrl+c")
            await wait_for(pilot, lambda: app.last_done is not None, timeout=3, what="cancel")
            assert time.monotonic() - started < 3
            assert app.last_done.reason == "cancelled" and not app.last_done.success
            await wait_for(pilot, lambda: not app.turn_running, what="turn end")
            assert app.is_running  # the app and the session are still there
            await type_and_send(pilot, "and what should it return?")
            await wait_for(pilot, lambda: app.last_done.reason == "answered", what="second turn")
            assert [m.text for m in app.chat.query(AssistantMessage)] == ["Second answer."]
            contents = [m.get("content", "") for m in app.session.agent.history]
            assert any("what does add return?" in c for c in contents)
            assert any("and what should it return?" in c for c in contents)
            assert "✗ cancelled" in screen(app)


async def test_ctrl_c_twice_when_idle_exits(repo: Path) -> None:
    with ScriptedServer([]) as srv:
        app = SmallcodeApp(repo, settings_for(srv))
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            app.prompt.value = "draft"
            await pilot.press("ctrl+c")
            assert app.prompt.value == "" and app.is_running  # first: clears the prompt
            await pilot.press("ctrl+c")
            assert app.is_running  # second: asks to press again
            await pilot.press("ctrl+c")
            await pilot.pause()
        assert app.return_code == 0


async def test_plan_panel_shows_steps_and_batches_side_by_side(repo: Path) -> None:
    with ScriptedServer([]) as srv:
        app = SmallcodeApp(repo, settings_for(srv))
        async with app.run_test(size=(130, 36)) as pilot:
            await ready(pilot)
            assert not app.plan_panel.display
            steps = [{"n": 1, "text": "read calc.py", "status": "done"},
                     {"n": 2, "text": "fix add", "status": "active", "batch": 2},
                     {"n": 3, "text": "fix sub", "status": "active", "batch": 2},
                     {"n": 4, "text": "run the tests", "status": "pending"}]
            await app.handle_event(PlanUpdate(anchor="Goal: fix the calculator", steps=steps))
            await pilot.pause()
            panel = app.plan_panel
            assert panel.display and panel.border_subtitle == "1/4 done"
            shown = list(panel.query(PlanStep))
            assert [s.step["n"] for s in shown] == [1, 2, 3, 4]
            by_n = {s.step["n"]: s for s in shown}
            assert by_n[2].region.y == by_n[3].region.y and by_n[2].region.x < by_n[3].region.x
            assert by_n[1].region.y < by_n[2].region.y < by_n[4].region.y
            text = screen(app)
            assert "Goal: fix the calculator" in text and "✓ 1. read calc.py" in text
            row = next(r for r in text.splitlines() if "→ 2. fix add" in r)
            assert "→ 3. fix sub" in row
            # live update: the same panel, new statuses
            steps[1]["status"] = "done"
            steps[2]["status"] = "failed"
            await app.handle_event(PlanUpdate(anchor="Goal: fix the calculator", steps=steps))
            await pilot.pause()
            text = screen(app)
            assert "✓ 2. fix add" in text and "✗ 3. fix sub" in text
            assert app.plan_panel.border_subtitle == "2/4 done"
            await type_and_send(pilot, "/plan")  # hides it, says so
            await pilot.pause()
            assert not app.plan_panel.display


async def test_slash_commands_help_model_mode_diff_and_unknown(repo: Path) -> None:
    with ScriptedServer([]) as srv:
        app = SmallcodeApp(repo, settings_for(srv, "ask"))
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            app.prompt.focus()
            await pilot.press(*"/mo")
            await pilot.pause()
            assert [c.label for c in app._completions] == ["/mode", "/model"]
            await pilot.press("down", "enter")  # runs /model
            await pilot.pause()
            out = list(app.chat.query(CommandOutput))[-1]
            assert out.title == "/model" and "model     scripted-model" in out.body_text
            assert "window    16384" in out.body_text
            await type_and_send(pilot, "/mode yolo")
            await pilot.pause()
            assert app.settings.agent.permission_mode == "yolo" and "○ yolo  scripted-model" in screen(app)
            (repo / "calc.py").write_text("def add(a, b):\n    return a + b\n")
            await type_and_send(pilot, "/diff")
            await wait_for(pilot, lambda: bool(list(app.chat.query(DiffBlock))), what="diff")
            block = app.chat.query_one(DiffBlock)
            assert "-    return a - b\n+    return a + b" in block.diff
            await type_and_send(pilot, "/frobnicate")
            await pilot.pause()
            out = list(app.chat.query(CommandOutput))[-1]
            assert out.body_text == "unknown command /frobnicate — /help lists the commands"
            await type_and_send(pilot, "/help")
            await pilot.pause()
            helptext = list(app.chat.query(CommandOutput))[-1].body_text
            for name in ("help", "undo", "plan", "memory", "sessions", "model", "compact", "diff",
                         "clear", "exit"):
                assert f"/{name} " in helptext
            await type_and_send(pilot, "/clear")
            await pilot.pause()
            assert [type(w) for w in app.chat.children] == [CommandOutput]
            assert [m["role"] for m in app.session.agent.history] in ([], ["system"])
            await type_and_send(pilot, "/exit")
            await pilot.pause()
        assert app.return_code == 0


async def test_undo_command_reverts_the_agents_last_edit(repo: Path) -> None:
    with ScriptedServer([PATCH, FINISH]) as srv:
        app = SmallcodeApp(repo, settings_for(srv, "yolo"))
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            await type_and_send(pilot, "fix add in calc.py")
            await wait_for(pilot, lambda: app.last_done is not None, what="done")
            assert (repo / "calc.py").read_text() != BUGGY
            await type_and_send(pilot, "/undo")
            await wait_for(pilot, lambda: (repo / "calc.py").read_text() == BUGGY, what="undo")
            await pilot.pause()
            out = list(app.chat.query(CommandOutput))[-1]
            assert "restored calc.py" in out.body_text


async def test_plugin_command_registered_at_runtime(repo: Path) -> None:
    seen: list[str] = []

    async def shout(ctx: commands.CommandContext, arg: str) -> str:
        seen.append(arg)
        return f"{arg.upper()} in {ctx.workspace.root.name}"

    commands.register_command("shout", "say it loudly", shout)
    try:
        with pytest.raises(ValueError, match="built-in"):
            commands.register_command("undo", "mine", shout)
        with pytest.raises(ValueError, match="bad command name"):
            commands.register_command("Bad Name", "x", shout)
        with ScriptedServer([]) as srv:
            app = SmallcodeApp(repo, settings_for(srv))
            async with app.run_test(size=SIZE) as pilot:
                await ready(pilot)
                await type_and_send(pilot, "/shout hello there")
                await pilot.pause()
                out = list(app.chat.query(CommandOutput))[-1]
                assert seen == ["hello there"] and out.body_text == "HELLO THERE in proj"
    finally:
        commands.unregister_command("shout")
    assert "shout" not in commands.registered_commands()


async def test_at_completes_workspace_paths_respecting_gitignore(repo: Path) -> None:
    with ScriptedServer([]) as srv:
        app = SmallcodeApp(repo, settings_for(srv))
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            app.prompt.focus()
            await pilot.press(*"look at @calc")
            await pilot.pause()
            labels = [c.label for c in app._completions]
            assert labels == ["@calc.py", "@docs/calculator.md"]  # build/ is gitignored
            assert "@calc.py" in screen(app)
            await pilot.press("down", "tab")
            assert app.prompt.value == "look at @docs/calculator.md "
            assert not app.completions_open()
            await pilot.press(*"and @zzz")
            await pilot.pause()
            assert app._completions == [] and not app.completions_open()


async def test_unreachable_model_is_reported_and_commands_still_work(repo: Path) -> None:
    settings = Settings.model_validate({
        "model": {"base_url": "http://127.0.0.1:9/v1", "detect_local": False, "max_retries": 0,
                  "connect_timeout": 0.5}})
    app = SmallcodeApp(repo, settings)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: bool(app.session_error), what="session error")
        await pilot.pause()
        errors = [n.text for n in app.chat.query(NoteLine) if n.kind == "error"]
        assert errors and errors[0].startswith("cannot start a model session:")
        assert "smallcode doctor" in errors[0]
        await type_and_send(pilot, "fix it")
        await pilot.pause()
        assert [n.text for n in app.chat.query(NoteLine)][-1].startswith("cannot run the task:")
        await type_and_send(pilot, "/help")
        await pilot.pause()
        assert "/undo" in list(app.chat.query(CommandOutput))[-1].body_text


async def test_status_line_shows_the_gateway_queue_when_attached_to_serve(repo: Path) -> None:
    import asyncio

    import httpx
    from smallcode.gateway import BackendConfig, GatewayConfig, GatewayServer, GatewayService

    with ScriptedServer(default=Reply(content="slow", delay=2.0)) as backend:
        config = GatewayConfig(port=0, backends=[BackendConfig(name="b", base_url=backend.base_url,
                                                               slots=1)])
        server = GatewayServer(GatewayService(config), "127.0.0.1", 0)
        server.start()
        await server.wait_started()
        try:
            settings = Settings.model_validate({
                "model": {"detect_local": False, "max_retries": 0},
                "serve": {"server_url": server.url}})
            app = SmallcodeApp(repo, settings)
            async with app.run_test(size=SIZE) as pilot:
                await ready(pilot)
                assert app.session.endpoint.source == "serve"
                await wait_for(pilot, lambda: app.status.info.queue == "0 waiting", what="poll")
                body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
                async with httpx.AsyncClient(timeout=20) as http:
                    busy = [asyncio.create_task(http.post(server.url + "/chat/completions",
                                                          json=body)) for _ in range(2)]
                    await wait_for(pilot, lambda: app.status.info.queue == "1 waiting",
                                   timeout=8, what="queued request")
                    assert "queue 1 waiting" in screen(app)
                    assert [r.status_code for r in await asyncio.gather(*busy)] == [200, 200]
        finally:
            await server.stop()


async def test_status_line_has_no_queue_field_without_serve(repo: Path) -> None:
    with ScriptedServer([]) as srv:
        app = SmallcodeApp(repo, settings_for(srv))
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            assert app.status.info.queue is None and "queue" not in screen(app).splitlines()[-1]


async def test_screenshots_of_the_main_screens(repo: Path, tmp_path: Path) -> None:
    """Chat after an edit with the plan beside it, the confirmation modal, the help output: each
    saved as SVG and text, each checked for what a user must see on it."""
    shots = tmp_path / "shots"
    shots.mkdir()

    def save(app: SmallcodeApp, name: str) -> str:
        path = app.save_screenshot(f"{name}.svg", str(shots))
        text = svg_text(Path(path).read_text())
        (shots / f"{name}.txt").write_text(text)
        return text

    with ScriptedServer([PATCH, FINISH]) as srv:
        app = SmallcodeApp(repo, settings_for(srv, "ask"))
        async with app.run_test(size=(120, 40)) as pilot:
            await ready(pilot)
            await app.handle_event(PlanUpdate(anchor="Goal: make add correct", steps=[
                {"n": 1, "text": "fix add", "status": "active"},
                {"n": 2, "text": "run tests", "status": "pending"}]))
            await type_and_send(pilot, "fix add in calc.py")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="modal")
            await pilot.pause()
            modal = save(app, "confirm")
            await pilot.press("y")
            await wait_for(pilot, lambda: app.last_done is not None, what="done")
            await pilot.pause()
            chat = save(app, "chat")
            await type_and_send(pilot, "/help")
            await pilot.pause()
            helpscreen = save(app, "help")
    assert sorted(p.name for p in shots.iterdir()) == [
        "chat.svg", "chat.txt", "confirm.svg", "confirm.txt", "help.svg", "help.txt"]
    for needle in ("Allow the agent to change this file?", "calc.py", "-    return a - b",
                   "+    return a + b", "Allow (y)", "Refuse (n)"):
        assert needle in modal
    rows = chat.splitlines()
    assert rows[-1].strip().startswith("○ ask  scripted-model (llamacpp, configured)  route write"
                                       "  ctx ")
    for needle in ("› fix add in calc.py", "✓ patch  path=calc.py  — +1 −1",
                   "+    return a + b", "✓ finished — 2 turns, 2 tool calls", "plan",
                   "Goal: make add correct", "→ 1. fix add", "· 2. run tests",
                   "Ask, or / for commands, @ for files"):
        assert needle in chat, needle
    plan_row = next(r for r in rows if "→ 1. fix add" in r)
    assert plan_row.index("→ 1. fix add") > 60  # the plan panel is on the right
    assert "/undo       revert the last turn's file changes" in helpscreen


async def test_compact_command_folds_older_turns_into_a_summary(repo: Path) -> None:
    summary = "- the user asked what add returns; it returns a - b (a bug)"
    replies = ["add returns a - b, which is wrong. " * 60, "It should return a + b. " * 60,
               summary]
    with ScriptedServer(replies) as srv:
        app = SmallcodeApp(repo, settings_for(srv))
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            for question in ("what does add return?", "what should add return?"):
                app.last_done = None
                await type_and_send(pilot, question)
                await wait_for(pilot, lambda: app.last_done is not None, what="answer")
            before = list(app.session.agent.history)
            await type_and_send(pilot, "/compact")
            await wait_for(pilot, lambda: bool(list(app.chat.query(CommandOutput))),
                           what="compact output")
            out = app.chat.query_one(CommandOutput).body_text
            assert out.startswith("history compacted: ") and "2 messages summarized" in out
            after = app.session.agent.history
            assert len(after) == len(before) - 1  # two messages became one summary
            assert any(summary in str(m.get("content")) for m in after)
            assert not any("what does add return?" in str(m.get("content")) for m in after)
            assert any("what should add return?" in str(m.get("content")) for m in after)
            # the summary request went to the model
            assert "what does add return?" in json.dumps(srv.requests[-1]["messages"])


async def test_turns_are_saved_and_a_session_resumes_from_the_palette(repo: Path) -> None:
    with ScriptedServer(["add subtracts; that is the bug.", "Yes: return a + b."]) as srv:
        first = SmallcodeApp(repo, settings_for(srv))
        async with first.run_test(size=SIZE) as pilot:
            await ready(pilot)
            saved_id = first.session.session_id
            await type_and_send(pilot, "what does add do?")
            await wait_for(pilot, lambda: first.last_done is not None, what="answer")
            await wait_for(pilot, lambda: not first.turn_running, what="save")
            await type_and_send(pilot, "/sessions")
            await pilot.pause()
            listing = list(first.chat.query(CommandOutput))[-1].body_text
            assert listing.splitlines()[0].startswith(f"* {saved_id}")
            assert "what does add do?" in listing.splitlines()[0]
        second = SmallcodeApp(repo, settings_for(srv))
        async with second.run_test(size=SIZE) as pilot:
            await ready(pilot)
            assert second.session.session_id != saved_id
            await type_and_send(pilot, f"/sessions resume {saved_id[:16]}")
            await wait_for(pilot, lambda: bool(list(second.chat.query(CommandOutput))),
                           what="resume")
            out = second.chat.query_one(CommandOutput).body_text
            assert out.startswith(f"resumed session {saved_id}")
            assert next(u.text for u in second.chat.query(UserMessage)) == "what does add do?"
            assert "add subtracts; that is the bug." in [
                a.text for a in second.chat.query(AssistantMessage)]
            await type_and_send(pilot, "so should it add?")
            await wait_for(pilot, lambda: second.last_done is not None, what="answer")
            sent = json.dumps(srv.requests[-1]["messages"])
            assert "what does add do?" in sent and "add subtracts; that is the bug." in sent
            await type_and_send(pilot, "/sessions nonsense-id")
            await pilot.pause()
            assert list(second.chat.query(CommandOutput))[-1].body_text.startswith(
                "cannot resume nonsense-id:")


async def test_tui_resume_option_continues_the_latest_session(repo: Path) -> None:
    with ScriptedServer(["The answer is 42."]) as srv:
        first = SmallcodeApp(repo, settings_for(srv))
        async with first.run_test(size=SIZE) as pilot:
            await ready(pilot)
            await type_and_send(pilot, "what is the answer?")
            await wait_for(pilot, lambda: first.last_done is not None, what="answer")
            await wait_for(pilot, lambda: not first.turn_running, what="save")
            saved_id = first.session.session_id
        again = SmallcodeApp(repo, settings_for(srv), resume="latest")
        async with again.run_test(size=SIZE) as pilot:
            await ready(pilot)
            await wait_for(pilot, lambda: again.session.session_id == saved_id, what="resume")
            await pilot.pause()
            assert "The answer is 42." in screen(again)
            assert f"resumed session {saved_id}" in screen(again)


async def test_memory_command_lists_and_searches_project_memory(repo: Path) -> None:
    with ScriptedServer([]) as srv:
        app = SmallcodeApp(repo, settings_for(srv))
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            await type_and_send(pilot, "/memory")
            await pilot.pause()
            assert list(app.chat.query(CommandOutput))[-1].body_text.startswith(
                "no memory entries yet")
            store = app.session.agent.ctx.services.memory
            store.remember("convention", "tests", "run the tests with pytest -q")
            store.remember("gotcha", "ports", "the dev server port is 8123")
            await type_and_send(pilot, "/memory")
            await pilot.pause()
            listing = list(app.chat.query(CommandOutput))[-1].body_text
            assert "(convention #" in listing and "(gotcha #" in listing
            await type_and_send(pilot, "/memory port")
            await pilot.pause()
            found = list(app.chat.query(CommandOutput))[-1].body_text.splitlines()
            assert len(found) == 1 and "the dev server port is 8123" in found[0]


async def test_ctrl_c_while_asking_closes_the_modal_and_writes_nothing(repo: Path) -> None:
    with ScriptedServer([PATCH]) as srv:
        app = SmallcodeApp(repo, settings_for(srv, "ask"))
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            await type_and_send(pilot, "fix add in calc.py")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="modal")
            await pilot.press("ctrl+c")
            await wait_for(pilot, lambda: app.last_done is not None, timeout=5, what="cancel")
            await pilot.pause()
            assert app.last_done.reason == "cancelled"
            assert not isinstance(app.screen, ConfirmScreen)
            assert (repo / "calc.py").read_text() == BUGGY
            assert len(srv.requests) == 1


async def test_chat_view_keeps_the_newest_entries_in_long_sessions(repo: Path) -> None:
    from smallcode.cli.tui.app import MAX_CHAT_ENTRIES
    from smallcode.core.events import NoticeEvent

    with ScriptedServer([]) as srv:
        app = SmallcodeApp(repo, settings_for(srv))
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            for i in range(MAX_CHAT_ENTRIES + 10):
                await app.handle_event(NoticeEvent(message=f"notice {i}"))
            await pilot.pause()
            shown = [w.text for w in app.chat.children if isinstance(w, NoteLine)]
            assert len(app.chat.children) == MAX_CHAT_ENTRIES
            assert shown[-1] == f"· notice {MAX_CHAT_ENTRIES + 9}"
            assert "· notice 0" not in shown


async def test_chat_follows_new_entries_unless_the_user_scrolled_up(repo: Path) -> None:
    from smallcode.core.events import NoticeEvent

    with ScriptedServer([]) as srv:
        app = SmallcodeApp(repo, settings_for(srv))
        async with app.run_test(size=(100, 20)) as pilot:
            await ready(pilot)
            for i in range(40):
                await app.handle_event(NoticeEvent(message=f"line {i}"))
            await pilot.pause(0.3)
            chat = app.chat
            assert chat.max_scroll_y > 0 and chat.scroll_y == chat.max_scroll_y
            # the completion list opens and closes (the chat shrinks and grows): still following
            app.prompt.focus()
            await pilot.press("/")
            await pilot.pause()
            await pilot.press("backspace")
            await pilot.pause()
            await app.handle_event(NoticeEvent(message="after the popup"))
            await pilot.pause()
            await pilot.pause(0.3)
            assert chat.scroll_y == chat.max_scroll_y and "after the popup" in screen(app)
            # the user scrolls up: new entries do not pull the view down
            chat.scroll_to(y=0, animate=False)
            await pilot.pause()
            await app.handle_event(NoticeEvent(message="while reading"))
            await pilot.pause(0.3)
            assert chat.scroll_y == 0 and "while reading" not in screen(app)
            chat.scroll_end(animate=False)
            await pilot.pause(0.3)
            await app.handle_event(NoticeEvent(message="back at the end"))
            await pilot.pause(0.3)
            assert "back at the end" in screen(app)


async def test_a_multi_file_task_runs_the_real_planner_logs_and_saves_like_run(
        tmp_path: Path) -> None:
    import shutil

    from smallcode.core.observability import log_path

    from tests.plan.scripted_steps import StepScript, finish, write
    from tests.plan.scripted_steps import fenced as step_call
    from tests.plan.test_derive import RENAME_REPO, TASK

    root = tmp_path / "proj"
    shutil.copytree(RENAME_REPO, root)
    script = StepScript({
        1: [step_call("rename_symbol", {"old": "calc_total", "new": "compute_total"}), finish()],
        2: [write("NOTES.md", "compute_total replaces calc_total\n"), finish()],
    })
    with ScriptedServer(default=script) as srv:
        app = SmallcodeApp(root, settings_for(srv))
        async with app.run_test(size=(130, 36)) as pilot:
            await ready(pilot)
            assert not app.plan_panel.display
            await type_and_send(pilot, TASK)
            await wait_for(pilot, lambda: app.last_done is not None and not app.turn_running,
                           timeout=45, what="the plan to finish")
            await pilot.pause()
            assert app.last_done.success, app.last_done.summary
            panel = app.plan_panel
            assert panel.display and panel.border_subtitle == "2/2 done"
            assert [s.step["n"] for s in panel.query(PlanStep)] == [1, 2]
            session_id = app.session.session_id
    assert "calc_total" not in (root / "billing" / "totals.py").read_text()
    assert (root / "NOTES.md").exists()
    log = log_path(root, session_id).read_text()
    assert '"event":"task"' in log and '"event":"usage_summary"' in log
    saved = json.loads((root / ".smallcode" / "sessions" / f"{session_id}.json").read_text())
    assert saved["tasks"][0]["task"] == TASK and saved["tasks"][0]["success"] is True
