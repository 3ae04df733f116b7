"""Set a config key to a value in place, the way a person edits the file: only the value's
characters change; comments, key order, quoting and indentation stay as they were.

The solve path uses this for a task whose oracle is "the config holds key = value" (see
:func:`~smallcode.core.solve.oracle.config_values`): a deterministic edit that needs no model call.
It is taken only when it is unambiguous — the key's scalar value is found at exactly one place in
exactly one file — and the edited file parses to the same tree as before with that one value
changed. Anything else (the key in two files, a list or table as the value, a file that no longer
parses) gives None, and the model writes the change instead.
"""

from __future__ import annotations

import json
import re
from pathlib import PurePosixPath

from .oracle import parse_config, same_value

KeyPath = tuple[str, ...]

# a clause asking for something other than a value ("add requests>=2.31 to the dependencies")
_OTHER_ACTION = re.compile(r"\b(?:add|append|insert|remov|delet|drop|renam|creat|writ|implement|"
                           r"fix|replac|includ|introduc|mov|sort|extend|document|refactor)\w*",
                           re.IGNORECASE)
_CLAUSE_SPLIT = re.compile(r"[.;!?](?:\s|$)|\n|\band\b|\bthen\b|\balso\b", re.IGNORECASE)

_JSON_SCALAR = r'"(?:[^"\\\n]|\\.)*"|-?\d[\d.eE+-]*|true|false|null'
_TOML_SCALAR = r'"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'|[^\s#,\]}]+'


def _value_spans(ext: str, text: str, leaf: str) -> list[tuple[int, int]]:
    """Where a scalar written right after ``leaf``'s key starts and ends, in this file format."""
    k = re.escape(leaf)
    if ext == ".json":
        rx = re.compile(rf'"{k}"\s*:\s*(?P<v>{_JSON_SCALAR})')
    elif ext == ".toml":
        rx = re.compile(rf'(?:^|[{{,])[ \t]*(?:"{k}"|\'{k}\'|{k})[ \t]*=[ \t]*(?P<v>{_TOML_SCALAR})',
                        re.MULTILINE)
    elif ext in (".yaml", ".yml"):
        rx = re.compile(rf'^[ \t]*(?:-[ \t]+)?(?:"{k}"|\'{k}\'|{k})[ \t]*:[ \t]+'
                        r'(?P<v>"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'|[^\s#|>&*!\[{][^#\n]*?)'
                        r'(?=[ \t]*(?:#.*)?$)', re.MULTILINE)
    else:  # .ini / .cfg: an inline "; comment" is part of the value unless the parser is told
        # otherwise, so both readings are tried and the parse decides
        spans = []
        for value in (r"[^\n;#]*?(?=[ \t]*(?:[;#].*)?$)", r"[^\n]*?(?=[ \t]*$)"):
            rx = re.compile(rf"^[ \t]*{k}[ \t]*[=:][ \t]*(?P<v>{value})",
                            re.MULTILINE | re.IGNORECASE)
            spans += [(m.start("v"), m.end("v")) for m in rx.finditer(text)]
        return sorted(set(spans))
    return [(m.start("v"), m.end("v")) for m in rx.finditer(text)]


def _render(ext: str, old: str, value: str) -> str:
    """``value`` written the way the old value was: quoted if it was a string (same quotes),
    bare if it was a number or a boolean and the new one is too."""
    bare = re.fullmatch(r"-?\d+(?:\.\d+)?|true|false", value.lower()) is not None
    if old[:1] in "\"'":
        quote = old[0]
        if quote == '"':
            return json.dumps(value)
        return quote + value + quote if quote not in value else json.dumps(value)
    if ext in (".json", ".toml") and not bare:
        return json.dumps(value)
    if ext in (".json", ".toml"):
        return value.lower() if value.lower() in ("true", "false") else value
    return value


def _leaves(tree: object, at: KeyPath = ()) -> dict[KeyPath, object]:
    if isinstance(tree, dict):
        out: dict[KeyPath, object] = {}
        for k, v in tree.items():
            out.update(_leaves(v, (*at, str(k))))
        return out
    if isinstance(tree, list):
        out = {}
        for i, v in enumerate(tree):
            out.update(_leaves(v, (*at, str(i))))
        return out
    return {at: tree}


def set_in_place(rel: str, text: str, key: str, value: str) -> str | None:
    """``text`` (the file ``rel``) with the one scalar under ``key`` (a name, or a dotted path
    from the top) set to ``value``, or None when that is not a single unambiguous edit."""
    ext = PurePosixPath(rel).suffix.lower()
    parts = tuple(key.split("."))
    try:
        before = _leaves(parse_config(ext, text))
    except Exception:  # noqa: BLE001 - an unparsable config is not edited
        return None
    results: set[str] = set()
    for start, end in _value_spans(ext, text, parts[-1]):
        new = text[:start] + _render(ext, text[start:end], value) + text[end:]
        try:
            after = _leaves(parse_config(ext, new))
        except Exception:  # noqa: BLE001, S112 - this spot was not a value of the key
            continue
        changed = [p for p in set(before) | set(after) if before.get(p, ...) != after.get(p, ...)]
        if (len(changed) == 1 and set(before) == set(after)
                and [s.lower() for s in changed[0][-len(parts):]] == [s.lower() for s in parts]
                and same_value(after[changed[0]], value)):
            results.add(new)
    return results.pop() if len(results) == 1 else None


def only_settings(task: str, wanted: list[tuple[str, str]]) -> bool:
    """Whether the task asks for nothing but the (key, value) settings ``wanted``: no clause
    asks for another kind of change (adding a dependency, removing a section) without naming one
    of those settings. "Set the port to 9090 in settings.json" is; "Bump the version to 0.4.0
    and add requests to the dependencies" is not."""
    # a value the task writes that none of the settings holds ("It should listen on 9090, and
    # the server section needs "debug": false") asks for something else too
    values = {value.lower().strip("'\"") for _, value in wanted}
    for number in re.findall(r"(?<![\w.])\d+(?:\.\d+)*(?![\w.]*\.\w)", task):
        if number not in values:
            return False
    for clause in _CLAUSE_SPLIT.split(task):
        if _OTHER_ACTION.search(clause) and not any(
                key.split(".")[-1].lower() in clause.lower() and value.lower() in clause.lower()
                for key, value in wanted):
            return False
    return True


def set_config_values(files: dict[str, str],
                      wanted: list[tuple[str, str]]) -> tuple[dict[str, str], list[str]]:
    """The new contents of the config files (``files``: path -> text) with every (key, value)
    of ``wanted`` set in place, and the pairs that could not be (in no file or in several)."""
    out = dict(files)
    missed: list[str] = []
    for key, value in wanted:
        edits = [(rel, new) for rel, text in out.items()
                 if (new := set_in_place(rel, text, key, value)) is not None]
        if len(edits) != 1:
            missed.append(f"{key} = {value}" + (" (in several files)" if edits else ""))
            continue
        rel, new = edits[0]
        out[rel] = new
    return {rel: text for rel, text in out.items() if text != files[rel]}, missed


__all__ = ["only_settings", "set_config_values", "set_in_place"]
