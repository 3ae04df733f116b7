"""Turn a :class:`RawCall` into a validated call on a registered tool, or a precise problem.

Names: exact, then case/underscore/hyphen-insensitive, then common aliases (``cat`` → read_file,
``str_replace`` → patch, ``shell`` → bash, ``done`` → finish), then edit distance ≤ 2. Argument
keys: spelling variants (``filePath`` → ``file_path``) and synonym groups (``file_path`` →
``path``, ``cmd`` → ``command``), driven by the tool's own field names. Values: light type
coercion (a number for a string field becomes a string). Then pydantic via ``registry.validate``.
"""

from __future__ import annotations

import difflib
import json
import shlex
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from smallcode.core.toolcalls.extraction import RawCall
from smallcode.core.toolcalls.names import (
    TOOL_ALIASES,
    fold_name,
    name_variants,
    snake_name,
    squash_name,
)
from smallcode.core.toolcalls.python_calls import POSITIONAL_KEY
from smallcode.core.tools.registry import ToolArgsError, ToolError, ToolRegistry

__all__ = [
    "ARGUMENT_SYNONYMS",
    "TOOL_ALIASES",
    "CallProblem",
    "ResolvedCall",
    "resolve_call",
    "resolve_tool_name",
]


@dataclass
class ResolvedCall:
    """A call that names a registered tool and whose arguments validated."""

    name: str
    arguments: dict[str, Any]  # after key mapping and coercion; what validated
    args: BaseModel  # the validated pydantic model
    raw: RawCall
    fixes: list[str] = field(default_factory=list)  # e.g. "name 'cat' -> 'read_file'"


@dataclass
class CallProblem:
    """Why a call cannot run, phrased for the model, plus what it should have looked like."""

    kind: str  # unknown_tool | invalid_arguments | truncated | unparseable
    message: str  # one or two short sentences for the model
    tool: str | None = None  # the resolved tool, when the name was fine
    raw: RawCall | None = None
    suggestions: list[str] = field(default_factory=list)  # nearest valid tool names
    example: str = ""  # an exact, valid call in the expected format (JSON object text)
    fixes: list[str] = field(default_factory=list)


ARGUMENT_SYNONYMS: tuple[frozenset[str], ...] = tuple(frozenset(g) for g in (
    {"path", "file_path", "filepath", "filename", "file", "file_name", "fname", "target_file",
     "relative_path", "target", "file_location", "path_to_file", "abs_path", "absolute_path"},
    {"old_str", "old", "old_string", "search", "find", "old_text", "original", "before",
     "search_text", "original_text", "from_str", "target_str", "old_code", "search_str"},
    {"new_str", "new", "new_string", "replace", "replacement", "new_text", "after",
     "replace_text", "replacement_text", "to_str", "new_code", "replace_str", "replace_with"},
    {"command", "cmd", "script", "shell_command", "bash_command", "commands", "shell", "cmd_line",
     "command_line", "run"},
    {"content", "contents", "text", "data", "file_content", "body", "file_contents", "code",
     "source", "new_content"},
    {"pattern", "glob", "glob_pattern", "file_pattern", "name_pattern", "filename_pattern",
     "mask", "name"},
    {"query", "search_query", "regex", "q", "term", "search_term", "keyword", "pattern",
     "search_pattern", "text", "search", "string", "needle"},
    {"summary", "message", "result", "answer", "final_answer", "response", "explanation",
     "text", "reason", "output", "conclusion", "description"},
    {"start_line", "start", "line_start", "from_line", "begin_line", "start_line_number",
     "first_line", "line", "offset", "startline", "line_from"},
    {"end_line", "end", "line_end", "to_line", "last_line", "end_line_number", "endline",
     "line_to", "stop_line"},
))
"""Groups of argument names that mean the same thing; a key maps to the one field of its group
that the tool has (and only when exactly one such field is free)."""

def _fold(name: str) -> str:
    return fold_name(name)


def _squash(name: str) -> str:
    return squash_name(name)


def _snake(name: str) -> str:
    return snake_name(name)


def resolve_tool_name(name: str, registry: ToolRegistry) -> tuple[str | None, str]:
    """Map a written name to a registered tool: ``(tool or None, how)``."""
    names = registry.names()
    if name in names:
        return name, "exact"
    candidates = name_variants(name)
    by_fold = {_fold(n): n for n in names}
    by_squash = {_squash(n): n for n in names}
    for cand in candidates:
        if cand in names:
            return cand, "prefix"
        for key, table in ((_snake(cand), by_fold), (_fold(cand), by_fold),
                           (_squash(cand), by_squash)):
            if key in table:
                return table[key], "spelling"
    for cand in candidates:
        folded = _snake(cand)
        for canonical, aliases in TOOL_ALIASES.items():
            if canonical in names and (folded in aliases or _squash(cand) in
                                       {_squash(a) for a in aliases}):
                return canonical, "alias"
    best: tuple[int, str] | None = None
    ambiguous = False
    for cand in candidates:
        folded = _snake(cand)
        for real in names:
            dist = _edit_distance(folded, _fold(real))
            if dist <= 2 and dist < max(len(folded), len(real)) // 2 + 1:
                if best is None or dist < best[0]:
                    best, ambiguous = (dist, real), False
                elif dist == best[0] and real != best[1]:
                    ambiguous = True
    if best is not None and not ambiguous:
        return best[1], "edit_distance"
    return None, "unknown"


