"""Metrics, readiness, rate limits, graceful shutdown and JSON logs with correlation ids."""
from __future__ import annotations

import asyncio
import json
import logging

from hideki.state.ratelimit import RateLimiter
from hideki.logs import JsonFormatter, correlation_id
from tests.support import activities as A


async def test_metrics_count_requests_pipelines_and_tokens(start_bot, connector, model):
    bot = await start_bot(llm_base_url=model.base_url)
    await bot.post(A.personal_message(connector.url, "こんにちは"))
    await bot.client.post("/api/messages", data=b"{", headers={"Content-Type": "application/json"})
    await bot.drain()
    response = await bot.client.get("/metrics")
    text = await response.text()
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/plain")
    assert 'hideki_requests_total{status="200"}' in text and 'hideki_requests_total{status="400"}' in text
    assert 'hideki_pipeline_seconds_count{outcome="ok",pipeline="chat"}' in text
    assert 'hideki_llm_tokens_total{direction="out",pipeline="chat"}' in text
    assert "hideki_ack_seconds_bucket" in text and "hideki_jobs_pending 0.0" in text and "hideki_llm_circuit_open 0.0" in text


async def test_metrics_token_is_required_when_set(start_bot):
    bot = await start_bot(metrics_token="s3cret-token")
    assert (await bot.client.get("/metrics")).status == 401
    assert (await bot.client.get("/metrics", headers={"Authorization": "Bearer wrong"})).status == 401
    assert (await bot.client.get("/metrics", headers={"Authorization": "Basic s3cret-token"})).status == 401
    ok = await bot.client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
    assert ok.status == 200 and "hideki_requests_total" in await ok.text()
    assert (await bot.client.get("/healthz")).status == 200  # probes stay open


async def test_readyz_reports_busy_when_shutting_down(start_bot):
    bot = await start_bot()
    assert (await bot.client.get("/readyz")).status == 200
    await bot.parts.runner.close(0)
    response = await bot.client.get("/readyz")
    assert response.status == 503 and (await response.json())["status"] == "busy"


def test_rate_limiter_per_user_and_global():
    now = [0.0]
    limiter = RateLimiter(per_user=2, overall=3, clock=lambda: now[0])
    assert limiter.check("a") is None and limiter.check("a") is None
    scope, wait = limiter.check("a")
    assert scope == "user" and 59 < wait <= 60
    assert limiter.check("b") is None
    assert limiter.check("c")[0] == "global"
    now[0] = 61
    assert limiter.check("a") is None


async def test_a_user_sending_too_fast_is_told_kindly_and_others_are_not_affected(start_bot, connector):
    bot = await start_bot(rate_user_per_minute=2)
    for _ in range(3):
        await bot.post(A.personal_message(connector.url, "ヘルプ"))
    await bot.post(A.personal_message(connector.url, "ヘルプ", user="29:other", aad="aad-other"))
    await bot.drain()
    texts = [s.body["text"] for s in connector.messages()]
    assert sum("少し休ませてください" in t for t in texts) == 1 and sum("Hideki の使い方" in t for t in texts) == 3


async def test_shutdown_gives_interrupted_jobs_back_and_a_restart_answers_them(start_bot, connector, model):
    model.delay_s = 5
    bot = await start_bot(llm_base_url=model.base_url, shutdown_grace_s=0.2, streaming=False)  # the placeholder path
    await bot.post(A.personal_message(connector.url, "長い処理"))
    await connector.wait_for(lambda: any(s.body.get("text") == "作成中…" for s in connector.sent))
    await bot.client.close()  # graceful shutdown: the job is interrupted and given back to the queue
    assert [s.body.get("text") for s in connector.messages()] == ["作成中…"]
    model.delay_s = 0
    restarted = await start_bot(llm_base_url=model.base_url, streaming=False)  # same data directory
    await restarted.drain()
    [placeholder] = [s for s in connector.messages() if s.method == "POST"]
    assert connector.final_texts() == {placeholder.activity_id: "モデルの回答: 長い処理"}  # the same message, updated


def test_json_logs_carry_the_correlation_id():
    token = correlation_id.set("abc123")
    try:
        record = logging.LogRecord("hideki", logging.INFO, __file__, 1, "answered", (), None)
        record.pipeline = "chat"
        entry = json.loads(JsonFormatter().format(record))
    finally:
        correlation_id.reset(token)
    assert entry["correlation_id"] == "abc123" and entry["pipeline"] == "chat" and entry["msg"] == "answered"


async def test_per_pipeline_input_limits_give_a_clear_message(start_bot, connector):
    from hideki.settings import PipelineParams

    bot = await start_bot(bindings={"19:desk@thread.tacv2": "servicedesk", "19:qa@thread.tacv2": "qa"},
                          pipelines={"qa": PipelineParams(max_input_chars=100)})
    await bot.post(A.channel_message(connector.url, "あ" * 2001, channel_id="19:desk@thread.tacv2"))
    await bot.post(A.channel_message(connector.url, "い" * 101, channel_id="19:qa@thread.tacv2"))
    await bot.drain()
    texts = sorted(connector.final_texts().values())
    assert any("「サービスデスク」で受け付けるのは 2,000文字まで" in t for t in texts)
    assert any("「Q&A生成」で受け付けるのは 100文字まで" in t for t in texts)


async def test_retention_runs_at_start_up(start_bot, connector, model):
    import time as _time

    bot = await start_bot(llm_base_url=model.base_url)
    memory = bot.parts.memory
    memory.append("a:old", "user", "古い会話", 3)
    memory._db.connect().execute("UPDATE messages SET created_at = ? WHERE conversation_id = 'a:old'", (_time.time() - 40 * 86400,))
    restarted = await start_bot(llm_base_url=model.base_url)  # on_startup applies the retention
    for _ in range(50):
        if not restarted.parts.memory.recent("a:old", 1000):
            break
        await asyncio.sleep(0.02)
    assert restarted.parts.memory.recent("a:old", 1000) == []


async def test_retention_forgets_old_feedback_links(start_bot, connector, model):
    import time as _time

    bot = await start_bot(llm_base_url=model.base_url, audit_retention_days=30)
    feedback = bot.parts.feedback
    feedback.link_message("act-old", "conv", "servicedesk.feedback", "answer-1")
    feedback.link_message("act-new", "conv", "servicedesk.feedback", "answer-2")
    feedback._db.connect().execute("UPDATE feedback_messages SET created_at = ? WHERE activity_id = 'act-old'",
                                   (_time.time() - 40 * 86400,))
    restarted = await start_bot(llm_base_url=model.base_url, audit_retention_days=30)  # on_startup applies it
    for _ in range(50):
        if restarted.parts.feedback.linked("act-old", "conv") is None:
            break
        await asyncio.sleep(0.02)
    assert restarted.parts.feedback.linked("act-old", "conv") is None
    assert restarted.parts.feedback.linked("act-new", "conv") == ("servicedesk.feedback", "answer-2")
