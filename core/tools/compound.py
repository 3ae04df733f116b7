"""Compound tools: one call instead of a chain, because small models lose coherence after 3+ calls.

- ``find_and_read``: find files by glob/name or by content, and read the best matches (capped).
- ``read_and_patch``: read a file, patch it, return the patched region with line numbers.
- ``create_and_run``: write a file, then run a command (e.g. the script or its test).
- ``edit_and_verify``: patch, validate, run the tests that cover the file; one result, with the
  improvement loop's advice when something failed.

Every step goes through the plain tools' own functions (``files.read_file``, ``files.patch``,
``files.write_file``, ``shell.bash``), so path confinement, the allowed-edit-paths of a step
worker, read-before-write, snapshots and validation are exactly the same.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, model_validator
from smallcode.core.edit.loop import ImprovementLoop, as_diagnostic
from smallcode.core.edit.merge import semantic_merge
from smallcode.core.edit.patch import PatchError, apply_patch
from smallcode.core.edit.testrunner import TestRun, detect_test_runner, run_tests, tests_for_file
from smallcode.core.edit.validate import Diagnostic

from . import files, shell
from .registry import Tool, ToolContext, ToolError, ToolRegistry, ToolResult

MAX_FILES_READ = 3
MAX_TOTAL_CHARS = 12_000
LARGE_FILE_LINES = 200  # beyond this, find_and_read shows a window around the first hit
WINDOW_BEFORE, WINDOW_AFTER = 30, 90
REGION_CONTEXT = 3  # lines shown around a patched region

_HIT = re.compile(r"^(?P<path>[^\n:]+):(?P<line>\d+): ", re.MULTILINE)
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@", re.MULTILINE)


# -- find_and_read ------------------------------------------------------------------------
class FindAndReadArgs(BaseModel):
    pattern: str | None = Field(None, description="glob like 'src/**/*.py' or part of a file name")
    query: str | None = Field(None, description="text to search for inside files")
    max_files: int = Field(MAX_FILES_READ, ge=1, le=5, description="how many files to read")

    @model_validator(mode="after")
    def _one_of(self) -> FindAndReadArgs:
        if not (self.pattern or "").strip() and not (self.query or "").strip():
            raise ValueError("give a pattern (file names) or a query (file contents)")
        return self


def _ranked_by_hits(output: str) -> list[tuple[str, int, int]]:
    """(path, hit count, first hit line) from ``search`` output, most hits first."""
    stats: dict[str, list[int]] = {}
    for m in _HIT.finditer(output):
        stats.setdefault(m.group("path"), []).append(int(m.group("line")))
    ranked = [(p, len(lines), min(lines)) for p, lines in stats.items()]
    return sorted(ranked, key=lambda r: (-r[1], r[0]))


def find_and_read(args: FindAndReadArgs, ctx: ToolContext) -> ToolResult:
    chosen: list[tuple[str, int | None]] = []  # (path, line to centre on)
    listing = ""
    if args.query and args.query.strip():
        found = files.search(
            files.SearchArgs(query=args.query.strip(), path=None, regex=False), ctx
        )
        ranked = _ranked_by_hits(found.output)
        if args.pattern and args.pattern.strip():
            wanted = set(_find_names(args.pattern, ctx))
            ranked = [r for r in ranked if r[0] in wanted]
        if not ranked:
            return ToolResult(
                ok=True,
                output=f"no file contains {args.query!r}"
                + (f" among files matching {args.pattern!r}" if args.pattern else ""),
            )
        listing = "matches: " + ", ".join(f"{p} ({n})" for p, n, _ in ranked[:8])
        chosen = [(p, first) for p, _, first in ranked[: args.max_files]]
    else:
        names = _find_names(args.pattern or "", ctx)
        if not names:
            return ToolResult(ok=True, output=f"no files match {args.pattern!r}")
        listing = "files: " + ", ".join(names[:20]) + (" ..." if len(names) > 20 else "")
        chosen = [(p, None) for p in names[: args.max_files]]
    parts = [listing]
    budget = MAX_TOTAL_CHARS
    read: list[str] = []
    for rel, line in chosen:
        if budget <= 500:
            parts.append(f"[{rel} not shown: output budget used; read it with read_file]")
            continue
        start = end = None
        total = _line_count(ctx, rel)
        if line is not None and total > LARGE_FILE_LINES:
            start, end = max(1, line - WINDOW_BEFORE), min(total, line + WINDOW_AFTER)
        try:
            got = files.read_file(files.ReadFileArgs(path=rel, start_line=start, end_line=end), ctx)
        except ToolError as exc:
            parts.append(f"[{rel}: {exc}]")
            continue
        text = got.output
        if len(text) > budget:
            text = text[:budget] + "\n[cut: output budget used; read the rest with read_file]"
        budget -= len(text)
        parts.append(text)
        read.append(rel)
    return ToolResult(ok=True, output="\n\n".join(parts), data={"files": read})


def _find_names(pattern: str, ctx: ToolContext) -> list[str]:
    got = files.find_files(files.FindFilesArgs(pattern=pattern), ctx)
    return list(got.data.get("files", []))


def _line_count(ctx: ToolContext, rel: str) -> int:
    try:
        p = files.resolve_path(ctx, rel, must_exist=True)
        return files.read_text(p).count("\n") + 1
    except (ToolError, OSError):
        return 0


# -- shared patch step ------------------------------------------------------------------
class PatchFileArgs(BaseModel):
    path: str = Field(description="file to edit, relative to the project root")
    old_str: str = Field(description="existing text to replace (enough lines to be unique)")
    new_str: str = Field(description="replacement text")
    line: int | None = Field(None, ge=1, description="only when old_str occurs more than once: "
                                                     "the line where the one to change starts")


MERGE_MIN_SIMILARITY = 0.6


async def patch_or_merge(args: PatchFileArgs, ctx: ToolContext) -> ToolResult:
    """``files.patch``; when nothing matches and a model is available, a semantic merge of the
    intended change (region-limited, never truncating) written through the same guards."""
    try:
        return files.patch(
            files.PatchArgs(path=args.path, old_str=args.old_str, new_str=args.new_str,
                            line=args.line), ctx
        )
    except ToolError as exc:
        model = ctx.services.model
        if model is None or not ctx.services.patch_ladder:
            raise
        p = files.resolve_path(ctx, args.path, must_exist=True)
        rel = ctx.workspace.rel(p)
        text = files.read_text(p)
        try:
            apply_patch(text, args.old_str, args.new_str)
        except PatchError as why:
            # merge only when the intended region is recognisable; an old_str that resembles
            # nothing in the file is a wrong file or a hallucination, not a file that moved
            if why.kind != "no_match" or (why.similarity or 0.0) < MERGE_MIN_SIMILARITY:
                raise exc from None
        merged = await semantic_merge(
            model,
            text,
            args.old_str,
            args.new_str,
            timeout=ctx.services.merge_timeout,
            path=rel,
        )
        if merged is None:
            raise exc from None
        result = files.write_checked(ctx, rel, p, merged)
        result.output = (
            f"patched {rel} by semantic merge (old_str did not match; the change "
            f"was merged into the current text - check it)"
            + ("\n" + result.output if result.output else "")
        )
        result.data["strategy"] = "merge"
        return result


def _patched_region(ctx: ToolContext, rel: str, result: ToolResult) -> str:
    """The changed lines of the file as it is now (the diff's hunks, with their context)."""
    spans = [(int(s), int(c) if c else 1) for s, c in _HUNK.findall(result.diff)]
    if not spans:
        return ""
    lines = files.read_text(files.resolve_path(ctx, rel, must_exist=True)).splitlines()
    start = max(1, min(s for s, _ in spans) - REGION_CONTEXT + 2)
    end = min(len(lines), max(s + c - 1 for s, c in spans) + REGION_CONTEXT - 2)
    return files.number_lines("\n".join(lines[start - 1 : max(start, end)]), start)


# -- read_and_patch -------------------------------------------------------------------------
async def read_and_patch(args: PatchFileArgs, ctx: ToolContext) -> ToolResult:
    p = files.resolve_path(ctx, args.path, must_exist=True)
    rel = ctx.workspace.rel(p)
    files.read_text(p)  # a readable text file, or a clear error
    ctx.files_read.add(rel)
    result = await patch_or_merge(args, ctx)
    region = _patched_region(ctx, rel, result)
    if region:
        result.output += f"\n{rel} now reads:\n{region}"
    return result


# -- create_and_run -------------------------------------------------------------------------
class CreateAndRunArgs(BaseModel):
    path: str = Field(description="file to create or overwrite, relative to the project root")
    content: str = Field(description="the complete file content")
    command: str = Field(description="shell command to run afterwards, e.g. 'python script.py'")
    timeout: float | None = Field(None, gt=0, le=1800, description="seconds for the command")


async def create_and_run(args: CreateAndRunArgs, ctx: ToolContext) -> ToolResult:
    written = files.write_file(files.WriteFileArgs(path=args.path, content=args.content), ctx)
    if not written.ok:
        written.output += "\nThe command was not run because the file has errors."
        return written
    ran = await shell.bash(shell.BashArgs(command=args.command, timeout=args.timeout), ctx)
    return ToolResult(
        ok=ran.ok,
        output=f"{written.output}\n$ {args.command}\n{ran.output}",
        changed_files=written.changed_files,
        diff=written.diff,
        data={**written.data, **ran.data},
    )


# -- edit_and_verify --------------------------------------------------------------------------
def _loop(ctx: ToolContext) -> ImprovementLoop:
    loop = ctx.task_state.improvement_loop
    if loop is None:
        loop = ImprovementLoop(
            workspace_root=ctx.workspace.root,
            escalation_available=ctx.services.can_escalate,
        )
        ctx.task_state.improvement_loop = loop
    return loop


async def edit_and_verify(args: PatchFileArgs, ctx: ToolContext) -> ToolResult:
    p = files.resolve_path(ctx, args.path, must_exist=True)
    rel = ctx.workspace.rel(p)
    ctx.files_read.add(rel)
    result = await patch_or_merge(args, ctx)
    if not ctx.services.validate_edits:
        return result  # validation is switched off (the ablation): a plain patch
    diags = _diagnostics(result)
    test_run: TestRun | None = None
    if not diags:
        test_run = await _covering_tests(ctx, p)
        if test_run is not None:
            result.output += f"\nTests: {test_run.compact()}"
            result.data["tests"] = {
                "ok": test_run.ok,
                "summary": test_run.summary,
                "failures": test_run.failures,
            }
            result.output += files.undo_regression(ctx, result, test_run)
        else:
            result.output += "\nNo tests cover this file; nothing else was run."
    feedback = _loop(ctx).after_edit(rel, diags, test_run)
    result.ok = feedback.ok and not result.data.get("undone")
    result.data["stage"] = feedback.stage
    if not feedback.ok:
        result.output += "\n" + feedback.message_for_model
    return result


def _diagnostics(result: ToolResult) -> list[Diagnostic]:
    return [as_diagnostic(d) for d in result.data.get("diagnostics", [])]


async def _covering_tests(ctx: ToolContext, p: Path) -> TestRun | None:
    root = ctx.workspace.root
    runner = await asyncio.to_thread(detect_test_runner, root, p)
    if runner is None:
        return None
    targets = await asyncio.to_thread(tests_for_file, root, p)
    if not targets and runner.name not in ("go", "cargo"):
        return None
    timeout = ctx.services.test_timeout
    return await asyncio.to_thread(run_tests, runner, targets, timeout)


def register(registry: ToolRegistry, settings: Any = None) -> None:
    registry.register(
        Tool(
            "find_and_read",
            "Find files by name pattern or by text inside them, and read the best "
            "matches in one call.",
            FindAndReadArgs,
            find_and_read,
            frozenset({"read"}),
        )
    )
    registry.register(
        Tool(
            "read_and_patch",
            "Patch a file (replace old_str with new_str) and show the changed lines, in one call.",
            PatchFileArgs,
            read_and_patch,
            frozenset({"plan"}),
            mutates=True,
        )
    )
    registry.register(
        Tool(
            "create_and_run",
            "Create a file and run a command (e.g. the script or its test) in one call.",
            CreateAndRunArgs,
            create_and_run,
            frozenset({"run"}),
            mutates=True,
            runs_commands=True,
        )
    )
    registry.register(
        Tool(
            "edit_and_verify",
            "Patch a file, check it, and run the tests that cover it, in one call.",
            PatchFileArgs,
            edit_and_verify,
            frozenset({"write", "run"}),
            mutates=True,
            runs_commands=True,
        )
    )
