"""`smallcode run "task"`: headless; human progress by default, `--json` for JSON lines."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from smallcode.core.config import ConfigError, load_settings

from .render import HumanPrinter, JsonPrinter


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run one task headless")
    p.add_argument("task", help="what to do, as you would say it")
    p.add_argument("--yes", "-y", action="store_true", help="allow edits and commands (no prompts)")
    p.add_argument("--json", action="store_true", help="one JSON event per line on stdout")
    p.add_argument("--model", help="model name to request")
    p.add_argument("--base-url", help="OpenAI-compatible base URL")
    p.add_argument("--api-key", help="bearer token for the server")
    p.add_argument("--max-turns", type=int, help="model calls for this task")
    p.add_argument("--server", help="URL of a running `smallcode serve` gateway")
    p.add_argument("--token", help="token for the serve gateway")
    p.add_argument("--mode", choices=["ask", "auto-edit", "yolo"], help="permission mode")
    p.add_argument("--sequential", action="store_true", help="run plan steps one at a time")
    p.add_argument("--continue", dest="cont", action="store_true",
                   help="continue the most recent session")
    p.add_argument("--resume", metavar="ID", help="resume a saved session (see `sessions list`)")
    p.set_defaults(func=run_command)


def settings_from_args(args: argparse.Namespace):
    """Settings from flags (every flag optional: the TUI shares this), attaching to a running
    `smallcode serve` when no endpoint was given."""
    def opt(name: str):
        return getattr(args, name, None)

    overrides = {
        "model": {"model": opt("model"), "base_url": opt("base_url"), "api_key": opt("api_key")},
        "agent": {"max_turns": opt("max_turns"),
                  "permission_mode": "yolo" if opt("yes") else opt("mode"),
                  "parallel": False if opt("sequential") else None},
        "serve": {"server_url": opt("server"), "token": opt("token")},
    }
    settings = load_settings(getattr(args, "workspace", "."), overrides)
    if not settings.model.base_url and not settings.serve.server_url:
        from smallcode.actors.runtime import find_running_serve

        url = find_running_serve()  # attach to a running `smallcode serve` when there is one
        if url:
            settings.serve.server_url = url
    return settings


def _confirm_on_tty(kind: str, detail: str) -> bool:
    if not sys.stdin.isatty():
        return False
    answer = input(f"allow {kind}: {detail}? [y/N] ").strip().lower()
    return answer in ("y", "yes")


EXIT_UNVERIFIED = 4


def exit_code(done) -> int:
    """0 only when the task's oracle passed (or a question was answered); 1 when it failed;
    4 when the work finished but nothing could verify it (the reason says why)."""
    if not done.success:
        return 1
    if done.verified == "none":
        print("smallcode: finished, but nothing verified the result (no test, example or "
              "structural check covers it)", file=sys.stderr)
        return EXIT_UNVERIFIED
    return 0


def run_command(args: argparse.Namespace) -> int:
    try:
        settings = settings_from_args(args)
    except ConfigError as exc:
        print(f"smallcode: {exc}", file=sys.stderr)
        return 2
    printer = JsonPrinter() if args.json else HumanPrinter(verbose=args.verbose)
    try:
        return asyncio.run(_run(args, settings, printer))
    except asyncio.CancelledError:  # SIGTERM: the task was recorded and the session saved
        print("smallcode: terminated; the session was saved", file=sys.stderr)
        return 143


async def _run(args: argparse.Namespace, settings, printer) -> int:
    from smallcode.core.model.types import ModelError
    from smallcode.core.session import open_session

    def progress(msg: str) -> None:
        print(f"· {msg}", file=sys.stderr, flush=True)

    # SIGTERM cancels the task like Ctrl+C does, so the session is saved and DuckDB closed
    main_task = asyncio.current_task()
    terminated: list[bool] = []

    def on_sigterm() -> None:
        terminated.append(True)
        if main_task is not None:
            main_task.cancel()

    with contextlib.suppress(NotImplementedError, RuntimeError):
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, on_sigterm)

    try:
        from smallcode.cli.backends import backend_for

        session = await open_session(args.workspace, settings, confirm=_confirm_on_tty,
                                     progress=progress, backend=backend_for(settings))
    except ModelError as exc:
        print(f"smallcode: {exc}\nRun `smallcode doctor` to diagnose.", file=sys.stderr)
        return 3
    except (OSError, RuntimeError, ValueError) as exc:
        print(f"smallcode: cannot start: {exc}", file=sys.stderr)
        return 3
    try:
        if args.cont or args.resume:
            from smallcode.core.memory.sessions import SessionError

            target = args.resume or session.store.latest()
            if target is None:
                print("smallcode: no saved session to continue", file=sys.stderr)
                return 2
            try:
                session.resume(target)
            except (SessionError, KeyError, ValueError) as exc:
                print(f"smallcode: cannot resume {target}: {exc}", file=sys.stderr)
                return 2
        if not args.json:
            c = session.client
            progress(f"model {c.model_name} via {session.endpoint.source} "
                     f"({c.server_kind}, window {c.context_window}); session {session.session_id}")
        from smallcode.core.observability import format_usage

        ran = await session.run_task(args.task, printer, verbose=args.verbose)
        done = ran.done
        if args.json:
            printer(ran.summary)
        else:
            print(format_usage(ran.ledger), file=sys.stderr)
        if terminated:  # the agent stopped at the cancel and handed back what it had
            print("smallcode: terminated; the session was saved", file=sys.stderr)
            return 143
        return exit_code(done)
    finally:
        await session.aclose()
