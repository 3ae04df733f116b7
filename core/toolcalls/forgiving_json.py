"""Forgiving JSON: strict ``json`` first, then the json-repair library, then our own rules.

Small models write almost-JSON: trailing commas, single quotes, unquoted keys, Python literals,
raw newlines inside strings, ``//`` comments, or a reply cut off before its closing brackets.
:func:`parse_forgiving` returns the value together with the rule that made it parse, so callers
(and the corpus benchmark) can see which repairs are doing the work.

One own rule runs before json-repair: Python triple-quoted strings (a multi-line ``content``
between three double quotes, as Qwen2.5-Coder writes files), because json-repair turns them into
empty strings.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from typing import Any

import json_repair

__all__ = ["ForgivingJSONError", "ForgivingParse", "convert_triple_quotes", "is_truncated",
           "loads_forgiving", "parse_forgiving"]


class ForgivingJSONError(ValueError):
    """No rule could turn the text into a JSON value."""


@dataclass(frozen=True)
class ForgivingParse:
    """A parsed value and how it was obtained.

    ``rule`` is ``"strict"``, ``"json_repair"``, ``"python_literal"`` or ``"own:"`` followed by
    the own rules that fired, joined with ``+`` (e.g. ``"own:single_quotes+trailing_commas"``).
    """

    value: Any
    rule: str
    truncated: bool = False  # the text ended inside a string or before its closing brackets


def loads_forgiving(text: str) -> Any:
    """Parse almost-JSON; raise :class:`ForgivingJSONError` when nothing works."""
    return parse_forgiving(text).value


def parse_forgiving(text: str) -> ForgivingParse:
    """Parse almost-JSON and report which rule fixed it (see :class:`ForgivingParse`)."""
    if not isinstance(text, str):
        raise ForgivingJSONError(f"expected text, got {type(text).__name__}")
    stripped = text.strip().lstrip("\ufeff")
    if not stripped:
        raise ForgivingJSONError("empty text")
    try:
        return ForgivingParse(json.loads(stripped), "strict")
    except (json.JSONDecodeError, RecursionError):
        pass
    try:
        return ForgivingParse(json.loads(stripped, strict=False), "own:control_chars")
    except (json.JSONDecodeError, RecursionError):
        pass

    if '"""' in stripped or "'''" in stripped:
        # Python triple-quoted strings: json-repair reads them as empty strings, losing the body
        converted = convert_triple_quotes(stripped)
        if converted != stripped:
            try:
                inner = parse_forgiving(converted)
            except ForgivingJSONError:
                pass
            else:
                rule = "own:triple_quotes" + ("" if inner.rule == "strict" else f"+{inner.rule}")
                return ForgivingParse(inner.value, rule, inner.truncated)
    first_end = value_end(stripped)
    if first_end < len(stripped) and any(c in stripped[first_end:] for c in "{[\"'"):
        # json-repair would merge '{..} {..}' into one object, losing the first
        raise ForgivingJSONError("more than one JSON value: " + _preview(stripped))
    truncated = is_truncated(stripped)
    repaired = _try_json_repair(stripped)
    if repaired is not None:
        restored = _restore_trailing_newlines(repaired, stripped)
        rule = "json_repair+restored_newline" if restored is not repaired else "json_repair"
        return ForgivingParse(restored, rule, truncated)

    normalised, fired = normalise_almost_json(stripped)
    try:
        value = json.loads(normalised, strict=False)
        return ForgivingParse(value, "own:" + "+".join(fired or ["control_chars"]), truncated)
    except (json.JSONDecodeError, RecursionError):
        pass

    try:
        value = ast.literal_eval(stripped)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        value = _NOTHING
    if isinstance(value, tuple):
        value = list(value)
    if value is not _NOTHING and isinstance(value, dict | list | str | int | float | bool):
        return ForgivingParse(value, "python_literal")
    raise ForgivingJSONError(f"not JSON, even after repair: {_preview(stripped)}")


_NOTHING = object()
_OPENERS = {"{": "}", "[": "]"}


