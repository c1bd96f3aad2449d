"""Custom pipelines over HTTP: a scripted Bot Connector and a scripted model, the definitions on disk."""
from __future__ import annotations

from pathlib import Path

import pytest

import channels.custom
from app import build
from channels.definitions import DefinitionError
from tests.conftest import make_settings
from tests.support import activities as A
from tests.support.model import Step

ADMIN = "aad-admin-1"
CHANNEL = "19:kousei@thread.tacv2"
KOUSEI = """\
title = "文章校正"
description = "公用文の書き方に合わせて文章を直します。"
temperature = 0.1
file_types = [".html", ".md"]
"""
SYSTEM = "あなたは市役所の文書担当です。公用文作成の考え方に従って校正してください。\n"
USER = "次の文章を校正してください。\n\n${input}\n"


def define(data_dir: Path, pipeline_id: str, toml: str, **files: str) -> Path:
    folder = data_dir / "pipelines" / pipeline_id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pipeline.toml").write_text(toml, encoding="utf-8")
    for name, text in files.items():
        (folder / f"{name}.md").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def data_dir(tmp_path) -> Path:
    data = tmp_path / "data"
    define(data, "kousei", KOUSEI, system=SYSTEM, user=USER)
    (data / "hideki.toml").write_text(f'admins = ["{ADMIN}"]\n\n[bindings]\n"{CHANNEL}" = "kousei"\n', encoding="utf-8")
    return data


def answer(connector) -> str:
    return connector.latest_answer()["text"]


async def test_bound_in_the_settings_file_it_answers_in_its_channel_with_its_own_prompts(start_bot, connector, model, data_dir):
    model.script = [Step(text="令和7年4月1日から、手数料を改定します。")]
    bot = await start_bot(llm_base_url=model.base_url)
    await bot.post(A.channel_message(connector.url, "令和7年4月1日より手数料を改訂いたします。", channel_id=CHANNEL))
    await bot.drain()
    [sent] = model.requests
    assert sent["messages"] == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "次の文章を校正してください。\n\n令和7年4月1日より手数料を改訂いたします。\n"},
    ]
    assert sent["temperature"] == 0.1  # the definition's parameters reach the model call
    assert answer(connector).startswith("令和7年4月1日から、手数料を改定します。")
    [record] = bot.parts.audit.rows()  # audited and counted as its own pipeline
    assert (record["pipeline"], record["outcome"], record["llm_calls"]) == ("kousei", "ok", 1)


async def test_it_is_listed_by_help_and_bindable_with_its_title(start_bot, connector, data_dir):
    bot = await start_bot()
    await bot.post(A.channel_message(connector.url, "ヘルプ", channel_id=CHANNEL))
    await bot.drain()
    text = answer(connector)
    assert "このチャネルの機能: **文章校正**（kousei、設定ファイル（チャネルID））" in text
    assert "- **文章校正**（kousei）: 公用文の書き方に合わせて文章を直します。" in text
    await bot.post(A.channel_message(connector.url, "設定 文章校正", channel_id="19:other@thread.tacv2", aad=ADMIN))
    await bot.drain()
    assert "このチャネルを **文章校正** に設定しました" in answer(connector)
    await bot.post(A.channel_message(connector.url, "本文です。", channel_id="19:other@thread.tacv2"))
    await bot.drain()
    assert answer(connector) == "ℹ️ 「文章校正」には生成AIモデルが必要です。生成AIモデルが使えるようになってから、もう一度送ってください。"


