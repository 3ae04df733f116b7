"""Prompt layout that keeps the server's prompt cache warm across the calls of a task.

llama.cpp (and most servers) reuse the KV cache for the longest common *prefix* of consecutive
prompts. So: the system prompt and the tool list are fixed for a task and go first; the history
is append-only (only compaction rewrites it); and everything that changes from call to call — the
plan anchor, loaded memory, retrieved code, route notes — goes in one trailing note that is
rebuilt for every call and never stored in the history. Each call then re-processes only what
was appended since the previous call plus the small trailing note.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from smallcode.core.model.types import Message

NoteRole = Literal["user", "system"]


@dataclass
class PromptRequest:
    """What one model call sends: messages plus the (frozen) tool schemas."""

    messages: list[Message]
    tools: list[dict[str, Any]] | None


@dataclass
class PromptLayout:
    """Builds every request of one task from a fixed head, the history and a volatile note.

    ``system`` and ``tools`` are frozen when the layout is made (one layout per task); changing
    the tools (:meth:`set_tools`) is counted in :attr:`prefix_breaks` because it invalidates the
    server's cache from the first token.
    """

    system: str
    tools: list[dict[str, Any]] | None = None
    note_role: NoteRole = "user"
    note_header: str = "[Context for this step — not from the user]"
    prefix_breaks: int = 0
    _tools_key: str = field(default="", init=False, repr=False)

    def __post_init__(self) -> None:
        self._tools_key = _canonical(self.tools)

    def set_tools(self, tools: list[dict[str, Any]] | None) -> bool:
        """Replace the tool list (e.g. after widening). Returns True when it really changed."""
        key = _canonical(tools)
        if key == self._tools_key:
            return False
        self.tools = tools
        self._tools_key = key
        self.prefix_breaks += 1
        return True

    def note(self, volatile: Iterable[str | None]) -> str:
        parts = [p.strip() for p in volatile if p and p.strip()]
        if not parts:
            return ""
        return self.note_header + "\n" + "\n\n".join(parts)

    def build(self, history: Sequence[Message], volatile: Iterable[str | None] = ()
              ) -> list[Message]:
        """``[system] + history + [volatile note]``. Leading system messages in ``history`` are
        replaced by this layout's system prompt (the head must not drift); the history itself is
        copied, never modified."""
        start = 0
        while start < len(history) and history[start].get("role") == "system":
            start += 1
        messages: list[Message] = [{"role": "system", "content": self.system}]
        messages.extend(dict(m) for m in history[start:])
        text = self.note(volatile)
        if text:
            messages.append({"role": self.note_role, "content": text})
        return messages

    def request(self, history: Sequence[Message], volatile: Iterable[str | None] = ()
                ) -> PromptRequest:
        return PromptRequest(self.build(history, volatile), self.tools)


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def render_chatml(messages: Sequence[Message], tools: list[dict[str, Any]] | None = None) -> str:
    """The prompt text a ChatML-style template (Qwen2.5) would make of a request: tools inside the
    system turn, one block per message. Used to measure how much of a prompt a server can reuse."""
    out: list[str] = []
    for i, m in enumerate(messages):
        role = m.get("role", "user")
        content = m.get("content")
        if isinstance(content, list):  # multimodal parts
            content = "".join(p.get("text", "<image>") if isinstance(p, dict) else str(p)
                              for p in content)
        text = str(content or "")
        if i == 0 and role == "system" and tools:
            text += "\n\n# Tools\n<tools>\n" + "\n".join(
                json.dumps(t, ensure_ascii=False) for t in tools) + "\n</tools>"
        for call in m.get("tool_calls") or []:
            fn = call.get("function", {})
            text += "\n<tool_call>\n" + json.dumps(
                {"name": fn.get("name"), "arguments": fn.get("arguments")}) + "\n</tool_call>"
        out.append(f"<|im_start|>{role}\n{text}<|im_end|>\n")
    return "".join(out) + "<|im_start|>assistant\n"


def shared_prefix_chars(previous: str, current: str) -> int:
    """Length of the byte-identical common prefix of two rendered prompts."""
    n = min(len(previous), len(current))
    lo, hi = 0, n
    while lo < hi:  # binary search on slices: fast for long prompts
        mid = (lo + hi + 1) // 2
        if previous[:mid] == current[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


__all__ = ["PromptLayout", "PromptRequest", "render_chatml", "shared_prefix_chars"]
