"""A scripted OpenAI-compatible server: real HTTP on loopback, replaying scripted replies.

Deterministic end-to-end tests point the real client (and `smallcode run`) at this server.
It speaks /v1/chat/completions (JSON and SSE streaming), /v1/models, llama.cpp's /props,
/health and /tokenize. ``latency`` and ``slots`` make it behave like a busy backend.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    content: str = ""
    tool_calls: list[dict[str, Any]] | None = None
    reasoning: str = ""
    finish_reason: str = "stop"
    status: int = 200
    delay: float = 0.0
    usage: dict[str, int] | None = None
    body: dict[str, Any] | None = None  # raw JSON body override (error payloads etc.)
    drop_connection: bool = False  # close the socket without answering
    chunks: list[str] = field(default_factory=list)  # explicit stream pieces for content
    # seconds per piece, as a server generating tokens: streamed, each piece comes that much
    # later; not streamed, the whole reply comes after all of it
    piece_delay: float = 0.0


ReplySpec = Reply | str | Callable[[dict[str, Any]], "Reply | str"]


def _as_reply(spec: ReplySpec, body: dict[str, Any]) -> Reply:
    if callable(spec) and not isinstance(spec, Reply):
        spec = spec(body)
    if isinstance(spec, str):
        return Reply(content=spec)
    return spec


def tool_call(name: str, arguments: dict[str, Any] | str, call_id: str | None = None) -> dict:
    args = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return {"id": call_id or f"call_{uuid.uuid4().hex[:8]}", "type": "function",
            "function": {"name": name, "arguments": args}}


class ScriptedServer:
    """Use as a context manager; ``base_url`` ends in ``/v1``; ``requests`` records chat bodies."""

    def __init__(self, replies: list[ReplySpec] | None = None, *, latency: float = 0.0,
                 slots: int | None = None, context_window: int = 16384,
                 model: str = "scripted-model", default: ReplySpec | None = None,
                 props: bool = True, total_slots: int = 1):
        self._replies: list[ReplySpec] = list(replies or [])
        self.default = default
        self.latency = latency
        self.context_window = context_window
        self.model = model
        self.props = props
        self.total_slots = total_slots  # what /props reports (llama.cpp's -np)
        self.requests: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self._lock = threading.Lock()
        self._slots = threading.Semaphore(slots) if slots else None
        self.max_concurrent = 0
        # streamed replies: content pieces written before the client went away or the end
        self.pieces_sent: dict[str, int] = {}
        self._active = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- script -------------------------------------------------------------------------
    def add(self, *replies: ReplySpec) -> None:
        with self._lock:
            self._replies.extend(replies)

    def _next(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            self.requests.append(body)
            spec = self._replies.pop(0) if self._replies else self.default
        if spec is None:
            return Reply(status=500, body={"error": {"message": "scripted server: script exhausted"}})
        return _as_reply(spec, body)

    @property
    def remaining(self) -> int:
        return len(self._replies)

    # -- lifecycle ------------------------------------------------------------------------
    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server_address[1]

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/v1"

    def start(self) -> ScriptedServer:
        handler = _make_handler(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> ScriptedServer:  # noqa: PYI034
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _make_handler(srv: ScriptedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _json(self, status: int, obj: Any) -> None:
            data = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            srv.paths.append(self.path)
            if self.path.startswith("/health"):
                self._json(200, {"status": "ok"})
            elif self.path.startswith("/v1/models"):
                self._json(200, {"object": "list", "data": [
                    {"id": srv.model, "object": "model", "owned_by": "scripted",
                     "meta": {"n_ctx_train": srv.context_window}}]})
            elif self.path.startswith("/props") and srv.props:
                self._json(200, {"default_generation_settings": {"n_ctx": srv.context_window},
                                 "total_slots": srv.total_slots, "model_path": srv.model})
            else:
                self._json(404, {"error": {"message": f"not found: {self.path}"}})

        def do_POST(self) -> None:
            srv.paths.append(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b"{}"
            try:
                body = json.loads(raw)
            except json.JSONDecodeError:
                self._json(400, {"error": {"message": "invalid JSON body"}})
                return
            if self.path.startswith("/tokenize"):
                text = body.get("content", "")
                self._json(200, {"tokens": list(range(max(1, len(text) // 4)))})
                return
            if not self.path.startswith("/v1/chat/completions"):
                self._json(404, {"error": {"message": f"not found: {self.path}"}})
                return
            if srv._slots:
                srv._slots.acquire()
            try:
                with srv._lock:
                    srv._active += 1
                    srv.max_concurrent = max(srv.max_concurrent, srv._active)
                self._chat(body)
            finally:
                with srv._lock:
                    srv._active -= 1
                if srv._slots:
                    srv._slots.release()

        def _chat(self, body: dict[str, Any]) -> None:
            reply = srv._next(body)
            if srv.latency or reply.delay:
                time.sleep(srv.latency + reply.delay)
            if reply.drop_connection:
                self.close_connection = True
                try:
                    self.connection.shutdown(2)
                except OSError:
                    pass
                return
            if reply.status != 200:
                self._json(reply.status, reply.body or {"error": {"message": f"scripted {reply.status}"}})
                return
            prompt_chars = sum(len(str(m.get("content") or "")) for m in body.get("messages", []))
            usage = reply.usage or {"prompt_tokens": max(1, prompt_chars // 4),
                                    "completion_tokens": max(1, len(reply.content) // 4)}
            cid = f"chatcmpl-{uuid.uuid4().hex[:10]}"
            if body.get("stream"):
                self._stream(cid, reply, usage, body)
                return
            if reply.piece_delay:
                time.sleep(reply.piece_delay * len(reply.chunks or [reply.content]))
            message: dict[str, Any] = {"role": "assistant", "content": reply.content}
            if reply.reasoning:
                message["reasoning_content"] = reply.reasoning
            if reply.tool_calls:
                message["tool_calls"] = reply.tool_calls
            self._json(200, reply.body or {
                "id": cid, "object": "chat.completion", "model": srv.model,
                "choices": [{"index": 0, "message": message, "finish_reason": reply.finish_reason}],
                "usage": usage, "timings": {"prompt_n": usage["prompt_tokens"]}})

        def _stream(self, cid: str, reply: Reply, usage: dict[str, int],
                    body: dict[str, Any]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True

            def send(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> None:
                chunk = {"id": cid, "object": "chat.completion.chunk", "model": srv.model,
                         "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()

            try:
                send({"role": "assistant", "content": ""})
                if reply.reasoning:
                    send({"reasoning_content": reply.reasoning})
                pieces = reply.chunks or [reply.content[i:i + 8] for i in range(0, len(reply.content), 8)]
                for n, piece in enumerate(pieces, 1):
                    time.sleep(reply.piece_delay)
                    # llama.cpp's per-token timings, when asked for
                    extra = {"timings": {"cache_n": 0, "prompt_n": usage["prompt_tokens"],
                                         "predicted_n": n}} if body.get("timings_per_token") else {}
                    send({"content": piece}, **extra)
                    with srv._lock:
                        srv.pieces_sent[cid] = n
                for i, tc in enumerate(reply.tool_calls or []):
                    send({"tool_calls": [{"index": i, **tc}]})
                send({}, reply.finish_reason, usage=usage, timings={"prompt_n": usage["prompt_tokens"]})
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass

    return Handler
