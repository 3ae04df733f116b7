"""FairScheduler: slots per backend, round-robin across users, bounds, cancellation, affinity."""

from __future__ import annotations

import asyncio

import pytest
from smallcode.gateway import FairScheduler, QueueFull


async def _settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


async def test_grants_up_to_the_backend_slots_then_queues():
    s = FairScheduler({"a": 2}, max_queue=10)
    leases = [await s.acquire("u", limit=10) for _ in range(2)]
    third = asyncio.create_task(s.acquire("u", limit=10))
    await _settle()
    assert not third.done() and s.queued == 1
    leases[0].release()
    lease = await asyncio.wait_for(third, 1)
    assert lease.backend == "a" and s.queued == 0
    assert s.snapshot()["backends"] == {"a": {"slots": 2, "busy": 2, "down": False}}


async def test_users_are_served_round_robin_not_first_come():
    s = FairScheduler({"a": 1}, max_queue=50, max_queue_per_user=50)
    first = await s.acquire("heavy", limit=10)
    order: list[str] = []

    async def one(user: str) -> None:
        lease = await s.acquire(user, limit=10)
        order.append(user)
        lease.release()

    tasks = [asyncio.create_task(one("heavy")) for _ in range(6)]
    await _settle()
    tasks += [asyncio.create_task(one("light")) for _ in range(2)]
    tasks += [asyncio.create_task(one("other")) for _ in range(2)]
    await _settle()
    first.release()
    await asyncio.gather(*tasks)
    assert order == ["heavy", "light", "other", "heavy", "light", "other",
                     "heavy", "heavy", "heavy", "heavy"]


async def test_per_user_concurrency_limit_lets_others_through():
    s = FairScheduler({"a": 4}, max_queue=10)
    mine = [await s.acquire("greedy", limit=2) for _ in range(2)]
    blocked = asyncio.create_task(s.acquire("greedy", limit=2))
    await _settle()
    other = await asyncio.wait_for(s.acquire("polite", limit=2), 1)
    assert not blocked.done()
    mine[0].release()
    assert (await asyncio.wait_for(blocked, 1)).user == "greedy"
    other.release()


async def test_queue_bounds_raise_queue_full_with_retry_after():
    s = FairScheduler({"a": 1}, max_queue=2, max_queue_per_user=1)
    await s.acquire("u1", limit=5)
    waiting = asyncio.create_task(s.acquire("u1", limit=5))
    await _settle()
    with pytest.raises(QueueFull) as per_user:
        await s.acquire("u1", limit=5)
    assert "user u1" in str(per_user.value) and per_user.value.retry_after >= 1
    other = asyncio.create_task(s.acquire("u2", limit=5))
    await _settle()
    with pytest.raises(QueueFull) as total:
        await s.acquire("u3", limit=5)
    assert "gateway" in str(total.value)
    assert s.snapshot()["rejected_total"] == 2 and s.queued == 2
    waiting.cancel()
    other.cancel()


async def test_cancelled_waiter_leaves_the_queue_and_the_slot_goes_to_the_next():
    s = FairScheduler({"a": 1}, max_queue=5)
    held = await s.acquire("u", limit=5)
    gone = asyncio.create_task(s.acquire("x", limit=5))
    stays = asyncio.create_task(s.acquire("y", limit=5))
    await _settle()
    gone.cancel()
    await _settle()
    assert s.queued == 1
    held.release()
    assert (await asyncio.wait_for(stays, 1)).user == "y"


async def test_cancel_after_grant_releases_the_slot():
    s = FairScheduler({"a": 1}, max_queue=5)
    held = await s.acquire("u", limit=5)
    racer = asyncio.create_task(s.acquire("v", limit=5))
    await _settle()
    held.release()  # grants racer's future...
    racer.cancel()  # ...but it is cancelled before it runs
    await _settle()
    assert s.snapshot()["backends"]["a"]["busy"] == 0
    assert (await s.acquire("w", limit=5)).backend == "a"


async def test_affinity_waits_for_the_preferred_backend_then_spills():
    s = FairScheduler({"a": 1, "b": 1}, max_queue=5, affinity_wait_s=0.2)
    held_a = await s.acquire("u", limit=5, prefer="a")
    assert held_a.backend == "a"
    waits = asyncio.create_task(s.acquire("u", limit=5, prefer="a"))
    await asyncio.sleep(0.05)
    assert not waits.done()  # b is free, but the conversation's cache is on a
    held_a.release()
    second = await asyncio.wait_for(waits, 1)
    assert second.backend == "a"
    second.release()
    held = await s.acquire("u", limit=5, prefer="a")
    spills = asyncio.create_task(s.acquire("u", limit=5, prefer="a"))
    lease = await asyncio.wait_for(spills, 1)
    assert lease.backend == "b" and lease.waited_s >= 0.19
    held.release()


async def test_down_backend_is_avoided_but_used_when_all_are_down():
    s = FairScheduler({"a": 2, "b": 2}, max_queue=5)
    s.mark_down("a", 30)
    assert {(await s.acquire("u", limit=9)).backend for _ in range(2)} == {"b"}
    s.mark_down("b", 30)
    assert (await s.acquire("u", limit=9)).backend == "a"


async def test_eligible_backends_restrict_the_choice():
    s = FairScheduler({"a": 4, "b": 4}, max_queue=5)
    picks = {(await s.acquire("u", limit=9, eligible=frozenset({"b"}))).backend for _ in range(3)}
    assert picks == {"b"}
