"""Micro-task: does this message need a clarifying question before acting?

The zero-token regex check (:func:`smallcode.core.context.vagueness.is_vague`) runs first in the
loop; this asks the model when a second opinion is worth a call. Fallback: the regex check.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from smallcode.core.context.vagueness import is_vague
from smallcode.core.model.types import ChatModel
from smallcode.core.toolcalls.forgiving_json import loads_forgiving

from .microtask import Cache, MicroResult, MicroTask, json_schema_format

DEFAULT_QUESTION = "What exactly should I change, and in which file?"


class Clarification(BaseModel):
    needs_clarification: bool
    question: str | None = Field(default=None, max_length=300)


def _build(inputs: dict[str, Any]) -> list[dict[str, Any]]:
    context = inputs.get("context") or "(none)"
    return [
        {"role": "system", "content": "Decide if a coding request is too vague to act on without "
         "guessing. Answer with JSON: {\"needs_clarification\": true|false, \"question\": "
         "\"<one short question, or null>\"}."},
        {"role": "user", "content": f"Earlier context:\n{context[:2000]}\n\nRequest: "
                                    f"{inputs['message']}"},
    ]


def _parse(text: str, inputs: dict[str, Any]) -> Clarification | None:
    obj = loads_forgiving(text[text.find("{"):] if "{" in text else text)
    if not isinstance(obj, dict) or not isinstance(obj.get("needs_clarification"), bool):
        return None
    c = Clarification.model_validate(obj)
    if c.needs_clarification and not (c.question or "").strip():
        c.question = DEFAULT_QUESTION
    if not c.needs_clarification:
        c.question = None
    return c


def _fallback(inputs: dict[str, Any]) -> Clarification:
    vague = is_vague(inputs["message"], has_context=bool(inputs.get("context")))
    return Clarification(needs_clarification=vague, question=DEFAULT_QUESTION if vague else None)


NEEDS_CLARIFICATION: MicroTask[Clarification] = MicroTask(
    name="needs_clarification", output=Clarification, build=_build, parse=_parse,
    fallback=_fallback, timeout=15.0, max_tokens=80, ttl=24 * 3600.0,
    response_format=lambda i: json_schema_format("clarification", Clarification))


async def needs_clarification(model: ChatModel | None, message: str, context: str = "", *,
                              cache: Cache | None = None,
                              timeout: float | None = None) -> MicroResult[Clarification]:
    return await NEEDS_CLARIFICATION.run(model, {"message": message, "context": context},
                                         cache=cache, timeout=timeout)
