"""The extractive minutes engine: deadlines, owners, decisions, traceability, Markdown, fact check, speed."""
from __future__ import annotations

import datetime as dt
import json
import re
import time
import unicodedata
from collections import Counter
from functools import lru_cache
from pathlib import Path
from string import Template

import pytest

from hideki.minutes.checks import minutes_facts_check
from hideki.minutes.dates import find_deadline
from hideki.minutes.extract import Minutes, Todo, extract_minutes, sections
from hideki.minutes.summary import summarize
from hideki.minutes.units import clean_text
from hideki.minutes.transcripts import parse_transcript
from prompts import PromptLibrary

FIXTURES = Path(__file__).parent / "fixtures" / "meetings"
MEETINGS = sorted(p for p in FIXTURES.iterdir() if p.suffix in (".vtt", ".docx", ".txt"))
BASE = dt.date(2025, 4, 8)   # a Tuesday
TEMPLATE = Template(PromptLibrary().path_of("minutes", "minutes").read_text(encoding="utf-8"))  # the shipped layout


@lru_cache(maxsize=None)
def _load(path: Path):
    gold = json.loads(path.with_name(path.stem + ".gold.json").read_text(encoding="utf-8"))
    transcript = parse_transcript(path.read_bytes(), path.name)
    return transcript, gold, extract_minutes(transcript, dt.date.fromisoformat(gold["meeting_date"]))


def _minutes_of(text: str, date: dt.date = BASE) -> Minutes:
    return extract_minutes(parse_transcript(text), date)


# ----------------------------------------------------------------------------- deadlines

@pytest.mark.parametrize("text,expected", [
    ("来週金曜までにお願いします", "2025-04-18"),
    ("来週の金曜日までに作ります", "2025-04-18"),
    ("今週中にお願いします", "2025-04-11"),
    ("来週中に調整します", "2025-04-18"),
    ("来週までに送ります", "2025-04-18"),
    ("月末までに出してください", "2025-04-30"),
    ("今月中でいいです", "2025-04-30"),
    ("来月上旬に", "2025-05-10"),
    ("来月末までに", "2025-05-31"),
    ("6月末までにスケジュール案を作ります", "2025-06-30"),
    ("4月10日までにお願いします", "2025-04-10"),
    ("４月１０日までに", "2025-04-10"),
    ("令和7年5月1日までに", "2025-05-01"),
    ("2025/5/7までに", "2025-05-07"),
    ("15日までに出します", "2025-04-15"),
    ("5日までに出します", "2025-05-05"),      # day 5 has passed: next month
    ("明日中に共有します", "2025-04-09"),
    ("明後日までに", "2025-04-10"),
    ("3日後に", "2025-04-11"),
    ("2週間後までに", "2025-04-22"),
    ("3営業日以内に", "2025-04-11"),
    ("金曜日までに報告します", "2025-04-11"),
    ("月曜日までに", "2025-04-14"),
    ("今日中に話します", "2025-04-08"),
    ("年度末までに", "2026-03-31"),
    ("週明けに", "2025-04-14"),
    ("1月20日までに", "2026-01-20"),          # far in the past: next year
])
def test_deadline_normalisation(text: str, expected: str):
    deadline = find_deadline(text, BASE)
    assert deadline is not None and deadline.date is not None
    assert deadline.date.isoformat() == expected


def test_deadline_next_meeting():
    assert find_deadline("次回までに案を作ります", BASE, dt.date(2025, 4, 22)).date == dt.date(2025, 4, 22)
    unresolved = find_deadline("次回の会議までに整理します", BASE, None)
    assert unresolved is not None and unresolved.date is None and unresolved.text.startswith("次回の会議まで")


def test_deadline_prefers_the_one_marked_as_due():
    d = find_deadline("5月25日の訓練に向けて、案内文を4月18日までに作ります", BASE)
    assert d.date == dt.date(2025, 4, 18) and d.text == "4月18日までに"


def test_durations_are_not_deadlines():
    assert find_deadline("座学は1日に収めて、午後はロールプレイにします", BASE) is None
    assert find_deadline("研修期間は2週間です", BASE) is None


# ----------------------------------------------------------------------------- owners and items

