"""Fixtures: an in-process gateway (uvicorn in the test's event loop) in front of real backends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from smallcode.gateway import BackendConfig, GatewayConfig, GatewayServer, GatewayService


def make_config(backends: list[tuple[str, str, int]], **overrides: Any) -> GatewayConfig:
    """``backends`` = [(name, base_url, slots)]; fast retry settings for tests."""
    fields: dict[str, Any] = {"port": 0, "retry_backoff_s": 0.01, "connect_timeout": 1.0,
                              "read_timeout": 10.0, **overrides}
    fields["backends"] = [BackendConfig(name=n, base_url=u, slots=s) for n, u, s in backends]
    return GatewayConfig(**fields)


@asynccontextmanager
async def running_gateway(config: GatewayConfig) -> AsyncIterator[tuple[GatewayServer, httpx.AsyncClient]]:
    """A listening gateway and an httpx client pointed at its /v1 URL."""
    server = GatewayServer(GatewayService(config), "127.0.0.1", 0)
    server.start()
    await server.wait_started()
    async with httpx.AsyncClient(base_url=server.url, timeout=30.0) as client:
        try:
            yield server, client
        finally:
            await server.stop()


def chat(content: str, **extra: Any) -> dict[str, Any]:
    return {"model": "m", "messages": [{"role": "user", "content": content}], **extra}
