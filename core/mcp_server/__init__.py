"""The code graph served over MCP: token-budgeted graph tools, ``scope_check`` and per-client
token accounting (see :mod:`.server`); ``run_stdio`` / ``run_http`` start it."""

from __future__ import annotations

from .runner import open_graph, run_http, run_stdio
from .scope import ScopeChecker, ScopeReport
from .server import ClientUsage, GraphToolService, build_mcp_server, client_key, fit_to_budget

__all__ = [
    "ClientUsage",
    "GraphToolService",
    "ScopeChecker",
    "ScopeReport",
    "build_mcp_server",
    "client_key",
    "fit_to_budget",
    "open_graph",
    "run_http",
    "run_stdio",
]
