"""Plugin and MCP tools reach the model: an agent run against the scripted OpenAI-compatible server
offers them on their route, the model calls them, and their results come back in the next prompt."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

from smallcode.core.agent import Agent
from smallcode.core.config import Settings
from smallcode.core.extensions import open_extensions
from smallcode.core.model.client import OpenAIChatClient
from smallcode.core.tools import build_registry
from smallcode.core.tools.workspace import Workspace

from tests.support.scripted_server import Reply, ScriptedServer, tool_call

SERVER = str(Path(__file__).with_name("mcp_test_server.py"))

PLUGIN = '''
from pydantic import BaseModel

class Args(BaseModel):
    symbol: str

def setup(api):
    @api.tool(name="symbol_owner", description="Who owns a symbol.", args=Args,
              categories=["search", "code_intel"])
    def symbol_owner(args, ctx):
        return f"{args.symbol} is owned by team-parsing"
'''


async def test_model_is_offered_and_calls_plugin_and_mcp_tools(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("def parse_config(path):\n    return {}\n")
    plugin = tmp_path / ".smallcode" / "plugins" / "owners" / "plugin.py"
    plugin.parent.mkdir(parents=True)
    plugin.write_text(textwrap.dedent(PLUGIN))
    (tmp_path / ".smallcode" / "mcp.json").write_text(json.dumps({"servers": {
        "calc": {"command": sys.executable, "args": [SERVER], "category": "search"}}}))
    settings = Settings(model={"tool_mode": "native"},
                        agent={"prefetch_context": False, "permission_mode": "yolo"})
    registry = build_registry(settings)
    ext = await open_extensions(tmp_path, settings, registry, user_dir=tmp_path / "user",
                                entry_points=False)
    replies = [
        Reply(content="", tool_calls=[tool_call("symbol_owner", {"symbol": "parse_config"})]),
        Reply(content="", tool_calls=[tool_call("add", {"a": 20, "b": 22})]),
        Reply(content="", tool_calls=[tool_call("finish", {"summary": "team-parsing owns it; 42"})]),
    ]
    try:
        with ScriptedServer(replies) as srv:
            client = OpenAIChatClient(srv.base_url)
            await client.discover()
            agent = Agent(client, registry, Workspace(tmp_path), settings)
            done = await agent.run("find all uses of parse_config across the project", lambda ev: None)
            await client.aclose()
            requests = srv.requests
    finally:
        await ext.aclose()
    offered = [t["function"]["name"] for t in requests[0]["tools"]]
    assert "symbol_owner" in offered and "add" in offered
    assert "parse_config is owned by team-parsing" in json.dumps(requests[1]["messages"])
    tool_messages = [m for m in requests[2]["messages"] if m.get("role") == "tool"]
    assert tool_messages[-1]["content"] == "42"
    assert done.tool_calls == 3 and done.success, done