def _try_json_repair(text: str) -> Any:
    """json-repair's answer, or None when it is implausible for this input.

    json-repair never gives up: it turns prose into ``""`` and ``[a](b)`` into ``["a"]``. We only
    accept an answer whose container type matches the text's first character.
    """
    try:
        value = json_repair.repair_json(text, return_objects=True, skip_json_loads=True)
    except Exception:  # noqa: BLE001 - a third-party failure must not become ours
        return None
    first = text[0]
    if first == "{":
        return value if isinstance(value, dict) and value else None
    if first == "[":
        return value if isinstance(value, list) else None
    if first in "\"'":
        return value if isinstance(value, str) else None
    return None  # scalars: strict json or the python_literal rule decide


def convert_triple_quotes(text: str) -> str:
    """Turn Python triple-quoted strings outside JSON strings into JSON strings.

    Triple quotes inside an ordinary double-quoted string (a docstring in file content) are text
    and stay as they are. An unclosed triple-quoted string is left alone (it is truncated).
    """
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        opener = text[i:i + 3]
        if opener in ('"""', "'''"):
            end = text.find(opener, i + 3)
            if end < 0:
                out.append(text[i:])
                break
            out.append(json.dumps(text[i + 3:end], ensure_ascii=False))
            i = end + 3
            continue
        if text[i] == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
            continue
        out.append(text[i])
        i += 1
    return "".join(out)


def _restore_trailing_newlines(value: Any, text: str) -> Any:
    """Put back a string's final ``\\n`` that json-repair dropped.

    json-repair strips the end of a string when junk follows its closing quote
    (``"print("hi")\\n"`` or ``"...\\n".format(x)``). If the text holds the string followed by an
    escaped newline, and never the string closed right there, the newline was the model's.
    Returns ``value`` itself when nothing changed.
    """
    changed = False

    def visit(node: Any) -> Any:
        nonlocal changed
        if isinstance(node, dict):
            return {k: visit(v) for k, v in node.items()}
        if isinstance(node, list):
            return [visit(v) for v in node]
        if isinstance(node, str) and node and not node.endswith("\n"):
            for form in (json.dumps(node, ensure_ascii=False)[1:-1], node):
                if form + "\\n" in text and form + '"' not in text:
                    changed = True
                    return node + "\n"
        return node

    out = visit(value)
    return out if changed else value


def normalise_almost_json(text: str) -> tuple[str, list[str]]:
    """Rewrite almost-JSON into JSON in one string-aware pass; return it and the rules that fired.

    Rules: ``comments`` (``//`` and ``/* */``), ``single_quotes``, ``unquoted_keys``,
    ``python_literals`` (True/False/None), ``trailing_commas``, ``control_chars`` (raw newlines
    in strings are left for ``json.loads(strict=False)``), ``truncated`` (close open strings and
    brackets, drop a dangling comma or key).
    """
    out: list[str] = []
    fired: list[str] = []
    stack: list[str] = []
    i, n = 0, len(text)

    def fire(rule: str) -> None:
        if rule not in fired:
            fired.append(rule)

    while i < n:
        ch = text[i]
        if ch in "\"'":
            literal, i, closed, escaped_quote = _read_string(text, i)
            if ch == "'":
                fire("single_quotes")
            if escaped_quote:
                fire("single_quotes")
            if any(c in literal for c in "\n\r\t"):
                fire("control_chars")
            out.append(json.dumps(literal, ensure_ascii=False))
            if not closed:
                fire("truncated")
            continue
        if ch == "/" and text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            fire("comments")
            continue
        if ch == "/" and text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            fire("comments")
            continue
        if ch in _OPENERS:
            stack.append(_OPENERS[ch])
            out.append(ch)
            i += 1
            continue
        if ch in "}]":
            if _drop_trailing_comma(out):
                fire("trailing_commas")
            if stack and stack[-1] == ch:
                stack.pop()
            out.append(ch)
            i += 1
            continue
        if ch.isalpha() or ch == "_" or ch == "$":
            j = i
            while j < n and (text[j].isalnum() or text[j] in "_$-."):
                j += 1
            word = text[i:j]
            k = j
            while k < n and text[k] in " \t":
                k += 1
            if k < n and text[k] == ":" and stack and stack[-1] == "}":
                out.append(json.dumps(word))
                fire("unquoted_keys")
            elif word in ("True", "False", "None"):
                out.append({"True": "true", "False": "false", "None": "null"}[word])
                fire("python_literals")
            else:
                out.append(word)
            i = j
            continue
        out.append(ch)
        i += 1

    if stack:
        fire("truncated")
        _drop_dangling_tail(out)
        while stack:
            _drop_trailing_comma(out)
            out.append(stack.pop())
    return "".join(out), fired


