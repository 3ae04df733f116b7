"""The gateway's HTTP face: an OpenAI-compatible ASGI app over :class:`GatewayService`.

Routes: ``POST /v1/chat/completions`` (JSON or SSE passthrough), ``GET /v1/models``, ``/health``,
``/metrics`` (Prometheus text) and ``/v1/smallcode/status``. A client that disconnects cancels
its request, which closes the upstream connection (the backend stops generating).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from .affinity import SESSION_HEADER
from .service import Caller, ChatStream, GatewayHTTPError, GatewayService

MAX_BODY_BYTES = 16 * 1024 * 1024


def _error(exc: GatewayHTTPError) -> JSONResponse:
    return JSONResponse(exc.payload(), status_code=exc.status, headers=exc.headers())


class _SSEResponse(StreamingResponse):
    """Streams a :class:`ChatStream` and closes it however the response ends."""

    def __init__(self, stream: ChatStream):
        super().__init__(stream.chunks(), media_type="text/event-stream",
                         headers={"Cache-Control": "no-cache", "X-Smallcode-Backend": stream.backend})
        self._stream = stream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._stream.close()


async def _wait_disconnect(request: Request) -> None:
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


async def _read_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise GatewayHTTPError(413, "request body too large", code="body_too_large")
    try:
        body = json.loads(raw)
    except ValueError:
        raise GatewayHTTPError(400, "the request body is not valid JSON", code="invalid_json") from None
    if not isinstance(body, dict):
        raise GatewayHTTPError(400, "the request body must be a JSON object", code="invalid_body")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise GatewayHTTPError(400, "'messages' must be a non-empty list", code="invalid_body")
    return body


def build_app(service: GatewayService, *, extra_status: Callable[[], dict[str, Any]] | None = None
              ) -> Starlette:
    """The ASGI app. ``extra_status`` adds fields (e.g. the actor's pid and node) to the status."""

    def caller_of(request: Request) -> Caller:
        host = request.client.host if request.client else None
        return service.authenticate(request.headers.get("authorization"), host)

    async def chat_completions(request: Request) -> Response:
        try:
            caller = caller_of(request)
            body = await _read_body(request)
        except GatewayHTTPError as exc:
            return _error(exc)
        session = request.headers.get(SESSION_HEADER)
        work = service.open_stream(caller, body, session) if body.get("stream") \
            else service.complete(caller, body, session)
        task = asyncio.ensure_future(work)
        gone = asyncio.ensure_future(_wait_disconnect(request))
        try:
            await asyncio.wait({task, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
        if not task.done():  # the client went away: abort the wait or the upstream request
            task.cancel()
            try:
                result = await task
            except (asyncio.CancelledError, GatewayHTTPError):
                return Response(status_code=499)
            if isinstance(result, ChatStream):
                await result.close()
            return Response(status_code=499)
        try:
            result = task.result()
        except GatewayHTTPError as exc:
            return _error(exc)
        if isinstance(result, ChatStream):
            return _SSEResponse(result)
        return JSONResponse(result)

    async def models(request: Request) -> Response:
        try:
            caller_of(request)
        except GatewayHTTPError as exc:
            return _error(exc)
        return JSONResponse(await service.models())

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def metrics(request: Request) -> Response:
        return PlainTextResponse(service.metrics.render(),
                                 media_type="text/plain; version=0.0.4; charset=utf-8")

    async def status(request: Request) -> Response:
        try:
            caller_of(request)
        except GatewayHTTPError as exc:
            return _error(exc)
        data = service.status()
        if extra_status is not None:
            data.update(extra_status())
        return JSONResponse(data)

    return Starlette(routes=[
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/v1/models", models, methods=["GET"]),
        Route("/health", health, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/v1/smallcode/status", status, methods=["GET"]),
    ])
