"""File tools: read_file, write_file, patch, find_files, search, finish.

All paths go through :class:`Workspace` (nothing outside it is read or written). Edits record the
pre-edit content for snapshots, respect a step worker's declared files, and report a diff plus the
validation result at once, so the model sees a broken edit in the same turn.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
import textwrap
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from ..edit.validate import recipe_tabs
from .registry import Tool, ToolContext, ToolError, ToolRegistry, ToolResult
from .workspace import WorkspaceError

MAX_READ_LINES = 400
WHOLE_FILE_LINES = 150  # files this short are always shown whole, whatever range was asked
MAX_READ_CHARS = 24_000
MAX_FILE_BYTES = 2_000_000
LARGE_WRITE_LINES = 400
MAX_FIND = 100
MAX_SEARCH = 60


def resolve_path(ctx: ToolContext, path: str, *, must_exist: bool = False) -> Path:
    try:
        return ctx.workspace.resolve(path, must_exist=must_exist)
    except WorkspaceError as exc:
        message = str(exc)
        if message.endswith("does not exist"):
            twin = _unique_twin(ctx, path)
            if twin is not None:
                return twin
            message += " (check the name with find_files, or create the file with write_file)"
        raise ToolError(message) from None


def _unique_twin(ctx: ToolContext, path: str) -> Path | None:
    """The one existing file a wrong path clearly means: a small model prefixes a folder
    (``tests/.github/workflows/ci.yml``) or drops one (``ci.yml``). Only when exactly one
    project file fits; otherwise None (the caller reports the missing path)."""
    want = path.strip().replace("\\", "/")
    while want.startswith("./"):
        want = want[2:]
    want = want.lstrip("/")
    if not want or any(c in want for c in "*?["):
        return None
    name = want.rsplit("/", 1)[-1]
    suffix, same_name = [], []
    for f in ctx.workspace.iter_files():
        rel = ctx.workspace.rel(f)
        if f.name != name:
            continue
        same_name.append(f)
        if want.endswith("/" + rel) or rel.endswith("/" + want):
            suffix.append(f)
    if len(same_name) == 1:
        return same_name[0]
    if len(suffix) == 1 and "/" in ctx.workspace.rel(suffix[0]):  # a folder path matched too
        return suffix[0]
    return None


def read_text(p: Path) -> str:
    if not p.is_file():
        raise ToolError(f"{p.name} is not a file")
    if p.stat().st_size > MAX_FILE_BYTES:
        raise ToolError(f"{p.name} is too large to read ({p.stat().st_size} bytes)")
    data = p.read_bytes()
    if b"\x00" in data[:8192]:
        raise ToolError(f"{p.name} looks binary; not reading it")
    return data.decode("utf-8", errors="replace")


def number_lines(text: str, start: int = 1) -> str:
    lines = text.splitlines()
    width = len(str(start + len(lines)))
    return "\n".join(f"{i:>{width}}| {line}" for i, line in enumerate(lines, start))


def match_context(text: str, starts: list[int], span: int, around: int = 2,
                  limit: int = 4) -> str:
    """Each match with the lines around it, numbered, so the model can pick a unique old_str."""
    lines = text.splitlines()
    parts = []
    for start in starts[:limit]:
        a = max(1, start - around)
        b = min(len(lines), start + span - 1 + around)
        parts.append(f"match at line {start}:\n" + number_lines("\n".join(lines[a - 1:b]), a))
    return "\n".join(parts)


def unified_diff(rel: str, old: str, new: str) -> str:
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        f"a/{rel}", f"b/{rel}", n=2))


def check_edit_allowed(ctx: ToolContext, rel: str, *, rename: bool = False) -> None:
    """Raise when ``rel`` may not be edited now: another plan step owns it, or it is a test
    file and the task does not ask to change the tests. ``rename``: the edit renames a name
    everywhere, and a test that uses the name must follow it (its meaning does not change)."""
    allowed = ctx.allowed_edit_paths
    if allowed is not None and rel not in allowed:
        raise ToolError(f"this step may only edit {', '.join(sorted(allowed)) or 'no files'}; "
                        f"{rel} belongs to another step")
    if ctx.task_state.protect_tests and not rename and (ctx.workspace.root / rel).is_file():
        from smallcode.core.edit.testrunner import is_test_file

        if is_test_file(rel):
            raise ToolError(f"{rel} is a test file and the task does not ask to change the "
                            "tests: they say what the code must do. Change the code under test "
                            "instead.")


def record_pre_edit(ctx: ToolContext, rel: str, p: Path) -> None:
    """Give the snapshot recorder the file's content before we change it (None = new file)."""
    snaps = ctx.services.snapshots
    if snaps is not None:
        snaps.record(rel, p.read_bytes() if p.exists() else None)


