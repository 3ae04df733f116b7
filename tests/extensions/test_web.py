"""Web tools against a real loopback HTTP server: readable text, caps, redirects, the SSRF guard,
and web_search through a SearXNG-style JSON endpoint."""

from __future__ import annotations

import ipaddress
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from smallcode.core.config import Settings
from smallcode.core.router import Router
from smallcode.core.tools import build_registry
from smallcode.core.tools.registry import ToolContext, ToolError, ToolRegistry
from smallcode.core.tools.web_tools import (
    AddressGuard,
    BlockedAddressError,
    WebSettings,
    fetch_url,
    html_to_text,
    register,
    search_web,
)

PAGE = """<!doctype html><html><head><title>  The  Guide </title>
<style>body{color:red}</style><script>var secret = "tracking";</script></head>
<body><nav><a href="/">Home</a> | <a href="/about">About</a></nav>
<header>Site banner</header>
<main><h1>Install</h1><p>Run the <code>setup</code> command, then read
<a href="/docs/next">the next page</a>.</p>
<h2>Example</h2><pre>def f(x):
    return x + 1</pre>
<ul><li>one</li><li>two</li></ul>
<div hidden>invisible text</div></main>
<footer>Copyright</footer></body></html>"""


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/page":
            self._send(200, PAGE.encode(), "text/html; charset=utf-8")
        elif url.path == "/hop":
            self._redirect("/page")
        elif url.path == "/to-127":
            port = self.server.server_address[1]
            self._redirect(f"http://127.0.0.1:{port}/page")
        elif url.path == "/loop":
            self._redirect("/loop")
        elif url.path == "/big":
            self._send(200, b"x" * 500_000, "text/plain")
        elif url.path == "/image":
            self._send(200, b"\x89PNG....", "image/png")
        elif url.path == "/search":
            q = parse_qs(url.query)
            assert q["format"] == ["json"]
            results = [{"title": f"<b>{q['q'][0]}</b> docs", "url": "https://example.org/a",
                        "content": "All about <em>it</em>."},
                       {"title": "Second", "url": "https://example.org/b", "content": "More."}]
            self._send(200, json.dumps({"results": results}).encode(), "application/json")
        else:
            self._send(404, b"<html><body><p>not here</p></body></html>", "text/html")

    def _send(self, status: int, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading at its size cap

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


def allowed(*entries: str, **kw: object) -> WebSettings:
    return WebSettings(enabled=True, allow=list(entries), **kw)  # type: ignore[arg-type]


async def test_loopback_is_refused_without_the_allow_list(port: int) -> None:
    with pytest.raises(BlockedAddressError, match=r"refused 127\.0\.0\.1 \(127\.0\.0\.1\): loopback address"):
        await fetch_url(f"http://127.0.0.1:{port}/page", WebSettings(enabled=True))
    with pytest.raises(BlockedAddressError, match=r"refused localhost \(.*\): loopback address"):
        await fetch_url(f"http://localhost:{port}/page", WebSettings(enabled=True))


async def test_fetch_turns_html_into_readable_text(port: int) -> None:
    result = await fetch_url(f"http://127.0.0.1:{port}/page", allowed("127.0.0.0/8"))
    assert result.ok
    assert result.output == (
        f"http://127.0.0.1:{port}/page — HTTP 200 — The Guide\n\n"
        "# Install\n\n"
        f"Run the `setup` command, then read the next page (http://127.0.0.1:{port}/docs/next).\n\n"
        "## Example\n\n"
        "```\ndef f(x):\n    return x + 1\n```\n\n"
        "- one\n- two")
    for gone in ("tracking", "color:red", "Home", "Site banner", "Copyright", "invisible"):
        assert gone not in result.output


async def test_redirects_are_followed_and_each_hop_is_guarded(port: int) -> None:
    result = await fetch_url(f"http://localhost:{port}/hop", allowed("localhost"))
    assert result.data["url"] == f"http://localhost:{port}/page"
    assert result.data["redirects"] == [f"http://localhost:{port}/hop"]
    # the allowed host redirects to an address that is not allowed: refused at that hop
    with pytest.raises(BlockedAddressError, match=r"refused 127\.0\.0\.1"):
        await fetch_url(f"http://localhost:{port}/to-127", allowed("localhost"))
    with pytest.raises(ToolError, match="too many redirects"):
        await fetch_url(f"http://localhost:{port}/loop", allowed("localhost"))


async def test_size_caps_and_content_types(port: int) -> None:
    big = await fetch_url(f"http://127.0.0.1:{port}/big", allowed("127.0.0.1", max_bytes=1000, max_chars=300))
    assert big.data["truncated"] is True
    assert big.output.endswith("[... cut at 300 characters]")
    assert len(big.output) == 300 + len("\n\n[... cut at 300 characters]")
    with pytest.raises(ToolError, match="is image/png, not a text page"):
        await fetch_url(f"http://127.0.0.1:{port}/image", allowed("127.0.0.1"))
    missing = await fetch_url(f"http://127.0.0.1:{port}/nothing", allowed("127.0.0.1"))
    assert not missing.ok and "HTTP 404" in missing.output and "not here" in missing.output
    with pytest.raises(ToolError, match="not an http"):
        await fetch_url("file:///etc/passwd", allowed("127.0.0.1"))


@pytest.mark.parametrize("address, kind", [
    ("169.254.169.254", "link-local/metadata"), ("10.1.2.3", "private"), ("192.168.0.1", "private"),
    ("::1", "loopback"), ("::ffff:127.0.0.1", "loopback"), ("100.100.100.200", "non-public"),
    ("fd00:ec2::254", "private"), ("0.0.0.0", "unspecified"), ("224.0.0.1", "multicast"),
])
def test_guard_refuses_non_public_addresses(address: str, kind: str) -> None:
    with pytest.raises(BlockedAddressError, match=kind):
        AddressGuard().check("host", ipaddress.ip_address(address))


def test_guard_allows_public_addresses_and_the_allow_list() -> None:
    AddressGuard().check("example.org", ipaddress.ip_address("93.184.216.34"))
    guard = AddressGuard.from_allow(["10.0.0.0/8", ".corp.example", "docs.local"])
    guard.check("x", ipaddress.ip_address("10.9.9.9"))
    guard.check("wiki.corp.example", ipaddress.ip_address("192.168.1.1"))
    guard.check("docs.local", ipaddress.ip_address("127.0.0.1"))
    with pytest.raises(BlockedAddressError):
        guard.check("corp.example.evil", ipaddress.ip_address("192.168.1.1"))
    with pytest.raises(BlockedAddressError, match="metadata host"):
        AddressGuard().check("metadata.google.internal", ipaddress.ip_address("8.8.8.8"))


async def test_search_through_a_searxng_style_endpoint(port: int) -> None:
    web = WebSettings(enabled=True, search={"provider": "searxng", "url": f"http://127.0.0.1:{port}"})
    result = await search_web("pydantic", web)
    assert result.output == ("1. pydantic docs\n   https://example.org/a\n   All about it.\n"
                             "2. Second\n   https://example.org/b\n   More.")
    with pytest.raises(ToolError, match="needs an api_key"):
        await search_web("x", WebSettings(enabled=True, search={"provider": "brave"}))
    with pytest.raises(ToolError, match="unknown web search provider 'bing'"):
        await search_web("x", WebSettings(enabled=True, search={"provider": "bing"}))


async def test_tools_register_only_when_enabled_and_route_to_web(port: int) -> None:
    off = ToolRegistry()
    register(off, Settings())
    assert off.names() == []
    settings = Settings(extra={"web": {"enabled": "true", "allow": "127.0.0.1",
                                       "search": {"url": f"http://127.0.0.1:{port}"}}})
    registry = build_registry(settings)
    assert registry.get("web_fetch").categories == frozenset({"web"})
    decision = Router(registry).route("search the web for the httpx changelog")
    assert decision.category == "web"
    assert {"web_fetch", "web_search"} <= set(decision.tool_names)
    result = await registry.execute("web_fetch", {"url": f"http://127.0.0.1:{port}/page"}, ToolContext(None))
    assert result.ok and "# Install" in result.output
    only_fetch = ToolRegistry()
    register(only_fetch, Settings(extra={"web": {"enabled": True}}))
    assert only_fetch.names() == ["web_fetch"]


def test_html_to_text_keeps_table_cells_and_image_alt() -> None:
    title, text = html_to_text("<table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table>"
                               "<p><img src='x.png' alt='diagram'> after</p>")
    assert title == ""
    assert text == "| a | b\n\n| 1 | 2\n\n[image: diagram] after"
