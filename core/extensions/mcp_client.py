"""MCP servers as tool sources, through the official ``mcp`` SDK (2.x).

Servers are listed in ``.smallcode/mcp.json`` (project) and ``<user config>/mcp.json`` (user; the
project wins on a name clash)::

    {"servers": {
        "docs":  {"command": "python", "args": ["docs_server.py"], "env": {"K": "v"},
                  "categories": ["search"], "timeout": 30,
                  "tools": {"lookup": {"categories": ["code_intel"]}}},
        "remote": {"url": "http://127.0.0.1:9000/mcp", "headers": {"X-Key": "..."}}}}

(``mcpServers`` is accepted as an alias of ``servers``; ``category`` as a one-item ``categories``;
``$VAR`` in env and header values is expanded from the environment, so secrets stay out of the
file; stdio servers start in the workspace root, a relative ``cwd`` is resolved there.)
A server's tools are registered as :class:`Tool` objects with ``source="mcp:<server>"`` and the
server's categories (default: search + code_intel), overridable per tool.

Runtime: every server connection lives on ONE dedicated event-loop thread (:class:`McpHub`), so
the SDK's anyio task groups are entered and left in the task that owns them, and any caller —
the agent's loop, a CLI command, a test — reaches it through futures. A server starts lazily on
its first call when its tool listing is cached (``.smallcode/cache/mcp-tools.json``, keyed by a
fingerprint of the server's config); otherwise it is started once at registration to list its
tools. Every call is time-limited; a server that died or timed out is restarted on the next call
(after an idle spell a ping checks the server first, so one that died between calls is restarted
before the request goes out; a request is never sent twice).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import copy
import hashlib
import json
import os
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO, TypeVar

import jsonschema
from pydantic import BaseModel, ConfigDict, model_validator
from smallcode.core.tools.registry import CATEGORIES, Tool, ToolContext, ToolRegistry, ToolResult

DEFAULT_CATEGORIES: frozenset[str] = frozenset({"search", "code_intel"})
DEFAULT_CALL_TIMEOUT = 60.0
DEFAULT_STARTUP_TIMEOUT = 30.0
MAX_OUTPUT_CHARS = 20_000
PING_AFTER_IDLE = 2.0  # seconds without a call before the next call pings first

T = TypeVar("T")


class McpConfigError(ValueError):
    """mcp.json is malformed; the message names the file and the server."""


# --- configuration -----------------------------------------------------------------------------


@dataclass(frozen=True)
class McpServerConfig:
    name: str
    command: str | None = None
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    categories: frozenset[str] = DEFAULT_CATEGORIES
    tool_categories: dict[str, frozenset[str]] = field(default_factory=dict)
    disabled_tools: frozenset[str] = frozenset()
    enabled: bool = True
    call_timeout: float = DEFAULT_CALL_TIMEOUT
    startup_timeout: float = DEFAULT_STARTUP_TIMEOUT
    origin: str = ""  # the file it came from

    @property
    def transport(self) -> str:
        return "stdio" if self.command else "http"

    def fingerprint(self) -> str:
        """Identity of what would be started: a changed command/url invalidates cached listings."""
        key = json.dumps({"command": self.command, "args": list(self.args), "env": self.env,
                          "cwd": self.cwd, "url": self.url}, sort_keys=True)
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    def categories_for(self, tool_name: str) -> frozenset[str]:
        return self.tool_categories.get(tool_name, self.categories)


def _categories(value: Any, where: str) -> frozenset[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(c, str) for c in items):
        raise McpConfigError(f"{where}: categories must be a category name or a non-empty list")
    unknown = sorted(set(items) - set(CATEGORIES))
    if unknown:
        raise McpConfigError(f"{where}: unknown categories {unknown}; choose from {list(CATEGORIES)}")
    return frozenset(items)


def parse_server(name: str, raw: Any, origin: str = "") -> McpServerConfig:
    where = f"{origin or 'mcp.json'}: server {name!r}"
    if not isinstance(raw, dict):
        raise McpConfigError(f"{where}: must be an object")
    command, url = raw.get("command"), raw.get("url")
    if bool(command) == bool(url):
        raise McpConfigError(f"{where}: needs exactly one of \"command\" (stdio) or \"url\" (HTTP)")
    if command is not None and not isinstance(command, str):
        raise McpConfigError(f"{where}: command must be a string")
    if url is not None and (not isinstance(url, str) or not url.startswith(("http://", "https://"))):
        raise McpConfigError(f"{where}: url must be an http(s) URL")
    args = raw.get("args", [])
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise McpConfigError(f"{where}: args must be a list of strings")
    for key in ("env", "headers"):
        value = raw.get(key, {})
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise McpConfigError(f"{where}: {key} must be an object of strings")
    cats = raw.get("categories", raw.get("category"))
    categories = DEFAULT_CATEGORIES if cats is None else _categories(cats, where)
    tool_cats: dict[str, frozenset[str]] = {}
    disabled: set[str] = set()
    tools = raw.get("tools", {})
    if not isinstance(tools, dict):
        raise McpConfigError(f"{where}: tools must be an object of tool name -> settings")
    for tname, tconf in tools.items():
        if not isinstance(tconf, dict):
            raise McpConfigError(f"{where}: tools.{tname} must be an object")
        tc = tconf.get("categories", tconf.get("category"))
        if tc is not None:
            tool_cats[tname] = _categories(tc, f"{where} tool {tname!r}")
        if tconf.get("enabled") is False:
            disabled.add(tname)
    timeouts = {}
    for key, default in (("timeout", DEFAULT_CALL_TIMEOUT), ("startup_timeout", DEFAULT_STARTUP_TIMEOUT)):
        value = raw.get(key, default)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
            raise McpConfigError(f"{where}: {key} must be a positive number of seconds")
        timeouts[key] = float(value)
    return McpServerConfig(
        name=name, command=command, args=tuple(args), env=dict(raw.get("env", {})),
        cwd=raw.get("cwd"), url=url, headers=dict(raw.get("headers", {})), categories=categories,
        tool_categories=tool_cats, disabled_tools=frozenset(disabled),
        enabled=raw.get("enabled", True) is not False, call_timeout=timeouts["timeout"],
        startup_timeout=timeouts["startup_timeout"], origin=origin)


def load_mcp_config(workspace_root: str | os.PathLike[str],
                    user_dir: str | os.PathLike[str] | None = None) -> list[McpServerConfig]:
    """Servers from the user's and the project's ``mcp.json`` (project wins). Raises
    :class:`McpConfigError` naming the file on bad JSON or a bad server entry."""
    files = []
    if user_dir is not None:
        files.append(Path(user_dir) / "mcp.json")
    files.append(Path(workspace_root) / ".smallcode" / "mcp.json")
    servers: dict[str, McpServerConfig] = {}
    for path in files:
        if not path.is_file():
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise McpConfigError(f"{path}: not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise McpConfigError(f"{path}: must be a JSON object with a \"servers\" object")
        entries = data.get("servers", data.get("mcpServers", {}))
        if not isinstance(entries, dict):
            raise McpConfigError(f"{path}: \"servers\" must be an object of name -> server")
        for name, raw in entries.items():
            servers[name] = parse_server(name, raw, str(path))
    return list(servers.values())


# --- arguments: a permissive pydantic model checked against the tool's JSON schema ---------------


def args_model_for(tool_name: str, input_schema: dict[str, Any] | None) -> type[BaseModel]:
    """A pydantic model whose JSON schema IS the MCP tool's ``inputSchema`` and whose validation
    runs that schema (jsonschema). Extra keys are kept, so ``model_dump()`` gives the arguments."""
    schema = copy.deepcopy(input_schema) if isinstance(input_schema, dict) else {}
    schema.setdefault("type", "object")
    schema.setdefault("properties", {})
    try:
        validator_cls = jsonschema.validators.validator_for(schema)
        validator_cls.check_schema(schema)
        validator: Any = validator_cls(schema)
    except jsonschema.SchemaError:
        validator = None  # a broken schema: let the server judge the arguments

    class McpArgs(BaseModel):
        model_config = ConfigDict(extra="allow")

        @model_validator(mode="before")
        @classmethod
        def _against_schema(cls, data: Any) -> Any:
            data = {} if data is None else data
            if validator is not None:
                errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
                if errors:
                    parts = []
                    for err in errors[:5]:
                        loc = ".".join(str(p) for p in err.absolute_path)
                        parts.append(f"{loc}: {err.message}" if loc else err.message)
                    raise ValueError("; ".join(parts))
            return data

        @classmethod
        def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
            return copy.deepcopy(schema)

    McpArgs.__name__ = McpArgs.__qualname__ = f"McpArgs_{tool_name}"
    return McpArgs


# --- results ----------------------------------------------------------------------------------


def result_text(result: Any) -> str:
    """Text of a ``CallToolResult`` for the model: text blocks, resource text, placeholders for
    binary content, the structured content when there is no text; capped."""
    parts: list[str] = []
    for block in getattr(result, "content", None) or []:
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(block.text)
        elif kind == "resource":
            res = block.resource
            text = getattr(res, "text", None)
            parts.append(text if text is not None else f"[binary resource {res.uri}]")
        elif kind == "resource_link":
            parts.append(f"[resource {getattr(block, 'uri', '')}]")
        else:
            parts.append(f"[{kind} content, {getattr(block, 'mime_type', '') or 'binary'}]")
    structured = getattr(result, "structured_content", None)
    if not parts and structured is not None:
        parts.append(json.dumps(structured, ensure_ascii=False))
    text = "\n".join(parts)
    if len(text) > MAX_OUTPUT_CHARS:
        text = text[:MAX_OUTPUT_CHARS] + f"\n[... output cut at {MAX_OUTPUT_CHARS} characters]"
    return text


@dataclass
class ToolListing:
    name: str
    description: str
    input_schema: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "input_schema": self.input_schema}


@dataclass
class ServerReport:
    """What ``smallcode mcp test`` shows for one server."""

    name: str
    transport: str
    ok: bool
    seconds: float
    tools: list[str] = field(default_factory=list)
    error: str = ""


# --- one server connection (lives on the hub's loop) ----------------------------------------------


class McpConnectionError(RuntimeError):
    """The server could not be started or its connection broke."""


class McpServerConnection:
    """The session with one server. All methods run on the hub's loop thread."""

    def __init__(self, config: McpServerConfig, log_dir: Path | None, base_dir: Path | None = None):
        self.config = config
        self.log_dir = log_dir
        self.base_dir = base_dir  # stdio servers start here (a relative "cwd" is resolved here)
        self.session: Any = None
        self.starts = 0
        self.last_error = ""
        self._owner: asyncio.Task[None] | None = None
        self._stop: asyncio.Event | None = None
        self._start_lock: asyncio.Lock | None = None
        self._log: TextIO | None = None
        self._last_used = time.monotonic()

    @property
    def alive(self) -> bool:
        return self.session is not None and self._owner is not None and not self._owner.done()

    def _transport(self) -> Any:
        c = self.config
        if c.command:
            from mcp import StdioServerParameters, stdio_client

            errlog: TextIO = open(os.devnull, "w")  # noqa: SIM115 - closed in stop()
            if self.log_dir is not None:
                with contextlib.suppress(OSError):
                    self.log_dir.mkdir(parents=True, exist_ok=True)
                    errlog.close()
                    errlog = open(self.log_dir / f"mcp-{c.name}.log", "a", encoding="utf-8")  # noqa: SIM115
            self._log = errlog
            env = {k: os.path.expandvars(v) for k, v in c.env.items()}
            cwd = c.cwd
            if self.base_dir is not None:
                cwd = str(self.base_dir / cwd) if cwd else str(self.base_dir)
            params = StdioServerParameters(command=c.command, args=list(c.args), env=env or None,
                                           cwd=cwd)
            return stdio_client(params, errlog=errlog)
        from mcp.client.streamable_http import streamable_http_client

        if c.headers:
            import httpx2

            headers = {k: os.path.expandvars(v) for k, v in c.headers.items()}
            client = httpx2.AsyncClient(headers=headers, timeout=c.call_timeout)
            return streamable_http_client(c.url or "", http_client=client)
        return streamable_http_client(c.url or "")

    def stderr_tail(self, lines: int = 5) -> str:
        if self.log_dir is None:
            return ""
        path = self.log_dir / f"mcp-{self.config.name}.log"
        with contextlib.suppress(OSError):
            return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
        return ""

    async def _own(self, ready: asyncio.Future[None]) -> None:
        from mcp import ClientSession

        assert self._stop is not None
        try:
            async with contextlib.AsyncExitStack() as stack:
                read, write = await stack.enter_async_context(self._transport())
                session = await stack.enter_async_context(ClientSession(read, write))
                await session.initialize()
                self.session = session
                if not ready.done():
                    ready.set_result(None)
                await self._stop.wait()
        except BaseException as exc:  # noqa: BLE001 - recorded; the next call restarts
            self.last_error = _describe(exc)
            if not ready.done():
                ready.set_exception(McpConnectionError(self.last_error))
        finally:
            self.session = None
            if not ready.done():
                ready.set_exception(McpConnectionError(self.last_error or "connection closed"))

    async def ensure_started(self) -> Any:
        if self._start_lock is None:
            self._start_lock = asyncio.Lock()
        async with self._start_lock:
            if self.alive:
                return self.session
            await self.stop()
            loop = asyncio.get_running_loop()
            ready: asyncio.Future[None] = loop.create_future()
            self._stop = asyncio.Event()
            self._owner = loop.create_task(self._own(ready), name=f"mcp:{self.config.name}")
            self.starts += 1
            try:
                await asyncio.wait_for(asyncio.shield(ready), self.config.startup_timeout)
            except TimeoutError:
                await self.stop()
                raise McpConnectionError(f"server {self.config.name!r} did not start within "
                                         f"{self.config.startup_timeout:g}s") from None
            except McpConnectionError as exc:
                await self.stop()
                tail = self.stderr_tail()
                raise McpConnectionError(f"server {self.config.name!r} failed to start: {exc}"
                                         + (f"\nstderr: {tail}" if tail else "")) from None
            self._last_used = time.monotonic()
            return self.session

    async def stop(self) -> None:
        owner, self._owner = self._owner, None
        if owner is not None and not owner.done():
            assert self._stop is not None
            self._stop.set()
            try:
                await asyncio.wait_for(asyncio.shield(owner), 5.0)
            except Exception:  # noqa: BLE001 - includes the timeout: cancel it then
                owner.cancel()
                with contextlib.suppress(BaseException):
                    await owner
        self.session = None
        if self._log is not None:
            with contextlib.suppress(OSError):
                self._log.close()
            self._log = None

    async def list_tools(self) -> list[ToolListing]:
        session = await self.ensure_started()
        out: list[ToolListing] = []
        cursor = None
        while True:
            if cursor is None:
                page = await asyncio.wait_for(session.list_tools(), self.config.call_timeout)
            else:
                from mcp import types

                page = await asyncio.wait_for(
                    session.list_tools(params=types.PaginatedRequestParams(cursor=cursor)),
                    self.config.call_timeout)
            for t in page.tools:
                out.append(ToolListing(t.name, t.description or t.title or "", dict(t.input_schema or {})))
            cursor = getattr(page, "next_cursor", None)
            if not cursor:
                return out

    async def _live_session(self) -> Any:
        """A started session; after an idle spell, a ping first proves the server is still there
        (a server that died between calls is restarted here, before any request is sent)."""
        session = await self.ensure_started()
        if time.monotonic() - self._last_used > PING_AFTER_IDLE:
            try:
                await asyncio.wait_for(session.send_ping(), min(5.0, self.config.call_timeout))
            except Exception:  # noqa: BLE001 - dead or stuck: start afresh
                await self.stop()
                session = await self.ensure_started()
        return session

    async def call(self, tool: str, arguments: dict[str, Any]) -> ToolResult:
        """Call one tool, time-limited. A call is never re-sent: if the connection breaks while it
        runs, the error is reported and the server is restarted on the next call."""
        timeout = self.config.call_timeout
        try:
            session = await self._live_session()
        except McpConnectionError as exc:
            return ToolResult(ok=False, output=str(exc), data={"server": self.config.name})
        try:
            result = await asyncio.wait_for(session.call_tool(tool, arguments), timeout)
        except TimeoutError:
            await self.stop()  # a stuck server would hold every later call: restart it
            return ToolResult(ok=False, output=f"{self.config.name}.{tool} timed out after "
                              f"{timeout:g}s; the server will be restarted on the next call",
                              data={"server": self.config.name, "timeout": True})
        except Exception as exc:  # noqa: BLE001 - MCP or transport error
            if not self.alive or _is_connection_error(exc):
                await self.stop()
            return ToolResult(ok=False, output=f"{self.config.name}.{tool} failed: {_describe(exc)}",
                              data={"server": self.config.name})
        finally:
            self._last_used = time.monotonic()
        text = result_text(result)
        if getattr(result, "is_error", False):
            return ToolResult(ok=False, output=text or f"{tool} reported an error",
                              data={"server": self.config.name})
        return ToolResult(ok=True, output=text, data={
            "server": self.config.name, "structured": getattr(result, "structured_content", None)})


