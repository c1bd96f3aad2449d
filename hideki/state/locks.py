"""Conversation locks: one job at a time per conversation, in this process or across replicas.

`async with locks.hold(key, ttl_s=…, timeout_s=…):` waits for the key, at most `timeout_s` (then `LockTimeout`).
In-process (`LocalLocks`) these are asyncio locks: first come, first served. With Redis (`RedisLocks`) the holder
also owns a Redis key (SET NX PX with a random token), renewed every ttl/3 while held and removed on release only if
it still carries that token; a holder that dies stops renewing, so its lock expires within `ttl_s`.
Order: waiters of one process queue FIFO behind a local lock, and only the first of them polls Redis; between
replicas there is no queue — whichever polls first after a release wins — so callers that need order take their
work from an ordered queue and use the lock only to exclude.
Redis unreachable: the lock falls back to the in-process one (fail open: answers go on, each replica excluding only
its own jobs), with a warning; see `hideki/state/redisconn.py`.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from hideki.state.redisconn import Outage, connect
from hideki.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_TTL_S = 30.0
DEFAULT_TIMEOUT_S = 60.0
MAX_POLL_S = 0.2  # longest pause between two attempts on a Redis lock held elsewhere


class LockTimeout(TimeoutError):
    def __init__(self, key: str, timeout_s: float) -> None:
        super().__init__(f"lock {key!r} still held by another job after {timeout_s:g} s")
        self.key = key


class ConversationLocks(Protocol):
    def hold(self, key: str, ttl_s: float = DEFAULT_TTL_S, timeout_s: float = DEFAULT_TIMEOUT_S) -> contextlib.AbstractAsyncContextManager[None]: ...

    async def close(self) -> None: ...


def open_locks(settings: Settings) -> ConversationLocks:
    url = settings.redis_url.get_secret_value()
    return RedisLocks(connect(url)) if url else LocalLocks()


@dataclass
class _Entry:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0  # holders and waiters; the entry goes when none is left


class LocalLocks:
    """asyncio locks by key, FIFO, forgotten when nobody holds or waits for them. `ttl_s` does not apply."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    @contextlib.asynccontextmanager
    async def hold(self, key: str, ttl_s: float = DEFAULT_TTL_S, timeout_s: float = DEFAULT_TIMEOUT_S) -> AsyncIterator[None]:
        entry = self._entries.setdefault(key, _Entry())
        entry.users += 1
        try:
            try:
                async with asyncio.timeout(timeout_s):
                    await entry.lock.acquire()
            except TimeoutError:
                raise LockTimeout(key, timeout_s) from None
            try:
                yield
            finally:
                entry.lock.release()
        finally:
            entry.users -= 1
            if not entry.users:
                del self._entries[key]

    async def close(self) -> None:
        return None


# Renew or release only the lock we hold (the token is ours); 0 means it was no longer ours.
_RENEW = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0"
_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


class RedisLocks:
    def __init__(self, redis: Redis, prefix: str = "hideki:lock:") -> None:
        self._redis = redis
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)
        self._prefix = prefix
        self._local = LocalLocks()
        self.outage = Outage("conversation locks")

    @contextlib.asynccontextmanager
    async def hold(self, key: str, ttl_s: float = DEFAULT_TTL_S, timeout_s: float = DEFAULT_TIMEOUT_S) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        async with self._local.hold(key, timeout_s=timeout_s):
            name = self._prefix + key
            token = await self._acquire(name, key, ttl_s, deadline, timeout_s)
            if token is None:  # Redis unreachable: the local lock alone
                yield
                return
            renewing = loop.create_task(self._keep(name, token, ttl_s), name=f"renew {name}")
            try:
                yield
            finally:
                renewing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await renewing
                await self._give_back(name, token)

    async def _acquire(self, name: str, key: str, ttl_s: float, deadline: float, timeout_s: float) -> str | None:
        """The token once the Redis lock is ours; None if Redis cannot be reached."""
        loop = asyncio.get_running_loop()
        token = uuid.uuid4().hex
        pause = 0.01
        while True:
            if self.outage.skip:
                return None
            try:
                taken = await self._redis.set(name, token, nx=True, px=_ms(ttl_s))
            except (RedisError, OSError) as exc:
                self.outage.failed(exc)
                return None
            self.outage.succeeded()
            if taken:
                return token
            left = deadline - loop.time()
            if left <= 0:
                raise LockTimeout(key, timeout_s)
            await asyncio.sleep(min(left, pause * random.uniform(0.5, 1.0)))
            pause = min(pause * 2, MAX_POLL_S)

    async def _keep(self, name: str, token: str, ttl_s: float) -> None:
        """Renew the lock every ttl/3 while it is held; a failed renewal is tried again at the next tick."""
        while True:
            await asyncio.sleep(ttl_s / 3)
            try:
                renewed = await self._renew(keys=[name], args=[token, _ms(ttl_s)])
            except (RedisError, OSError) as exc:
                log.warning("could not renew a conversation lock", extra={"lock": name, "error": repr(exc)})
                continue
            if not renewed:
                log.error("conversation lock lost (expired before it was renewed)", extra={"lock": name})
                return

    async def _give_back(self, name: str, token: str) -> None:
        try:
            await self._release(keys=[name], args=[token])
        except (RedisError, OSError) as exc:  # it expires by itself within its ttl
            log.warning("could not release a conversation lock", extra={"lock": name, "error": repr(exc)})

    async def close(self) -> None:
        await self._redis.aclose()


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))