def validate_after_edit(ctx: ToolContext, p: Path) -> tuple[str, list[Any]]:
    """Validate an edited file at once; returns (text for the model, diagnostics)."""
    if not ctx.services.validate_edits:
        return "", []
    try:
        from smallcode.core.edit.validate import format_diagnostics, validate_file
    except ImportError:
        return "", []
    diags = validate_file(p, ctx.workspace.root)
    if not diags:
        return "", []
    return "\nVALIDATION FAILED:\n" + format_diagnostics(diags), diags


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def restore_escapes(new: str, old: str) -> str:
    """A model writing ``r'[^\\x00-\\x7f]'`` in JSON gets a real NUL byte after decoding; source
    code almost never holds raw control characters, so ones the file did not already contain
    are turned back into the escape text the model typed."""
    if not _CONTROL.search(new):
        return new
    present = set(_CONTROL.findall(old))
    return _CONTROL.sub(lambda m: m.group() if m.group() in present
                        else f"\\x{ord(m.group()):02x}", new)


def write_checked(ctx: ToolContext, rel: str, p: Path, new: str, *,
                  rename: bool = False) -> ToolResult:
    """Write ``new`` to ``p`` after the guards; returns the result with diff and validation.

    An edit that turns a valid file into an invalid one is not kept: the file is put back and
    the model gets the errors (a broken file would otherwise collect more broken edits)."""
    check_edit_allowed(ctx, rel, rename=rename)
    new = restore_escapes(new, read_text(p) if p.exists() else "")
    # a Makefile's recipe lines written with spaces (JSON arguments rarely carry a tab)
    new, _tabbed = recipe_tabs(rel, new)
    existed = p.exists()
    old_bytes = p.read_bytes() if existed else b""
    old = read_text(p) if existed else ""
    was_valid = existed and not validate_after_edit(ctx, p)[1]
    record_pre_edit(ctx, rel, p)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(new, encoding="utf-8")
    ctx.files_read.add(rel)  # the model knows the content it just wrote
    diff = unified_diff(rel, old, new)
    note, diags = validate_after_edit(ctx, p)
    if diags and was_valid:
        p.write_bytes(old_bytes)
        return ToolResult(ok=False, output="EDIT NOT APPLIED: it would break the file (the file "
                          "is unchanged)." + note, diff=diff,
                          data={"diagnostics": diags, "reverted": True, "path": rel})
    return ToolResult(ok=not diags, output=note.strip(), changed_files=[rel], diff=diff,
                      data={"diagnostics": diags, "path": rel, "before": old_bytes if existed
                            else None})


def undo_regression(ctx: ToolContext, result: ToolResult, test_run: Any) -> str:
    """Put a one-file edit back when it broke tests that passed when the task started. A small
    model otherwise builds on a broken file; one good state to return to is worth more. Returns
    the text for the model ("" when nothing was undone)."""
    broken = test_run.regressions(ctx.task_state.start_failures) if test_run is not None else []
    rel = result.data.get("path")
    before = result.data.get("before")
    if not broken or len(result.changed_files) != 1 or not isinstance(before, bytes) or not rel:
        return ""
    ctx.workspace.resolve(rel).write_bytes(before)
    result.ok = False
    result.changed_files = []
    result.data["undone"] = broken
    shown = ", ".join(broken[:3]) + (f" and {len(broken) - 3} more" if len(broken) > 3 else "")
    return (f"\nEDIT UNDONE: it broke tests that passed before ({shown}). {rel} is back as it "
            "was; make a different change.")


# -- read_file ---------------------------------------------------------------------------
class ReadFileArgs(BaseModel):
    path: str = Field(description="file path relative to the project root")
    start_line: int | None = Field(None, ge=1, description="first line to show (1-based)")
    end_line: int | None = Field(None, ge=1, description="last line to show")


