"""The checks of minutes a model wrote, against the transcript they came from.

The model reads the transcript as `transcript_lines` (each utterance as "[time or N行] speaker: text") and
answers with JSON (`minutes_from_json` turns it into Minutes). Then: every decision, ToDo and pending item
must point at a speaker and time (or line) of the transcript (`untraceable`), and the names, dates and
numbers of the rendered minutes must be found in it (`minutes_facts_check`).
"""
from __future__ import annotations

import re
from typing import Any

from hideki.japanese.facts import extract_facts, normalize
# Date, name and next-meeting finders of the extractive engine, so that both paths read the transcript alike.
from hideki.japanese.numbers import kanji_numerals_to_digits
from hideki.minutes.dates import find_date_expressions
from hideki.minutes.extract import (
    NAME_CHARS, NOT_NAMES, Item, Minutes, Todo, find_next_meeting, match_person, name_keys, to_date,
)
from hideki.minutes.units import sentence_units
from hideki.minutes.transcripts import Transcript, Utterance


def reference(utterance: Utterance) -> str:
    """How the model is shown, and cites, an utterance: its start time, else its line (「12行」)."""
    return utterance.start or f"{utterance.line}行"


def transcript_lines(transcript: Transcript) -> str:
    """The transcript as the model reads it: one "[reference] speaker: text" line per utterance."""
    return "\n".join(f"[{reference(u)}] {u.speaker}: {u.text}" for u in transcript.utterances)


def _items(raw: Any) -> list[dict[str, str]]:
    return [{k: str(v or "") for k, v in item.items()} for item in raw or [] if isinstance(item, dict)]


def minutes_from_json(data: dict[str, Any], transcript: Transcript, date: str) -> Minutes:
    """Minutes from the model's JSON notes; attendees and title come from the transcript itself."""
    decisions = [Item(d.get("text", ""), d.get("speaker", ""), d.get("start", "")) for d in _items(data.get("decisions"))]
    pending = [Item(d.get("text", ""), d.get("speaker", ""), d.get("start", "")) for d in _items(data.get("pending"))]
    todos = [
        Todo(t.get("task", ""), t.get("owner", ""), t.get("due_date", ""), t.get("due", ""), t.get("speaker", ""), t.get("start", ""))
        for t in _items(data.get("todos"))
    ]
    return Minutes(
        title=transcript.title, date=date, attendees=transcript.speakers,
        agenda=[str(a) for a in data.get("agenda") or []] or transcript.agenda,
        summary=[str(s) for s in data.get("summary") or []],
        decisions=[d for d in decisions if d.text], todos=[t for t in todos if t.task],
        next_meeting=str(data.get("next_meeting") or ""), pending=[p for p in pending if p.text],
    )


def untraceable(minutes: Minutes, transcript: Transcript) -> list[str]:
    """Decisions, ToDos and pending items whose speaker and time (or line) are not in the transcript."""
    known = {(u.speaker, reference(u)) for u in transcript.utterances}
    known |= {(u.speaker, f"{u.line}行") for u in transcript.utterances}
    items: list[tuple[str, str, str]] = [(i.text, i.speaker, i.start) for i in minutes.decisions + minutes.pending]
    items += [(t.task, t.speaker, t.start) for t in minutes.todos]
    return [text for text, speaker, start in items if (speaker, _normal_time(start)) not in known and (speaker, start) not in known]


