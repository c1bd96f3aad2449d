"""Facts that a rewrite must keep: numbers, dates, amounts, times, phone numbers, URLs, e-mail
addresses and proper nouns.

Values are normalised so that different spellings of one fact compare equal:
令和7年4月1日 ≡ 2025年4月1日（火）, 1,000円 ≡ 1000円 ≡ 千円, 午後3時 ≡ 15時, ２ ≡ 2.
Inline readings (区役所(くやくしょ)) are removed before comparing.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from hideki.japanese.eras import find_dates
from hideki.japanese.numbers import parse_number
from hideki.japanese.patterns import AMOUNT, FACT_NUMBER_FROM_DIGITS, FACT_NUMERAL_CHARS, PHONE, TIME
from hideki.japanese.sudachi import tokenize

KINDS = ("number", "date", "amount", "time", "phone", "url", "email", "proper_noun")


@dataclass(frozen=True)
class Fact:
    kind: str    # one of KINDS
    text: str    # as found (after reading removal and NFKC)
    value: str   # normalised value used for comparison


_KANJI = r"[\u3400-\u9fff\uf900-\ufaff々〆ヵヶ〇]"
_READING = re.compile(r"(" + _KANJI + r")[（(]([ぁ-ゖァ-ヺー・]+)[）)]")
_URL = re.compile(r"(?:https?://|www\.)[A-Za-z0-9\-._~:/?#\[\]@!$&'*+,;=%]+")
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_PLACEHOLDER = re.compile(r"[〇○◯●×＿_]{2,}")
_ORG_SUFFIXES = (
    "役所", "役場", "支所", "出張所", "事務所", "センター", "課", "係", "室", "局", "部", "省", "庁", "署", "館",
    "公民館", "図書館", "病院", "診療所", "保健所", "学校", "園", "協会", "組合", "委員会", "議会", "事業団",
    "公社", "機構", "会社", "銀行", "郵便局", "大学", "財団", "法人", "窓口",
)
_ORG_SKIP = frozenset({"窓口", "部", "室", "館", "園", "係"})  # too generic to stand alone


def strip_readings(text: str) -> str:
    """Remove inline readings: 区役所(くやくしょ) -> 区役所, 住(す)む -> 住む."""
    return _READING.sub(r"\1", text)


def normalize(text: str) -> str:
    """Reading removal, NFKC (full-width -> half-width) and unified dashes."""
    text = unicodedata.normalize("NFKC", strip_readings(text))
    return re.sub(r"[‐‑‒–—―ー−](?=\d)", "-", text)


def _number_value(text: str) -> str:
    """Normalised numeric value: '1,000' -> '1000', '1.5万' -> '15000', '三' -> '3'."""
    text = text.replace(",", "")
    total = 0.0
    rest = text
    for unit, factor in (("兆", 10**12), ("億", 10**8), ("万", 10**4)):
        if unit in rest:
            head, rest = rest.split(unit, 1)
            total += (_plain_number(head) if head else 1) * factor
    if rest:
        total += _plain_number(rest)
    if total == int(total):
        return str(int(total))
    return f"{total:g}"


def _plain_number(text: str) -> float:
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    return float(parse_number(text))


def _mask(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


def _date_value(year: int | None, month: int | None, day: int | None, fiscal: bool) -> str:
    if fiscal:
        return f"fy:{year}"
    parts = [f"{year:04d}" if year else "----", f"{month:02d}" if month else "--", f"{day:02d}" if day else "--"]
    return "-".join(parts)


def _time_value(m: re.Match[str]) -> str | None:
    if m.group("noon"):
        return "12:00"
    if m.group("hc") is not None:
        hour, minute = int(m.group("hc")), int(m.group("mc"))
    else:
        try:
            hour = parse_number(m.group("h"))
            minute = 30 if m.group("half") else (parse_number(m.group("m")) if m.group("m") else 0)
        except ValueError:
            return None
        if m.group("ampm") == "午後" and hour < 12:
            hour += 12
        elif m.group("ampm") == "午前" and hour == 12:
            hour = 0
    if hour > 30 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


def _proper_nouns(text: str) -> list[Fact]:
    """Sudachi 固有名詞 tokens, plus organisation names ending in 役所, 課, センター, ..."""
    facts: list[Fact] = []
    tokens = tokenize(text, "C")
    i = 0
    while i < len(tokens):
        # extend a run of nouns; it becomes an organisation name if it ends in an org suffix
        j = i
        run: list = []
        while j < len(tokens):
            pos = tokens[j].part_of_speech()
            surface = tokens[j].surface()
            placeholder = bool(_PLACEHOLDER.fullmatch(surface))
            if pos[0] == "名詞" and pos[1] != "数詞" and pos[2] != "副詞可能" or placeholder or (
                pos[0] == "接尾辞" and pos[1] == "名詞的" and run) or (pos[0] == "接頭辞" and not run):
                run.append(tokens[j])
                j += 1
                continue
            break
        if run:
            end = len(run)
            while end > 0 and not run[end - 1].surface().endswith(_ORG_SUFFIXES):
                end -= 1
            # a generic tail (区民課窓口 → 区民課) is not part of the name: 区民課の窓口 keeps the fact
            while end > 1 and run[end - 1].surface() in _ORG_SKIP and run[end - 2].surface().endswith(_ORG_SUFFIXES):
                end -= 1
            org = "".join(t.surface() for t in run[:end]).strip()
            if end and org not in _ORG_SKIP and len(org) >= 2 and (
                    end > 1 or run[0].part_of_speech()[1] == "固有名詞" or len(org) >= 3):
                facts.append(Fact("proper_noun", org, org))
                covered = end
            else:
                covered = 0
            for token in run[covered:]:
                if token.part_of_speech()[1] == "固有名詞" and token.surface().strip():
                    facts.append(Fact("proper_noun", token.surface(), token.surface()))
            i = j
        else:
            i += 1
    return facts


def extract_facts(text: str) -> list[Fact]:
    """Facts in `text`, in this order: URLs, e-mails, phones, dates, times, amounts, numbers, proper nouns."""
    text = normalize(text)
    facts: list[Fact] = []

    def take(pattern: re.Pattern[str], kind: str, value_of) -> None:
        nonlocal text
        for m in list(pattern.finditer(text)):
            value = value_of(m)
            if value is None:
                continue
            facts.append(Fact(kind, m.group(0).strip(), value))
            text = _mask(text, m.start(), m.end())

    take(_URL, "url", lambda m: m.group(0).rstrip(".,").lower().removeprefix("https://").removeprefix("http://"))
    take(_EMAIL, "email", lambda m: m.group(0).lower())
    take(PHONE, "phone", lambda m: re.sub(r"\D", "", m.group(0)))
    for d in find_dates(text):
        facts.append(Fact("date", d.text.strip(), _date_value(d.year, d.month, d.day, d.fiscal)))
        text = _mask(text, d.start, d.end)
    take(TIME, "time", _time_value)
    take(AMOUNT, "amount", lambda m: _number_value(m.group("yen") or m.group("num")))
    facts.extend(_proper_nouns(text))
    for placeholder in _PLACEHOLDER.finditer(text):
        text = _mask(text, placeholder.start(), placeholder.end())
    take(FACT_NUMBER_FROM_DIGITS, "number", lambda m: _number_value(m.group(0).rstrip(",")))
    facts.extend(_kanji_numbers(text))
    return facts


def _kanji_numbers(text: str) -> list[Fact]:
    """Kanji numerals that Sudachi tags as 数詞 (三つ, 二十人), not those inside words (一部, 統一)."""
    facts: list[Fact] = []
    run = ""
    for token in tokenize(text, "C") + [None]:
        if token is not None and token.part_of_speech()[1] == "数詞" and re.fullmatch(
                "[" + FACT_NUMERAL_CHARS + "万億兆]+", token.surface()):
            run += token.surface()
            continue
        if run and not _PLACEHOLDER.fullmatch(run) and run not in ("万", "億", "兆"):
            try:
                facts.append(Fact("number", run, _number_value(run)))
            except ValueError:
                pass
        run = ""
    return facts


def _covers(fact: Fact) -> set[tuple[str, str]]:
    """(kind, value) pairs that `fact` in a rewrite accounts for (a full date also covers its parts)."""
    covers = {(fact.kind, fact.value)}
    if fact.kind == "date":
        if fact.value.startswith("fy:"):
            covers.add(("date", _date_value(int(fact.value[3:]), None, None, False)))
        else:
            year_s, month_s, day_s = fact.value.split("-")[0], fact.value[5:7], fact.value[8:10]
            year = int(year_s) if year_s.isdigit() else None
            month = int(month_s) if month_s.isdigit() else None
            day = int(day_s) if day_s.isdigit() else None
            for y in {year, None}:
                for m in {month, None}:
                    for d in {day, None}:
                        if (y, m, d) != (None, None, None) and not (d is not None and m is None):
                            covers.add(("date", _date_value(y, m, d, False)))
    if fact.kind == "amount":
        covers.add(("number", fact.value))
    return covers


def missing_facts(source: str, rewritten: str) -> list[Fact]:
    """Facts of `source` that `rewritten` no longer contains (compared by normalised value).

    Proper nouns count as kept when they still occur in the rewritten text (readings removed).
    Repeated facts are counted: a number that occurs twice in the source must occur twice.
    """
    available: Counter[tuple[str, str]] = Counter()
    for fact in extract_facts(rewritten):
        for cover in _covers(fact):
            available[cover] += 1
    plain_rewritten = normalize(rewritten)
    missing: list[Fact] = []
    for fact in extract_facts(source):
        if fact.kind == "proper_noun":
            # 世田谷区役所区民課 is kept by 世田谷区役所の区民課
            if fact.value not in plain_rewritten and fact.value not in plain_rewritten.replace("の", ""):
                missing.append(fact)
            continue
        key = (fact.kind, fact.value)
        if available[key] > 0:
            available[key] -= 1
        else:
            missing.append(fact)
    return missing
