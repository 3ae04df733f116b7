"""The backend of a session, chosen once from the settings: in-process (the default, no Ray
started) or attached to a running `smallcode serve` (its indexer, memory and step-worker
actors). `smallcode run` and the TUI pass what :func:`backend_for` returns to
:func:`smallcode.core.session.open_session`."""

from __future__ import annotations

from typing import Any


def backend_for(settings: Any) -> Any:
    """``smallcode.actors.attach.serve_backend`` when the session talks to a serve, else None
    (everything in this process)."""
    if not settings.serve.server_url:
        return None
    from smallcode.actors.attach import serve_backend

    return serve_backend