def _describe(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_describe(e) for e in exc.exceptions)
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _is_connection_error(exc: BaseException) -> bool:
    import anyio

    if isinstance(exc, (anyio.ClosedResourceError, anyio.BrokenResourceError, anyio.EndOfStream,
                        ConnectionError, EOFError, McpConnectionError)):
        return True
    return "connection closed" in str(exc).lower()


# --- the hub: one loop thread for all servers ------------------------------------------------------


class McpHub:
    """Owns the loop thread and one :class:`McpServerConnection` per configured server."""

    def __init__(self, configs: list[McpServerConfig], *, cache_path: Path | None = None,
                 log_dir: Path | None = None, base_dir: Path | None = None):
        self.configs = {c.name: c for c in configs}
        self.cache_path = cache_path
        self.connections = {c.name: McpServerConnection(c, log_dir, base_dir)
                            for c in configs if c.enabled}
        self.errors: dict[str, str] = {}  # server -> why its tools are missing
        self.registered: dict[str, list[str]] = {}  # server -> registered tool names
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False

    @classmethod
    def from_workspace(cls, workspace_root: str | os.PathLike[str],
                       user_dir: str | os.PathLike[str] | None = None,
                       names: list[str] | None = None) -> McpHub:
        """The servers configured for a project (only ``names`` when given; unknown names raise
        :class:`McpConfigError`)."""
        root = Path(workspace_root)
        configs = load_mcp_config(root, user_dir)
        if names:
            unknown = sorted(set(names) - {c.name for c in configs})
            if unknown:
                raise McpConfigError(f"no MCP server named {', '.join(unknown)}")
            configs = [c for c in configs if c.name in names]
        return cls(configs,
                   cache_path=root / ".smallcode" / "cache" / "mcp-tools.json",
                   log_dir=root / ".smallcode" / "logs", base_dir=root)

    # loop thread ----------------------------------------------------------------------------

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._closed:
                raise McpConnectionError("the MCP hub is closed")
            if self._loop is None:
                loop = asyncio.new_event_loop()
                started = threading.Event()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(started.set)
                    loop.run_forever()

                self._thread = threading.Thread(target=run, name="smallcode-mcp", daemon=True)
                self._thread.start()
                started.wait()
                self._loop = loop
            return self._loop

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self._ensure_loop())

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await a coroutine on the hub's loop from any other event loop."""
        return await asyncio.wrap_future(self.submit(coro))

    # listings and registration --------------------------------------------------------------

    def _read_cache(self) -> dict[str, Any]:
        if self.cache_path is None or not self.cache_path.is_file():
            return {}
        try:
            data = json.loads(self.cache_path.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def _write_cache(self, server: str, listing: list[ToolListing]) -> None:
        if self.cache_path is None:
            return
        data = self._read_cache()
        data[server] = {"fingerprint": self.configs[server].fingerprint(),
                        "tools": [t.to_json() for t in listing]}
        with contextlib.suppress(OSError):
            self.cache_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.cache_path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
            tmp.replace(self.cache_path)

    def cached_listing(self, server: str) -> list[ToolListing] | None:
        entry = self._read_cache().get(server)
        if not isinstance(entry, dict) or entry.get("fingerprint") != self.configs[server].fingerprint():
            return None
        try:
            return [ToolListing(t["name"], t.get("description", ""), t.get("input_schema") or {})
                    for t in entry["tools"]]
        except (KeyError, TypeError):
            return None

    async def _discover(self, server: str) -> list[ToolListing]:
        listing = await self.connections[server].list_tools()
        self._write_cache(server, listing)
        return listing

    async def alist_tools(self, server: str, *, use_cache: bool = True) -> list[ToolListing]:
        if use_cache:
            cached = self.cached_listing(server)
            if cached is not None:
                return cached
        return await self.run(self._discover(server))

    async def aregister_tools(self, registry: ToolRegistry, *, use_cache: bool = True) -> list[str]:
        """Register every enabled server's tools. A server that cannot be listed is skipped and
        its error kept in :attr:`errors`; the others still register. Returns the tool names."""
        servers = list(self.connections)
        listings = await asyncio.gather(*[self.alist_tools(s, use_cache=use_cache) for s in servers],
                                        return_exceptions=True)  # servers start concurrently
        names: list[str] = []
        for server, listing in zip(servers, listings, strict=True):
            if isinstance(listing, BaseException):  # one broken server must not hide the others
                self.errors[server] = _describe(listing)
                continue
            names.extend(self._register_listing(registry, server, listing))
        return names

    def register_tools(self, registry: ToolRegistry, *, use_cache: bool = True) -> list[str]:
        """Synchronous :meth:`aregister_tools` (for code not running an event loop)."""
        return asyncio.run(self.aregister_tools(registry, use_cache=use_cache))

    def _register_listing(self, registry: ToolRegistry, server: str,
                          listing: list[ToolListing]) -> list[str]:
        config = self.configs[server]
        out = []
        for item in listing:
            if item.name in config.disabled_tools:
                continue
            name = item.name if item.name not in registry else f"{server}_{item.name}"
            if name in registry:
                self.errors[f"{server}.{item.name}"] = f"name clash: {name!r} is already registered"
                continue
            registry.register(Tool(
                name=name,
                description=(item.description or f"{item.name} (MCP server {server})")[:1024],
                args_model=args_model_for(name, item.input_schema),
                handler=self._handler(server, item.name),
                categories=config.categories_for(item.name),
                source=f"mcp:{server}"))
            out.append(name)
        self.registered[server] = out
        return out

    def _handler(self, server: str, tool: str) -> Any:
        async def call_mcp_tool(args: BaseModel, ctx: ToolContext) -> ToolResult:
            return await self.call(server, tool, args.model_dump())

        return call_mcp_tool

    async def call(self, server: str, tool: str, arguments: dict[str, Any]) -> ToolResult:
        conn = self.connections.get(server)
        if conn is None:
            return ToolResult(ok=False, output=f"MCP server {server!r} is not configured or disabled")
        return await self.run(conn.call(tool, arguments))

    # diagnostics and shutdown -----------------------------------------------------------------

    async def atest(self) -> list[ServerReport]:
        """Start every configured server, list its tools, and time it (``smallcode mcp test``)."""
        reports = []
        for name, config in self.configs.items():
            t0 = time.perf_counter()
            if name not in self.connections:
                reports.append(ServerReport(name, config.transport, False, 0.0, error="disabled"))
                continue
            try:
                listing = await self.run(self._discover(name))
                reports.append(ServerReport(name, config.transport, True, time.perf_counter() - t0,
                                            [t.name for t in listing]))
            except Exception as exc:  # noqa: BLE001 - reported, not raised
                reports.append(ServerReport(name, config.transport, False, time.perf_counter() - t0,
                                            error=_describe(exc)))
        return reports

    async def _stop_all(self) -> None:
        for conn in self.connections.values():
            with contextlib.suppress(Exception):
                await conn.stop()

    def close(self) -> None:
        """Stop every server and the loop thread. Safe to call twice, from any thread but the
        hub's own."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            loop, thread = self._loop, self._thread
        if loop is None:
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._stop_all(), loop).result(15)
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(5)
        if not loop.is_running():
            loop.close()

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close)
