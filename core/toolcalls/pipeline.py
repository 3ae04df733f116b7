"""One reply in, runnable calls out: extraction → resolution → optional model repair → correction.

This is the §4 pipeline the agent loop runs on every assistant message. It never raises: what
cannot be used ends up in ``problems`` and, when nothing is runnable, in one ``correction``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from smallcode.core.model.types import ChatModel
from smallcode.core.toolcalls.correction import correction_message, unparseable_problem
from smallcode.core.toolcalls.extraction import Extraction, extract_tool_calls
from smallcode.core.toolcalls.repair import repair_with_model
from smallcode.core.toolcalls.resolution import CallProblem, ResolvedCall, resolve_call
from smallcode.core.tools.registry import ToolRegistry

__all__ = ["REPAIRABLE_PROBLEMS", "ReplyCalls", "interpret_reply"]

REPAIRABLE_PROBLEMS = frozenset({"invalid_arguments", "unknown_tool", "unparseable"})
"""Problems worth a repair micro-task; a truncated call is not (the rewrite would be cut too)."""


@dataclass
class ReplyCalls:
    """What one assistant reply amounts to."""

    calls: list[ResolvedCall]  # validated, in the order written; run these
    text: str  # what the user should see
    problems: list[CallProblem] = field(default_factory=list)  # calls that could not be used
    correction: str | None = None  # one message for the model, set when nothing is runnable
    extraction: Extraction | None = None
    repaired: int = 0  # calls fixed by the repair micro-task


async def interpret_reply(
    content: str,
    registry: ToolRegistry,
    *,
    reasoning: str = "",
    native: list[dict[str, Any]] | None = None,
    model: ChatModel | None = None,
    repair_timeout: float = 20,
    use_schema: bool = False,
    correction_style: str = "tool_call",
) -> ReplyCalls:
    """Turn one reply into validated calls; repair with ``model`` (if given) what does not validate."""
    extraction = extract_tool_calls(content, reasoning, native, known_tools=registry.names())
    resolved: list[ResolvedCall] = []
    problems: list[CallProblem] = []
    repaired = 0
    schemas = registry.schemas()
    for raw in extraction.calls:
        outcome = resolve_call(raw, registry)
        if isinstance(outcome, CallProblem) and model is not None and \
                outcome.kind in REPAIRABLE_PROBLEMS:
            fixed = await repair_with_model(model, raw.raw or str(raw.arguments), outcome,
                                            schemas, repair_timeout, use_schema=use_schema)
            if fixed is not None:
                second = resolve_call(fixed, registry)
                if isinstance(second, ResolvedCall):
                    second.fixes.insert(0, f"repaired by the model ({outcome.kind})")
                    outcome, repaired = second, repaired + 1
        if isinstance(outcome, ResolvedCall):
            resolved.append(outcome)
        else:
            problems.append(outcome)
    if not extraction.calls:
        problem = unparseable_problem(extraction, registry)
        if problem is not None:
            fixed_call = None
            if model is not None:
                fixed_call = await repair_with_model(model, content or reasoning, problem,
                                                     schemas, repair_timeout,
                                                     use_schema=use_schema)
            outcome = resolve_call(fixed_call, registry) if fixed_call else problem
            if isinstance(outcome, ResolvedCall):
                outcome.fixes.insert(0, "repaired by the model (unparseable)")
                resolved.append(outcome)
                repaired += 1
            else:
                problems.append(outcome)
    correction = None
    if problems and not resolved:
        correction = correction_message(problems[0], style=correction_style)
    return ReplyCalls(calls=resolved, text=extraction.text, problems=problems,
                      correction=correction, extraction=extraction, repaired=repaired)
