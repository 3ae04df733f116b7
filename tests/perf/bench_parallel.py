"""Benchmark: the parallel plan executor against a model server with a fixed latency and S slots.

A plan of N independent single-file steps, each step two model turns (write the file, finish).
Prints the sequential wall time, the parallel wall time and the ideal (N·turns/S·latency), for
in-process step runners and for Ray step workers. Goal: parallel ≤ 1.15 × ideal.

    python tests/perf/bench_parallel.py [--steps 8] [--slots 4] [--latency 1.0] [--no-ray]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from smallcode.core.config import Settings
from smallcode.core.model.client import OpenAIChatClient
from smallcode.core.plan.depgraph import DependencyGraph
from smallcode.core.plan.executor import InProcessStepRunner, PlanExecutor, StepRunner
from smallcode.core.plan.tracker import PlanTracker

from tests.plan.scripted_steps import StepScript, finish, write
from tests.support.scripted_server import ScriptedServer

TURNS = 2


def settings(parallel: bool) -> Settings:
    s = Settings()
    s.agent.permission_mode = "yolo"
    s.agent.parallel = parallel
    s.agent.max_turns = 4
    s.model.detect_local = False
    return s


async def one_run(n: int, slots: int, latency: float, pool: StepRunner | None, parallel: bool
                  ) -> tuple[float, bool, int]:
    """One plan run; ``pool`` = Ray step workers, None = in-process runners on one client."""
    root = Path(tempfile.mkdtemp(prefix="bench-parallel-"))
    steps = [f"Create `mod_{i}.py` with a constant" for i in range(1, n + 1)]
    script = StepScript({i: [write(f"mod_{i}.py", f"VALUE = {i}\n"), finish(f"mod_{i} done")]
                         for i in range(1, n + 1)})
    with ScriptedServer(default=script, latency=latency, slots=slots) as srv:
        client = OpenAIChatClient(srv.base_url, max_retries=0)
        await client.discover()
        runner: StepRunner = pool if pool is not None else InProcessStepRunner(client)
        ex = PlanExecutor(PlanTracker(root, steps), DependencyGraph(steps), root, runner,
                          settings=settings(parallel), base_url=srv.base_url, retries=0)
        started = time.monotonic()
        report = await ex.run(lambda ev: None)
        wall = time.monotonic() - started
        await client.aclose()
        ok = report.ok and all((root / f"mod_{i}.py").read_text() == f"VALUE = {i}\n"
                               for i in range(1, n + 1))
        return wall, ok, srv.max_concurrent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--slots", type=int, default=4)
    ap.add_argument("--latency", type=float, default=1.0)
    ap.add_argument("--no-ray", action="store_true")
    ap.add_argument("--no-sequential", action="store_true")
    args = ap.parse_args()
    n, s, lat = args.steps, args.slots, args.latency
    ideal = n * TURNS / s * lat
    ideal_rounded = math.ceil(n / s) * TURNS * lat  # whole waves of S steps
    print(f"plan: {n} independent single-file steps, {TURNS} turns each; server: {s} slots, "
          f"{lat:.2f}s per request")
    print(f"ideal parallel (N·turns/S·latency): {ideal:.2f}s  (sequential ideal "
          f"{n * TURNS * lat:.2f}s)")
    import smallcode.core.agent  # noqa: F401
    from smallcode.core.tools import build_registry

    build_registry()  # warm: the agent stack's imports are not part of a plan's wall time
    kinds = ["inprocess"] + ([] if args.no_ray else ["ray"])
    for kind in kinds:
        pool = None
        if kind == "ray":
            from smallcode.actors.runtime import connect
            from smallcode.actors.step_worker import RayStepRunner

            connect(num_cpus=2, namespace="smallcode-bench")
            pool = RayStepRunner(s, namespace="smallcode-bench")
            t0 = time.monotonic()
            asyncio.run(pool.warm())
            print(f"[ray] {s} step workers started in {time.monotonic() - t0:.2f}s")
        try:
            if not args.no_sequential:
                wall, ok, peak = asyncio.run(one_run(n, s, lat, pool, parallel=False))
                print(f"[{kind}] sequential: {wall:6.2f}s  ok={ok} peak concurrency={peak}")
            wall, ok, peak = asyncio.run(one_run(n, s, lat, pool, parallel=True))
            print(f"[{kind}] parallel:   {wall:6.2f}s  ok={ok} peak concurrency={peak}  "
                  f"= {wall / ideal:.3f} × ideal (goal ≤ 1.15)"
                  + ("" if ideal == ideal_rounded else f"; {wall / ideal_rounded:.3f} × "
                     f"whole-wave ideal {ideal_rounded:.2f}s"))
        finally:
            if pool is not None:
                pool.shutdown()


if __name__ == "__main__":
    main()
