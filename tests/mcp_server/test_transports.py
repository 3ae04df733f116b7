"""`smallcode mcp serve` driven by the SDK's client over stdio (subprocess) and streamable HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import mcp_types as types
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from smallcode.core.graph.codegraph import CodeGraph
from smallcode.core.graph.render import estimate_tokens
from smallcode.core.mcp_server import GraphToolService

from .conftest import write_project

TOOLS = ["explain_symbol", "find_references", "graph_search", "repo_map", "scope_check",
         "token_usage"]


def serve_argv(root: Path, *extra: str) -> list[str]:
    return ["-m", "smallcode.cli.main", "-C", str(root), "mcp", "serve", "--no-watch", *extra]


def text_of(result: types.CallToolResult) -> str:
    assert not result.is_error, result
    return "".join(c.text for c in result.content if isinstance(c, types.TextContent))


def in_process(root: Path, db_dir: Path) -> GraphToolService:
    graph = CodeGraph(root, db_path=db_dir / "graph.duckdb")
    graph.index()
    return GraphToolService(graph, root)


async def test_stdio_serves_budgeted_deterministic_answers_and_counts_tokens(tmp_path: Path
                                                                            ) -> None:
    root = write_project(tmp_path / "proj")
    local = in_process(root, tmp_path)
    params = StdioServerParameters(command=sys.executable, args=serve_argv(root),
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
    async with Client(params, client_info=types.Implementation(name="tester", version="1"),
                      read_timeout_seconds=60) as client:
        listed = await client.list_tools()
        assert sorted(t.name for t in listed.tools) == TOOLS
        schema = next(t for t in listed.tools if t.name == "graph_search").input_schema
        assert schema["properties"]["max_tokens"]["minimum"] == 1
        answer = text_of(await client.call_tool("graph_search",
                                                {"query": "load_config", "max_tokens": 120}))
        assert answer == local.graph_search("load_config", 120)  # same text as in-process
        assert estimate_tokens(answer) <= 120
        tiny = text_of(await client.call_tool("repo_map", {"max_tokens": 15}))
        assert estimate_tokens(tiny) <= 15
        refs = text_of(await client.call_tool("find_references",
                                              {"name": "load_config", "max_tokens": 400}))
        assert "app/service.py" in refs
        scope = await client.call_tool("scope_check", {
            "code": "from app.config import load_config, dump_config\nimport yamlish_nope\n"
                    "load_config('nowhere/settings.toml')\n"})
        assert not scope.is_error
        assert scope.structured_content["missing_symbols"] == ["app.config.dump_config"]
        assert scope.structured_content["missing_modules"] == ["yamlish_nope"]
        assert scope.structured_content["missing_files"] == ["nowhere/settings.toml"]
        bad = await client.call_tool("scope_check", {})
        assert bad.is_error and "give `code`" in text_of_error(bad)
        over = await client.call_tool("graph_search", {"query": "x", "max_tokens": 0})
        assert over.is_error  # the budget is validated, not ignored
        usage = await client.call_tool("token_usage", {})
        data = usage.structured_content
        assert [c["client"] for c in data["clients"]] == ["tester"]
        expected = estimate_tokens(answer) + estimate_tokens(tiny) + estimate_tokens(refs)
        assert data["clients"][0]["by_tool"]["graph_search"]["answer_tokens"] == \
            estimate_tokens(answer)
        assert data["clients"][0]["answer_tokens"] >= expected


def text_of_error(result: types.CallToolResult) -> str:
    return "".join(c.text for c in result.content if isinstance(c, types.TextContent))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_url(proc: subprocess.Popen[str], timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    assert proc.stderr is not None
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if "serving the code graph at " in line:
            return line.rsplit(" ", 1)[1].strip()
        if not line and proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}")
    raise AssertionError("the HTTP server did not come up")


class HttpServer:
    """`smallcode mcp serve --transport http` in a subprocess on a free loopback port."""

    def __init__(self, root: Path, *extra: str):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, *serve_argv(root, "--transport", "http", "--port", str(self.port),
                                         *extra)],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        self.url = wait_for_url(self.proc)

    def stop(self) -> tuple[int, str]:
        """SIGINT (Ctrl+C), then the exit code and the rest of stderr."""
        self.proc.send_signal(signal.SIGINT)
        try:
            _, err = self.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return self.proc.returncode, err


@pytest.fixture
def http_server(tmp_path: Path):
    server = HttpServer(write_project(tmp_path / "proj"))
    yield server
    if server.proc.poll() is None:
        server.stop()


async def test_streamable_http_serves_several_clients_and_accounts_each(
        http_server: HttpServer, tmp_path: Path) -> None:
    local = in_process(tmp_path / "proj", tmp_path)
    url = http_server.url
    assert url == f"http://127.0.0.1:{http_server.port}/mcp"
    async with Client(url, client_info=types.Implementation(name="alice", version="1")) as a, \
            Client(url, client_info=types.Implementation(name="bob", version="1")) as b:
        got = text_of(await a.call_tool("explain_symbol", {"name": "Settings",
                                                           "max_tokens": 200}))
        assert got == local.explain_symbol("Settings", 200)
        await a.call_tool("graph_search", {"query": "run_service", "max_tokens": 300})
        mapped = text_of(await b.call_tool("repo_map", {"max_tokens": 100}))
        assert mapped == local.repo_map(100) and estimate_tokens(mapped) <= 100
        totals = (await b.call_tool("token_usage", {"all_clients": True})).structured_content
    by_name = {c["client"].split("#")[0]: c for c in totals["clients"]}
    assert set(by_name) == {"alice", "bob"}
    assert by_name["alice"]["calls"] == 2
    assert by_name["alice"]["by_tool"]["explain_symbol"]["answer_tokens"] == \
        estimate_tokens(got)
    assert by_name["bob"]["by_tool"] == {"repo_map": {"calls": 1,
                                                      "answer_tokens": estimate_tokens(mapped)}}
    code, err = http_server.stop()
    assert code == 0, err
    report = err[err.index("answers per client ") + len("answers per client "):].splitlines()[0]
    assert {c["client"].split("#")[0] for c in json.loads(report)} == {"alice", "bob"}


@pytest.fixture
def guarded_server(tmp_path: Path):
    server = HttpServer(write_project(tmp_path / "proj"), "--token", "s3cret-token")
    yield server
    if server.proc.poll() is None:
        server.stop()


async def test_a_token_guards_the_http_server(guarded_server: HttpServer) -> None:
    url = guarded_server.url
    async with httpx2.AsyncClient() as plain:
        refused = await plain.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert refused.status_code == 401
    authed = httpx2.AsyncClient(headers={"Authorization": "Bearer s3cret-token"})
    async with Client(streamable_http_client(url, http_client=authed)) as client:
        got = text_of(await client.call_tool("explain_symbol", {"name": "Settings",
                                                                "max_tokens": 100}))
    assert got.startswith("class Settings — app/config.py")


def test_serving_off_loopback_without_a_token_is_refused(tmp_path: Path) -> None:
    argv = serve_argv(write_project(tmp_path / "p"), "--transport", "http", "--host", "0.0.0.0")
    proc = subprocess.run([sys.executable, *argv], check=False, capture_output=True, text=True,
                          timeout=60,
                          env={k: v for k, v in os.environ.items() if k != "SMALLCODE_MCP_TOKEN"})
    assert proc.returncode == 2
    assert "exposes this project's code" in proc.stderr
