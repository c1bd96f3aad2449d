"""A bounded background runner: acknowledge at once, work later, never hold unbounded work.

Jobs start as soon as they are accepted (so the user sees "作成中…" at once) and take one of
`concurrency` slots for the heavy part. At most `max_pending` jobs exist at a time; beyond that
`try_submit` refuses and the caller says the bot is busy.
"""
from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator, Awaitable, Callable

from hideki.logs import correlation_id

log = logging.getLogger(__name__)


class JobRunner:
    def __init__(self, concurrency: int, max_pending: int) -> None:
        self._slots = asyncio.Semaphore(concurrency)
        self._max_pending = max_pending
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False

    @property
    def closing(self) -> bool:
        return self._closing

    @property
    def pending(self) -> int:
        return len(self._tasks)

    @property
    def has_room(self) -> bool:
        """Whether `try_submit` would accept a job now."""
        return not self._closing and len(self._tasks) < self._max_pending

    def try_submit(self, job: Callable[[], Awaitable[None]], name: str = "job") -> bool:
        if not self.has_room:
            return False
        task = asyncio.get_running_loop().create_task(self._guard(job, name), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    def submit(self, job: Callable[[], Awaitable[None]], cid: str) -> bool:
        """`try_submit` for the work on one message: it runs (and logs) under the message's correlation id.
        False, with a warning, when the runner is full."""
        async def with_cid() -> None:
            correlation_id.set(cid)
            await job()

        accepted = self.try_submit(with_cid, name=f"reply-{cid}")
        if not accepted:
            log.warning("runner full; message refused", extra={"pending": self.pending})
        return accepted

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self._slots:
            yield

    async def _guard(self, job: Callable[[], Awaitable[None]], name: str) -> None:
        try:
            await job()
        except asyncio.CancelledError:
            raise
        except Exception:  # a job must never take the runner down
            log.exception("background job failed", extra={"job": name})

    async def close(self, grace_s: float) -> int:
        """Stop taking jobs; let running ones finish for `grace_s`, then cancel. Returns how many were cancelled."""
        self._closing = True
        if not self._tasks:
            return 0
        _, still = await asyncio.wait(set(self._tasks), timeout=grace_s)
        for task in still:
            task.cancel()
        if still:
            await asyncio.wait(still, timeout=5)
        return len(still)
