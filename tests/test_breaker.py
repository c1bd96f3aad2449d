"""Circuit breaker and the concurrency cap on LLM calls."""
from __future__ import annotations

import asyncio
import socket
import time

import pytest

from hideki.llm.breaker import CircuitBreaker, ConcurrencyCap, Rejected
from tests.support import activities as A


def test_breaker_opens_after_consecutive_failures_and_half_opens_after_the_cooldown():
    now = [0.0]
    breaker = CircuitBreaker(failure_threshold=3, cooldown_s=10, clock=lambda: now[0])
    for _ in range(2):
        breaker.before_call()
        breaker.failure()
    breaker.before_call()
    breaker.success()  # a success resets the count
    for _ in range(3):
        breaker.before_call()
        breaker.failure()
    assert breaker.state == "open"
    with pytest.raises(Rejected, match="circuit_open"):
        breaker.before_call()
    now[0] = 10.0
    breaker.before_call()  # the one trial call
    with pytest.raises(Rejected):
        breaker.before_call()  # no second call while the trial runs
    breaker.failure()
    assert breaker.state == "open"
    now[0] = 20.0
    breaker.before_call()
    breaker.success()
    assert breaker.state == "closed"


async def test_the_cap_bounds_calls_in_flight_and_refuses_beyond_the_queue():
    cap = ConcurrencyCap(max_concurrency=2, max_queue=1)
    running, peak = 0, 0
    release = asyncio.Event()

    async def call():
        nonlocal running, peak
        async with cap.slot():
            running += 1
            peak = max(peak, running)
            await release.wait()
            running -= 1

    tasks = [asyncio.create_task(call()) for _ in range(3)]
    await asyncio.sleep(0.01)
    with pytest.raises(Rejected, match="busy"):
        async with cap.slot():
            pass
    release.set()
    await asyncio.gather(*tasks)
    assert peak == 2 and cap.in_flight == 0


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again: connections are refused


async def test_with_the_endpoint_down_answers_come_from_the_offline_engine_quickly(start_bot, connector):
    bot = await start_bot(
        bindings={"19:easy@thread.tacv2": "yasashii"},
        llm_base_url=f"http://127.0.0.1:{_dead_port()}/v1", llm_max_retries=1, llm_backoff_s=0.01, llm_breaker_failures=2,
    )
    notice = "令和7年4月1日から、住民票の写しの交付手数料が300円に変更となります。申請書を窓口に提出してください。"
    await bot.post(A.channel_message(connector.url, notice, channel_id="19:easy@thread.tacv2"))
    await bot.drain()  # two failed attempts (one retry) open the breaker
    assert "生成AIモデルに接続できませんでした" in connector.latest_answer()["text"]
    started = time.monotonic()
    await bot.post(A.channel_message(connector.url, notice, channel_id="19:easy@thread.tacv2"))
    await bot.drain()
    text = connector.latest_answer()["text"]
    assert "応答しない状態が続いています" in text and "ローカル処理で作成しました" in text and "2025年" in text
    assert time.monotonic() - started < 5
