"""Q&A生成 in Teams: pairs offline and with a model, checked against the text; CSV; one-step FAQ import."""
from __future__ import annotations

import csv
import io
import json
import re

from tests.support import activities as A
from tests.support.model import Step

ADMIN = "aad-admin-1"
NOTICE = """粗大ごみの出し方
粗大ごみは、事前に申し込みが必要です。
申し込みは、粗大ごみ受付センター（電話03-1234-5678）で受け付けます。受付時間は平日の午前8時30分から午後5時までです。
手数料は1点につき400円です。コンビニエンスストアで処理券を買い、品物に貼ってください。
収集日の午前8時までに、自宅の前に出してください。"""
BINDINGS = {"19:qa@thread.tacv2": "qa"}


def post(connector, text: str, aad: str = "aad-staff-1"):
    return A.channel_message(connector.url, text, channel_id="19:qa@thread.tacv2", aad=aad)


def final(connector) -> dict:
    return connector.latest_answer()


def csv_block(text: str) -> list[dict[str, str]]:
    block = re.search(r"```csv\n(.*?)\n```", text, re.S).group(1)
    return list(csv.DictReader(io.StringIO(block)))


async def test_offline_pairs_are_spans_of_the_text_with_a_table_and_faq_csv(start_bot, connector):
    bot = await start_bot(bindings=BINDINGS)
    await bot.post(post(connector, "5問作って\n" + NOTICE))
    await bot.drain()
    text = final(connector)["text"]
    assert "**質問と回答（5組）**" in text and "\n\n1. **質問**: " in text  # the table, as a list Teams can draw
    rows = csv_block(text)
    assert len(rows) == 5 and list(rows[0]) == ["id", "質問", "回答", "カテゴリ", "キーワード", "URL", "更新日"]
    for row in rows:
        assert row["回答"] in NOTICE and row["質問"].endswith("？")
    assert "ローカル処理で作成しました" in text


async def test_a_text_too_thin_for_questions_says_so(start_bot, connector):
    bot = await start_bot(bindings=BINDINGS)
    await bot.post(post(connector, "こんにちは。"))
    await bot.drain()
    assert "文章が短すぎて" in final(connector)["text"]


async def test_model_pairs_without_support_in_the_text_are_dropped(start_bot, connector, model):
    pairs = [
        {"question": "手数料はいくらですか？", "answer": "1点につき400円です。"},
        {"question": "受付時間はいつですか？", "answer": "平日の午前8時30分から午後5時まで"},
        {"question": "手数料はいくらですか？", "answer": "1点につき400円"},  # duplicate question
        {"question": "収集は何曜日ですか？", "answer": "毎週月曜日です。"},  # not in the text
    ]
    model.script = [Step(text="```json\n" + json.dumps({"pairs": pairs}, ensure_ascii=False) + "\n```")]
    bot = await start_bot(bindings=BINDINGS, llm_base_url=model.base_url)
    await bot.post(post(connector, NOTICE))
    await bot.drain()
    text = final(connector)["text"]
    assert "**質問と回答（2組）**" in text and "毎週月曜日" not in text.split("```csv")[0]
    assert "根拠を確認できない、または重複する 2 組を除きました" in text
    assert "10 組作り" in model.requests[0]["messages"][1]["content"]


async def test_an_admin_adds_the_pairs_to_the_faq_with_one_button(start_bot, connector, tmp_path):
    seed = tmp_path / "seed.csv"
    seed.write_text("id,質問,回答\nict-001,パスワードを忘れました,ポータルから再設定してください。\n", encoding="utf-8")
    bot = await start_bot(bindings=BINDINGS, admins=[ADMIN], faq_seed=str(seed))
    await bot.post(post(connector, "3問\n" + NOTICE))
    await bot.drain()
    button = final(connector)["attachments"][0]["content"]["actions"][0]
    assert button["title"] == "FAQ に追加（管理者）"
    for aad, expected in (("aad-staff-1", "管理者だけ"), (ADMIN, "FAQ に追加しました（版 2）。追加 3件")):
        press = post(connector, "", aad=aad)
        press.update(text=None, value=button["data"])
        await bot.post(press)
        await bot.drain()
        assert expected in final(connector)["text"]
    kb = bot.parts.registry.get("servicedesk").knowledge
    assert len(kb.entries()) == 4
