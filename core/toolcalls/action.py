"""Grammar-constrained actions: a ``response_format`` JSON schema built from the offered tools.

When the backend honours ``response_format: {"type": "json_schema"}`` (llama.cpp turns it into a
grammar), the model can only answer with ``{"tool": <one of the tools>, "args": {...}}``, so a
malformed call becomes impossible. Two schema forms:

- ``"oneof"`` (default): ``oneOf`` of per-tool ``{"tool": {"const": name}, "args": schema}``
  objects; the arguments are bound to the chosen tool.
- ``"enum"``: ``{"tool": {"enum": names}, "args": {"anyOf": [schemas]}}``; looser (a tool may
  get another tool's arguments) but a smaller grammar.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from typing import Any

from smallcode.core.toolcalls.extraction import RawCall, calls_from_value
from smallcode.core.toolcalls.forgiving_json import ForgivingJSONError, parse_forgiving
from smallcode.core.tools.registry import Tool

__all__ = ["ACTION_FORMS", "ActionParseError", "action_schema", "parse_action"]

ACTION_FORMS = ("oneof", "enum")


class ActionParseError(ValueError):
    """A constrained reply that is still not an action (e.g. cut off by max_tokens)."""


def action_schema(tools: Sequence[Tool | dict[str, Any]], *, form: str = "oneof") -> dict[str, Any]:
    """The ``response_format`` value asking for one action among ``tools``.

    ``tools`` are registry :class:`Tool` objects or OpenAI function-tool schemas
    (``{"type": "function", "function": {"name", "parameters"}}``).
    """
    if form not in ACTION_FORMS:
        raise ValueError(f"form must be one of {ACTION_FORMS}, got {form!r}")
    if not tools:
        raise ValueError("action_schema needs at least one tool")
    defs: dict[str, Any] = {}
    named: list[tuple[str, dict[str, Any]]] = []
    for item in tools:
        name, params = _name_and_parameters(item)
        named.append((name, _args_schema(name, params, defs)))
    if form == "oneof":
        schema: dict[str, Any] = {"oneOf": [
            {"type": "object",
             "properties": {"tool": {"const": name}, "args": args},
             "required": ["tool", "args"], "additionalProperties": False}
            for name, args in named]}
    else:
        schema = {"type": "object",
                  "properties": {"tool": {"type": "string", "enum": [n for n, _ in named]},
                                 "args": {"anyOf": [a for _, a in named]}},
                  "required": ["tool", "args"], "additionalProperties": False}
    if defs:
        schema["$defs"] = defs
    return {"type": "json_schema",
            "json_schema": {"name": "action", "schema": schema}}


def _name_and_parameters(item: Tool | dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if isinstance(item, Tool):
        fn = item.schema()["function"]
    else:
        fn = item.get("function", item)
    name = fn.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"tool schema without a name: {item!r}")
    return name, copy.deepcopy(fn.get("parameters") or {"type": "object", "properties": {}})


def _args_schema(tool: str, params: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """Hoist the tool's ``$defs`` under tool-prefixed names and close the object."""
    local = params.pop("$defs", None) or params.pop("definitions", None) or {}
    prefix = re.sub(r"\W", "_", tool) + "__"
    renamed = {f"#/$defs/{k}": f"#/$defs/{prefix}{k}" for k in local}
    renamed.update({f"#/definitions/{k}": f"#/$defs/{prefix}{k}" for k in local})

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            out = {k: rewrite(v) for k, v in node.items()}
            ref = out.get("$ref")
            if isinstance(ref, str) and ref in renamed:
                out["$ref"] = renamed[ref]
            if out.get("type") == "object" and "additionalProperties" not in out:
                out["additionalProperties"] = False
            return out
        if isinstance(node, list):
            return [rewrite(v) for v in node]
        return node

    for key, value in local.items():
        defs[prefix + key] = rewrite(value)
    schema = rewrite(params)
    schema.setdefault("type", "object")
    schema.setdefault("properties", {})
    schema["additionalProperties"] = False
    return schema


def parse_action(content: str) -> RawCall:
    """Read ``{"tool": ..., "args": {...}}`` (or any call shape) from a constrained reply."""
    text = (content or "").strip()
    fence = re.match(r"^```[\w\-]*[^\n]*\n(.*?)(?:\n```)?\s*$", text, re.DOTALL)
    if fence:
        text = fence.group(1).strip()
    if not text:
        raise ActionParseError("empty reply: no action")
    try:
        parsed = parse_forgiving(text)
    except ForgivingJSONError as exc:
        raise ActionParseError(f"reply is not a JSON action: {exc}") from None
    found = calls_from_value(parsed.value, strong=True)
    if not found:
        raise ActionParseError("reply has no tool name: expected {\"tool\": ..., \"args\": {...}}")
    name, arguments, repairs = found[0]
    rule = [] if parsed.rule == "strict" else [parsed.rule]
    return RawCall(name=name, arguments=arguments, fmt="action", raw=content,
                   repairs=rule + repairs)
