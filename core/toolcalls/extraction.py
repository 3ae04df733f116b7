"""Find tool calls in an assistant reply, whatever format the model chose.

Order: native ``tool_calls``; then, in ``content`` (or ``reasoning`` when content is empty),
tagged calls (``<tool_call>``, ``<tool-call>``, ``<toolcall>``, unclosed final tag), Liquid
``<|tool_call_start|>[f(k='v')]<|tool_call_end|>``, XML-ish ``<invoke name=..>`` and
``<function=name>`` forms, fenced blocks, and finally bare JSON anywhere in the text. Only
call-shaped objects with a plausible name count: a ``package.json`` the model shows is text.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

from smallcode.core.toolcalls.forgiving_json import ForgivingJSONError, parse_forgiving
from smallcode.core.toolcalls.names import near_known_name
from smallcode.core.toolcalls.python_calls import (
    POSITIONAL_KEY,
    PythonCallError,
    parse_python_calls,
)

__all__ = [
    "CALL_FORMATS",
    "Extraction",
    "RawCall",
    "calls_from_value",
    "extract_tool_calls",
    "plausible_tool_name",
]

CALL_FORMATS = ("native", "tag", "liquid", "xml_invoke", "xml_function", "xml_tool", "fence",
                "bare", "pycall", "react", "named_json", "deepseek", "action", "repair")
"""Values of :attr:`RawCall.fmt`, i.e. where a call was found."""


@dataclass
class RawCall:
    """One call as the model wrote it: the name and arguments are not yet checked."""

    name: str
    arguments: dict[str, Any]
    fmt: str  # one of CALL_FORMATS
    raw: str  # the markup the call was read from
    id: str | None = None  # native tool_call id, to answer with tool_call_id
    repairs: list[str] = field(default_factory=list)  # JSON repair rules that fired


@dataclass
class Extraction:
    """The calls in one reply, the text the user should see, and what could not be parsed."""

    calls: list[RawCall]
    text: str
    errors: list[str]
    source: str = "none"  # native | content | reasoning | none


NAME_KEYS = ("name", "tool", "tool_name", "function_name", "function", "action", "command_name")
ARG_KEYS = ("arguments", "parameters", "args", "input", "params", "tool_input", "action_input",
            "kwargs", "argument")
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$")
_IGNORED_TOP_KEYS = {"type", "id", "call_id", "index", "tool_call_id", "thought", "reasoning",
                     "explanation", "reason"}


def plausible_tool_name(name: object) -> bool:
    """An identifier-like name (``read_file``, ``functions.bash``, ``find-files``)."""
    return isinstance(name, str) and bool(_NAME_RE.match(name.strip()))


def extract_tool_calls(
    content: str,
    reasoning: str = "",
    native: list[dict[str, Any]] | None = None,
    *,
    known_tools: Collection[str] | None = None,
) -> Extraction:
    """Extract every tool call from one assistant reply.

    ``known_tools`` (optional) are the names on offer; with them, flattened calls such as
    ``{"name": "read_file", "path": "a.py"}`` are also accepted outside tags, as are bare
    ``read_file(path="a.py")`` lines and Cline-style ``<read_file><path>a.py</path></read_file>``.
    """
    content = content or ""
    reasoning = reasoning or ""
    known = _known_set(known_tools)
    errors: list[str] = []
    if native:
        calls = _native_calls(native, errors)
        if calls:
            scan = _TextScan(content, known)
            scan.run()
            return Extraction(calls=calls, text=scan.visible_text(), errors=errors,
                              source="native")
    scan = _TextScan(content, known)
    scan.run()
    if scan.calls or content.strip():
        return Extraction(calls=scan.calls, text=scan.visible_text(),
                          errors=errors + scan.errors,
                          source="content" if scan.calls else "none")
    if reasoning.strip():
        rscan = _TextScan(reasoning, known)
        rscan.run()
        if rscan.calls:
            return Extraction(calls=rscan.calls, text="", errors=errors + rscan.errors,
                              source="reasoning")
        errors += rscan.errors
    return Extraction(calls=[], text=scan.visible_text(), errors=errors, source="none")


def _known_set(known_tools: Collection[str] | None) -> frozenset[str]:
    if not known_tools:
        return frozenset()
    return frozenset(_fold(n) for n in known_tools)


def _fold(name: str) -> str:
    return name.strip().lower().replace("-", "_")


# --------------------------------------------------------------------------- native calls


def _native_calls(native: list[dict[str, Any]], errors: list[str]) -> list[RawCall]:
    calls: list[RawCall] = []
    for item in native:
        if not isinstance(item, dict):
            errors.append(f"native tool call is not an object: {_preview(str(item))}")
            continue
        inner = item.get("function")
        fn: dict[str, Any] = inner if isinstance(inner, dict) else item
        name = fn.get("name")
        if not isinstance(name, str) or not name.strip():
            errors.append(f"native tool call without a name: {_preview(str(item))}")
            continue
        raw_args = fn.get("arguments", fn.get("parameters", {}))
        args, repairs, problem = _arguments_from(raw_args)
        if problem:
            errors.append(f"native call {name!r}: {problem}")
            continue
        calls.append(RawCall(name=name.strip(), arguments=args, fmt="native",
                             raw=_preview(str(item), 2000), id=item.get("id"),
                             repairs=repairs))
    return calls


def _arguments_from(raw: Any) -> tuple[dict[str, Any], list[str], str | None]:
    """Arguments given as an object, a JSON string, or nothing; (args, repairs, problem)."""
    if raw is None or raw == "":
        return {}, [], None
    if isinstance(raw, dict):
        return raw, [], None
    if isinstance(raw, str):
        try:
            parsed = parse_forgiving(raw)
        except ForgivingJSONError as exc:
            return {}, [], f"arguments are not JSON ({exc})"
        if isinstance(parsed.value, dict):
            repairs = [] if parsed.rule == "strict" else [f"arguments_string:{parsed.rule}"]
            if parsed.truncated:
                repairs.append("truncated")
            return parsed.value, repairs, None
        return {}, [], f"arguments are not an object: {_preview(raw)}"
    return {}, [], f"arguments are not an object: {_preview(str(raw))}"


# --------------------------------------------------------------------------- call shapes


def calls_from_value(
    value: Any, *, strong: bool, known: frozenset[str] = frozenset()
) -> list[tuple[str, dict[str, Any], list[str]]] | None:
    """Interpret a parsed JSON value as calls: ``[(name, arguments, repairs)]`` or None.

    ``strong`` means the value sat inside explicit call markup (a ``<tool_call>`` tag), so a
    name-only object or flattened arguments are accepted; elsewhere those need ``known``.
    """
    if isinstance(value, list):
        if not value:
            return None
        out: list[tuple[str, dict[str, Any], list[str]]] = []
        for item in value:
            one = _call_from_object(item, strong=strong, known=known)
            if one is None:
                return None
            out.append(one)
        return out
    if isinstance(value, dict):
        for wrapper in ("tool_calls", "tool_call", "calls", "function_call"):
            inner = value.get(wrapper)
            if isinstance(inner, list | dict) and len(value) == 1:
                return calls_from_value(inner, strong=strong, known=known)
        one = _call_from_object(value, strong=strong, known=known)
        return [one] if one else None
    return None


def _call_from_object(
    obj: Any, *, strong: bool, known: frozenset[str]
) -> tuple[str, dict[str, Any], list[str]] | None:
    if not isinstance(obj, dict):
        return None
    fn = obj.get("function")
    if isinstance(fn, dict) and plausible_tool_name(fn.get("name")):
        if _is_definition(fn):
            return None  # the model echoed a tool definition; that is not a call
        raw_args = fn.get("arguments", fn.get("parameters", fn.get("args")))
        args, repairs, problem = _arguments_from(raw_args)
        if problem is None:
            return fn["name"].strip(), args, repairs
        return None
    name_key = next((k for k in NAME_KEYS if isinstance(obj.get(k), str)), None)
    if name_key is None:
        return None
    arg_key = next((k for k in ARG_KEYS if k in obj), None)
    canonical = name_key == "name" and arg_key in ("arguments", "parameters")
    name = _CALL_SUFFIX_RE.sub("", obj[name_key].strip())  # "bash(command)" -> "bash"
    if not (plausible_tool_name(name) or canonical and _SPACED_NAME_RE.match(name)):
        return None  # "Find files" only counts in the canonical {name, arguments} shape
    if _is_definition(obj):
        return None
    rest = {k: v for k, v in obj.items()
            if k != name_key and k != arg_key and k not in _IGNORED_TOP_KEYS}
    is_known = _fold(name) in known or _fold(name.rsplit(".", 1)[-1]) in known
    if not strong and known and not canonical and not near_known_name(name, known):
        return None  # e.g. {name: 'server', args: {...}} in a JS snippet
    if arg_key is not None:
        raw_args = obj[arg_key]
        if isinstance(raw_args, list):
            if not (strong or canonical):
                return None  # e.g. a launch.json entry: "args": ["--flag"]
            positional = {POSITIONAL_KEY: raw_args} if raw_args else {}
            return name, positional, ["positional_arguments"]
        args, repairs, problem = _arguments_from(raw_args)
        if problem is not None:
            if isinstance(raw_args, str) and (strong or canonical or near_known_name(name, known)):
                # {"action": "bash", "action_input": "ls -la"}: one plain value
                return name, {POSITIONAL_KEY: [raw_args]}, ["positional_arguments"]
            return None
        if rest and canonical and not (strong or is_known):
            return name, args, repairs  # extra keys beside name/arguments are ignored
        if rest and not (strong or is_known):
            return None  # too many unrelated keys for a call: probably just data
        if rest:
            merged = dict(rest)
            merged.update(args)
            return name, merged, [*repairs, "flattened_arguments"]
        return name, args, repairs
    # no arguments key: name-only or flattened arguments
    if name_key in ("function", "action", "command_name") and not (strong or is_known):
        return None
    if strong or is_known:
        return name, rest, (["flattened_arguments"] if rest else [])
    return None


_CALL_SUFFIX_RE = re.compile(r"\s*\([^()]*\)$")
_SPACED_NAME_RE = re.compile(r"^[A-Za-z_][\w .\-]{0,63}$")


def _is_definition(obj: dict[str, Any]) -> bool:
    """``{"name", "description", "parameters": {"type": "object", "properties": ...}}``."""
    params = obj.get("parameters")
    return ("description" in obj and isinstance(params, dict)
            and isinstance(params.get("properties"), dict))


# --------------------------------------------------------------------------- text scanning

_TAG_NAMES = r"(?:tool_call|tool-call|toolcall|tool_calls|function_call|tools|tool_use)"
_TAG_RE = re.compile(rf"<\s*{_TAG_NAMES}\s*>(.*?)(?:<\s*/\s*{_TAG_NAMES}\s*>|(?=<\s*{_TAG_NAMES}\s*>)|\Z)",
                     re.DOTALL | re.IGNORECASE)
_LIQUID_RE = re.compile(r"<\|tool_call_start\|>(.*?)(?:<\|tool_call_end\|>|\Z)", re.DOTALL)
_INVOKE_RE = re.compile(
    r"<(?:[\w-]+:)?invoke\s+name\s*=\s*[\"']?([^\"'>\s]+)[\"']?\s*>(.*?)(?:</(?:[\w-]+:)?invoke\s*>|\Z)",
    re.DOTALL)
_INVOKE_PARAM_RE = re.compile(
    r"<(?:[\w-]+:)?parameter\s+name\s*=\s*[\"']?([^\"'>\s]+)[\"']?\s*>(.*?)(?:</(?:[\w-]+:)?parameter\s*>|\Z)",
    re.DOTALL)
_FUNCTION_RE = re.compile(
    r"<function(?:\s*=\s*|\s+name\s*=\s*)[\"']?([\w.\-]+)[\"']?\s*>(.*?)(?:</function\s*>|\Z)",
    re.DOTALL)
_FUNCTION_PARAM_RE = re.compile(
    r"<parameter(?:\s*=\s*|\s+name\s*=\s*)[\"']?([\w.\-]+)[\"']?\s*>(.*?)(?:</parameter\s*>|(?=<parameter[\s=])|(?=</function)|\Z)",
    re.DOTALL)
_FENCE_RE = re.compile(r"```[ \t]*([\w+\-.]*)[^\n]*\n(.*?)(?:\n[ \t]*```|\Z)", re.DOTALL)
_JSON_FENCE_LANGS = {"", "json", "json5", "jsonc", "jsonl", "tool_call", "tool-call", "toolcall",
                     "tool_code", "tool", "tools", "function", "functions", "function_call",
                     "text", "txt", "plaintext", "action", "tool_calls"}
_PY_FENCE_LANGS = {"python", "py", "tool_code", "tool_call", "tool", "function_call", ""}
_WRAPPER_MARKUP_RE = re.compile(
    r"</?(?:[\w-]+:)?function_calls\s*>|<\|python_tag\|>|\[TOOL_CALLS\]|<\|tool_calls_section_begin\|>"
    r"|<\|tool_calls_section_end\|>|<\|tool_call_end\|>|<\|tool_call_start\|>|<\|tool_call\|>"
    r"|\bfunctools(?=\s*$)|<｜tool▁calls▁(?:begin|end)｜>"
    r"|</?\s*(?:tool_call|tool-call|toolcall|tool_calls)\s*>",
    re.IGNORECASE)
_REACT_RE = re.compile(
    r"^[ \t]*Action[ \t]*:[ \t]*`?([\w.\-]+)`?[ \t]*\n[ \t]*Action[ \t_]*Input[ \t]*:[ \t]*",
    re.MULTILINE | re.IGNORECASE)
_NAMED_JSON_RE = re.compile(
    r"`?\b([A-Za-z_][\w.\-]*)`?[ \t]*(?:\(|:|=|with|using)?[ \t]*(?=\{)")
_DEEPSEEK_RE = re.compile(
    r"<｜tool▁call▁begin｜>\s*(?:function)?\s*<｜tool▁sep｜>\s*([\w.\-]+)\s*(.*?)"
    r"(?:<｜tool▁call▁end｜>|(?=<｜tool▁call▁begin｜>)|\Z)", re.DOTALL)
_CALL_HINT_RE = re.compile(r"[\"']?(?:name|tool|tool_name|function|action)[\"']?\s*:",
                           re.IGNORECASE)


class _TextScan:
    """One pass over a text: consumed spans, the calls found, and errors."""

    def __init__(self, text: str, known: frozenset[str]):
        self.text = text
        self.known = known
        self.found: list[tuple[int, RawCall]] = []
        self.spans: list[tuple[int, int]] = []
        self.errors: list[str] = []
        self.last_parse_failed = False
        self.opaque: list[tuple[int, int]] = []  # code fences: no bare-JSON scanning inside

    # -- public results
    @property
    def calls(self) -> list[RawCall]:
        return [call for _, call in sorted(self.found, key=lambda pair: pair[0])]

    def run(self) -> None:
        if not self.text.strip():
            return
        self._tags()
        self._deepseek()
        self._liquid()
        self._invoke()
        self._function_tags()
        if self.known:
            self._known_xml_tags()
        self._fences()
        self._react()
        if self.known:
            self._named_json()
        self._bare_json()
        if self.known:
            self._bare_python_lines()

    def visible_text(self) -> str:
        if not self.text:
            return ""
        pieces: list[str] = []
        pos = 0
        for start, end in sorted(self.spans):
            start = max(start, pos)
            piece = self.text[pos:start]
            if pieces and pieces[-1].endswith(" ") and piece.startswith(" "):
                piece = piece[1:]
            pieces.append(piece)
            pos = max(pos, end)
        tail = self.text[pos:]
        if pieces and pieces[-1].endswith(" ") and tail.startswith(" "):
            tail = tail[1:]
        pieces.append(tail)
        visible = _WRAPPER_MARKUP_RE.sub("", "".join(pieces))
        visible = re.sub(r"[ \t]+\n", "\n", visible)
        visible = re.sub(r"\n{3,}", "\n\n", visible)
        return visible.strip()

    # -- helpers
    def _free(self, start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in self.spans) and all(
            end <= s or start >= e for s, e in self.opaque)

    def _add(self, start: int, end: int, found: list[RawCall]) -> None:
        self.spans.append((start, end))
        for offset, call in enumerate(found):
            self.found.append((start * 1000 + offset, call))

    def _consume_error(self, start: int, end: int, message: str) -> None:
        self.spans.append((start, end))
        self.errors.append(message)

    def _from_json_text(self, body: str, fmt: str, raw: str, *, strong: bool) -> list[RawCall] | None:
        try:
            parsed = parse_forgiving(body)
        except ForgivingJSONError:
            self.last_parse_failed = True
            return None
        self.last_parse_failed = False
        found = calls_from_value(parsed.value, strong=strong, known=self.known)
        if not found:
            return None
        repairs = [] if parsed.rule == "strict" else [parsed.rule]
        if parsed.truncated:
            repairs.append("truncated")
        return [RawCall(name=n, arguments=a, fmt=fmt, raw=raw, repairs=repairs + r)
                for n, a, r in found]

    def _from_python_text(self, body: str, fmt: str, raw: str) -> list[RawCall] | None:
        try:
            pairs = parse_python_calls(body)
        except PythonCallError:
            return None
        if not all(plausible_tool_name(n) for n, _ in pairs):
            return None
        return [RawCall(name=n, arguments=a, fmt=fmt, raw=raw) for n, a in pairs]

    def _body_calls(self, body: str, fmt: str, raw: str) -> list[RawCall] | None:
        """A tag body: JSON (possibly fenced), Python-call syntax, or a nested XML form."""
        inner = body.strip()
        fence = re.match(r"^```[\w\-]*[^\n]*\n?(.*?)(?:\n?```)?\s*$", inner, re.DOTALL)
        if fence:
            inner = fence.group(1).strip()
        if not inner:
            return None
        if inner[0] in "{[":
            found = self._from_json_text(inner, fmt, raw, strong=True)
            if found:
                return found
        nested = _TextScan(inner, self.known)
        nested._invoke()
        nested._function_tags()
        if nested.found:
            return nested.calls
        found = self._from_python_text(inner, fmt, raw)
        if found:
            return found
        if inner[0] not in "{[":
            start = inner.find("{")
            if start >= 0:
                return self._from_json_text(inner[start:], fmt, raw, strong=True)
        return None

    # -- scanners
    def _tags(self) -> None:
        for m in _TAG_RE.finditer(self.text):
            if not self._free(m.start(), m.end()):
                continue
            body = m.group(1)
            if not body.strip():
                self.spans.append((m.start(), m.end()))
                continue
            found = self._body_calls(body, "tag", m.group(0))
            if found:
                self._add(m.start(), m.end(), found)
            else:
                self._consume_error(m.start(), m.end(),
                                    f"unparseable <tool_call> body: {_preview(body)}")

    def _deepseek(self) -> None:
        """``<｜tool▁call▁begin｜>function<｜tool▁sep｜>name`` + a fenced JSON object of arguments."""
        for m in _DEEPSEEK_RE.finditer(self.text):
            name, body = m.group(1), m.group(2).strip()
            fence = re.match(r"^```[\w\-]*[^\n]*\n?(.*?)(?:\n?```)?\s*$", body, re.DOTALL)
            if fence:
                body = fence.group(1).strip()
            args, repairs, problem = _arguments_from(body)
            if problem:
                self._consume_error(m.start(), m.end(), f"tool call {name}: {problem}")
                continue
            self._add(m.start(), m.end(), [RawCall(name=name, arguments=args, fmt="deepseek",
                                                   raw=m.group(0), repairs=repairs)])

    def _liquid(self) -> None:
        for m in _LIQUID_RE.finditer(self.text):
            if not self._free(m.start(), m.end()):
                continue
            body = m.group(1)
            found = self._body_calls(body, "liquid", m.group(0))
            if found:
                self._add(m.start(), m.end(), found)
            else:
                self._consume_error(m.start(), m.end(),
                                    f"unparseable <|tool_call_start|> body: {_preview(body)}")

    def _invoke(self) -> None:
        for m in _INVOKE_RE.finditer(self.text):
            if not self._free(m.start(), m.end()):
                continue
            name = m.group(1).strip()
            if not plausible_tool_name(name):
                continue
            args = {p.group(1): _xml_value(p.group(2))
                    for p in _INVOKE_PARAM_RE.finditer(m.group(2))}
            self._add(m.start(), m.end(),
                      [RawCall(name=name, arguments=args, fmt="xml_invoke", raw=m.group(0))])

    def _function_tags(self) -> None:
        for m in _FUNCTION_RE.finditer(self.text):
            if not self._free(m.start(), m.end()):
                continue
            name, body = m.group(1).strip(), m.group(2)
            if not plausible_tool_name(name):
                continue
            params = list(_FUNCTION_PARAM_RE.finditer(body))
            if params:
                args: dict[str, Any] = {p.group(1): _xml_value(p.group(2)) for p in params}
                repairs: list[str] = []
            elif body.strip():
                parsed_args, repairs, problem = _arguments_from(body.strip())
                if problem:
                    self._consume_error(m.start(), m.end(),
                                        f"<function={name}> arguments: {problem}")
                    continue
                args = parsed_args
            else:
                args, repairs = {}, []
            self._add(m.start(), m.end(), [RawCall(name=name, arguments=args, fmt="xml_function",
                                                   raw=m.group(0), repairs=repairs)])

    def _known_xml_tags(self) -> None:
        """Cline-style ``<read_file><path>a.py</path></read_file>`` for tools on offer."""
        for m in re.finditer(r"<([A-Za-z_][\w\-]*)>(.*?)</\1\s*>", self.text, re.DOTALL):
            if _fold(m.group(1)) not in self.known or not self._free(m.start(), m.end()):
                continue
            params = re.findall(r"<([A-Za-z_][\w\-]*)>(.*?)</\1\s*>", m.group(2), re.DOTALL)
            args = {k: _xml_value(v) for k, v in params}
            if not params and m.group(2).strip():
                continue
            self._add(m.start(), m.end(), [RawCall(name=m.group(1), arguments=args,
                                                   fmt="xml_tool", raw=m.group(0))])

    def _fences(self) -> None:
        for m in _FENCE_RE.finditer(self.text):
            if not self._free(m.start(), m.end()):
                continue
            lang, body = m.group(1).lower(), m.group(2)
            stripped = body.strip()
            found: list[RawCall] | None = None
            unparsed = False
            if stripped[:1] in ("{", "["):  # JSON in a mislabelled fence counts too
                found = self._from_json_text(stripped, "fence", m.group(0), strong=False)
                unparsed = self.last_parse_failed
                if not found and unparsed:
                    found = self._json_objects_in(stripped, m.group(0))
            if not found and lang in _PY_FENCE_LANGS and stripped[:1] not in ("{", "[", ""):
                found = self._python_fence(stripped, lang, m.group(0))
            if found:
                self._add(m.start(), m.end(), found)
            elif lang not in _JSON_FENCE_LANGS:
                self.opaque.append((m.start(), m.end()))  # code: its dicts are not calls
            elif unparsed and _looks_like_call_attempt(stripped):
                self._consume_error(m.start(), m.end(),
                                    f"unparseable tool call in ```{lang} block: {_preview(stripped)}")

    def _python_fence(self, body: str, lang: str, raw: str) -> list[RawCall] | None:
        explicit = lang in ("tool_code", "tool_call", "tool", "function_call")
        found = self._from_python_text(body, "pycall", raw)
        if not found:
            return None
        if explicit:
            return found
        if self.known and all(_fold(c.name.rsplit(".", 1)[-1]) in self.known for c in found):
            return found
        return None

    def _json_objects_in(self, text: str, raw: str) -> list[RawCall] | None:
        """Several call objects in one block (one per line, or separated by prose)."""
        found: list[RawCall] = []
        for start, end in _json_spans(text):
            got = self._from_json_text(text[start:end], "fence", raw, strong=False)
            if got:
                found.extend(got)
        return found or None

    def _react(self) -> None:
        """``Action: read_file`` / ``Action Input: {"path": "a.py"}`` (ReAct transcripts)."""
        for m in _REACT_RE.finditer(self.text):
            name = m.group(1)
            if not plausible_tool_name(name) or not self._free(m.start(), m.end()):
                continue
            rest_start = m.end()
            rest = self.text[rest_start:]
            brace = len(rest) - len(rest.lstrip())
            if rest[brace:brace + 1] == "{":
                start = rest_start + brace
                end = _balanced_end(self.text, start)
                args, repairs, problem = _arguments_from(self.text[start:end])
                if problem:
                    self._consume_error(m.start(), end, f"Action Input of {name}: {problem}")
                    continue
            else:
                line_end = self.text.find("\n", rest_start)
                end = len(self.text) if line_end < 0 else line_end
                value = self.text[rest_start:end].strip().strip("`'\"")
                args = {POSITIONAL_KEY: [value]} if value else {}
                repairs = []
            self._add(m.start(), end, [RawCall(name=name, arguments=args, fmt="react",
                                               raw=self.text[m.start():end], repairs=repairs)])

    def _named_json(self) -> None:
        """``read_file {"path": "a.py"}`` or ``Calling read_file with {...}`` for tools on offer."""
        for m in _NAMED_JSON_RE.finditer(self.text):
            if _fold(m.group(1).rsplit(".", 1)[-1]) not in self.known:
                continue
            start = m.end()
            end = _balanced_end(self.text, start)
            if not self._free(m.start(), end):
                continue
            chunk = self.text[start:end]
            try:
                parsed = parse_forgiving(chunk)
            except ForgivingJSONError:
                continue
            if not isinstance(parsed.value, dict) or calls_from_value(
                    parsed.value, strong=False, known=self.known):
                continue  # a call-shaped object is left to the bare-JSON scanner
            if end < len(self.text) and self.text[end] == ")":
                end += 1
            repairs = [] if parsed.rule == "strict" else [parsed.rule]
            if parsed.truncated:
                repairs.append("truncated")
            self._add(m.start(), end, [RawCall(name=m.group(1), arguments=parsed.value,
                                               fmt="named_json", raw=self.text[m.start():end],
                                               repairs=repairs)])

    def _bare_json(self) -> None:
        for start, end in _json_spans(self.text):
            if not self._free(start, end):
                continue
            chunk = self.text[start:end]
            if not _CALL_HINT_RE.search(chunk):
                continue
            found = self._from_json_text(chunk, "bare", chunk, strong=False)
            if found:
                self._add(start, end, found)
            elif self.last_parse_failed and _looks_like_call_attempt(chunk):
                self._consume_error(start, end, f"unparseable tool call: {_preview(chunk)}")

    def _bare_python_lines(self) -> None:
        pattern = re.compile(r"^[ \t]*\[?([A-Za-z_][\w.]*)\(.*$", re.MULTILINE)
        for m in pattern.finditer(self.text):
            if _fold(m.group(1).rsplit(".", 1)[-1]) not in self.known:
                continue
            if not self._free(m.start(), m.end()):
                continue
            line = m.group(0).strip()
            found = self._from_python_text(line, "pycall", line)
            if found:
                self._add(m.start(), m.end(), found)


def _json_spans(text: str) -> Iterator[tuple[int, int]]:
    """Spans of balanced ``{...}`` (and ``[{...}]``) regions; an unclosed one runs to the end."""
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "{" or (ch == "[" and re.match(r"\[\s*\{", text[i:i + 64])):
            end = _balanced_end(text, i)
            yield i, end
            i = end
            continue
        i += 1


def _balanced_end(text: str, start: int) -> int:
    depth = 0
    i, n = start, len(text)
    quote: str | None = None
    prev_sig = ""
    while i < n:
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = None
                prev_sig = ch
            i += 1
            continue
        if ch == '"' or (ch == "'" and prev_sig in ("{", "[", ",", ":")):
            quote = ch
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth == 0:
                return i + 1
        if not ch.isspace():
            prev_sig = ch
        i += 1
    return n


def _looks_like_call_attempt(chunk: str) -> bool:
    return bool(re.search(r"[\"']?(?:name|tool|function)[\"']?\s*:", chunk)) and bool(
        re.search(r"[\"']?(?:arguments|parameters|args|input)[\"']?\s*:", chunk))


def _xml_value(value: str) -> str:
    """A parameter's text: one leading and one trailing newline are layout, not content."""
    value = value.removeprefix("\n")
    value = value.removesuffix("\n")
    return value


def _preview(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
