"""`smallcode mcp serve [--transport stdio|http] [--host] [--port] [--token] [--no-watch]`:
the project's code graph as an MCP server other agents use as long-term codebase memory."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any


def register(subparsers: Any) -> None:
    from .cmd_mcp import mcp_subparsers

    group = mcp_subparsers(subparsers)
    p = group.add_parser(
        "serve", help="serve this project's code graph over MCP (stdio or streamable HTTP)",
        description="Tools: graph_search, explain_symbol, find_references, repo_map (each with a "
                    "max_tokens budget the answer never exceeds), scope_check, token_usage.")
    p.add_argument("--transport", choices=["stdio", "http"], default="stdio",
                   help="stdio (default; for an MCP client that starts the server) or http "
                        "(streamable HTTP at http://HOST:PORT/mcp)")
    p.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default: loopback)")
    p.add_argument("--port", type=int, default=8765, help="HTTP port (default 8765; 0 = any)")
    p.add_argument("--token", default=None,
                   help="HTTP: require 'Authorization: Bearer TOKEN' (default: "
                        "$SMALLCODE_MCP_TOKEN; required off loopback)")
    p.add_argument("--no-watch", action="store_true",
                   help="do not re-index files as they change")
    p.add_argument("-C", "--workspace", default=argparse.SUPPRESS,
                   help="project folder (default: .)")
    p.set_defaults(func=cmd_mcp_serve)


def cmd_mcp_serve(args: argparse.Namespace) -> int:
    from pathlib import Path

    from smallcode.core.mcp_server import GraphToolService, open_graph, run_http, run_stdio
    from smallcode.core.mcp_server.runner import LOOPBACK_HOSTS

    root = Path(getattr(args, "workspace", ".") or ".")
    if not root.is_dir():
        print(f"smallcode mcp serve: not a folder: {root}", file=sys.stderr)
        return 2
    if not 0 <= args.port <= 65535:
        print(f"smallcode mcp serve: not a port: {args.port}", file=sys.stderr)
        return 2
    token = args.token or os.environ.get("SMALLCODE_MCP_TOKEN") or None
    if args.transport == "http" and args.host not in LOOPBACK_HOSTS and not token:
        print(f"smallcode mcp serve: serving on {args.host} exposes this project's code; give "
              "--token (or SMALLCODE_MCP_TOKEN), or bind 127.0.0.1", file=sys.stderr)
        return 2
    try:
        graph, watcher = open_graph(root, watch=not args.no_watch)
    except Exception as exc:  # noqa: BLE001 - report any indexing failure plainly
        print(f"smallcode mcp serve: cannot index {root}: {exc}", file=sys.stderr)
        return 1
    service = GraphToolService(graph, root)
    try:
        if args.transport == "stdio":
            run_stdio(service)
        else:
            run_http(service, host=args.host, port=args.port, token=token)
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"smallcode mcp serve: {exc}", file=sys.stderr)
        return 1
    finally:
        if watcher is not None:
            watcher.stop()
        if hasattr(graph, "close"):
            graph.close()
    return 0
