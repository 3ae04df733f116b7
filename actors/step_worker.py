"""Plan step workers: Ray actors that each run one plan step at a time with a fresh agent
(:func:`smallcode.core.plan.steprun.run_step`) against the shared model gateway, streaming the
step's events back as they happen (a Ray streaming generator: one item per event, then the
outcome), and the pool the plan executor draws them from. The same workers check the solve
path's candidates (:func:`smallcode.core.solve.checker.check_in_copy`: a scratch copy of the
project with the candidate applied, the oracle run there), so under `smallcode serve` the
candidates of one round are checked side by side on the pool every user shares.

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
from pathlib import Path
from typing import Any

from smallcode.core.events import Event
from smallcode.core.plan.executor import Emit, StepWorkerLost
from smallcode.core.plan.steprun import StepOutcome, StepSpec, event_from_dict, run_step
from smallcode.core.solve.checker import check_in_copy
from smallcode.core.solve.oracle import CheckResult, Oracle

from .runtime import NAMESPACE, get_or_create

WORKER_PREFIX = "plan/step-worker/"
DEFAULT_POOL_SIZE = 4


class StepWorker:
    """Runs plan steps inside a Ray worker process; one step per call."""

    def __init__(self) -> None:
        self.steps_run = 0
        self.candidates_checked = 0
        self._clients: dict[tuple[str, str | None, str | None], Any] = {}

    def pid(self) -> int:
        return os.getpid()

    async def warm(self) -> int:
        """Import the agent stack now, so the first step does not pay for it."""
        import smallcode.core.agent
        import smallcode.core.edit.validate
        import smallcode.core.model.client  # noqa: F401
        from smallcode.core.tools import build_registry

        build_registry()
        return os.getpid()

    async def _client(self, spec: StepSpec) -> Any:
        """One model client per endpoint, kept across steps (warm connections, one discovery)."""
        from smallcode.core.config import Settings
        from smallcode.core.model.client import OpenAIChatClient

        key = (str(spec.base_url), spec.api_key, spec.model_name)
        client = self._clients.get(key)
        if client is None:
            m = Settings.model_validate(spec.settings).model if spec.settings else \
                Settings().model
            client = OpenAIChatClient(str(spec.base_url), model=spec.model_name,
                                      api_key=spec.api_key, connect_timeout=m.connect_timeout,
                                      read_timeout=m.read_timeout, max_retries=m.max_retries,
                                      context_window=m.context_window,
                                      default_max_tokens=m.max_tokens)
            with contextlib.suppress(Exception):
                await client.discover()
            self._clients[key] = client
        return client

    async def check_candidate(self, root: str, files: dict[str, str],
                              oracle: Oracle) -> CheckResult:
        """The oracle's verdict on a scratch copy of ``root`` with ``files`` laid over it."""
        self.candidates_checked += 1
        return await asyncio.to_thread(check_in_copy, Path(root), files, oracle)

    async def describe(self) -> dict[str, Any]:
        return {"kind": "step-worker", "pid": os.getpid(), "steps_run": self.steps_run,
                "candidates_checked": self.candidates_checked}

    async def run_step(self, spec: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """Stream ``{"event": {...}}`` items, then one ``{"outcome": {...}}``."""
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

        def emit(ev: Event) -> None:
            queue.put_nowait({"event": ev.model_dump(mode="json")})

        async def work() -> None:
            try:
                step = StepSpec.from_dict(spec)
                model = await self._client(step) if step.base_url else None
                outcome = await run_step(step, emit, model=model)
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
                 prefix: str = WORKER_PREFIX, address: str | None = None):
        """``address``: the Ray cluster to join when this process is not connected yet ("auto"
        for a running `smallcode serve`; None starts a local Ray)."""
        import ray

        from .runtime import connect

        if not ray.is_initialized():
            connect(address, namespace=namespace)
        self.size = max(1, size)
        self.namespace = namespace
        self.prefix = prefix
        self._names = [f"{prefix}{i}" for i in range(self.size)]
        self._busy: set[str] = set()
        self._cond: tuple[asyncio.AbstractEventLoop, asyncio.Condition] | None = None
        self.assigned: dict[int, str] = {}  # step -> worker name, while it runs

    def _condition(self) -> asyncio.Condition:
        loop = asyncio.get_running_loop()  # the pool outlives event loops (asyncio.run per plan)
        if self._cond is None or self._cond[0] is not loop:
            self._cond = (loop, asyncio.Condition())
        return self._cond[1]

    async def _acquire(self) -> str:
        cond = self._condition()
        async with cond:
            await cond.wait_for(lambda: len(self._busy) < self.size)
            name = next(n for n in self._names if n not in self._busy)
            self._busy.add(name)
            return name

    async def _release(self, name: str) -> None:
        cond = self._condition()
        async with cond:
            self._busy.discard(name)
            cond.notify()

    def handle(self, name: str) -> Any:
        return get_or_create(name, StepWorker, namespace=self.namespace, num_cpus=0)

    async def warm(self) -> list[int]:
        """Start every worker now (process start + the agent's imports); returns their pids."""
        return list(await asyncio.gather(*(self.handle(f"{self.prefix}{i}").warm.remote()
                                           for i in range(self.size))))

    async def run(self, spec: StepSpec, emit: Emit) -> StepOutcome:
        import ray

        name = await self._acquire()
        self.assigned[spec.n] = name
        outcome: StepOutcome | None = None
        stream: Any = None
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
            raise StepWorkerLost(f"worker {name} died during step {spec.n}") from exc
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):  # stop the step in the worker too
                ray.cancel(stream)
            raise
        finally:
            self.assigned.pop(spec.n, None)
            await self._release(name)
        if outcome is None:
            raise StepWorkerLost(f"worker {name} ended step {spec.n} without an outcome")
        return outcome

    async def check(self, root: Path, files: dict[str, str], oracle: Oracle) -> CheckResult:
        """A :class:`~smallcode.core.solve.checker.CandidateChecker`: one candidate checked on a
        free worker of the pool (waits for one, like a plan step). A worker lost mid-check
        fails that candidate, not the task."""
        import ray

        name = await self._acquire()
        try:
            return await self.handle(name).check_candidate.remote(str(root), files, oracle)
        except (ray.exceptions.RayActorError, ray.exceptions.ActorDiedError) as exc:
            return CheckResult(False, 0.0, f"the step worker checking this candidate was lost "
                               f"({type(exc).__name__}); not checked")
        finally:
            await self._release(name)

    def shutdown(self) -> None:
        """Remove the pool's workers (they are detached: they outlive the driver otherwise)."""
        import ray

        for i in range(self.size):
            with contextlib.suppress(ValueError):
                ray.kill(ray.get_actor(f"{self.prefix}{i}", namespace=self.namespace))

    async def aclose(self) -> None:
        return None


__all__ = ["DEFAULT_POOL_SIZE", "WORKER_PREFIX", "RayStepRunner", "StepWorker"]
