"""Micro-task: the numbered steps of a plan written in prose.

Fallback (and the first thing tried on well-formed replies): a regex parser for numbered lines,
bullets and a ``Plan:`` header.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field
from smallcode.core.model.types import ChatModel
from smallcode.core.toolcalls.forgiving_json import loads_forgiving

from .microtask import Cache, MicroResult, MicroTask, json_schema_format

MAX_STEPS = 12
MAX_STEP_CHARS = 300

_NUMBERED_RE = re.compile(
    r"^\s*[*_#>]*\s*(?:step\s*)?(\d{1,2})\s*(?:[.):\]-]\s*[*_]*|[*_]+\s*[.):\]-])\s*(.+)$",
    re.IGNORECASE)
_BULLET_RE = re.compile(r"^\s*(?:[-*•+]|\[[ x]\])\s+(.+)$")
_HEADER_RE = re.compile(r"^\s*(?:#+\s*)?\**\s*(?:the )?plan\s*\**\s*:?\s*\**\s*$", re.IGNORECASE)
_INLINE_HEADER_RE = re.compile(r"^\s*\**plan\**\s*:\s*(.+)$", re.IGNORECASE)


def _clean(step: str) -> str:
    step = re.sub(r"^\s*(?:step\s*\d+\s*[:.)-]\s*)", "", step, flags=re.IGNORECASE)
    step = step.replace("**", "").replace("__", "").strip().rstrip(":").strip()
    return step[:MAX_STEP_CHARS]


def parse_plan_text(text: str) -> list[str] | None:
    """Steps from numbered lines (``1.``, ``2)``, ``Step 3:``), bullets, or lines under a
    ``Plan:`` header. ``None`` when the text holds no plan (fewer than two steps, unless a header
    announces it)."""
    lines = text.splitlines()
    numbered: list[str] = []
    expected = 1
    for line in lines:
        m = _NUMBERED_RE.match(line)
        if m and int(m.group(1)) == expected:
            numbered.append(_clean(m.group(2)))
            expected += 1
        elif m and int(m.group(1)) == 1 and numbered:  # a second list: keep the first one
            break
    if len(numbered) >= 2:
        return [s for s in numbered if s][:MAX_STEPS]
    header_at = next((i for i, line in enumerate(lines) if _HEADER_RE.match(line)), None)
    region = lines[header_at + 1:] if header_at is not None else lines
    bullets = [_clean(m.group(1)) for line in region if (m := _BULLET_RE.match(line))]
    if len(bullets) >= 2 or (header_at is not None and bullets):
        return [s for s in bullets if s][:MAX_STEPS]
    if header_at is not None:
        body = [_clean(line) for line in region if line.strip()]
        if body:
            return body[:MAX_STEPS]
    for line in lines:  # "Plan: read a.py; patch it; run the tests"
        m = _INLINE_HEADER_RE.match(line)
        if m:
            parts = [_clean(p) for p in re.split(r";|\s+then\s+|,\s*then\s+", m.group(1))]
            parts = [p for p in parts if p]
            if len(parts) >= 2:
                return parts[:MAX_STEPS]
    if len(numbered) == 1 and header_at is not None:
        return numbered
    return None


class PlanSteps(BaseModel):
    steps: list[str] = Field(min_length=1, max_length=MAX_STEPS)


def _build(inputs: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"role": "system", "content": "Extract the steps of the plan in the text, in order, each "
         "a short imperative sentence that keeps file and function names. Answer with JSON: "
         "{\"steps\": [\"...\", \"...\"]}. At most 8 steps."},
        {"role": "user", "content": inputs["text"][:6000]},
    ]


def _parse(text: str, inputs: dict[str, Any]) -> list[str] | None:
    if "{" in text:
        obj = loads_forgiving(text[text.find("{"):])
        if isinstance(obj, dict) and isinstance(obj.get("steps"), list):
            steps = [_clean(str(s)) for s in obj["steps"] if isinstance(s, str | int | float)]
            steps = [s for s in steps if len(s) >= 3]
            return steps[:MAX_STEPS] or None
    return parse_plan_text(text)


EXTRACT_PLAN: MicroTask[list[str]] = MicroTask(
    name="extract_plan", output=list[str], build=_build, parse=_parse,
    fallback=lambda i: parse_plan_text(i["text"]), timeout=30.0, max_tokens=300,
    response_format=lambda i: json_schema_format("plan", PlanSteps))


async def extract_plan(model: ChatModel | None, text: str, *, cache: Cache | None = None,
                       timeout: float | None = None, prefer_regex: bool = True
                       ) -> MicroResult[list[str]]:
    """Plan steps from ``text``. With ``prefer_regex`` a cleanly numbered plan is parsed without
    a model call (0 tokens); prose goes to the model, with the regex parser as fallback."""
    if prefer_regex:
        steps = parse_plan_text(text)
        if steps and len(steps) >= 2:
            return MicroResult(steps, "fallback", "parsed without a model call")
    return await EXTRACT_PLAN.run(model, {"text": text}, cache=cache, timeout=timeout)
