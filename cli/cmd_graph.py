"""`smallcode index [--watch]` and `smallcode graph search|explain|refs|map`.

Each command brings the index up to date first (only changed files are parsed), then prints.
"""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Any

from smallcode.core.graph import CodeGraph, GraphStoreBusy, IndexReport
from smallcode.core.tools.workspace import WorkspaceError


def register(subparsers: Any) -> None:
    index = subparsers.add_parser("index", help="build or refresh the code graph of the project")
    index.add_argument("--watch", action="store_true",
                       help="keep running and re-index files as they change (Ctrl-C to stop)")
    index.add_argument("--problems", action="store_true",
                       help="list files that were skipped or did not parse cleanly")
    index.set_defaults(func=cmd_index)

    graph = subparsers.add_parser("graph", help="query the code graph")
    sub = graph.add_subparsers(dest="graph_command", metavar="QUERY", required=True)
    search = sub.add_parser("search", help="fuzzy symbol search with connected callers/callees")
    search.add_argument("query")
    search.add_argument("--max-tokens", type=int, default=2000)
    search.set_defaults(func=cmd_graph)
    explain = sub.add_parser("explain", help="definition, signature, docs, callers, callees")
    explain.add_argument("name")
    explain.add_argument("--max-tokens", type=int, default=1500)
    explain.set_defaults(func=cmd_graph)
    refs = sub.add_parser("refs", help="every use of a symbol")
    refs.add_argument("name")
    refs.add_argument("--max-tokens", type=int, default=2000)
    refs.set_defaults(func=cmd_graph)
    repo_map = sub.add_parser("map", help="ranked repository map")
    repo_map.add_argument("--max-tokens", type=int, default=1000)
    repo_map.add_argument("--focus", action="append", default=[], metavar="FILE",
                          help="personalise the ranking towards this file (repeatable)")
    repo_map.add_argument("--name", action="append", default=[], metavar="SYMBOL",
                          help="personalise the ranking towards this symbol (repeatable)")
    repo_map.set_defaults(func=cmd_graph)


def _open(args: argparse.Namespace) -> CodeGraph:
    return CodeGraph(getattr(args, "workspace", ".") or ".")


def _print_report(report: IndexReport, problems: bool) -> None:
    print(report.summary())
    if problems:
        for path, reason in report.skipped:
            print(f"  skipped: {path}: {reason}")


def cmd_index(args: argparse.Namespace) -> int:
    try:
        graph = _open(args)
        report = graph.index()
    except (GraphStoreBusy, WorkspaceError, OSError) as exc:
        print(f"smallcode index: {exc}", file=sys.stderr)
        return 2
    _print_report(report, args.problems)
    if args.problems:
        for path, status, message in graph.problems():
            print(f"  {status}: {path}: {message}")
    if not args.watch:
        return 0
    from smallcode.core.graph.watch import GraphWatcher

    def show(update: IndexReport) -> None:
        print(update.summary(), flush=True)

    watcher = GraphWatcher(graph, on_update=show)
    watcher.start()
    print(f"watching {graph.root} for changes (Ctrl-C to stop)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        watcher.stop()
    return 0


def cmd_graph(args: argparse.Namespace) -> int:
    try:
        graph = _open(args)
        graph.index()
    except (GraphStoreBusy, WorkspaceError, OSError) as exc:
        print(f"smallcode graph: {exc}", file=sys.stderr)
        return 2
    command = args.graph_command
    if command == "search":
        print(graph.search(args.query, args.max_tokens))
    elif command == "explain":
        text = graph.explain(args.name, args.max_tokens)
        print(text)
        return 1 if text.startswith("No symbol named") else 0
    elif command == "refs":
        text = graph.references(args.name, args.max_tokens)
        print(text)
        return 1 if text.startswith("No symbol named") else 0
    elif command == "map":
        print(graph.repo_map(args.max_tokens, args.focus, args.name))
    return 0
