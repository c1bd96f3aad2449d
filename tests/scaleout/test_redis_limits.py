"""Rate limits shared by replicas through Redis (a real redis-server), and their fallback when Redis is away."""
from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess

import pytest
import redis

from hideki.state.ratelimit import InProcessRateLimiter, RateLimiter, RedisRateLimiter, open_rate_limiter
from hideki.state.redisconn import connect
from hideki.settings import load_settings
from tests.support.servers import free_port, missing, stop, wait_until


def _replica(redis_url: str, per_user: int, overall: int, window_s: float = 60) -> RedisRateLimiter:
    return RedisRateLimiter(connect(redis_url), RateLimiter(per_user, overall), window_s=window_s)


@pytest.fixture
async def closing():
    opened: list = []
    yield opened.append
    for limiter in opened:
        await limiter.close()


async def test_two_replicas_share_a_users_count(redis_url, closing):
    a, b = _replica(redis_url, per_user=2, overall=0), _replica(redis_url, per_user=2, overall=0)
    closing(a), closing(b)
    assert await a.check("u1") is None and await b.check("u1") is None
    scope, wait = await a.check("u1")
    assert scope == "user" and 59 < wait <= 60
    assert (await b.check("u1"))[0] == "user"
    assert await b.check("u2") is None  # other users are not affected


async def test_two_replicas_share_the_global_count_and_a_refused_message_is_not_counted(redis_url, closing):
    a, b = _replica(redis_url, per_user=1, overall=3), _replica(redis_url, per_user=1, overall=3)
    closing(a), closing(b)
    assert await a.check("u1") is None
    assert (await b.check("u1"))[0] == "user"  # refused: takes no global slot
    assert await b.check("u2") is None and await a.check("u3") is None
    scope, wait = await b.check("u4")
    assert scope == "global" and 0 < wait <= 60


async def test_the_window_slides(redis_url, closing):
    limiter = _replica(redis_url, per_user=1, overall=0, window_s=0.5)
    closing(limiter)
    assert await limiter.check("u1") is None
    scope, wait = await limiter.check("u1")
    assert scope == "user" and 0 < wait <= 0.5
    async with asyncio.timeout(30):  # allowed again once the first message has left the window
        while await limiter.check("u1") is not None:
            await asyncio.sleep(0.05)


async def test_open_rate_limiter_by_settings(tmp_path, redis_url, closing):
    local = open_rate_limiter(load_settings(env_file=None, data_dir=tmp_path, rate_user_per_minute=1))
    assert isinstance(local, InProcessRateLimiter)
    assert await local.check("u1") is None and (await local.check("u1"))[0] == "user"
    settings = load_settings(env_file=None, data_dir=tmp_path, rate_user_per_minute=1, redis_url=redis_url)
    a, b = open_rate_limiter(settings), open_rate_limiter(settings)
    closing(a), closing(b)
    assert await a.check("u1") is None and (await b.check("u1"))[0] == "user"


async def test_redis_down_counts_in_process_with_one_warning(caplog, closing):
    limiter = _replica(f"redis://127.0.0.1:{free_port()}/0", per_user=2, overall=0)  # nothing listens there
    closing(limiter)
    caplog.set_level(logging.WARNING, logger="hideki.state.redisconn")
    assert await limiter.check("u1") is None and await limiter.check("u1") is None
    assert (await limiter.check("u1"))[0] == "user"  # still limited, by this process' own count
    assert limiter.outage.down
    assert [r.getMessage() for r in caplog.records] == [
        "Redis unreachable: rate limits fall back to this process until it is back"]


async def test_counts_are_shared_again_once_redis_is_back(tmp_path, caplog, closing):
    binary = shutil.which("redis-server") or missing("Redis is not installed (redis-server not found)")
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    limiter = _replica(url, per_user=1, overall=0)
    closing(limiter)
    limiter.outage.retry_after_s = 0  # ask Redis again at the next message
    caplog.set_level(logging.INFO, logger="hideki.state.redisconn")
    assert await limiter.check("u1") is None and limiter.outage.down  # nothing listens yet
    log = tmp_path / "redis.log"
    server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                               "--dir", str(tmp_path), "--logfile", str(log)])
    try:
        wait_until(lambda: _pings(url), server, "redis-server", log)
        other = _replica(url, per_user=1, overall=0)
        closing(other)
        assert await limiter.check("u2") is None and not limiter.outage.down
        assert (await other.check("u2"))[0] == "user"  # the count went to Redis, where the other replica sees it
        assert caplog.records[-1].getMessage() == "Redis reachable again: rate limits are shared by the replicas again"
    finally:
        stop(server)


def _pings(url: str) -> bool:
    try:
        return redis.Redis.from_url(url, socket_timeout=2).ping()
    except redis.RedisError:
        return False
