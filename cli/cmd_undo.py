"""`smallcode undo [N] [--to ID] [--list] [--force]`: revert the agent's last turn(s).

Only files the agent changed are touched; a file edited since by someone else is kept (and
reported) unless ``--force``. Exit codes: 0 done, 1 error, 3 some files were kept or lost.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from smallcode.core.snapshots import SnapshotError, SnapshotStore
from smallcode.core.tools.workspace import WorkspaceError


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("undo", help="revert the agent's last turn (or N turns, or back to "
                                           "a checkpoint)")
    p.add_argument("n", nargs="?", type=int, default=None,
                   help="how many turns that changed files to revert (default 1)")
    p.add_argument("--to", metavar="ID", default=None,
                   help="revert this checkpoint (id, number or label) and every later one")
    p.add_argument("--list", action="store_true", help="list checkpoints and exit")
    p.add_argument("--force", action="store_true",
                   help="also revert files that were edited after the agent changed them")
    p.set_defaults(func=cmd_undo)


def _print_list(store: SnapshotStore) -> int:
    items = store.list()
    if not items:
        print("no checkpoints with changes")
        return 0
    for c in reversed(items):  # newest first
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(c.created))
        files = ", ".join(c.files[:4]) + (f" (+{len(c.files) - 4} more)" if len(c.files) > 4 else "")
        print(f"{c.id}  {when}  {c.status:<7}  {c.label[:40]:<40}  {files}")
    return 0


def cmd_undo(args: argparse.Namespace) -> int:
    try:
        store = SnapshotStore(getattr(args, "workspace", ".") or ".")
        if args.list:
            return _print_list(store)
        if args.to is not None and args.n is not None:
            print("smallcode undo: give either N or --to, not both", file=sys.stderr)
            return 1
        if args.to is not None:
            report = store.undo_to(args.to, force=args.force)
        else:
            report = store.undo(args.n if args.n is not None else 1, force=args.force)
    except (SnapshotError, WorkspaceError, OSError) as exc:
        print(f"smallcode undo: {exc}", file=sys.stderr)
        return 1
    print(report.summary())
    return 0 if report.ok else 3
