"""議事録作成 in Teams: pasted text and files, offline extraction, the model path's traceability and checks."""
from __future__ import annotations

import json
from pathlib import Path

from hideki.minutes.transcripts import parse_transcript
from tests.support import activities as A
from tests.support.model import Step

MEETINGS = Path(__file__).parent / "fixtures" / "meetings"
BINDINGS = {"19:mtg@thread.tacv2": "minutes"}


def post(connector, text: str):
    return A.channel_message(connector.url, text, channel_id="19:mtg@thread.tacv2")


def final(connector) -> str:
    """The text of the last message with text (in a 1:1 chat the minutes.docx consent card follows it)."""
    return [s for s in connector.sent if s.body.get("type") == "message" and "text" in s.body][-1].body["text"]


async def test_pasted_transcript_gives_minutes_from_the_template_offline(start_bot, connector):
    bot = await start_bot(bindings=BINDINGS)
    await bot.post(post(connector, (MEETINGS / "07_kouhou.txt").read_text(encoding="utf-8")))
    await bot.drain()
    text = final(connector)
    for heading in ("**会議名**: 広報誌10月号 編集会議", "**日時**: 2025年8月19日（火）", "**出席者**: 長谷川、石井、藤田",
                    "**決定事項**", "**ToDo**", "- **担当**: ", "**次回予定**", "**保留事項**"):
        assert heading in text
    assert "ローカル処理で作成しました" in text


async def test_a_teams_vtt_file_in_a_personal_chat(start_bot, connector):
    bot = await start_bot()
    url = connector.file_url("bousai.vtt", (MEETINGS / "01_bousai.vtt").read_bytes())
    await bot.post(A.personal_message(connector.url, "", attachments=[A.file_attachment("bousai.vtt", url)]))
    await bot.drain()
    text = final(connector)
    assert "田中 健一" in text and "**決定事項**" in text and "00:0" in text  # items point at the time of the utterance


async def test_text_without_speakers_explains_what_is_expected(start_bot, connector):
    bot = await start_bot(bindings=BINDINGS)
    await bot.post(post(connector, "今日の会議では予算について話し合いました。\n来週また集まります。"))
    await bot.drain()
    text = final(connector)
    assert "話者" in text and "貼り付けてください" in text


async def test_with_a_model_items_must_point_at_the_transcript_and_facts_are_checked(start_bot, connector, model):
    source = (MEETINGS / "07_kouhou.txt").read_text(encoding="utf-8")
    utterances = parse_transcript(source).utterances
    decided = next(u for u in utterances if "特集は防災で" in u.text)
    offered = next(u for u in utterances if u.speaker == "藤田" and "インタビュー" in u.text)
    answer = {
        "agenda": ["10月号の特集"], "summary": ["特集は防災に決まった。"],
        "decisions": [{"text": "10月号の特集は防災とする", "speaker": decided.speaker, "start": f"{decided.line}行"},
                      {"text": "表紙は佐々木さんが撮影する", "speaker": "山本", "start": "00:59:00"}],
        "todos": [{"task": "インタビューの依頼", "owner": "藤田", "due": "来週中", "due_date": "",
                   "speaker": "藤田", "start": f"{offered.line}行"}],
        "next_meeting": "", "pending": [],
    }
    model.script = [Step(text=json.dumps(answer, ensure_ascii=False))]
    bot = await start_bot(bindings=BINDINGS, llm_base_url=model.base_url)
    await bot.post(post(connector, (MEETINGS / "07_kouhou.txt").read_text(encoding="utf-8")))
    await bot.drain()
    text = final(connector)
    assert f"10月号の特集は防災とする（{decided.line}行 {decided.speaker}）" in text
    assert "⚠️ 発言の話者・時刻を確認できない項目があります: 表紙は佐々木さんが撮影する。" in text
    assert "⚠️ 文字起こしにない名前・日付・数字" in text and "佐々木" in text
    prompt = model.requests[0]["messages"][1]["content"]
    assert f"[{decided.line}行] {decided.speaker}: {decided.text}" in prompt


async def test_a_long_meeting_is_processed_map_reduce_with_progress(start_bot, connector, model):
    lines = (MEETINGS / "07_kouhou.txt").read_text(encoding="utf-8").splitlines()
    header, body = lines[:3], [l for l in lines[3:] if l.strip()]
    transcript = "\n".join(header + body * 60)  # about 3 hours of talk: too long to paste, so it comes as a file
    notes = {"agenda": [], "summary": ["要点"], "decisions": [], "todos": [], "next_meeting": "", "pending": []}
    model.answer = lambda messages: json.dumps(notes, ensure_ascii=False)
    model.delay_s = 0.1  # each call: the run outlasts a streamed progress line's wait (Teams: one update a second)
    bot = await start_bot(llm_base_url=model.base_url, llm_context_tokens=8000, llm_max_tokens=1000)
    url = connector.file_url("kouhou.txt", transcript.encode("utf-8"))
    await bot.post(A.personal_message(connector.url, "", attachments=[A.file_attachment("kouhou.txt", url)]))
    await bot.drain()
    maps = [r for r in model.requests if "全 " in r["messages"][1]["content"]]
    reduces = [r for r in model.requests if "分けて整理したメモ" in r["messages"][1]["content"]]
    assert len(maps) > 2 and reduces
    assert sum(len(r["messages"][1]["content"]) for r in maps) > len(transcript) * 0.9  # nothing silently dropped
    # a 1:1 chat with a model streams: progress comes as Teams' informative updates after the first 「作成中…」
    progress = [s.body["text"] for s in connector.stream_activities()
                if s.body["type"] == "typing" and s.body["entities"][0]["streamType"] == "informative"][1:]
    assert progress and "/" in progress[0]
    assert "**要旨**" in final(connector)
