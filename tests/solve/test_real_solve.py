"""The solve path with the real Qwen2.5-Coder-1.5B on a task that is often solved only by
choosing among candidates (the greedy first one tends to fail: asked to add a function, it writes
back only the new one, or misses the RangeError). Which samples pass differs between CPUs and
runs, so the test holds the harness to what it must do either way: the first passing candidate
is applied and the run exits 0; when none passes, it exits non-zero and keeps a try that passes
as many tests as the best candidate did."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.real_model

ARRAYS = "function flatten(arrays) {\n  return [].concat(...arrays);\n}\n\nmodule.exports = { flatten };\n"
TEST = """const test = require("node:test");
const assert = require("node:assert/strict");
const { chunk, flatten } = require("../arrays.js");

test("chunk splits into groups", () => {
  assert.deepEqual(chunk([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
});

test("chunk rejects a size below 1", () => {
  assert.throws(() => chunk([1], 0), RangeError);
});

test("flatten still works", () => {
  assert.deepEqual(flatten([[1], [2, 3]]), [1, 2, 3]);
});
"""


def test_real_model_candidates_are_checked_and_the_best_is_kept(tmp_path: Path, real_server) -> None:
    (tmp_path / "arrays.js").write_text(ARRAYS)
    (tmp_path / "test").mkdir()
    (tmp_path / "test" / "arrays.test.js").write_text(TEST)
    start = _passing(tmp_path)  # flatten's test passes before any change
    task = ("Add a chunk(array, size) function to arrays.js (and export it) that splits an array "
            "into groups of `size`; the last group may be shorter. Throw a RangeError if size is "
            "less than 1.")
    proc = subprocess.run(
        [sys.executable, "-m", "smallcode.cli.main", "-C", str(tmp_path), "run", "--yes",
         "--json", "--base-url", real_server.base_url, task],
        capture_output=True, text=True, timeout=1200, check=False,
        # sampled candidates differ between CPUs and runs even with a fixed seed (the prompt
        # cache's batch splits change the logits' last bits): four a round and one round of
        # feedback within 150 s, and the assertions below hold whichever of them pass
        env={**os.environ, "SMALLCODE_MODEL__DETECT_LOCAL": "false",
             "SMALLCODE_SOLVE__CANDIDATES": "4", "SMALLCODE_SOLVE__REFINE_ROUNDS": "1",
             "SMALLCODE_SOLVE__TIME_BUDGET": "150"})
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    # the verdicts ("candidate 2 (whole, temperature 0.7): ..."), not the notes on a candidate
    # ("candidate 1: kept flatten exported in arrays.js")
    verdicts = [e["message"] for e in events
                if e["type"] == "notice" and re.match(r"candidate \d+ \(", e["message"])]
    print("\n".join(verdicts))
    assert verdicts, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert verdicts[0].startswith("candidate 1 (whole, temperature 0): ")
    done = next(e for e in events if e["type"] == "done")
    check = subprocess.run(["node", "--test", "test/"], cwd=tmp_path, capture_output=True,
                           text=True, check=False)
    if any("PASSES the oracle" in v for v in verdicts):
        # the first passing candidate is the one applied, and the run says it was checked
        assert done["success"] is True and done["verified"] == "tests", done["reason"]
        assert proc.returncode == 0
        assert check.returncode == 0, check.stdout[-2000:]
        assert "function flatten" in (tmp_path / "arrays.js").read_text()
        return
    # no sample solved it (candidates differ between CPUs and runs): the run must say so, exit
    # non-zero, and keep a try that passes as many tests as the best of them did -- of those
    # that break no test passing at the start (one that does is never kept: the file stays as
    # it was, with its passing tests)
    assert done["success"] is False and proc.returncode != 0, done["reason"]
    best = max((int(m.group(1)) for v in verdicts if "passed before this change" not in v
                for m in [re.search(r"\((\d+) passed", v)] if m), default=0)
    assert _passing(tmp_path) == max(start, best), (verdicts, check.stdout[-2000:])


def _passing(root: Path) -> int:
    """How many of the project's node tests pass."""
    run = subprocess.run(["node", "--test", "test/"], cwd=root, capture_output=True, text=True,
                         check=False)
    kept = re.search(r"^# pass (\d+)", run.stdout, re.MULTILINE)
    assert kept, run.stdout[-2000:] + run.stderr[-2000:]
    return int(kept.group(1))
