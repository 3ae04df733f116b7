"""Self-check of the edit-task suite: each task's verify fails on the untouched repo and passes
with the reference solution, and the agent sees the same tests that verify it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from smallcode.core.bench.tasks import load_suite, prepare_workspace, run_verify

SUITE_DIR = Path(__file__).parent / "tasks"
SUITE = load_suite(SUITE_DIR)


def test_suite_has_at_least_twenty_one_bug_tasks_of_varied_size():
    assert len(SUITE.tasks) >= 20
    sizes = []
    for task in SUITE.tasks:
        solution_files = [p for p in task.solution_dir.rglob("*") if p.is_file()]
        assert len(solution_files) == 1, f"{task.id}: one bug, one file"
        sizes.append(len(solution_files[0].read_text().splitlines()))
        assert 20 <= sizes[-1] <= 800, (task.id, sizes[-1])
    assert min(sizes) <= 30 and max(sizes) >= 700
    assert {t.language for t in SUITE.tasks} == {"python", "javascript"}


@pytest.mark.parametrize("task", SUITE.tasks, ids=[t.id for t in SUITE.tasks])
def test_verify_fails_on_the_repo_and_passes_with_the_solution(task, tmp_path):
    for rel in (p.relative_to(task.hidden_dir) for p in task.hidden_dir.rglob("*") if p.is_file()):
        assert (task.repo_dir / rel).read_bytes() == (task.hidden_dir / rel).read_bytes(), (
            f"{task.id}: repo/{rel} must equal hidden/{rel}")
    broken_dir = prepare_workspace(task, tmp_path / "broken", git=False)
    fixed_dir = prepare_workspace(task, tmp_path / "fixed", with_solution=True, git=False)
    with ThreadPoolExecutor(2) as pool:  # the two verify runs are independent processes
        broken, fixed = pool.map(lambda d: run_verify(task, d), [broken_dir, fixed_dir])
    assert not broken.passed, f"{task.id}: verify passes without a fix:\n{broken.output}"
    assert fixed.passed, f"{task.id}: verify fails with the solution:\n{fixed.output}"
