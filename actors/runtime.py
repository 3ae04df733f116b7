"""Start or join Ray and keep smallcode's long-lived actors: named, detached, supervised.

Every actor ``smallcode serve`` starts is named ``serve/...`` in the ``smallcode`` namespace and
found again with ``get_if_exists``; Ray restarts it when its process dies (``max_restarts``).
:func:`stop` removes exactly those names. A small state file (``cache_dir()/serve.json``) lets
``smallcode run`` find a running serve without touching Ray (:func:`find_running_serve`).
"""

from __future__ import annotations

import importlib
import json
import os
import time
from pathlib import Path
from typing import Any

import httpx
from smallcode.core.config import cache_dir

NAMESPACE = "smallcode"
SERVE_PREFIX = "serve/"
GATEWAY_NAME = SERVE_PREFIX + "gateway"
STATE_FILE = "serve.json"


class ServeRuntimeError(RuntimeError):
    """Ray could not be started or joined, or an actor could not be created."""


def connect(address: str | None = None, *, num_cpus: int | None = None,
            namespace: str = NAMESPACE) -> None:
    """Join Ray at ``address`` ("auto", "ray://host:10001", "host:6379") or start a local one.

    A no-op when this process is already connected (e.g. inside a Ray worker or a test session).
    """
    import ray

    if ray.is_initialized():
        return
    common: dict[str, Any] = {"namespace": namespace, "log_to_driver": False,
                              "configure_logging": False}
    try:
        if address is None:
            ray.init(num_cpus=num_cpus or os.cpu_count() or 1, include_dashboard=False, **common)
        else:
            ray.init(address=address, **common)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        where = address or "a new local instance"
        raise ServeRuntimeError(f"cannot start or join Ray at {where}: {exc}") from None


def get_or_create(name: str, cls: Any, *args: Any, namespace: str = NAMESPACE,
                  max_restarts: int = -1, **options: Any) -> Any:
    """The named detached actor ``name``, created from ``cls(*args)`` if it does not exist yet."""
    import ray
    from ray.actor import ActorClass

    remote_cls = cls if isinstance(cls, ActorClass) else ray.remote(cls)
    return remote_cls.options(name=name, namespace=namespace, lifetime="detached",
                              get_if_exists=True, max_restarts=max_restarts,
                              **options).remote(*args)


def get_actor(name: str, namespace: str = NAMESPACE) -> Any | None:
    import ray

    try:
        return ray.get_actor(name, namespace=namespace)
    except ValueError:
        return None


def serve_actor_names(namespace: str = NAMESPACE) -> list[str]:
    """Names of the actors serve started (the ``serve/`` prefix) in ``namespace``."""
    import ray

    names = ray.util.list_named_actors(all_namespaces=True)
    return sorted(a["name"] for a in names
                  if a.get("namespace") == namespace and a["name"].startswith(SERVE_PREFIX))


def _describe(handle: Any, timeout: float) -> dict[str, Any]:
    import ray

    method = getattr(handle, "describe", None)
    try:
        if method is None:
            ray.get(handle.__ray_ready__.remote(), timeout=timeout)
            return {"state": "alive"}
        return {"state": "alive", **ray.get(method.remote(), timeout=timeout)}
    except ray.exceptions.GetTimeoutError:
        return {"state": "unresponsive"}
    except ray.exceptions.RayActorError as exc:
        return {"state": "dead", "error": str(exc).splitlines()[0][:200]}


def status(namespace: str = NAMESPACE, timeout: float = 5.0) -> dict[str, Any]:
    """Nodes, serve's actors, and the gateway's queues and backends."""
    import ray

    nodes = [{"node_id": n["NodeID"], "address": n.get("NodeManagerAddress"),
              "alive": bool(n.get("Alive")),
              "resources": {k: v for k, v in n.get("Resources", {}).items()
                            if not k.startswith("node:")}}
             for n in ray.nodes()]
    actors = []
    gateway: dict[str, Any] | None = None
    for name in serve_actor_names(namespace):
        handle = get_actor(name, namespace)
        if handle is None:
            continue
        actors.append({"name": name, **_describe(handle, timeout)})
        if name == GATEWAY_NAME:
            try:
                gateway = ray.get(handle.status.remote(), timeout=timeout)
            except (ray.exceptions.GetTimeoutError, ray.exceptions.RayActorError) as exc:
                gateway = {"error": f"{type(exc).__name__}"}
    return {"namespace": namespace, "nodes": nodes, "actors": actors, "gateway": gateway}


