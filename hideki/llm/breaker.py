"""Protecting the LLM endpoint and ourselves: a concurrency cap with a bounded queue, and a circuit breaker.

The cap keeps at most `max_concurrency` calls in flight and at most `max_queue` waiting (backpressure instead
of unbounded memory); a call that cannot even queue fails at once with kind "busy". The breaker opens after
`failure_threshold` consecutive failures; while open, calls fail at once with kind "circuit_open" so that
pipelines answer with their offline engine instead of waiting for timeouts; after `cooldown_s` one trial call
is let through (half-open), and its success closes the breaker again.
"""
from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager
from typing import AsyncIterator, Callable


class Rejected(Exception):
    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class CircuitBreaker:
    def __init__(self, failure_threshold: int = 5, cooldown_s: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.failure_threshold = failure_threshold
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> str:
        if self._opened_at is None:
            return "closed"
        return "half_open" if self._clock() - self._opened_at >= self.cooldown_s else "open"

    def before_call(self) -> None:
        state = self.state
        if state == "open" or (state == "half_open" and self._trial_running):
            raise Rejected("circuit_open")
        if state == "half_open":
            self._trial_running = True

    def success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._trial_running = False

    def failure(self) -> None:
        self._trial_running = False
        self._failures += 1
        if self._opened_at is not None or self._failures >= self.failure_threshold:
            self._opened_at = self._clock()


class ConcurrencyCap:
    def __init__(self, max_concurrency: int, max_queue: int) -> None:
        self._slots = asyncio.Semaphore(max_concurrency)
        self._max_waiting = max_concurrency + max_queue
        self._holders = 0  # running + waiting

    @property
    def in_flight(self) -> int:
        return self._holders

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self._holders >= self._max_waiting:
            raise Rejected("busy")
        self._holders += 1
        try:
            async with self._slots:
                yield
        finally:
            self._holders -= 1
