"""Answers that look like Teams' own AI, over HTTP with the scripted Bot Connector and a scripted streaming model:
streamed 1:1 answers, the AI label, native citations, Teams' own 👍/👎 (message/submitAction)."""
from __future__ import annotations

from pathlib import Path

import pytest

from hideki.metrics import REGISTRY
from tests.support import activities as A
from tests.support.model import Step
from tests.test_servicedesk import answer_json

ADMIN = "aad-admin-1"
DESK = "19:desk@thread.tacv2"
FAQ = (
    "id,質問,回答,カテゴリ,キーワード,URL,更新日\n"
    "ict-001,パスワードを忘れました,ポータルの「パスワード再設定」から再設定してください。,アカウント,パスワード、忘れた,"
    "https://portal.city.example.lg.jp/ict/password,2025-04-01\n"
    "ict-002,VPNにつながりません,テレワーク端末を再起動し、VPNクライアントで再接続してください。,リモートワーク,VPN、つながらない,,2025-05-01\n"
)
ANSWER = "住民票の写しは、区役所の窓口か、マイナンバーカードを使ってコンビニで取れます。手数料は300円です。"


@pytest.fixture
def faq_file(tmp_path: Path) -> Path:
    path = tmp_path / "faq.csv"
    path.write_text(FAQ, encoding="utf-8-sig")
    return path


def stream_info(sent) -> dict | None:
    return next((e for e in sent.body.get("entities") or [] if e.get("type") == "streaminfo"), None)


def message_entity(body: dict) -> dict | None:
    return next((e for e in body.get("entities") or [] if e.get("@type") == "Message"), None)


def answer_body(connector) -> dict:
    """The body of the last text message (sent or updated) the bot delivered."""
    return next(s.body for s in reversed(connector.sent) if s.body.get("type") == "message" and s.body.get("text"))


async def test_a_1to1_model_answer_streams_informative_then_growing_text_then_the_final_message(start_bot, connector, model):
    model.script = [Step(text=ANSWER, chunk_chars=4, chunk_delay_s=0.12)]  # about 2.5 s of tokens
    bot = await start_bot(llm_base_url=model.base_url)
    await bot.post(A.personal_message(connector.url, "住民票の写しの取り方"))
    await bot.drain()
    kinds = [(s.method, s.body["type"], (stream_info(s) or {}).get("streamType")) for s in connector.sent]
    assert kinds[0] == ("POST", "typing", None)  # the typing indicator at once
    assert kinds[1] == ("POST", "typing", "informative")
    streaming = [k for k in kinds[2:-1]]
    assert streaming and all(k == ("POST", "typing", "streaming") for k in streaming)
    assert kinds[-1] == ("POST", "message", "final")
    first, *updates, final = connector.sent[1:]
    assert first.body["text"] == "作成中…" and stream_info(first)["streamSequence"] == 1
    # the conversation's type goes back as received, as the Bot Framework SDKs send it (the Playground needs it)
    assert all(s.body["conversation"]["conversationType"] == "personal" for s in connector.sent)
    stream_id = first.activity_id
    assert [stream_info(u)["streamSequence"] for u in updates] == list(range(2, 2 + len(updates)))
    assert all(stream_info(u)["streamId"] == stream_id for u in updates + [final])
    texts = [u.body["text"] for u in updates]
    assert all(later.startswith(earlier) and later != earlier for earlier, later in zip(texts, texts[1:]))
    assert len(updates) <= 4  # about one a second
    assert final.body["text"] == ANSWER and final.body["id"] == stream_id
    assert message_entity(final.body)["additionalType"] == ["AIGeneratedContent"]
    assert not any(s.method == "PUT" for s in connector.sent) and "作成中…" not in connector.final_texts().values()
    assert model.requests[0]["stream"] is True


async def test_a_channel_answer_is_not_streamed_and_carries_the_ai_label(start_bot, connector, model):
    bot = await start_bot(llm_base_url=model.base_url)
    await bot.post(A.channel_message(connector.url, "議会の日程を教えて"))
    await bot.drain()
    assert connector.stream_activities() == []
    assert "stream" not in model.requests[0]
    [put] = [s for s in connector.sent if s.method == "PUT"]
    assert put.body["text"].startswith("モデルの回答: 議会の日程を教えて")
    assert message_entity(put.body)["additionalType"] == ["AIGeneratedContent"]


