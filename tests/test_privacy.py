"""The masking client in front of the model, per pipeline: mask (placeholders, restored) or block (nothing sent)."""
from __future__ import annotations

import json

from hideki.settings import PipelineParams
from tests.support import activities as A

MESSAGE = "山田太郎様（電話090-1234-5678）から苦情がありました。お詫びの返信文を作ってください。"


async def test_mask_sends_placeholders_and_restores_the_originals_in_the_answer(start_bot, connector, model):
    model.answer = lambda messages: "［氏名1］様\nお電話（［電話番号1］）でのご指摘、申し訳ありませんでした。"
    bot = await start_bot(llm_base_url=model.base_url)
    await bot.post(A.personal_message(connector.url, MESSAGE))
    await bot.drain()
    sent = json.dumps(model.requests[0]["messages"], ensure_ascii=False)
    assert "山田太郎" not in sent and "090-1234-5678" not in sent
    assert "［氏名1］" in sent and "［電話番号1］" in sent
    answer = connector.latest_answer()["text"]
    assert answer.startswith("山田太郎様") and "090-1234-5678" in answer
    [row] = bot.parts.audit.rows()
    assert json.loads(row["pii"]) == {"person_name": 1, "phone": 1}
    metrics = await (await bot.client.get("/metrics")).text()
    assert 'hideki_pii_findings_total{action="mask",category="phone"}' in metrics


async def test_block_sends_nothing_and_the_offline_engine_answers(start_bot, connector, model):
    bot = await start_bot(llm_base_url=model.base_url, bindings={"19:easy@thread.tacv2": "yasashii"},
                          pipelines={"yasashii": PipelineParams(pii="block")})
    notice = "令和7年4月1日に山田太郎様の住民票の写しを交付します。窓口に来てください。"
    await bot.post(A.channel_message(connector.url, notice, channel_id="19:easy@thread.tacv2"))
    await bot.drain()
    assert model.requests == []
    text = connector.latest_answer()["text"]
    assert "2025年" in text and "個人情報の可能性: 氏名 1件。個人情報を含むため、生成AIには送りませんでした。 ローカル処理で作成しました。" in text


async def test_chat_in_block_mode_asks_to_remove_personal_information(start_bot, connector, model):
    bot = await start_bot(llm_base_url=model.base_url, pii_mode="block")
    await bot.post(A.personal_message(connector.url, MESSAGE))
    await bot.drain()
    assert model.requests == []
    assert "個人情報を除いてから、もう一度送ってください" in connector.latest_answer()["text"]


async def test_off_sends_the_text_as_it_is(start_bot, connector, model):
    bot = await start_bot(llm_base_url=model.base_url, pii_mode="off")
    await bot.post(A.personal_message(connector.url, MESSAGE))
    await bot.drain()
    assert "090-1234-5678" in model.requests[0]["messages"][-1]["content"]
