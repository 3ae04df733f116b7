"""Fair admission of requests to backend slots.

Every user has a FIFO queue; when a slot frees, users with waiting requests are served
round-robin, so a user who floods the gateway gets one turn per round like everyone else.
Each backend has a fixed number of slots (a llama.cpp server's ``-np``); a user has a concurrency
cap. Queues are bounded: past the bound :meth:`FairScheduler.acquire` raises :class:`QueueFull`
with a ``Retry-After`` estimate instead of queueing without end. A waiting request that is
cancelled (its client went away) leaves the queue; a granted one is released.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self


class QueueFull(Exception):
    """The queue bound was reached; retry after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class Lease:
    """A granted slot on ``backend``; release it exactly once (``scheduler.release`` or ``with``)."""

    backend: str
    user: str
    granted_at: float
    waited_s: float
    _scheduler: FairScheduler | None = field(default=None, repr=False)
    released: bool = False

    def release(self) -> None:
        if self._scheduler is not None and not self.released:
            self._scheduler.release(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


@dataclass
class _Waiter:
    user: str
    limit: int
    prefer: str | None
    eligible: frozenset[str] | None
    enqueued: float
    spill_at: float
    future: asyncio.Future[Lease]


@dataclass
class _Backend:
    name: str
    slots: int
    busy: int = 0
    down_until: float = 0.0


class FairScheduler:
    """Round-robin across per-user queues onto per-backend slots."""

    def __init__(self, backends: dict[str, int], *, max_queue: int = 64,
                 max_queue_per_user: int = 16, affinity_wait_s: float = 2.0,
                 clock: Callable[[], float] = time.monotonic):
        if not backends:
            raise ValueError("the scheduler needs at least one backend")
        self._backends = {name: _Backend(name, slots) for name, slots in backends.items()}
        self.max_queue = max_queue
        self.max_queue_per_user = max_queue_per_user
        self.affinity_wait_s = affinity_wait_s
        self._clock = clock
        self._queues: dict[str, deque[_Waiter]] = {}
        self._order: deque[str] = deque()  # users with waiting requests, next turn first
        self._inflight: dict[str, int] = {}
        self._queued = 0
        self.peak_queued = 0
        self._hold_ewma = 1.0  # seconds a lease is held, for Retry-After estimates
        self.granted_total = 0
        self.rejected_total = 0

    # -- public ---------------------------------------------------------------------------
    @property
    def total_slots(self) -> int:
        return sum(b.slots for b in self._backends.values())

    @property
    def queued(self) -> int:
        return self._queued

    def retry_after(self) -> int:
        """Seconds a rejected client should wait: the time to drain the queue at today's pace."""
        waves = (self._queued + 1) / max(1, self.total_slots)
        return max(1, math.ceil(waves * self._hold_ewma))

    async def acquire(self, user: str, *, limit: int, prefer: str | None = None,
                      eligible: frozenset[str] | None = None) -> Lease:
        """Wait for a slot for ``user`` (at most ``limit`` of theirs at once); FIFO per user."""
        queue = self._queues.get(user)
        waiting_for_user = len(queue) if queue else 0
        if self._queued >= self.max_queue or waiting_for_user >= self.max_queue_per_user \
                or self._over_fair_share(user, waiting_for_user):
            free_now = (not waiting_for_user and self._inflight.get(user, 0) < limit
                        and self._free_backend(prefer, eligible, spill=True) is not None)
            if not free_now:
                self.rejected_total += 1
                scope = "gateway" if self._queued >= self.max_queue else f"user {user}"
                raise QueueFull(f"queue full for {scope} ({self._queued} waiting); retry later",
                                self.retry_after())
        loop = asyncio.get_running_loop()
        now = self._clock()
        waiter = _Waiter(user=user, limit=limit, prefer=prefer, eligible=eligible, enqueued=now,
                         spill_at=now + self.affinity_wait_s, future=loop.create_future())
        if queue is None:
            queue = self._queues[user] = deque()
        if not queue:
            self._order.append(user)
        queue.append(waiter)
        self._queued += 1
        self.peak_queued = max(self.peak_queued, self._queued)
        self._dispatch()
        if not waiter.future.done() and prefer is not None:
            loop.call_later(self.affinity_wait_s + 0.001, self._dispatch)
        try:
            return await waiter.future
        except asyncio.CancelledError:
            if waiter.future.done() and not waiter.future.cancelled():
                waiter.future.result().release()
            else:
                self._remove(waiter)
            raise

    def _over_fair_share(self, user: str, waiting_for_user: int) -> bool:
        """Once the queue is half full, nobody may hold more than an equal share of it, so a
        flooding user cannot fill the queue and lock the others out with 429s."""
        if self._queued < self.max_queue // 2:
            return False
        users = len(self._order) + (0 if user in self._queues else 1)
        return waiting_for_user >= max(1, math.ceil(self.max_queue / users))

    def release(self, lease: Lease) -> None:
        if lease.released:
            return
        lease.released = True
        backend = self._backends[lease.backend]
        backend.busy -= 1
        self._inflight[lease.user] -= 1
        if not self._inflight[lease.user]:
            del self._inflight[lease.user]
        held = max(0.0, self._clock() - lease.granted_at)
        self._hold_ewma = 0.8 * self._hold_ewma + 0.2 * held
        self._dispatch()

    def mark_down(self, backend: str, seconds: float) -> None:
        """Prefer other backends for ``seconds`` (it failed); used again when all are down."""
        self._backends[backend].down_until = self._clock() + seconds
        if seconds > 0:
            asyncio.get_running_loop().call_later(seconds + 0.001, self._dispatch)

    def mark_up(self, backend: str) -> None:
        self._backends[backend].down_until = 0.0
        self._dispatch()

    def is_down(self, backend: str) -> bool:
        return self._backends[backend].down_until > self._clock()

    def queued_by_user(self) -> dict[str, int]:
        return {u: len(q) for u, q in sorted(self._queues.items()) if q}

    def busy(self) -> dict[str, int]:
        return {b.name: b.busy for b in self._backends.values()}

    def snapshot(self) -> dict[str, Any]:
        return {
            "queued": self._queued,
            "max_queue": self.max_queue,
            "peak_queued": self.peak_queued,
            "queued_by_user": self.queued_by_user(),
            "inflight_by_user": dict(sorted(self._inflight.items())),
            "backends": {
                b.name: {"slots": b.slots, "busy": b.busy, "down": self.is_down(b.name)}
                for b in self._backends.values()
            },
            "granted_total": self.granted_total,
            "rejected_total": self.rejected_total,
        }

    # -- internals ------------------------------------------------------------------------
    def _remove(self, waiter: _Waiter) -> None:
        queue = self._queues.get(waiter.user)
        if queue is None or waiter not in queue:
            return
        queue.remove(waiter)
        self._queued -= 1
        if not queue:
            del self._queues[waiter.user]
            self._order.remove(waiter.user)
        self._dispatch()

    def _free_backend(self, prefer: str | None, eligible: frozenset[str] | None,
                      spill: bool) -> str | None:
        now = self._clock()
        candidates = [b for b in self._backends.values()
                      if eligible is None or b.name in eligible]
        healthy = [b for b in candidates if b.down_until <= now]
        pool = healthy or candidates  # all down: still try, so the client gets a real error
        if prefer is not None:
            chosen = next((b for b in pool if b.name == prefer), None)
            if chosen is not None:
                if chosen.busy < chosen.slots:
                    return chosen.name
                if not spill:
                    return None
        free = [b for b in pool if b.busy < b.slots]
        if not free:
            return None
        return max(free, key=lambda b: (b.slots - b.busy) / b.slots).name

    def _dispatch(self) -> None:
        granted = True
        while granted and self._order:
            granted = False
            for _ in range(len(self._order)):
                user = self._order[0]
                self._order.rotate(-1)
                queue = self._queues[user]
                waiter = queue[0]
                if waiter.future.done():  # cancelled while queued; drop it
                    queue.popleft()
                    self._queued -= 1
                    if not queue:
                        del self._queues[user]
                        self._order.remove(user)
                    granted = True
                    break
                if self._inflight.get(user, 0) >= waiter.limit:
                    continue
                name = self._free_backend(waiter.prefer, waiter.eligible,
                                          spill=self._clock() >= waiter.spill_at)
                if name is None:
                    continue
                queue.popleft()
                self._queued -= 1
                if not queue:
                    del self._queues[user]
                    self._order.remove(user)
                self._grant(waiter, name)
                granted = True
                break

    def _grant(self, waiter: _Waiter, name: str) -> None:
        now = self._clock()
        self._backends[name].busy += 1
        self._inflight[waiter.user] = self._inflight.get(waiter.user, 0) + 1
        self.granted_total += 1
        waiter.future.set_result(Lease(backend=name, user=waiter.user, granted_at=now,
                                       waited_s=now - waiter.enqueued, _scheduler=self))
