"""Configuration of the model gateway: backends, users, queue and retry limits.

Loaded from a TOML/YAML file (``[gateway]`` table or top level), from ``Settings.extra["gateway"]``,
or built from command-line flags. Secrets (backend API keys) are ``SecretStr`` and never printed;
user tokens are stored only as sha256 hex digests.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

BackendKind = Literal["llamacpp", "ollama", "lmstudio", "vllm", "openai"]

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class GatewayConfigError(ValueError):
    """The gateway configuration is invalid; the message names the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BackendConfig(_Section):
    """One OpenAI-compatible model server the gateway forwards to."""

    name: str = Field(..., min_length=1, description="unique name, used in metrics and affinity")
    base_url: str = Field(..., description="OpenAI-compatible base URL ending in /v1")
    kind: BackendKind = "llamacpp"
    slots: int = Field(default=4, ge=1, le=1024, description="concurrent requests it accepts (llama.cpp -np)")
    api_key: SecretStr | None = Field(default=None, description="bearer token sent upstream")
    model: str | None = Field(default=None, description="model name sent upstream; None = as the client sent")

    @field_validator("base_url")
    @classmethod
    def _normalise_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {value!r}")
        if not value.endswith("/v1"):
            value += "/v1"
        return value


class UserConfig(_Section):
    """A gateway user: the sha256 of their token and their limits."""

    name: str = Field(..., min_length=1)
    token_sha256: str = Field(..., description="hex sha256 of the bearer token")
    max_concurrent: int = Field(default=4, ge=1, description="requests of this user running at once")
    token_quota: int | None = Field(default=None, ge=1, description="tokens per quota window; None = no cap")

    @field_validator("token_sha256")
    @classmethod
    def _hex_digest(cls, value: str) -> str:
        value = value.strip().lower()
        if not _HEX64.match(value):
            raise ValueError("token_sha256 must be a 64-character hex sha256 digest")
        return value


class GatewayConfig(_Section):
    """Everything the gateway needs to run."""

    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=0, lt=65536)
    backends: list[BackendConfig] = Field(default_factory=list)
    users: list[UserConfig] = Field(default_factory=list)
    tokens_file: str | None = Field(default=None, description="JSON file of hashed user tokens (merged)")
    max_queue: int = Field(default=64, ge=0, description="requests waiting for a slot, all users")
    max_queue_per_user: int = Field(default=16, ge=0, description="requests waiting, per user")
    queue_timeout_s: float = Field(default=120.0, gt=0, description="longest wait for a slot, then 503")
    local_without_token: bool = Field(default=True, description="loopback clients may omit the "
                                      "token; turn off behind a reverse proxy on the same host")
    local_max_concurrent: int = Field(default=8, ge=1, description="limit of the token-less loopback user")
    quota_window_s: float = Field(default=86400.0, gt=0)
    affinity_wait_s: float = Field(default=2.0, ge=0, description="wait this long for the affine backend")
    affinity_entries: int = Field(default=4096, ge=1)
    connect_timeout: float = Field(default=5.0, gt=0)
    read_timeout: float = Field(default=300.0, gt=0, description="seconds between bytes from a backend")
    max_retries: int = Field(default=2, ge=0, le=10, description="retries on connect errors and 5xx")
    retry_backoff_s: float = Field(default=0.2, ge=0)
    backend_cooldown_s: float = Field(default=5.0, ge=0, description="skip a backend this long after it fails")
    cache_entries: int = Field(default=512, ge=0, description="0 disables the response cache")
    cache_ttl_s: float = Field(default=600.0, gt=0)

    @field_validator("backends")
    @classmethod
    def _unique_names(cls, value: list[BackendConfig]) -> list[BackendConfig]:
        names = [b.name for b in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"backend names must be unique: {', '.join(dupes)}")
        return value

    @classmethod
    def parse(cls, data: dict[str, Any], origin: str = "configuration") -> GatewayConfig:
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            msgs = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
            raise GatewayConfigError(f"invalid gateway {origin}: " + "; ".join(msgs)) from None

    @classmethod
    def from_file(cls, path: str | Path) -> GatewayConfig:
        p = Path(path)
        try:
            text = p.read_text()
        except OSError as exc:
            raise GatewayConfigError(f"cannot read gateway config {p}: {exc.strerror}") from None
        try:
            if p.suffix in (".yaml", ".yml"):
                data = yaml.safe_load(text) or {}
            else:
                data = tomllib.loads(text)
        except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
            raise GatewayConfigError(f"{p}: not valid {p.suffix.lstrip('.') or 'toml'}: {exc}") from None
        if not isinstance(data, dict):
            raise GatewayConfigError(f"{p}: expected a table of settings")
        if isinstance(data.get("gateway"), dict):
            data = data["gateway"]
        return cls.parse(data, origin=f"config {p}")


