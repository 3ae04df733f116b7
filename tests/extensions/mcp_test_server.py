"""A real MCP server for the extension tests (the SDK's MCPServer), over stdio or streamable HTTP.

Run as ``python mcp_test_server.py`` for stdio; :func:`build_server` gives the server object for
the HTTP tests, which serve ``server.streamable_http_app()`` with uvicorn on loopback.
"""

from __future__ import annotations

import os
import time

from mcp.server.mcpserver import MCPServer


def build_server() -> MCPServer:
    server = MCPServer("smallcode-test")

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @server.tool()
    def shout(text: str, times: int = 1) -> str:
        """Upper-case text, repeated."""
        return " ".join([text.upper()] * times)

    @server.tool()
    def server_pid() -> int:
        """The server's process id."""
        return os.getpid()

    @server.tool()
    def nap(seconds: float) -> str:
        """Sleep, then answer."""
        time.sleep(seconds)
        return "rested"

    @server.tool()
    def die() -> str:
        """Exit the server process at once."""
        os._exit(3)

    @server.tool()
    def refuse(reason: str) -> str:
        """Always fails with the given reason."""
        raise ValueError(reason)

    @server.tool()
    def whereami() -> str:
        """Working directory and the TEST_TOKEN variable of the server process."""
        return f"{os.getcwd()} {os.environ.get('TEST_TOKEN', '-')}"

    return server


if __name__ == "__main__":
    build_server().run("stdio")
