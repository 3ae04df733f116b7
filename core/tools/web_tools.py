"""Web tools (off by default; the ``web`` route): ``web_fetch`` and ``web_search``.

Enabled by ``[extra.web] enabled = true`` in smallcode.toml (or ``SMALLCODE_EXTRA__WEB__ENABLED``)::

    [extra.web]
    enabled = true
    allow = ["docs.internal", "10.1.0.0/16"]   # hosts / CIDRs the SSRF guard lets through
    max_bytes = 2000000                         # bytes read from a page at most
    max_chars = 20000                           # characters of text returned at most
    timeout = 20
    [extra.web.search]                          # web_search is registered only when configured
    provider = "searxng"                        # searxng | brave | tavily
    url = "http://127.0.0.1:8888"               # SearXNG root; optional for brave/tavily
    api_key_env = "BRAVE_API_KEY"               # or api_key = "..."
    max_results = 5

``web_fetch`` turns HTML into readable text: scripts, styles, navigation, headers, footers, forms
are dropped; headings become ``#`` lines, code blocks stay fenced, links stay as ``text (url)``.

SSRF guard: the URLs the model asks for are fetched through a network backend that resolves the
host itself, refuses any address that is not globally routable (private, loopback, link-local —
which includes the 169.254.169.254 metadata address —, shared, multicast, reserved, unspecified)
unless the host or address is in ``allow``, and connects to the very address it checked (no
second DNS lookup to rebind). Redirects are followed by hand, each hop going through the guard.
The search endpoint is the user's own configuration, not the model's choice, so it is not guarded.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import anyio
import httpcore
import httpx
from pydantic import BaseModel, Field

from .registry import Tool, ToolContext, ToolError, ToolRegistry, ToolResult

DEFAULT_MAX_BYTES = 2_000_000
DEFAULT_MAX_CHARS = 20_000
DEFAULT_TIMEOUT = 20.0
MAX_REDIRECTS = 5
USER_AGENT = "smallcode-web/0.1 (+https://github.com/smallcode)"
METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "instance-data"})
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class BlockedAddressError(ToolError):
    """The SSRF guard refused a destination."""


# --- the SSRF guard -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AddressGuard:
    """Which destinations may be contacted: only globally routable addresses, plus the
    allow-list (host names, exact or as a ``.suffix``, and CIDRs / single addresses)."""

    allow_hosts: frozenset[str] = frozenset()
    allow_networks: tuple[IpNetwork, ...] = ()

    @classmethod
    def from_allow(cls, entries: Iterable[str]) -> AddressGuard:
        hosts, nets = set(), []
        for entry in entries:
            entry = str(entry).strip().lower()
            if not entry:
                continue
            try:
                nets.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(entry.rstrip("."))
        return cls(frozenset(hosts), tuple(nets))

    def host_allowed(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return any(host == h or (h.startswith(".") and host.endswith(h)) for h in self.allow_hosts)

    def address_allowed(self, ip: IpAddress) -> bool:
        return any(ip in net for net in self.allow_networks if net.version == ip.version)

    def check(self, host: str, ip: IpAddress) -> None:
        """Raise :class:`BlockedAddressError` when ``host`` resolving to ``ip`` is refused."""
        if self.host_allowed(host) or self.address_allowed(ip):
            return
        mapped = getattr(ip, "ipv4_mapped", None)
        effective = mapped or ip
        if host.lower().rstrip(".") in METADATA_HOSTS:
            raise BlockedAddressError(f"refused {host}: cloud metadata host")
        if not effective.is_global or effective.is_multicast:
            kind = ("unspecified" if effective.is_unspecified else "multicast" if effective.is_multicast
                    else "loopback" if effective.is_loopback else "link-local/metadata"
                    if effective.is_link_local else "private" if effective.is_private
                    else "non-public")
            raise BlockedAddressError(f"refused {host} ({ip}): {kind} address; add it to "
                                      "[extra.web] allow to permit it")

    async def resolve(self, host: str, port: int) -> list[IpAddress]:
        """Every address of ``host``, each checked; raises if any is refused."""
        try:
            literal = ipaddress.ip_address(host.strip("[]"))
            addresses: list[IpAddress] = [literal]
        except ValueError:
            try:
                infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except OSError as exc:
                raise ToolError(f"cannot resolve {host}: {exc}") from None
            addresses = []
            for info in infos:
                ip = ipaddress.ip_address(str(info[4][0]).split("%")[0])
                if ip not in addresses:
                    addresses.append(ip)
        if not addresses:
            raise ToolError(f"cannot resolve {host}")
        for ip in addresses:  # all of them: a mixed answer is a rebinding attempt
            self.check(host, ip)
        return addresses


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """httpcore backend that connects only to addresses the guard accepted, and to exactly the
    address it checked. TLS still verifies the original host name (httpcore passes it as SNI)."""

    def __init__(self, guard: AddressGuard):
        self.guard = guard
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        addresses = await self.guard.resolve(host, port)
        last: Exception | None = None
        for ip in addresses:
            try:
                return await self.inner.connect_tcp(str(ip), port, timeout=timeout,
                                                    local_address=local_address,
                                                    socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        raise last or httpcore.ConnectError(f"cannot connect to {host}")

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        raise BlockedAddressError("unix sockets are not reachable from web_fetch")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def guarded_client(guard: AddressGuard, timeout: float = DEFAULT_TIMEOUT) -> httpx.AsyncClient:
    """An httpx client whose every connection goes through ``guard``. It ignores proxy variables
    (a proxy would hide the real destination) and never follows redirects by itself."""
    transport = httpx.AsyncHTTPTransport(trust_env=False, retries=0)
    pool = transport._pool
    if not hasattr(pool, "_network_backend"):
        raise RuntimeError("httpcore changed: cannot install the SSRF guard")
    pool._network_backend = GuardedNetworkBackend(guard)
    return httpx.AsyncClient(transport=transport, timeout=timeout, follow_redirects=False,
                             trust_env=False, headers={"User-Agent": USER_AGENT})


# --- HTML to text -------------------------------------------------------------------------------

_DROP = frozenset({"script", "style", "noscript", "nav", "header", "footer", "aside", "form",
                   "iframe", "svg", "template", "button", "select", "canvas", "object", "head"})
_BLOCK = frozenset({"p", "div", "section", "article", "main", "ul", "ol", "table", "tr",
                    "blockquote", "dl", "dt", "dd", "figure", "figcaption", "hr", "body"})
_VOID = frozenset({"br", "img", "hr", "meta", "link", "input", "wbr", "source", "area", "base", "col"})


class _ReadableText(HTMLParser):
    def __init__(self, base_url: str):
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.out: list[str] = []
        self.drop_depth = 0
        self.pre_depth = 0
        self.title = ""
        self._in_title = False
        self._link: str | None = None
        self._link_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
            return
        if self.drop_depth or tag in _DROP:
            if tag not in _VOID:
                self.drop_depth += 1
            return
        attr = dict(attrs)
        style = (attr.get("style") or "").replace(" ", "").lower()
        if "hidden" in attr or attr.get("aria-hidden") == "true" or "display:none" in style:
            if tag not in _VOID:
                self.drop_depth += 1
            return
        if re.fullmatch(r"h[1-6]", tag):
            self.out.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag == "pre":
            self.pre_depth += 1
            self.out.append("\n\n```\n")
        elif tag == "code" and not self.pre_depth:
            self.out.append("`")
        elif tag == "li":
            self.out.append("\n- ")
        elif tag == "br":
            self.out.append("\n")
        elif tag in ("td", "th"):
            self.out.append(" | ")
        elif tag in _BLOCK:
            self.out.append("\n\n")
        elif tag == "a":
            href = attr.get("href") or ""
            if href and not href.startswith(("javascript:", "#", "mailto:")):
                self._link = urljoin(self.base_url, href)
                self._link_text = []
        elif tag == "img" and attr.get("alt"):
            self.out.append(f"[image: {attr['alt']}]")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
            return
        if self.drop_depth:
            if tag not in _VOID:
                self.drop_depth -= 1
            return
        if re.fullmatch(r"h[1-6]", tag) or tag in _BLOCK:
            self.out.append("\n\n")
        elif tag == "pre" and self.pre_depth:
            self.pre_depth -= 1
            self.out.append("\n```\n\n")
        elif tag == "code" and not self.pre_depth:
            self.out.append("`")
        elif tag == "a" and self._link is not None:
            text = "".join(self._link_text).strip()
            if text and text != self._link:
                self.out.append(f" ({self._link})")
            self._link = None

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
            return
        if self.drop_depth:
            return
        if not self.pre_depth:
            data = re.sub(r"\s+", " ", data)
        if self._link is not None:
            self._link_text.append(data)
        self.out.append(data)

    def text(self) -> str:
        raw = "".join(self.out)
        parts = re.split(r"(\n```\n.*?\n```\n)", raw, flags=re.DOTALL)
        cleaned = []
        for i, part in enumerate(parts):
            if i % 2:  # code blocks keep their whitespace
                cleaned.append(part)
                continue
            lines = [re.sub(r"[ \t]+", " ", ln).strip() for ln in part.split("\n")]
            cleaned.append("\n".join(lines))
        text = "".join(cleaned)
        text = re.sub(r"\n{3,}", "\n\n", text)
        return text.strip()


def html_to_text(html: str, base_url: str = "") -> tuple[str, str]:
    """(title, readable text) of an HTML page."""
    parser = _ReadableText(base_url)
    parser.feed(html)
    parser.close()
    return re.sub(r"\s+", " ", parser.title).strip(), parser.text()


# --- settings -----------------------------------------------------------------------------------


@dataclass
class WebSettings:
    enabled: bool = False
    allow: list[str] = field(default_factory=list)
    max_bytes: int = DEFAULT_MAX_BYTES
    max_chars: int = DEFAULT_MAX_CHARS
    timeout: float = DEFAULT_TIMEOUT
    search: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Any) -> WebSettings:
        extra = getattr(settings, "extra", None) or {}
        raw = extra.get("web") if isinstance(extra, dict) else None
        if not isinstance(raw, dict):
            return cls()
        enabled = raw.get("enabled", False)
        if isinstance(enabled, str):
            enabled = enabled.strip().lower() in ("1", "true", "yes", "on")
        allow = raw.get("allow", [])
        if isinstance(allow, str):
            allow = [a.strip() for a in allow.split(",")]
        out = cls(enabled=bool(enabled), allow=[str(a) for a in allow],
                  search=dict(raw.get("search") or {}))
        for key, kind in (("max_bytes", int), ("max_chars", int), ("timeout", float)):
            if key in raw:
                try:
                    value = kind(raw[key])
                except (TypeError, ValueError):
                    raise ValueError(f"extra.web.{key} must be a number, got {raw[key]!r}") from None
                if value <= 0:
                    raise ValueError(f"extra.web.{key} must be positive")
                setattr(out, key, value)
        return out


# --- the tools ----------------------------------------------------------------------------------


class WebFetchArgs(BaseModel):
    url: str = Field(description="http(s) URL of the page")


class WebSearchArgs(BaseModel):
    query: str = Field(description="what to search for")


def _cap(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n\n[... cut at {limit} characters]"


async def fetch_url(url: str, web: WebSettings, guard: AddressGuard | None = None) -> ToolResult:
    """Fetch a page through the guard, following redirects by hand, and make it readable."""
    guard = guard or AddressGuard.from_allow(web.allow)
    current = url.strip()
    hops: list[str] = []
    async with guarded_client(guard, web.timeout) as client:
        for _ in range(MAX_REDIRECTS + 1):
            parts = urlsplit(current)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ToolError(f"not an http(s) URL: {current!r}")
            try:
                async with client.stream("GET", current) as resp:
                    if resp.is_redirect and "location" in resp.headers:
                        hops.append(current)
                        current = urljoin(current, resp.headers["location"])
                        continue
                    body = bytearray()
                    truncated = False
                    async for chunk in resp.aiter_bytes():
                        body += chunk
                        if len(body) >= web.max_bytes:
                            del body[web.max_bytes:]
                            truncated = True
                            break
                    status, ctype = resp.status_code, resp.headers.get("content-type", "")
                    encoding = resp.charset_encoding or "utf-8"
            except BlockedAddressError:
                raise
            except httpx.HTTPError as exc:
                cause = exc.__context__ or exc.__cause__
                if isinstance(cause, BlockedAddressError):
                    raise cause from None
                raise ToolError(f"fetching {current} failed: {type(exc).__name__}: {exc}") from None
            break
        else:
            raise ToolError(f"too many redirects (over {MAX_REDIRECTS}) starting at {url}")
    text_raw = bytes(body).decode(encoding, errors="replace")
    kind = ctype.split(";")[0].strip().lower()
    if kind in ("text/html", "application/xhtml+xml") or (not kind and "<html" in text_raw[:2000].lower()):
        title, text = html_to_text(text_raw, current)
    elif kind.startswith("text/") or kind.endswith(("json", "xml", "javascript")) or not kind:
        title, text = "", text_raw
    else:
        raise ToolError(f"{current} is {kind}, not a text page")
    header = f"{current} — HTTP {status}" + (f" — {title}" if title else "")
    note = f"\n[page cut at {web.max_bytes} bytes]" if truncated else ""
    output = _cap(f"{header}\n\n{text}{note}", web.max_chars)
    return ToolResult(ok=200 <= status < 400, output=output,
                      data={"url": current, "status": status, "redirects": hops,
                            "content_type": kind, "truncated": truncated})


def _strip_tags(value: Any) -> str:
    """Plain text of a search result field (providers highlight matches with tags)."""
    import html

    return html.unescape(re.sub(r"<[^>]+>", "", str(value))).strip()


SEARCH_DEFAULT_URLS = {"brave": "https://api.search.brave.com/res/v1/web/search",
                       "tavily": "https://api.tavily.com/search"}


async def search_web(query: str, web: WebSettings) -> ToolResult:
    conf = web.search
    provider = str(conf.get("provider", "searxng")).lower()
    if provider not in ("searxng", "brave", "tavily"):
        raise ToolError(f"unknown web search provider {provider!r} (searxng, brave, tavily)")
    url = conf.get("url") or SEARCH_DEFAULT_URLS.get(provider)
    if not url:
        raise ToolError("web search needs [extra.web.search] url (the SearXNG address)")
    key = conf.get("api_key") or (os.environ.get(str(conf["api_key_env"])) if conf.get("api_key_env") else None)
    if provider in ("brave", "tavily") and not key:
        raise ToolError(f"web search with {provider} needs an api_key or api_key_env")
    limit = int(conf.get("max_results", 5))
    async with httpx.AsyncClient(timeout=web.timeout, headers={"User-Agent": USER_AGENT}) as client:
        try:
            if provider == "searxng":
                resp = await client.get(url.rstrip("/") + "/search", params={"q": query, "format": "json"})
            elif provider == "brave":
                resp = await client.get(url, params={"q": query, "count": limit},
                                        headers={"X-Subscription-Token": str(key), "Accept": "application/json"})
            else:
                resp = await client.post(url, json={"api_key": key, "query": query, "max_results": limit})
            resp.raise_for_status()
            data = resp.json()
        except (httpx.HTTPError, json.JSONDecodeError) as exc:
            raise ToolError(f"web search ({provider}) failed: {type(exc).__name__}: {exc}") from None
    items = (data.get("web") or {}).get("results", []) if provider == "brave" else data.get("results", [])
    results = []
    for item in items[:limit]:
        if not isinstance(item, dict):
            continue
        snippet = item.get("content") or item.get("description") or item.get("snippet") or ""
        results.append({"title": _strip_tags(item.get("title", "")), "url": str(item.get("url", "")),
                        "snippet": _strip_tags(snippet)})
    if not results:
        return ToolResult(ok=True, output=f"no results for {query!r}", data={"results": []})
    lines = [f"{i}. {r['title']}\n   {r['url']}\n   {r['snippet'][:300]}" for i, r in enumerate(results, 1)]
    return ToolResult(ok=True, output=_cap("\n".join(lines), web.max_chars), data={"results": results})


def register(registry: ToolRegistry, settings: Any) -> None:
    """Register web_fetch (and web_search when a provider is configured) — only when enabled."""
    web = WebSettings.from_settings(settings)
    if not web.enabled:
        return
    guard = AddressGuard.from_allow(web.allow)

    async def web_fetch(args: WebFetchArgs, ctx: ToolContext) -> ToolResult:
        return await fetch_url(args.url, web, guard)

    registry.register(Tool(
        name="web_fetch", description="Fetch a web page and return its readable text.",
        args_model=WebFetchArgs, handler=web_fetch, categories=frozenset({"web"})))
    if web.search:
        async def web_search(args: WebSearchArgs, ctx: ToolContext) -> ToolResult:
            return await search_web(args.query, web)

        registry.register(Tool(
            name="web_search", description="Search the web; returns titles, URLs and snippets.",
            args_model=WebSearchArgs, handler=web_search, categories=frozenset({"web"})))
