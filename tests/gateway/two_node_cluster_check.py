"""Builds a two-node Ray cluster on this machine, places serve's actors on both nodes, and reports.

Run as a script (it owns its own Ray cluster, so it cannot share the test session's):
``python tests/gateway/two_node_cluster_check.py`` prints one JSON report on its last line.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import httpx
import ray
from ray.cluster_utils import Cluster
from smallcode.actors import runtime
from smallcode.gateway import BackendConfig, GatewayConfig

from tests.support.scripted_server import Reply, ScriptedServer


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class ProjectProbe:
    """Stands in for a per-project actor (indexer/memory): reports where it runs."""

    def __init__(self, project: str):
        self.project = project

    def describe(self) -> dict:
        return {"kind": "probe", "project": self.project, "pid": os.getpid(),
                "node_id": ray.get_runtime_context().get_node_id()}


def main() -> dict:
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 1, "resources": {"head_node": 1}, "include_dashboard": False})
    cluster.add_node(num_cpus=1, resources={"worker_node": 1})
    cluster.wait_for_nodes()
    report: dict = {}
    try:
        runtime.connect(cluster.address)
        with ScriptedServer(default=lambda body: Reply(content=body["messages"][-1]["content"])
                            ) as backend:
            urls = {}
            for name, resource in (("serve/gateway", "head_node"), ("serve/gateway-2", "worker_node")):
                config = GatewayConfig(port=_free_port(), retry_backoff_s=0.01, backends=[
                    BackendConfig(name="scripted", base_url=backend.base_url, slots=2)])
                _, urls[name] = runtime.start_gateway(config, name=name, resources={resource: 0.01})
            probe = runtime.get_or_create("serve/probe/demo", ProjectProbe, "/demo",
                                          num_cpus=0, resources={"worker_node": 0.01})
            ray.get(probe.describe.remote(), timeout=60)
            replies = {}
            for name, url in urls.items():
                r = httpx.post(url + "/chat/completions", timeout=30,
                               json={"messages": [{"role": "user", "content": f"via {name}"}]})
                replies[name] = [r.status_code, r.json()["choices"][0]["message"]["content"]]
            info = runtime.status()
            report = {
                "alive_nodes": sorted(n["node_id"] for n in info["nodes"] if n["alive"]),
                "actors": {a["name"]: {"state": a["state"], "node_id": a.get("node_id")}
                           for a in info["actors"]},
                "replies": replies,
                "stopped": runtime.stop(),
            }
    finally:
        ray.shutdown()
        cluster.shutdown()
    return report


if __name__ == "__main__":
    print(json.dumps(main()), flush=True)
