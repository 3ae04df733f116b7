"""`smallcode serve`, `smallcode status`, `smallcode stop`, and `smallcode token` (gateway users)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from smallcode.core.config import ConfigError, cache_dir, load_settings


def default_tokens_file() -> Path:
    return cache_dir() / "gateway_tokens.json"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the shared model gateway and actors on Ray",
                       description="Start (or join) a Ray cluster and host the model gateway, "
                                   "plus the indexer and memory actors of --project folders.")
    p.add_argument("--address", help="Ray cluster to join: auto, HOST:6379 or ray://HOST:10001 "
                                     "(default: start a local instance)")
    p.add_argument("--host", help="gateway listen address (default 127.0.0.1; 0.0.0.0 for a team)")
    p.add_argument("--port", type=int, help="gateway port (default 8765)")
    p.add_argument("--backend", action="append", metavar="[NAME=]URL[,slots=N,kind=K,model=M]",
                   help="a model server to forward to (repeatable); api_key_env=VAR for a key")
    p.add_argument("--config", help="gateway config file (TOML or YAML): backends, users, limits")
    p.add_argument("--project", action="append", default=[],
                   help="host the indexer and memory actors for this folder (repeatable)")
    p.add_argument("--num-cpus", type=int, help="CPUs of a fresh local Ray instance")
    p.add_argument("--gateway-resource", metavar="NAME",
                   help="place the gateway on the node that has this custom Ray resource "
                        "(e.g. the head, so its port is where the load balancer points)")
    p.add_argument("--detach", action="store_true",
                   help="return once started (needs --address: the cluster outlives this process)")
    p.add_argument("--json", action="store_true", help="print the start-up summary as JSON")
    p.set_defaults(func=serve_command)

    s = sub.add_parser("status", help="what `smallcode serve` is running: actors, nodes, queues")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.set_defaults(func=status_command)

    st = sub.add_parser("stop", help="stop what `smallcode serve` started (nothing else)")
    st.set_defaults(func=stop_command)

    t = sub.add_parser("token", help="gateway users: add, revoke, list (tokens stored hashed)")
    tsub = t.add_subparsers(dest="token_action", metavar="ACTION", required=True)
    add = tsub.add_parser("add", help="create or replace a user's token; prints it once")
    add.add_argument("name")
    add.add_argument("--max-concurrent", type=int, default=4, help="requests running at once")
    add.add_argument("--quota", type=int, help="tokens per day (default: no cap)")
    rev = tsub.add_parser("revoke", help="remove a user's token")
    rev.add_argument("name")
    tsub.add_parser("list", help="list users (never tokens)")
    lst = tsub.choices["list"]
    for parser in (add, rev, lst):
        parser.add_argument("--file", help=f"token file (default {default_tokens_file()})")
    t.set_defaults(func=token_command)


def _err(message: str) -> None:
    print(f"smallcode: {message}", file=sys.stderr)


def serve_command(args: argparse.Namespace) -> int:
    # the gateway (uvicorn, the app) is imported only when serving: every other command starts
    # half a second sooner
    from smallcode.actors import runtime
    from smallcode.gateway.config import GatewayConfigError, resolve_gateway_config

    try:
        settings = load_settings(args.workspace, {"serve": {"address": args.address,
                                                            "host": args.host, "port": args.port}})
        config = resolve_gateway_config(
            config_path=args.config, extra=settings.extra, backend_specs=args.backend,
            fallback_base_url=settings.model.base_url, fallback_api_key=settings.model.api_key,
            fallback_model=settings.model.model, host=args.host or settings.serve.host,
            port=args.port or settings.serve.port, tokens_file=default_tokens_file())
    except (ConfigError, GatewayConfigError) as exc:
        _err(str(exc))
        return 2
    address = settings.serve.address
    if args.detach and address is None:
        _err("--detach needs --address: a local Ray instance ends with this process")
        return 2
    owner = runtime.serve_owner()
    if owner is not None:
        _err(f"smallcode serve is already running (pid {owner}) at "
             f"{runtime.find_running_serve() or 'an unhealthy gateway'} (`smallcode stop` first)")
        return 1

    def progress(msg: str) -> None:
        print(f"· {msg}", file=sys.stderr, flush=True)

    stop_event = threading.Event()
    closers = []
    gateway_options = {"resources": {args.gateway_resource: 0.001}} if args.gateway_resource else {}
    try:
        config, stop_embedded = runtime.with_default_backend(
            config, detect_local=settings.model.detect_local,
            embedded_size=settings.model.embedded_size, progress=progress)
        if stop_embedded is not None:
            if args.detach:
                stop_embedded()
                _err("--detach needs a model server that outlives this process (--backend URL)")
                return 2
            closers.append(stop_embedded)
        info = runtime.start_serve(config, address=address, num_cpus=args.num_cpus,
                                   projects=tuple(args.project), foreground=not args.detach,
                                   gateway_options=gateway_options, progress=progress)
        info.closers.extend(closers)
    except (runtime.ServeRuntimeError, OSError, RuntimeError) as exc:
        for close in closers:
            close()
        _err(f"cannot start serve: {exc}")
        return 3
    summary: dict[str, Any] = {"url": info.url, "ray_address": info.ray_address,
                               "actors": info.actors, "backends": info.backends,
                               "projects": info.hosted, "users": len(config.users)}
    if args.json:
        print(json.dumps(summary), flush=True)
    else:
        print(f"smallcode serve: gateway at {info.url}", flush=True)
        print(f"  backends: {', '.join(info.backends)}")
        print(f"  actors:   {', '.join(info.actors)}")
        for project, hosted in info.hosted.items():
            print(f"  project {project}: " + ", ".join(f"{k}={v}" for k, v in hosted.items()))
        print(f"  attach:   smallcode run --server {info.url} \"task\"  (non-local clients need "
              f"--token; create one with `smallcode token add NAME`)", flush=True)
    if args.detach:
        return 0
    signal.signal(signal.SIGTERM, lambda *_: stop_event.set())
    try:
        runtime.supervise(info, stop_event, on_event=progress)
    except KeyboardInterrupt:
        pass
    removed = runtime.shutdown_serve(info)
    progress(f"stopped: {', '.join(removed) or 'nothing left to stop'}")
    return 0


def _render_status(data: dict[str, Any]) -> str:
    lines = [f"gateway  {data['url']}  {'up' if data['running'] else 'DOWN'}"]
    for node in data.get("nodes", []):
        cpus = node["resources"].get("CPU", 0)
        lines.append(f"node     {node['node_id'][:12]}  {node['address']}  "
                     f"{'alive' if node['alive'] else 'dead'}  cpus={cpus:g}")
    for actor in data.get("actors", []):
        extra = f"  pid={actor['pid']}" if "pid" in actor else ""
        lines.append(f"actor    {actor['name']}  {actor['state']}{extra}")
    gw = data.get("gateway") or {}
    queue = gw.get("queue") or {}
    if queue:
        lines.append(f"queue    {queue.get('queued', 0)} waiting (max {queue.get('max_queue')}), "
                     f"by user {queue.get('queued_by_user') or {}}, "
                     f"running {queue.get('inflight_by_user') or {}}")
    for name, b in (gw.get("backends") or {}).items():
        state = "down" if b.get("down") else "up"
        lines.append(f"backend  {name}  {b.get('kind', '')}  {b.get('busy')}/{b.get('slots')} slots "
                     f"busy  {state}  {b.get('base_url', '')}")
    if "ray_error" in data:
        lines.append(f"ray      {data['ray_error']}")
    return "\n".join(lines)


def status_command(args: argparse.Namespace) -> int:
    from smallcode.actors import runtime

    data = runtime.running_status()
    if args.json:
        print(json.dumps(data, default=str))
    elif not data.get("url"):
        print(data["reason"])
    else:
        print(_render_status(data))
    return 0 if data.get("running") else 1


def stop_command(args: argparse.Namespace) -> int:
    from smallcode.actors import runtime

    try:
        stopped = runtime.stop_running_serve()
    except runtime.ServeRuntimeError as exc:
        _err(str(exc))
        return 1
    if not stopped:
        print("no smallcode serve is running")
        return 0
    print("stopped: " + ", ".join(stopped))
    return 0


def token_command(args: argparse.Namespace) -> int:
    from smallcode.gateway.config import GatewayConfigError
    from smallcode.gateway.tokens import TokenStore

    path = Path(getattr(args, "file", None) or default_tokens_file())
    try:
        store = TokenStore(path=path)
        if args.token_action == "add":
            token = store.issue(args.name, max_concurrent=args.max_concurrent,
                                token_quota=args.quota)
            print(token)
            print(f"token for {args.name} (shown once; stored as its sha256 in {path})",
                  file=sys.stderr)
        elif args.token_action == "revoke":
            if not store.revoke(args.name):
                _err(f"no user named {args.name}")
                return 1
            print(f"revoked {args.name}")
        else:
            for user in store.users():
                quota = user.token_quota if user.token_quota is not None else "none"
                print(f"{user.name}\tmax_concurrent={user.max_concurrent}\tquota={quota}")
    except (GatewayConfigError, ValueError, OSError) as exc:
        _err(str(exc))
        return 2
    return 0
