"""The graph tools as the agent calls them: through the registry, graph from the context."""

from __future__ import annotations

from pathlib import Path

from smallcode.core.graph import CodeGraph, estimate_tokens
from smallcode.core.tools import ToolContext, Workspace, build_registry
from smallcode.core.tools.graph_tools import NO_GRAPH


def context(root: Path, graph: CodeGraph | None) -> ToolContext:
    return ToolContext(Workspace(root), graph=graph)


def test_graph_tools_are_offered_for_code_intel_and_search():
    registry = build_registry()
    for category in ("code_intel", "search"):
        names = {t.name for t in registry.for_categories([category])}
        assert {"graph_search", "explain_symbol", "find_references"} <= names


async def test_graph_search_tool_uses_the_graph_in_context(sample_repo: Path):
    graph = CodeGraph(sample_repo, workers=0)
    graph.index()
    registry = build_registry()
    result = await registry.execute("graph_search", {"query": "compute", "max_tokens": 300},
                                    context(sample_repo, graph))
    assert result.ok
    assert result.output == graph.search("compute", 300)
    assert estimate_tokens(result.output) <= 300


async def test_explain_and_references_tools(sample_repo: Path):
    graph = CodeGraph(sample_repo, workers=0)
    graph.index()
    registry = build_registry()
    ctx = context(sample_repo, graph)
    explained = await registry.execute("explain_symbol", {"name": "Model.compute"}, ctx)
    assert explained.ok and explained.output.startswith("method Model.compute — pkg/models.py")
    refs = await registry.execute("find_references", {"name": "Model"}, ctx)
    assert refs.ok and "  6 [call] in main: m = Model(3)" in refs.output
    missing = await registry.execute("explain_symbol", {"name": "Nope"}, ctx)
    assert not missing.ok and missing.output.startswith("No symbol named 'Nope'")


async def test_without_a_graph_the_tools_say_so(tmp_path: Path):
    registry = build_registry()
    result = await registry.execute("graph_search", {"query": "x"}, context(tmp_path, None))
    assert (result.ok, result.output) == (False, NO_GRAPH)


async def test_bad_arguments_are_rejected_with_a_clear_error(tmp_path: Path):
    registry = build_registry()
    result = await registry.execute("graph_search", {"query": "", "max_tokens": 5},
                                    context(tmp_path, None))
    assert not result.ok
    assert result.output.startswith("invalid arguments for graph_search: query:")
    assert "max_tokens:" in result.output
