"""A loopback backend that answers slowly and notices when the caller hangs up.

Streams ``chunks`` SSE pieces ``interval`` seconds apart (or answers JSON after ``delay``), and
records in ``aborted`` every request whose connection closed before it finished — the evidence
that the gateway aborted the upstream request when its own client went away.
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class SlowBackend:
    def __init__(self, *, chunks: int = 20, interval: float = 0.1, delay: float = 0.0,
                 break_after: int | None = None):
        self.chunks = chunks
        self.break_after = break_after  # chunked stream cut off after this many pieces
        self.interval = interval
        self.delay = delay
        self.started: list[str] = []
        self.aborted: list[str] = []
        self.finished: list[str] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> Self:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    def wait_for(self, attr: str, count: int, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(getattr(self, attr)) >= count:
                    return True
            time.sleep(0.01)
        return False

    def _record(self, attr: str, tag: str) -> None:
        with self._lock:
            getattr(self, attr).append(tag)


def _peer_closed(conn: socket.socket, wait: float) -> bool:
    readable, _, _ = select.select([conn], [], [], wait)
    if not readable:
        return False
    try:
        return conn.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def _handler(backend: SlowBackend) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            tag = str(body["messages"][-1]["content"])
            backend._record("started", tag)
            if body.get("stream") and backend.break_after is not None:
                self._broken_stream(tag)
            elif body.get("stream"):
                self._stream(tag)
            else:
                self._answer(tag)

        def _answer(self, tag: str) -> None:
            deadline = time.monotonic() + backend.delay
            while time.monotonic() < deadline:
                if _peer_closed(self.connection, 0.02):
                    backend._record("aborted", tag)
                    self.close_connection = True
                    return
            data = json.dumps({"id": "x", "object": "chat.completion", "model": "slow",
                               "choices": [{"index": 0, "finish_reason": "stop",
                                            "message": {"role": "assistant", "content": tag}}],
                               "usage": {"prompt_tokens": 1, "completion_tokens": 1}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            backend._record("finished", tag)

        def _broken_stream(self, tag: str) -> None:
            """Chunked transfer encoding, then the process 'dies': no final chunk."""
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(backend.break_after or 0):
                data = json.dumps({"object": "chat.completion.chunk", "choices": [
                    {"index": 0, "delta": {"content": f"{tag}-{i} "}, "finish_reason": None}]})
                piece = f"data: {data}\n\n".encode()
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                self.wfile.flush()
                time.sleep(backend.interval)
            backend._record("aborted", tag)
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)

        def _stream(self, tag: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            try:
                for i in range(backend.chunks):
                    chunk = {"object": "chat.completion.chunk", "model": "slow",
                             "choices": [{"index": 0, "delta": {"content": f"{tag}-{i} "},
                                          "finish_reason": None}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                    if _peer_closed(self.connection, backend.interval):
                        backend._record("aborted", tag)
                        return
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                backend._record("finished", tag)
            except (BrokenPipeError, ConnectionResetError):
                backend._record("aborted", tag)

    return Handler