def read_file(args: ReadFileArgs, ctx: ToolContext) -> ToolResult:
    if any(c in args.path for c in "*?["):
        return _read_glob(args.path, ctx)
    p = resolve_path(ctx, args.path, must_exist=True)
    if p.is_dir():
        entries = sorted(ctx.workspace.rel(c) + ("/" if c.is_dir() else "") for c in p.iterdir()
                         if not ctx.workspace.is_ignored(ctx.workspace.rel(c), c.is_dir()))
        return ToolResult(ok=True, output=f"{args.path} is a directory:\n" + "\n".join(entries[:200]))
    text = read_text(p)
    rel = ctx.workspace.rel(p)
    lines = text.splitlines()
    start = max(1, args.start_line or 1)
    end = min(len(lines), args.end_line or len(lines))
    if len(lines) <= WHOLE_FILE_LINES and start <= len(lines):
        start, end = 1, len(lines)  # a small model asking for lines 1-1 wants the file
    if start > max(1, len(lines)):
        raise ToolError(f"{rel} has only {len(lines)} lines")
    chosen = lines[start - 1:end]
    note = ""
    if len(chosen) > MAX_READ_LINES:
        chosen = chosen[:MAX_READ_LINES]
        end = start + MAX_READ_LINES - 1
        note = f"\n[showing lines {start}-{end} of {len(lines)}; read more with start_line={end + 1}]"
    body = number_lines("\n".join(chosen), start)
    if len(body) > MAX_READ_CHARS:
        body = body[:MAX_READ_CHARS]
        note = f"\n[cut at {MAX_READ_CHARS} characters; use start_line/end_line for a range]"
    ctx.files_read.add(rel)
    header = f"{rel} ({len(lines)} lines)" if (start, end) == (1, len(lines)) else \
        f"{rel} lines {start}-{end} of {len(lines)}"
    return ToolResult(ok=True, output=f"{header}\n{body}{note}", data={"path": rel})


def _read_glob(pattern: str, ctx: ToolContext, max_files: int = 4) -> ToolResult:
    """A model passing a glob as the path wants those files: list them, show the first few."""
    found = find_files(FindFilesArgs(pattern=pattern), ctx).data.get("files") or []
    if not found:
        raise ToolError(f"no files match {pattern!r}")
    parts = [f"{len(found)} file{'s match' if len(found) != 1 else ' matches'} {pattern!r}: "
             + ", ".join(found[:50])]
    for rel in found[:max_files]:
        parts.append(read_file(ReadFileArgs(path=rel), ctx).output)
    if len(found) > max_files:
        parts.append(f"[{len(found) - max_files} more not shown; read them by name]")
    return ToolResult(ok=True, output="\n\n".join(parts), data={"files": found})


# -- write_file --------------------------------------------------------------------------
class WriteFileArgs(BaseModel):
    path: str = Field(description="file path relative to the project root")
    content: str = Field(description="the complete new file content")


def write_file(args: WriteFileArgs, ctx: ToolContext) -> ToolResult:
    p = resolve_path(ctx, args.path)
    rel = ctx.workspace.rel(p)
    if p.is_dir():
        raise ToolError(f"{rel} is a directory")
    if p.exists() and rel not in ctx.files_read and rel not in ctx.refused_writes:
        ctx.refused_writes.add(rel)
        raise ToolError(f"{rel} exists and you have not read it. Read it first, or use patch to "
                        f"change part of it (writing again will overwrite it).")
    result = write_checked(ctx, rel, p, args.content)
    if result.data.get("reverted"):
        result.output = f"{rel}: " + result.output
        return result
    n = args.content.count("\n") + 1
    verb = "wrote" if result.diff else "unchanged"
    result.output = f"{verb} {rel} ({n} lines)" + ("\n" + result.output if result.output else "")
    if n > LARGE_WRITE_LINES:
        result.output += ("\nHint: for large files write a short skeleton first, then fill it in "
                          "with patch calls.")
    return result


# -- patch --------------------------------------------------------------------------------
class PatchArgs(BaseModel):
    path: str = Field(description="file to edit, relative to the project root")
    old_str: str = Field(description="exact existing text to replace (include enough lines to be unique)")
    new_str: str = Field(description="replacement text")
    line: int | None = Field(None, ge=1, description="only when old_str occurs more than once: "
                                                     "the line where the one to change starts")


