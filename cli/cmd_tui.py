"""`smallcode` (no command) and `smallcode tui`: the full-screen terminal UI."""

from __future__ import annotations

import argparse
import contextlib
import sys

from smallcode.core.config import ConfigError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tui", help="open the full-screen terminal UI (the default)")
    p.add_argument("--model", help="model name to request")
    p.add_argument("--base-url", help="OpenAI-compatible base URL")
    p.add_argument("--api-key", help="bearer token for the server")
    p.add_argument("--server", help="URL of a running `smallcode serve` gateway")
    p.add_argument("--token", help="token for the serve gateway")
    p.add_argument("--mode", choices=["ask", "auto-edit", "yolo"], help="permission mode")
    p.add_argument("--continue", dest="cont", action="store_true",
                   help="continue the most recent session")
    p.add_argument("--resume", metavar="ID", help="resume a saved session (see /sessions)")
    p.set_defaults(func=open_tui)


from .cmd_run import settings_from_args


def open_tui(args: argparse.Namespace) -> int:
    """Run the TUI in the workspace of ``args``; returns the exit code."""
    try:
        settings = settings_from_args(args)
    except ConfigError as exc:
        print(f"smallcode: {exc}", file=sys.stderr)
        return 2
    if not sys.stdout.isatty() or not sys.stdin.isatty():
        print("smallcode: the terminal UI needs a terminal; use `smallcode run \"task\"` "
              "for headless runs", file=sys.stderr)
        return 2
    from .tui.app import SmallcodeApp
    from .tui.terminal import restored_terminal

    resume = getattr(args, "resume", None) or ("latest" if getattr(args, "cont", False) else None)
    app = SmallcodeApp(getattr(args, "workspace", "."), settings, resume=resume)
    try:
        with restored_terminal():
            app.run()
    finally:
        stop_leftovers(app)
    return app.return_code or 0


def stop_leftovers(app) -> None:
    """After a crash the app may not have closed its session: stop what runs outside Python."""
    if getattr(app, "_closed", True) or app.session is None:
        return
    session = app.session
    for close in reversed(getattr(session, "closers", [])):
        with contextlib.suppress(Exception):
            close()
    stop = getattr(session.endpoint, "stop", None)
    if stop is not None:
        with contextlib.suppress(Exception):
            stop()
