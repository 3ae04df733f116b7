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


def test_real_model_runs_a_multi_file_rename_as_a_parallel_plan(tmp_path: Path,
                                                                 real_server) -> None:
    """Issue #9's evidence: a rename used in 4 files plus one independent change, planned from
    the message, run as one batch of two parallel steps, tests green at the end."""
    import shutil

    suite = Path(__file__).resolve().parents[2] / "core/bench/suites/dev/py-rename-function"
    shutil.copytree(suite / "repo", tmp_path, dirs_exist_ok=True)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    task = ("Rename calc_total to compute_total everywhere (the definition, its callers and the "
            "tests). Also add a line 'compute_total replaces calc_total' to NOTES.md.")
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "smallcode.cli.main", "-C", str(tmp_path), "run", "--yes", "--json",
         "--base-url", real_server.base_url, task],
        capture_output=True, text=True, timeout=900, check=False,
        env={**os.environ, "SMALLCODE_MODEL__TEMPERATURE": "0"})
    wall = time.perf_counter() - started
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    notices = [e["message"] for e in events if e["type"] == "notice"]
    print(f"real-model plan run: {wall:.1f}s, exit {proc.returncode}, "
          f"{[(e['step'], e['name']) for e in events if e['type'] == 'tool_call']}")
    assert "plan batches: batch 1: steps 1, 2" in notices, proc.stdout[-3000:]
    assert {e["step"] for e in events if e["type"] == "tool_call"} == {1, 2}
    check = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                           cwd=tmp_path, capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + "\n" + proc.stdout[-3000:]
    rename = subprocess.run([sys.executable, str(suite / "hidden" / "check_rename.py")],
                            cwd=tmp_path, capture_output=True, text=True, check=False)
    assert rename.returncode == 0, rename.stderr
    assert "compute_total" in (tmp_path / "NOTES.md").read_text()
    done = [e for e in events if e["type"] == "done" and e["step"] is None]
    assert done and done[-1]["success"] is True and done[-1]["reason"] == "plan completed"
