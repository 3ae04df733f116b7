"""Token quotas per user over fixed windows (e.g. per day)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class QuotaExceeded(Exception):
    """The user spent their token quota; ``retry_after`` is seconds until the window resets."""

    def __init__(self, user: str, used: int, quota: int, retry_after: int):
        super().__init__(f"token quota of {quota} exhausted for user {user} ({used} used); "
                         f"resets in {retry_after} s")
        self.user = user
        self.retry_after = retry_after


class QuotaTracker:
    """Counts tokens per user in the current window of ``window_s`` seconds."""

    def __init__(self, window_s: float = 86400.0, clock: Callable[[], float] = time.time):
        self.window_s = window_s
        self._clock = clock
        self._used: dict[str, tuple[int, int]] = {}  # user -> (window index, tokens)

    def _window(self) -> int:
        return int(self._clock() // self.window_s)

    def used(self, user: str) -> int:
        window, tokens = self._used.get(user, (self._window(), 0))
        return tokens if window == self._window() else 0

    def check(self, user: str, quota: int | None) -> None:
        """Raise :class:`QuotaExceeded` if ``user`` has no tokens left in this window."""
        if quota is None:
            return
        used = self.used(user)
        if used >= quota:
            reset = (self._window() + 1) * self.window_s - self._clock()
            raise QuotaExceeded(user, used, quota, max(1, math.ceil(reset)))

    def record(self, user: str, tokens: int) -> None:
        if tokens <= 0:
            return
        window = self._window()
        self._used[user] = (window, self.used(user) + tokens)

    def snapshot(self) -> dict[str, int]:
        return {user: self.used(user) for user in sorted(self._used)}
