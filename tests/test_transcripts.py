"""Transcript parsing: Teams .vtt/.docx, pasted text formats, headers, encodings and errors."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from hideki.minutes.transcripts import Transcript, TranscriptError, parse_transcript

FIXTURES = Path(__file__).parent / "fixtures" / "meetings"
MEETINGS = sorted(p for p in FIXTURES.iterdir() if p.suffix in (".vtt", ".docx", ".txt"))


def _docx(paragraphs: list[str]) -> bytes:
    docx = pytest.importorskip("docx")
    document = docx.Document()
    for p in paragraphs:
        document.add_paragraph(p)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# ----------------------------------------------------------------------------- fixtures

def test_fixture_set_mixes_formats():
    suffixes = [p.suffix for p in MEETINGS]
    assert len(MEETINGS) >= 10
    assert suffixes.count(".vtt") >= 4 and suffixes.count(".docx") >= 2 and suffixes.count(".txt") >= 2
    for p in MEETINGS:
        assert p.with_name(p.stem + ".gold.json").exists()


@pytest.mark.parametrize("path", MEETINGS, ids=lambda p: p.name)
def test_fixture_parses(path: Path):
    t = parse_transcript(path.read_bytes(), path.name)
    gold = json.loads(path.with_name(path.stem + ".gold.json").read_text(encoding="utf-8"))
    assert 15 <= len(t.utterances) <= 60
    assert len(t.speakers) >= 3
    assert t.source == {".vtt": "vtt", ".docx": "docx", ".txt": "text"}[path.suffix]
    assert all(u.text.strip() and u.speaker and u.line > 0 for u in t.utterances)
    lines = [u.line for u in t.utterances]
    assert lines == sorted(lines) and len(set(lines)) == len(lines)
    if path.suffix != ".vtt":   # the files with a header carry the title and the date
        assert t.title == gold["title"]
        assert t.date == gold["meeting_date"]
    if path.suffix == ".vtt" or path.name.startswith(("05", "09")):
        assert all(len(u.start) == 8 for u in t.utterances)


def test_vtt_merges_cues_of_one_speaker_and_keeps_first_time_and_line():
    path = FIXTURES / "01_bousai.vtt"
    t = parse_transcript(path.read_bytes(), path.name)
    first = t.utterances[0]
    assert first.speaker == "田中 健一"
    assert first.text.startswith("えー、皆さんお疲れ様です。") and first.text.endswith("決めたいと思います。")
    assert first.start == "00:00:03"
    assert first.line == 5    # the cue text line in the file
    assert path.read_text(encoding="utf-8").splitlines()[first.line - 1].startswith("<v 田中 健一>")
    assert all(a.speaker != b.speaker for a, b in zip(t.utterances, t.utterances[1:]))


def test_vtt_voice_class_tags_and_entities():
    vtt = ("WEBVTT\n\nNOTE exported\n\n00:00:01.000 --> 00:00:02.000\n<v.loud 佐藤>A&amp;B の件です。</v>\n\n"
           "00:01:02.500 --> 00:01:03.000\n<v 鈴木>了解<c.x>です</c>。</v>\n")
    t = parse_transcript(vtt, "")
    assert [(u.speaker, u.text, u.start) for u in t.utterances] == [
        ("佐藤", "A&B の件です。", "00:00:01"), ("鈴木", "了解です。", "00:01:02")]


def test_vtt_without_speakers_is_an_error():
    vtt = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nこんにちは\n\n00:00:03.000 --> 00:00:04.000\nよろしく\n"
    with pytest.raises(TranscriptError, match="話者が見つかりません"):
        parse_transcript(vtt.encode(), "会議.vtt")


def test_vtt_file_without_header_is_an_error():
    with pytest.raises(TranscriptError, match="WEBVTT"):
        parse_transcript("田中: こんにちは\n鈴木: はい".encode(), "x.vtt")


# ----------------------------------------------------------------------------- .docx

def test_docx_name_and_time_lines():
    data = _docx(["定例会議", "2025年4月1日 10:00", "田中 太郎   0:03", "おはようございます。", "本日はよろしく。",
                  "Suzuki Hanako 1:02:05", "はい、よろしくお願いします。", "田中 太郎   1:03:00", "では始めます。"])
    t = parse_transcript(data, "transcript.docx")
    assert t.source == "docx" and t.title == "定例会議" and t.date == "2025-04-01"
    assert [(u.speaker, u.start, u.line) for u in t.utterances] == [
        ("田中 太郎", "00:00:03", 3), ("Suzuki Hanako", "01:02:05", 6), ("田中 太郎", "01:03:00", 8)]
    assert t.utterances[0].text == "おはようございます。本日はよろしく。"


def test_docx_speaker_colon_paragraphs():
    data = _docx(["会議名：窓口改善", "田中：始めます。", "鈴木: はい。", "続けて説明します。", "佐藤：了解です。"])
    t = parse_transcript(data, "minutes.docx")
    assert t.title == "窓口改善"
    assert [u.speaker for u in t.utterances] == ["田中", "鈴木", "佐藤"]
    assert t.utterances[1].text == "はい。続けて説明します。"


def test_docx_that_is_not_a_transcript():
    data = _docx(["お知らせ", "令和7年度の窓口の開庁時間は次のとおりです。", "平日は8時30分から17時15分までです。"])
    with pytest.raises(TranscriptError, match="文字起こしではない"):
        parse_transcript(data, "お知らせ.docx")


def test_broken_docx():
    with pytest.raises(TranscriptError, match=".docx"):
        parse_transcript(b"PK\x03\x04 not really a zip", "x.docx")
    with pytest.raises(TranscriptError, match=".docx"):
        parse_transcript("田中: はい\n鈴木: いいえ".encode(), "x.docx")


# ----------------------------------------------------------------------------- text

def test_text_formats_and_continuation_lines():
    text = ("件名: 防災訓練の打ち合わせ\n日時: 令和7年4月1日（火）14:00\n議題: 日程、会場\n出席者: 田中、鈴木\n\n"
            "田中: それでは始めます。\n今日は日程を決めます。\n"
            "鈴木：はい。\n期限: 4月10日\n"
            "【佐藤】会場はどうしますか。\n"
            "○議長（山田太郎君）　ただいまから会議を開きます。\n"
            "[00:01:02] 高橋: 了解です。\n"
            "伊藤 (00:02:03): 承知しました。\n")
    t = parse_transcript(text)
    assert t.title == "防災訓練の打ち合わせ" and t.date == "2025-04-01"
    assert t.agenda == ["日程", "会場"] and t.participants == ["田中", "鈴木"]
    assert [(u.speaker, u.line, u.start) for u in t.utterances] == [
        ("田中", 6, ""), ("鈴木", 8, ""), ("佐藤", 10, ""), ("議長(山田太郎君)", 11, ""),
        ("高橋", 12, "00:01:02"), ("伊藤", 13, "00:02:03")]
    assert t.utterances[0].text == "それでは始めます。\n今日は日程を決めます。"
    assert t.utterances[1].text == "はい。\n期限: 4月10日"     # a label line is not a speaker


def test_title_and_date_from_the_file_name():
    t = parse_transcript("田中: はい\n鈴木: いいえ".encode(), "2025-06-05_子育てフェスタ実行委員会.txt")
    assert t.date == "2025-06-05" and t.title == "子育てフェスタ実行委員会"
    assert parse_transcript("田中: はい\n鈴木: いいえ".encode(), "meeting_transcript.txt").title == ""


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932", "utf-16", "utf-16-le"])
def test_encodings(encoding: str):
    text = "会議名：予算調整\n田中：おはようございます。\n鈴木：はい、よろしくお願いします。\n"
    t = parse_transcript(text.encode(encoding), "会議.txt")
    assert t.title == "予算調整"
    assert [u.speaker for u in t.utterances] == ["田中", "鈴木"]


def test_vtt_in_utf16():
    vtt = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v 田中>はい。</v>\n"
    assert parse_transcript(vtt.encode("utf-16"), "a.vtt").utterances[0].speaker == "田中"


@pytest.mark.parametrize("data,name,message", [
    ("", "", "空"),
    ("   \n\n", "", "空"),
    ("田中: こんにちは", "", "1行しかありません"),
    ("今日は晴れです。\n明日は雨です。\n", "", "話者が見つかりません"),
    (b"%PDF-1.4 ...", "minutes.pdf", "対応していません"),
    (b"PK\x03\x04zipdata", "archive.zip", "対応していません"),
    (b"PK\x03\x04zipdata", "", "docx"),
])
def test_errors(data, name: str, message: str):
    with pytest.raises(TranscriptError, match=message) as info:
        parse_transcript(data, name)
    if "話者" in message:
        assert "期待する形式" in str(info.value)


def test_transcript_helpers():
    t = parse_transcript("田中: はい\n鈴木: いいえ\n田中: では")
    assert isinstance(t, Transcript)
    assert t.speakers == ["田中", "鈴木"]
    assert t.text.splitlines()[1] == "鈴木: いいえ"
