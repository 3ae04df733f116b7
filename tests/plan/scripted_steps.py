"""Scripted replies per plan step for the loopback model server: concurrent step workers send
requests in any order, so replies are chosen by the step a request belongs to."""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from tests.support.scripted_server import Reply

_STEP_RE = re.compile(r"YOUR STEP: (\d+)\.")


def fenced(name: str, arguments: dict[str, Any]) -> str:
    return "```json\n" + json.dumps({"name": name, "arguments": arguments}) + "\n```"


def write(path: str, content: str) -> str:
    return fenced("write_file", {"path": path, "content": content})


def finish(summary: str = "done") -> str:
    return fenced("finish", {"summary": summary})


def step_of(body: dict[str, Any]) -> int | None:
    for m in body.get("messages", []):
        if m.get("role") == "user":
            found = _STEP_RE.search(str(m.get("content") or ""))
            if found:
                return int(found.group(1))
    return None


class StepScript:
    """``StepScript({1: [write(...), finish()], 2: [...]})`` as the server's ``default``: each
    request of step N takes step N's next reply (a finish once its script is used up). Requests
    with no step (the plan request) take ``plan_replies`` in order."""

    def __init__(self, script: dict[int, list[Reply | str]], plan_replies: list[str] | None = None):
        self.script = {n: list(r) for n, r in script.items()}
        self.plan_replies = list(plan_replies or [])
        self.calls: dict[int | None, int] = {}
        self._lock = threading.Lock()

    def __call__(self, body: dict[str, Any]) -> Reply | str:
        n = step_of(body)
        with self._lock:
            self.calls[n] = self.calls.get(n, 0) + 1
            if n is None:
                return self.plan_replies.pop(0) if self.plan_replies else finish("no plan")
            queue = self.script.get(n, [])
            return queue.pop(0) if queue else finish(f"step {n} finished")

