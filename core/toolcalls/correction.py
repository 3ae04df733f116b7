"""One short correction for the model when a call is unusable.

The agent replaces the turn that produced the unusable call with this one message, so bad
examples do not pile up in history.
"""

from __future__ import annotations

import json

from smallcode.core.toolcalls.extraction import Extraction
from smallcode.core.toolcalls.resolution import CallProblem, example_call
from smallcode.core.tools.registry import ToolRegistry

__all__ = ["CORRECTION_STYLES", "correction_message", "unparseable_problem"]

CORRECTION_STYLES = ("tool_call", "json", "action")
"""``tool_call``: ``<tool_call>{...}</tool_call>``; ``json``: the bare object; ``action``: the
``{"tool": ..., "args": ...}`` object used with constrained decoding."""


def correction_message(problem: CallProblem, *, style: str = "tool_call") -> str:
    """The message to send back: what was wrong, and the exact format expected."""
    if style not in CORRECTION_STYLES:
        raise ValueError(f"style must be one of {CORRECTION_STYLES}, got {style!r}")
    lines = [f"Your tool call was not run. {problem.message}"]
    if problem.example:
        example = problem.example
        if style == "action":
            obj = json.loads(example)
            example = json.dumps({"tool": obj["name"], "args": obj["arguments"]},
                                 ensure_ascii=False)
        if style == "tool_call":
            example = f"<tool_call>\n{example}\n</tool_call>"
        lines.append("Reply with one call in exactly this format:")
        lines.append(example)
    return "\n".join(lines)


def unparseable_problem(extraction: Extraction, registry: ToolRegistry,
                        tool_hint: str | None = None) -> CallProblem | None:
    """A problem for a reply whose call markup could not be parsed at all (None if no errors)."""
    if not extraction.errors:
        return None
    names = registry.names()
    example_tool = tool_hint if tool_hint in names else (names[0] if names else None)
    detail = extraction.errors[0]
    if len(detail) > 160:
        detail = detail[:157] + "..."
    return CallProblem(kind="unparseable",
                       message=f"It could not be parsed ({detail}). Write valid JSON with "
                               f"double quotes and escaped newlines.",
                       example=example_call(registry, example_tool) if example_tool else "")
