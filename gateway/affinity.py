"""Session affinity: a conversation keeps going to the backend that holds its prompt cache.

The key is the ``X-Smallcode-Session`` header when the client sends one, otherwise a hash of the
model and the conversation's opening (system prompt and first user message), which stays the same
as the conversation grows.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from typing import Any

SESSION_HEADER = "x-smallcode-session"


def affinity_key(body: dict[str, Any], session: str | None = None) -> str | None:
    """A stable key for the conversation in ``body``; None when there is nothing to key on."""
    if session:
        return "s:" + hashlib.sha256(session.encode("utf-8")).hexdigest()[:32]
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return None
    opening: list[Any] = []
    for message in messages:
        if not isinstance(message, dict):
            continue
        opening.append([message.get("role"), message.get("content")])
        if message.get("role") == "user":
            break
    text = json.dumps([body.get("model"), opening], sort_keys=True, default=str)
    return "h:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class AffinityMap:
    """Bounded LRU from affinity key to backend name."""

    def __init__(self, max_entries: int = 4096):
        self.max_entries = max_entries
        self._map: OrderedDict[str, str] = OrderedDict()

    def __len__(self) -> int:
        return len(self._map)

    def get(self, key: str | None) -> str | None:
        if key is None:
            return None
        backend = self._map.get(key)
        if backend is not None:
            self._map.move_to_end(key)
        return backend

    def set(self, key: str | None, backend: str) -> None:
        if key is None:
            return
        self._map[key] = backend
        self._map.move_to_end(key)
        while len(self._map) > self.max_entries:
            self._map.popitem(last=False)

    def forget_backend(self, backend: str) -> None:
        for key in [k for k, v in self._map.items() if v == backend]:
            del self._map[key]