async def test_a_stream_refused_by_the_connector_falls_back_to_send_then_update_with_nothing_lost(start_bot, connector, model):
    connector.refuse_streams = {"informative": (400, "BadArgument")}
    bot = await start_bot(llm_base_url=model.base_url)
    await bot.post(A.personal_message(connector.url, "こんにちは"))
    await bot.drain()
    [placeholder] = [s for s in connector.messages() if s.method == "POST"]
    assert placeholder.body["text"] == "作成中…"
    assert connector.final_texts() == {placeholder.activity_id: "モデルの回答: こんにちは"}
    assert "stream" not in model.requests[0]  # the pipeline was not asked to stream


async def test_a_stream_refused_halfway_still_ends_with_the_whole_answer(start_bot, connector, model):
    model.script = [Step(text=ANSWER, chunk_chars=4, chunk_delay_s=0.1)]
    connector.refuse_streams = {"streaming": (429, "Throttled"), "final": (400, "BadArgument")}
    bot = await start_bot(llm_base_url=model.base_url)
    await bot.post(A.personal_message(connector.url, "住民票"))
    await bot.drain()
    assert connector.final_texts() and list(connector.final_texts().values())[-1] == ANSWER  # an ordinary message


async def test_a_model_stream_that_stops_halfway_keeps_the_text_and_says_so(start_bot, connector, model):
    model.script = [Step(text=ANSWER, chunk_chars=6, chunk_delay_s=0.05, break_after_chunks=4)]
    bot = await start_bot(llm_base_url=model.base_url)
    await bot.post(A.personal_message(connector.url, "住民票"))
    await bot.drain()
    final = connector.sent[-1]
    assert stream_info(final)["streamType"] == "final"
    assert final.body["text"].startswith(ANSWER[:24]) and ANSWER not in final.body["text"]
    assert "途中で止まりました" in final.body["text"] and "もう一度送ってください" in final.body["text"]
    assert len(model.requests) == 1  # not retried once text was shown


async def test_offline_answers_carry_no_ai_label_and_service_desk_answers_carry_citations(start_bot, connector, faq_file):
    bot = await start_bot(bindings={DESK: "servicedesk"}, faq_seed=str(faq_file))
    await bot.post(A.personal_message(connector.url, "今日の天気は？"))
    await bot.drain()
    assert message_entity(answer_body(connector)) is None and connector.stream_activities() == []
    await bot.post(A.channel_message(connector.url, "パスワードを忘れてしまった", channel_id=DESK))
    await bot.drain()
    body = answer_body(connector)
    entity = message_entity(body)
    assert "additionalType" not in entity  # the FAQ's own words, not a model's
    [claim] = entity["citation"]
    assert claim["position"] == 1 and "[1]" in body["text"]
    assert claim["appearance"]["name"] == "パスワードを忘れました"
    assert claim["appearance"]["url"] == "https://portal.city.example.lg.jp/ict/password"
    assert claim["appearance"]["abstract"] == "ポータルの「パスワード再設定」から再設定してください。"
    assert claim["appearance"]["keywords"] == ["faq.csv 行 2", "更新日 2025-04-01"]
    assert body["channelData"] == {"feedbackLoopEnabled": True}
    card = connector.latest_answer()["attachments"]
    assert card is None or all("👍" not in a["title"] for a in card[0]["content"]["actions"])  # Teams' own 👍/👎 instead


async def test_model_service_desk_answer_has_a_claim_per_marker_and_shows_search_progress(start_bot, connector, model, faq_file):
    model.script = [Step(text=answer_json("ポータルから再設定できます [1]。VPN は再接続してください [2]。[1]", [1, 2]))]
    bot = await start_bot(bindings={DESK: "servicedesk"}, faq_seed=str(faq_file), llm_base_url=model.base_url)
    await bot.post(A.channel_message(connector.url, "パスワードを忘れ、VPNにもつながりません", channel_id=DESK))
    await bot.drain()
    assert any(s.method == "PUT" and s.body["text"] == "作成中… FAQ を検索しています…" for s in connector.sent)
    body = answer_body(connector)
    entity = message_entity(body)
    assert entity["additionalType"] == ["AIGeneratedContent"]
    positions = [c["position"] for c in entity["citation"]]
    assert positions == sorted(set(positions)) and set(positions) == {1, 2}
    assert all(len(c["appearance"]["abstract"]) <= 160 and len(c["appearance"]["name"]) <= 80 for c in entity["citation"])


