"""Model profiles: one place per model family for every quirk the agent must know about.

A profile says whether the family emits native ``tool_calls``, whether the server honours
``response_format: json_schema``, how tool calls should be requested, sampling defaults, thinking
fields and vision. ``profile_for`` picks one by model name and server kind; ``probe_profile``
(in doctor.py) fills one for an unknown model by asking it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Literal

ToolMode = Literal["native", "text", "constrained"]
ServerKind = Literal["llamacpp", "ollama", "lmstudio", "vllm", "openai", "anthropic", "unknown"]


@dataclass(frozen=True)
class ModelProfile:
    family: str
    native_tool_calls: bool = True  # replies carry real `tool_calls`
    json_schema: bool = False  # the server enforces response_format json_schema
    tool_mode: ToolMode = "native"  # how the agent asks for actions
    temperature: float = 0.2
    top_p: float | None = None
    vision: bool = False
    thinking: bool = False  # emits <think> blocks / reasoning_content
    thinking_budget_field: str | None = None  # provider field for the reasoning budget
    stop: tuple[str, ...] = ()
    edit_format: str | None = None  # solve: "whole" / "function" / "search-replace"; None = by size
    notes: tuple[str, ...] = field(default_factory=tuple)

    def with_server(self, kind: ServerKind) -> ModelProfile:
        """Server capabilities refine the family's: llama.cpp enforces json_schema by grammar."""
        if kind in ("llamacpp", "vllm", "lmstudio", "ollama", "openai"):
            return replace(self, json_schema=self.json_schema or kind in ("llamacpp", "vllm"))
        return self


# Order matters: the first pattern that matches the model name wins.
_FAMILIES: list[tuple[re.Pattern[str], ModelProfile]] = [
    (re.compile(r"qwen2\.5.*coder|qwen2\.5-coder|coder.*qwen", re.IGNORECASE), ModelProfile(
        family="qwen2.5-coder", native_tool_calls=False, json_schema=True,
        tool_mode="constrained", temperature=0.1, top_p=0.9,
        notes=("writes tool calls as fenced JSON in content, never native tool_calls",
               "tool_choice=required makes it ramble to max_tokens"))),
    (re.compile(r"qwen3|qwq|deepseek-r1|r1-distill", re.IGNORECASE), ModelProfile(
        family="reasoning", native_tool_calls=True, thinking=True, temperature=0.6,
        thinking_budget_field="reasoning_effort")),
    (re.compile(r"qwen", re.IGNORECASE), ModelProfile(
        family="qwen", native_tool_calls=False, json_schema=True, tool_mode="text",
        temperature=0.2)),
    (re.compile(r"smollm", re.IGNORECASE), ModelProfile(
        family="smollm", native_tool_calls=False, json_schema=True, tool_mode="constrained",
        temperature=0.0, notes=("cannot follow a JSON format unconstrained",))),
    (re.compile(r"gemma", re.IGNORECASE), ModelProfile(
        family="gemma", native_tool_calls=False, tool_mode="text", temperature=0.2)),
    (re.compile(r"llama-?3|mistral|granite|phi", re.IGNORECASE), ModelProfile(
        family="generic-tools", native_tool_calls=True, tool_mode="native", temperature=0.2)),
    (re.compile(r"lfm|liquid", re.IGNORECASE), ModelProfile(
        family="liquid", native_tool_calls=False, tool_mode="text", temperature=0.2)),
    (re.compile(r"gpt-|claude|deepseek-chat|o[134]-", re.IGNORECASE), ModelProfile(
        family="frontier", native_tool_calls=True, tool_mode="native", temperature=0.2,
        vision=True)),
]

DEFAULT_LOCAL = ModelProfile(family="unknown-local", native_tool_calls=False, tool_mode="text",
                             temperature=0.2)


def profile_for(model_name: str, server_kind: ServerKind = "unknown",
                model_path: str = "") -> ModelProfile:
    """The profile for a model, by name (and by the server's model path for aliased models)."""
    haystack = f"{model_name} {model_path}"
    for pattern, profile in _FAMILIES:
        if pattern.search(haystack):
            return profile.with_server(server_kind)
    return DEFAULT_LOCAL.with_server(server_kind)
