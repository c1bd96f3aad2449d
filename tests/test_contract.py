"""The pipeline contract: declared attributes, the one empty/too-long answer, typed replies turned into the
same Teams cards as before, and the one reader of a model's JSON answer."""
from __future__ import annotations

import pytest

from bot.cards import card_for
from channels import PIPELINES
from channels.base import Button, Feedback, Pipeline, Reply, Source
from channels.servicedesk import ServiceDeskPipeline
from hideki.llm.structured import ModelOutputError, parse_json_answer

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"


def test_every_pipeline_subclasses_the_base_and_declares_what_it_is():
    for cls in PIPELINES:
        assert issubclass(cls, Pipeline)
        assert cls.name and cls.title and cls.description and "\n" not in cls.description
        assert all(t.startswith(".") for t in cls.file_types)
    assert {cls.name for cls in PIPELINES if cls.uses_memory} == {"chat"}


def test_empty_and_over_long_input_get_one_answer_from_the_base():
    desk = ServiceDeskPipeline
    assert desk.refusal("  ", False, 2_000).text == (
        "このチャネルの機能は **サービスデスク** です。ICT に関する質問に、FAQ を根拠として出典付きで答えます。\n\n"
        "@Hideki に続けて文章を貼り付けて送ってください。「ヘルプ」と送ると使い方を表示します。")
    assert desk.refusal("", True, 2_000) is None  # a file with no text is input
    assert desk.refusal("あ" * 2_001, False, 2_000).text == (
        "メッセージが長すぎます（2,001文字）。「サービスデスク」で受け付けるのは 2,000文字までです。分けて送ってください。")
    assert desk.refusal("あ" * 2_001, False, None) is None


def test_sources_are_listed_after_the_text_and_before_the_notes():
    reply = Reply("答え [1]", warnings=["⚠️ 注意"], sources=[
        Source(1, "パスワードを忘れました", "https://portal/x", "faq.csv 行 2", "2025-04-01", "ポータルから…"),
        Source(2, "VPNにつながりません")])
    assert reply.full_text() == ("答え [1]\n\n**出典**\n[1] [パスワードを忘れました](https://portal/x)（faq.csv 行 2、更新日 2025-04-01）\n"
                                 "[2] VPNにつながりません\n\n⚠️ 注意")


def test_a_reply_without_buttons_has_no_card():
    assert card_for(Reply("text", caption="unused")) is None


# The cards the pipelines wrote as JSON before bot/cards.py: Teams and the Playground e2e test click these.
def test_a_caption_and_a_button_make_the_same_card_as_before():
    reply = Reply("t", buttons=[Button("HTML（ルビ）版を表示", "yasashii.html", {"result": "r1"})],
                  caption="ホームページに載せるときは、ルビ（HTML）版を使えます。")
    assert card_for(reply).to_json() == {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": "1.4",
        "body": [{"type": "TextBlock", "text": "ホームページに載せるときは、ルビ（HTML）版を使えます。", "wrap": True, "size": "Small"}],
        "actions": [{"type": "Action.Submit", "title": "HTML（ルビ）版を表示", "data": {"hideki_action": "yasashii.html", "result": "r1"}}],
    }


def test_a_confirmation_makes_the_same_card_as_before():
    reply = Reply("t", buttons=[Button("反映", "servicedesk.apply", {"pending": "p1"}), Button("取り消し", "servicedesk.cancel", {"pending": "p1"})],
                  caption="反映すると: 追加 1件", confirm=True)
    assert card_for(reply).attachment() == {"contentType": "application/vnd.microsoft.card.adaptive", "content": {
        "type": "AdaptiveCard", "$schema": SCHEMA, "version": "1.4",
        "body": [{"type": "TextBlock", "text": "反映すると: 追加 1件", "wrap": True, "weight": "Bolder"}],
        "actions": [
            {"type": "Action.Submit", "title": "反映", "data": {"hideki_action": "servicedesk.apply", "pending": "p1"}},
            {"type": "Action.Submit", "title": "取り消し", "data": {"hideki_action": "servicedesk.cancel", "pending": "p1"}},
        ],
    }}


@pytest.mark.parametrize("related", [[], ["VPNにつながりません", "長い質問" * 30]])
def test_feedback_and_related_questions_make_the_same_card_as_before(related):
    reply = Reply("t", feedback=Feedback("servicedesk.feedback", "a1"),
                  related=[Button(q, "servicedesk.ask", {"question": q}) for q in related])
    body: list[dict] = [{"type": "TextBlock", "text": "この回答は役に立ちましたか？", "wrap": True, "size": "Small"}]
    if related:
        body.append({"type": "TextBlock", "text": "関連する質問", "weight": "Bolder", "wrap": True})
        body.append({"type": "ActionSet", "actions": [
            {"type": "Action.Submit", "title": q[:80], "data": {"hideki_action": "servicedesk.ask", "question": q}} for q in related]})
    assert card_for(reply).to_json() == {
        "type": "AdaptiveCard", "$schema": SCHEMA, "version": "1.4", "body": body,
        "actions": [
            {"type": "Action.Submit", "title": "👍 役に立った", "data": {"hideki_action": "servicedesk.feedback", "answer": "a1", "verdict": "up"}},
            {"type": "Action.Submit", "title": "👎 役に立たない", "data": {"hideki_action": "servicedesk.feedback", "answer": "a1", "verdict": "down"}},
        ],
    }


@pytest.mark.parametrize("answer", [
    '{"pairs": []}',
    '```json\n{"pairs": []}\n```',
    'はい、作りました。\n{"pairs": []}\n以上です。',
])
def test_a_json_answer_is_read_through_fences_and_chatter(answer):
    assert parse_json_answer(answer) == {"pairs": []}


@pytest.mark.parametrize("answer", ["作れませんでした。", '{"pairs": [}', "[1, 2]"])
def test_an_unreadable_json_answer_raises_one_error(answer):
    with pytest.raises(ModelOutputError):
        parse_json_answer(answer)