async def test_it_takes_a_file_in_a_personal_chat(start_bot, connector, model, data_dir):
    bot = await start_bot(llm_base_url=model.base_url)
    url = connector.file_url("notice.html", "<html><body><p>区役所は移転いたします。</p></body></html>".encode())
    await bot.post(A.personal_message(connector.url, "", attachments=[A.file_attachment("notice.html", url)]))
    await bot.drain()
    assert model.requests[-1]["messages"][-1]["content"] == "次の文章を校正してください。\n\n区役所は移転いたします。\n"
    # a type a built-in pipeline also takes: the message names the pipeline
    define(data_dir, "yoyaku", 'title = "要約"\ndescription = "要約します。"\nfile_types = [".txt"]\nsystem = "要約して"\n')
    restarted = await start_bot(llm_base_url=model.base_url)
    url = connector.file_url("memo.txt", "会議は3月5日に開きます。".encode())
    await restarted.post(A.personal_message(connector.url, "要約", attachments=[A.file_attachment("memo.txt", url)]))
    await restarted.drain()
    assert model.requests[-1]["messages"] == [{"role": "system", "content": "要約して"},
                                              {"role": "user", "content": "会議は3月5日に開きます。"}]


async def test_new_and_edited_definitions_are_picked_up_and_a_broken_edit_keeps_the_old_one(
        start_bot, connector, model, data_dir, monkeypatch, caplog):
    monkeypatch.setattr(channels.custom, "RECHECK_S", 0.0)
    bot = await start_bot(llm_base_url=model.base_url)
    define(data_dir, "eiyaku", 'title = "英訳"\ndescription = "英語に訳します。"\nsystem = "Translate into plain English."\n')
    await bot.post(A.channel_message(connector.url, "設定 英訳", channel_id="19:en@thread.tacv2", aad=ADMIN))
    await bot.drain()
    assert "**英訳** に設定しました" in answer(connector)
    define(data_dir, "eiyaku", 'title = "英訳"\ndescription = "英語に訳します。"\nsystem = "Translate for foreign residents."\n')
    await bot.post(A.channel_message(connector.url, "こんにちは", channel_id="19:en@thread.tacv2"))
    await bot.drain()
    assert model.requests[-1]["messages"][0]["content"] == "Translate for foreign residents."
    define(data_dir, "eiyaku", 'title = "英訳"\ndescription = "英語に訳します。"\nsystem = "${__import__}"\n')
    await bot.post(A.channel_message(connector.url, "さようなら", channel_id="19:en@thread.tacv2"))
    await bot.drain()
    assert model.requests[-1]["messages"][0]["content"] == "Translate for foreign residents."
    assert "eiyaku/pipeline.toml の 3 行目: 使えない変数 ${__import__}" in caplog.text


def test_a_broken_definition_stops_start_up_naming_the_file_and_line(tmp_path, data_dir):
    define(data_dir, "bad", 'title = "壊れた定義"\ndescription = "x"\nsystem = "s"\nsteps = ["run_shell"]\n')
    with pytest.raises(DefinitionError, match=r"bad/pipeline.toml の 4 行目: steps.0: 使えない値です"):
        build(make_settings(tmp_path))


