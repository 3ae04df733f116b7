"""Overhead of structured logging + metrics + token accounting on a 50-turn scripted run.

A real :class:`Agent` talks to the scripted loopback server (no model latency): 49 turns that
read a different file (or write a note, every 4th), then ``finish``. The same run is timed with a bare sink and with
``RunObservability.wrap`` (JSON log on disk with redaction, metrics, ledger); runs alternate to
cancel drift. Two figures: the wall-time difference of the medians, and the time measured inside
the observability sinks themselves as a share of the observed run's wall time (the direct cost,
insensitive to noise). Target: ≤ 2 %.

Run: ``python tests/perf/bench_observability.py [--rounds 5] [--turns 50]``
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from smallcode.core.agent import Agent
from smallcode.core.config import Settings
from smallcode.core.events import Event
from smallcode.core.model.client import OpenAIChatClient
from smallcode.core.observability import RunObservability
from smallcode.core.tools import build_registry
from smallcode.core.tools.workspace import Workspace

from tests.support.scripted_server import Reply, ScriptedServer, tool_call


def script(turns: int, tag: str) -> list[Reply]:
    replies = []
    for i in range(turns - 1):  # reads, with a note written every 4th turn (as a real task does)
        note = {"path": f"notes/{tag}/n_{i:02d}.txt", "content": f"note {i}\n"}
        read = {"path": f"pkg/mod_{i:02d}.py"}
        call = tool_call("write_file", note) if i % 4 == 3 else tool_call("read_file", read)
        replies.append(Reply(tool_calls=[call],
                             usage={"prompt_tokens": 2000 + 40 * i, "completion_tokens": 25,
                                    "prompt_tokens_details": {"cached_tokens": 1800 + 40 * i}}))
    replies.append(Reply(tool_calls=[tool_call("finish", {"summary": "read everything"})]))
    return replies


def make_project(root: Path, turns: int) -> None:
    (root / "pkg").mkdir(parents=True, exist_ok=True)
    for i in range(turns):
        body = "\n".join(f"def f_{i}_{k}(x):\n    return x + {k}\n" for k in range(20))
        (root / "pkg" / f"mod_{i:02d}.py").write_text(body)


class TimedSink:
    """Wraps a sink and adds up the time spent inside it."""

    def __init__(self, sink: Any):
        self.sink = sink
        self.seconds = 0.0
        self.events = 0

    def __call__(self, ev: Event) -> Any:
        t0 = time.perf_counter()
        result = self.sink(ev)
        self.seconds += time.perf_counter() - t0
        self.events += 1
        return result


async def one_run(root: Path, turns: int, observed: bool, session: str
                  ) -> tuple[float, float, float, int]:
    s = Settings()
    s.agent.permission_mode = "yolo"  # type: ignore[assignment]
    s.agent.max_turns = turns + 5
    s.agent.max_tool_calls = turns + 5
    s.agent.prefetch_context = False
    s.agent.two_stage_routing = "off"
    s.model.detect_local = False
    with ScriptedServer(script(turns, session)) as srv:
        client = OpenAIChatClient(srv.base_url, max_retries=0)
        agent = Agent(client, build_registry(s), Workspace(root), s, session_id=session)
        obs = RunObservability.open(root, session) if observed else None
        sink = TimedSink(obs.wrap(lambda ev: None) if obs else (lambda ev: None))
        try:
            c0 = time.process_time()
            t0 = time.perf_counter()
            done = await agent.run("read every module and write a note on each", sink)
            if obs is not None:
                obs.finish(client)
            wall = time.perf_counter() - t0
            cpu = time.process_time() - c0
        finally:
            await client.aclose()
            if obs is not None:
                obs.close()
    if not (done.success and done.turns == turns):
        raise SystemExit(f"the scripted run did not complete {turns} turns: {done.reason}")
    return wall, cpu, sink.seconds, sink.events


async def main(rounds: int, turns: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_project(root, turns)
        await one_run(root, turns, True, "warmup")  # imports, first connections
        bare: list[float] = []
        observed: list[float] = []
        direct: list[float] = []
        bare_cpu: list[float] = []
        observed_cpu: list[float] = []
        events = 0
        for r in range(rounds):
            order = (False, True) if r % 2 == 0 else (True, False)
            for obs in order:
                wall, cpu, inside, n = await one_run(root, turns, obs, f"bench-{r}-{int(obs)}")
                if obs:
                    observed.append(wall)
                    observed_cpu.append(cpu)
                    direct.append(inside / wall)
                    events = n
                else:
                    bare.append(wall)
                    bare_cpu.append(cpu)
        log_bytes = sum(p.stat().st_size for p in (root / ".smallcode" / "logs").glob("bench-*"))
    b, o = statistics.median(bare), statistics.median(observed)
    print(f"observability overhead, {turns}-turn scripted run, {rounds} rounds each "
          f"({events} events per run)")
    print(f"  wall median: bare {b * 1000:.1f} ms, observed {o * 1000:.1f} ms "
          f"-> difference {100 * (o - b) / b:+.2f} % (noise-prone on a shared machine)")
    bm, om = min(bare), min(observed)
    print(f"  wall best-of: bare {bm * 1000:.1f} ms, observed {om * 1000:.1f} ms "
          f"-> difference {100 * (om - bm) / bm:+.2f} %")
    bc, oc = statistics.median(bare_cpu), statistics.median(observed_cpu)
    print(f"  process CPU median (both server and agent threads): bare {bc * 1000:.1f} ms, "
          f"observed {oc * 1000:.1f} ms -> difference {100 * (oc - bc) / bc:+.2f} %")
    print(f"  time inside the log/metrics/ledger sinks: median "
          f"{100 * statistics.median(direct):.2f} % of wall (max {100 * max(direct):.2f} %); "
          f"{1e6 * statistics.median(direct) * o / max(1, events):.1f} µs per event")
    print(f"  log written: {log_bytes / max(1, len(observed)) / 1024:.1f} KiB per run")
    print(f"  target ≤ 2 %: {'met' if statistics.median(direct) <= 0.02 else 'NOT met'}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--turns", type=int, default=50)
    a = ap.parse_args()
    asyncio.run(main(a.rounds, a.turns))