def test_request_owner_is_the_addressee_and_commitment_owner_the_speaker():
    m = _minutes_of(
        "課長: 田中さん、避難所マニュアルの改訂案をお願いします。4月18日までにお願いします。\n"
        "田中: 承知しました。\n"
        "鈴木: 私が業者に見積もりを依頼しておきます。\n"
        "課長: 防災課の方で備蓄の確認をお願いします。\n"
        "佐藤: あの、会場の件はどうしますか。\n"
        "課長: 会場の予約、お願いできますか。\n"
        "佐藤: はい、わかりました。来週中に押さえます。\n")
    rows = [(t.owner, t.due) for t in m.todos]
    assert rows == [("田中", "2025-04-18"), ("鈴木", ""), ("防災課", ""), ("佐藤", "2025-04-18")]
    first = m.todos[0]
    assert first.task.startswith("避難所マニュアルの改訂案をお願いします") and first.due_text == "4月18日までに"
    assert (first.speaker, first.line) == ("課長", 1)


def test_owner_matches_a_full_speaker_name():
    m = _minutes_of("山本 浩二: 小林さん、ポスターのデザインを作ってもらえますか。\n小林 翔太: はい、やります。\n")
    assert [t.owner for t in m.todos] == ["小林 翔太"]


def test_pleasantries_and_floor_passing_are_not_todos():
    m = _minutes_of("司会: それでは始めます。よろしくお願いします。\n司会: 中村さん、ご説明をお願いします。\n"
                    "中村: はい、ご説明します。\n司会: 田中さん、お願いします。\n田中: ありがとうございました。\n")
    assert m.todos == []


def test_decisions_pending_and_next_meeting():
    m = _minutes_of(
        "会議名：広報会議\n日時：2025年4月8日\n"
        "課長: 特集は防災でいきたいと思いますが、よろしいでしょうか。\n"
        "田中: 異議なし。\n"
        "鈴木: 異議ありません。\n"
        "課長: 表紙の写真は、一旦保留にします。\n"
        "課長: チラシは全戸配布とすることにします。\n"
        "課長: まだ配布日は決まっていません。\n"
        "課長: 次回は4月22日火曜日の10時からです。\n"
        "田中: 次回までに原稿を作ります。\n")
    assert [d.text for d in m.decisions] == ["特集は防災でいきたいと思いますが、よろしいでしょうか",
                                              "チラシは全戸配布とすることにします"]
    assert [d.line for d in m.decisions] == [3, 7]
    assert [p.text for p in m.pending] == ["表紙の写真は、一旦保留にします"]
    assert m.next_meeting_date == "2025-04-22" and "4月22日" in m.next_meeting
    assert [(t.owner, t.due, t.due_text) for t in m.todos] == [("田中", "2025-04-22", "次回まで")]
    assert m.title == "広報会議" and m.attendees == ["課長", "田中", "鈴木"]


def test_clean_text_removes_fillers_only():
    assert clean_text("えーと、あのー、その件はまあ、来週までに、はい、やります。") == "その件はまあ、来週までに、やります。"
    assert clean_text("あの件について") == "あの件について"


# ----------------------------------------------------------------------------- fixtures against gold

def _match_text(text: str) -> str:
    return re.sub(r"[\s、。，．,.!?！？「」『』（）()・:：]", "", unicodedata.normalize("NFKC", clean_text(text)))


def _covered(gold: str, found: str) -> bool:
    g, f = _match_text(gold), _match_text(found)
    gb = Counter(g[i:i + 2] for i in range(len(g) - 1))
    fb = Counter(f[i:i + 2] for i in range(len(f) - 1))
    return sum((gb & fb).values()) >= 0.5 * sum(gb.values())


def test_fixtures_recall_and_owners():
    found = total = owners_ok = dues_ok = dec_found = dec_total = 0
    for path in MEETINGS:
        transcript, gold, minutes = _load(path)
        for d in gold["decisions"]:
            dec_total += 1
            dec_found += any(_covered(d["text"], x.text) for x in minutes.decisions)
        for g in gold["todos"]:
            total += 1
            hit = next((t for t in minutes.todos if _covered(g["text"], t.task)), None)
            if hit is None:
                continue
            found += 1
            owners_ok += bool(g["owner"]) and g["owner"].split(" ")[0] in hit.owner or not g["owner"] and not hit.owner
            dues_ok += (g["due"] or "") == hit.due
    assert dec_found / dec_total >= 0.9
    assert found / total >= 0.9
    assert owners_ok / found >= 0.9 and dues_ok / found >= 0.85


@pytest.mark.parametrize("path", MEETINGS, ids=lambda p: p.name)
def test_items_trace_back_to_their_utterance(path: Path):
    transcript, _, minutes = _load(path)
    by_line = {u.line: u for u in transcript.utterances}
    items = [(d.text, d.speaker, d.start, d.line) for d in minutes.decisions + minutes.pending + minutes.summary_items]
    items += [(t.task, t.speaker, t.start, t.line) for t in minutes.todos]
    assert items
    for text, speaker, start, line in items:
        u = by_line[line]
        assert u.speaker == speaker and u.start == start
        head = _match_text(text)[:6]
        following = "".join(x.text for x in transcript.utterances if x.line >= line)[:2000]
        assert head in _match_text(following)
    assert set(minutes.attendees) >= set(transcript.speakers)


