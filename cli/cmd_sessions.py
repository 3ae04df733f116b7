"""`smallcode sessions list|show|delete`: saved conversations under .smallcode/sessions/."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from smallcode.core.memory.sessions import (
    SessionError,
    SessionStore,
    format_time,
    render_transcript,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sessions", help="saved sessions: list, show, delete",
                       description="Sessions are saved after every turn; resume one with "
                                   "`smallcode run --resume ID` or `--continue`.")
    ssub = p.add_subparsers(dest="sessions_action", metavar="ACTION", required=True)
    lst = ssub.add_parser("list", help="sessions, newest first")
    lst.add_argument("--limit", type=int, default=30)
    lst.add_argument("--json", action="store_true", help="print JSON")
    show = ssub.add_parser("show", help="one session: summary, --transcript, or --json")
    show.add_argument("id", help="session id (a unique prefix is enough)")
    mode = show.add_mutually_exclusive_group()
    mode.add_argument("--transcript", action="store_true", help="render the turns readably")
    mode.add_argument("--json", action="store_true", help="print the saved JSON")
    delete = ssub.add_parser("delete", help="delete sessions")
    delete.add_argument("ids", nargs="+", metavar="ID")
    p.set_defaults(func=sessions_command)


def sessions_command(args: argparse.Namespace) -> int:
    store = SessionStore(getattr(args, "workspace", ".") or ".")
    try:
        if args.sessions_action == "list":
            return _list(store, args)
        if args.sessions_action == "show":
            return _show(store, args)
        if args.sessions_action == "delete":
            code = 0
            for text in args.ids:
                try:
                    sid = store.resolve(text)
                    store.delete(sid)
                    print(f"deleted {sid}")
                except SessionError as exc:
                    print(f"smallcode: {exc}", file=sys.stderr)
                    code = 1
            return code
    except SessionError as exc:
        print(f"smallcode: {exc}", file=sys.stderr)
        return 1
    raise AssertionError(f"unknown sessions action {args.sessions_action}")


def _list(store: SessionStore, args: argparse.Namespace) -> int:
    infos = store.list(limit=args.limit)
    if args.json:
        print(json.dumps([{"id": i.id, "created": i.created, "updated": i.updated,
                           "title": i.title, "model": i.model, "messages": i.messages,
                           "size": i.size} for i in infos], indent=2, ensure_ascii=False))
        return 0
    if not infos:
        print("no saved sessions in this project")
        return 0
    print(f"{'ID':<20} {'UPDATED':<16} {'MSGS':>4}  {'MODEL':<20} TITLE")
    for i in infos:
        print(f"{i.id:<20} {format_time(i.updated):<16} {i.messages:>4}  {i.model[:20]:<20} "
              f"{i.title}")
    return 0


def _show(store: SessionStore, args: argparse.Namespace) -> int:
    sid = store.resolve(args.id)
    data = store.load(sid)
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    if args.transcript:
        sys.stdout.write(render_transcript(data))
        return 0
    info = store.info(sid)
    print(f"id        {sid}")
    print(f"created   {format_time(info.created)}")
    print(f"updated   {format_time(info.updated)}")
    if info.model:
        print(f"model     {info.model}")
    if data.get("workspace"):
        print(f"workspace {data['workspace']}")
    print(f"messages  {info.messages}")
    print(f"title     {info.title}")
    usage: Any = data.get("usage")
    if isinstance(usage, dict) and usage:
        print("usage     " + ", ".join(f"{k} {v}" for k, v in usage.items()
                                       if isinstance(v, int | float | str)))
    plan: Any = data.get("plan")
    if isinstance(plan, dict) and isinstance(plan.get("steps"), list):
        print("plan")
        for step in plan["steps"]:
            if isinstance(step, dict):
                print(f"  [{step.get('status', '?')}] {step.get('title') or step.get('text', '')}")
    tasks: Any = data.get("tasks")
    if isinstance(tasks, list) and tasks:
        print("tasks")
        for task in tasks:
            if isinstance(task, dict):
                mark = "ok  " if task.get("success") else "fail"
                text = " ".join(str(task.get("task", "")).split())
                print(f"  [{mark}] {text[:70]}")
    print(f"\n(use `smallcode sessions show {sid} --transcript` for the conversation)")
    return 0
