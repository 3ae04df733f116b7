"""Response cache for deterministic, non-streaming chat requests.

Only requests whose answer cannot vary are cached: ``stream`` off, at most one choice, and either
``temperature == 0`` or an explicit ``seed``. Keys are the sha256 of the canonical JSON body.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

_IGNORED_KEYS = ("stream", "stream_options", "user")


def is_cacheable(body: dict[str, Any]) -> bool:
    """True when the reply to ``body`` is deterministic and can be replayed."""
    if body.get("stream"):
        return False
    if body.get("n") not in (None, 1):
        return False
    temperature = body.get("temperature")
    if body.get("seed") is not None:
        return True
    return isinstance(temperature, int | float) and not isinstance(temperature, bool) and temperature == 0


def cache_key(body: dict[str, Any]) -> str:
    canonical = {k: v for k, v in body.items() if k not in _IGNORED_KEYS}
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ResponseCache:
    """A bounded LRU of reply bodies with a time-to-live."""

    def __init__(self, max_entries: int = 512, ttl_s: float = 600.0,
                 clock: Callable[[], float] = time.monotonic):
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self._clock = clock
        self._items: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._items)

    def get(self, body: dict[str, Any]) -> dict[str, Any] | None:
        if self.max_entries == 0 or not is_cacheable(body):
            return None
        key = cache_key(body)
        item = self._items.get(key)
        if item is None or item[0] < self._clock():
            if item is not None:
                del self._items[key]
            self.misses += 1
            return None
        self._items.move_to_end(key)
        self.hits += 1
        return item[1]

    def put(self, body: dict[str, Any], reply: dict[str, Any]) -> bool:
        """Store ``reply`` if ``body`` is cacheable; returns whether it was stored."""
        if self.max_entries == 0 or not is_cacheable(body):
            return False
        key = cache_key(body)
        self._items[key] = (self._clock() + self.ttl_s, reply)
        self._items.move_to_end(key)
        while len(self._items) > self.max_entries:
            self._items.popitem(last=False)
        return True
