"""`smallcode serve` / `status` / `stop` / `token` as a user runs them: real processes, real Ray."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import httpx
import pytest

from tests.support.scripted_server import ScriptedServer

pytestmark = pytest.mark.ray


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _smallcode(*args: str, env: dict[str, str], timeout: float = 90) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "smallcode.cli.main", *args], env=env, check=False,
                          capture_output=True, text=True, timeout=timeout)


def test_serve_status_token_and_stop_round_trip(tmp_path, monkeypatch):
    env = {**os.environ, "SMALLCODE_CACHE_DIR": str(tmp_path / "cache"),
           "XDG_CONFIG_HOME": str(tmp_path / "config")}
    monkeypatch.setenv("SMALLCODE_CACHE_DIR", env["SMALLCODE_CACHE_DIR"])
    port = _free_port()
    log = tmp_path / "serve.log"
    with ScriptedServer(default="pong") as backend, log.open("w") as log_file:
        serve = subprocess.Popen(
            [sys.executable, "-m", "smallcode.cli.main", "-C", str(tmp_path), "serve",
             "--backend", f"llama={backend.base_url},slots=2", "--port", str(port),
             "--num-cpus", "1", "--json"],
            env=env, stdout=subprocess.PIPE, stderr=log_file, text=True)
        try:
            line = serve.stdout.readline()
            assert line, f"serve exited early: {log.read_text()[-2000:]}"
            summary = json.loads(line)
            url = f"http://127.0.0.1:{port}/v1"
            assert summary["url"] == url
            assert summary["actors"] == ["serve/gateway"] and summary["backends"] == ["llama"]

            from smallcode.actors.runtime import find_running_serve

            assert find_running_serve() == url

            status = _smallcode("status", "--json", env=env)
            assert status.returncode == 0, status.stderr[-2000:]
            data = json.loads(status.stdout)
            assert data["running"] is True and data["url"] == url
            assert [(a["name"], a["state"]) for a in data["actors"]] == [("serve/gateway", "alive")]
            assert len([n for n in data["nodes"] if n["alive"]]) == 1
            assert data["gateway"]["backends"]["llama"]["slots"] == 2

            r = httpx.post(url + "/chat/completions", timeout=10,
                           json={"messages": [{"role": "user", "content": "ping"}]})
            assert r.json()["choices"][0]["message"]["content"] == "pong"

            added = _smallcode("token", "add", "alice", env=env)
            token = added.stdout.strip()
            assert added.returncode == 0 and token.startswith("sc-")
            tokens_file = tmp_path / "cache" / "gateway_tokens.json"
            assert token not in tokens_file.read_text()
            r = httpx.post(url + "/chat/completions", timeout=10,
                           headers={"Authorization": f"Bearer {token}"},
                           json={"messages": [{"role": "user", "content": "ping"}]})
            assert r.status_code == 200
            metrics = httpx.get(url.removesuffix("/v1") + "/metrics").text
            assert 'smallcode_gateway_requests_total{user="alice",backend="llama",status="200"} 1' in metrics

            again = _smallcode("serve", "--backend", backend.base_url, "--port", str(_free_port()),
                               env=env)
            assert again.returncode == 1 and "already running" in again.stderr

            stopped = _smallcode("stop", env=env)
            assert stopped.returncode == 0, (stopped.stderr, log.read_text()[-2000:])
            assert "serve/gateway" in stopped.stdout
            assert serve.wait(timeout=60) == 0
        finally:
            if serve.poll() is None:
                serve.kill()
                serve.wait()
    assert find_running_serve() is None
    assert not (tmp_path / "cache" / "serve.json").exists()
    assert _smallcode("status", env=env).returncode == 1
