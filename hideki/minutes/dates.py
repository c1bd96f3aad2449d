"""Dates and deadlines said in a meeting, resolved against the meeting date.

    find_date_expressions("来週金曜までにお願いします", date(2025, 4, 1))  -> [DateExpression(..., date(2025, 4, 11))]
    find_deadline("資料は月末までに", date(2025, 4, 1)).date              -> date(2025, 4, 30)

Absolute dates come from `hideki.japanese.eras.find_dates`; relative ones (来週金曜, 月末, 今月中, 3日後, 明日,
次回まで → the next meeting when known) are matched here, each kind with its own resolver.
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Callable

from hideki.japanese.eras import WEEKDAYS, find_dates
from hideki.japanese.numbers import parse_number
from hideki.japanese.patterns import SMALL_NUMERAL

_DATE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [(name, re.compile(p)) for name, p in [
    ("week_wd", r"(?P<rel>今週|来週|再来週|翌週)(?:の)?(?P<wd>[月火水木金土日])曜(?:日)?"),
    ("week_end", r"(?P<rel>今週|来週|再来週|翌週)(?:中|いっぱい|末|内|(?=まで))"),
    ("week_start", r"週明け"),
    ("month_part", r"(?P<rel>今月|来月|再来月|翌月)(?:の)?(?P<part>上旬|中旬|下旬|中|末|いっぱい|内|初め|はじめ|頭|前半|後半)"),
    ("m_part", r"(?<![0-9０-９])(?P<m>" + SMALL_NUMERAL + r")月(?:の)?(?P<part>上旬|中旬|下旬|中|末|いっぱい|初め|はじめ|頭|前半|後半)"),
    ("month_end", r"(?<![今来翌再])月末"),
    ("fy_end", r"(?P<rel>今|来)?年度(?:末|内|中)"),
    ("year_end", r"年内|年末|今年中"),
    ("after", r"(?P<n>" + SMALL_NUMERAL + r")(?P<unit>営業日|日|週間|か月|ヶ月|カ月|ヵ月|箇月)後"),
    ("within", r"(?P<n>" + SMALL_NUMERAL + r")(?P<unit>営業日|日|週間)(?:以内|のうち)"),
    ("tomorrow", r"明日|あした|明朝"),
    ("day_after", r"明後日|あさって"),
    ("today", r"本日中|今日中|今日いっぱい|本日の?うち|今日の?うち"),
    ("next_meeting", r"次回(?:の)?(?:会議|打ち合わせ|打合せ|定例|委員会|会合|ミーティング)?(?:まで|前)"),
    ("day_only", r"(?<![0-9０-９月〇一二三四五六七八九十])(?P<d>" + SMALL_NUMERAL + r")日(?=まで|中に|目途|めど|締め|〆|は私|に(?!収|短|延|分|減|増|1|一))(?!間)"),
    ("weekday", r"(?<![週の])(?P<wd>[月火水木金土日])曜(?:日)?"),
]]
_DUE_FOLLOW = re.compile(r"^(?:[0-9０-９:：時分半]*(?:の)?(?:午前|午後|正午|夕方|朝|中|末|いっぱい)?(?:までには|までに|まで|中|目途|めど|を目途|を目処|締め切り|締切|〆切|期限))")


def _fy_end(base: dt.date, offset: int = 0) -> dt.date:
    year = base.year if base.month >= 4 else base.year - 1
    return dt.date(year + 1 + offset, 3, 31)


def _month_last(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _add_months(base: dt.date, months: int) -> tuple[int, int]:
    m = base.month - 1 + months
    return base.year + m // 12, m % 12 + 1


def _part_of_month(year: int, month: int, part: str) -> dt.date:
    if part in ("上旬", "初め", "はじめ", "頭"):
        return dt.date(year, month, 10)
    if part in ("中旬", "前半"):
        return dt.date(year, month, 15 if part == "前半" else 20)
    return _month_last(year, month)


def _add_business_days(base: dt.date, n: int) -> dt.date:
    d = base
    while n > 0:
        d += dt.timedelta(days=1)
        if d.weekday() < 5:
            n -= 1
    return d


def year_for(base: dt.date, month: int, day: int) -> dt.date | None:
    """The date with this month/day nearest to the meeting, preferring the future."""
    for year in (base.year, base.year + 1):
        try:
            d = dt.date(year, month, day)
        except ValueError:
            return None
        if d >= base - dt.timedelta(days=60):
            return d
    return None


@dataclass
class DateExpression:
    start: int
    end: int
    text: str
    date: dt.date | None
    kind: str


def find_date_expressions(text: str, base: dt.date | None, next_meeting: dt.date | None = None) -> list[DateExpression]:
    """Absolute and relative date expressions in `text`, resolved against `base` (the meeting date)."""
    text_n = unicodedata.normalize("NFKC", text)
    found: list[DateExpression] = []
    taken: list[tuple[int, int]] = []

    def free(s: int, e: int) -> bool:
        return all(e <= a or s >= b for a, b in taken)

    def add(s: int, e: int, date: dt.date | None, kind: str) -> None:
        found.append(DateExpression(s, e, text_n[s:e], date, kind))
        taken.append((s, e))

    for d in find_dates(text_n):
        if d.fiscal or d.month is None:
            continue
        date = None
        if d.day is not None:
            if d.year:
                try:
                    date = dt.date(d.year, d.month, d.day)
                except ValueError:
                    date = None
            elif base:
                date = year_for(base, d.month, d.day)
        add(d.start, d.end, date, "absolute")
    for kind, pattern in _DATE_PATTERNS:
        for m in pattern.finditer(text_n):
            if not free(m.start(), m.end()):
                continue
            add(m.start(), m.end(), _resolve(kind, m, base, next_meeting), kind)
    return sorted(found, key=lambda x: x.start)


_WEEK_OFFSET = {"今週": 0, "来週": 1, "翌週": 1, "再来週": 2}
_MONTH_OFFSET = {"今月": 0, "来月": 1, "翌月": 1, "再来月": 2}


def _monday(base: dt.date) -> dt.date:
    return base - dt.timedelta(days=base.weekday())


def _in_week(g: dict[str, str], base: dt.date) -> dt.date:
    """来週金曜 -> the Friday of next week."""
    return _monday(base) + dt.timedelta(weeks=_WEEK_OFFSET[g["rel"]], days=WEEKDAYS.index(g["wd"]))


def _end_of_week(g: dict[str, str], base: dt.date) -> dt.date:
    """今週中, 来週末 -> that week's Friday."""
    return _monday(base) + dt.timedelta(weeks=_WEEK_OFFSET[g["rel"]], days=4)


