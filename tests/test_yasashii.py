"""The やさしい日本語 pipeline: offline rewrite, model rewrite with fact checks, readings, the HTML button."""
from __future__ import annotations

import re

import pytest

from channels import build_registry
from channels.base import Action, PipelineContext, Place, Request, User
from hideki.llm.gateway import LLMGateway
from hideki.settings import load_settings
from hideki.state.stores import Database, ResultStore
from prompts import PromptLibrary
from tests.support import activities as A
from tests.support.model import Step

NOTICE = (
    "令和7年4月1日から、住民票の写しの交付手数料が300円から350円に変更となります。\n"
    "申請書に必要事項を記入の上、区民課窓口に提出してください。"
    "お問い合わせは世田谷区役所区民課（電話03-5432-1111）までご連絡ください。"
)
GOOD_REWRITE = (
    "2025年4月1日（火）から、住民票の写しのお金が変わります。300円から350円になります。\n"
    "紙に書いて、区民課の窓口に出してください。\n"
    "分からないときは、世田谷区役所区民課（電話03-5432-1111）に聞いてください。"
)


@pytest.fixture
def pipeline(tmp_path):
    shared = PipelineContext(results=ResultStore(Database(tmp_path / "h.db")), dictionaries_dir=tmp_path / "dictionaries")
    registry = build_registry(PromptLibrary(), shared)
    return registry.get("yasashii")


def request(text: str, llm=None) -> Request:
    return Request(text=text, user=User("u1"), place=Place("19:c;messageid=1", "channel", "19:c"), llm=llm)


@pytest.fixture
async def llm_for(tmp_path, model):
    """`llm_for(**settings)` → the pipeline's model client; the gateways are closed after the test."""
    gateways: list[LLMGateway] = []

    def make(**overrides):
        settings = load_settings(env_file=None, data_dir=tmp_path, llm_base_url=model.base_url, llm_backoff_s=0.01, **overrides)
        gateways.append(LLMGateway(settings))
        return gateways[-1].client_for("yasashii")

    yield make
    for gateway in gateways:
        await gateway.close()


async def test_offline_rewrite_keeps_facts_adds_readings_measures_and_says_it_is_offline(pipeline):
    reply = await pipeline.run(request(NOTICE))
    text = reply.text
    assert "2025年" in text and "（火" in text  # era date → Western calendar with the weekday
    assert "提出" not in text and "出(だ)して" in text  # hard word replaced, then readings added
    for fact in ("300円", "350円", "03-5432-1111", "世田谷区役所区民課"):
        assert fact in re.sub(r"\([ぁ-ん]+\)", "", text)
    assert "住民票(じゅうみんひょう)" in text
    assert reply.offline and reply.warnings[-1].startswith("ℹ️ 生成AIモデルが設定されていないため")
    assert reply.warnings[0].startswith("📏 1文の平均:") and "確認できなかった事実: なし" in reply.warnings[0]
    [button] = reply.buttons
    assert button.action == "yasashii.html"


async def test_readings_that_are_guesses_are_listed_for_a_check(pipeline):
    reply = await pipeline.run(request("詳しくは、担当の小園勝英までお問い合わせください。"))
    [guessed] = [w for w in reply.warnings if w.startswith("🔎")]
    assert "小園(" in guessed and "勝英(" in guessed and "辞書に登録" in guessed
    plain = await pipeline.run(request(NOTICE))
    assert not any(w.startswith("🔎") for w in plain.warnings)


async def test_the_html_button_returns_ruby(pipeline):
    reply = await pipeline.run(request(NOTICE))
    data = reply.buttons[0].data
    html = await pipeline.act(Action("html", data, User("u1"), Place("c")))
    assert "<ruby>住民票<rt>じゅうみんひょう</rt></ruby>" in html.text and html.text.count("```") == 2
    gone = await pipeline.act(Action("html", {"result": "unknown"}, User("u1"), Place("c")))
    assert "保存期間" in gone.text


