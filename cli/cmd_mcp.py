"""`smallcode mcp list|test`: the MCP servers of ``.smallcode/mcp.json`` (and the user's).

``list`` shows each server and its cached tool listing without starting anything; ``test`` starts
every server, lists its tools, and reports the time it took or the error (exit 1 if any failed).

Other modules add subcommands to the same ``mcp`` parser through :func:`mcp_subparsers`
(``smallcode mcp serve`` does), whatever order the command modules are registered in.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from smallcode.core.config import user_config_dir
from smallcode.core.extensions.mcp_client import McpConfigError, McpHub

_SUBPARSERS_ATTR = "_smallcode_mcp_subparsers"


def mcp_subparsers(subparsers: Any) -> Any:
    """The sub-command group of ``smallcode mcp``, created on first use (idempotent)."""
    parser = subparsers.choices.get("mcp")
    if parser is None:
        parser = subparsers.add_parser("mcp", help="MCP servers: list, test (and serve)")
        parser.set_defaults(func=lambda args: _no_subcommand(parser))
    group = getattr(parser, _SUBPARSERS_ATTR, None)
    if group is None:
        group = parser.add_subparsers(dest="mcp_command", metavar="SUBCOMMAND")
        setattr(parser, _SUBPARSERS_ATTR, group)
    return group


def _no_subcommand(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def register(subparsers: Any) -> None:
    group = mcp_subparsers(subparsers)
    p = group.add_parser("list", help="configured MCP servers and their known tools")
    p.set_defaults(func=cmd_mcp_list)
    p.add_argument("-C", "--workspace", default=argparse.SUPPRESS,
                    help="project folder (default: .)")
    p = group.add_parser("test", help="start every MCP server, list its tools, report timing")
    p.add_argument("names", nargs="*", help="only these servers")
    p.set_defaults(func=cmd_mcp_test)
    p.add_argument("-C", "--workspace", default=argparse.SUPPRESS,
                    help="project folder (default: .)")


def _hub(args: argparse.Namespace, names: list[str] | None = None) -> McpHub:
    return McpHub.from_workspace(getattr(args, "workspace", ".") or ".", user_config_dir(), names)


def cmd_mcp_list(args: argparse.Namespace) -> int:
    try:
        hub = _hub(args)
    except McpConfigError as exc:
        print(f"smallcode mcp: {exc}", file=sys.stderr)
        return 1
    if not hub.configs:
        print("no MCP servers configured (add them to .smallcode/mcp.json)")
        return 0
    for name, c in hub.configs.items():
        target = c.url if c.url else " ".join([c.command or "", *c.args])
        state = "" if c.enabled else "  [disabled]"
        print(f"{name}  ({c.transport})  {target}{state}")
        print(f"    categories: {', '.join(sorted(c.categories))}; timeout {c.call_timeout:g}s")
        listing = hub.cached_listing(name) if c.enabled else None
        if listing is None:
            print("    tools: not listed yet (run `smallcode mcp test`)")
        else:
            for t in listing:
                cats = ", ".join(sorted(c.categories_for(t.name)))
                off = "  [off]" if t.name in c.disabled_tools else ""
                print(f"    - {t.name} [{cats}]{off}: {t.description.splitlines()[0][:70] if t.description else ''}")
    return 0


def cmd_mcp_test(args: argparse.Namespace) -> int:
    try:
        hub = _hub(args, args.names)
    except McpConfigError as exc:
        print(f"smallcode mcp: {exc}", file=sys.stderr)
        return 1
    if not hub.configs:
        print("no MCP servers configured (add them to .smallcode/mcp.json)")
        return 0
    try:
        reports = asyncio.run(hub.atest())
    finally:
        hub.close()
    failed = 0
    for r in reports:
        if r.ok:
            print(f"ok    {r.name} ({r.transport}) {r.seconds:.2f}s  {len(r.tools)} tools: {', '.join(r.tools)}")
        else:
            failed += 1
            print(f"FAIL  {r.name} ({r.transport}) {r.seconds:.2f}s  {r.error}")
    return 1 if failed else 0
