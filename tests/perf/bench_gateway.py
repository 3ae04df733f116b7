"""Gateway benchmarks: overhead per request vs calling the backend directly, and `smallcode run`
start-up to its first model request (attached to a running serve, and cold).

    python tests/perf/bench_gateway.py [--requests 300] [--skip-ray] [--skip-run]

The backend is the scripted loopback server answering at once, so every millisecond above the
direct figures is the gateway's. Figures: p50 / p99 in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import httpx
from smallcode.gateway import BackendConfig, GatewayConfig, GatewayServer, GatewayService

from tests.support.scripted_server import Reply, ScriptedServer

BODY = {"model": "m", "messages": [{"role": "user", "content": "hello"}], "max_tokens": 8}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(fn: Callable[[], object], n: int, warmup: int = 20) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def line(label: str, ms: list[float], base: list[float] | None = None) -> str:
    text = f"{label:<44} p50 {pct(ms, 0.5):7.2f} ms   p99 {pct(ms, 0.99):7.2f} ms"
    if base is not None:
        text += (f"   overhead p50 {pct(ms, 0.5) - pct(base, 0.5):+6.2f} ms"
                 f"   p99 {pct(ms, 0.99) - pct(base, 0.99):+6.2f} ms")
    return text


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class ThreadedGateway:
    """The gateway on its own event loop in a thread (what the actor does, minus Ray)."""

    def __init__(self, config: GatewayConfig):
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self.url = ""
        self._config = config
        self._server: GatewayServer | None = None
        threading.Thread(target=self._run, daemon=True).start()
        self._ready.wait(30)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def start() -> None:
            self._server = GatewayServer(GatewayService(self._config), "127.0.0.1", 0)
            self._server.start()
            await self._server.wait_started()
            self.url = self._server.url
            self._ready.set()

        self._loop.run_until_complete(start())
        self._loop.run_forever()


def stream_ms(client: httpx.Client, url: str) -> Callable[[], object]:
    def go() -> None:
        with client.stream("POST", url + "/chat/completions", json={**BODY, "stream": True}) as r:
            for _ in r.iter_bytes():
                pass
    return go


def fast(server: ScriptedServer) -> ScriptedServer:
    """http.server writes headers and body separately; without TCP_NODELAY every keep-alive
    reply waits ~40 ms for a delayed ACK, which would drown the figures being measured."""
    assert server._server is not None
    server._server.RequestHandlerClass.disable_nagle_algorithm = True  # type: ignore[attr-defined]
    return server


def bench_overhead(n: int, with_ray: bool) -> None:
    with ScriptedServer(default="hi there, this is a short answer") as backend:
        fast(backend)
        config = GatewayConfig(port=0, backends=[BackendConfig(name="b", base_url=backend.base_url,
                                                               slots=8)])
        gateway = ThreadedGateway(config)
        with httpx.Client(timeout=30) as client:
            def post(url: str) -> Callable[[], object]:
                return lambda: client.post(url + "/chat/completions", json=BODY).raise_for_status()

            direct = timed(post(backend.base_url), n)
            via = timed(post(gateway.url), n)
            direct_s = timed(stream_ms(client, backend.base_url), n // 2)
            via_s = timed(stream_ms(client, gateway.url), n // 2)
        print(f"gateway overhead, {n} sequential requests, scripted backend on loopback")
        print(line("direct to backend (JSON)", direct))
        print(line("via gateway in-process thread (JSON)", via, direct))
        print(line("direct to backend (SSE stream)", direct_s))
        print(line("via gateway in-process thread (SSE stream)", via_s, direct_s))
        if not with_ray:
            return
        import ray
        from smallcode.actors import runtime

        t = time.perf_counter()
        runtime.connect(None, num_cpus=2, namespace="smallcode-bench")
        config = config.model_copy(update={"port": free_port()})
        handle, url = runtime.start_gateway(config, namespace="smallcode-bench")
        started = time.perf_counter() - t
        try:
            with httpx.Client(timeout=30) as client:
                actor_via = timed(lambda: client.post(url + "/chat/completions",
                                                      json=BODY).raise_for_status(), n)
            rpc = timed(lambda: ray.get(handle.pid.remote()), n)
        finally:
            runtime.stop("smallcode-bench")
            ray.shutdown()
        print(line("via gateway Ray actor, uvicorn in actor (JSON)", actor_via, direct))
        print(line("one Ray actor call (a Ray Serve proxy->replica hop)", rpc))
        print(f"Ray start + gateway actor ready: {started:.2f} s")


def bench_run_startup(repeats: int) -> None:
    """`smallcode run` launch -> first chat request at the backend, attached and cold."""
    arrivals: list[float] = []

    def reply(body: dict) -> Reply:
        arrivals.append(time.time())
        return Reply(content="Done.")

    repo = Path(tempfile.mkdtemp(prefix="bench-run-"))
    (repo / "app.py").write_text("print('hi')\n")
    env = {**os.environ, "SMALLCODE_CACHE_DIR": str(repo / ".cache"),
           "XDG_CONFIG_HOME": str(repo / ".config")}
    with ScriptedServer(default=reply) as backend:
        fast(backend)
        config = GatewayConfig(port=0, backends=[BackendConfig(name="b", base_url=backend.base_url,
                                                               slots=4)])
        gateway = ThreadedGateway(config)
        results: dict[str, list[float]] = {"attached to a running serve": [], "cold (no serve)": []}
        for _ in range(repeats):
            for label, extra in (("attached to a running serve", ["--server", gateway.url]),
                                 ("cold (no serve)", ["--base-url", backend.base_url])):
                arrivals.clear()
                t0 = time.time()
                subprocess.run([sys.executable, "-m", "smallcode.cli.main", "-C", str(repo), "run",
                                "--json", "--yes", "what does app.py print?", *extra],
                               env=env, capture_output=True, timeout=120, check=False)
                if arrivals:
                    results[label].append((arrivals[0] - t0) * 1000)
    print(f"`smallcode run` launch -> first model request ({repeats} runs each)")
    for label, ms in results.items():
        if ms:
            print(f"  {label:<30} median {statistics.median(ms) / 1000:5.2f} s   "
                  f"max {max(ms) / 1000:5.2f} s")
        else:
            print(f"  {label:<30} no model request arrived (run failed before calling the model)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--skip-ray", action="store_true")
    parser.add_argument("--skip-run", action="store_true")
    parser.add_argument("--run-repeats", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    bench_overhead(args.requests, not args.skip_ray)
    if not args.skip_run:
        bench_run_startup(args.run_repeats)


if __name__ == "__main__":
    main()
