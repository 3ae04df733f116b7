"""Micro-task: summarize the oldest turns of a conversation so the latest ones fit the window.

The fallback is ``None``: :func:`smallcode.core.context.budget.fit` then drops the oldest turns.
:func:`history_compactor` adapts this to the ``Compactor`` that ``fit`` takes.
"""

from __future__ import annotations

import json
from typing import Any

from smallcode.core.context.budget import Compactor
from smallcode.core.model.types import ChatModel, Message

from .microtask import Cache, MicroResult, MicroTask

MAX_TRANSCRIPT_CHARS = 12_000
PER_MESSAGE_CHARS = 700
MAX_SUMMARY_CHARS = 2_500


def transcript(messages: list[Message]) -> str:
    """A compact text form of messages: roles, texts cut per message, tool calls by name/args."""
    parts = []
    for m in messages:
        role = m.get("role", "?")
        content = m.get("content")
        if isinstance(content, list):
            content = " ".join(p.get("text", "[image]") for p in content if isinstance(p, dict))
        text = str(content or "")
        if len(text) > PER_MESSAGE_CHARS:
            text = text[: PER_MESSAGE_CHARS // 2] + " ... " + text[-PER_MESSAGE_CHARS // 4:]
        for call in m.get("tool_calls") or []:
            fn = call.get("function", {})
            args = fn.get("arguments", "")
            args = args if isinstance(args, str) else json.dumps(args)
            text += f" [called {fn.get('name')}({args[:160]})]"
        parts.append(f"{role}: {text.strip()}")
    out = "\n".join(parts)
    if len(out) > MAX_TRANSCRIPT_CHARS:
        out = out[: MAX_TRANSCRIPT_CHARS // 3] + "\n...\n" + out[-MAX_TRANSCRIPT_CHARS * 2 // 3:]
    return out


def _build(inputs: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"role": "system", "content": "Summarize this earlier part of a coding session for the "
         "agent that continues it. At most 10 short bullet points: what the user asked, which "
         "files were read or changed, decisions made, errors seen (exact messages), and what is "
         "still open. Keep file, function and command names exactly."},
        {"role": "user", "content": inputs["transcript"]},
    ]


def _parse(text: str, inputs: dict[str, Any]) -> str | None:
    text = text.strip()
    if len(text) < 20 or text.startswith(("{", "[")):
        return None
    return text[:MAX_SUMMARY_CHARS]


COMPACT_HISTORY: MicroTask[str] = MicroTask(
    name="compact_history", output=str, build=_build, parse=_parse, fallback=None,
    timeout=60.0, max_tokens=450)


async def compact_history(model: ChatModel | None, messages: list[Message], *,
                          cache: Cache | None = None,
                          timeout: float | None = None) -> MicroResult[str]:
    return await COMPACT_HISTORY.run(model, {"transcript": transcript(messages)}, cache=cache,
                                     timeout=timeout)


def history_compactor(model: ChatModel | None, *, cache: Cache | None = None,
                      timeout: float | None = None) -> Compactor:
    """``fit(..., compactor=history_compactor(model))``: ``None`` on failure, never raises."""

    async def compact(messages: list[Message]) -> str | None:
        result = await compact_history(model, messages, cache=cache, timeout=timeout)
        return result.value

    return compact
