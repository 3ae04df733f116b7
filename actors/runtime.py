"""Start or join Ray and keep smallcode's long-lived actors: named, detached, supervised.

Every actor ``smallcode serve`` starts is named ``serve/...`` in the ``smallcode`` namespace and
found again with ``get_if_exists``; Ray restarts it when its process dies (``max_restarts``).
:func:`stop` removes exactly those names. A small state file (``cache_dir()/serve.json``) lets
``smallcode run`` find a running serve without touching Ray (:func:`find_running_serve`).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from smallcode.core.config import cache_dir

if TYPE_CHECKING:
    from smallcode.gateway.config import GatewayConfig

log = logging.getLogger("smallcode.serve")

NAMESPACE = "smallcode"
SERVE_PREFIX = "serve/"
GATEWAY_NAME = SERVE_PREFIX + "gateway"
REGISTRY_NAME = SERVE_PREFIX + "registry"
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
    if address is not None:
        # a cluster made by ray.init() uses token auth by default; present the token when we
        # have one (Ray only does this itself for RAY_AUTH_MODE=token set before import)
        try:
            from ray._private.authentication.authentication_token_setup import (
                maybe_enable_token_auth_if_token_available,
            )

            maybe_enable_token_auth_if_token_available(warn_if_disabled=False)
        except ImportError:  # an older Ray without token auth
            pass
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
    """Names of the live actors serve started in ``namespace``: the ``serve/`` prefix, plus the
    per-project actors recorded in its registry."""
    import ray

    live = {a["name"] for a in ray.util.list_named_actors(all_namespaces=True)
            if a.get("namespace") == namespace}
    ours = {n for n in live if n.startswith(SERVE_PREFIX)}
    ours.update(n for n in _registered_names(namespace) if n in live)
    return sorted(ours)


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
class ServeRegistry:
    """Remembers actors serve started under names their own modules look up (no ``serve/``
    prefix), so :func:`stop` removes them too, from any machine of the cluster."""

    def __init__(self) -> None:
        self._names: set[str] = set()

    def add(self, name: str) -> None:
        self._names.add(name)

    def names(self) -> list[str]:
        return sorted(self._names)


def register_started(name: str, namespace: str = NAMESPACE) -> None:
    import ray

    registry = get_or_create(REGISTRY_NAME, ServeRegistry, namespace=namespace, num_cpus=0)
    ray.get(registry.add.remote(name), timeout=60)


def _registered_names(namespace: str) -> list[str]:
    import ray

    registry = get_actor(REGISTRY_NAME, namespace)
    if registry is None:
        return []
    try:
        return list(ray.get(registry.names.remote(), timeout=10))
    except (ray.exceptions.GetTimeoutError, ray.exceptions.RayActorError):
        return []


def _indexer_spec(root: str) -> tuple[str, Any, dict[str, Any]] | str:
    try:
        from smallcode.actors.indexer import RemoteIndexer, indexer_name
    except ImportError as exc:
        return f"not available ({exc})"
    return indexer_name(root), RemoteIndexer, {"max_concurrency": 8, "max_task_retries": 3,
                                                "max_restarts": 10, "num_cpus": 0}


def _memory_spec(root: str) -> tuple[str, Any, dict[str, Any]] | str:
    try:
        module = importlib.import_module("smallcode.actors.memory_store")
    except ImportError as exc:
        return f"not available ({exc})"
    cls = next((getattr(module, n) for n in ("RemoteMemoryStore", "MemoryStoreActor")
                if hasattr(module, n)), None)
    if cls is None:
        return "not available (no MemoryStoreActor in smallcode.actors.memory_store)"
    name_of = next((getattr(module, n) for n in ("memory_store_name", "memory_name")
                    if hasattr(module, n)), None)
    name = name_of(root) if name_of else project_actor_name("memory", root)
    return name, cls, {"max_task_retries": 3, "max_restarts": 10, "num_cpus": 0}


PROJECT_ACTORS: dict[str, Callable[[str], tuple[str, Any, dict[str, Any]] | str]] = {
    "indexer": _indexer_spec,
    "memory": _memory_spec,
}


def project_actor_name(kind: str, project: str | os.PathLike[str]) -> str:
    import hashlib

    resolved = str(Path(project).resolve())
    return f"{SERVE_PREFIX}{kind}/{hashlib.sha256(resolved.encode()).hexdigest()[:12]}"


def host_project_actors(project: str | os.PathLike[str], namespace: str = NAMESPACE,
                        timeout: float = 120.0) -> dict[str, str]:
    """Start the per-project actors (graph indexer, memory store) whose modules exist, under the
    names those modules look up; returns {kind: actor name, or why it is not hosted}."""
    import ray

    root = str(Path(project).resolve())
    if not Path(root).is_dir():
        raise ServeRuntimeError(f"--project {project}: not a folder")
    hosted: dict[str, str] = {}
    for kind, spec_of in PROJECT_ACTORS.items():
        spec = spec_of(root)
        if isinstance(spec, str):
            hosted[kind] = spec
            continue
        name, cls, options = spec
        handle = get_or_create(name, cls, root, namespace=namespace, **options)
        try:
            ray.get(handle.__ray_ready__.remote(), timeout=timeout)
        except (ray.exceptions.GetTimeoutError, ray.exceptions.RayActorError) as exc:
            hosted[kind] = f"failed to start ({type(exc).__name__})"
            continue
        if not name.startswith(SERVE_PREFIX):
            register_started(name, namespace)
        hosted[kind] = name
    return hosted


def start_gateway(config: Any, *, namespace: str = NAMESPACE, name: str = GATEWAY_NAME,
                  timeout: float = 60.0, **options: Any) -> tuple[Any, str]:
    """Create (or find) the gateway actor and wait until it listens; returns (handle, URL)."""
    import ray
    from smallcode.actors.gateway import GatewayActor

    options.setdefault("num_cpus", 0)
    if get_actor(name, namespace) is not None:
        log.info("adopting the running gateway actor %s (its configuration is kept)", name)
    handle = get_or_create(name, GatewayActor, config, namespace=namespace, **options)
    try:
        url = ray.get(handle.url.remote(), timeout=timeout)
    except ray.exceptions.RayActorError as exc:
        raise ServeRuntimeError(f"the gateway actor failed to start: "
                                f"{str(exc).splitlines()[-1][:300]}") from None
    return handle, url


# -- `smallcode serve` as a whole -----------------------------------------------------------
Progress = Callable[[str], None]


@dataclass
class ServeInfo:
    """What a running serve consists of."""

    url: str
    ray_address: str | None
    namespace: str
    actors: list[str]
    hosted: dict[str, dict[str, str]] = field(default_factory=dict)
    backends: list[str] = field(default_factory=list)
    closers: list[Callable[[], Any]] = field(default_factory=list)


def with_default_backend(config: GatewayConfig, *, detect_local: bool = True,
                         embedded_size: str = "1.5b", progress: Progress = lambda _: None
                         ) -> tuple[GatewayConfig, Callable[[], Any] | None]:
    """``config`` with a backend: a detected local server, else the embedded model (started
    here; the returned callable stops it). Unchanged when it already has backends."""
    if config.backends:
        return config, None
    from smallcode.core.model.discovery import detect_local_server
    from smallcode.gateway.config import BackendConfig

    found = detect_local_server() if detect_local else None
    if found is not None:
        progress(f"using the {found.kind} server at {found.base_url}")
        backend = BackendConfig(name=found.kind, base_url=found.base_url, kind=found.kind)  # type: ignore[arg-type]
        return config.model_copy(update={"backends": [backend]}), None
    from smallcode.core.model.embedded import EmbeddedServer, ensure_llama_server, install_model

    progress(f"no model server configured or found; starting the embedded {embedded_size} model")
    model_path = install_model(embedded_size, progress)  # type: ignore[arg-type]
    ensure_llama_server(progress, model=model_path)
    slots = 2
    server = EmbeddedServer(model_path, parallel=slots)
    server.start()
    backend = BackendConfig(name=f"embedded-{embedded_size}", base_url=server.base_url,
                            kind="llamacpp", slots=slots)
    return config.model_copy(update={"backends": [backend]}), server.stop


def current_ray_address() -> str | None:
    import ray

    try:
        return ray.get_runtime_context().gcs_address
    except Exception:  # noqa: BLE001 - not connected
        return None


def start_serve(config: GatewayConfig, *, address: str | None = None,
                num_cpus: int | None = None, projects: tuple[str, ...] = (),
                namespace: str = NAMESPACE, foreground: bool = True,
                gateway_options: dict[str, Any] | None = None,
                progress: Progress = lambda _: None) -> ServeInfo:
    """Join or start Ray, start the gateway and the per-project actors, write the state file."""
    if not config.backends:
        raise ServeRuntimeError("the gateway has no backend: pass --backend URL, set "
                                "model.base_url, or run a local model server")
    progress("starting Ray" if address is None else f"joining Ray at {address}")
    connect(address, num_cpus=num_cpus, namespace=namespace)
    _, url = start_gateway(config, namespace=namespace, **(gateway_options or {}))
    progress(f"gateway listening at {url}")
    hosted = {}
    for project in projects:
        hosted[str(Path(project).resolve())] = host_project_actors(project, namespace)
    actors = serve_actor_names(namespace)
    ray_address = current_ray_address()
    write_serve_state(url, ray_address=ray_address, namespace=namespace, actors=actors,
                      foreground=foreground)
    return ServeInfo(url=url, ray_address=ray_address, namespace=namespace, actors=actors,
                     hosted=hosted, backends=[b.name for b in config.backends])


def supervise(info: ServeInfo, stop_event: threading.Event, *, interval: float = 5.0,
              on_event: Progress = lambda _: None) -> None:
    """Watch the gateway until ``stop_event`` is set, reporting restarts and outages."""
    import ray

    handle = get_actor(GATEWAY_NAME, info.namespace)
    last_pid: int | None = None
    healthy = True
    while not stop_event.wait(interval):
        if handle is None:
            handle = get_actor(GATEWAY_NAME, info.namespace)
            if handle is None:
                on_event("the gateway actor is gone (removed by `smallcode stop`?)")
                return
        try:
            pid = ray.get(handle.pid.remote(), timeout=interval)
        except (ray.exceptions.GetTimeoutError, ray.exceptions.RayActorError):
            pid = None
        ok = gateway_healthy(info.url, timeout=1.0)
        if pid is not None and last_pid is not None and pid != last_pid:
            on_event(f"the gateway restarted (pid {last_pid} -> {pid})")
        if ok != healthy:
            on_event("the gateway is healthy again" if ok else "the gateway is not answering")
            healthy = ok
        last_pid = pid if pid is not None else last_pid


def shutdown_serve(info: ServeInfo) -> list[str]:
    """Remove what serve started and disconnect from Ray."""
    import ray

    removed = stop(info.namespace) if ray.is_initialized() else []
    for close in reversed(info.closers):
        with contextlib.suppress(Exception):
            close()
    state = read_serve_state()
    if state is not None and state.get("pid") == os.getpid():
        state_path().unlink(missing_ok=True)
    if ray.is_initialized():
        ray.shutdown()
    return removed


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # an exited child its parent has not reaped yet is a zombie: gone for our purposes
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def serve_owner() -> int | None:
    """The pid of a live foreground ``smallcode serve`` recorded in the state file, if any."""
    state = read_serve_state()
    if state is None or not state.get("foreground", True):
        return None
    pid = int(state.get("pid") or 0)
    return pid if pid and pid != os.getpid() and _pid_alive(pid) else None


def running_status(timeout: float = 5.0) -> dict[str, Any]:
    """Status of the serve recorded in the state file (joins its Ray cluster to ask)."""
    import ray

    state = read_serve_state()
    if state is None:
        return {"running": False, "reason": "no smallcode serve is running (no state file)"}
    url = state["url"]
    result: dict[str, Any] = {"running": gateway_healthy(url, timeout=1.0), "url": url,
                              "ray_address": state.get("ray_address"), "pid": state.get("pid")}
    if not result["running"]:
        result["reason"] = f"the gateway at {url} is not answering"
    address = state.get("ray_address")
    if address and (ray.is_initialized() or _pid_alive(int(state.get("pid") or 0))
                    or not state.get("foreground", True)):
        try:
            connect(address, namespace=state.get("namespace", NAMESPACE))
            result.update(status(state.get("namespace", NAMESPACE), timeout))
        except ServeRuntimeError as exc:
            result["ray_error"] = str(exc)
    return result


def stop_running_serve(timeout: float = 30.0) -> list[str]:
    """Stop the serve recorded in the state file: signal a foreground serve to clean up, or
    remove the detached actors from its cluster. Returns what was stopped."""
    state = read_serve_state()
    if state is None:
        return []
    pid = int(state.get("pid") or 0)
    namespace = state.get("namespace", NAMESPACE)
    if state.get("foreground", True) and pid and pid != os.getpid() and _pid_alive(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _pid_alive(pid):
            raise ServeRuntimeError(f"smallcode serve (pid {pid}) did not stop within {timeout} s")
        state_path().unlink(missing_ok=True)
        return [f"smallcode serve (pid {pid})"] + list(state.get("actors", []))
    address = state.get("ray_address")
    if not state.get("foreground", True) and address:
        connect(address, namespace=namespace)
        return stop(namespace)
    state_path().unlink(missing_ok=True)  # a foreground serve that is already gone
    return []
