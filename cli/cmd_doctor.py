"""`smallcode doctor`: what works, what does not, and how to fix it."""

from __future__ import annotations

import argparse
import asyncio


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("doctor", help="check endpoint, model, context window and tool-call modes")
    p.add_argument("--base-url", help="check this server instead of the configured one")
    p.add_argument("--model", help="model name")
    p.add_argument("--no-probe", action="store_true", help="skip the two tiny model calls")
    p.set_defaults(func=doctor_command)


def doctor_command(args: argparse.Namespace) -> int:
    from smallcode.core.doctor import run_doctor

    overrides = {"model": {"base_url": args.base_url, "model": args.model}}
    checks = asyncio.run(run_doctor(args.workspace, overrides, probe=not args.no_probe))
    for c in checks:
        print(f"{'✓' if c.ok else '✗'} {c.name}: {c.detail}")
        if not c.ok and c.fix:
            print(f"    fix: {c.fix}")
    return 0 if all(c.ok for c in checks) else 1
