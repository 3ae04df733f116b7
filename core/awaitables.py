"""Calling collaborators that may be plain objects or actor/async handles."""

from __future__ import annotations

import inspect
from typing import Any


async def maybe_await(value: Any) -> Any:
    """The value, awaited first when it is awaitable (a coroutine or a Ray ObjectRef)."""
    return await value if inspect.isawaitable(value) else value
