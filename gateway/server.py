"""Run the gateway's ASGI app with uvicorn inside the current asyncio event loop.

The listening socket is bound up front (with ``SO_REUSEADDR``) so a port conflict is reported at
once, and a restarted process can take the same port back immediately.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator
from typing import Any

import uvicorn

from .app import build_app
from .service import GatewayService


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0 = any free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose proto
    # says TCP; without it every reply waits ~40 ms for a delayed ACK
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(exc.errno, f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    sock.setblocking(False)
    return sock


class _QuietServer(uvicorn.Server):
    """uvicorn without its signal handlers: the host process (a Ray worker, a test, serve)
    owns SIGINT/SIGTERM; the gateway stops through :meth:`GatewayServer.stop`."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class GatewayServer:
    """uvicorn serving :func:`build_app` on a pre-bound socket, as a task of the running loop."""

    def __init__(self, service: GatewayService, host: str = "127.0.0.1", port: int = 0,
                 *, extra_status: Any = None, log_level: str = "warning",
                 advertise_host: str | None = None):
        self.service = service
        self.host = host
        self.advertise_host = advertise_host
        self._socket = bind_socket(host, port)
        self.port: int = self._socket.getsockname()[1]
        app = build_app(service, extra_status=extra_status)
        config = uvicorn.Config(app, lifespan="off", log_level=log_level, access_log=False,
                                timeout_keep_alive=30, log_config=None)
        self._server = _QuietServer(config)
        self._task: asyncio.Task[None] | None = None
        logging.getLogger("uvicorn.error").setLevel(log_level.upper())

    @property
    def url(self) -> str:
        """The base URL clients use (``http://HOST:PORT/v1``)."""
        host = self.advertise_host or self.host
        if host in ("0.0.0.0", "::"):
            host = socket.gethostbyname(socket.gethostname()) if host == "0.0.0.0" else "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}/v1"

    def start(self) -> asyncio.Task[None]:
        """Start serving on the running loop; returns the serving task."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._server.serve(sockets=[self._socket]))
        return self._task

    async def wait_started(self, timeout: float = 10.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not self._server.started:
            if self._task is not None and self._task.done():
                self._task.result()
                raise RuntimeError("the gateway server stopped during start-up")
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("the gateway server did not start in time")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=5.0)
            except (TimeoutError, asyncio.CancelledError):
                self._task.cancel()
        self._socket.close()
        await self.service.aclose()
