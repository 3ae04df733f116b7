"""Micro-task: ask the model to rewrite an unusable call as one JSON object.

Bounded by a timeout; any failure (server down, timeout, still-broken reply) gives ``None`` so
the caller falls back to a correction message. It never raises.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from smallcode.core.model.types import ChatModel
from smallcode.core.toolcalls.action import ActionParseError, action_schema, parse_action
from smallcode.core.toolcalls.extraction import RawCall, extract_tool_calls
from smallcode.core.toolcalls.resolution import CallProblem

__all__ = ["REPAIR_SYSTEM_PROMPT", "repair_with_model"]

REPAIR_SYSTEM_PROMPT = (
    "You fix broken tool calls. Rewrite the call as ONE JSON object "
    '{"tool": "<tool name>", "args": {<arguments>}} using only the tools and argument names '
    "listed. Keep the caller's intent and values. Output the JSON object only."
)
_MAX_RAW_CHARS = 4000


async def repair_with_model(
    model: ChatModel,
    raw_text: str,
    problem: CallProblem | str,
    tool_schemas: list[dict[str, Any]],
    timeout: float = 20,
    *,
    use_schema: bool = False,
    max_tokens: int = 512,
) -> RawCall | None:
    """Ask ``model`` to rewrite ``raw_text`` as a valid call; ``None`` on any failure."""
    try:
        return await asyncio.wait_for(
            _repair(model, raw_text, problem, tool_schemas, use_schema, max_tokens),
            timeout=timeout)
    except Exception:  # noqa: BLE001 - timeout, ModelError, anything: caller falls back
        return None


async def _repair(model: ChatModel, raw_text: str, problem: CallProblem | str,
                  tool_schemas: list[dict[str, Any]], use_schema: bool,
                  max_tokens: int) -> RawCall | None:
    if not tool_schemas:
        return None
    message = problem.message if isinstance(problem, CallProblem) else str(problem)
    broken = raw_text if len(raw_text) <= _MAX_RAW_CHARS else raw_text[:_MAX_RAW_CHARS] + "..."
    user = (f"Tools:\n{_tool_lines(tool_schemas)}\n\nBroken call:\n{broken}\n\n"
            f"Problem: {message}\n\nThe fixed call as one JSON object:")
    messages = [{"role": "system", "content": REPAIR_SYSTEM_PROMPT},
                {"role": "user", "content": user}]
    response_format = action_schema(tool_schemas) if use_schema else None
    reply = await model.chat(messages, response_format=response_format,
                             max_tokens=max_tokens, temperature=0.0)
    content = reply.content or ""
    try:
        call = parse_action(content)
    except ActionParseError:
        names = [_schema_name(s) for s in tool_schemas]
        found = extract_tool_calls(content, reply.reasoning or "",
                                   known_tools=[n for n in names if n]).calls
        if not found:
            return None
        call = found[0]
    return RawCall(name=call.name, arguments=call.arguments, fmt="repair", raw=content,
                   repairs=[*call.repairs, "model_repair"])


def _schema_name(schema: dict[str, Any]) -> str:
    fn = schema.get("function", schema)
    name = fn.get("name", "")
    return name if isinstance(name, str) else ""


def _tool_lines(tool_schemas: list[dict[str, Any]]) -> str:
    lines = []
    for schema in tool_schemas:
        fn = schema.get("function", schema)
        params = fn.get("parameters") or {}
        props = params.get("properties", {})
        required = set(params.get("required", []))
        args = ", ".join(
            f"{k}: {_type_name(v)}{'' if k in required else ' (optional)'}"
            for k, v in props.items())
        lines.append(f"- {fn.get('name')}({args})")
    return "\n".join(lines)


def _type_name(prop: dict[str, Any]) -> str:
    if "type" in prop:
        return str(prop["type"])
    kinds = [o.get("type") for o in prop.get("anyOf", []) if o.get("type") not in (None, "null")]
    return "|".join(str(k) for k in kinds) or json.dumps(prop)[:30]
