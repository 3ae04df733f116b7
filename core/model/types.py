"""Wire-level types shared by everything that talks to a model: messages, replies, usage.

Messages are plain OpenAI-format dicts (``{"role": ..., "content": ...}``) because that is what
goes on the wire and into sessions; replies are parsed into :class:`ChatResponse`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

Message = dict[str, Any]
# called with each piece of a streamed reply; returning True ends the reply there (the stream
# is closed and the server stops generating: what follows is not needed)
DeltaCallback = Callable[[str], Awaitable[bool | None] | bool | None]


@dataclass
class Usage:
    """Token usage of one call, as the server reported it."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0  # prompt tokens served from the server's prompt cache
    prompt_processed: int | None = None  # llama.cpp timings.prompt_n: tokens actually re-processed

    def add(self, other: Usage) -> None:
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.cached_tokens += other.cached_tokens
        if other.prompt_processed is not None:
            self.prompt_processed = (self.prompt_processed or 0) + other.prompt_processed


@dataclass
class ChatResponse:
    """One assistant reply: visible text, hidden reasoning, native tool calls, usage."""

    content: str = ""
    reasoning: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    model: str = ""
    latency_s: float = 0.0
    raw: dict[str, Any] = field(default_factory=dict)


class ModelError(RuntimeError):
    """The model server could not give an answer (down, timeout, bad status after retries)."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = False):
        super().__init__(message)
        self.status = status
        self.retryable = retryable


@runtime_checkable
class ChatModel(Protocol):
    """The one seam to a language model. The agent, micro-tasks and workers use only this."""

    @property
    def context_window(self) -> int: ...

    @property
    def model_name(self) -> str: ...

    async def chat(
        self,
        messages: list[Message],
        *,
        tools: list[dict[str, Any]] | None = None,
        response_format: dict[str, Any] | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        on_delta: DeltaCallback | None = None,
        seed: int | None = None,
    ) -> ChatResponse: ...
