"""One call's prompt, put together: fit the history into the real window, then lay it out.

:class:`PromptAssembler` is what the agent loop calls before every model call of a task. It owns
the task's :class:`PromptLayout` (fixed system prompt and tools), counts tokens with a
(calibrated) :class:`TokenCounter`, and runs :func:`fit` with the compaction micro-task only when
the history no longer fits — so the prefix stays byte-identical from call to call until the
window really is full.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from smallcode.core.model.types import Message

from .budget import Compactor, FitResult, TokenCounter, fit, prompt_budget
from .layout import PromptLayout


@dataclass
class AssembledPrompt:
    messages: list[Message]  # what to send
    tools: list[dict[str, Any]] | None
    history: list[Message]  # the history to keep (fitted; same object content when unchanged)
    fit: FitResult
    budget: int


class PromptAssembler:
    """Per task: ``assemble(history, volatile)`` before each model call."""

    def __init__(self, system: str, tools: list[dict[str, Any]] | None, *, context_window: int,
                 max_tokens: int, counter: TokenCounter | None = None,
                 compactor: Compactor | None = None, keep_last_steps: int = 4) -> None:
        self.layout = PromptLayout(system, tools)
        self.context_window = context_window
        self.max_tokens = max_tokens
        self.counter = counter or TokenCounter()
        self.compactor = compactor
        self.keep_last_steps = keep_last_steps

    def set_tools(self, tools: list[dict[str, Any]] | None) -> bool:
        """Widening: a new tool list (counts a prefix break when it really changed)."""
        return self.layout.set_tools(tools)

    def budget_for(self, volatile_text: str) -> int:
        head = self.counter.count(self.layout.system) + self.counter.count_tools(self.layout.tools)
        return prompt_budget(self.context_window, max_tokens=self.max_tokens,
                             tools_tokens=head + self.counter.count(volatile_text) + 8)

    async def assemble(self, history: Sequence[Message],
                       volatile: Iterable[str | None] = ()) -> AssembledPrompt:
        """Messages for the next call. ``history`` excludes (or starts with) the system prompt;
        when it had to be fitted, ``.history`` is the new history the caller should keep."""
        volatile = list(volatile)
        body = [m for m in history if m.get("role") != "system"] if history and \
            history[0].get("role") == "system" else list(history)
        budget = self.budget_for(self.layout.note(volatile))
        fitted = await fit(body, budget, self.counter, keep_last_steps=self.keep_last_steps,
                           compactor=self.compactor)
        messages = self.layout.build(fitted.messages, volatile)
        return AssembledPrompt(messages, self.layout.tools, fitted.messages, fitted, budget)


__all__ = ["AssembledPrompt", "PromptAssembler"]