def test_render_markdown():
    path = FIXTURES / "02_dx.vtt"
    _, _, minutes = _load(path)
    md = TEMPLATE.substitute(sections(minutes))
    for heading in ("**会議名**", "**日時**: 2025年5月14日（水）", "**出席者**", "**議題**", "**要旨**", "**決定事項**",
                    "**ToDo**", "**次回予定**", "**保留事項**"):
        assert heading in md
    assert "| 担当 | 内容 | 期限 | 発言 |" in md and "|---|---|---|---|" in md
    assert "| 小林 翔太 | ポスターのデザイン、作ってもらえますか" in md
    assert "5月23日（金）" in md
    assert "- 電子申請の拡大" in md     # agenda from the chair's announcements
    assert len(minutes.summary) == 5


def test_empty_sections_render_as_none():
    md = TEMPLATE.substitute(sections(_minutes_of("田中: おはようございます。\n鈴木: おはようございます。\n")))
    assert "**決定事項**\n- なし" in md and "**ToDo**\n- なし" in md and "**次回予定**\n- 未定" in md


# ----------------------------------------------------------------------------- fact check

def test_facts_check_flags_what_the_transcript_does_not_say():
    path = FIXTURES / "01_bousai.vtt"
    transcript = parse_transcript(path.read_bytes(), path.name)
    transcript.date = "2025-04-08"
    # supported: era form of a date said in the Western form, full-width digits, a relative date resolved
    assert minutes_facts_check("訓練は令和7年5月25日（日）、中央公園で実施。参加見込み４００人。"
                               "伊藤さんが来週中（4月18日）に福祉課と調整。", transcript) == []
    flagged = minutes_facts_check("訓練は2025年5月30日に実施。参加見込みは500人。山田さんが担当。予算は120万円。",
                                  transcript)
    assert flagged == ["2025年5月30日", "120万円", "山田", "500"]


def test_facts_check_accepts_the_engines_own_minutes():
    for path in MEETINGS[:4]:
        transcript, gold, minutes = _load(path)
        transcript.date = gold["meeting_date"]
        assert minutes_facts_check(TEMPLATE.substitute(sections(minutes)), transcript) == []


# ----------------------------------------------------------------------------- summariser and speed

def test_summarize_respects_the_limit_and_compresses():
    speech = ("まず、防災対策についてでございますが、都は九つの検討部会を設置いたしました。\\n"
              "検討内容は九月までに素案として取りまとめてまいります。\\n本日はよろしくお願いいたします。\\n")
    out = summarize(speech, 50)
    assert len(out) <= 50 and "9つの検討部会を設置" in out


def test_three_hour_meeting_is_fast():
    lines = []
    for path in MEETINGS:
        if path.suffix == ".txt":
            lines += [line for line in path.read_text(encoding="utf-8").splitlines()[4:] if line.strip()]
    text, n = "会議名：長時間会議\n日時：2025年4月1日\n", 0
    while len(text) < 100_000:
        text += lines[n % len(lines)] + "\n"
        n += 1
    start = time.perf_counter()
    transcript = parse_transcript(text)
    minutes = extract_minutes(transcript)
    TEMPLATE.substitute(sections(minutes))
    elapsed = time.perf_counter() - start
    assert len(transcript.utterances) > 1000
    assert minutes.todos and minutes.decisions and len(minutes.summary) == 5
    assert all(isinstance(t, Todo) and t.line > 0 for t in minutes.todos)
    assert elapsed < 5.0, elapsed


def test_a_next_meeting_without_a_year_is_after_the_meeting():
    transcript = parse_transcript("課長: 本日はここまでです。\n課長: 次回の会議は10月1日に開きます。\n")
    m = extract_minutes(transcript, meeting_date=dt.date(2025, 11, 23))  # 10月1日 is behind: next year's
    assert m.next_meeting_date == "2026-10-01" and m.next_meeting.startswith("2026年10月1日（木）")
    past = parse_transcript("課長: 本日はここまでです。\n課長: 次回の会議は2025年11月1日に開く予定でした。\n")  # a year is kept
    assert extract_minutes(past, meeting_date=dt.date(2025, 12, 10)).next_meeting_date == "2025-11-01"
