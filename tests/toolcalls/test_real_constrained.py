"""With the real 0.5B on llama-server, the action schema constrains the reply to offered tools."""

from __future__ import annotations

import pytest
from smallcode.core.model.client import OpenAIChatClient
from smallcode.core.model.embedded import (
    EmbeddedServer,
    installed_model,
    llama_server_path,
    llama_server_runs,
)
from smallcode.core.toolcalls import ResolvedCall, action_schema, parse_action, resolve_call

from tests.toolcalls.tool_set import build_test_registry

needs_binary = pytest.mark.skipif(not llama_server_runs(llama_server_path()).ok,
                                  reason="llama-server is not built (smallcode model install)")


@pytest.mark.real_model
@needs_binary
async def test_real_05b_can_only_answer_with_an_offered_tool_in_both_schema_forms(tmp_path):
    model_path = installed_model("0.5b")
    if model_path is None:
        pytest.skip("the 0.5b model is not installed (smallcode model install --size 0.5b)")
    registry = build_test_registry()
    offered = [registry.get("find_files"), registry.get("finish")]
    replies = {}
    with EmbeddedServer(model_path, ctx=2048, parallel=1, log_dir=tmp_path / "logs") as server:
        client = OpenAIChatClient(server.base_url, max_retries=0, read_timeout=600)
        for form in ("oneof", "enum"):
            reply = await client.chat(
                [{"role": "user", "content": "Read the file src/calc.py and show it to me."}],
                response_format=action_schema(offered, form=form), max_tokens=80,
                temperature=0.0)
            replies[form] = reply.content
        await client.aclose()
    for content in replies.values():
        call = parse_action(content)
        assert call.name in {"find_files", "finish"}  # read_file was asked for, not offered
        assert isinstance(resolve_call(call, registry), ResolvedCall)
