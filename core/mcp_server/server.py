"""The code graph as a token-aware MCP server (official ``mcp`` SDK, stdio or streamable HTTP).

Tools: ``graph_search``, ``explain_symbol``, ``find_references``, ``repo_map`` — each takes
``max_tokens`` and the answer never exceeds it (tokens counted with the graph's own estimator,
``core.graph.render.estimate_tokens``; an answer over budget is cut at a line boundary) —
``scope_check`` (names, modules and files that do not exist in the project) and ``token_usage``
(answer tokens per client). Answers are deterministic: the same graph and arguments give the same
text. :class:`GraphToolService` holds the logic and accounting without MCP, so it is testable and
benchmarkable in-process; :func:`build_mcp_server` exposes it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field
from smallcode.core.graph.render import budget_chars, estimate_tokens

from .scope import ScopeChecker, ScopeReport

SERVER_NAME = "smallcode-graph"
MAX_BUDGET = 64_000
CUT_MARK = "\n… (cut at the token budget)"

Budget = Annotated[int, Field(ge=1, le=MAX_BUDGET,
                              description="the answer never exceeds this many tokens")]


def fit_to_budget(text: str, max_tokens: int) -> str:
    """``text`` if it fits ``max_tokens`` (the graph's estimator), else cut at the last line
    boundary that fits, marked. The result always satisfies ``estimate_tokens(r) <= max_tokens``."""
    if max_tokens < 1:
        raise ValueError("max_tokens must be at least 1")
    if estimate_tokens(text) <= max_tokens:
        return text
    limit = budget_chars(max_tokens)
    if limit <= len(CUT_MARK) + 8:
        return text[:limit]
    cut = text[: limit - len(CUT_MARK)]
    newline = cut.rfind("\n")
    if newline >= len(cut) // 2:
        cut = cut[:newline]
    return cut + CUT_MARK


@dataclass
class ClientUsage:
    """What one client was answered: calls and answer tokens, in all and per tool."""

    client: str
    calls: int = 0
    answer_tokens: int = 0
    by_tool: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, tool: str, tokens: int) -> None:
        self.calls += 1
        self.answer_tokens += tokens
        entry = self.by_tool.setdefault(tool, {"calls": 0, "answer_tokens": 0})
        entry["calls"] += 1
        entry["answer_tokens"] += tokens

    def as_dict(self) -> dict[str, Any]:
        return {"client": self.client, "calls": self.calls, "answer_tokens": self.answer_tokens,
                "by_tool": {k: dict(v) for k, v in sorted(self.by_tool.items())}}


class GraphToolService:
    """The tools over one graph, with per-client token accounting. Thread-safe."""

    def __init__(self, graph: Any, root: str | Path):
        self.graph = graph
        self.root = Path(root).resolve()
        self.scope = ScopeChecker(graph, self.root)
        self._usage: dict[str, ClientUsage] = {}
        self._lock = threading.Lock()

    def _account(self, client: str, tool: str, text: str) -> str:
        with self._lock:
            usage = self._usage.get(client)
            if usage is None:
                usage = self._usage[client] = ClientUsage(client)
            usage.add(tool, estimate_tokens(text))
        return text

    def graph_search(self, query: str, max_tokens: int = 2000, client: str = "local") -> str:
        text = fit_to_budget(self.graph.search(query, max_tokens=max_tokens), max_tokens)
        return self._account(client, "graph_search", text)

    def explain_symbol(self, name: str, max_tokens: int = 1500, client: str = "local") -> str:
        text = fit_to_budget(self.graph.explain(name, max_tokens=max_tokens), max_tokens)
        return self._account(client, "explain_symbol", text)

    def find_references(self, name: str, max_tokens: int = 2000, client: str = "local") -> str:
        text = fit_to_budget(self.graph.references(name, max_tokens=max_tokens), max_tokens)
        return self._account(client, "find_references", text)

    def repo_map(self, max_tokens: int = 2000, focus_files: Sequence[str] = (),
                 focus_names: Sequence[str] = (), client: str = "local") -> str:
        text = fit_to_budget(self.graph.repo_map(max_tokens, focus_files=list(focus_files),
                                                 focus_names=list(focus_names)), max_tokens)
        return self._account(client, "repo_map", text)

    def scope_check(self, code: str = "", names: Sequence[str] = (), language: str = "python",
                    path: str = "", client: str = "local") -> ScopeReport:
        if not code.strip() and not names:
            raise ValueError("give `code` to check, or `names` (symbols, modules, paths)")
        report = ScopeReport()
        if code.strip():
            report = self.scope.check_code(code, language, path)
        if names:
            by_names = self.scope.check_names(list(names))
            for attr in ("missing_symbols", "missing_modules", "missing_files",
                         "unverified_methods", "external_modules"):
                getattr(report, attr).extend(getattr(by_names, attr))
            report.checked += by_names.checked
            report.finish()
        self._account(client, "scope_check", report.model_dump_json())
        return report

    def usage(self, client: str | None = None) -> dict[str, Any]:
        """Per-client totals (all clients, or one)."""
        with self._lock:
            clients = [u.as_dict() for k, u in sorted(self._usage.items())
                       if client is None or k == client]
        return {"clients": clients,
                "answer_tokens": sum(c["answer_tokens"] for c in clients),
                "calls": sum(c["calls"] for c in clients)}


def client_key(ctx: Any) -> str:
    """``<clientInfo.name>`` plus the transport session (HTTP) — who is asking, for accounting."""
    name = "anonymous"
    session_id = None
    with contextlib.suppress(Exception):  # no session data outside a request: anonymous
        params = ctx.session.client_params
        info = getattr(params, "client_info", None) if params is not None else None
        client_name = getattr(info, "name", None)
        if client_name:
            name = str(client_name)
    with contextlib.suppress(Exception):  # stdio has no transport session
        session_id = ctx.request_context.session_id
    return f"{name}#{session_id[:12]}" if session_id else name


def build_mcp_server(service: GraphToolService, *, name: str = SERVER_NAME) -> MCPServer:
    """An ``mcp.server.mcpserver.MCPServer`` exposing the service's tools."""
    server = MCPServer(
        name, instructions=(
            "Long-term memory of this codebase. Every answer fits the max_tokens you give. "
            "Use graph_search to find connected code, explain_symbol for one symbol, "
            "find_references for its uses, repo_map for an overview, and scope_check before "
            "writing code to catch names, imports and files that do not exist."),
        log_level="WARNING")

    @server.tool(description="Fuzzy symbol search, then a breadth-first walk over callers and "
                             "callees that stops at the token budget: connected code.")
    def graph_search(query: str, ctx: Context, max_tokens: Budget = 2000) -> str:
        return service.graph_search(query, max_tokens, client_key(ctx))

    @server.tool(description="Definition, signature, docstring, callers and callees of a symbol.")
    def explain_symbol(name: str, ctx: Context, max_tokens: Budget = 1500) -> str:
        return service.explain_symbol(name, max_tokens, client_key(ctx))

    @server.tool(description="Every use of a symbol (who calls it, who references it).")
    def find_references(name: str, ctx: Context, max_tokens: Budget = 2000) -> str:
        return service.find_references(name, max_tokens, client_key(ctx))

    @server.tool(description="A ranked map of the repository's files and main symbols, "
                             "optionally focused on some files or names.")
    def repo_map(ctx: Context, max_tokens: Budget = 2000, focus_files: list[str] | None = None,
                 focus_names: list[str] | None = None) -> str:
        return service.repo_map(max_tokens, focus_files or (), focus_names or (),
                                client_key(ctx))

    @server.tool(description="Which symbols, imports and files in `code` (Python, JavaScript, "
                             "TypeScript) or in `names` do not exist in this project. "
                             "Standard-library and installed modules count as external.")
    def scope_check(ctx: Context, code: str = "", names: list[str] | None = None,
                    language: str = "python", path: str = "") -> ScopeReport:
        try:
            return service.scope_check(code, names or (), language, path, client_key(ctx))
        except ValueError as exc:  # bad input: a clear message back to the caller
            raise ToolError(str(exc)) from None

    @server.tool(description="Answer tokens this server has returned, per client.")
    def token_usage(ctx: Context, all_clients: bool = False) -> dict[str, Any]:
        return service.usage(None if all_clients else client_key(ctx))

    return server