def parse_backend_spec(spec: str) -> BackendConfig:
    """Parse ``[NAME=]URL[,slots=N][,kind=K][,model=M][,api_key_env=VAR]`` from the command line."""
    import os

    parts = [p.strip() for p in spec.split(",") if p.strip()]
    if not parts:
        raise GatewayConfigError("empty --backend value")
    head, options = parts[0], parts[1:]
    name, url = head.split("=", 1) if "=" in head and not head.startswith("http") else ("", head)
    fields: dict[str, Any] = {"base_url": url}
    for opt in options:
        if "=" not in opt:
            raise GatewayConfigError(f"--backend option {opt!r} must look like key=value")
        key, value = (s.strip() for s in opt.split("=", 1))
        if key == "api_key_env":
            if value not in os.environ:
                raise GatewayConfigError(f"--backend: environment variable {value} is not set")
            fields["api_key"] = os.environ[value]
        elif key in ("slots", "kind", "model"):
            fields[key] = value
        else:
            raise GatewayConfigError(f"--backend: unknown option {key!r} (slots, kind, model, api_key_env)")
    if not name:
        name = re.sub(r"[^a-zA-Z0-9]+", "-", url.split("://", 1)[-1]).strip("-")
    fields["name"] = name
    try:
        return BackendConfig.model_validate(fields)
    except ValidationError as exc:
        msgs = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise GatewayConfigError(f"--backend {spec!r}: " + "; ".join(msgs)) from None


def resolve_gateway_config(*, config_path: str | Path | None = None,
                           extra: dict[str, Any] | None = None,
                           backend_specs: list[str] | None = None,
                           fallback_base_url: str | None = None,
                           fallback_api_key: SecretStr | None = None,
                           fallback_model: str | None = None,
                           host: str | None = None, port: int | None = None,
                           tokens_file: str | Path | None = None) -> GatewayConfig:
    """The gateway configuration from, in rising order: ``Settings.extra["gateway"]``, a config
    file, then command-line values. Backends: ``--backend`` flags, else the file's, else
    ``fallback_base_url`` (the configured model server); an empty list means none was found.
    """
    if config_path is not None:
        config = GatewayConfig.from_file(config_path)
    elif extra and isinstance(extra.get("gateway"), dict):
        config = GatewayConfig.parse(extra["gateway"], origin="section [extra.gateway]")
    else:
        config = GatewayConfig()
    updates: dict[str, Any] = {}
    if backend_specs:
        updates["backends"] = [parse_backend_spec(s) for s in backend_specs]
    elif not config.backends and fallback_base_url:
        updates["backends"] = [BackendConfig(name="default", base_url=fallback_base_url,
                                             api_key=fallback_api_key, model=fallback_model)]
    if host is not None:
        updates["host"] = host
    if port is not None:
        updates["port"] = port
    if tokens_file is not None and config.tokens_file is None:
        updates["tokens_file"] = str(tokens_file)
    return config.model_copy(update=updates)
