"""`smallcode memory add|search|list|forget|export|import`: the project's long-term memory from a shell."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from smallcode.core.memory.database import DatabaseError
from smallcode.core.memory.store import (
    MEMORY_TYPES,
    MemoryEntry,
    MemoryStore,
    MemoryStoreError,
    classify_memory,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("memory", help="the project's long-term memory: add, search, list, forget",
                       description="Notes the agent loads at the start of relevant tasks, stored "
                                   "in .smallcode/memory.duckdb.")
    msub = p.add_subparsers(dest="memory_action", metavar="ACTION", required=True)

    add = msub.add_parser("add", help="save a note")
    add.add_argument("content", nargs="+", help="the note's text")
    add.add_argument("--type", choices=MEMORY_TYPES,
                     help="kind of note (default: guessed from the text)")
    add.add_argument("--title", default="", help="short title (default: the first sentence)")
    add.add_argument("--tags", default="", help="comma-separated keywords")

    search = msub.add_parser("search", help="find notes by keywords (BM25)")
    search.add_argument("query", nargs="+")
    search.add_argument("--limit", type=int, default=10)
    search.add_argument("--json", action="store_true", help="print JSON")

    lst = msub.add_parser("list", help="list notes, most recently updated first")
    lst.add_argument("--type", choices=MEMORY_TYPES)
    lst.add_argument("--limit", type=int, default=50)
    lst.add_argument("--json", action="store_true", help="print JSON")

    forget = msub.add_parser("forget", help="delete notes by id")
    forget.add_argument("ids", nargs="+", type=int, metavar="ID")

    export = msub.add_parser("export", help="every note as JSON")
    export.add_argument("-o", "--output", help="write to this file instead of stdout")

    imp = msub.add_parser("import", help="add the notes of an export file (duplicates skipped)")
    imp.add_argument("file", help="a JSON list as written by `smallcode memory export`")

    p.set_defaults(func=memory_command)


def _print_entries(entries: list[MemoryEntry], as_json: bool) -> None:
    if as_json:
        print(json.dumps([e.to_dict() for e in entries], indent=2, ensure_ascii=False))
        return
    for e in entries:
        tags = f"  [{', '.join(e.tags)}]" if e.tags else ""
        score = f"  score {e.score:.2f}" if e.score is not None else ""
        print(f"#{e.id:<5} {e.type:<10} {e.title}{tags}{score}")
        if e.content.strip() != e.title.strip():
            for line in e.content.splitlines():
                print(f"       {line}")


def memory_command(args: argparse.Namespace) -> int:
    root = Path(getattr(args, "workspace", ".") or ".")
    if not root.is_dir():
        print(f"smallcode: workspace {root} is not a folder", file=sys.stderr)
        return 2
    try:
        store = MemoryStore.for_workspace(root)
    except DatabaseError as exc:
        print(f"smallcode: {exc}", file=sys.stderr)
        return 1
    try:
        return _run(store, args)
    except MemoryStoreError as exc:
        print(f"smallcode: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()


def _run(store: MemoryStore, args: argparse.Namespace) -> int:
    action = args.memory_action
    if action == "add":
        content = " ".join(args.content)
        type_ = args.type or classify_memory(content)
        tags = [t for t in args.tags.split(",") if t.strip()]
        entry_id, created = store.remember(type_, args.title, content, tags, source="cli")
        if created:
            print(f"remembered as {type_} #{entry_id}")
        else:
            print(f"already remembered as #{entry_id} (same content); nothing added")
        return 0
    if action == "search":
        hits = store.search(" ".join(args.query), limit=args.limit)
        if not hits and not args.json:
            print("no matching notes")
            return 0
        _print_entries(hits, args.json)
        return 0
    if action == "list":
        entries = store.list(type=args.type, limit=args.limit)
        if not entries and not args.json:
            print("no notes yet (add one with `smallcode memory add ...`)")
            return 0
        _print_entries(entries, args.json)
        return 0
    if action == "forget":
        code = 0
        for entry_id in args.ids:
            if store.forget(entry_id):
                print(f"forgot #{entry_id}")
            else:
                print(f"smallcode: no note #{entry_id}", file=sys.stderr)
                code = 1
        return code
    if action == "export":
        text = json.dumps(store.export(), indent=2, ensure_ascii=False) + "\n"
        if args.output:
            Path(args.output).write_text(text, encoding="utf-8")
            print(f"exported {store.count()} notes to {args.output}")
        else:
            sys.stdout.write(text)
        return 0
    if action == "import":
        try:
            entries = json.loads(Path(args.file).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            print(f"smallcode: cannot read {args.file}: {exc}", file=sys.stderr)
            return 2
        if not isinstance(entries, list):
            print(f"smallcode: {args.file}: expected a JSON list of notes", file=sys.stderr)
            return 2
        added, skipped = store.import_entries(entries)
        print(f"imported {added} notes ({skipped} duplicates skipped)")
        return 0
    raise AssertionError(f"unknown memory action {action}")
