"""Configuration: defaults < user ``smallcode.toml`` < project ``smallcode.toml`` < ``SMALLCODE_*``.

Environment variables use ``__`` for nesting (``SMALLCODE_MODEL__BASE_URL``); the common ones also
have short aliases (``SMALLCODE_BASE_URL``, ``SMALLCODE_MODEL``, ``SMALLCODE_API_KEY`` ...).
A bad value raises :class:`ConfigError` naming the key and the file it came from.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

PermissionMode = Literal["ask", "auto-edit", "yolo"]


class ConfigError(ValueError):
    pass


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ModelSettings(_Section):
    base_url: str | None = Field(None, description="OpenAI-compatible base URL, e.g. http://127.0.0.1:8080/v1; None = detect or embedded")
    model: str | None = Field(None, description="model name sent to the server; None = the server's first model")
    api_key: SecretStr | None = Field(None, description="bearer token for the server")
    connect_timeout: float = Field(5.0, gt=0, description="seconds to connect")
    read_timeout: float = Field(300.0, gt=0, description="seconds to wait for a reply (CPU models are slow)")
    max_retries: int = Field(3, ge=0, le=10, description="retries on connection errors, 429 and 5xx")
    context_window: int | None = Field(None, gt=0, description="override the window read from the server")
    max_tokens: int = Field(1024, gt=0, description="max completion tokens per call")
    temperature: float | None = Field(None, ge=0, le=2, description="None = the profile's default")
    tool_mode: Literal["auto", "native", "text", "constrained"] = Field("auto", description="how tool calls are requested; auto = from the model profile")
    embedded_size: Literal["1.5b", "0.5b"] = Field("1.5b", description="embedded model when no server is configured or detected")
    detect_local: bool = Field(True, description="probe llama.cpp 8080, LM Studio 1234, Ollama 11434")


class AgentSettings(_Section):
    max_turns: int = Field(12, gt=0, description="model calls per task")
    max_tool_calls: int = Field(30, gt=0, description="tool calls per task")
    permission_mode: PermissionMode = Field("ask", description="ask | auto-edit | yolo")
    router: bool = Field(True, description="route tools per message (off = offer every tool)")
    two_stage_routing: Literal["auto", "on", "off"] = Field("auto", description="auto = when the window is under 16k")
    plan: bool = Field(True, description="plan detection and the plan anchor")
    parallel: bool = Field(True, description="run independent plan steps concurrently")
    derive_plans: bool = Field(True, description="read the plan off the message when it names "
                               "the work and its files (a rename, file-by-file clauses) instead "
                               "of asking the model")
    validate_edits: bool = Field(True, description="validate after every write/patch (improvement loop)")
    patch_ladder: bool = Field(True, description="tolerant patch matching beyond the exact match")
    auto_rollback: bool = Field(True, description="restore the turn's checkpoint after a hard failure")
    best_of_n: int = Field(1, ge=1, le=8, description="oracle-verified candidates per change")
    prefetch_context: bool = Field(True, description="put likely-relevant code in the first prompt")


class SolveSettings(_Section):
    enabled: bool = Field(True, description="edit tasks go through the solve path (candidates "
                          "as plain code, checked by an oracle); off = the tool loop only")
    candidates: int = Field(4, ge=1, le=16, description="candidates per round (K)")
    refine_rounds: int = Field(3, ge=0, le=4, description="rounds that show the best "
                               "candidate's failure and ask again")
    time_budget: float = Field(900.0, gt=0, description="seconds for generating and checking "
                               "candidates")
    temperature: float = Field(0.7, ge=0, le=2, description="for candidates after the first "
                               "(the first is greedy)")
    whole_file_lines: int = Field(150, gt=0, description="files up to this many lines are "
                                  "written whole; longer ones by their changed functions "
                                  "(SEARCH/REPLACE blocks when they have none)")
    excerpt_lines: int = Field(250, gt=0, description="a Python file longer than this, when "
                               "changed by whole functions, is shown as an excerpt: the "
                               "definitions the task, the failing tests and the fault "
                               "localisation point at in full, the others by their first line")
    whole_repo_chars: int = Field(12000, ge=0, description="a project up to this size goes "
                                  "into the prompt whole")
    max_tokens: int = Field(4096, gt=0, description="completion tokens per candidate")
    test_timeout: float = Field(120.0, gt=0, description="seconds per test run of a candidate "
                                "at most; a run taking test_slowdown times the untouched "
                                "project's own run (at least 20 s) is stopped sooner")
    test_slowdown: float = Field(10.0, gt=1, description="how many times slower than the "
                                 "untouched project's tests a candidate's tests may run before "
                                 "they count as hanging")
    seed: int | None = Field(1, description="sampling seed of candidate 1 (candidate n gets seed "
                             "+ n - 1); None = the server's random seed")
    vote: bool = Field(True, description="when nothing can check the task (no tests, no example) "
                       "or only the task's examples can, generate every candidate of the first "
                       "round and keep the one (of those that pass) whose behaviour on "
                       "model-written example calls most candidates share")
    compute_answers: bool = Field(True, description="when the task's only new file is data (a "
                                  "count, a list of files: answer.txt, todos.txt), also ask for "
                                  "shell commands that print it and run them in a copy of the "
                                  "project; their outputs join the vote, counted twice")


class EscalationSettings(_Section):
    anthropic_api_key: SecretStr | None = None
    openai_api_key: SecretStr | None = None
    deepseek_api_key: SecretStr | None = None
    max_per_session: int = Field(5, ge=0)
    anthropic_base_url: str = Field("https://api.anthropic.com", description="Anthropic API root")
    openai_base_url: str = Field("https://api.openai.com/v1", description="OpenAI API root")
    deepseek_base_url: str = Field("https://api.deepseek.com/v1", description="DeepSeek API root")


class ServeSettings(_Section):
    address: str | None = Field(None, description="Ray address to join: auto, ray://host:port; None = local")
    host: str = "127.0.0.1"
    port: int = Field(8765, gt=0, lt=65536)
    server_url: str | None = Field(None, description="a running smallcode serve to attach to")
    token: SecretStr | None = None


class Settings(_Section):
    model: ModelSettings = Field(default_factory=ModelSettings)
    agent: AgentSettings = Field(default_factory=AgentSettings)
    solve: SolveSettings = Field(default_factory=SolveSettings)
    escalation: EscalationSettings = Field(default_factory=EscalationSettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)
    extra: dict[str, Any] = Field(default_factory=dict, description="sections owned by extensions")


ENV_ALIASES = {
    "SMALLCODE_BASE_URL": ("model", "base_url"),
    "SMALLCODE_MODEL": ("model", "model"),
    "SMALLCODE_API_KEY": ("model", "api_key"),
    "SMALLCODE_TIMEOUT": ("model", "read_timeout"),
    "SMALLCODE_PERMISSION_MODE": ("agent", "permission_mode"),
    "SMALLCODE_MAX_TURNS": ("agent", "max_turns"),
    "ANTHROPIC_API_KEY": ("escalation", "anthropic_api_key"),
    "OPENAI_API_KEY": ("escalation", "openai_api_key"),
    "DEEPSEEK_API_KEY": ("escalation", "deepseek_api_key"),
}


def user_config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "smallcode"


def cache_dir() -> Path:
    base = os.environ.get("SMALLCODE_CACHE_DIR")
    if base:
        return Path(base)
    return Path(os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")) / "smallcode"


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def _validate(data: dict[str, Any], origin: dict[tuple[str, ...], str]) -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        msgs = []
        for err in exc.errors():
            loc = tuple(str(p) for p in err["loc"])
            where = origin.get(loc) or origin.get(loc[:1]) or "defaults"
            msgs.append(f"{'.'.join(loc)}: {err['msg']} (from {where})")
        raise ConfigError("invalid configuration: " + "; ".join(msgs)) from None


def _record(origin: dict[tuple[str, ...], str], data: dict[str, Any], where: str,
            prefix: tuple[str, ...] = ()) -> None:
    for k, v in data.items():
        if isinstance(v, dict):
            _record(origin, v, where, prefix + (k,))
        origin[prefix + (k,)] = where


def load_settings(workspace: str | os.PathLike[str] | None = None,
                  overrides: dict[str, Any] | None = None,
                  env: dict[str, str] | None = None) -> Settings:
    """Load settings for a project. ``overrides`` (e.g. CLI flags) win over everything."""
    env = dict(os.environ if env is None else env)
    data: dict[str, Any] = {}
    origin: dict[tuple[str, ...], str] = {}
    files = [user_config_dir() / "smallcode.toml"]
    if workspace is not None:
        files.append(Path(workspace) / "smallcode.toml")
    for f in files:
        if f.is_file():
            try:
                loaded = tomllib.loads(f.read_text())
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"{f}: not valid TOML: {exc}") from None
            _record(origin, loaded, str(f))
            data = _deep_merge(data, loaded)
    env_data: dict[str, Any] = {}
    for key, value in env.items():
        path: tuple[str, ...] | None = None
        if key in ENV_ALIASES:
            path = ENV_ALIASES[key]
        elif key.startswith("SMALLCODE_") and "__" in key:
            path = tuple(p.lower() for p in key[len("SMALLCODE_"):].split("__"))
        if not path:
            continue
        node = env_data
        for p in path[:-1]:
            node = node.setdefault(p, {})
        node[path[-1]] = value
        origin[path] = f"environment variable {key}"
    data = _deep_merge(data, env_data)
    if overrides:
        clean = {k: {kk: vv for kk, vv in v.items() if vv is not None}
                 for k, v in overrides.items() if isinstance(v, dict)}
        _record(origin, clean, "command line")
        data = _deep_merge(data, clean)
    return _validate(data, origin)
