"""`smallcode doctor`: check configuration, endpoint, model, context window and tool-call modes.

Every failed check comes with the fix a user should apply. ``probe_capabilities`` is also the
short capability probe that fills a profile for an unknown model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from .config import ConfigError, Settings, load_settings
from .model.client import OpenAIChatClient
from .model.discovery import detect_local_server
from .model.types import ModelError
from .tools.registry import Tool, ToolResult


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


@dataclass
class Capabilities:
    native_tool_calls: bool = False
    text_tool_calls: bool = False
    json_schema: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def recommended_mode(self) -> str:
        if self.json_schema:
            return "constrained"
        if self.native_tool_calls:
            return "native"
        return "text"


class _PathArgs(BaseModel):
    path: str


_PROBE_TOOL = Tool("read_file", "Read a file.", _PathArgs,
                   lambda a, c: ToolResult(True, ""), frozenset({"read"}))


async def probe_capabilities(client: OpenAIChatClient) -> Capabilities:
    """Ask the model two tiny questions to learn how it answers tool prompts."""
    from .toolcalls import extract_tool_calls

    caps = Capabilities()
    msgs = [{"role": "system", "content": "You are a coding agent. Use tools."},
            {"role": "user", "content": "Read the file notes.txt."}]
    r = await client.chat(msgs, tools=[_PROBE_TOOL.schema()], max_tokens=80, temperature=0)
    caps.native_tool_calls = any((c.get("function") or {}).get("name") == "read_file"
                                 for c in r.tool_calls)
    if not caps.native_tool_calls:
        ex = extract_tool_calls(r.content, r.reasoning, known_tools=["read_file"])
        caps.text_tool_calls = any(c.name == "read_file" for c in ex.calls)
        caps.notes.append(f"tool call came back as text ({ex.calls[0].fmt})" if ex.calls
                          else "no tool call recognised in the reply")
    schema = {"type": "json_schema", "json_schema": {"name": "answer", "schema": {
        "type": "object", "properties": {"answer": {"type": "integer"}},
        "required": ["answer"], "additionalProperties": False}}}
    try:
        r2 = await client.chat([{"role": "user", "content": "What is 2+3? Reply as JSON."}],
                               response_format=schema, max_tokens=30, temperature=0)
        data = json.loads(r2.content)
        caps.json_schema = isinstance(data, dict) and set(data) == {"answer"}
    except (ModelError, ValueError) as exc:
        caps.notes.append(f"json_schema not honoured: {str(exc)[:120]}")
    return caps


async def run_doctor(workspace: str, overrides: dict[str, Any] | None = None,
                     probe: bool = True) -> list[Check]:
    checks: list[Check] = []
    try:
        settings = load_settings(workspace, overrides)
        checks.append(Check("configuration", True, "smallcode.toml and SMALLCODE_* are valid"))
    except ConfigError as exc:
        return [Check("configuration", False, str(exc), "fix the value named above")]
    base_url, source = _endpoint(settings, checks)
    if base_url is None:
        return checks
    client = OpenAIChatClient(base_url, model=settings.model.model,
                              api_key=settings.model.api_key.get_secret_value()
                              if settings.model.api_key else None,
                              connect_timeout=settings.model.connect_timeout,
                              read_timeout=min(settings.model.read_timeout, 180), max_retries=0)
    try:
        try:
            await client.discover()
        except ModelError as exc:
            checks.append(Check("endpoint", False, str(exc),
                                "start the server, or fix model.base_url / SMALLCODE_BASE_URL"))
            return checks
        checks.append(Check("endpoint", True, f"{base_url} ({source}, {client.server_kind})"))
        checks.append(Check("model", True, f"{client.model_name} → profile "
                            f"{client.profile.family if client.profile else '?'}"))
        win = client.context_window
        checks.append(Check("context window", win >= 8192, f"{win} tokens per request",
                            "" if win >= 8192 else "start the server with a larger context "
                            "(llama-server -c, Ollama num_ctx); small windows use two-stage routing"))
        if probe:
            caps = await probe_capabilities(client)
            checks.append(Check("native tool calls", True,
                                "yes" if caps.native_tool_calls else "no (text extraction is used)"))
            checks.append(Check("text tool calls", caps.native_tool_calls or caps.text_tool_calls,
                                "; ".join(caps.notes) or "recognised",
                                "" if caps.native_tool_calls or caps.text_tool_calls else
                                "use a server that honours json_schema (llama.cpp) and "
                                "model.tool_mode = \"constrained\""))
            checks.append(Check("json_schema constrained actions", True,
                                "honoured" if caps.json_schema else "not honoured"))
            profile_mode = client.profile.tool_mode if client.profile else "text"
            checks.append(Check("tool-call mode", True, f"profile uses {profile_mode}; the probe "
                                f"recommends {caps.recommended_mode}"))
    except ModelError as exc:
        checks.append(Check("model answers", False, str(exc), "check the server's log"))
    finally:
        await client.aclose()
    return checks


def _endpoint(settings: Settings, checks: list[Check]) -> tuple[str | None, str]:
    if settings.model.base_url:
        return settings.model.base_url, "configured"
    if settings.serve.server_url:
        return settings.serve.server_url, "serve"
    found = detect_local_server() if settings.model.detect_local else None
    if found:
        return found.base_url, f"detected {found.kind}"
    try:
        from .model.embedded import installed_model, server_report
    except ImportError:
        installed_model = None  # type: ignore[assignment]
    if installed_model is not None:
        size = settings.model.embedded_size
        model = installed_model(size)
        bin_ok, report = server_report()
        checks.append(Check("embedded model", model is not None,
                            f"{size}: {model}" if model else f"{size} not installed",
                            "" if model else f"smallcode model install --size {size}"))
        checks.append(Check("llama-server", bin_ok,
                            "; ".join(f"{label}: {text}" for label, text in report),
                            "" if bin_ok else "smallcode model install --rebuild (builds and "
                                              "checks it, ~6 min)"))
        checks.append(Check("endpoint", model is not None and bin_ok,
                            "no server configured or running; `smallcode run` will start the "
                            "embedded model", "" if model and bin_ok else
                            "install the embedded model, or set SMALLCODE_BASE_URL"))
    return None, "embedded"
