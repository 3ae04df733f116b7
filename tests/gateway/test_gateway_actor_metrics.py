"""The gateway actor's /metrics includes what other processes push (step workers, runs)."""

from __future__ import annotations

import httpx
import pytest
from smallcode.core.observability.metrics import AgentMetrics

from tests.support.scripted_server import ScriptedServer

pytestmark = pytest.mark.ray


def test_pushed_worker_metrics_appear_on_the_gateway_metrics_endpoint(ray_session) -> None:
    from smallcode.actors.runtime import start_gateway

    with ScriptedServer(default="ok") as backend:
        config = {"host": "127.0.0.1", "port": 0,
                  "backends": [{"name": "b1", "base_url": backend.base_url, "slots": 2}]}
        handle, url = start_gateway(config, name="serve/gateway-metrics-test")
        try:
            worker = AgentMetrics()
            worker.record_undo()
            ray_session.get(handle.push_metrics.remote("step-worker-0", worker.render()))
            text = httpx.get(url.removesuffix("/v1") + "/metrics", timeout=10).text
            assert 'actor="step-worker-0"' in text
        finally:
            ray_session.kill(handle)