def stop(namespace: str = NAMESPACE) -> list[str]:
    """Remove the actors serve started (and its state file); returns their names."""
    import ray

    removed = []
    for name in serve_actor_names(namespace):
        handle = get_actor(name, namespace)
        if handle is None:
            continue
        ray.kill(handle, no_restart=True)
        removed.append(name)
    state = read_serve_state()
    if state is not None and state.get("namespace", NAMESPACE) == namespace:
        state_path().unlink(missing_ok=True)
    return removed


# -- the serve state file -----------------------------------------------------------------
def state_path() -> Path:
    return cache_dir() / STATE_FILE


def write_serve_state(url: str, *, ray_address: str | None, namespace: str = NAMESPACE,
                      actors: list[str] | None = None, foreground: bool = True) -> Path:
    path = state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"url": url, "pid": os.getpid(), "ray_address": ray_address, "namespace": namespace,
            "actors": actors or [], "foreground": foreground, "started_at": time.time()}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, path)
    return path


def read_serve_state() -> dict[str, Any] | None:
    try:
        data = json.loads(state_path().read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("url"), str) else None


def gateway_healthy(url: str, timeout: float = 0.5) -> bool:
    root = url.rstrip("/").removesuffix("/v1")
    try:
        return httpx.get(root + "/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def find_running_serve(timeout: float = 0.5) -> str | None:
    """The base URL (``http://host:port/v1``) of a running, healthy serve, else None."""
    state = read_serve_state()
    if state is None:
        return None
    url = state["url"]
    return url if gateway_healthy(url, timeout) else None


# -- what serve hosts ---------------------------------------------------------------------
# Per-project actors of other modules, found lazily: (module, class name, actor name prefix).
PROJECT_ACTORS: tuple[tuple[str, str, str], ...] = (
    ("smallcode.actors.indexer", "IndexerActor", "indexer"),
    ("smallcode.actors.memory_store", "MemoryStoreActor", "memory"),
)


def project_actor_name(kind: str, project: str | os.PathLike[str]) -> str:
    import hashlib

    resolved = str(Path(project).resolve())
    return f"{SERVE_PREFIX}{kind}/{hashlib.sha256(resolved.encode()).hexdigest()[:12]}"


def host_project_actors(project: str | os.PathLike[str], namespace: str = NAMESPACE
                        ) -> dict[str, str]:
    """Create the per-project actors whose modules exist; returns {kind: actor name or reason}."""
    hosted: dict[str, str] = {}
    for module_name, class_name, kind in PROJECT_ACTORS:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            hosted[kind] = "not available"
            continue
        cls = getattr(module, class_name, None)
        if cls is None:
            hosted[kind] = f"not available ({module_name} has no {class_name})"
            continue
        name = project_actor_name(kind, project)
        get_or_create(name, cls, str(Path(project).resolve()), namespace=namespace, num_cpus=0)
        hosted[kind] = name
    return hosted


def start_gateway(config: Any, *, namespace: str = NAMESPACE, name: str = GATEWAY_NAME,
                  timeout: float = 60.0, **options: Any) -> tuple[Any, str]:
    """Create (or find) the gateway actor and wait until it listens; returns (handle, URL)."""
    import ray
    from smallcode.actors.gateway import GatewayActor

    options.setdefault("num_cpus", 0)
    handle = get_or_create(name, GatewayActor, config, namespace=namespace, **options)
    try:
        url = ray.get(handle.url.remote(), timeout=timeout)
    except ray.exceptions.RayActorError as exc:
        raise ServeRuntimeError(f"the gateway actor failed to start: "
                                f"{str(exc).splitlines()[-1][:300]}") from None
    return handle, url
