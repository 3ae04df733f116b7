"""The `smallcode` command: parses arguments and dispatches to command modules.

Each command family lives in ``cli/cmd_<name>.py`` and exposes ``register(subparsers)``, which adds
its parser(s) and sets ``func=handler`` (``handler(args) -> int``). No business logic lives here.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMAND_MODULES: list[str] = [
    "cmd_bench",
    "cmd_run",
    "cmd_doctor",
    "cmd_model",
    "cmd_serve",
    "cmd_graph",
    "cmd_undo",
    "cmd_tui",
    "cmd_plugins",
    "cmd_mcp",
    "cmd_mcp_serve",
    "cmd_memory",
    "cmd_sessions",
]


def build_parser() -> argparse.ArgumentParser:
    from smallcode.core import __version__

    parser = argparse.ArgumentParser(
        prog="smallcode",
        description="A coding agent for small local models. With no command, opens the TUI.",
    )
    parser.add_argument("--version", action="version", version=f"smallcode {__version__}")
    parser.add_argument("-C", "--workspace", default=".", help="project folder (default: .)")
    parser.add_argument("--verbose", action="store_true", help="mirror structured logs readably")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"smallcode.cli.{name}").register(sub)
    for subparser in set(sub.choices.values()):  # `smallcode run -C DIR` works too
        if "--workspace" not in subparser._option_string_actions:
            subparser.add_argument("-C", "--workspace", default=argparse.SUPPRESS,
                                   help="project folder (default: .)")
    return parser


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        tui = "smallcode.cli.cmd_tui"
        try:
            mod = importlib.import_module(tui)
        except ImportError:
            parser.print_help()
            sys.exit(0)
        func = mod.open_tui
    try:
        code = func(args)
    except KeyboardInterrupt:
        code = 130
    sys.exit(int(code or 0))


if __name__ == "__main__":
    main()
