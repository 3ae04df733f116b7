"""The gateway's real /metrics endpoint shows the metrics other actors push into the hub."""

from __future__ import annotations

import httpx
from smallcode.core.events import RouteEvent, ToolResultEvent, UsageEvent
from smallcode.core.observability import AgentMetrics, MetricsHub, attach_hub
from smallcode.gateway.config import GatewayConfig
from smallcode.gateway.server import GatewayServer
from smallcode.gateway.service import GatewayService


async def test_gateway_metrics_endpoint_merges_pushed_worker_metrics() -> None:
    service = GatewayService(GatewayConfig.parse(
        {"backends": [{"name": "llama", "base_url": "http://127.0.0.1:9/v1", "slots": 2}]}))
    hub = MetricsHub()
    attach_hub(service.metrics, hub)
    worker, run = AgentMetrics(), AgentMetrics()
    worker(RouteEvent(category="edit", tools=["patch"]))
    worker(UsageEvent(prompt_tokens=1200, completion_tokens=30, cached_tokens=1000,
                      context_window=16384))
    run(ToolResultEvent(call_id="x", name="shell", ok=False, output="exit 1"))
    hub.push("step-worker-0", worker.render())
    hub.push("run-4711", run.render())
    server = GatewayServer(service, "127.0.0.1", 0)
    server.start()
    try:
        await server.wait_started()
        async with httpx.AsyncClient() as client:
            resp = await client.get(f"http://127.0.0.1:{server.port}/metrics")
    finally:
        await server.stop()
        await service.aclose()
    assert resp.status_code == 200
    lines = resp.text.splitlines()
    assert 'smallcode_gateway_backend_slots{backend="llama"} 2' in lines  # the gateway's own
    assert 'smallcode_routes_total{actor="step-worker-0",category="edit"} 1' in lines
    assert 'smallcode_model_cached_prompt_tokens_total{actor="step-worker-0"} 1000' in lines
    assert 'smallcode_tool_calls_total{actor="run-4711",tool="shell",outcome="failed"} 1' in lines
    assert 'smallcode_model_context_fill_ratio{actor="step-worker-0"} 0.0732' in lines
