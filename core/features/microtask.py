"""The micro-task framework: one focused question to the model, with a cache, a timeout and a
fallback, that can never break its caller.

A :class:`MicroTask` declares its output type, how to build the prompt, how to parse (and
validate) the reply, and what to return when the model cannot help — a regex fallback or
``None``. :meth:`MicroTask.run` always returns a :class:`MicroResult`: a model that hangs, errors
(``ModelError``, HTTP 500), or answers garbage ends in the fallback, never in an exception.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Literal, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, TypeAdapter
from smallcode.core.awaitables import maybe_await
from smallcode.core.model.types import ChatModel, Message, ModelError

T = TypeVar("T")
log = logging.getLogger(__name__)

Source = Literal["model", "cache", "fallback", "none"]
_THINK_RE = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL | re.IGNORECASE)


@runtime_checkable
class Cache(Protocol):
    """What micro-tasks need from a cache (``smallcode.core.cache`` provides memory and DuckDB
    ones). Keys are JSON-able objects; the cache hashes their canonical JSON. Methods may be sync
    or async."""

    def get(self, key: Any) -> Any: ...

    def set(self, key: Any, value: Any, ttl: float | None = None) -> Any: ...


@dataclass(frozen=True)
class MicroResult(Generic[T]):
    """What a micro-task produced and where it came from."""

    value: T | None
    source: Source
    error: str = ""  # why the model's answer was not used ("" when it was)
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.value is not None


class MicroTaskOutputError(ValueError):
    """The model's reply did not parse into the declared output."""


def strip_reply(text: str) -> str:
    """Reply text without thinking blocks and without one wrapping code fence."""
    text = _THINK_RE.sub("", text or "").strip()
    fenced = re.fullmatch(r"```[\w-]*\n?(.*?)\n?```", text, re.DOTALL)
    return fenced.group(1).strip() if fenced else text


@dataclass
class MicroTask(Generic[T]):
    """One micro-task. ``build(inputs) -> messages``; ``parse(text, inputs) -> T`` (raise or return
    ``None`` for an unusable reply); ``fallback(inputs) -> T | None`` (must be cheap and
    deterministic). Bump ``version`` when the prompt changes so old cache entries are not used."""

    name: str
    output: Any  # the declared output type: str, bool, list[str], a pydantic model...
    build: Callable[[dict[str, Any]], list[Message]]
    parse: Callable[[str, dict[str, Any]], T | None]
    fallback: Callable[[dict[str, Any]], T | None] | None = None
    timeout: float = 30.0
    ttl: float | None = 7 * 24 * 3600.0
    max_tokens: int = 256
    temperature: float = 0.0
    version: int = 1
    response_format: Callable[[dict[str, Any]], dict[str, Any] | None] | None = None

    def __post_init__(self) -> None:
        self._adapter: TypeAdapter[Any] = TypeAdapter(self.output)

    def cache_key(self, model: ChatModel | None, inputs: dict[str, Any]) -> dict[str, Any]:
        name = ""
        if model is not None:
            try:
                name = str(model.model_name)
            except Exception:  # noqa: BLE001
                name = ""
        return {"microtask": self.name, "v": self.version, "model": name, "inputs": inputs}

    def _validate(self, value: Any) -> T:
        return self._adapter.validate_python(value)  # type: ignore[no-any-return]

    def _dump(self, value: T) -> Any:
        return self._adapter.dump_python(value, mode="json")

    async def run(self, model: ChatModel | None, inputs: dict[str, Any], *,
                  cache: Cache | None = None, timeout: float | None = None,
                  structured: bool | None = None) -> MicroResult[T]:
        """Ask the model; on any failure return the fallback. Never raises (except when the
        caller itself is cancelled)."""
        started = time.perf_counter()

        def done(value: T | None, source: Source, error: str = "") -> MicroResult[T]:
            return MicroResult(value, source, error, time.perf_counter() - started)

        key = self.cache_key(model, inputs)
        if cache is not None and model is not None:
            try:
                hit = await maybe_await(cache.get(key))
                if hit is not None:
                    return done(self._validate(hit), "cache")
            except Exception as exc:  # noqa: BLE001 - a broken cache is a cache miss
                log.debug("micro-task %s: cache get failed: %s", self.name, exc)
        error = "no model"
        if model is not None:
            try:
                value = await asyncio.wait_for(self._ask(model, inputs, structured),
                                               timeout=timeout or self.timeout)
                if cache is not None:
                    try:
                        await maybe_await(cache.set(key, self._dump(value), self.ttl))
                    except Exception as exc:  # noqa: BLE001 - caching is best effort
                        log.debug("micro-task %s: cache set failed: %s", self.name, exc)
                return done(value, "model")
            except TimeoutError:
                error = f"timed out after {timeout or self.timeout:g}s"
            except ModelError as exc:
                error = f"model error: {exc}"
            except MicroTaskOutputError as exc:
                error = f"unusable reply: {exc}"
            except Exception as exc:  # noqa: BLE001 - nothing may escape into the agent loop
                error = f"{type(exc).__name__}: {exc}"
        if self.fallback is not None:
            try:
                fb = self.fallback(inputs)
                if fb is not None:
                    return done(self._validate(fb), "fallback", error)
            except Exception as exc:  # noqa: BLE001
                error += f"; fallback failed: {type(exc).__name__}: {exc}"
        return done(None, "none", error)

    async def _ask(self, model: ChatModel, inputs: dict[str, Any],
                   structured: bool | None) -> T:
        messages = self.build(inputs)
        if structured is None:
            structured = bool(getattr(getattr(model, "profile", None), "json_schema", False))
        fmt = self.response_format(inputs) if (structured and self.response_format) else None
        reply = await model.chat(messages, response_format=fmt, max_tokens=self.max_tokens,
                                 temperature=self.temperature)
        text = strip_reply(reply.content or "") or strip_reply(reply.reasoning or "")
        if not text:
            raise MicroTaskOutputError("empty reply")
        try:
            value = self.parse(text, inputs)
        except MicroTaskOutputError:
            raise
        except Exception as exc:  # noqa: BLE001 - any parse failure is an unusable reply
            raise MicroTaskOutputError(f"{type(exc).__name__}: {exc}") from None
        if value is None:
            raise MicroTaskOutputError(f"could not read {self.name} output from {text[:80]!r}")
        try:
            return self._validate(value)
        except Exception as exc:  # noqa: BLE001 - wrong type or shape is an unusable reply
            raise MicroTaskOutputError(str(exc).splitlines()[0]) from None


def json_schema_format(name: str, model: type[BaseModel]) -> dict[str, Any]:
    """A ``response_format`` asking the server to constrain the reply to ``model``'s schema."""
    return {"type": "json_schema",
            "json_schema": {"name": name, "strict": True, "schema": model.model_json_schema()}}


__all__ = ["Cache", "MicroResult", "MicroTask", "MicroTaskOutputError", "json_schema_format",
           "strip_reply"]