def patch(args: PatchArgs, ctx: ToolContext) -> ToolResult:
    from smallcode.core.edit.patch import PatchError, apply_patch, apply_patch_at

    p = resolve_path(ctx, args.path, must_exist=True)
    rel = ctx.workspace.rel(p)
    check_edit_allowed(ctx, rel)
    text = read_text(p)
    try:
        try:
            outcome = apply_patch(text, args.old_str, args.new_str,
                                  ladder=ctx.services.patch_ladder)
        except PatchError as exc:
            if exc.kind != "ambiguous" or args.line is None:
                raise
            outcome = apply_patch_at(text, args.old_str, args.new_str, args.line)
    except PatchError as exc:
        if _adds_after_missing_anchor(exc, args, ctx, text):
            return _append(ctx, rel, p, text, args)
        message = str(exc)
        if exc.kind == "ambiguous" and exc.lines:
            message += "\n" + match_context(text, exc.lines, args.old_str.count("\n") + 1)
        raise ToolError(f"patch failed on {rel}: {message}") from None
    result = write_checked(ctx, rel, p, outcome.new_text)
    if result.data.get("reverted"):
        result.output = f"{rel} lines {outcome.matched_start}-{outcome.matched_end}: " \
            + result.output
        return result
    how = "" if outcome.strategy == "exact" else f" (matched by {outcome.strategy})"
    head = f"patched {rel} lines {outcome.start_line}-{outcome.end_line}{how}"
    result.output = head + ("\n" + result.output if result.output else "")
    result.data["strategy"] = outcome.strategy
    return result


_HEADER_NAME = re.compile(r"^\s*(?:async\s+)?(?:def|class|function|fn|func)\s+([A-Za-z_$][\w$]*)"
                          r"|^([A-Za-z_][\w.-]*)\s*:(?!=)")
_METHOD = re.compile(r"^\s*(?:async\s+)?def\s+\w+\(\s*(?:self|cls)\b")
_CLASS = re.compile(r"^class\s+\w+", re.MULTILINE)


def _adds_after_missing_anchor(exc: Any, args: PatchArgs, ctx: ToolContext, text: str) -> bool:
    """A small model adding something new (a Makefile target, a function, a method) often
    "patches" the header it is about to add: old_str ``clean:`` is nowhere in the file and
    new_str is ``clean:`` plus its body. That is an addition, as long as the file has nothing
    of that name yet (else it is a botched edit of the existing one, and the error stands)."""
    old, new = args.old_str.strip(), args.new_str.strip()
    if exc.kind != "no_match" or not ctx.services.patch_ladder or not old or "\n" in old \
            or not new.startswith(old) or len(new) <= len(old):
        return False
    m = _HEADER_NAME.match(old)
    if m is None:
        return (exc.similarity or 0.0) < 0.6
    name = m.group(1) or m.group(2)
    return re.search(rf"(?<![\w$]){re.escape(name)}\s*[(:=]", text) is None


def _class_end(lines: list[str]) -> tuple[int, str] | None:
    """(index after the last line of the file's only top-level class, its body indent)."""
    starts = [i for i, line in enumerate(lines) if _CLASS.match(line)]
    if len(starts) != 1:
        return None
    i = starts[0] + 1
    end, indent = i, ""
    while i < len(lines):
        line = lines[i]
        if line.strip() and not line[0].isspace():
            break
        if line.strip():
            indent = indent or line[:len(line) - len(line.lstrip())]
            end = i + 1
        i += 1
    return end, indent or "    "


def _append(ctx: ToolContext, rel: str, p: Path, text: str, args: PatchArgs) -> ToolResult:
    new = args.new_str.strip("\n")
    lines = text.splitlines()
    spot = _class_end(lines) if p.suffix == ".py" and _METHOD.match(new) else None
    if spot is not None:  # a method: at the end of the class, at the class body's indent
        end, indent = spot
        block = textwrap.indent(textwrap.dedent(new), indent).splitlines()
        new_lines = lines[:end] + [""] + block + lines[end:]
        start, where = end + 2, f"to the end of the class in {rel}"
        new_text = "\n".join(new_lines) + "\n"
    else:
        body = text.rstrip("\n")
        start, where = body.count("\n") + (3 if body else 1), f"to the end of {rel}"
        new_text = (body + "\n\n" if body else "") + new + "\n"
        block = new.splitlines()
    result = write_checked(ctx, rel, p, new_text)
    if result.data.get("reverted"):
        return result
    head = (f"added {where} (lines {start}-{start + len(block) - 1}): old_str was not in the "
            "file and new_str starts with it, so this is new text")
    result.output = head + ("\n" + result.output if result.output else "")
    result.data["strategy"] = "append"
    return result


