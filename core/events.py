"""The typed event stream a turn produces. The TUI, the headless printer and --json render these."""

from __future__ import annotations

import time
from typing import Any, Literal

from pydantic import BaseModel, Field


class Event(BaseModel):
    type: str
    ts: float = Field(default_factory=time.time)
    step: int | None = None  # the plan step that produced it, when a step worker did


class TextDelta(Event):
    type: Literal["text_delta"] = "text_delta"
    text: str


class AssistantText(Event):
    type: Literal["assistant_text"] = "assistant_text"
    text: str


class RouteEvent(Event):
    type: Literal["route"] = "route"
    category: str
    tools: list[str]
    reason: str = ""


class ToolCallEvent(Event):
    type: Literal["tool_call"] = "tool_call"
    call_id: str
    name: str
    arguments: dict[str, Any]
    repaired: str = ""  # how the call was recovered, if it was (e.g. "fenced_json", "name_fix")


class ToolResultEvent(Event):
    type: Literal["tool_result"] = "tool_result"
    call_id: str
    name: str
    ok: bool
    output: str
    diff: str = ""
    changed_files: list[str] = Field(default_factory=list)


class PlanUpdate(Event):
    type: Literal["plan"] = "plan"
    anchor: str
    steps: list[dict[str, Any]] = Field(default_factory=list)


class UsageEvent(Event):
    type: Literal["usage"] = "usage"
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0
    context_window: int = 0


class ErrorEvent(Event):
    type: Literal["error"] = "error"
    message: str
    recoverable: bool = True


class NoticeEvent(Event):
    type: Literal["notice"] = "notice"
    message: str


class CandidateEvent(Event):
    """One candidate edit of the solve path once checked: the whole new text of each file it
    changes, so a benchmark can run its hidden tests on every candidate, not only the one kept."""

    type: Literal["candidate"] = "candidate"
    number: int
    temperature: float
    files: dict[str, str] = Field(default_factory=dict)
    passed: bool = False  # passed smallcode's own oracle


class DoneEvent(Event):
    type: Literal["done"] = "done"
    success: bool
    reason: str
    verified: Literal["tests", "repro", "structural", "none", "answer"] = "none"
    summary: str = ""
    turns: int = 0
    tool_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
