"""The actor runtime: named detached actors, supervision, status, stop, and the gateway actor.

Uses the session's Ray instance and a namespace of its own so ``stop`` here cannot touch
anybody else's actors.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import time
import uuid

import httpx
import pytest
from smallcode.actors import runtime
from smallcode.gateway import BackendConfig, GatewayConfig

from tests.gateway.slow_backend import SlowBackend
from tests.support.scripted_server import ScriptedServer

pytestmark = pytest.mark.ray

NS = f"smallcode-test-{uuid.uuid4().hex[:8]}"


class Counter:
    def __init__(self, start: int):
        self.n = start

    def bump(self) -> int:
        self.n += 1
        return self.n


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _gateway_config(base_url: str) -> GatewayConfig:
    return GatewayConfig(port=_free_port(), retry_backoff_s=0.01, read_timeout=10,
                         backends=[BackendConfig(name="b", base_url=base_url, slots=2)])


def _wait_healthy(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if runtime.gateway_healthy(url, timeout=0.5):
            return
        time.sleep(0.2)
    raise AssertionError(f"gateway at {url} did not come back within {timeout} s")


def test_get_or_create_finds_the_same_named_detached_actor(ray_session):
    ray = ray_session
    first = runtime.get_or_create("serve/counter", Counter, 10, namespace=NS, num_cpus=0)
    assert ray.get(first.bump.remote()) == 11
    again = runtime.get_or_create("serve/counter", Counter, 99, namespace=NS, num_cpus=0)
    assert again._actor_id == first._actor_id
    assert ray.get(again.bump.remote()) == 12  # same state: the second constructor never ran
    plain = runtime.get_or_create("someone-else", Counter, 0, namespace=NS, num_cpus=0)
    ray.get(plain.bump.remote())
    assert runtime.serve_actor_names(NS) == ["serve/counter"]
    assert runtime.stop(NS) == ["serve/counter"]
    assert runtime.get_actor("serve/counter", NS) is None
    assert runtime.get_actor("someone-else", NS) is not None  # not serve's: left alone
    ray.kill(plain)


def _call_through_restart(method, timeout: float = 60.0):
    """Ray can still report the actor as restarting after its HTTP server answers again."""
    import time

    import ray

    deadline = time.monotonic() + timeout
    while True:
        try:
            return ray.get(method.remote(), timeout=timeout)
        except ray.exceptions.ActorUnavailableError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_gateway_actor_serves_reports_status_and_survives_kill_minus_9(ray_session, tmp_path,
                                                                        monkeypatch):
    ray = ray_session
    monkeypatch.setenv("SMALLCODE_CACHE_DIR", str(tmp_path))
    with SlowBackend(chunks=60, interval=0.1) as backend:
        handle, url = runtime.start_gateway(_gateway_config(backend.base_url), namespace=NS)
        try:
            assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
            runtime.write_serve_state(url, ray_address=None, namespace=NS,
                                      actors=runtime.serve_actor_names(NS))
            assert runtime.find_running_serve() == url

            info = runtime.status(NS)
            assert [a["name"] for a in info["actors"]] == ["serve/gateway"]
            assert info["actors"][0]["state"] == "alive" and info["actors"][0]["url"] == url
            assert info["gateway"]["backends"]["b"]["slots"] == 2
            assert any(n["alive"] for n in info["nodes"])

            old_pid = ray.get(handle.pid.remote())
            body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "k"}]}
            started = time.monotonic()
            with pytest.raises(httpx.HTTPError) as broken, httpx.stream(
                    "POST", url + "/chat/completions", json=body, timeout=10) as r:
                assert r.status_code == 200
                for i, _ in enumerate(r.iter_lines()):
                    if i == 2:  # mid-stream
                        os.kill(old_pid, signal.SIGKILL)
            assert isinstance(broken.value, httpx.RemoteProtocolError | httpx.ReadError)
            assert time.monotonic() - started < 8  # a clear error, not a hung client

            _wait_healthy(url)
            assert _call_through_restart(handle.pid) != old_pid
            r = httpx.post(url + "/chat/completions", timeout=10,
                           json={"model": "m", "messages": [{"role": "user", "content": "after"}]})
            assert r.status_code == 200
            assert r.json()["choices"][0]["message"]["content"] == "after"
        finally:
            removed = runtime.stop(NS)
    assert removed == ["serve/gateway"]
    assert runtime.read_serve_state() is None
    assert runtime.find_running_serve() is None


def test_find_running_serve_ignores_a_stale_state_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SMALLCODE_CACHE_DIR", str(tmp_path))
    assert runtime.find_running_serve() is None
    runtime.write_serve_state(f"http://127.0.0.1:{_free_port()}/v1", ray_address=None)
    assert runtime.find_running_serve() is None
    with ScriptedServer() as live:
        runtime.write_serve_state(live.base_url, ray_address=None)
        assert runtime.find_running_serve() == live.base_url


def test_serve_hosts_the_project_indexer_and_stop_removes_it(ray_session, tmp_path):
    ray = ray_session
    pytest.importorskip("smallcode.actors.indexer")
    from smallcode.actors.indexer import indexer_name

    project = tmp_path / "proj"
    project.mkdir()
    (project / "calc.py").write_text("def add(a, b):\n    return a + b\n\n\ndef twice(x):\n"
                                     "    return add(x, x)\n")
    hosted = runtime.host_project_actors(project, namespace=NS)
    assert hosted["indexer"] == indexer_name(project)  # the name the graph tools look up
    handle = runtime.get_actor(hosted["indexer"], NS)
    stats = ray.get(handle.ready.remote(60), timeout=90)
    assert stats["started"] and not stats["initial_error"]
    assert "add" in ray.get(handle.explain.remote("add"), timeout=30)
    assert hosted["indexer"] in runtime.serve_actor_names(NS)
    removed = runtime.stop(NS)
    assert hosted["indexer"] in removed and "serve/registry" in removed
    assert runtime.get_actor(hosted["indexer"], NS) is None
    again = runtime.host_project_actors(project, namespace=NS)  # idempotent restart
    assert again["indexer"] == hosted["indexer"]
    runtime.stop(NS)
    with pytest.raises(runtime.ServeRuntimeError, match="not a folder"):
        runtime.host_project_actors(tmp_path / "missing", namespace=NS)


def test_detached_serve_on_an_existing_cluster_outlives_the_command_and_stop_removes_it(
        ray_session, tmp_path):
    import subprocess
    import sys

    address = ray_session.get_runtime_context().gcs_address
    env = {**os.environ, "SMALLCODE_CACHE_DIR": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    port = _free_port()
    with ScriptedServer(default="still here") as backend:
        started = subprocess.run(
            [sys.executable, "-m", "smallcode.cli.main", "serve", "--address", address, "--detach",
             "--backend", backend.base_url, "--port", str(port), "--json"],
            env=env, capture_output=True, text=True, timeout=120, check=False)
        assert started.returncode == 0, started.stderr[-2000:]
        url = json.loads(started.stdout)["url"]
        assert url == f"http://127.0.0.1:{port}/v1"
        # the command has exited; the detached gateway keeps answering
        r = httpx.post(url + "/chat/completions", timeout=10,
                       json={"messages": [{"role": "user", "content": "x"}]})
        assert r.json()["choices"][0]["message"]["content"] == "still here"
        assert "serve/gateway" in runtime.serve_actor_names()
        stopped = subprocess.run([sys.executable, "-m", "smallcode.cli.main", "stop"], env=env,
                                 capture_output=True, text=True, timeout=120, check=False)
    assert stopped.returncode == 0 and "serve/gateway" in stopped.stdout, stopped.stderr[-2000:]
    assert "serve/gateway" not in runtime.serve_actor_names()
    assert not runtime.gateway_healthy(url)