def test_a_binding_to_an_unknown_pipeline_still_stops_start_up(tmp_path, data_dir):
    (data_dir / "hideki.toml").write_text('[bindings]\n"19:x@thread.tacv2" = "honyaku"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="未登録のパイプライン 'honyaku'"):
        build(make_settings(tmp_path))


EIYAKU = """\
id = "eiyaku"
title = "英訳"
description = "外国人住民向けに、やさしい英語に訳します。"
system = "Translate into plain English."
"""


async def press(bot, connector, button: dict, aad: str = ADMIN) -> None:
    activity = A.personal_message(connector.url, "", aad=aad)
    activity.update(text=None, value=button["data"])
    await bot.post(activity)
    await bot.drain()


async def test_an_admin_uploads_a_definition_sees_a_preview_and_applies_it(start_bot, connector, data_dir, monkeypatch):
    monkeypatch.setattr(channels.custom, "RECHECK_S", 0.0)
    bot = await start_bot()
    url = connector.file_url("eiyaku.toml", EIYAKU.encode())
    await bot.post(A.personal_message(connector.url, "", aad=ADMIN, attachments=[A.file_attachment("eiyaku.toml", url)]))
    await bot.drain()
    preview = connector.latest_answer()
    assert "**パイプライン定義の確認**: 新しい機能「英訳」（eiyaku）を追加します" in preview["text"]
    assert "Translate into plain English." in preview["text"] and "${input}" in preview["text"]
    apply, cancel = preview["attachments"][0]["content"]["actions"]
    assert (apply["title"], cancel["title"]) == ("反映", "取り消し")
    await press(bot, connector, apply)
    assert "**英訳**（eiyaku）を反映しました" in answer(connector)
    assert (data_dir / "pipelines" / "eiyaku" / "pipeline.toml").read_text(encoding="utf-8") == EIYAKU
    await bot.post(A.channel_message(connector.url, "設定 英訳", channel_id="19:en@thread.tacv2", aad=ADMIN))
    await bot.drain()
    assert "**英訳** に設定しました" in answer(connector)

    # a second version: the preview says what changes, the first version goes to the history
    url = connector.file_url("eiyaku.toml", EIYAKU.replace("plain English.", "plain English for residents.").encode())
    await bot.post(A.personal_message(connector.url, "", aad=ADMIN, attachments=[A.file_attachment("eiyaku.toml", url)]))
    await bot.drain()
    preview = connector.latest_answer()
    assert "「英訳」（eiyaku）を置き換えます（変わる項目: システムプロンプト）" in preview["text"]
    await press(bot, connector, preview["attachments"][0]["content"]["actions"][1])  # 取り消し
    assert "取り消しました" in answer(connector)
    assert "plain English." in (data_dir / "pipelines" / "eiyaku" / "pipeline.toml").read_text(encoding="utf-8")
    await bot.post(A.personal_message(connector.url, "", aad=ADMIN, attachments=[A.file_attachment("eiyaku.toml", url)]))
    await bot.drain()
    await press(bot, connector, connector.latest_answer()["attachments"][0]["content"]["actions"][0])
    assert "前の版は .history/eiyaku/" in answer(connector)
    [kept] = (data_dir / "pipelines" / ".history" / "eiyaku").iterdir()
    assert (kept / "pipeline.toml").read_text(encoding="utf-8") == EIYAKU


async def test_a_broken_upload_is_refused_with_the_line_and_a_non_admin_politely(start_bot, connector, data_dir):
    bot = await start_bot()
    url = connector.file_url("eiyaku.toml", (EIYAKU + 'system2 = "x"\n').encode())
    await bot.post(A.personal_message(connector.url, "", aad=ADMIN, attachments=[A.file_attachment("eiyaku.toml", url)]))
    await bot.drain()
    assert "この定義は反映できません" in answer(connector) and "eiyaku.toml の 5 行目: system2: 知らない項目です" in answer(connector)
    url = connector.file_url("pipeline.toml", 'title = "x"\ndescription = "y"\nsystem = "s"\n'.encode("utf-16"))
    await bot.post(A.personal_message(connector.url, "", aad=ADMIN, attachments=[A.file_attachment("pipeline.toml", url)]))
    await bot.drain()
    assert "UTF-8 ではありません" in answer(connector)
    url = connector.file_url("eiyaku.toml", EIYAKU.encode())
    await bot.post(A.personal_message(connector.url, "", aad="aad-staff-1", attachments=[A.file_attachment("eiyaku.toml", url)]))
    await bot.drain()
    assert answer(connector).startswith("パイプライン定義の反映は、管理者だけができます。")
    assert not (data_dir / "pipelines" / "eiyaku").exists()


async def test_the_definition_upload_is_not_a_channel_function(start_bot, connector, data_dir):
    """パイプライン定義 is reached by sending a .toml in a 1:1 chat: ヘルプ does not list it and 設定 refuses it."""
    bot = await start_bot()
    await bot.post(A.channel_message(connector.url, "ヘルプ", channel_id=CHANNEL))
    await bot.drain()
    assert "文章校正" in answer(connector) and "パイプライン定義" not in answer(connector)
    await bot.post(A.channel_message(connector.url, "設定 パイプライン定義", channel_id=CHANNEL, aad=ADMIN))
    await bot.drain()
    assert answer(connector).startswith("「パイプライン定義」という機能はありません。")
    assert "パイプライン定義" not in answer(connector).split("使える機能:", 1)[1]
