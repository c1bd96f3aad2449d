"""The Redis connection shared by replicas, and how its users behave while it is away.

Rate limits (`hideki/state/ratelimit.py`) and conversation locks (`hideki/state/locks.py`) use Redis when `HIDEKI_REDIS_URL` is
set. Both fail open: while Redis cannot be reached they fall back to their in-process versions, so messages are
still answered. `Outage` keeps them from asking a dead server on every message and logs one warning per outage.
"""
from __future__ import annotations

import logging
import time
from typing import Callable

from redis.asyncio import Redis

log = logging.getLogger(__name__)

TIMEOUT_S = 1.0  # connect and command timeout: a message never waits long for an unreachable Redis
RETRY_AFTER_S = 5.0  # after a failure, Redis is tried again only after this long


def connect(url: str) -> Redis:
    """A pooled async client; no connection is made until the first command."""
    return Redis.from_url(url, socket_connect_timeout=TIMEOUT_S, socket_timeout=TIMEOUT_S, health_check_interval=30)


class Outage:
    """Remembers that Redis failed: `skip` is true for `retry_after_s` after a failure; logs going down and back."""

    def __init__(self, user: str, retry_after_s: float = RETRY_AFTER_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.user = user  # what falls back, for the log ("rate limits", "conversation locks")
        self.retry_after_s = retry_after_s
        self._clock = clock
        self._down = False
        self._retry_at = 0.0

    @property
    def down(self) -> bool:
        return self._down

    @property
    def skip(self) -> bool:
        return self._down and self._clock() < self._retry_at

    def failed(self, exc: Exception) -> None:
        if not self._down:
            log.warning("Redis unreachable: %s fall back to this process until it is back", self.user, extra={"error": repr(exc)})
        self._down = True
        self._retry_at = self._clock() + self.retry_after_s

    def succeeded(self) -> None:
        if self._down:
            log.info("Redis reachable again: %s are shared by the replicas again", self.user)
        self._down = False
