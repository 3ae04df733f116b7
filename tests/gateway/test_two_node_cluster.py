"""serve's actors placed on, and reachable across, two Ray nodes (run in a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.ray

SCRIPT = Path(__file__).with_name("two_node_cluster_check.py")


def test_actors_are_placed_and_reachable_across_two_nodes(tmp_path):
    env_cache = {"SMALLCODE_CACHE_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True,
                          timeout=240, env={**os.environ, **env_cache}, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(report["alive_nodes"]) == 2
    actors = report["actors"]
    assert set(actors) == {"serve/gateway", "serve/gateway-2", "serve/probe/demo"}
    assert all(a["state"] == "alive" for a in actors.values())
    head, worker = actors["serve/gateway"]["node_id"], actors["serve/gateway-2"]["node_id"]
    assert head != worker and {head, worker} == set(report["alive_nodes"])
    assert actors["serve/probe/demo"]["node_id"] == worker
    assert report["replies"] == {"serve/gateway": [200, "via serve/gateway"],
                                 "serve/gateway-2": [200, "via serve/gateway-2"]}
    assert sorted(report["stopped"]) == ["serve/gateway", "serve/gateway-2", "serve/probe/demo"]
