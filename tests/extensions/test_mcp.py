"""MCP servers as tool sources, against a real MCP server (tests/extensions/mcp_test_server.py)
over stdio and over streamable HTTP on loopback."""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from pathlib import Path

import pytest
from smallcode.core.extensions.mcp_client import (
    McpConfigError,
    McpHub,
    args_model_for,
    load_mcp_config,
    parse_server,
)
from smallcode.core.router import Router
from smallcode.core.tools.registry import ToolContext, ToolRegistry

SERVER = str(Path(__file__).with_name("mcp_test_server.py"))


def stdio_config(name: str = "calc", **extra: object) -> dict[str, object]:
    return {"command": sys.executable, "args": [SERVER], **extra}


@pytest.fixture(scope="module")
def stdio_hub(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("mcp-stdio")
    config = parse_server("calc", stdio_config(timeout=20, tools={"shout": {"categories": ["write"]}}))
    hub = McpHub([config], cache_path=root / "cache.json", log_dir=root / "logs")
    registry = ToolRegistry()
    names = hub.register_tools(registry)
    yield hub, registry, names, root
    hub.close()


def test_stdio_tools_are_registered_with_source_and_categories(stdio_hub) -> None:
    _hub, registry, names, _ = stdio_hub
    assert names == ["add", "shout", "server_pid", "nap", "die", "refuse", "whereami"]
    add = registry.get("add")
    assert add is not None and add.source == "mcp:calc"
    assert add.categories == frozenset({"search", "code_intel"})
    assert registry.get("shout").categories == frozenset({"write"})  # per-tool override
    schema = add.schema()["function"]
    assert schema["description"] == "Add two integers."
    assert schema["parameters"]["required"] == ["a", "b"]
    assert schema["parameters"]["properties"]["a"] == {"type": "integer"}


async def test_stdio_call_returns_the_server_answer(stdio_hub) -> None:
    _, registry, _, _ = stdio_hub
    result = await registry.execute("add", {"a": 2, "b": 40}, ToolContext(None))
    assert result.ok and result.output == "42"
    assert result.data["structured"] == {"result": 42}
    shout = await registry.execute("shout", {"text": "hi", "times": 2}, ToolContext(None))
    assert shout.output == "HI HI"


async def test_arguments_are_checked_against_the_input_schema_before_the_call(stdio_hub) -> None:
    _, registry, _, _ = stdio_hub
    result = await registry.execute("add", {"a": "two"}, ToolContext(None))
    assert not result.ok
    assert "'b' is a required property" in result.output
    assert "'two' is not of type 'integer'" in result.output


async def test_a_tool_error_from_the_server_is_a_failed_result(stdio_hub) -> None:
    _, registry, _, _ = stdio_hub
    result = await registry.execute("refuse", {"reason": "no"}, ToolContext(None))
    assert not result.ok and "refuse" in result.output


async def test_calls_work_from_several_event_loops_concurrently(stdio_hub) -> None:
    _, registry, _, _ = stdio_hub
    import asyncio

    results = await asyncio.gather(*[registry.execute("add", {"a": i, "b": 1}, ToolContext(None))
                                     for i in range(5)])
    assert [r.output for r in results] == ["1", "2", "3", "4", "5"]
    # and from a second loop in another thread (the hub owns its own loop)
    out: list[str] = []
    t = threading.Thread(target=lambda: out.append(asyncio.run(
        registry.execute("add", {"a": 5, "b": 5}, ToolContext(None))).output))
    t.start()
    t.join(30)
    assert out == ["10"]


def test_the_listing_is_cached_with_the_config_fingerprint(stdio_hub) -> None:
    hub, _, _, root = stdio_hub
    cache = json.loads((root / "cache.json").read_text())
    assert cache["calc"]["fingerprint"] == hub.configs["calc"].fingerprint()
    assert [t["name"] for t in cache["calc"]["tools"]][:2] == ["add", "shout"]


async def test_with_a_cached_listing_the_server_starts_lazily_on_first_call(tmp_path) -> None:
    config = parse_server("calc", stdio_config())
    first = McpHub([config], cache_path=tmp_path / "cache.json")
    try:
        await first.aregister_tools(ToolRegistry())
    finally:
        await first.aclose()
    hub = McpHub([config], cache_path=tmp_path / "cache.json")
    try:
        registry = ToolRegistry()
        assert await hub.aregister_tools(registry) == ["add", "shout", "server_pid", "nap", "die", "refuse", "whereami"]
        conn = hub.connections["calc"]
        assert conn.starts == 0 and not conn.alive  # registered from the cache, nothing started
        result = await registry.execute("add", {"a": 1, "b": 1}, ToolContext(None))
        assert result.output == "2" and conn.starts == 1
        # a changed command invalidates the cache
        changed = parse_server("calc", stdio_config(args=[SERVER, "--unused"]))
        assert McpHub([changed], cache_path=tmp_path / "cache.json").cached_listing("calc") is None
    finally:
        await hub.aclose()


async def test_a_dead_server_is_restarted_and_a_stuck_call_times_out(tmp_path) -> None:
    hub = McpHub([parse_server("calc", stdio_config(timeout=2))], cache_path=tmp_path / "c.json",
                 log_dir=tmp_path / "logs")
    try:
        registry = ToolRegistry()
        await hub.aregister_tools(registry)
        ctx = ToolContext(None)
        pid1 = (await registry.execute("server_pid", {}, ctx)).output
        died = await registry.execute("die", {}, ctx)
        assert not died.ok and "Connection closed" in died.output
        pid2 = (await registry.execute("server_pid", {}, ctx)).output
        assert pid1 != pid2 and hub.connections["calc"].starts == 2
        t0 = time.monotonic()
        slow = await registry.execute("nap", {"seconds": 30}, ctx)
        assert time.monotonic() - t0 < 10
        assert not slow.ok and slow.data["timeout"] and "timed out after 2s" in slow.output
        again = await registry.execute("add", {"a": 3, "b": 4}, ctx)
        assert again.output == "7" and hub.connections["calc"].starts == 3
    finally:
        await hub.aclose()


async def test_a_server_that_cannot_start_is_reported_and_the_others_register(tmp_path) -> None:
    broken = parse_server("broken", {"command": sys.executable, "args": ["-c", ("import sys; "
                                     "sys.stderr.write('boom on stderr'); sys.exit(4)")],
                                     "startup_timeout": 10})
    good = parse_server("calc", stdio_config())
    hub = McpHub([broken, good], log_dir=tmp_path / "logs")
    try:
        names = await hub.aregister_tools(ToolRegistry())
        assert "add" in names
        assert "broken" in hub.errors and "failed to start" in hub.errors["broken"]
        assert "boom on stderr" in hub.errors["broken"]
    finally:
        await hub.aclose()


async def test_stdio_server_runs_in_the_workspace_with_expanded_env(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SECRET_FOR_MCP", "s3cret")
    (tmp_path / "sub").mkdir()
    config = parse_server("calc", stdio_config(env={"TEST_TOKEN": "tok-$SECRET_FOR_MCP"}, cwd="sub"))
    hub = McpHub([config], base_dir=tmp_path)
    try:
        registry = ToolRegistry()
        await hub.aregister_tools(registry)
        result = await registry.execute("whereami", {}, ToolContext(None))
        assert result.output == f"{tmp_path / 'sub'} tok-s3cret"
    finally:
        await hub.aclose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def http_server():
    import uvicorn

    sys.path.insert(0, str(Path(SERVER).parent))
    from mcp_test_server import build_server

    port = _free_port()
    app = build_server().streamable_http_app()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}/mcp"
    server.should_exit = True
    thread.join(10)


async def test_streamable_http_server_tools_register_and_answer(http_server) -> None:
    hub = McpHub([parse_server("remote", {"url": http_server, "category": "read"})])
    try:
        registry = ToolRegistry()
        names = await hub.aregister_tools(registry)
        assert names == ["add", "shout", "server_pid", "nap", "die", "refuse", "whereami"]
        assert registry.get("shout").source == "mcp:remote"
        assert registry.get("shout").categories == frozenset({"read"})
        result = await registry.execute("shout", {"text": "loud"}, ToolContext(None))
        assert result.ok and result.output == "LOUD"
        reports = await hub.atest()
        assert reports[0].ok and reports[0].transport == "http" and "add" in reports[0].tools
    finally:
        await hub.aclose()


async def test_mcp_tools_reach_the_model_through_the_router(stdio_hub) -> None:
    _, registry, _, _ = stdio_hub
    decision = Router(registry).route("find all uses of parse_config across the project")
    assert decision.category == "search"
    assert "add" in decision.tool_names and "server_pid" in decision.tool_names
    write = Router(registry).route("fix the bug in app.py")
    assert "shout" in write.tool_names and "add" not in write.tool_names


def test_name_clash_with_a_builtin_gets_the_server_prefix(stdio_hub) -> None:
    hub, _, _, _ = stdio_hub
    from smallcode.core.extensions.mcp_client import ToolListing

    registry = ToolRegistry()
    hub._register_listing(registry, "calc", [ToolListing("add", "a", {})])
    hub._register_listing(registry, "calc", [ToolListing("add", "b", {})])
    assert registry.names() == ["add", "calc_add"]


def test_config_files_project_over_user_and_clear_errors(tmp_path) -> None:
    user, proj = tmp_path / "user", tmp_path / "proj"
    (user).mkdir()
    (proj / ".smallcode").mkdir(parents=True)
    (user / "mcp.json").write_text(json.dumps({"mcpServers": {
        "a": {"url": "http://127.0.0.1:1/mcp"}, "b": {"command": "b-server"}}}))
    (proj / ".smallcode" / "mcp.json").write_text(json.dumps({"servers": {
        "a": {"command": "a-local", "args": ["--x"], "categories": ["search", "read"]}}}))
    configs = {c.name: c for c in load_mcp_config(proj, user)}
    assert configs["a"].command == "a-local" and configs["a"].args == ("--x",)
    assert configs["a"].categories == frozenset({"search", "read"})
    assert configs["b"].transport == "stdio"
    with pytest.raises(McpConfigError, match="needs exactly one of"):
        parse_server("x", {"command": "a", "url": "http://h"})
    with pytest.raises(McpConfigError, match="unknown categories \\['websearch'\\]"):
        parse_server("x", {"command": "a", "category": "websearch"})
    with pytest.raises(McpConfigError, match="timeout must be a positive"):
        parse_server("x", {"command": "a", "timeout": 0})
    (proj / ".smallcode" / "mcp.json").write_text("{not json")
    with pytest.raises(McpConfigError, match="not valid JSON"):
        load_mcp_config(proj)


def test_args_model_keeps_schema_and_arguments() -> None:
    model = args_model_for("t", {"type": "object", "properties": {"q": {"type": "string"},
                                 "tags": {"type": "array", "items": {"type": "string"}}},
                                 "required": ["q"]})
    parsed = model.model_validate({"q": "x", "tags": ["a"]})
    assert parsed.model_dump() == {"q": "x", "tags": ["a"]}
    assert model.model_json_schema()["required"] == ["q"]
    with pytest.raises(ValueError, match="tags.0: 1 is not of type 'string'"):
        model.model_validate({"q": "x", "tags": [1]})