def _edit_distance(a: str, b: str) -> int:
    if abs(len(a) - len(b)) > 2:
        return 3
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def nearest_tool_names(name: str, registry: ToolRegistry, limit: int = 3) -> list[str]:
    names = registry.names()
    folded = {_fold(n): n for n in names}
    close = difflib.get_close_matches(_snake(name), list(folded), n=limit, cutoff=0.3)
    return [folded[c] for c in close]


def resolve_call(raw: RawCall, registry: ToolRegistry) -> ResolvedCall | CallProblem:
    """Resolve the tool name, map argument keys, coerce values, validate with pydantic."""
    tool_name, how = resolve_tool_name(raw.name, registry)
    if tool_name is None:
        near = nearest_tool_names(raw.name, registry)
        listed = ", ".join(registry.names())
        hint = f" Did you mean {', '.join(near)}?" if near else ""
        return CallProblem(
            kind="unknown_tool",
            message=f"There is no tool named {raw.name!r}.{hint} Valid tools: {listed}.",
            raw=raw, suggestions=near or registry.names()[:3],
            example=example_call(registry, near[0] if near else registry.names()[0])
            if registry.names() else "")
    fixes: list[str] = [] if how == "exact" else [f"name {raw.name!r} -> {tool_name!r} ({how})"]
    tool = registry.get(tool_name)
    assert tool is not None
    if "truncated" in raw.repairs and (tool.mutates or tool.runs_commands):
        return CallProblem(
            kind="truncated",
            message=f"Your {tool_name} call was cut off before it ended, so it was not run. "
                    f"Send it again, complete and shorter (for big edits use several patch calls).",
            tool=tool_name, raw=raw, example=example_call(registry, tool_name), fixes=fixes)
    arguments, arg_fixes = map_arguments(raw.arguments, tool.args_model)
    fixes += arg_fixes
    try:
        validated = registry.validate(tool_name, arguments)
    except ToolArgsError as exc:
        return CallProblem(kind="invalid_arguments",
                           message=_argument_message(tool_name, exc.errors, tool.args_model,
                                                     arguments),
                           tool=tool_name, raw=raw, example=example_call(registry, tool_name),
                           fixes=fixes)
    except ToolError as exc:  # pragma: no cover - the name was resolved against this registry
        return CallProblem(kind="unknown_tool", message=str(exc), raw=raw)
    return ResolvedCall(name=tool_name, arguments=arguments, args=validated, raw=raw, fixes=fixes)


# --------------------------------------------------------------------------- arguments


def map_arguments(arguments: dict[str, Any], model: type[BaseModel]) -> tuple[dict[str, Any], list[str]]:
    """Rename near-miss keys onto the model's fields and coerce simple type mismatches."""
    fields = model.model_fields
    field_names = list(fields)
    out: dict[str, Any] = {}
    fixes: list[str] = []
    pending: dict[str, Any] = {}
    positional = arguments.get(POSITIONAL_KEY)
    for key, value in arguments.items():
        if key == POSITIONAL_KEY:
            continue
        if key in fields:
            out[key] = value
        else:
            pending[key] = value
    # positional arguments of f('a.py', 3): required fields first, in declaration order
    if isinstance(positional, list):
        order = [n for n in field_names if fields[n].is_required()] + [
            n for n in field_names if not fields[n].is_required()]
        free = [n for n in order if n not in out]
        if free and len(positional) > len(free) and all(isinstance(v, str) for v in positional) \
                and "str" in _annotation_kinds(fields[free[-1]].annotation):
            # an argv list for one text field: ["python", "-m", "pytest"] -> "python -m pytest"
            cut = len(free) - 1
            positional = [*positional[:cut], _join_argv(positional[cut:])]
            fixes.append(f"argument list joined into {free[-1]!r}")
        for name, value in zip(free, positional, strict=False):
            out[name] = value
            fixes.append(f"positional argument -> {name!r}")
    # spelling variants: filePath, File-Path, FILE_PATH
    by_fold = {_fold(n): n for n in field_names}
    for key in list(pending):
        target = by_fold.get(_snake(key)) or by_fold.get(_fold(key))
        if target and target not in out:
            out[target] = pending.pop(key)
            fixes.append(f"argument {key!r} -> {target!r}")
    # synonym groups, only to a single free field
    for key in list(pending):
        folded = _snake(key)
        targets = {n for n in field_names if n not in out
                   and any(folded in g and n in g for g in ARGUMENT_SYNONYMS)}
        if len(targets) == 1:
            target = targets.pop()
            out[target] = pending.pop(key)
            fixes.append(f"argument {key!r} -> {target!r}")
    # one unknown key left and exactly one required field missing: that is it
    missing = [n for n in field_names if fields[n].is_required() and n not in out]
    if len(pending) == 1 and len(missing) == 1:
        key, value = pending.popitem()
        out[missing[0]] = value
        fixes.append(f"argument {key!r} -> {missing[0]!r}")
    out.update(pending)  # left for pydantic (ignored or rejected per the model's config)
    for name, value in list(out.items()):
        if name in fields:
            coerced, note = _coerce(value, fields[name].annotation, name)
            if note:
                out[name] = coerced
                fixes.append(f"argument {name!r}: {note}")
    return out, fixes


