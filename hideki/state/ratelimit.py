"""Per-user and global rate limits (sliding one-minute windows).

`RateLimiter` counts in this process (memory-bounded). `RedisRateLimiter` keeps the same windows in Redis, so
every replica behind a load balancer sees the same counts; while Redis is unreachable it counts in-process
(each replica on its own, so up to N times the limits with N replicas) and logs a warning. `open_rate_limiter`
picks one by settings; both answer `await check(user)`.
"""
from __future__ import annotations

import time
import uuid
from collections import OrderedDict, deque
from typing import Callable, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from hideki.state.redisconn import Outage, connect
from hideki.settings import Settings

WINDOW_S = 60.0

Limited = tuple[str, float]  # (scope "user" or "global", seconds to wait)


class AsyncRateLimiter(Protocol):
    """What `open_rate_limiter` returns: the in-process or the Redis limiter, both behind `await check(user)`."""

    async def check(self, user: str) -> Limited | None: ...

    async def close(self) -> None: ...


def open_rate_limiter(settings: Settings) -> AsyncRateLimiter:
    local = RateLimiter(settings.rate_user_per_minute, settings.rate_global_per_minute)
    url = settings.redis_url.get_secret_value()
    return RedisRateLimiter(connect(url), local) if url else InProcessRateLimiter(local)


class RateLimiter:
    def __init__(self, per_user: int, overall: int, max_users: int = 50_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_user = per_user  # messages per user per minute (0: no limit)
        self.overall = overall  # messages per minute for the whole bot (0: no limit)
        self._users: OrderedDict[str, deque[float]] = OrderedDict()
        self._all: deque[float] = deque()
        self._max_users = max_users
        self._clock = clock

    def check(self, user: str) -> Limited | None:
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


class InProcessRateLimiter:
    """`RateLimiter` behind the async interface (one machine)."""

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    async def check(self, user: str) -> Limited | None:
        return self.limiter.check(user)

    async def close(self) -> None:
        return None


# One atomic step on Redis' own clock (replicas' clocks may differ): drop timestamps older than the window,
# refuse if the global or the user's window is full (the wait is until its oldest entry leaves), else record.
# KEYS: global zset, user zset. ARGV: window ms, per-user limit, global limit, a unique member. Limits 0 = none.
_CHECK = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window, per_user, overall = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local function full(key, limit)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) < limit then return nil end
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return tonumber(oldest[2]) + window - now
end
if overall > 0 then
  local wait = full(KEYS[1], overall)
  if wait then return {'global', wait} end
end
if per_user > 0 then
  local wait = full(KEYS[2], per_user)
  if wait then return {'user', wait} end
  redis.call('ZADD', KEYS[2], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[2], window)
end
if overall > 0 then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window)
end
return false
"""


class RedisRateLimiter:
    """The same windows as `RateLimiter`, in Redis sorted sets shared by every replica."""

    def __init__(self, redis: Redis, fallback: RateLimiter, prefix: str = "hideki:rate:", window_s: float = WINDOW_S) -> None:
        self._redis = redis
        self._script = redis.register_script(_CHECK)
        self.fallback = fallback  # its limits are the shared ones too
        self._prefix = prefix
        self._window_ms = round(window_s * 1000)
        self.outage = Outage("rate limits")

    async def check(self, user: str) -> Limited | None:
        if self.outage.skip:
            return self.fallback.check(user)
        keys = [self._prefix + "global", self._prefix + "user:" + user]
        args = [self._window_ms, self.fallback.per_user, self.fallback.overall, uuid.uuid4().hex]
        try:
            result = await self._script(keys=keys, args=args)
        except (RedisError, OSError) as exc:
            self.outage.failed(exc)
            return self.fallback.check(user)
        self.outage.succeeded()
        if not result:
            return None
        scope, wait_ms = result
        return (scope.decode() if isinstance(scope, bytes) else scope), int(wait_ms) / 1000

    async def close(self) -> None:
        await self._redis.aclose()
