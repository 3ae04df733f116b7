"""A loopback relay that counts a peer agent's model calls and tokens on the wire.

A peer agent (Aider ...) prints no smallcode events, so the runner cannot read its token use from a
transcript. When the peer's command line takes ``{base_url}``, it is given this relay's address
instead of the model server's; every request is passed through unchanged (streamed replies are
relayed as they arrive) and each chat or text completion reply is read for its token use: the
``usage`` object (JSON replies, or any SSE chunk carrying one), else llama-server's ``timings``
when they include ``cache_n`` (then ``prompt_n + cache_n`` is the whole prompt, as ``usage``
counts it). A reply with neither makes the attempt's tokens unknown rather than undercounted.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import urlsplit

import httpx

# Hop-by-hop headers and those the relay sets itself.
_SKIP_REQUEST = {"host", "content-length", "connection", "accept-encoding", "keep-alive",
                 "transfer-encoding", "proxy-connection", "upgrade"}
_SKIP_RESPONSE = {"content-length", "connection", "transfer-encoding", "content-encoding",
                  "keep-alive"}
_BODY_LIMIT = 8 * 1024 * 1024  # replies larger than this are relayed but not read for usage


@dataclass
class MeterTotals:
    calls: int = 0  # completion requests answered
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0  # of the prompt tokens, those the server took from its cache
    unknown: int = 0  # completion replies that reported no token use

    @property
    def known(self) -> bool:
        return self.calls > 0 and self.unknown == 0


def reply_usage(body: bytes) -> tuple[int, int, int] | None:
    """``(prompt, completion, cached)`` tokens reported in a JSON or SSE completion reply, else
    None; ``cached``: the prompt tokens the server reused from its cache (OpenAI's
    ``prompt_tokens_details.cached_tokens``, llama.cpp's ``timings.cache_n``; 0 when neither)."""
    text = body.decode("utf-8", "replace")
    objects: list[Any] = []
    try:
        objects.append(json.loads(text))
    except ValueError:
        for line in text.splitlines():
            line = line.strip()
            if line.startswith("data:") and line != "data: [DONE]":
                try:
                    objects.append(json.loads(line[5:]))
                except ValueError:
                    continue
    usage: tuple[int, int, int] | None = None
    timings: tuple[int, int, int] | None = None
    for obj in objects:
        if not isinstance(obj, dict):
            continue
        t = obj.get("timings")
        if isinstance(t, dict) and isinstance(t.get("cache_n"), int):
            timings = (int(t.get("prompt_n") or 0) + t["cache_n"], int(t.get("predicted_n") or 0),
                       t["cache_n"])
        u = obj.get("usage")
        if isinstance(u, dict) and isinstance(u.get("prompt_tokens"), int):
            details = u.get("prompt_tokens_details")
            cached = details.get("cached_tokens") if isinstance(details, dict) else None
            if not isinstance(cached, int):
                cached = timings[2] if timings else 0
            usage = (u["prompt_tokens"], int(u.get("completion_tokens") or 0), cached)
    return usage or timings


class UsageMeter:
    """Use as a context manager; ``base_url`` is the upstream base URL with the relay's host:port."""

    def __init__(self, upstream_base_url: str) -> None:
        parts = urlsplit(upstream_base_url.rstrip("/"))
        if not parts.scheme or not parts.netloc:
            raise ValueError(f"not a base URL: {upstream_base_url!r}")
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._path = parts.path
        self.totals = MeterTotals()
        self._lock = threading.Lock()
        self._client = httpx.Client(timeout=httpx.Timeout(30.0, read=None))
        self._server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "the meter is not running"
        return f"http://127.0.0.1:{self._server.server_address[1]}{self._path}"

    def __enter__(self) -> Self:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="smallcode-bench-meter",
                         daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self._client.close()

    def _count(self, usage: tuple[int, int, int] | None) -> None:
        with self._lock:
            self.totals.calls += 1
            if usage is None:
                self.totals.unknown += 1
            else:
                self.totals.prompt_tokens += usage[0]
                self.totals.completion_tokens += usage[1]
                self.totals.cached_tokens += usage[2]


def _handler(meter: UsageMeter) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _relay(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _SKIP_REQUEST}
            headers["Accept-Encoding"] = "identity"
            completion = self.command == "POST" and self.path.split("?")[0].endswith("completions")
            started = False
            try:
                with meter._client.stream(self.command, meter._origin + self.path, content=body,
                                          headers=headers) as resp:
                    started = True
                    self.send_response(resp.status_code)
                    for key, value in resp.headers.items():
                        if key.lower() not in _SKIP_RESPONSE:
                            self.send_header(key, value)
                    self.send_header("Connection", "close")
                    self.end_headers()
                    seen = bytearray()
                    for chunk in resp.iter_bytes():
                        self.wfile.write(chunk)
                        self.wfile.flush()
                        if len(seen) < _BODY_LIMIT:
                            seen += chunk
            except httpx.HTTPError as exc:
                if not started:  # else the reply is cut off mid-way: the agent sees it end
                    self.send_error(502, f"bench meter: upstream {meter._origin}: {exc}")
                return
            except (BrokenPipeError, ConnectionResetError):
                return  # the agent hung up (killed at its timeout ...)
            if completion and resp.status_code == 200:
                meter._count(reply_usage(bytes(seen)))

        do_GET = do_POST = do_PUT = do_DELETE = _relay

    return Handler
