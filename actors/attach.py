"""A session attached to a running `smallcode serve`: its services are serve's actors.

When `smallcode run` or the TUI talks to a serve's gateway, the project's code graph is the
serve's indexer actor (kept fresh by watchfiles in that process), its memory is the serve's
memory actor (the one process that may write the project's DuckDB file), and plan steps run on
the serve's step workers. :func:`serve_backend` is the ``backend`` that
:func:`smallcode.cli.backends.backend_for` hands to
:func:`smallcode.core.session.open_session`; it returns the services and the closers of the
session. The run counts its calls per actor kind and pushes them to the gateway's ``/metrics``
when the session closes (``smallcode_actor_calls_total{kind=...}`` under the run's ``actor``
label), so a user can see that a run used them.
"""

from __future__ import annotations

import inspect
import os
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from smallcode.core.tools.services import Services

from .runtime import (
    GATEWAY_NAME,
    NAMESPACE,
    connect,
    get_actor,
    host_project_actors,
    read_serve_state,
)

Progress = Callable[[str], None]


class ActorCalls:
    """Calls this process made to serve's actors, by kind, as Prometheus text."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, kind: str) -> None:
        with self._lock:
            self.counts[kind] += 1

    def render(self) -> str:
        with self._lock:
            rows = sorted(self.counts.items())
        lines = ["# HELP smallcode_actor_calls_total Calls a run made to serve's actors, by kind.",
                 "# TYPE smallcode_actor_calls_total counter"]
        lines += [f'smallcode_actor_calls_total{{kind="{k}"}} {v}' for k, v in rows]
        return "\n".join(lines) + "\n"


class Counted:
    """``target`` with every method call counted under ``kind`` (attributes pass through)."""

    def __init__(self, kind: str, target: Any, calls: ActorCalls) -> None:
        self._kind = kind
        self._target = target
        self._calls = calls

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if not callable(value) or name.startswith("_"):
            return value
        kind, calls = self._kind, self._calls

        if inspect.iscoroutinefunction(value):
            async def counted_async(*args: Any, **kwargs: Any) -> Any:
                calls.add(kind)
                return await value(*args, **kwargs)
            return counted_async

        def counted(*args: Any, **kwargs: Any) -> Any:
            calls.add(kind)
            return value(*args, **kwargs)
        return counted


def serve_backend(root: str | os.PathLike[str], progress: Progress = lambda _: None
                  ) -> tuple[Services, list[Callable[[], Any]]] | None:
    """The services of a session on serve's actors (``graph`` and ``memory`` when serve hosts
    them, ``step_runner`` and ``candidate_checker`` always: the step workers; the other fields
    stay None), and the closers (push the call counts to the gateway). None when no running serve publishes a Ray address (then the caller
    keeps its in-process services)."""
    state = read_serve_state()
    if state is None or not state.get("ray_address"):
        return None
    namespace = state.get("namespace") or NAMESPACE
    import ray

    from .indexer import IndexerClient
    from .memory_store import MemoryStoreClient
    from .step_worker import RayStepRunner

    connect(state["ray_address"], namespace=namespace)
    hosted = host_project_actors(Path(root), namespace=namespace)  # found, or started now
    calls = ActorCalls()
    services = Services()
    handle = get_actor(hosted.get("indexer", ""), namespace)
    if handle is not None:
        graph = IndexerClient(handle)
        stats = graph.ready(60)
        calls.add("indexer")
        services.graph = Counted("indexer", graph, calls)
        watching = "kept fresh by watchfiles" if stats.get("watching") else "not watching"
        progress(f"code graph: serve's indexer actor ({stats.get('files', '?')} files, "
                 f"{watching})")
    else:
        progress(f"serve's indexer is not available ({hosted.get('indexer')}); using an "
                 "in-process graph")
    handle = get_actor(hosted.get("memory", ""), namespace)
    if handle is not None:
        services.memory = Counted("memory", MemoryStoreClient(handle), calls)
        progress("project memory: serve's memory actor")
    else:
        progress(f"serve's memory store is not available ({hosted.get('memory')})")
    workers = RayStepRunner(namespace=namespace)
    services.step_runner = Counted("step_worker", workers, calls)
    services.candidate_checker = Counted("step_worker", workers, calls)

    def push_counts() -> None:
        gateway = get_actor(GATEWAY_NAME, namespace)
        if gateway is not None and calls.counts:
            ray.get(gateway.push_metrics.remote(f"run-{os.getpid()}", calls.render()),
                    timeout=10)

    return services, [push_counts]


__all__ = ["ActorCalls", "Counted", "serve_backend"]
