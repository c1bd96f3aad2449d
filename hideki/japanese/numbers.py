"""Numbers written in Japanese text to integers: the one parser for ASCII, full-width and kanji numerals.

    parse_number("12") == parse_number("１２") == parse_number("十二") == 12
    parse_number("二〇二五") == 2025          # positional kanji digits
    parse_number("一万五千") == parse_number("1万5000") == 15000
    parse_quantity("012") is None            # a code or phone number, not a quantity to read aloud
    kanji_numerals_to_digits("二十四年度") == "24年度"

Facts, era dates, Q&A, minutes, simplification and readings all read numbers with `parse_number`;
`parse_quantity` is its variant for numbers that are read aloud (furigana), and the Q&A count parser
maps 大字 (壱弐参) onto ordinary numerals with `DAIJI` before calling it.
"""
from __future__ import annotations

import re

KANJI_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
LARGE_UNITS = {"万": 10**4, "億": 10**8, "兆": 10**12}
DAIJI = str.maketrans("壱弐参", "一二三")  # the 大字 of legal documents that people also type
MAX_QUANTITY_DIGITS = 16


def parse_number(text: str) -> int:
    """'12', '１２', '1,200', '十二', '二〇二五', '一万五千', '1万2000' -> int. Raises ValueError otherwise.

    Digits (ASCII, full-width or kanji) are read positionally and multiplied by the unit that follows
    (十百千 within a section of four digits, 万億兆 between sections); commas are ignored.
    """
    t = text.replace(",", "").replace("，", "")
    if not t:
        raise ValueError("empty number")
    if t.isdecimal():
        return int(t)
    if all(ch in KANJI_DIGITS for ch in t):  # positional: 二〇二五
        return int("".join(str(KANJI_DIGITS[ch]) for ch in t))
    total = section = 0
    digits = ""
    for ch in t:
        if ch.isdecimal():
            digits += ch
        elif ch in KANJI_DIGITS:
            digits += str(KANJI_DIGITS[ch])
        elif ch in SMALL_UNITS:
            section += (int(digits) if digits else 1) * SMALL_UNITS[ch]
            digits = ""
        elif ch in LARGE_UNITS:
            section += int(digits) if digits else 0
            total += (section or 1) * LARGE_UNITS[ch]
            section, digits = 0, ""
        else:
            raise ValueError(f"not a number: {text!r}")
    return total + section + (int(digits) if digits else 0)


def parse_quantity(text: str) -> int | None:
    """`parse_number` for a number that is read aloud as a quantity; None when it is not one.

    Stricter than parse_number on purpose: digit strings with a leading zero (012, 0312345678) are codes
    or phone numbers, and more than 16 digits are no quantity anyone says.
    """
    t = text.replace(",", "").replace("，", "")
    if t.isdecimal() and len(t) > 1 and t[0] in "0０":
        return None
    if len(t) > MAX_QUANTITY_DIGITS and (t.isdecimal() or all(ch in KANJI_DIGITS for ch in t)):
        return None
    try:
        return parse_number(t)
    except ValueError:
        return None


_KANJI_NUMERAL_BEFORE_COUNTER = re.compile(
    r"(?<![\u4e00-\u9fff々])([一二三四五六七八九十百千〇]+(?:[万億兆][一二三四五六七八九十百千〇]*)*)"
    r"(?=[万億兆]?(?:年|か月|カ月|箇月|月|日|人|件|か所|カ所|箇所|円|%|％|回|校|区|市|町|村|名|社|台|棟|戸|倍|割|"
    r"時間|分|歳|期|項目|つ|点|本|施設|団体|週|ヘクタール|キロ|メートル|万|億|兆|千))")


def kanji_numerals_to_digits(text: str) -> str:
    """二十四年度 -> 24年度, 三百五十二万人 -> 3520000人 (numerals before a counter only)."""

    def repl(m: re.Match[str]) -> str:
        try:
            value = parse_number(m.group(1))
        except ValueError:
            return m.group(1)
        return str(value)

    return _KANJI_NUMERAL_BEFORE_COUNTER.sub(repl, text)
