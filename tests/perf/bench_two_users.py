"""Benchmark: two users' plans at once on one pool of Ray step workers and one model server.

Each user runs a plan of N independent single-file steps (two model turns each: write, finish)
through its own ``RayStepRunner`` (as two `smallcode run` processes attached to one serve do),
both on the same named step workers, against a scripted server with S slots and a fixed latency.
Prints each user's wall time, the joint wall time against the ideal (2·N·turns/S·latency), and
the fairness of the share: the ratio of the two users' wall times (1.0 = equal) and Jain's index
of their step throughputs (1.0 = perfectly fair, 0.5 = one user got everything).

    python tests/perf/bench_two_users.py [--steps 4] [--slots 4] [--workers 4] [--latency 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from smallcode.core.plan.depgraph import DependencyGraph
from smallcode.core.plan.executor import PlanExecutor
from smallcode.core.plan.tracker import PlanTracker

from tests.perf.bench_parallel import TURNS, settings
from tests.plan.scripted_steps import StepScript, finish, write
from tests.support.scripted_server import ScriptedServer

USERS = ("alice", "bob")


def scripts(n: int) -> dict[str, StepScript]:
    return {u: StepScript({i: [write(f"{u}_mod_{i}.py", f"VALUE = {i}\n"),
                               finish(f"{u} {i} done")] for i in range(1, n + 1)})
            for u in USERS}


async def user_plan(user: str, n: int, runner: Any, base_url: str) -> tuple[float, bool]:
    root = Path(tempfile.mkdtemp(prefix=f"bench-{user}-"))
    steps = [f"Create `{user}_mod_{i}.py` with a constant" for i in range(1, n + 1)]
    ex = PlanExecutor(PlanTracker(root, steps), DependencyGraph(steps), root, runner,
                      settings=settings(True), base_url=base_url, retries=0)
    started = time.monotonic()
    report = await ex.run(lambda ev: None)
    wall = time.monotonic() - started
    ok = report.ok and all((root / f"{user}_mod_{i}.py").exists() for i in range(1, n + 1))
    return wall, ok


def jain(values: list[float]) -> float:
    return sum(values) ** 2 / (len(values) * sum(v * v for v in values))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=4, help="steps per user")
    ap.add_argument("--slots", type=int, default=4)
    ap.add_argument("--workers", type=int, default=4, help="step workers in the shared pool")
    ap.add_argument("--latency", type=float, default=1.0)
    args = ap.parse_args()
    n, s, lat = args.steps, args.slots, args.latency
    from smallcode.actors.runtime import connect
    from smallcode.actors.step_worker import RayStepRunner

    connect(num_cpus=2, namespace="smallcode-bench")
    runners = {u: RayStepRunner(args.workers, namespace="smallcode-bench") for u in USERS}
    t0 = time.monotonic()
    asyncio.run(runners[USERS[0]].warm())
    print(f"{args.workers} shared step workers started in {time.monotonic() - t0:.2f}s")
    by_user = scripts(n)

    def reply(body: dict[str, Any]) -> Any:
        text = str(body.get("messages"))
        return next((by_user[u](body) for u in USERS if f"{u}_mod_" in text), finish())

    ideal = 2 * n * TURNS / min(s, args.workers) * lat
    print(f"2 users × {n} independent steps, {TURNS} turns each; server {s} slots, "
          f"{lat:.2f}s per request; ideal joint wall {ideal:.2f}s")
    with ScriptedServer(default=reply, latency=lat, slots=s) as srv:
        async def both() -> list[tuple[float, bool]]:
            return list(await asyncio.gather(*(user_plan(u, n, runners[u], srv.base_url)
                                               for u in USERS)))
        started = time.monotonic()
        results = asyncio.run(both())
        joint = time.monotonic() - started
        peak = srv.max_concurrent
    try:
        for u, (wall, ok) in zip(USERS, results):
            print(f"{u}: {wall:6.2f}s  ok={ok}  throughput {n / wall:.2f} steps/s")
        walls = [w for w, _ in results]
        print(f"joint wall {joint:.2f}s = {joint / ideal:.3f} × ideal; peak server concurrency "
              f"{peak}")
        print(f"fairness: wall ratio {min(walls) / max(walls):.3f} (1.0 = equal), Jain's index "
              f"{jain([n / w for w in walls]):.3f}")
    finally:
        runners[USERS[0]].shutdown()


if __name__ == "__main__":
    main()
