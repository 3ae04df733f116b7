"""The `bash` tool: one persistent shell per agent, so cwd and environment survive between calls.

Each command runs from a temporary script sourced by the shell (a syntax error cannot wedge it),
with stdin from /dev/null, a timeout (the shell is restarted when it is exceeded), exit codes, and
head+tail output caps. Interactive programs and long-running servers are refused with a reason.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import signal
import tempfile
import uuid
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from .registry import Tool, ToolContext, ToolError, ToolRegistry, ToolResult

MAX_OUTPUT = 8_000
DEFAULT_TIMEOUT = 120.0

_INTERACTIVE = [
    (re.compile(r"^\s*(sudo\s+)?(vi|vim|nvim|nano|emacs|pico|less|more|top|htop|man|watch)\b"),
     "is an interactive program; read files with read_file and edit with patch instead"),
    (re.compile(r"^\s*(python3?|node|irb|ipython|bash|sh|zsh|psql|mysql|sqlite3)\s*$"),
     "would start an interactive prompt; pass a script or use -c"),
    (re.compile(r"^\s*ssh\s+\S+\s*$"), "would open an interactive session"),
    (re.compile(r"\bgit\s+(commit|rebase\s+-i|add\s+-p)\b(?!.*(-m|--message|-F|--no-edit))"),
     "would open an editor; pass -m \"message\""),
]
_SERVERS = [
    re.compile(r"\b(npm|yarn|pnpm)\s+(run\s+)?(start|dev|serve)\b"),
    re.compile(r"\bpython3?\s+-m\s+http\.server\b"),
    re.compile(r"\b(flask\s+run|uvicorn|gunicorn|hypercorn|manage\.py\s+runserver|rails\s+s(erver)?)\b"),
    re.compile(r"\b(tail\s+-f|ping)\s"),
    re.compile(r"\b(nodemon|webpack\s+serve|vite)\b(?!\s+build)"),
]


_REMOTE_GIT = re.compile(r"\bgit\s+(?:push\b|remote\s+(?:add|set-url|remove|rm|rename)\b)")
_REMOTE_GIT_ASKED = re.compile(r"\b(?:push|remote|publish)\b", re.IGNORECASE)


def refusal(command: str) -> str | None:
    """Why a command must not run here, or None."""
    for part in re.split(r"&&|\|\||;|\n", command):
        for rx, why in _INTERACTIVE:
            if rx.search(part):
                return f"refused: `{part.strip()}` {why}"
    for rx in _SERVERS:
        if rx.search(command):
            return ("refused: this starts a long-running server or never-ending command; "
                    "run tests or a one-shot command instead")
    if re.search(r"(?<!&)&\s*$", command.strip()):
        return "refused: background jobs are not allowed; run the command in the foreground"
    return None


def cap_output(text: str, limit: int = MAX_OUTPUT) -> str:
    if len(text) <= limit:
        return text
    head = text[: limit // 2]
    tail = text[-limit // 2:]
    cut = text.count("\n", limit // 2, len(text) - limit // 2)
    return f"{head}\n[... {cut} lines cut; showing head and tail ...]\n{tail}"


class PersistentShell:
    """A bash process kept alive between commands."""

    def __init__(self, cwd: str | os.PathLike[str], env: dict[str, str] | None = None):
        self.root = str(cwd)
        self.env = {**os.environ, **(env or {}), "PAGER": "cat", "GIT_PAGER": "cat",
                    "GIT_EDITOR": "true", "EDITOR": "true", "TERM": "dumb",
                    "PYTHONDONTWRITEBYTECODE": "1", "CI": "1"}
        self.proc: asyncio.subprocess.Process | None = None
        self.cwd = self.root
        self._tmp = Path(tempfile.mkdtemp(prefix="smallcode-sh-"))
        self._lock = asyncio.Lock()

    async def _start(self) -> asyncio.subprocess.Process:
        self.proc = await asyncio.create_subprocess_exec(
            "bash", "--noprofile", "--norc", stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=self.root,
            env=self.env, start_new_session=True, limit=1 << 24)
        self.cwd = self.root
        return self.proc

    async def run(self, command: str, timeout: float = DEFAULT_TIMEOUT) -> tuple[int, str, bool]:
        """Run a command; returns (exit code, output, timed_out)."""
        async with self._lock:
            proc = self.proc if self.proc and self.proc.returncode is None else await self._start()
            assert proc.stdin and proc.stdout
            marker = f"__SMALLCODE_DONE_{uuid.uuid4().hex}__"
            script = self._tmp / f"cmd-{uuid.uuid4().hex[:8]}.sh"
            script.write_text(command + "\n")
            proc.stdin.write(
                f". {shlex.quote(str(script))} < /dev/null 2>&1\n"
                f"printf '\\n{marker} %s %s\\n' \"$?\" \"$PWD\"\n".encode())
            await proc.stdin.drain()
            chunks: list[str] = []
            try:
                code = await asyncio.wait_for(self._read_until(proc, marker, chunks), timeout)
                return code, "".join(chunks).rstrip("\n"), False
            except TimeoutError:
                await self.close()
                return 124, "".join(chunks), True
            finally:
                script.unlink(missing_ok=True)

    async def _read_until(self, proc: asyncio.subprocess.Process, marker: str,
                          chunks: list[str]) -> int:
        assert proc.stdout
        while True:
            line = await proc.stdout.readline()
            if not line:  # the shell exited (e.g. the command ran `exit`)
                self.proc = None
                return proc.returncode if proc.returncode is not None else await proc.wait()
            text = line.decode("utf-8", errors="replace")
            if text.startswith(marker):
                parts = text[len(marker):].strip().split(" ", 1)
                if len(parts) == 2:
                    self.cwd = parts[1]
                if chunks and chunks[-1].endswith("\n"):
                    chunks[-1] = chunks[-1][:-1]
                return int(parts[0]) if parts and parts[0].lstrip("-").isdigit() else 1
            chunks.append(text)

    async def close(self) -> None:
        if self.proc and self.proc.returncode is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            await self.proc.wait()
        self.proc = None


class BashArgs(BaseModel):
    command: str = Field(description="shell command to run in the project (cwd persists)")
    timeout: float | None = Field(None, gt=0, le=1800, description="seconds (default 120)")


async def bash(args: BashArgs, ctx: ToolContext) -> ToolResult:
    command = args.command.strip()
    if not command:
        raise ToolError("command is empty")
    why = refusal(command)
    if why:
        raise ToolError(why)
    if _REMOTE_GIT.search(command) and not _REMOTE_GIT_ASKED.search(ctx.task_state.task):
        raise ToolError("refused: pushing or changing git remotes is not part of this task; "
                        "leave publishing to the user")
    shell = ctx.services.shell
    if shell is None:
        shell = PersistentShell(ctx.workspace.root)
        ctx.services.shell = shell
    code, out, timed_out = await shell.run(command, args.timeout or DEFAULT_TIMEOUT)
    out = cap_output(out)
    if timed_out:
        return ToolResult(ok=False, output=f"{out}\n[timed out after {args.timeout or DEFAULT_TIMEOUT:.0f}s; "
                                           "the shell was restarted (cwd and variables reset)]",
                          data={"exit_code": 124})
    status = f"[exit code {code}]" if code else "[exit code 0]"
    return ToolResult(ok=code == 0, output=(out + "\n" if out else "") + status,
                      data={"exit_code": code, "cwd": shell.cwd})


def register(registry: ToolRegistry, settings: Any = None) -> None:
    registry.register(Tool("bash", "Run a shell command in the project (e.g. tests); returns output "
                                   "and exit code.", BashArgs, bash, frozenset({"run", "plan"}),
                           runs_commands=True))
