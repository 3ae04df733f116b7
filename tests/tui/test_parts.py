"""The TUI's pieces without a running app: diff colouring, call stripping, completion, edit
previews, plan rows, the status line; and the terminal given back after a crash (real pty)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import termios
import textwrap
import time
from pathlib import Path

from smallcode.cli.tui.completion import PathIndex, complete, edit_preview
from smallcode.cli.tui.widgets import (
    PlanPanel,
    StatusLine,
    diff_text,
    key_arguments,
    strip_call_text,
)
from smallcode.core.tools.workspace import Workspace

DIFF = """--- a/calc.py
+++ b/calc.py
@@ -1,2 +1,2 @@
 def add(a, b):
-    return a - b
+    return a + b
"""


def test_diff_lines_are_coloured_by_kind() -> None:
    text = diff_text(DIFF)
    styles = {text.plain[s.start:s.end].rstrip("\n"): str(s.style) for s in text.spans}
    assert styles == {"--- a/calc.py": "bold", "+++ b/calc.py": "bold",
                      "@@ -1,2 +1,2 @@": "cyan", " def add(a, b):": "dim",
                      "-    return a - b": "red", "+    return a + b": "green"}


def test_long_diffs_are_cut_with_a_count() -> None:
    diff = "\n".join(f"+line {i}" for i in range(10))
    text = diff_text(diff, max_lines=4)
    assert text.plain.splitlines()[-1] == "… 6 more lines"
    assert len(text.plain.splitlines()) == 5


def test_call_text_is_stripped_and_prose_kept() -> None:
    fenced = 'Fixing it.\n```json\n{"name": "patch", "arguments": {"path": "a.py"}}\n```'
    assert strip_call_text(fenced) == "Fixing it."
    assert strip_call_text('{"tool": "finish", "args": {"summary": "x"}}') == ""
    assert strip_call_text("<tool_call>{\"name\": \"read_file\"}</tool_call>") == ""
    assert strip_call_text("Use `dict.get` here.") == "Use `dict.get` here."


def test_key_arguments_prefer_identifying_fields() -> None:
    args = {"old_str": "x" * 50, "path": "src/app.py", "start_line": 3}
    assert key_arguments(args) == "path=src/app.py  start_line=3"
    assert key_arguments({"command": "pytest -q " + "a" * 80}).endswith("…")


def test_plan_rows_group_consecutive_batch_steps() -> None:
    steps = [{"n": 1, "batch": None}, {"n": 2, "batch": 1}, {"n": 3, "batch": 1},
             {"n": 4, "batch": 2}, {"n": 5}]
    assert [[s["n"] for s in row] for row in PlanPanel.rows(steps)] == [[1], [2, 3], [4], [5]]


def test_status_line_shows_window_use_mode_and_queue() -> None:
    line = StatusLine()
    line.info.model, line.info.backend, line.info.source = "qwen", "llamacpp", "serve"
    line.info.route, line.info.context_tokens, line.info.context_window = "write", 13_000, 16_384
    line.info.session_tokens, line.info.mode, line.info.queue = 40_500, "yolo", "2 waiting"
    assert line.render_info().plain == ("○ yolo  qwen (llamacpp, serve)  route write  ctx "
                                        "13.0k/16.4k (79%)  Σ 40.5k tok  queue 2 waiting")
    line.info.queue = None
    assert "queue" not in line.render_info().plain


def test_completion_of_commands_and_paths(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("dist/\n")
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "app.js").write_text("")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("")
    (tmp_path / "apply.py").write_text("")
    index = PathIndex(Workspace(tmp_path))
    cmds = {"undo": "revert", "update": "x", "help": "h"}
    assert [c.label for c in complete("/u", index, cmds)] == ["/undo", "/update"]
    assert complete("/undo 2", index, cmds) == []
    got = complete("see @ap", index, cmds)
    assert [c.label for c in got] == ["@apply.py", "@src/app.py"]
    assert got[0].start == 4 and got[0].replacement == "@apply.py "
    assert complete("mail me@ap", index, cmds) == []  # an email is not a mention
    assert complete("plain words", index, cmds) == []


def test_edit_preview_for_patch_and_write(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    patch = edit_preview(ws, {"path": "calc.py", "old_str": "a - b", "new_str": "a + b"})
    assert patch == DIFF
    new_file = edit_preview(ws, {"path": "new.py", "content": "x = 1\n"})
    assert new_file.splitlines()[-1] == "+x = 1"
    assert edit_preview(ws, {"path": "../outside.py", "content": "x"}) == ""
    assert edit_preview(ws, {"command": "ls"}) == ""


CRASHING_APP = textwrap.dedent("""
    import sys, termios
    from smallcode.cli.tui.app import SmallcodeApp
    from smallcode.cli.tui.terminal import restored_terminal
    from smallcode.core.config import Settings

    class Crashing(SmallcodeApp):
        async def on_mount(self):
            await super().on_mount()
            self.set_timer(0.3, self.boom)

        def boom(self):
            raise RuntimeError("boom in the UI")

    before = termios.tcgetattr(0)
    settings = Settings.model_validate({"model": {"base_url": "http://127.0.0.1:9/v1",
                                                  "detect_local": False, "max_retries": 0}})
    app = Crashing(sys.argv[1], settings)
    with restored_terminal():
        app.run()
    after = termios.tcgetattr(0)
    print("\\nRESULT", app.return_code, "modes-restored" if after == before else "modes-CHANGED",
          flush=True)
""")


def test_terminal_is_restored_after_the_app_crashes(tmp_path: Path) -> None:
    script = tmp_path / "crash.py"
    script.write_text(CRASHING_APP)
    master, slave = pty.openpty()
    import fcntl
    import struct
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    before = termios.tcgetattr(slave)
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path)], stdin=slave,
                            stdout=slave, stderr=slave, close_fds=True,
                            env={**os.environ, "TERM": "xterm-256color"})
    os.close(slave)
    out = b""
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None:
            break
    proc.wait(timeout=10)
    after = termios.tcgetattr(master)
    os.close(master)
    text = out.decode(errors="replace")
    assert "RESULT 1 modes-restored" in text, text[-2000:]
    assert "boom in the UI" in text  # the traceback is shown on the normal screen
    assert text.rfind("\x1b[?1049l") > text.rfind("\x1b[?1049h")  # alternate screen left
    assert after[3] & termios.ECHO and after[3] & termios.ICANON
    assert after[3] == before[3]
