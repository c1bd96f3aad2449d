"""/api/messages over HTTP with real activities, a scripted Bot Connector and a scripted model."""
from __future__ import annotations

import asyncio
import time

from tests.support import activities as A
from tests.support.model import Step

ADMIN = "aad-admin-1"


def texts(connector) -> list[str]:
    return list(connector.final_texts().values())


async def test_help_in_a_channel_replies_in_the_thread_with_pipelines_binding_and_channel_id(start_bot, connector):
    bot = await start_bot()
    activity = A.channel_message(connector.url, "ヘルプ", channel_id="19:abc@thread.tacv2")
    response = await bot.post(activity)
    assert response.status == 200
    await bot.drain()
    [sent] = connector.messages()
    assert sent.conversation_id == f"19:abc@thread.tacv2;messageid={activity['id']}"
    assert sent.reply_to == activity["id"]  # a reply in the thread, not a new post
    text = sent.body["text"]
    assert "19:abc@thread.tacv2" in text
    assert "このチャネルの機能: **チャット**" in text
    for title in ("やさしい日本語", "Q&A生成", "議事録作成", "サービスデスク"):
        assert title in text


async def test_help_in_a_personal_chat(start_bot, connector):
    bot = await start_bot()
    await bot.post(A.personal_message(connector.url, "ヘルプ"))
    await bot.drain()
    [text] = texts(connector)
    assert "この1対1チャットの機能: **チャット**" in text and "サービスデスク" in text


async def test_channels_route_by_file_binding_id_then_name_then_default(start_bot, connector):
    bot = await start_bot(
        bindings={"19:faq@thread.tacv2": "qa", "議事録": "議事録作成"}, default_pipeline="servicedesk"
    )
    await bot.post(A.channel_message(connector.url, "本文です", channel_id="19:faq@thread.tacv2"))
    await bot.post(A.channel_message(connector.url, "本文です", channel_id="19:mtg@thread.tacv2", channel_name="議事録"))
    await bot.post(A.channel_message(connector.url, "本文です", channel_id="19:other@thread.tacv2"))
    await bot.drain()
    by_conversation = {s.conversation_id.split(";")[0]: s.body["text"] for s in connector.messages()}
    assert "文章が短すぎて" in by_conversation["19:faq@thread.tacv2"]  # Q&A生成
    assert "話者" in by_conversation["19:mtg@thread.tacv2"]  # 議事録作成 explains the transcript format
    assert "FAQ がまだ登録されていません" in by_conversation["19:other@thread.tacv2"]  # サービスデスク, no FAQ yet


async def test_admin_binds_a_channel_from_teams_and_it_survives_a_restart(start_bot, connector):
    bot = await start_bot(admins=[ADMIN])
    await bot.post(A.channel_message(connector.url, "設定 Q&A生成", channel_id="19:x@thread.tacv2", aad="aad-not-admin"))
    await bot.drain()
    assert "管理者だけ" in texts(connector)[-1]
    await bot.post(A.channel_message(connector.url, "設定 Q&A生成", channel_id="19:x@thread.tacv2", aad=ADMIN))
    await bot.drain()
    assert "**Q&A生成** に設定しました" in texts(connector)[-1]

    restarted = await start_bot(admins=[ADMIN])  # same data directory, new process state
    await restarted.post(A.channel_message(connector.url, "設定", channel_id="19:x@thread.tacv2"))
    await restarted.drain()
    assert "**Q&A生成**（qa、Teams から設定）" in texts(connector)[-1]
    await restarted.post(A.channel_message(connector.url, "設定 解除", channel_id="19:x@thread.tacv2", aad=ADMIN))
    await restarted.drain()
    assert "**チャット**（既定）" in texts(connector)[-1]


async def test_unknown_pipeline_name_lists_the_real_ones(start_bot, connector):
    bot = await start_bot(admins=[ADMIN])
    await bot.post(A.channel_message(connector.url, "設定 翻訳", aad=ADMIN))
    await bot.drain()
    assert "「翻訳」という機能はありません" in texts(connector)[-1]