def _join_argv(items: list[str]) -> str:
    """Join an argv-style list into one command; items that already carry quotes stay as written."""
    return " ".join(item if any(q in item for q in "'\"") else shlex.quote(item) for item in items)


_COMMAND_FIELDS = next(g for g in ARGUMENT_SYNONYMS if "command" in g)


def _coerce(value: Any, annotation: Any, field_name: str = "") -> tuple[Any, str]:
    kinds = _annotation_kinds(annotation)
    if value is None or not kinds:
        return value, ""
    if isinstance(value, str):
        if "str" in kinds:
            return value, ""
        stripped = value.strip()
        if ("list" in kinds or "dict" in kinds) and stripped[:1] in ("[", "{"):
            try:
                parsed = json.loads(stripped)
            except json.JSONDecodeError:
                return value, ""
            if isinstance(parsed, list) and "list" in kinds or isinstance(parsed, dict) and "dict" in kinds:
                return parsed, "parsed JSON text"
        if "list" in kinds and "," not in stripped:
            return [value], "wrapped in a list"
        return value, ""
    if "str" in kinds and not (kinds & {"int", "float", "bool", "list", "dict"}):
        if isinstance(value, bool):
            return ("true" if value else "false"), "converted to text"
        if isinstance(value, int | float):
            return str(value), "converted to text"
        if isinstance(value, dict | list):
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                if len(value) == 1:
                    return value[0], "unwrapped a one-item list"
                if field_name in _COMMAND_FIELDS:
                    return _join_argv(value), "joined an argument list"
                return "\n".join(value), "joined a list of lines"
            return json.dumps(value, ensure_ascii=False, indent=2), "converted to JSON text"
    return value, ""


def _annotation_kinds(annotation: Any) -> set[str]:
    kinds: set[str] = set()
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            kinds |= _annotation_kinds(arg)
        return kinds
    if origin is typing.Annotated:
        return _annotation_kinds(typing.get_args(annotation)[0])
    if origin is typing.Literal:
        return {"str"} if all(isinstance(a, str) for a in typing.get_args(annotation)) else set()
    target = origin or annotation
    for kind, types_ in (("str", (str,)), ("bool", (bool,)), ("int", (int,)),
                         ("float", (float,)), ("list", (list, tuple, set)), ("dict", (dict,))):
        if isinstance(target, type) and issubclass(target, types_):
            kinds.add(kind)
    if target is bool:
        kinds.discard("int")
    return kinds


def _argument_message(tool: str, errors: list[str], model: type[BaseModel],
                      arguments: dict[str, Any]) -> str:
    fields = model.model_fields
    missing = [n for n in fields if fields[n].is_required() and n not in arguments]
    parts: list[str] = []
    if missing:
        parts.append(f"missing {', '.join(repr(m) for m in missing)}")
    other = [e for e in errors if not any(e.startswith(f"{m}:") for m in missing)]
    parts += other[:3]
    unknown = [k for k in arguments if k not in fields]
    if unknown:
        parts.append(f"unknown {', '.join(repr(k) for k in unknown[:4])}")
    accepted = ", ".join(f"{n}{'' if fields[n].is_required() else '?'}" for n in fields)
    return f"Invalid arguments for {tool}: {'; '.join(parts)}. {tool} takes: {accepted}."


# --------------------------------------------------------------------------- examples


def example_call(registry: ToolRegistry, tool_name: str) -> str:
    """A valid call of ``tool_name`` as one JSON object, with placeholders for values."""
    tool = registry.get(tool_name)
    if tool is None:
        return ""
    schema = tool.schema()["function"]["parameters"]
    props = schema.get("properties", {})
    required = schema.get("required", list(props))
    args = {name: _placeholder(name, props[name]) for name in props if name in required}
    return json.dumps({"name": tool_name, "arguments": args}, ensure_ascii=False)


def _placeholder(name: str, prop: dict[str, Any]) -> Any:
    kind = prop.get("type")
    if kind is None:
        for option in prop.get("anyOf", []):
            if option.get("type") not in (None, "null"):
                kind = option["type"]
                break
    if "enum" in prop:
        return prop["enum"][0]
    return {"integer": 1, "number": 1, "boolean": True, "array": [], "object": {}}.get(
        str(kind), f"<{name}>")
