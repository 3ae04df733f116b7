"""`smallcode run` with the real Qwen2.5-Coder-1.5B on llama-server fixes a failing test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.real_model


@pytest.fixture(scope="module")
def real_server():
    from smallcode.core.model.embedded import EmbeddedServer, installed_model, llama_server_path

    model = installed_model("1.5b")
    if model is None or not llama_server_path().exists():
        pytest.skip("embedded 1.5B model not installed (smallcode model install)")
    with EmbeddedServer(model, ctx=16384, parallel=1) as srv:
        yield srv


def test_real_model_fixes_failing_test(tmp_path: Path, real_server) -> None:
    src = Path(__file__).resolve().parents[2] / "examples" / "buggy-calc"
    for f in src.iterdir():
        (tmp_path / f.name).write_text(f.read_text())
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "smallcode.cli.main", "-C", str(tmp_path), "run", "--yes", "--json",
         "--base-url", real_server.base_url, "test_add fails, fix it"],
        capture_output=True, text=True, timeout=900, check=False,
        env={**os.environ, "SMALLCODE_MODEL__TEMPERATURE": "0"})
    wall = time.perf_counter() - started
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    print(f"real-model run: {wall:.1f}s, exit {proc.returncode}, "
          f"{[e['name'] for e in events if e['type'] == 'tool_call']}")
    check = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                           cwd=tmp_path, capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + "\n" + proc.stdout[-3000:]
    done = [e for e in events if e["type"] == "done"]
    assert done and done[-1]["success"] is True
