"""Where a candidate is checked: a throw-away copy of the workspace with the candidate's files
written over it, and the oracle run there.

:class:`LocalChecker` does it in this process (a thread per check), the default of an embedded
session. Under `smallcode serve` the session's ``Services.candidate_checker`` is serve's pool of
step workers (:class:`smallcode.actors.step_worker.RayStepRunner`), whose ``check`` runs
:func:`check_in_copy` in a worker process: the candidates of one round are checked side by side
on the workers several users share. Both answer the :class:`CandidateChecker` protocol, which is
all :class:`~smallcode.core.solve.solver.Solver` sees.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from .oracle import CheckResult, Oracle

SCRATCH_IGNORE = (".git", ".smallcode", "node_modules", "__pycache__", ".venv", "venv",
                  ".mypy_cache", ".pytest_cache", ".ruff_cache")


class CandidateChecker(Protocol):
    async def check(self, root: Path, files: dict[str, str], oracle: Oracle) -> CheckResult:
        """The oracle's verdict on ``root`` with ``files`` (relative path -> text) laid over it;
        ``root`` itself is never written."""
        ...


@contextlib.contextmanager
def scratch_copy(root: Path, files: dict[str, str]) -> Iterator[Path]:
    """A throw-away copy of ``root`` with ``files`` written over it, removed afterwards."""
    scratch = Path(tempfile.mkdtemp(prefix="smallcode-candidate-"))
    try:
        copy = scratch / "ws"
        shutil.copytree(root, copy, ignore=shutil.ignore_patterns(*SCRATCH_IGNORE), symlinks=True)
        for rel, text in files.items():
            path = copy / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        yield copy
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def check_in_copy(root: Path, files: dict[str, str], oracle: Oracle) -> CheckResult:
    """Run ``oracle`` on a scratch copy of ``root`` with ``files`` applied (blocking)."""
    with scratch_copy(Path(root), files) as copy:
        return oracle.check(copy, list(files))


class LocalChecker:
    """Checks candidates in this process, each in a thread."""

    async def check(self, root: Path, files: dict[str, str], oracle: Oracle) -> CheckResult:
        return await asyncio.to_thread(check_in_copy, root, files, oracle)


__all__ = ["SCRATCH_IGNORE", "CandidateChecker", "LocalChecker", "check_in_copy", "scratch_copy"]
