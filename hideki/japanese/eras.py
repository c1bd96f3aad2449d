"""Japanese era dates to the Western calendar, with the weekday.

    convert_eras("令和7年4月1日")   -> "2025年4月1日（火）"
    convert_eras("令和7年度")       -> "2025年度"
    add_weekdays("2025年4月1日")    -> "2025年4月1日（火）"
    weekday_errors("2025年4月1日（月）") -> [WeekdayError(..., expected="火")]

Digits may be ASCII, full-width or kanji numerals (令和七年四月一日, 二〇二五年); 元年 is year 1.
Impossible dates (2月30日) are converted without a weekday.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

# Era name -> Western year of its first year (元年).
ERAS: dict[str, int] = {"明治": 1868, "大正": 1912, "昭和": 1926, "平成": 1989, "令和": 2019}
WEEKDAYS = "月火水木金土日"

_KANJI_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_KANJI_UNITS = {"十": 10, "百": 100, "千": 1000}
_KANJI_BIG = {"万": 10_000, "億": 100_000_000, "兆": 1_000_000_000_000}
_FULLWIDTH = str.maketrans("０１２３４５６７８９，．", "0123456789,.")

NUM = r"[0-9０-９]+|[〇零一二三四五六七八九十百千]+"
_WEEKDAY = r"\s*[（(]\s*(?P<wd>[月火水木金土日])(?:曜日?)?(?:[・、,][^）)]{0,4})?\s*[）)]"
_ERA_RE = re.compile(
    r"(?P<era>" + "|".join(ERAS) + r")\s*(?P<year>元|" + NUM + r")\s*年(?P<fy>度)?"
    r"(?:(?<!度)\s*(?P<month>" + NUM + r")\s*月(?:\s*(?P<day>" + NUM + r")\s*日)?)?"
    r"(?:" + _WEEKDAY + r")?"
)
_WESTERN_RE = re.compile(
    r"(?<![0-9０-９〇一二三四五六七八九十])(?P<year>[0-9０-９]{4}|[〇一二三四五六七八九]{4})\s*年"
    r"\s*(?P<month>" + NUM + r")\s*月\s*(?P<day>" + NUM + r")\s*日"
    r"(?:" + _WEEKDAY + r")?"
)


def parse_number(text: str) -> int:
    """'12', '１２', '十二', '二〇二五', '一万五千' -> int. Raises ValueError if not a number."""
    text = text.strip().translate(_FULLWIDTH).replace(",", "")
    if not text:
        raise ValueError("empty number")
    if text.isdigit():
        return int(text)
    if text == "元":
        return 1
    if all(ch in _KANJI_DIGITS for ch in text):  # positional: 二〇二五
        return int("".join(str(_KANJI_DIGITS[ch]) for ch in text))
    total, section, digit = 0, 0, None
    number_buffer = ""
    for ch in text:
        if ch.isdigit():
            number_buffer += ch
            continue
        if number_buffer:
            digit, number_buffer = int(number_buffer), ""
        if ch in _KANJI_DIGITS:
            digit = _KANJI_DIGITS[ch]
        elif ch in _KANJI_UNITS:
            section += (1 if digit is None else digit) * _KANJI_UNITS[ch]
            digit = None
        elif ch in _KANJI_BIG:
            section += digit or 0
            total += (section or 1) * _KANJI_BIG[ch]
            section, digit = 0, None
        else:
            raise ValueError(f"not a number: {text!r}")
    if number_buffer:
        digit = int(number_buffer)
    return total + section + (digit or 0)


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
            year = era_year(m.group("era"), parse_number(m.group("year")))
            month = parse_number(m.group("month")) if m.group("month") else None
            day = parse_number(m.group("day")) if m.group("day") else None
        except ValueError:
            return m.group(0)
        if m.group("fy"):
            return f"{year}年度"
        weekday = weekday_of(year, month, day) if (month and day and add_weekday) else None
        return _format_date(year, month, day, weekday, _weekday_suffix(m))

    return _ERA_RE.sub(repl, text)


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

    return _WESTERN_RE.sub(repl, text)


def to_western(text: str) -> str:
    """convert_eras + add_weekdays: every full date in Western form with its weekday."""
    return add_weekdays(convert_eras(text))


@dataclass(frozen=True)
class WeekdayError:
    text: str        # the date as written, with its weekday
    written: str     # weekday as written
    expected: str    # weekday of the date


def weekday_errors(text: str) -> list[WeekdayError]:
    """Dates whose written weekday is wrong (e.g. 2025年4月1日（月）: it is a Tuesday)."""
    errors: list[WeekdayError] = []
    for pattern, western in ((_ERA_RE, False), (_WESTERN_RE, True)):
        for m in pattern.finditer(text):
            if m.group("wd") is None or not m.group("month") or not m.group("day"):
                continue
            try:
                year = parse_number(m.group("year"))
                if not western:
                    year = era_year(m.group("era"), year)
                month, day = parse_number(m.group("month")), parse_number(m.group("day"))
            except ValueError:
                continue
            expected = weekday_of(year, month, day)
            if expected and expected != m.group("wd"):
                errors.append(WeekdayError(m.group(0), m.group("wd"), expected))
    return errors


@dataclass(frozen=True)
class DateMention:
    start: int
    end: int
    text: str
    year: int | None
    month: int | None
    day: int | None
    fiscal: bool = False


_MONTH_DAY_RE = re.compile(
    r"(?<![0-9０-９〇一二三四五六七八九十年])(?P<month>" + NUM + r")\s*月\s*(?P<day>" + NUM + r")\s*日(?!間)"
    r"(?:" + _WEEKDAY + r")?"
)
_YEAR_RE = re.compile(
    r"(?<![0-9０-９])(?P<year>[0-9０-９]{4})\s*年(?P<fy>度)?(?:\s*(?P<month>" + NUM + r")\s*月(?!\s*(?:" + NUM + r")\s*日))?"
)
_SLASH_RE = re.compile(r"(?<![0-9./-])(?P<year>[12][0-9]{3})[/.-](?P<month>[01]?[0-9])[/.-](?P<day>[0-3]?[0-9])(?![0-9])")


def find_dates(text: str) -> list[DateMention]:
    """All date mentions (era or Western, full or partial), longest first, non-overlapping."""
    found: list[DateMention] = []
    taken: list[tuple[int, int]] = []

    def free(s: int, e: int) -> bool:
        return all(e <= a or s >= b for a, b in taken)

    def num(m: re.Match[str], group: str) -> int | None:
        value = m.groupdict().get(group)
        return parse_number(value) if value else None

    for m in _ERA_RE.finditer(text):
        try:
            year = era_year(m.group("era"), parse_number(m.group("year")))
            found.append(DateMention(m.start(), m.end(), m.group(0), year, num(m, "month"), num(m, "day"), bool(m.group("fy"))))
            taken.append((m.start(), m.end()))
        except ValueError:
            continue
    for pattern in (_WESTERN_RE, _SLASH_RE, _YEAR_RE, _MONTH_DAY_RE):
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
