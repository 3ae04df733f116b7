"""Finding a model server: configured, or a local one on the usual ports."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

LOCAL_PORTS: tuple[tuple[int, str, str], ...] = (
    (8080, "llamacpp", "/health"),
    (1234, "lmstudio", "/v1/models"),
    (11434, "ollama", "/api/tags"),
)


@dataclass
class LocalServer:
    base_url: str
    kind: str


def detect_local_server(host: str = "127.0.0.1", timeout: float = 0.4,
                        ports: tuple[tuple[int, str, str], ...] = LOCAL_PORTS) -> LocalServer | None:
    """The first answering llama.cpp (8080), LM Studio (1234) or Ollama (11434) server."""
    for port, kind, probe in ports:
        try:
            r = httpx.get(f"http://{host}:{port}{probe}", timeout=timeout)
        except httpx.HTTPError:
            continue
        if r.status_code == 200:
            return LocalServer(base_url=f"http://{host}:{port}/v1", kind=kind)
    return None
