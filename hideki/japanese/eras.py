"""Japanese era dates to the Western calendar, with the weekday.

    convert_eras("令和7年4月1日")   -> "2025年4月1日（火）"
    convert_eras("令和7年度")       -> "2025年度"
    add_weekdays("2025年4月1日")    -> "2025年4月1日（火）"

Digits may be ASCII, full-width or kanji numerals (令和七年四月一日, 二〇二五年); 元年 is year 1.
Impossible dates (2月30日) are converted without a weekday. `find_dates` lists every date mention (full or
partial) with its parts; the patterns are in `hideki.japanese.patterns`.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from hideki.japanese.numbers import parse_number
from hideki.japanese.patterns import ERA_DATE, ERA_NAMES, MONTH_DAY, SLASH_DATE, WESTERN_DATE, YEAR_MONTH

# Era name -> Western year of its first year (元年).
ERAS: dict[str, int] = dict(zip(ERA_NAMES, (1868, 1912, 1926, 1989, 2019)))
WEEKDAYS = "月火水木金土日"


def _era_year_number(text: str) -> int:
    """The year within an era: 元 (the first year) is 1, anything else a number."""
    return 1 if text == "元" else parse_number(text)


def era_year(era: str, year: int) -> int:
    """Western year of `year` of `era` (令和, 7) -> 2025."""
    return ERAS[era] + year - 1


def weekday_of(year: int, month: int, day: int) -> str | None:
    """Japanese weekday character, or None for an impossible date."""
    try:
        return WEEKDAYS[dt.date(year, month, day).weekday()]
    except ValueError:
        return None


def _format_date(year: int, month: int | None, day: int | None, weekday: str | None, keep_weekday: str | None) -> str:
    out = f"{year}年"
    if month is not None:
        out += f"{month}月"
        if day is not None:
            out += f"{day}日"
            if keep_weekday is not None:
                out += keep_weekday
            elif weekday:
                out += f"（{weekday}）"
    return out


def _weekday_suffix(match: re.Match[str]) -> str | None:
    """The weekday text that followed the date, as written (without leading spaces)."""
    if match.group("wd") is None:
        return None
    start = match.start("wd")
    suffix_start = match.string.rfind("（", match.start(), start)
    suffix_start = max(suffix_start, match.string.rfind("(", match.start(), start))
    return match.string[suffix_start:match.end()]


def convert_eras(text: str, add_weekday: bool = True) -> str:
    """Replace era dates (令和7年4月1日, 令和七年度, 平成元年) by Western ones."""

    def repl(m: re.Match[str]) -> str:
        try:
            year = era_year(m.group("era"), _era_year_number(m.group("year")))
            month = parse_number(m.group("month")) if m.group("month") else None
            day = parse_number(m.group("day")) if m.group("day") else None
        except ValueError:
            return m.group(0)
        if m.group("fy"):
            return f"{year}年度"
        weekday = weekday_of(year, month, day) if (month and day and add_weekday) else None
        return _format_date(year, month, day, weekday, _weekday_suffix(m))

    return ERA_DATE.sub(repl, text)


def add_weekdays(text: str) -> str:
    """Add （曜） after Western dates that have none; existing weekdays are left as written."""

    def repl(m: re.Match[str]) -> str:
        if m.group("wd") is not None:
            return m.group(0)
        try:
            year, month, day = (parse_number(m.group(g)) for g in ("year", "month", "day"))
        except ValueError:
            return m.group(0)
        weekday = weekday_of(year, month, day)
        return m.group(0) + f"（{weekday}）" if weekday else m.group(0)

    return WESTERN_DATE.sub(repl, text)


def to_western(text: str) -> str:
    """convert_eras + add_weekdays: every full date in Western form with its weekday."""
    return add_weekdays(convert_eras(text))


@dataclass(frozen=True)
class DateMention:
    start: int
    end: int
    text: str
    year: int | None
    month: int | None
    day: int | None
    fiscal: bool = False


def find_dates(text: str) -> list[DateMention]:
    """All date mentions (era or Western, full or partial), longest first, non-overlapping."""
    found: list[DateMention] = []
    taken: list[tuple[int, int]] = []

    def free(s: int, e: int) -> bool:
        return all(e <= a or s >= b for a, b in taken)

    def num(m: re.Match[str], group: str) -> int | None:
        value = m.groupdict().get(group)
        return parse_number(value) if value else None

    for m in ERA_DATE.finditer(text):
        try:
            year = era_year(m.group("era"), _era_year_number(m.group("year")))
            found.append(DateMention(m.start(), m.end(), m.group(0), year, num(m, "month"), num(m, "day"), bool(m.group("fy"))))
            taken.append((m.start(), m.end()))
        except ValueError:
            continue
    for pattern in (WESTERN_DATE, SLASH_DATE, YEAR_MONTH, MONTH_DAY):
        for m in pattern.finditer(text):
            if not free(m.start(), m.end()):
                continue
            try:
                mention = DateMention(m.start(), m.end(), m.group(0), num(m, "year"), num(m, "month"), num(m, "day"),
                                      bool(m.groupdict().get("fy")))
            except ValueError:
                continue
            if mention.month is not None and not 1 <= mention.month <= 12:
                continue
            if mention.day is not None and not 1 <= mention.day <= 31:
                continue
            found.append(mention)
            taken.append((m.start(), m.end()))
    return sorted(found, key=lambda d: d.start)
