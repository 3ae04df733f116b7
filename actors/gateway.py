"""The model gateway as a Ray actor: uvicorn serving the gateway app inside the actor's event loop.

Started in ``__init__``, so when Ray restarts the actor after a crash (``max_restarts``) the new
process binds the same host and port and clients carry on with the same URL.
"""

from __future__ import annotations

import os
import socket
from typing import Any

from smallcode.gateway.config import GatewayConfig
from smallcode.gateway.server import GatewayServer
from smallcode.gateway.service import GatewayService


def _node_ip() -> str | None:
    try:
        import ray

        return ray.util.get_node_ip_address()
    except Exception:  # noqa: BLE001 - outside Ray
        return None


def _node_id() -> str | None:
    try:
        import ray

        return ray.get_runtime_context().get_node_id()
    except Exception:  # noqa: BLE001 - outside Ray (a plain in-process use) there is no node
        return None


class GatewayActor:
    """Hosts :class:`GatewayServer`; create it through ``runtime.get_or_create`` (async actor)."""

    def __init__(self, config: GatewayConfig | dict[str, Any]):
        if isinstance(config, dict):
            config = GatewayConfig.parse(config)
        self._config = config
        self._service = GatewayService(config)
        from smallcode.core.observability.metrics import MetricsHub, attach_hub

        self._hub = MetricsHub()  # other processes' metrics (step workers, runs) join /metrics
        attach_hub(self._service.metrics, self._hub)
        wildcard = config.host in ("0.0.0.0", "::", "")
        self._server = GatewayServer(self._service, config.host or "0.0.0.0", config.port,
                                     extra_status=self._identity,
                                     advertise_host=_node_ip() if wildcard else None)
        self._server.start()

    def _identity(self) -> dict[str, Any]:
        return {"pid": os.getpid(), "node_id": _node_id(), "hostname": socket.gethostname(),
                "url": self._server.url}

    async def url(self) -> str:
        """The gateway's base URL once it is listening."""
        await self._server.wait_started()
        return self._server.url

    def pid(self) -> int:
        return os.getpid()

    async def describe(self) -> dict[str, Any]:
        await self._server.wait_started()
        return {"kind": "gateway", **self._identity()}

    async def status(self) -> dict[str, Any]:
        return {**self._service.status(), **self._identity()}

    async def metrics(self) -> str:
        return self._service.metrics.render()

    async def push_metrics(self, source: str, text: str) -> None:
        """A worker's whole registry text; the latest push per source is kept."""
        self._hub.push(source, text)

    async def shutdown(self) -> None:
        """Stop listening (the actor itself is removed by ``runtime.stop``)."""
        await self._server.stop()
