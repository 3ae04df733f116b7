"""Starting the graph MCP server: open (and keep fresh) a workspace's graph, then serve it over
stdio or streamable HTTP until stopped. Nothing but MCP goes to stdout on stdio."""

from __future__ import annotations

import hmac
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from .server import GraphToolService, build_mcp_server

MCP_PATH = "/mcp"


def open_graph(root: str | Path, *, watch: bool = True) -> tuple[Any, Any]:
    """The workspace's :class:`CodeGraph`, indexed (incrementally: unchanged files are not
    re-parsed), and a started :class:`GraphWatcher` keeping it fresh (or None)."""
    from smallcode.core.graph.codegraph import CodeGraph

    graph = CodeGraph(root)
    graph.index()
    watcher = None
    if watch:
        from smallcode.core.graph.watch import GraphWatcher

        watcher = GraphWatcher(graph)
        watcher.start()
    return graph, watcher


def _report_usage(service: GraphToolService, log: TextIO) -> None:
    usage = service.usage()
    if usage["calls"]:
        log.write("smallcode mcp: answers per client " + json.dumps(usage["clients"]) + "\n")
        log.flush()


def run_stdio(service: GraphToolService, *, log: TextIO = sys.stderr) -> None:
    """Serve on stdin/stdout until the client closes the stream."""
    import anyio

    server = build_mcp_server(service)
    try:
        anyio.run(server.run_stdio_async)
    finally:
        _report_usage(service, log)


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class BearerTokenGate:
    """ASGI wrapper: HTTP requests must carry ``Authorization: Bearer <token>`` (else 401)."""

    def __init__(self, app: Any, token: str):
        if not token:
            raise ValueError("an empty token protects nothing")
        self.app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            given = dict(scope.get("headers") or ()).get(b"authorization", b"")
            if not hmac.compare_digest(given, self._expected):
                body = b'{"error": "unauthorized: send Authorization: Bearer <token>"}'
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"content-type", b"application/json"),
                                        (b"www-authenticate", b"Bearer"),
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def run_http(service: GraphToolService, *, host: str = "127.0.0.1", port: int = 8765,
             token: str | None = None, log: TextIO = sys.stderr,
             on_ready: Callable[[str], None] | None = None) -> None:
    """Serve streamable HTTP at ``http://host:port/mcp`` until interrupted. Off loopback a
    ``token`` is required (the graph shows the project's code to whoever can reach it)."""
    import anyio
    import uvicorn

    if host not in LOOPBACK_HOSTS and not token:
        raise ValueError(f"serving on {host} exposes this project's code: give a token "
                         "(--token or SMALLCODE_MCP_TOKEN), or bind 127.0.0.1")
    server = build_mcp_server(service)
    app: Any = server.streamable_http_app(streamable_http_path=MCP_PATH, host=host)
    if token:
        app = BearerTokenGate(app, token)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
    http = uvicorn.Server(config)

    async def serve() -> None:
        async def announce() -> None:
            while not http.started:
                await anyio.sleep(0.02)
            bound = port
            for s in http.servers:
                for sock in s.sockets:
                    bound = sock.getsockname()[1]
            url = f"http://{host}:{bound}{MCP_PATH}"
            log.write(f"smallcode mcp: serving the code graph at {url}\n")
            log.flush()
            if on_ready is not None:
                on_ready(url)

        async with anyio.create_task_group() as tg:
            tg.start_soon(announce)
            await http.serve()
            tg.cancel_scope.cancel()

    try:
        anyio.run(serve)
    finally:
        _report_usage(service, log)
