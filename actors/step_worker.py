"""Plan step workers: Ray actors that each run one plan step at a time with a fresh agent
(:func:`smallcode.core.plan.steprun.run_step`) against the shared model gateway, streaming the
step's events back as they happen (a Ray streaming generator: one item per event, then the
outcome), and the pool the plan executor draws them from.

Workers are named ``plan/step-worker/<i>`` and created with ``runtime.get_or_create`` (detached,
restarted by Ray), so every plan run reuses warm processes. A worker that dies mid-step surfaces
as :class:`~smallcode.core.plan.executor.StepWorkerLost`; the executor then compensates the step
from its journal on the shared folder, and the pool replaces the worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

from smallcode.core.events import Event
from smallcode.core.plan.executor import Emit, StepWorkerLost
from smallcode.core.plan.steprun import StepOutcome, StepSpec, event_from_dict, run_step

from .runtime import NAMESPACE, get_or_create

WORKER_PREFIX = "plan/step-worker/"
DEFAULT_POOL_SIZE = 4


class StepWorker:
    """Runs plan steps inside a Ray worker process; one step per call."""

    def __init__(self) -> None:
        self.steps_run = 0

    def pid(self) -> int:
        return os.getpid()

    async def describe(self) -> dict[str, Any]:
        return {"kind": "step-worker", "pid": os.getpid(), "steps_run": self.steps_run}

    async def run_step(self, spec: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """Stream ``{"event": {...}}`` items, then one ``{"outcome": {...}}``."""
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

        def emit(ev: Event) -> None:
            queue.put_nowait({"event": ev.model_dump(mode="json")})

        async def work() -> None:
            try:
                outcome = await run_step(StepSpec.from_dict(spec), emit)
                queue.put_nowait({"outcome": outcome.to_dict()})
            except Exception as exc:  # noqa: BLE001 - reported to the executor as the outcome
                queue.put_nowait({"outcome": StepOutcome(
                    int(spec["n"]), False, f"step worker error: {type(exc).__name__}: {exc}"
                ).to_dict()})
            finally:
                queue.put_nowait(None)

        task = asyncio.create_task(work())
        self.steps_run += 1
        try:
            while (item := await queue.get()) is not None:
                yield item
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task


class RayStepRunner:
    """The executor's :class:`~smallcode.core.plan.executor.StepRunner` on a pool of named step
    workers; at most ``size`` steps run at once (one per worker)."""

    def __init__(self, size: int = DEFAULT_POOL_SIZE, *, namespace: str = NAMESPACE,
                 prefix: str = WORKER_PREFIX):
        import ray

        from .runtime import connect

        if not ray.is_initialized():
            connect()
        self.size = max(1, size)
        self.namespace = namespace
        self.prefix = prefix
        self._free: asyncio.Queue[str] = asyncio.Queue()
        for i in range(self.size):
            self._free.put_nowait(f"{prefix}{i}")
        self.assigned: dict[int, str] = {}  # step -> worker name, while it runs

    def handle(self, name: str) -> Any:
        return get_or_create(name, StepWorker, namespace=self.namespace, num_cpus=0)

    async def warm(self) -> list[int]:
        """Start every worker now (process start + imports) and return their pids."""
        return list(await asyncio.gather(*(self.handle(f"{self.prefix}{i}").pid.remote()
                                           for i in range(self.size))))

    async def run(self, spec: StepSpec, emit: Emit) -> StepOutcome:
        import ray

        name = await self._free.get()
        self.assigned[spec.n] = name
        outcome: StepOutcome | None = None
        try:
            handle = self.handle(name)
            stream = handle.run_step.options(num_returns="streaming").remote(spec.to_dict())
            async for ref in stream:
                item = await ref
                if "event" in item:
                    res = emit(event_from_dict(item["event"]))
                    if asyncio.iscoroutine(res):
                        await res
                elif "outcome" in item:
                    outcome = StepOutcome.from_dict(item["outcome"])
        except (ray.exceptions.RayActorError, ray.exceptions.ActorDiedError) as exc:
            raise StepWorkerLost(f"{name} died during step {spec.n}") from exc
        finally:
            self.assigned.pop(spec.n, None)
            self._free.put_nowait(name)
        if outcome is None:
            raise StepWorkerLost(f"{name} ended step {spec.n} without an outcome")
        return outcome

    def shutdown(self) -> None:
        """Remove the pool's workers (they are detached: they outlive the driver otherwise)."""
        import ray

        for i in range(self.size):
            with contextlib.suppress(ValueError):
                ray.kill(ray.get_actor(f"{self.prefix}{i}", namespace=self.namespace))

    async def aclose(self) -> None:
        return None


__all__ = ["DEFAULT_POOL_SIZE", "WORKER_PREFIX", "RayStepRunner", "StepWorker"]
