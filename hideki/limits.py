"""Per-user and global rate limits (sliding one-minute windows), memory-bounded."""
from __future__ import annotations

import time
from collections import OrderedDict, deque
from typing import Callable

WINDOW_S = 60.0


class RateLimiter:
    def __init__(self, per_user: int, overall: int, max_users: int = 50_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_user = per_user  # messages per user per minute (0: no limit)
        self.overall = overall  # messages per minute for the whole bot (0: no limit)
        self._users: OrderedDict[str, deque[float]] = OrderedDict()
        self._all: deque[float] = deque()
        self._max_users = max_users
        self._clock = clock

    def check(self, user: str) -> tuple[str, float] | None:
        """None if the message may go on; else (scope, seconds to wait), scope "user" or "global"."""
        now = self._clock()
        if self.overall:
            _expire(self._all, now)
            if len(self._all) >= self.overall:
                return "global", self._all[0] + WINDOW_S - now
        if self.per_user:
            times = self._users.pop(user, None) or deque()
            _expire(times, now)
            self._users[user] = times  # most recent last
            if len(self._users) > self._max_users:
                self._users.popitem(last=False)
            if len(times) >= self.per_user:
                return "user", times[0] + WINDOW_S - now
            times.append(now)
        if self.overall:
            self._all.append(now)
        return None


def _expire(times: deque[float], now: float) -> None:
    while times and times[0] <= now - WINDOW_S:
        times.popleft()
