"""`smallcode run` attached to a running `smallcode serve` uses serve's actors: the project's
indexer (kept fresh by watchfiles), its memory store and the step workers. Real processes, real
Ray, the scripted model behind the gateway."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.gateway.test_serve_cli import _free_port, _smallcode
from tests.plan.scripted_steps import StepScript, fenced, finish, write
from tests.plan.test_derive import RENAME_REPO, TASK
from tests.support.scripted_server import ScriptedServer

pytestmark = pytest.mark.ray


# runs in its own process: the test process may already be connected to another Ray
WATCH_PROBE = r"""
import json, sys, time
from pathlib import Path
from smallcode.actors.runtime import connect, get_actor, read_serve_state
from smallcode.actors.indexer import IndexerClient, indexer_name
state = read_serve_state()
connect(state["ray_address"], namespace=state["namespace"])
root = Path(sys.argv[1])
graph = IndexerClient(get_actor(indexer_name(root), state["namespace"]))
before = graph.resolve_symbol_files("brand_new_function")
(root / "added_later.py").write_text("def brand_new_function():\n    return 1\n")
start = time.monotonic()
while time.monotonic() - start < 20:
    found = graph.resolve_symbol_files("brand_new_function")
    if found:
        break
    time.sleep(0.02)
print(json.dumps({"before": before, "found": found, "seconds": time.monotonic() - start}))
"""


def _script(new: str) -> StepScript:
    return StepScript({
        1: [fenced("rename_symbol", {"old": "calc_total", "new": new}), finish()],
        2: [write("NOTES.md", f"{new} replaces calc_total\n"), finish()],
    })


def test_two_runs_attached_to_serve_use_their_own_indexer_its_memory_and_step_workers(
        tmp_path: Path):
    """Two users, two projects, one serve, at the same time."""
    names = {"proj-a": "compute_total", "proj-b": "sum_of_items"}
    for folder in names:
        shutil.copytree(RENAME_REPO, tmp_path / folder)
    project = tmp_path / "proj-a"
    env = {**os.environ, "SMALLCODE_CACHE_DIR": str(tmp_path / "cache"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "SMALLCODE_MODEL__DETECT_LOCAL": "false",
           "SMALLCODE_SOLVE__ENABLED": "false"}
    scripts = {new: _script(new) for new in names.values()}

    def reply(body: dict):  # each project's steps get their own script
        text = json.dumps(body.get("messages"))
        if "discounted(" in text:  # the solve-path run: a whole file back
            return "discount.py\n```python\ndef discounted(price):\n    return price * 0.9\n```\n"
        return next((sc(body) for new, sc in scripts.items() if new in text), finish())

    port = _free_port()
    log = tmp_path / "serve.log"
    with ScriptedServer(default=reply) as backend, log.open("w") as log_file:
        serve = subprocess.Popen(
            [sys.executable, "-m", "smallcode.cli.main", "-C", str(project), "serve",
             "--backend", f"llama={backend.base_url},slots=2", "--port", str(port),
             "--num-cpus", "2", "--project", str(project), "--json"],
            env=env, stdout=subprocess.PIPE, stderr=log_file, text=True)
        try:
            line = serve.stdout.readline()
            assert line, f"serve exited early: {log.read_text()[-2000:]}"
            url = json.loads(line)["url"]
            runs = {folder: subprocess.Popen(
                [sys.executable, "-m", "smallcode.cli.main", "-C", str(tmp_path / folder), "run",
                 "--yes", "--json", TASK.replace("compute_total", new)], env=env,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for folder, new in names.items()}
            for folder, run in runs.items():
                _, err = run.communicate(timeout=180)
                assert run.returncode == 0, (folder, err[-3000:])
                assert "code graph: serve's indexer actor" in err
                assert "project memory: serve's memory actor" in err
                root, new = tmp_path / folder, names[folder]
                for rel in ("billing/totals.py", "billing/invoice.py", "tests/test_billing.py"):
                    text = (root / rel).read_text()
                    assert "calc_total" not in text and new in text
                assert (root / "NOTES.md").read_text() == f"{new} replaces calc_total\n"

            metrics = httpx.get(url.removesuffix("/v1") + "/metrics", timeout=10).text
            counted: dict[str, dict[str, int]] = {}
            for m in re.finditer(r'smallcode_actor_calls_total\{([^}]*)\} (\S+)', metrics):
                labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
                counted.setdefault(labels.get("actor", "?"), {})[labels["kind"]] = int(
                    float(m.group(2)))
            print("actor calls per run:", counted)
            assert len(counted) == 2  # one source per run
            for calls in counted.values():
                assert calls.get("indexer", 0) >= 1 and calls.get("memory", 0) >= 1
                assert calls.get("step_worker", 0) == 2  # each plan's two steps

            # an edit task on the solve path: its candidates are checked on the step workers
            solve_root = tmp_path / "proj-b"
            (solve_root / "discount.py").write_text("def discounted(price):\n"
                                                    "    return price * 0.8\n")
            solved = subprocess.run(
                [sys.executable, "-m", "smallcode.cli.main", "-C", str(solve_root), "run",
                 "--yes", "--json", "discounted(100) returns 80.0 but should return 90.0"],
                env={**env, "SMALLCODE_SOLVE__ENABLED": "true"}, capture_output=True,
                text=True, timeout=180, check=False)
            assert solved.returncode == 0, solved.stderr[-3000:]
            assert "price * 0.9" in (solve_root / "discount.py").read_text()
            metrics = httpx.get(url.removesuffix("/v1") + "/metrics", timeout=10).text
            now: dict[str, dict[str, float]] = {}
            for m in re.finditer(r'smallcode_actor_calls_total\{([^}]*)\} (\S+)', metrics):
                labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
                now.setdefault(labels.get("actor", "?"), {})[labels["kind"]] = float(m.group(2))
            (new_source,) = set(now) - set(counted)
            checks = now[new_source].get("step_worker", 0)
            assert checks >= 1, now  # its candidates were checked on the step workers

            status = _smallcode("status", "--json", env=env)
            actors = [a["name"] for a in json.loads(status.stdout)["actors"]]
            assert len([a for a in actors if "indexer" in a]) == 2, actors  # one per project

            probe = subprocess.run([sys.executable, "-c", WATCH_PROBE, str(project)], env=env,
                                   capture_output=True, text=True, timeout=120, check=False)
            assert probe.returncode == 0, probe.stderr[-2000:]
            seen = json.loads(probe.stdout.strip().splitlines()[-1])
            print(f"a file written behind the run's back was in serve's graph after "
                  f"{seen['seconds']:.2f} s")
            assert seen["before"] == [] and seen["found"] == ["added_later.py"]
        finally:
            stopped = _smallcode("stop", env=env)
            if serve.poll() is None:
                try:
                    serve.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    serve.kill()
                    serve.wait()
    assert stopped.returncode == 0, stopped.stderr[-2000:]
