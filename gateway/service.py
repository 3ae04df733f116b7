"""The gateway's request path, independent of HTTP framework and of Ray.

:class:`GatewayService` authenticates a caller, checks quotas, serves deterministic requests from
the cache, waits fairly for a backend slot (preferring the conversation's affine backend),
forwards the request and accounts tokens and metrics. The ASGI app in ``app.py`` is a thin layer
over it; the Ray actor in ``smallcode.actors.gateway`` hosts both.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx
from smallcode.core.observability.prometheus import MetricsRegistry

from .affinity import AffinityMap, affinity_key
from .cache import ResponseCache, is_cacheable
from .config import GatewayConfig, GatewayConfigError
from .quota import QuotaExceeded, QuotaTracker
from .scheduler import FairScheduler, Lease, QueueFull
from .tokens import TokenStore
from .upstream import BackendClient, UpstreamError

log = logging.getLogger("smallcode.gateway")

LOCAL_USER = "local"


class GatewayHTTPError(Exception):
    """An error the gateway answers with: status, OpenAI-style error body, extra headers."""

    def __init__(self, status: int, message: str, *, code: str, retry_after: int | None = None,
                 body: dict[str, Any] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.retry_after = retry_after
        self._body = body

    def payload(self) -> dict[str, Any]:
        if self._body is not None:
            return self._body
        return {"error": {"message": str(self), "type": "gateway_error", "code": self.code}}

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}


@dataclass(frozen=True)
class Caller:
    """Who is asking, after authentication."""

    user: str
    max_concurrent: int
    token_quota: int | None


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return host == "localhost"


def usage_tokens(usage: Any) -> int:
    if not isinstance(usage, dict):
        return 0
    total = usage.get("total_tokens")
    if isinstance(total, int):
        return total
    return int(usage.get("prompt_tokens") or 0) + int(usage.get("completion_tokens") or 0)


@dataclass
class SSEUsageScanner:
    """Reads token usage out of a passing SSE stream (the usage chunk, else one per delta)."""

    _buffer: bytes = b""
    usage: dict[str, Any] | None = None
    deltas: int = 0

    def feed(self, chunk: bytes) -> None:
        self._buffer += chunk
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            line = line.strip()
            if not line.startswith(b"data:") or line == b"data: [DONE]":
                continue
            if b'"usage"' in line:
                try:
                    data = json.loads(line[5:])
                except ValueError:
                    continue
                if isinstance(data, dict) and isinstance(data.get("usage"), dict):
                    self.usage = data["usage"]
            if b'"content"' in line or b'"tool_calls"' in line:
                self.deltas += 1

    def tokens(self) -> int:
        return usage_tokens(self.usage) if self.usage else self.deltas


@dataclass
class _Stats:
    started: float = field(default_factory=time.monotonic)
    cancelled: int = 0


class ChatStream:
    """An open upstream stream holding a slot; iterate :meth:`chunks`, always :meth:`close`."""

    def __init__(self, service: GatewayService, caller: Caller, lease: Lease, stack: AsyncExitStack,
                 body_iter: AsyncIterator[bytes], started: float):
        self._service = service
        self._caller = caller
        self._lease = lease
        self._stack = stack
        self._iter = body_iter
        self._started = started
        self._scanner = SSEUsageScanner()
        self._status = "cancelled"
        self._closed = False

    @property
    def backend(self) -> str:
        return self._lease.backend

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._iter:
                self._scanner.feed(chunk)
                yield chunk
            self._status = "200"
        except UpstreamError as exc:
            self._status = str(exc.status)
            log.warning("stream from %s broke for user %s: %s", exc.backend, self._caller.user, exc)
            error = {"error": {"message": str(exc), "type": "upstream_error", "code": exc.kind,
                               "backend": exc.backend}}
            yield f"data: {json.dumps(error)}\n\n".encode()
        finally:
            await self.close()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            with anyio.CancelScope(shield=True):  # runs while the response is being cancelled
                await self._stack.aclose()
        finally:
            self._lease.release()
            self._service._finish(self._caller, self._lease.backend, self._status,
                                  self._started, self._scanner.tokens())


class GatewayService:
    """Authentication, quotas, cache, fair scheduling and forwarding for chat requests."""

    def __init__(self, config: GatewayConfig, *,
                 transports: dict[str, httpx.AsyncBaseTransport] | None = None):
        if not config.backends:
            raise GatewayConfigError("the gateway needs at least one backend")
        self.config = config
        self.tokens = TokenStore(config.users, config.tokens_file)
        self.scheduler = FairScheduler({b.name: b.slots for b in config.backends},
                                       max_queue=config.max_queue,
                                       max_queue_per_user=config.max_queue_per_user,
                                       affinity_wait_s=config.affinity_wait_s)
        self.quotas = QuotaTracker(config.quota_window_s)
        self.cache = ResponseCache(config.cache_entries, config.cache_ttl_s)
        self.affinity = AffinityMap(config.affinity_entries)
        transports = transports or {}
        self.backends = {
            b.name: BackendClient(b, connect_timeout=config.connect_timeout,
                                  read_timeout=config.read_timeout, max_retries=config.max_retries,
                                  retry_backoff_s=config.retry_backoff_s,
                                  transport=transports.get(b.name))
            for b in config.backends
        }
        self._stats = _Stats()
        self.metrics = MetricsRegistry()
        m = self.metrics
        self.m_requests = m.counter("smallcode_gateway_requests_total",
                                    "chat requests finished, by user, backend and status",
                                    ("user", "backend", "status"))
        self.m_rejected = m.counter("smallcode_gateway_rejected_total",
                                    "requests refused before reaching a backend", ("reason",))
        self.m_latency = m.histogram("smallcode_gateway_request_seconds",
                                     "time from admission to the last byte", ("backend",))
        self.m_wait = m.histogram("smallcode_gateway_queue_wait_seconds",
                                  "time spent waiting for a slot", ())
        self.m_tokens = m.counter("smallcode_gateway_tokens_total", "tokens used, by user",
                                  ("user",))
        self.m_cache = m.counter("smallcode_gateway_cache_total", "response cache lookups",
                                 ("result",))
        self.m_upstream_errors = m.counter("smallcode_gateway_upstream_errors_total",
                                           "backend failures after retries", ("backend", "kind"))
        m.gauge("smallcode_gateway_queue_depth", "requests waiting for a slot, by user", ("user",),
                source=lambda: {(u,): float(n) for u, n in self.scheduler.queued_by_user().items()})
        m.gauge("smallcode_gateway_backend_busy_slots", "slots in use per backend", ("backend",),
                source=lambda: {(name,): float(n) for name, n in self.scheduler.busy().items()})
        m.gauge("smallcode_gateway_backend_slots", "slots per backend", ("backend",),
                source=lambda: {(b.name,): float(b.slots) for b in config.backends})
        m.gauge("smallcode_gateway_backend_up", "1 unless the backend failed recently",
                ("backend",), source=lambda: {(b.name,): 0.0 if self.scheduler.is_down(b.name)
                                              else 1.0 for b in config.backends})

    async def aclose(self) -> None:
        await asyncio.gather(*(c.aclose() for c in self.backends.values()))

    # -- who ------------------------------------------------------------------------------
    def authenticate(self, authorization: str | None, client_host: str | None) -> Caller:
        """The caller for a bearer header; loopback callers may omit it. Raises 401."""
        token = None
        local = self.config.local_without_token and is_loopback(client_host)
        if authorization:
            scheme, _, value = authorization.partition(" ")
            if scheme.lower() != "bearer" or not value.strip():
                raise GatewayHTTPError(401, "the Authorization header must be 'Bearer <token>'",
                                       code="invalid_auth")
            token = value.strip()
        if token is not None:
            user = self.tokens.authenticate(token)
            if user is not None:
                return Caller(user.name, user.max_concurrent, user.token_quota)
            if not local:
                self.m_rejected.inc(reason="auth")
                raise GatewayHTTPError(401, "unknown token", code="invalid_token")
            # a loopback client that sends some other key (e.g. a placeholder) is the local user
        elif not local:
            self.m_rejected.inc(reason="auth")
            raise GatewayHTTPError(401, "a bearer token is required for this client",
                                   code="missing_token")
        return Caller(LOCAL_USER, self.config.local_max_concurrent, None)

    # -- chat -----------------------------------------------------------------------------
    def _eligible(self, body: dict[str, Any]) -> frozenset[str] | None:
        model = body.get("model")
        if not isinstance(model, str) or not model:
            return None
        names = frozenset(b.name for b in self.config.backends if model in (b.name, b.model))
        return names or None

    async def _admit(self, caller: Caller, body: dict[str, Any], session: str | None
                     ) -> tuple[Lease, str | None]:
        try:
            self.quotas.check(caller.user, caller.token_quota)
        except QuotaExceeded as exc:
            self.m_rejected.inc(reason="quota")
            raise GatewayHTTPError(429, str(exc), code="quota_exceeded",
                                   retry_after=exc.retry_after) from None
        key = affinity_key(body, session)
        eligible = self._eligible(body)
        prefer = self.affinity.get(key)
        if prefer is not None and eligible is not None and prefer not in eligible:
            prefer = None
        try:
            lease = await asyncio.wait_for(
                self.scheduler.acquire(caller.user, limit=caller.max_concurrent, prefer=prefer,
                                       eligible=eligible),
                self.config.queue_timeout_s)
        except TimeoutError:
            self.m_rejected.inc(reason="queue_timeout")
            raise GatewayHTTPError(503, f"no backend slot became free within "
                                   f"{self.config.queue_timeout_s:g} s", code="queue_timeout",
                                   retry_after=self.scheduler.retry_after()) from None
        except QueueFull as exc:
            self.m_rejected.inc(reason="queue_full")
            raise GatewayHTTPError(429, str(exc), code="queue_full",
                                   retry_after=exc.retry_after) from None
        self.m_wait.observe(lease.waited_s)
        self.affinity.set(key, lease.backend)
        return lease, key

    def _backend_failed(self, exc: UpstreamError) -> None:
        self.m_upstream_errors.inc(backend=exc.backend, kind=exc.kind)
        if exc.kind in ("unreachable", "http_5xx") and len(self.backends) > 1:
            self.scheduler.mark_down(exc.backend, self.config.backend_cooldown_s)
            self.affinity.forget_backend(exc.backend)

    def _finish(self, caller: Caller, backend: str, status: str, started: float,
                tokens: int) -> None:
        elapsed = time.monotonic() - started
        self.m_requests.inc(user=caller.user, backend=backend, status=status)
        self.m_latency.observe(elapsed, backend=backend)
        if tokens:
            self.quotas.record(caller.user, tokens)
            self.m_tokens.inc(tokens, user=caller.user)
        log.info("chat user=%s backend=%s status=%s seconds=%.3f tokens=%d",
                 caller.user, backend, status, elapsed, tokens)

    async def complete(self, caller: Caller, body: dict[str, Any],
                       session: str | None = None) -> dict[str, Any]:
        """A non-streaming chat completion; raises :class:`GatewayHTTPError`."""
        cached = self.cache.get(body)
        if cached is not None:
            self.m_cache.inc(result="hit")
            self.m_requests.inc(user=caller.user, backend="cache", status="200")
            return cached
        if is_cacheable(body):
            self.m_cache.inc(result="miss")
        lease, _ = await self._admit(caller, body, session)
        started = time.monotonic()
        status, tokens = "cancelled", 0
        try:
            reply = await self.backends[lease.backend].chat(body)
            status, tokens = "200", usage_tokens(reply.body.get("usage"))
        except UpstreamError as exc:
            status = str(exc.status)
            self._backend_failed(exc)
            log.warning("chat failed for user %s on %s: %s", caller.user, exc.backend, exc)
            raise GatewayHTTPError(exc.status, str(exc), code=exc.kind,
                                   body=exc.payload()) from None
        finally:
            lease.release()
            self._finish(caller, lease.backend, status, started, tokens)
        self.cache.put(body, reply.body)
        return reply.body

    async def open_stream(self, caller: Caller, body: dict[str, Any],
                          session: str | None = None) -> ChatStream:
        """Admit and open an upstream stream; errors before the first byte raise."""
        lease, _ = await self._admit(caller, body, session)
        started = time.monotonic()
        stack = AsyncExitStack()
        try:
            body_iter = await stack.enter_async_context(self.backends[lease.backend].stream(body))
        except UpstreamError as exc:
            lease.release()
            self._backend_failed(exc)
            self._finish(caller, lease.backend, str(exc.status), started, 0)
            log.warning("stream failed for user %s on %s: %s", caller.user, exc.backend, exc)
            raise GatewayHTTPError(exc.status, str(exc), code=exc.kind, body=exc.payload()) from None
        except BaseException:
            lease.release()
            self._finish(caller, lease.backend, "cancelled", started, 0)
            raise
        return ChatStream(self, caller, lease, stack, body_iter, started)

    # -- info -----------------------------------------------------------------------------
    async def models(self) -> dict[str, Any]:
        ids: list[str] = []
        for b in self.config.backends:
            for name in (b.model, b.name):
                if name and name not in ids:
                    ids.append(name)
        return {"object": "list",
                "data": [{"id": i, "object": "model", "owned_by": "smallcode-gateway"} for i in ids]}

    def status(self) -> dict[str, Any]:
        snap = self.scheduler.snapshot()
        backends = snap["backends"]
        assert isinstance(backends, dict)
        for b in self.config.backends:
            backends[b.name].update({"kind": b.kind, "base_url": b.base_url, "model": b.model})
        return {
            "uptime_s": round(time.monotonic() - self._stats.started, 1),
            "users": [u.name for u in self.tokens.users()],
            "queue": {k: v for k, v in snap.items() if k != "backends"},
            "backends": backends,
            "quota_used": self.quotas.snapshot(),
            "cache": {"entries": len(self.cache), "hits": self.cache.hits,
                      "misses": self.cache.misses},
        }
