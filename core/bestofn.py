"""Oracle-verified best-of-N.

When a change can be checked by tests, try up to N candidates, each starting from the same
checkpoint, and keep the first whose oracle passes. Off by default (``settings.agent.best_of_n``
is 1). The caller supplies ``attempt(i)``: run candidate ``i`` (typically a fresh copy of the
conversation, at a higher temperature for ``i > 0``), apply its edits through the normal tools
(which record into the open checkpoint), run the oracle, and return whether it passed.

Between attempts the workspace is restored to the checkpoint with
:meth:`SnapshotStore.restore`, so every candidate sees exactly the files the first one saw
(including deletion of files an earlier candidate created).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

from smallcode.core.snapshots import SnapshotStore

log = logging.getLogger(__name__)


@dataclass
class BestOfNResult:
    """How the candidates went. ``winner`` is the index of the kept candidate, if any."""

    passed: bool
    winner: int | None
    attempts: int
    failures: list[str] = field(default_factory=list)  # one line per candidate that did not pass


async def best_of_n(
    n: int,
    attempt: Callable[[int], Awaitable[bool]],
    snapshots: SnapshotStore | None,
    checkpoint: str | None,
    *,
    on_failure: Literal["keep_last", "restore"] = "keep_last",
) -> BestOfNResult:
    """Run up to ``n`` candidates from ``checkpoint``; keep the first whose oracle passes.

    A candidate that raises counts as failed (cancellation still propagates). When none pass,
    ``on_failure="keep_last"`` leaves the last candidate's changes for the caller's normal failure
    path (auto-rollback, escalation); ``"restore"`` puts the checkpoint back.
    """
    if n < 1:
        raise ValueError("best_of_n needs at least one candidate")
    if n > 1 and (snapshots is None or checkpoint is None):
        raise ValueError("best_of_n with more than one candidate needs snapshots and a checkpoint")
    failures: list[str] = []
    for i in range(n):
        if i > 0:
            assert snapshots is not None and checkpoint is not None
            report = snapshots.restore(checkpoint, force=True)
            log.info("best-of-%d: candidate %d starts from %s (%d files put back)", n, i + 1,
                     checkpoint, len(report.restored) + len(report.deleted))
        try:
            ok = await attempt(i)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a broken candidate is a failed candidate
            ok = False
            failures.append(f"candidate {i + 1}: {type(exc).__name__}: {exc}")
        else:
            if not ok:
                failures.append(f"candidate {i + 1}: the oracle failed")
        if ok:
            return BestOfNResult(passed=True, winner=i, attempts=i + 1, failures=failures)
    if on_failure == "restore" and snapshots is not None and checkpoint is not None:
        snapshots.restore(checkpoint, force=True)
    return BestOfNResult(passed=False, winner=None, attempts=n, failures=failures)


__all__ = ["BestOfNResult", "best_of_n"]
