"""Code-graph tools: graph_search, explain_symbol, find_references.

They read the graph from ``ctx.services.graph`` — any object satisfying ``GraphProtocol`` (an
in-process CodeGraph or an IndexerClient over the indexer actor). Calls are run in a worker
thread so a slow graph (still loading, or remote) never blocks the agent's event loop.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

from pydantic import BaseModel, Field

from .registry import Tool, ToolContext, ToolError, ToolRegistry, ToolResult

NO_GRAPH = ("The code graph is not available in this session (no index). Use search or "
            "find_files instead.")


class GraphSearchArgs(BaseModel):
    query: str = Field(..., min_length=1, description="symbol name(s) or words to look for")
    max_tokens: int = Field(1500, ge=100, le=8000, description="size of the answer")


class ExplainSymbolArgs(BaseModel):
    name: str = Field(..., min_length=1, description="symbol name, or Class.method")


class FindReferencesArgs(BaseModel):
    name: str = Field(..., min_length=1, description="symbol name, or Class.method")


async def _ask(ctx: ToolContext, method: str, *args: Any) -> str:
    graph = ctx.services.graph
    if graph is None:
        raise ToolError(NO_GRAPH)
    fn = getattr(graph, method, None)
    if fn is None:
        raise ToolError(NO_GRAPH)
    result = await asyncio.to_thread(fn, *args)
    if inspect.isawaitable(result):
        result = await result
    return str(result)


async def graph_search(args: GraphSearchArgs, ctx: ToolContext) -> ToolResult:
    text = await _ask(ctx, "search", args.query, args.max_tokens)
    return ToolResult(ok=True, output=text, data={"query": args.query})


async def explain_symbol(args: ExplainSymbolArgs, ctx: ToolContext) -> ToolResult:
    text = await _ask(ctx, "explain", args.name)
    return ToolResult(ok=not text.startswith("No symbol named"), output=text,
                      data={"name": args.name})


async def find_references(args: FindReferencesArgs, ctx: ToolContext) -> ToolResult:
    text = await _ask(ctx, "references", args.name)
    return ToolResult(ok=not text.startswith("No symbol named"), output=text,
                      data={"name": args.name})


def register(registry: ToolRegistry, settings: Any = None) -> None:
    registry.register(Tool(
        "graph_search",
        "Find code by symbol name: best matches plus the functions they call and are called by, "
        "as connected code within a token budget.",
        GraphSearchArgs, graph_search, frozenset({"code_intel", "search"})))
    registry.register(Tool(
        "explain_symbol",
        "Definition, signature, docstring, callers and callees of one symbol.",
        ExplainSymbolArgs, explain_symbol, frozenset({"code_intel", "search"})))
    registry.register(Tool(
        "find_references",
        "Every use of a symbol (calls, references, imports) with file:line.",
        FindReferencesArgs, find_references, frozenset({"code_intel", "search"})))