async def test_teams_feedback_is_stored_counted_audited_and_shown_to_admins(start_bot, connector, faq_file):
    bot = await start_bot(bindings={DESK: "servicedesk"}, faq_seed=str(faq_file), admins=[ADMIN])
    question = A.channel_message(connector.url, "VPNがつながらない", channel_id=DESK)
    await bot.post(question)
    await bot.drain()
    answered = next(s for s in reversed(connector.sent) if (s.body.get("channelData") or {}).get("feedbackLoopEnabled"))
    before = REGISTRY.get_sample_value("hideki_feedback_total", {"pipeline": "servicedesk", "verdict": "down", "via": "teams"}) or 0
    invoke = A.feedback_invoke(connector.url, answered.activity_id, A.feedback_value("dislike", "手順が古いです"),
                               conversation=question["conversation"])
    response = await bot.post(invoke)
    assert response.status == 200
    [gap] = [g for g in bot.parts.feedback.gaps() if g.kind == "down"]
    assert (gap.question, gap.cited, gap.comment) == ("VPNがつながらない", "ict-002", "手順が古いです")
    after = REGISTRY.get_sample_value("hideki_feedback_total", {"pipeline": "servicedesk", "verdict": "down", "via": "teams"})
    assert after == before + 1
    [row] = [r for r in bot.parts.audit.rows() if r["outcome"] == "feedback_down"]
    assert row["content"] is None and row["pipeline"] == "servicedesk"  # no comment text without content logging
    await bot.post(A.channel_message(connector.url, "FAQ状況", channel_id=DESK, aad=ADMIN))
    await bot.drain()
    status = answer_body(connector)["text"]
    assert "👎 1件" in status and "VPNがつながらない → ict-002（1件）「手順が古いです」" in status


async def test_bad_feedback_invokes_get_a_4xx_and_store_nothing(start_bot, connector, faq_file):
    bot = await start_bot(bindings={DESK: "servicedesk"}, faq_seed=str(faq_file))
    question = A.channel_message(connector.url, "VPNがつながらない", channel_id=DESK)
    await bot.post(question)
    await bot.drain()
    answered = next(s for s in reversed(connector.sent) if (s.body.get("channelData") or {}).get("feedbackLoopEnabled"))
    never_sent = await bot.post(A.feedback_invoke(connector.url, "1700000000000", A.feedback_value("like"),
                                                  conversation=question["conversation"]))
    assert never_sent.status == 404
    elsewhere = await bot.post(A.feedback_invoke(connector.url, answered.activity_id, A.feedback_value("like")))  # a 1:1 chat
    assert elsewhere.status == 404
    for value in ({}, "like", {"actionName": "feedback"}, {"actionName": "feedback", "actionValue": {"reaction": "love"}},
                  {"actionName": "other", "actionValue": {"reaction": "like"}}):
        response = await bot.post(A.feedback_invoke(connector.url, answered.activity_id, value, conversation=question["conversation"]))
        assert response.status == 400, value
    odd_comment = {"actionName": "feedback", "actionValue": {"reaction": "like", "feedback": "{not json"}}
    response = await bot.post(A.feedback_invoke(connector.url, answered.activity_id, odd_comment, conversation=question["conversation"]))
    assert response.status == 200
    assert bot.parts.feedback.counts() == {"unanswered": 0, "up": 1, "down": 0}


async def test_the_1to1_welcome_offers_suggested_actions(start_bot, connector):
    bot = await start_bot()
    activity = A.install_update(connector.url)
    activity["conversation"] = {"id": "a:personal-29:admin", "conversationType": "personal", "tenantId": "tenant-1"}
    activity["channelData"] = {"tenant": {"id": "tenant-1"}}
    response = await bot.post(activity)
    assert response.status == 200
    await bot.drain()
    welcome = next(s.body for s in connector.sent if "こんにちは。Hideki です" in (s.body.get("text") or ""))
    actions = welcome["suggestedActions"]["actions"]
    assert [a["type"] for a in actions] == ["imBack"] * len(actions)
    assert [a["value"] for a in actions][:2] == ["ヘルプ", "設定"] and len(actions) == 3
    assert all(len(a["title"]) <= 20 for a in actions)
    await bot.post(A.install_update(connector.url))  # in a team: no suggested actions (Teams shows them in 1:1 only)
    await bot.drain()
    assert "suggestedActions" not in connector.sent[-1].body