def _next_monday(g: dict[str, str], base: dt.date) -> dt.date:
    """週明け."""
    return _monday(base) + dt.timedelta(weeks=1)


def _part_of_relative_month(g: dict[str, str], base: dt.date) -> dt.date:
    """来月上旬, 今月末."""
    year, month = _add_months(base, _MONTH_OFFSET[g["rel"]])
    return _part_of_month(year, month, g["part"])


def _part_of_named_month(g: dict[str, str], base: dt.date) -> dt.date | None:
    """5月末, 6月中旬: this year's, or next year's when the month is well past."""
    month = parse_number(g["m"])
    if not 1 <= month <= 12:
        return None
    year = base.year + (1 if month < base.month - 2 else 0)
    return _part_of_month(year, month, g["part"])


def _end_of_this_month(g: dict[str, str], base: dt.date) -> dt.date:
    return _month_last(base.year, base.month)


def _end_of_fiscal_year(g: dict[str, str], base: dt.date) -> dt.date:
    """年度末 / 来年度末 (the fiscal year ends on 31 March)."""
    return _fy_end(base, 1 if g.get("rel") == "来" else 0)


def _end_of_year(g: dict[str, str], base: dt.date) -> dt.date:
    return dt.date(base.year, 12, 31)


def _after_or_within(g: dict[str, str], base: dt.date) -> dt.date:
    """3日後, 2週間以内, 5営業日以内, 1か月後."""
    n = parse_number(g["n"])
    unit = g["unit"]
    if unit == "営業日":
        return _add_business_days(base, n)
    if unit == "日":
        return base + dt.timedelta(days=n)
    if unit == "週間":
        return base + dt.timedelta(weeks=n)
    year, month = _add_months(base, n)
    return dt.date(year, month, min(base.day, calendar.monthrange(year, month)[1]))


def _tomorrow(g: dict[str, str], base: dt.date) -> dt.date:
    return base + dt.timedelta(days=1)


def _day_after_tomorrow(g: dict[str, str], base: dt.date) -> dt.date:
    return base + dt.timedelta(days=2)


def _today(g: dict[str, str], base: dt.date) -> dt.date:
    return base


def _day_of_month(g: dict[str, str], base: dt.date) -> dt.date:
    """10日まで: this month's 10th, or next month's when it has passed."""
    day = parse_number(g["d"])
    year, month = base.year, base.month
    if day < base.day:
        year, month = _add_months(base, 1)
    return dt.date(year, month, day)


def _next_weekday(g: dict[str, str], base: dt.date) -> dt.date:
    """金曜 -> the next Friday after the meeting (a week later when the meeting is on a Friday)."""
    delta = (WEEKDAYS.index(g["wd"]) - base.weekday()) % 7 or 7
    return base + dt.timedelta(days=delta)


_RESOLVERS: dict[str, Callable[[dict[str, str], dt.date], dt.date | None]] = {
    "week_wd": _in_week, "week_end": _end_of_week, "week_start": _next_monday, "month_part": _part_of_relative_month,
    "m_part": _part_of_named_month, "month_end": _end_of_this_month, "fy_end": _end_of_fiscal_year,
    "year_end": _end_of_year, "after": _after_or_within, "within": _after_or_within, "tomorrow": _tomorrow,
    "day_after": _day_after_tomorrow, "today": _today, "day_only": _day_of_month, "weekday": _next_weekday,
}


def _resolve(kind: str, m: re.Match[str], base: dt.date | None, next_meeting: dt.date | None) -> dt.date | None:
    """The date a relative expression of `kind` means (None when it cannot be known or does not exist)."""
    if kind == "next_meeting":
        return next_meeting
    if base is None:
        return None
    try:
        return _RESOLVERS[kind](m.groupdict(), base)
    except (ValueError, KeyError):
        return None


def find_deadline(text: str, base: dt.date | None, next_meeting: dt.date | None = None) -> DateExpression | None:
    """The deadline of a task sentence: a date expression followed by まで/までに/中/目途…, else the first one."""
    expressions = find_date_expressions(text, base, next_meeting)
    if not expressions:
        return None
    text_n = unicodedata.normalize("NFKC", text)
    for e in expressions:
        tail = text_n[e.end:e.end + 12]
        if e.kind == "next_meeting" or _DUE_FOLLOW.match(tail) or e.kind in ("week_end", "month_part", "m_part",
                                                                             "fy_end", "year_end", "within"):
            return _with_suffix(e, text_n)
    return _with_suffix(expressions[0], text_n)


def _with_suffix(e: DateExpression, text_n: str) -> DateExpression:
    m = _DUE_FOLLOW.match(text_n[e.end:e.end + 12])
    if m and m.group(0):
        return DateExpression(e.start, e.end + m.end(), text_n[e.start:e.end + m.end()], e.date, e.kind)
    return e