async def test_empty_long_and_already_plain_texts(pipeline):
    # the dispatcher asks the pipeline for these answers before it would run it
    assert "このチャネルの機能は **やさしい日本語** です" in pipeline.refusal("  ", False, pipeline.max_input_chars).text
    assert "長すぎます（20,001文字）" in pipeline.refusal("あ" * 20_001, False, pipeline.max_input_chars).text
    assert pipeline.refusal("あ" * 20_000, False, pipeline.max_input_chars) is None
    plain = await pipeline.run(request("あしたは雨です。かさを持って行きます。"))
    assert "すでにやさしい日本語に近い" in plain.full_text() and "雨(あめ)" in plain.text


async def test_model_rewrite_is_used_and_its_own_readings_are_replaced_by_local_ones(pipeline, model, llm_for):
    model.script = [Step(text="```\n世田谷区役所(せたがやくやくしょ)に<ruby>行<rt>い</rt></ruby>きます。\n" + GOOD_REWRITE + "\n```")]
    reply = await pipeline.run(request(NOTICE, llm_for()))
    sent = model.requests[0]["messages"]
    assert "やさしい日本語ガイドライン" in sent[0]["content"] and NOTICE in sent[1]["content"]
    assert "<ruby>" not in reply.text and "(せたがやくやくしょ)(せたがや" not in reply.text
    assert re.sub(r"\([ぁ-ん]+\)", "", reply.text).startswith("世田谷区役所に行きます。")  # the model's readings are gone…
    assert "行(い)きます" in reply.text and "世田谷区(せたがやく)" in reply.text  # …and ours are there
    assert not reply.offline and reply.usage.calls == 1
    assert "確認できなかった事実: なし" in reply.warnings[0]


async def test_a_dropped_fact_triggers_one_retry_naming_it(pipeline, model, llm_for):
    model.script = [Step(text=GOOD_REWRITE.replace("03-5432-1111", "区役所")), Step(text=GOOD_REWRITE)]
    reply = await pipeline.run(request(NOTICE, llm_for()))
    assert len(model.requests) == 2
    assert "03-5432-1111" in model.requests[1]["messages"][-1]["content"]
    assert "確認できなかった事実: なし" in reply.warnings[0] and reply.usage.calls == 2


async def test_a_fact_still_missing_after_the_retry_is_shown_as_a_warning(pipeline, model, llm_for):
    broken = GOOD_REWRITE.replace("350円", "たくさん")
    model.script = [Step(text=broken), Step(text=broken)]
    reply = await pipeline.run(request(NOTICE, llm_for()))
    assert any("⚠️ 書き換えた文章で確認できなかった事実" in w and "350円" in w for w in reply.warnings)


async def test_model_failure_falls_back_to_the_offline_rewrite_and_says_why(pipeline, model, llm_for):
    model.script = [Step(status=500), Step(status=500)]
    reply = await pipeline.run(request(NOTICE, llm_for(llm_max_retries=1)))
    assert reply.offline and "2025年" in reply.text
    assert reply.warnings[-1] == "⚠️ 生成AIモデルでエラーが発生しました。 ローカル処理で作成しました。"


async def test_in_teams_the_button_returns_the_html_version_in_the_thread(start_bot, connector):
    bot = await start_bot(bindings={"19:easy@thread.tacv2": "yasashii"})
    await bot.post(A.channel_message(connector.url, NOTICE, channel_id="19:easy@thread.tacv2"))
    await bot.drain()
    answer = [s for s in connector.sent if s.method == "PUT"][-1]
    assert "住民票(じゅうみんひょう)" in answer.body["text"] and "attachments" not in answer.body
    [card_message] = [s for s in connector.sent if s.method == "POST" and s.body.get("attachments")]
    assert not card_message.body.get("text")  # the card is a message of its own: Teams cannot update text into text + card
    card = card_message.body["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    data = card["content"]["actions"][0]["data"]
    press = A.channel_message(connector.url, "", channel_id="19:easy@thread.tacv2", mention=False)
    press.update(text=None, value=data)
    response = await bot.post(press)
    assert response.status == 200
    await bot.drain()
    assert "<ruby>" in connector.messages()[-1].body["text"]
