"""A tiny Anthropic-shaped loopback server for escalation tests: records each request's body and
headers, answers /v1/messages with scripted Messages-API replies (or scripted errors)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


@dataclass
class AnthropicReply:
    content: list[dict[str, Any]]
    stop_reason: str = "end_turn"
    status: int = 200
    error_body: dict[str, Any] | None = None


class AnthropicServer:
    def __init__(self, replies: list[AnthropicReply]):
        self.replies = list(replies)
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.paths: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        srv = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, obj: Any) -> None:
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                with srv._lock:
                    srv.requests.append(body)
                    srv.headers.append({k.lower(): v for k, v in self.headers.items()})
                    srv.paths.append(self.path)
                    reply = srv.replies.pop(0) if srv.replies else AnthropicReply(
                        [{"type": "text", "text": "no more scripted replies"}])
                if self.path != "/v1/messages":
                    self._send(404, {"type": "error", "error": {"type": "not_found_error",
                                                                "message": self.path}})
                    return
                if reply.status != 200:
                    self._send(reply.status, reply.error_body or {
                        "type": "error", "error": {"type": "api_error", "message": "scripted"}})
                    return
                self._send(200, {"id": "msg_01", "type": "message", "role": "assistant",
                                 "model": body.get("model"), "content": reply.content,
                                 "stop_reason": reply.stop_reason,
                                 "usage": {"input_tokens": 321, "output_tokens": 45,
                                           "cache_read_input_tokens": 7}})

        return Handler
