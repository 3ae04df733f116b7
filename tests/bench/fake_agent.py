"""A stand-in for `smallcode run --yes --json --max-turns K INSTRUCTION`, used to test the runner.

FAKE_AGENT_MODE picks the behaviour: ``solve`` lays the reference solution of the task whose
instruction it was given over the workspace (FAKE_AGENT_SUITE names the suite folder), ``idle``
changes nothing, ``hang`` sleeps until killed, ``crash`` exits 3 without events, ``noisy`` prints
non-JSON lines and usage events but no done event. Every mode that prints events first reports
what it saw (argv, SMALLCODE_* variables, files, git HEAD) in a notice.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path


def emit(event: dict) -> None:
    print(json.dumps(event), flush=True)


def find_task(suite: Path, instruction: str) -> Path:
    for toml in sorted(suite.glob("*/task.toml")):
        if tomllib.loads(toml.read_text())["instruction"] == instruction:
            return toml.parent
    raise SystemExit(f"fake agent: no task with instruction {instruction!r}")


def main() -> int:
    argv = sys.argv[1:]
    mode = os.environ.get("FAKE_AGENT_MODE", "idle")
    if mode == "crash":
        print("fake agent: cannot reach the model", file=sys.stderr)
        return 3
    instruction = argv[-1]
    cwd = Path.cwd()
    head = subprocess.run(["git", "rev-parse", "--verify", "HEAD"], capture_output=True,
                          text=True, check=False).returncode == 0
    files = sorted(p.relative_to(cwd).as_posix() for p in cwd.rglob("*")
                   if p.is_file() and ".git" not in p.parts)
    seen = {"argv": argv, "files": files, "git_head": head,
            "env": {k: v for k, v in os.environ.items() if k.startswith("SMALLCODE_")}}
    emit({"type": "notice", "message": json.dumps(seen)})
    if mode == "hang":
        time.sleep(3600)
        return 0
    if mode == "noisy":
        print("this line is not JSON")
        emit({"type": "usage", "prompt_tokens": 100, "completion_tokens": 10})
        emit({"type": "tool_call", "call_id": "1", "name": "read_file", "arguments": {}})
        emit({"type": "usage", "prompt_tokens": 150, "completion_tokens": 20})
        return 0
    emit({"type": "usage", "prompt_tokens": 1200, "completion_tokens": 80})
    if mode == "solve":
        task = find_task(Path(os.environ["FAKE_AGENT_SUITE"]), instruction)
        for f in sorted((task / "solution").rglob("*")):
            if f.is_file():
                target = cwd / f.relative_to(task / "solution")
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(f, target)
        for rel in tomllib.loads((task / "task.toml").read_text()).get("solution_removes", []):
            (cwd / rel).unlink()
        emit({"type": "tool_call", "call_id": "c1", "name": "write_file", "arguments": {}})
        emit({"type": "usage", "prompt_tokens": 1500, "completion_tokens": 40})
        emit({"type": "done", "success": True, "reason": "finished", "turns": 2, "tool_calls": 1,
              "prompt_tokens": 2700, "completion_tokens": 120})
        return 0
    emit({"type": "done", "success": False, "reason": "gave up", "turns": 1, "tool_calls": 0,
          "prompt_tokens": 1200, "completion_tokens": 80})
    return 1


if __name__ == "__main__":
    sys.exit(main())