async def patch_with_merge_fallback(args: PatchArgs, ctx: ToolContext) -> ToolResult:
    """The `patch` tool: the matching ladder, then (when nothing matches and a model is in the
    context) a region-limited semantic merge as the last resort."""
    from .compound import PatchFileArgs, patch_or_merge

    return await patch_or_merge(PatchFileArgs(**args.model_dump()), ctx)


# -- find_files / search ------------------------------------------------------------------
class FindFilesArgs(BaseModel):
    pattern: str = Field(description="glob like '**/*.py' or 'src/*.js', or part of a file name")


def find_files(args: FindFilesArgs, ctx: ToolContext) -> ToolResult:
    pat = args.pattern.strip().lstrip("./") or "*"
    wild = any(c in pat for c in "*?[")
    hits: list[str] = []
    total = 0
    for f in ctx.workspace.iter_files():
        rel = ctx.workspace.rel(f)
        if wild:
            ok = fnmatch.fnmatch(rel, pat) or fnmatch.fnmatch(f.name, pat) or \
                ("**/" in pat and fnmatch.fnmatch(rel, pat.replace("**/", "")))  # ** = 0+ dirs
        else:
            ok = pat.lower() in rel.lower()
        if ok:
            total += 1
            if len(hits) < MAX_FIND:
                hits.append(rel)
    if not hits:
        return ToolResult(ok=True, output=f"no files match {args.pattern!r}")
    more = f"\n[{total - len(hits)} more not shown; narrow the pattern]" if total > len(hits) else ""
    return ToolResult(ok=True, output="\n".join(hits) + more, data={"files": hits})


class SearchArgs(BaseModel):
    query: str = Field(description="text or regular expression to search for")
    path: str | None = Field(None, description="limit to this folder or file")
    regex: bool = Field(False, description="treat query as a regular expression")


def search(args: SearchArgs, ctx: ToolContext) -> ToolResult:
    if not args.query:
        raise ToolError("query is empty")
    try:
        rx = re.compile(args.query if args.regex else re.escape(args.query), re.IGNORECASE)
    except re.error as exc:
        raise ToolError(f"bad regular expression: {exc}") from None
    under = None
    if args.path:
        under = ctx.workspace.rel(resolve_path(ctx, args.path, must_exist=True))
    hits: list[str] = []
    total = 0
    for f in ctx.workspace.iter_files(under):
        try:
            if f.stat().st_size > MAX_FILE_BYTES:
                continue
            data = f.read_bytes()
        except OSError:
            continue
        if b"\x00" in data[:4096]:
            continue
        rel = ctx.workspace.rel(f)
        for n, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
            if rx.search(line):
                total += 1
                if len(hits) < MAX_SEARCH:
                    hits.append(f"{rel}:{n}: {line.strip()[:200]}")
    if not hits:
        return ToolResult(ok=True, output=f"no matches for {args.query!r}")
    more = f"\n[{total - len(hits)} more matches not shown; narrow the query or path]" \
        if total > len(hits) else ""
    return ToolResult(ok=True, output="\n".join(hits) + more, data={"matches": total})


# -- finish ---------------------------------------------------------------------------------
class FinishArgs(BaseModel):
    summary: str = Field("", description="what you did, in one or two sentences")


def finish(args: FinishArgs, ctx: ToolContext) -> ToolResult:
    return ToolResult(ok=True, output=args.summary or "done", data={"finish": True})


def register(registry: ToolRegistry, settings: Any = None) -> None:
    registry.register(Tool("read_file", "Read a file with numbered lines (optionally a line range).",
                           ReadFileArgs, read_file, frozenset({"read", "write", "code_intel", "plan"})))
    registry.register(Tool("write_file", "Create a file or replace its whole content.",
                           WriteFileArgs, write_file, frozenset({"write", "plan"}), mutates=True))
    registry.register(Tool("patch", "Replace one exact snippet of a file with new text.",
                           PatchArgs, patch_with_merge_fallback, frozenset({"write", "plan"}),
                           mutates=True))
    registry.register(Tool("find_files", "List project files matching a glob or name.",
                           FindFilesArgs, find_files, frozenset({"read", "plan"})))
    registry.register(Tool("search", "Search file contents for text (grep); returns file:line hits.",
                           SearchArgs, search, frozenset({"search", "plan"})))
    registry.register(Tool("finish", "Call when the task is complete, with a short summary.",
                           FinishArgs, finish, frozenset({"read", "write", "search", "run", "plan",
                                                          "code_intel", "web"})))