def is_truncated(text: str) -> bool:
    """Does the text end inside a string or with brackets still open?"""
    return _scan_value(text)[1]


def value_end(text: str) -> int:
    """Index just past the first complete top-level ``{...}``/``[...]`` (len(text) if none)."""
    return _scan_value(text)[0]


def _scan_value(text: str) -> tuple[int, bool]:
    """(end of the first complete value, whether the text was cut off inside a value).

    Only closing brackets missing after a complete string or container is not a cut: small models
    often stop one ``}`` short. Ending inside a string, after ``:``/``,``, or after a number or
    literal (which may itself be cut) is.
    """
    stack: list[str] = []
    quote: str | None = None
    prev = ""
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = None
                prev = ch
        elif ch == '"' or (ch == "'" and prev in ("{", "[", ",", ":")):
            quote = ch
        elif ch in _OPENERS:
            stack.append(_OPENERS[ch])
        elif ch in "}]" and stack and stack[-1] == ch:
            stack.pop()
            if not stack:
                return i + 1, False
        if not ch.isspace() and not quote:
            prev = ch
        i += 1
    if quote is not None:
        return n, True
    return n, bool(stack) and prev not in ('"', "'", "}", "]")


def _read_string(text: str, start: int) -> tuple[str, int, bool, bool]:
    """Read a quoted string starting at ``start``; return (value, next index, closed, had \\')."""
    quote = text[start]
    buf: list[str] = []
    i, n = start + 1, len(text)
    escaped_quote = False
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n:
            nxt = text[i + 1]
            if nxt == "'":
                buf.append("'")
                escaped_quote = True
                i += 2
                continue
            try:
                if nxt == "u":
                    buf.append(json.loads('"' + text[i:i + 6] + '"'))
                    i += 6
                    continue
                buf.append(json.loads('"\\' + nxt + '"'))
            except json.JSONDecodeError:
                buf.append(nxt)  # an unknown escape such as \d keeps its letter
            i += 2
            continue
        if ch == quote:
            return "".join(buf), i + 1, True, escaped_quote
        buf.append(ch)
        i += 1
    return "".join(buf), n, False, escaped_quote


def _drop_trailing_comma(out: list[str]) -> bool:
    j = len(out) - 1
    while j >= 0 and out[j].isspace():
        j -= 1
    if j >= 0 and out[j] == ",":
        del out[j]
        return True
    return False


def _drop_dangling_tail(out: list[str]) -> None:
    """Cut a truncated object's last incomplete member: ``{"a": 1, "b"`` or ``{"a":``."""
    j = len(out) - 1
    while j >= 0 and out[j].isspace():
        j -= 1
    if j >= 0 and out[j] == ":":
        out.append("null")
        return
    if j >= 0 and out[j].startswith('"'):
        k = j - 1
        while k >= 0 and out[k].isspace():
            k -= 1
        if k >= 0 and out[k] in (",", "{"):
            # a bare key with no value inside an object
            opener = _innermost_opener(out[:k + 1])
            if opener == "{":
                del out[k + 1 if out[k] == "{" else k:]


def _innermost_opener(out: list[str]) -> str | None:
    depth: list[str] = []
    for tok in out:
        if tok in ("{", "["):
            depth.append(tok)
        elif tok in ("}", "]") and depth:
            depth.pop()
    return depth[-1] if depth else None


def _preview(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