async def test_slow_model_ack_is_immediate_and_placeholder_is_updated_with_the_answer(start_bot, connector, model):
    model.delay_s = 1.5  # slower than the limit we allow the HTTP ack (the real limit is 15 s)
    bot = await start_bot(llm_base_url=model.base_url, streaming=False)  # streamed 1:1 answers: tests/test_teams_ai.py
    started = time.monotonic()
    response = await bot.post(A.personal_message(connector.url, "住民票の写しの取り方を教えて"))
    ack = time.monotonic() - started
    assert response.status == 200 and ack < 0.5
    await connector.wait_for(lambda: any(s.method == "PUT" for s in connector.sent))
    kinds = [(s.method, s.body.get("type"), s.body.get("text")) for s in connector.sent]
    assert kinds[0][1] == "typing"
    assert kinds[1] == ("POST", "message", "作成中…")
    put = [s for s in connector.sent if s.method == "PUT"][-1]
    assert put.activity_id == connector.sent[1].activity_id
    assert put.body["text"].startswith("モデルの回答: 住民票の写しの取り方を教えて")


async def test_long_answers_are_split_under_the_message_limit_and_nothing_is_lost(start_bot, connector, model):
    paragraph = "世田谷区の窓口は平日の午前8時30分から午後5時15分まで開いています。" * 20
    answer = "\n\n".join(f"{i}. {paragraph}" for i in range(40))
    model.script = [Step(text=answer)]
    bot = await start_bot(llm_base_url=model.base_url, max_message_bytes=8000)
    await bot.post(A.personal_message(connector.url, "長い説明をください"))
    await bot.drain()
    parts = [s.body["text"] for s in connector.messages() if s.body["text"] != "作成中…"]
    assert len(parts) > 1
    assert all(len(p.encode()) <= 8000 + 50 for p in parts)
    rebuilt = "".join(p.rsplit("\n\n（", 1)[0] for p in parts)
    assert rebuilt.replace("\n", "") == answer.replace("\n", "")


async def test_429_with_retry_after_is_retried_and_answered(start_bot, connector, model):
    model.script = [Step(status=429, retry_after="0.3"), Step(text="二度目で答えました")]
    bot = await start_bot(llm_base_url=model.base_url)
    await bot.post(A.personal_message(connector.url, "こんにちは"))
    await bot.drain()
    assert len(model.requests) == 2
    assert model.times[1] - model.times[0] >= 0.3
    assert texts(connector)[-1].startswith("二度目で答えました")


async def test_model_timeout_gives_a_clear_japanese_message(start_bot, connector, model):
    model.delay_s = 3
    bot = await start_bot(llm_base_url=model.base_url, llm_timeout_s=0.3, llm_max_retries=1, llm_backoff_s=0.01)
    await bot.post(A.personal_message(connector.url, "こんにちは"))
    await bot.drain()
    assert len(model.requests) == 2
    assert "時間内に返りませんでした" in texts(connector)[-1]
    assert "もう一度送ってください" in texts(connector)[-1]


async def test_offline_mode_says_so_in_one_line(start_bot, connector):
    bot = await start_bot()
    await bot.post(A.personal_message(connector.url, "今日の天気は？"))
    await bot.drain()
    text = texts(connector)[-1]
    assert text.count("生成AIモデルが設定されていないため、ローカル処理で作成しました") == 1


async def test_personal_chat_remembers_the_conversation_across_restarts_until_reset(start_bot, connector, model):
    bot = await start_bot(llm_base_url=model.base_url)
    await bot.post(A.personal_message(connector.url, "私の課は防災課です"))
    await bot.drain()
    restarted = await start_bot(llm_base_url=model.base_url)
    await restarted.post(A.personal_message(connector.url, "私の課はどこでしたか"))
    await restarted.drain()
    second = model.requests[-1]["messages"]
    assert [m["role"] for m in second] == ["system", "user", "assistant", "user"]
    assert second[1]["content"] == "私の課は防災課です"
    assert second[2]["content"].startswith("モデルの回答: 私の課は防災課です")
    await restarted.post(A.personal_message(connector.url, "リセット"))
    await restarted.drain()
    assert texts(connector)[-1] == "会話の記憶を消しました。"
    await restarted.post(A.personal_message(connector.url, "覚えていますか"))
    await restarted.drain()
    assert [m["role"] for m in model.requests[-1]["messages"]] == ["system", "user"]


async def test_memory_is_kept_within_the_token_budget(start_bot, connector, model):
    bot = await start_bot(llm_base_url=model.base_url, memory_tokens=120)
    for i in range(6):
        await bot.post(A.personal_message(connector.url, f"{i}番目の質問です。" + "長い文章" * 10))
        await bot.drain()
    history = model.requests[-1]["messages"][1:-1]
    assert 0 < len(history) < 10  # older turns dropped
    assert history[0]["role"] == "user"
    assert "4番目" in history[-2]["content"]


