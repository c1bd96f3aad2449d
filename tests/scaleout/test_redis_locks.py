"""Conversation locks: in-process asyncio locks, and Redis locks shared by replicas (a real redis-server)."""
from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from redis.asyncio import Redis

from hideki.state.locks import LocalLocks, LockTimeout, RedisLocks, open_locks
from hideki.state.redisconn import Outage, connect
from hideki.settings import load_settings
from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def replicas(redis_url):
    """Two lock clients with their own connections, as two bot replicas would have."""
    a, b = RedisLocks(connect(redis_url)), RedisLocks(connect(redis_url))
    yield a, b
    await a.close()
    await b.close()


async def test_local_locks_exclude_and_serve_waiters_in_order():
    locks = LocalLocks()
    order: list[int] = []
    gate = asyncio.Event()

    async def job(n: int) -> None:
        async with locks.hold("conv"):
            order.append(n)
            if n == 0:
                await gate.wait()

    first = asyncio.create_task(job(0))
    await asyncio.sleep(0)
    others = [asyncio.create_task(job(n)) for n in range(1, 5)]
    await asyncio.sleep(0)
    assert order == [0]  # the others wait
    gate.set()
    await asyncio.gather(first, *others)
    assert order == [0, 1, 2, 3, 4] and len(locks) == 0  # FIFO, and no entry left behind


async def test_local_lock_timeout_names_the_key_and_other_keys_are_free():
    locks = LocalLocks()
    async with locks.hold("conv-a"):
        with pytest.raises(LockTimeout, match="conv-a"):
            async with locks.hold("conv-a", timeout_s=0.05):
                pass
        async with locks.hold("conv-b", timeout_s=0.05):
            pass
    assert len(locks) == 0


def test_open_locks_is_in_process_without_redis_url(tmp_path):
    assert isinstance(open_locks(load_settings(env_file=None, data_dir=tmp_path)), LocalLocks)


async def test_a_lock_held_by_one_replica_blocks_the_other_until_released(replicas):
    a, b = replicas
    taken = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with a.hold("conv", ttl_s=5):
            taken.set()
            await release.wait()

    task = asyncio.create_task(holder())
    await taken.wait()
    with pytest.raises(LockTimeout):
        async with b.hold("conv", timeout_s=0.3):
            pass
    async with b.hold("other-conv", timeout_s=0.3):  # another conversation is not blocked
        pass
    waiter = asyncio.create_task(_take(b, "conv"))
    await asyncio.sleep(0.1)
    assert not waiter.done()  # still waiting while a holds it
    release.set()
    await task
    await asyncio.wait_for(waiter, timeout=30)


async def _take(locks: RedisLocks, key: str) -> None:
    async with locks.hold(key, timeout_s=30):
        pass


async def test_waiters_of_one_replica_get_a_redis_lock_in_arrival_order(replicas):
    a, b = replicas
    release = asyncio.Event()
    taken = asyncio.Event()
    order: list[int] = []

    async def holder() -> None:
        async with b.hold("conv", ttl_s=5):
            taken.set()
            await release.wait()

    async def waiter(n: int) -> None:
        async with a.hold("conv", ttl_s=5, timeout_s=30):
            order.append(n)

    first = asyncio.create_task(holder())
    await taken.wait()
    waiters = []
    for n in range(4):
        waiters.append(asyncio.create_task(waiter(n)))
        await asyncio.sleep(0)  # each one queued before the next
    release.set()
    await asyncio.gather(first, *waiters)
    assert order == [0, 1, 2, 3]


async def test_a_held_lock_is_renewed_beyond_its_ttl(replicas, redis_url):
    a, b = replicas
    probe = Redis.from_url(redis_url)
    try:
        async with a.hold("conv", ttl_s=0.6):
            lowest = await probe.pttl("hideki:lock:conv")
            async with asyncio.timeout(30):  # until a renewal pushes the expiry back up (PTTL only falls otherwise)
                while (now := await probe.pttl("hideki:lock:conv")) <= lowest:
                    assert now > 0, "the lock expired while held"
                    lowest = now
                    await asyncio.sleep(0.02)
            with pytest.raises(LockTimeout):
                async with b.hold("conv", timeout_s=0.1):
                    pass
        assert await probe.exists("hideki:lock:conv") == 0  # released on exit
    finally:
        await probe.aclose()


async def test_release_never_deletes_a_lock_taken_over_by_someone_else(replicas, redis_url):
    a, _ = replicas
    probe = Redis.from_url(redis_url)
    try:
        async with a.hold("conv", ttl_s=30):
            await probe.set("hideki:lock:conv", "someone-else")  # as if ours had expired and been taken
        assert await probe.get("hideki:lock:conv") == b"someone-else"
    finally:
        await probe.aclose()


async def test_a_killed_holders_lock_expires_and_another_replica_takes_it(replicas, redis_url):
    _, b = replicas
    holder = textwrap.dedent(f"""
        import asyncio
        from hideki.state.locks import RedisLocks
        from hideki.state.redisconn import connect

        async def main():
            async with RedisLocks(connect({redis_url!r})).hold("conv", ttl_s=1):
                print("held", flush=True)
                await asyncio.Event().wait()

        asyncio.run(main())
    """)
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", holder, cwd=ROOT, stdout=subprocess.PIPE)
    try:
        assert await asyncio.wait_for(process.stdout.readline(), timeout=60) == b"held\n"
    finally:
        process.kill()  # SIGKILL: no release, no more renewals
        await process.wait()
    probe = Redis.from_url(redis_url)
    try:
        async with b.hold("conv", ttl_s=5, timeout_s=30):
            assert await probe.get("hideki:lock:conv") is not None  # now ours
    finally:
        await probe.aclose()


async def test_redis_down_falls_back_to_in_process_locks_with_one_warning(caplog):
    locks = RedisLocks(connect(f"redis://127.0.0.1:{free_port()}/0"))  # nothing listens there
    caplog.set_level(logging.WARNING, logger="hideki.state.redisconn")
    try:
        entered = asyncio.Event()
        release = asyncio.Event()

        async def holder() -> None:
            async with locks.hold("conv"):
                entered.set()
                await release.wait()

        task = asyncio.create_task(holder())
        await asyncio.wait_for(entered.wait(), timeout=30)
        with pytest.raises(LockTimeout):  # the same process still excludes
            async with locks.hold("conv", timeout_s=0.1):
                pass
        release.set()
        await task
        async with locks.hold("conv", timeout_s=5):
            pass
        assert locks.outage.down
        assert [r.getMessage() for r in caplog.records].count(
            "Redis unreachable: conversation locks fall back to this process until it is back") == 1
    finally:
        await locks.close()


def test_outage_skips_redis_for_a_while_then_tries_again(caplog):
    now = [100.0]
    outage = Outage("rate limits", retry_after_s=5, clock=lambda: now[0])
    caplog.set_level(logging.INFO, logger="hideki.state.redisconn")
    assert not outage.skip
    outage.failed(ConnectionError("refused"))
    outage.failed(ConnectionError("refused"))
    assert outage.skip and outage.down
    now[0] += 5
    assert not outage.skip and outage.down  # time to try again
    outage.succeeded()
    assert not outage.down
    assert [r.levelname for r in caplog.records] == ["WARNING", "INFO"]
