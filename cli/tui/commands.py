"""Slash commands of the TUI: a registry (plugins add theirs with :func:`register_command`) and
the built-ins (help, undo, plan, memory, sessions, model, mode, compact, diff, clear, exit).

A handler is ``handler(ctx: CommandContext, argument: str)`` returning text to show (``str`` or a
Rich ``Text``), ``None`` for nothing, or an awaitable of either. Each built-in calls the core part
that does the work, imported lazily; a part that does not exist yet gets a clear message.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from smallcode.core.config import Settings
from smallcode.core.tools.workspace import Workspace

if TYPE_CHECKING:
    from smallcode.core.session import AgentSession

CommandResult = str | Text | None
Handler = Callable[["CommandContext", str], CommandResult | Awaitable[CommandResult]]
_NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
PERMISSION_MODES = ("ask", "auto-edit", "yolo")
COMPACT_KEEP_STEPS = 2  # /compact keeps the last steps as they are
COMPACT_SUMMARY_ROOM = 400  # tokens left for the summary


@dataclass(frozen=True)
class SlashCommand:
    name: str
    help: str
    handler: Handler
    builtin: bool = False


@dataclass
class CommandContext:
    """What a command can use: the workspace, the settings, the open session, and the app (for
    the UI actions: ``show_diff``, ``clear_chat``, ``toggle_plan``, ``show_history``, ``exit``)."""

    app: Any
    workspace: Workspace
    settings: Settings
    session: AgentSession | None


_COMMANDS: dict[str, SlashCommand] = {}


def register_command(name: str, help: str, handler: Handler, *, builtin: bool = False) -> None:
    """Add a slash command (``/name``). Plugins call this; a built-in cannot be replaced."""
    if not _NAME_RE.match(name):
        raise ValueError(f"bad command name {name!r}: lowercase letters, digits, - and _")
    if not callable(handler):
        raise TypeError(f"handler of /{name} is not callable")
    existing = _COMMANDS.get(name)
    if existing is not None and existing.builtin and not builtin:
        raise ValueError(f"/{name} is a built-in command")
    _COMMANDS[name] = SlashCommand(name, help, handler, builtin)


def unregister_command(name: str) -> None:
    cmd = _COMMANDS.get(name)
    if cmd is not None and not cmd.builtin:
        del _COMMANDS[name]


def registered_commands() -> dict[str, SlashCommand]:
    return dict(_COMMANDS)


def parse(line: str) -> tuple[str, str]:
    """``"/undo 2"`` → ``("undo", "2")``."""
    body = line.strip()[1:]
    name, _, arg = body.partition(" ")
    return name.strip().lower(), arg.strip()


async def dispatch(ctx: CommandContext, line: str) -> CommandResult:
    """Run a slash command line; unknown commands and failures come back as text."""
    name, arg = parse(line)
    cmd = _COMMANDS.get(name)
    if cmd is None:
        return f"unknown command /{name} — /help lists the commands"
    result = cmd.handler(ctx, arg)
    if inspect.isawaitable(result):
        result = await result
    return result


# -- built-ins ------------------------------------------------------------------------------------
def _need_session(ctx: CommandContext) -> AgentSession:
    if ctx.session is None:
        raise RuntimeError("no model session is open yet")
    return ctx.session


def cmd_help(ctx: CommandContext, arg: str) -> CommandResult:
    lines = [f"/{c.name:<10} {c.help}" for c in sorted(_COMMANDS.values(), key=lambda c: c.name)]
    lines += ["", ("keys: Enter send · Ctrl+C cancel the turn (twice when idle: exit) · "
                   "Shift+Tab permission mode · Ctrl+P plan panel · @ file completion · "
                   "Tab accept a completion")]
    return "\n".join(lines)


async def cmd_undo(ctx: CommandContext, arg: str) -> CommandResult:
    try:
        from smallcode.core.snapshots import SnapshotError, SnapshotStore
    except ImportError:
        return "undo is not available: smallcode.core.snapshots is missing"
    store = ctx.session.agent.ctx.services.snapshots if ctx.session else None
    store = store if isinstance(store, SnapshotStore) else SnapshotStore(ctx.workspace)
    if arg in ("list", "--list"):
        infos = await asyncio.to_thread(store.list)
        if not infos:
            return "no checkpoints yet"
        return "\n".join(f"{i.id}  {i.status:<7} {i.label}: {', '.join(i.files)}"
                         for i in infos[-15:])
    try:
        if arg and not arg.isdigit():
            report = await asyncio.to_thread(store.undo_to, arg)
        else:
            report = await asyncio.to_thread(store.undo, int(arg or 1))
    except SnapshotError as exc:
        return f"undo failed: {exc}"
    ctx.app.path_index.refresh()
    return report.summary()


async def cmd_plan(ctx: CommandContext, arg: str) -> CommandResult:
    shown = await ctx.app.toggle_plan()
    anchor = ctx.app.plan_panel.anchor_text
    if not anchor:
        return "no plan in this session yet (a multi-step task makes one)"
    return anchor if shown else "plan panel hidden (/plan shows it again)"


async def cmd_memory(ctx: CommandContext, arg: str) -> CommandResult:
    store = ctx.session.agent.ctx.services.memory if ctx.session else None
    if store is None:
        return ("project memory is not open in this session"
                + ("" if ctx.session else " (no model session yet)"))
    query = arg[len("search "):].strip() if arg.startswith("search ") else arg
    if query and query != "list":
        res = store.search(query, limit=20)
    else:
        res = store.list(limit=30)
    entries = list(await res if inspect.isawaitable(res) else res)
    if not entries:
        return f"no memory entries for {query!r}" if query and query != "list" \
            else "no memory entries yet (\"remember that …\" adds one)"
    return "\n".join(e.render() if hasattr(e, "render") else str(e) for e in entries)


async def cmd_sessions(ctx: CommandContext, arg: str) -> CommandResult:
    session = _need_session(ctx)
    store = getattr(session, "store", None)
    if store is None:
        return "saved sessions are not available in this build"
    words = arg.split()
    if words and words[0] != "list":
        if words[0] == "resume" and len(words) == 2:
            target = words[1]
        elif len(words) == 1 and words[0] != "resume":
            target = words[0]
        else:
            return "usage: /sessions [list] | /sessions resume ID"
        if ctx.app.turn_running:
            return "a turn is running; resume after it ends"
        try:
            await asyncio.to_thread(session.resume, target)
        except (KeyError, ValueError, OSError) as exc:
            return f"cannot resume {target}: {exc}"
        except Exception as exc:  # noqa: BLE001 - SessionError and friends: shown, nothing lost
            return f"cannot resume {target}: {exc}"
        await ctx.app.show_history(session.agent.history)
        return (f"resumed session {session.session_id} "
                f"({len(session.agent.history)} messages); new turns continue it")
    infos = await asyncio.to_thread(store.list, 20)
    if not infos:
        return "no saved sessions yet (each finished turn saves this one)"
    lines = []
    for info in infos:
        mark = "*" if info.id == session.session_id else " "
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.updated))
        lines.append(f"{mark} {info.id}  {when}  {info.messages:>3} msgs  {info.title}")
    return "\n".join(lines) + "\n/sessions resume ID continues one (* = this session)"


def cmd_model(ctx: CommandContext, arg: str) -> CommandResult:
    session = _need_session(ctx)
    c = session.client
    profile = getattr(c, "profile", None)
    lines = [f"model     {c.model_name}",
             f"server    {c.server_kind} at {c.base_url}",
             f"endpoint  {session.endpoint.source}",
             f"window    {c.context_window} tokens (max {ctx.settings.model.max_tokens} per reply)"]
    if profile is not None:
        fields = {k: v for k, v in vars(profile).items() if not k.startswith("_")}
        lines.append("profile   " + ", ".join(f"{k}={v}" for k, v in fields.items()))
    lines.append(f"tool mode {ctx.settings.model.tool_mode}")
    return "\n".join(lines)


def cmd_mode(ctx: CommandContext, arg: str) -> CommandResult:
    if not arg:
        return (f"permission mode: {ctx.settings.agent.permission_mode} "
                f"(choose one of {', '.join(PERMISSION_MODES)}; Shift+Tab cycles)")
    if arg not in PERMISSION_MODES:
        return f"unknown mode {arg!r}: choose one of {', '.join(PERMISSION_MODES)}"
    ctx.app.set_permission_mode(arg)
    return f"permission mode: {arg}"


async def cmd_compact(ctx: CommandContext, arg: str) -> CommandResult:
    session = _need_session(ctx)
    agent = session.agent
    if ctx.app.turn_running:
        return "a turn is running; compact after it ends"
    own = getattr(agent, "compact", None)
    if callable(own):
        res = own()
        res = await res if inspect.isawaitable(res) else res
        return str(res) if res else "history compacted"
    try:
        from smallcode.core.context.budget import TokenCounter, fit, step_starts
        from smallcode.core.features.compaction import history_compactor
    except ImportError:
        return "history compaction is not available in this build"
    counter = getattr(agent, "counter", None) or TokenCounter()
    history = list(agent.history)
    before = counter.count_messages(history)
    head = next((i for i, m in enumerate(history) if m.get("role") != "system"), len(history))
    steps = step_starts(history, head)
    if len(steps) <= COMPACT_KEEP_STEPS:
        return f"nothing to compact ({before} tokens of history)"
    tail = counter.count_messages(history[steps[-COMPACT_KEEP_STEPS]:])
    head_tokens = counter.count_messages(history[:head])
    # everything older than the kept steps goes into one summary; no eviction or shrinking first
    result = await fit(history, head_tokens + tail + COMPACT_SUMMARY_ROOM, counter,
                       keep_last_steps=COMPACT_KEEP_STEPS, min_evict_tokens=10**9,
                       max_arg_chars=10**9,
                       compactor=history_compactor(session.client, timeout=60))
    if not result.changed:
        return f"nothing to compact ({before} tokens of history)"
    agent.history = list(result.messages)
    how = f"{result.compacted} messages summarized" if result.compacted else \
        f"{result.dropped} old messages dropped (no summary available)"
    return f"history compacted: {before} → {result.tokens} tokens; {how}"


async def cmd_diff(ctx: CommandContext, arg: str) -> CommandResult:
    argv = ["git", "diff", "--no-color", "--no-ext-diff"] + ([arg] if arg else [])
    try:
        proc = await asyncio.to_thread(subprocess.run, argv, cwd=ctx.workspace.root,
                                       capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"git diff failed: {exc}"
    if proc.returncode != 0:
        return f"git diff failed: {proc.stderr.strip() or proc.returncode}"
    if not proc.stdout.strip():
        return "no uncommitted changes"
    await ctx.app.show_diff(proc.stdout)
    return None


async def cmd_clear(ctx: CommandContext, arg: str) -> CommandResult:
    if ctx.app.turn_running:
        return "a turn is running; cancel it first (Ctrl+C)"
    await ctx.app.clear_chat()
    session = ctx.session
    if session is None:
        return "chat cleared"
    session.agent.history = [m for m in session.agent.history if m.get("role") == "system"]
    store = getattr(session, "store", None)
    if store is not None:  # the cleared conversation stays saved; new turns start a new session
        session.session_id = store.new_id()
        session.created = time.time()
        session.tasks = []
    return "conversation cleared; a new session starts"


def cmd_exit(ctx: CommandContext, arg: str) -> CommandResult:
    ctx.app.exit(0)
    return None


for _name, _help, _handler in (
        ("help", "list commands and keys", cmd_help),
        ("undo", "revert the last turn's file changes (/undo N, /undo list, /undo ID)", cmd_undo),
        ("plan", "show or hide the plan panel", cmd_plan),
        ("memory", "list project memory, or /memory QUERY to search it", cmd_memory),
        ("sessions", "list saved sessions; /sessions resume ID continues one", cmd_sessions),
        ("model", "model, server, profile and context window", cmd_model),
        ("mode", "permission mode: /mode ask | auto-edit | yolo", cmd_mode),
        ("compact", "summarize older turns to free the context window", cmd_compact),
        ("diff", "git diff of the workspace (/diff PATH for one file)", cmd_diff),
        ("clear", "clear the chat and start a fresh conversation", cmd_clear),
        ("exit", "leave smallcode", cmd_exit)):
    register_command(_name, _help, _handler, builtin=True)
