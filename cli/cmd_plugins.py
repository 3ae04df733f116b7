"""`smallcode plugins list|enable|disable`: the plugins of this project and user.

``list`` shows what is installed without running plugin code; ``list --check`` loads the enabled
plugins and reports their tools, commands, hooks and errors. ``enable``/``disable`` persist the
choice in ``.smallcode/plugins.json``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from smallcode.core.config import ConfigError, load_settings, user_config_dir
from smallcode.core.extensions.plugins import discover_plugins, load_plugins, set_plugin_enabled
from smallcode.core.tools.registry import ToolRegistry


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("plugins", help="list, enable or disable plugins")
    group = p.add_subparsers(dest="plugins_command", metavar="SUBCOMMAND")
    p.set_defaults(func=lambda args: _no_subcommand(p))
    lp = group.add_parser("list", help="installed plugins and their state")
    lp.add_argument("--check", action="store_true",
                    help="load the enabled plugins and report their tools, commands and errors")
    lp.set_defaults(func=cmd_plugins_list)
    lp.add_argument("-C", "--workspace", default=argparse.SUPPRESS,
                     help="project folder (default: .)")
    for action in ("trust", "untrust"):
        tp = group.add_parser(action, help=f"{action} this project's own plugins "
                                           "(.smallcode/plugins run code from the repository)")
        tp.set_defaults(func=cmd_plugins_trust, trust=action == "trust")
        tp.add_argument("-C", "--workspace", default=argparse.SUPPRESS,
                        help="project folder (default: .)")
    for action in ("enable", "disable"):
        ap = group.add_parser(action, help=f"{action} a plugin in this project")
        ap.add_argument("name")
        ap.set_defaults(func=cmd_plugins_toggle, enable=action == "enable")
        ap.add_argument("-C", "--workspace", default=argparse.SUPPRESS,
                         help="project folder (default: .)")


def cmd_plugins_trust(args: argparse.Namespace) -> int:
    from smallcode.core.extensions.plugins import set_project_trusted

    root = Path(getattr(args, "workspace", ".")).resolve()
    set_project_trusted(root, args.trust)
    print(f"project plugins in {root} are {'trusted' if args.trust else 'not trusted'}")
    return 0


def _no_subcommand(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def cmd_plugins_list(args: argparse.Namespace) -> int:
    root = getattr(args, "workspace", ".") or "."
    if args.check:
        try:
            settings = load_settings(root)
        except ConfigError as exc:
            print(f"smallcode plugins: {exc}", file=sys.stderr)
            return 1
        plugin_set = load_plugins(root, settings, user_dir=user_config_dir())
        plugin_set.register_tools(ToolRegistry())
        plugins = list(plugin_set.plugins.values())
    else:
        plugins = discover_plugins(root, user_config_dir())
    if not plugins:
        print("no plugins found (.smallcode/plugins/<name>/plugin.py, the user's plugins folder, "
              "or packages with a smallcode.plugins entry point)")
        return 0
    bad = 0
    for p in plugins:
        status = "enabled" if p.status == "found" else p.status
        print(f"{p.name} {p.version}  [{status}]  ({p.origin}: {p.location})")
        if p.description:
            print(f"    {p.description}")
        if p.requires:
            print(f"    requires smallcode {p.requires}")
        if p.tools:
            print(f"    tools: {', '.join(p.tools)}")
        if p.commands:
            print(f"    commands: {', '.join('/' + c for c in p.commands)}")
        if p.hooks:
            print(f"    hooks: {', '.join(p.hooks)}")
        if p.error:
            bad += 1
            print(f"    error: {p.error}")
    return 1 if bad else 0


def cmd_plugins_toggle(args: argparse.Namespace) -> int:
    root = getattr(args, "workspace", ".") or "."
    known = {p.name for p in discover_plugins(root, user_config_dir())}
    if args.name not in known:
        print(f"smallcode plugins: no plugin named {args.name!r}"
              + (f" (found: {', '.join(sorted(known))})" if known else ""), file=sys.stderr)
        return 1
    set_plugin_enabled(root, args.name, args.enable)
    print(f"plugin {args.name} {'enabled' if args.enable else 'disabled'}")
    return 0
