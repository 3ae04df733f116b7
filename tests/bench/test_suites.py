"""Self-check of the shipped suites: every task's verify fails on the untouched repo and passes on
the reference solution (both with ``hidden/`` copied in), so every oracle can tell the two apart."""

from __future__ import annotations

import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from smallcode.core.bench.tasks import (
    BenchTask,
    VerifyResult,
    list_suites,
    load_suite,
    prepare_workspace,
    run_verify,
)

SUITES = {info.name: load_suite(info.path) for info in list_suites()}
ALL_TASKS: list[BenchTask] = [t for s in SUITES.values() for t in s.tasks]


def _check(task: BenchTask, with_solution: bool) -> VerifyResult:
    with tempfile.TemporaryDirectory(prefix=f"bench-selfcheck-{task.id}-") as tmp:
        work = prepare_workspace(task, Path(tmp) / "w", with_solution=with_solution, git=False)
        return run_verify(task, work)


def _same_files(task: BenchTask) -> tuple[object, ...]:
    """What a verification depends on: a paraphrase task shares all of it with its dev task
    (checked by test_paraphrase_suites_reword_the_same_dev_tasks), so it is run once."""
    return (task.files_dir, task.verify, task.solution_removes, task.verify_timeout)


@pytest.fixture(scope="module")
def verdicts() -> dict[tuple[str, bool], VerifyResult]:
    """All verifications at once on a small thread pool (each one is a subprocess); tasks that
    differ only in their instruction share one run."""
    first: dict[tuple[object, ...], BenchTask] = {}
    for t in ALL_TASKS:
        first.setdefault(_same_files(t), t)
    jobs = [(t, sol) for t in first.values() for sol in (False, True)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda job: _check(*job), jobs))
    ran = {(_same_files(t), sol): r for (t, sol), r in zip(jobs, results, strict=True)}
    return {(t.id, sol): ran[(_same_files(t), sol)] for t in ALL_TASKS for sol in (False, True)}


def test_shipped_suites_have_the_promised_sizes() -> None:
    assert set(SUITES) >= {"smoke", "dev"}
    assert len(SUITES["smoke"].tasks) == 5
    assert len(SUITES["dev"].tasks) >= 40


def test_dev_suite_covers_every_kind_of_task() -> None:
    dev = SUITES["dev"].tasks
    categories = {t.category for t in dev}
    assert categories == {"bugfix", "feature", "rename", "threading", "config", "shell",
                          "question", "search"}
    assert {"python", "javascript"} <= {t.language for t in dev}


def test_paraphrase_suites_reword_the_same_dev_tasks() -> None:
    """para-terse and para-report: only the instruction differs from the dev task they name."""
    dev = {t.id: t for t in SUITES["dev"].tasks}
    bases = {}
    for name, suffix in (("para-terse", "-terse"), ("para-report", "-report")):
        tasks = SUITES[name].tasks
        assert len(tasks) >= 20
        for t in tasks:
            suite, base_id = (t.base or "").split("/")
            assert suite == "dev" and t.id == base_id + suffix
            orig = dev[base_id]
            assert (t.verify, t.category, t.repo_dir) == (orig.verify, orig.category, orig.repo_dir)
            assert t.instruction != orig.instruction
        bases[name] = {t.base for t in tasks}
    assert bases["para-terse"] == bases["para-report"]


def test_task_ids_are_unique_across_suites() -> None:
    ids = [t.id for t in ALL_TASKS]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("task", ALL_TASKS, ids=[t.id for t in ALL_TASKS])
def test_verify_fails_on_the_untouched_repo(task: BenchTask, verdicts) -> None:
    result = verdicts[(task.id, False)]
    assert not result.timed_out, f"verify timed out on the untouched repo:\n{result.output}"
    assert not result.passed, f"verify passes without any change:\n{result.output}"


@pytest.mark.parametrize("task", ALL_TASKS, ids=[t.id for t in ALL_TASKS])
def test_verify_passes_on_the_reference_solution(task: BenchTask, verdicts) -> None:
    result = verdicts[(task.id, True)]
    assert result.passed, f"verify fails on the reference solution:\n{result.output}"


@pytest.mark.parametrize("task", ALL_TASKS, ids=[t.id for t in ALL_TASKS])
def test_every_task_ships_a_reference_solution(task: BenchTask) -> None:
    assert task.solution_dir.is_dir() or task.solution_removes
    assert task.instruction and task.verify


def test_every_suite_file_is_shipped_as_package_data() -> None:
    """setup.py's package_data globs must match every file (glob's ** skips dot-folders)."""
    import ast
    import glob
    import os

    from smallcode.core.bench.tasks import SUITES_DIR

    repo = Path(__file__).resolve().parents[2]
    tree = ast.parse((repo / "setup.py").read_text())
    patterns = next(ast.literal_eval(kw.value)["smallcode.core"] for node in ast.walk(tree)
                    if isinstance(node, ast.Call) for kw in node.keywords
                    if kw.arg == "package_data")
    core = SUITES_DIR.parents[1]
    shipped = {os.path.normpath(f) for p in patterns
               for f in glob.glob(str(core / p), recursive=True) if os.path.isfile(f)}
    on_disk = {os.path.normpath(os.path.join(root, f)) for root, dirs, files in os.walk(SUITES_DIR)
               for f in files if "__pycache__" not in root}
    assert sorted(on_disk - shipped) == []
