"""Fakes for micro-task tests: an in-process ChatModel with scripted behaviours and a TTL cache."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from typing import Any

import pytest
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


class DictCache:
    """Canonical-JSON keys hashed with sha256, values with an expiry time."""

    def __init__(self) -> None:
        self.data: dict[str, tuple[Any, float | None]] = {}

    @staticmethod
    def _key(key: Any) -> str:
        return hashlib.sha256(json.dumps(key, sort_keys=True, separators=(",", ":"))
                              .encode()).hexdigest()

    def get(self, key: Any) -> Any:
        hit = self.data.get(self._key(key))
        if hit is None or (hit[1] is not None and hit[1] < time.time()):
            return None
        return hit[0]

    def set(self, key: Any, value: Any, ttl: float | None = None) -> None:
        self.data[self._key(key)] = (value, time.time() + ttl if ttl is not None else None)


def _cache_class():
    try:  # the shared cache, once it exists
        from smallcode.core.cache import MemoryCache

        return MemoryCache
    except ImportError:
        return DictCache


@pytest.fixture()
def cache():
    return _cache_class()()


@pytest.fixture()
def model_error():
    return ModelError("server said 500", status=500)
