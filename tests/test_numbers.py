"""The one number parser (ASCII, full-width and kanji numerals) and its variants."""
from __future__ import annotations

import pytest

from hideki.japanese.numbers import kanji_numerals_to_digits, parse_number, parse_quantity


def test_parse_number():
    assert parse_number("二〇二五") == 2025
    assert parse_number("二十五") == 25
    assert parse_number("一万五千") == 15000
    assert parse_number("１２") == 12
    assert parse_number("1,200") == 1200
    assert parse_number("1万2000") == 12000
    assert parse_number("012") == 12
    for not_a_number in ("", "元", "1.5", "三つ"):
        with pytest.raises(ValueError):
            parse_number(not_a_number)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("12", 12), ("１２", 12), ("1,200", 1200), ("十二", 12), ("千二百", 1200), ("二〇二四", 2024),
        ("１０万", 100000), ("3億5000万", 350000000), ("012", None), ("1.5", None),
    ],
)
def test_parse_quantity(text: str, expected: int | None) -> None:
    assert parse_quantity(text) == expected


def test_kanji_numerals_to_digits():
    assert kanji_numerals_to_digits("二十四年度") == "24年度"
    assert kanji_numerals_to_digits("三百五十二万人") == "3520000人"
    assert kanji_numerals_to_digits("統一する") == "統一する"
