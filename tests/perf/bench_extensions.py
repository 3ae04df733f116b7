"""Extensions benchmark: what plugins, MCP servers, skills and the web reader cost a session.

Figures printed:
- MCP stdio server: cold start + tool listing, registration from the cached listing (no start),
  call latency (p50/p95 over sequential calls), calls/s with 8 concurrent callers;
- MCP streamable HTTP (loopback): start + listing, call latency;
- plugins: discovery + load of N folder plugins with a tool and a hook each; hook relay cost;
- skills: load of N skill files, selection time per message;
- web: html_to_text throughput on a ~200 KB page.

Run: ``python tests/perf/bench_extensions.py [--calls 200] [--plugins 20] [--skills 200]``
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from smallcode.core.extensions.mcp_client import McpHub, parse_server
from smallcode.core.extensions.plugins import load_plugins
from smallcode.core.extensions.skills import SkillBook
from smallcode.core.tools.registry import ToolContext, ToolRegistry
from smallcode.core.tools.web_tools import html_to_text

HERE = Path(__file__).resolve().parent
SERVER = HERE.parent / "extensions" / "mcp_test_server.py"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def bench_mcp_calls(hub: McpHub, registry: ToolRegistry, calls: int, label: str) -> None:
    ctx = ToolContext(None)
    lat = []
    for i in range(calls):
        t0 = time.perf_counter()
        result = await registry.execute("add", {"a": i, "b": 1}, ctx)
        lat.append((time.perf_counter() - t0) * 1000)
        assert result.output == str(i + 1), result.output
    print(f"  {label} call latency: p50 {statistics.median(lat):.2f} ms, p95 {pct(lat, 0.95):.2f} ms "
          f"({calls} sequential calls)")
    t0 = time.perf_counter()
    await asyncio.gather(*[registry.execute("add", {"a": i, "b": 2}, ctx) for i in range(calls)])
    dt = time.perf_counter() - t0
    print(f"  {label} concurrent: {calls / dt:.0f} calls/s ({calls} calls gathered)")


async def bench_mcp(calls: int, tmp: Path) -> None:
    print("MCP stdio")
    config = parse_server("calc", {"command": sys.executable, "args": [str(SERVER)]})
    hub = McpHub([config], cache_path=tmp / "cache.json")
    registry = ToolRegistry()
    t0 = time.perf_counter()
    await hub.aregister_tools(registry)
    print(f"  cold start + list_tools: {(time.perf_counter() - t0) * 1000:.0f} ms")
    await bench_mcp_calls(hub, registry, calls, "stdio")
    await hub.aclose()
    lazy = McpHub([config], cache_path=tmp / "cache.json")
    t0 = time.perf_counter()
    await lazy.aregister_tools(ToolRegistry())
    print(f"  registration from cached listing (nothing started): {(time.perf_counter() - t0) * 1000:.2f} ms")
    await lazy.aclose()

    print("MCP streamable HTTP (loopback)")
    import uvicorn

    sys.path.insert(0, str(SERVER.parent))
    import logging

    from mcp_test_server import build_server

    app = build_server().streamable_http_app()
    logging.disable(logging.INFO)  # the SDK server logs every request at INFO

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1",
                                           port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        await asyncio.sleep(0.02)
    hub = McpHub([parse_server("remote", {"url": f"http://127.0.0.1:{port}/mcp"})])
    registry = ToolRegistry()
    t0 = time.perf_counter()
    await hub.aregister_tools(registry)
    print(f"  connect + list_tools: {(time.perf_counter() - t0) * 1000:.0f} ms")
    await bench_mcp_calls(hub, registry, calls, "http")
    await hub.aclose()
    server.should_exit = True
    thread.join(5)


async def bench_plugins(n: int, tmp: Path) -> None:
    print("plugins")
    for i in range(n):
        folder = tmp / ".smallcode" / "plugins" / f"p{i}"
        folder.mkdir(parents=True)
        (folder / "plugin.py").write_text(
            "from pydantic import BaseModel\nfrom smallcode.core.extensions import hookimpl\n"
            f"VERSION = '1.{i}'\nclass A(BaseModel):\n    x: int\n"
            "def setup(api):\n"
            f"    api.add_tool(name='t{i}', description='d', args=A, categories=['read'],"
            " handler=lambda a, c: str(a.x))\n"
            "@hookimpl\ndef smallcode_after_tool_call(name):\n    pass\n")
    t0 = time.perf_counter()
    plugins = load_plugins(tmp, None, user_dir=tmp / "u", entry_points=False)
    plugins.register_tools(ToolRegistry())
    print(f"  discover + load + register {n} folder plugins: {(time.perf_counter() - t0) * 1000:.1f} ms")
    rounds = 2000
    t0 = time.perf_counter()
    for _ in range(rounds):
        await plugins.hooks.after_tool_call("t0", {}, None, {})
    print(f"  after_tool_call relay over {n} implementations: "
          f"{(time.perf_counter() - t0) / rounds * 1e6:.1f} µs per call")


def bench_skills(n: int, tmp: Path) -> None:
    print("skills")
    folder = tmp / ".smallcode" / "skills"
    folder.mkdir(parents=True)
    for i in range(n):
        (folder / f"s{i}.md").write_text(
            f"---\ntriggers: [word{i}, \"phrase {i}\"]\ncategories: [{['read', 'write', 'run'][i % 3]}]\n---\n"
            + f"Skill {i} text. " * 20 + "\n")
    t0 = time.perf_counter()
    book = SkillBook.load(tmp)
    print(f"  load {n} skill files: {(time.perf_counter() - t0) * 1000:.1f} ms")
    message = "please fix word7 and phrase 42 in the parser " * 3
    rounds = 200
    t0 = time.perf_counter()
    for _ in range(rounds):
        text = book.select(message, "write", 600)
    print(f"  select for one message (budget 600 tokens): {(time.perf_counter() - t0) / rounds * 1000:.2f} ms"
          f" -> {text.count('## Skill:')} skills")


def bench_web() -> None:
    print("web")
    block = ("<nav><a href='/'>home</a></nav><h2>Section</h2><p>Some <b>text</b> with a "
             "<a href='/x'>link</a> and <code>code</code>.</p><pre>x = 1\ny = 2</pre>"
             "<script>var a = 1;</script><ul><li>a</li><li>b</li></ul>")
    page = "<html><body>" + block * 800 + "</body></html>"
    t0 = time.perf_counter()
    _, text = html_to_text(page, "http://example.org/")
    dt = time.perf_counter() - t0
    print(f"  html_to_text: {len(page) / 1024:.0f} KB -> {len(text) / 1024:.0f} KB text in "
          f"{dt * 1000:.0f} ms ({len(page) / 1024 / 1024 / dt:.1f} MB/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--plugins", type=int, default=20)
    parser.add_argument("--skills", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        asyncio.run(bench_mcp(args.calls, tmp / "mcp"))
        (tmp / "plugins").mkdir()
        asyncio.run(bench_plugins(args.plugins, tmp / "plugins"))
        (tmp / "skills").mkdir()
        bench_skills(args.skills, tmp / "skills")
        bench_web()


if __name__ == "__main__":
    main()
