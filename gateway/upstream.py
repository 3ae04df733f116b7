"""Talking to one backend: forwarding chat requests with bounded retries and clear errors.

Connection errors and 5xx replies are retried ``max_retries`` times with backoff (for a stream,
only before its first byte reached the client). What cannot be recovered becomes an
:class:`UpstreamError` carrying the status the gateway answers with: 502 for an unreachable or
failing backend, 504 for one that stopped answering, or the backend's own 4xx.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from .config import BackendConfig

RETRYABLE_STATUS = frozenset({500, 502, 503, 504})


class UpstreamError(Exception):
    """A backend failure turned into the HTTP status and message the client gets."""

    def __init__(self, status: int, message: str, *, backend: str, kind: str,
                 body: dict[str, Any] | None = None):
        super().__init__(message)
        self.status = status
        self.backend = backend
        self.kind = kind  # unreachable | timeout | http_5xx | http_4xx | protocol
        self.body = body

    def payload(self) -> dict[str, Any]:
        if self.body and self.kind == "http_4xx":
            return self.body
        return {"error": {"message": str(self), "type": "upstream_error", "code": self.kind,
                          "backend": self.backend}}


@dataclass
class UpstreamReply:
    status: int
    body: dict[str, Any]
    attempts: int


def _error_message(response_text: str) -> str:
    try:
        data = json.loads(response_text)
        err = data.get("error", data)
        if isinstance(err, dict):
            return str(err.get("message") or err)[:300]
        return str(err)[:300]
    except (ValueError, AttributeError):
        return response_text[:300]


class BackendClient:
    """One pooled HTTP client per backend."""

    def __init__(self, config: BackendConfig, *, connect_timeout: float = 5.0,
                 read_timeout: float = 300.0, max_retries: int = 2, retry_backoff_s: float = 0.2,
                 transport: httpx.AsyncBaseTransport | None = None):
        self.config = config
        self.name = config.name
        self.max_retries = max_retries
        self.retry_backoff_s = retry_backoff_s
        headers = {"Content-Type": "application/json"}
        if config.api_key is not None:
            headers["Authorization"] = f"Bearer {config.api_key.get_secret_value()}"
        timeout = httpx.Timeout(connect=connect_timeout, read=read_timeout, write=30.0, pool=30.0)
        limits = httpx.Limits(max_connections=config.slots * 2 + 4,
                              max_keepalive_connections=config.slots * 2 + 4)
        self._client = httpx.AsyncClient(base_url=config.base_url, headers=headers,
                                         timeout=timeout, limits=limits, transport=transport)

    async def aclose(self) -> None:
        await self._client.aclose()

    def _prepare(self, body: dict[str, Any]) -> dict[str, Any]:
        if self.config.model:
            body = {**body, "model": self.config.model}
        return body

    def _transport_error(self, exc: Exception, attempts: int) -> UpstreamError:
        if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout):
            return UpstreamError(504, f"backend {self.name} timed out after {attempts} attempt(s) "
                                 f"({type(exc).__name__})", backend=self.name, kind="timeout")
        return UpstreamError(502, f"backend {self.name} is unreachable after {attempts} attempt(s) "
                             f"({type(exc).__name__})", backend=self.name, kind="unreachable")

    async def _backoff(self, attempt: int) -> None:
        await asyncio.sleep(self.retry_backoff_s * (2 ** attempt))

    async def chat(self, body: dict[str, Any]) -> UpstreamReply:
        """A non-streaming chat completion; raises :class:`UpstreamError` when it cannot."""
        payload = self._prepare(body)
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._client.post("/chat/completions", json=payload)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError,
                    httpx.ReadError, httpx.WriteError) as exc:
                if attempt <= self.max_retries:
                    await self._backoff(attempt - 1)
                    continue
                raise self._transport_error(exc, attempt) from None
            except httpx.TimeoutException as exc:
                raise self._transport_error(exc, attempt) from None
            if response.status_code in RETRYABLE_STATUS:
                if attempt <= self.max_retries:
                    await self._backoff(attempt - 1)
                    continue
                raise UpstreamError(502, f"backend {self.name} answered {response.status_code} "
                                    f"after {attempt} attempt(s): {_error_message(response.text)}",
                                    backend=self.name, kind="http_5xx")
            try:
                data = response.json()
            except ValueError:
                raise UpstreamError(502, f"backend {self.name} sent a reply that is not JSON "
                                    f"(status {response.status_code})", backend=self.name,
                                    kind="protocol") from None
            if response.status_code >= 400:
                raise UpstreamError(response.status_code, f"backend {self.name} rejected the "
                                    f"request: {_error_message(response.text)}", backend=self.name,
                                    kind="http_4xx", body=data if isinstance(data, dict) else None)
            return UpstreamReply(status=response.status_code, body=data, attempts=attempt)

    @asynccontextmanager
    async def stream(self, body: dict[str, Any]) -> AsyncIterator[AsyncIterator[bytes]]:
        """Open a streaming completion (retrying before the first byte); yields its raw bytes."""
        payload = self._prepare(body)
        attempt = 0
        while True:
            attempt += 1
            request = self._client.build_request("POST", "/chat/completions", json=payload)
            try:
                response = await self._client.send(request, stream=True)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError,
                    httpx.ReadError, httpx.WriteError) as exc:
                if attempt <= self.max_retries:
                    await self._backoff(attempt - 1)
                    continue
                raise self._transport_error(exc, attempt) from None
            except httpx.TimeoutException as exc:
                raise self._transport_error(exc, attempt) from None
            if response.status_code != 200:
                text = (await response.aread()).decode("utf-8", "replace")
                await response.aclose()
                if response.status_code in RETRYABLE_STATUS and attempt <= self.max_retries:
                    await self._backoff(attempt - 1)
                    continue
                if response.status_code in RETRYABLE_STATUS:
                    raise UpstreamError(502, f"backend {self.name} answered {response.status_code} "
                                        f"after {attempt} attempt(s): {_error_message(text)}",
                                        backend=self.name, kind="http_5xx")
                try:
                    data = json.loads(text)
                except ValueError:
                    data = None
                raise UpstreamError(response.status_code, f"backend {self.name} rejected the "
                                    f"request: {_error_message(text)}", backend=self.name,
                                    kind="http_4xx", body=data if isinstance(data, dict) else None)
            break
        try:
            yield self._raw(response)
        finally:
            await response.aclose()

    async def _raw(self, response: httpx.Response) -> AsyncIterator[bytes]:
        try:
            async for chunk in response.aiter_raw():
                yield chunk
        except httpx.TimeoutException:
            raise UpstreamError(504, f"backend {self.name} stopped sending mid-stream",
                                backend=self.name, kind="timeout") from None
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise UpstreamError(502, f"backend {self.name} broke the stream "
                                f"({type(exc).__name__})", backend=self.name,
                                kind="protocol") from None

    async def models(self) -> list[str]:
        response = await self._client.get("/models", timeout=5.0)
        response.raise_for_status()
        return [m["id"] for m in response.json().get("data", []) if isinstance(m, dict) and "id" in m]
