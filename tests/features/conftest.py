"""Fakes for micro-task tests: an in-process ChatModel with scripted behaviours; the real cache."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from smallcode.core.cache import MemoryCache
from smallcode.core.model.types import ChatResponse, ModelError


class FakeModel:
    """A ChatModel whose replies are scripted: text, ``"hang"``, or an exception instance."""

    def __init__(self, *replies: Any, name: str = "fake-model") -> None:
        self.replies = list(replies)
        self.calls: list[dict[str, Any]] = []
        self._name = name

    @property
    def context_window(self) -> int:
        return 8192

    @property
    def model_name(self) -> str:
        return self._name

    async def chat(self, messages, *, tools=None, response_format=None, max_tokens=None,
                   temperature=None, on_delta=None) -> ChatResponse:
        self.calls.append({"messages": messages, "response_format": response_format,
                           "max_tokens": max_tokens})
        reply = self.replies.pop(0) if self.replies else "hang"
        if reply == "hang":
            await asyncio.sleep(3600)
        if isinstance(reply, BaseException):
            raise reply
        if isinstance(reply, ChatResponse):
            return reply
        return ChatResponse(content=str(reply))


@pytest.fixture()
def cache():
    return MemoryCache()


@pytest.fixture()
def model_error():
    return ModelError("server said 500", status=500)