async def test_install_sends_a_welcome_with_help(start_bot, connector):
    bot = await start_bot()
    response = await bot.post(A.install_update(connector.url))
    assert response.status == 200
    await bot.drain()
    welcome = texts(connector)[-1]
    assert "こんにちは。Hideki です" in welcome
    assert "\n\nチャネルID:" in welcome  # Teams joins single-newline lines: every line break is a paragraph


async def test_card_action_invoke_and_unknown_invoke_are_answered_with_200(start_bot, connector):
    bot = await start_bot()
    response = await bot.post(A.card_invoke(connector.url, {"hideki_action": "help"}))
    assert response.status == 200
    assert (await response.json())["statusCode"] == 200
    await bot.drain()
    assert "Hideki の使い方" in texts(connector)[-1]
    unknown = A.card_invoke(connector.url, {})
    unknown["name"] = "composeExtension/query"
    response = await bot.post(unknown)
    assert response.status == 200


async def test_empty_mention_explains_the_channel(start_bot, connector):
    bot = await start_bot(bindings={"19:easy@thread.tacv2": "yasashii"})
    await bot.post(A.channel_message(connector.url, "  ", channel_id="19:easy@thread.tacv2"))
    await bot.drain()
    assert "このチャネルの機能は **やさしい日本語** です" in texts(connector)[-1]


async def test_a_failing_pipeline_apologises_with_a_correlation_id_and_the_bot_keeps_serving(start_bot, connector, caplog):
    bot = await start_bot()
    chat = bot.parts.registry.get("chat")

    async def explode(request):
        raise RuntimeError("boom")

    original = chat.run
    chat.run = explode
    await bot.post(A.personal_message(connector.url, "こんにちは"))
    await bot.drain()
    apology = texts(connector)[-1]
    assert apology.startswith("申し訳ありません。処理中にエラーが発生しました")
    cid = apology.split("問い合わせ番号: ")[1].rstrip("）")
    assert any(getattr(r, "correlation_id", None) == cid or cid in r.getMessage() or r.exc_info for r in caplog.records if r.levelname == "ERROR")
    chat.run = original
    await bot.post(A.personal_message(connector.url, "もう一度"))
    await bot.drain()
    assert "生成AIモデルが設定されていないため" in texts(connector)[-1]


async def test_connector_throttling_is_retried_and_the_reply_arrives(start_bot, connector):
    bot = await start_bot()
    connector.fail_statuses = [429, 502]
    await bot.post(A.personal_message(connector.url, "ヘルプ"))
    await bot.drain()
    assert "Hideki の使い方" in texts(connector)[-1]


async def test_when_the_runner_is_full_the_user_is_told_at_once(start_bot, connector, model):
    model.delay_s = 1
    bot = await start_bot(llm_base_url=model.base_url, max_pending_jobs=1)
    first = await bot.post(A.personal_message(connector.url, "一つ目"))
    second = await bot.post(A.personal_message(connector.url, "二つ目", user="29:other"))
    assert first.status == second.status == 200
    await bot.drain()
    all_texts = [s.body.get("text") for s in connector.messages()]
    assert any("混み合っています" in (t or "") for t in all_texts)
    assert any((t or "").startswith("モデルの回答: 一つ目") for t in all_texts)


async def test_many_messages_at_once_all_get_their_answer(start_bot, connector, model):
    model.delay_s = 0.2
    bot = await start_bot(llm_base_url=model.base_url, max_concurrent_jobs=8, rate_user_per_minute=0)
    posts = [bot.post(A.channel_message(connector.url, f"質問{i}", channel_id=f"19:c{i}@thread.tacv2")) for i in range(40)]
    responses = await asyncio.gather(*posts)
    assert all(r.status == 200 for r in responses)
    await bot.drain()
    finals = connector.final_texts()
    answered = {t.split("モデルの回答: ")[1].split("\n")[0] for t in finals.values() if "モデルの回答: " in t}
    assert answered == {f"質問{i}" for i in range(40)}


async def test_with_credentials_set_unauthenticated_requests_are_refused_and_get_no_reply(start_bot, connector):
    bot = await start_bot(app_id="00000000-0000-0000-0000-000000000001", app_password="secret", app_tenant_id="tenant-1")
    for headers in (None, {"Authorization": "Bearer not-a-real-token"}):
        response = await bot.post(A.personal_message(connector.url, "ヘルプ"), headers=headers)
        assert response.status == 401
    await bot.drain()
    assert connector.sent == []