def _normal_time(start: str) -> str:
    """Models drop the milliseconds or leading zeros: 0:01:02 and 00:01:02.000 mean 00:01:02."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2}):(\d{2})(?:[.,]\d+)?", start.strip())
    return f"{int(match.group(1)):02d}:{match.group(2)}:{match.group(3)}" if match else start.strip()


def minutes_facts_check(minutes_text: str, transcript: Transcript) -> list[str]:
    """Names, dates and numbers in `minutes_text` that the transcript does not support.

    Comparison is on normalised values (NFKC, kanji numerals, era = Western year, 1,000 = 1000). Dates in the
    minutes may be ones the transcript says relatively (来週金曜 → the date, against the meeting date).
    Markdown list numbers, table syntax and traceability notes (12行目, 00:01:02) are ignored.
    """
    source_text = "\n".join([transcript.title, transcript.date, *transcript.participants,
                             *transcript.agenda, *(f"{u.speaker} {u.text}" for u in transcript.utterances)])
    source_plain = normalize(source_text)
    source_digits = normalize(kanji_numerals_to_digits(source_text))
    base = to_date(transcript.date)
    facts = extract_facts(source_text)

    dates: set[tuple[int | None, int | None, int | None]] = set()
    numbers: set[str] = set()
    years = {base.year, base.year + 1} if base else set()
    for f in facts:
        if f.kind == "date":
            dates.add(_date_tuple(f.value))
        elif f.kind in ("number", "amount", "time"):
            numbers.add(f.value)
    if base:
        dates.add((base.year, base.month, base.day))
    units = sentence_units(transcript)
    _, next_date, _ = find_next_meeting(units, base)
    for u in transcript.utterances:
        for e in find_date_expressions(u.text, base, next_date):
            if e.date:
                dates.add((e.date.year, e.date.month, e.date.day))
    for y, m_, d in list(dates):
        if y is None and years:
            for year in years:
                dates.add((year, m_, d))

    def date_ok(value: str) -> bool:
        y, m_, d = _date_tuple(value)
        for sy, sm, sd in dates:
            if (y is None or sy == y or (sy is None and (not years or y in years))) and \
                    (m_ is None or sm == m_) and (d is None or sd == d):
                return True
        return False

    cleaned = _strip_markdown(minutes_text)
    problems: list[str] = []
    seen: set[str] = set()
    speaker_keys = name_keys(transcript.speakers)
    for f in extract_facts(cleaned):
        ok = True
        if f.kind == "date":
            ok = date_ok(f.value) or f.value.startswith("fy:") and f.text in source_plain
        elif f.kind in ("number", "amount"):
            ok = f.value in numbers or f.text in source_plain or f.text in source_digits
        elif f.kind == "time":
            ok = f.value in numbers or f.text in source_plain
        elif f.kind == "proper_noun":
            ok = f.text in source_plain or f.text in speaker_keys or f.text.replace("の", "") in source_plain
        elif f.kind in ("phone", "url", "email"):
            ok = f.text in source_plain
        if not ok and f.text not in seen:
            seen.add(f.text)
            problems.append(f.text)
    for m in re.finditer(r"(?P<name>" + NAME_CHARS + r"{1,6}?)(?:さん|様|氏|課長|係長|部長|主査|主任)", cleaned):
        name = m.group("name")
        if name in NOT_NAMES or re.search(r"[ぁ-ん]", name):
            continue
        if name not in source_plain and name not in seen and match_person(name, speaker_keys) is None:
            seen.add(name)
            problems.append(name)
    return problems


def _date_tuple(value: str) -> tuple[int | None, int | None, int | None]:
    if value.startswith("fy:"):
        return (int(value[3:]), None, None)
    m_ = re.fullmatch(r"(\d{4}|----)-(\d\d|--)-(\d\d|--)", value)
    if not m_:
        return (None, None, None)
    y, m, d = m_.groups()
    return (int(y) if y.isdigit() else None, int(m) if m.isdigit() else None, int(d) if d.isdigit() else None)


def _strip_markdown(text: str) -> str:
    lines = []
    for line in text.splitlines():
        line = re.sub(r"^\s*(?:[-*+]|\d+[.)])\s+", "", line)          # list markers
        if re.fullmatch(r"\s*\|?[\s\-:|]+\|?\s*", line):              # table separator
            continue
        line = line.replace("|", "　").replace("**", "").replace("#", "")
        line = re.sub(r"[（(]?\d+行目[）)]?", "", line)                 # traceability notes
        line = re.sub(r"\b\d{2}:\d{2}:\d{2}\b", "", line)
        lines.append(line)
    return "\n".join(lines)
