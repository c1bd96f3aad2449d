import pytest

from hideki.japanese.eras import (
    add_weekdays, convert_eras, era_year, find_dates, to_western, weekday_of,
)


@pytest.mark.parametrize("era_date, western", [
    ("令和7年4月1日", "2025年4月1日（火）"),
    ("令和七年四月一日", "2025年4月1日（火）"),
    ("令和７年４月１日", "2025年4月1日（火）"),
    ("令和元年5月1日", "2019年5月1日（水）"),
    ("平成31年4月30日", "2019年4月30日（火）"),
    ("昭和64年1月7日", "1989年1月7日（土）"),
    ("大正十二年九月一日", "1923年9月1日（土）"),
    ("明治元年", "1868年"),
    ("令和7年度", "2025年度"),
    ("令和七年度", "2025年度"),
    ("令和7年4月", "2025年4月"),
])
def test_convert_eras(era_date, western):
    assert convert_eras(era_date) == western


def test_convert_in_context_and_keep_existing_weekday():
    text = "受付は令和7年4月1日（火）から令和7年4月30日まで。"
    assert convert_eras(text) == "受付は2025年4月1日（火）から2025年4月30日（水）まで。"


def test_impossible_date_gets_no_weekday():
    assert convert_eras("令和7年2月30日") == "2025年2月30日"


def test_add_weekdays_to_western_dates():
    assert add_weekdays("2025年4月1日に") == "2025年4月1日（火）に"
    assert add_weekdays("2025年4月1日（火）に") == "2025年4月1日（火）に"
    assert add_weekdays("2025年4月1日(月曜日)") == "2025年4月1日(月曜日)"  # kept as written
    assert to_western("令和8年1月1日と2025年12月31日") == "2026年1月1日（木）と2025年12月31日（水）"


def test_helpers():
    assert convert_eras("平成元年") == "1989年"  # 元年 is year 1
    assert era_year("令和", 1) == 2019
    assert weekday_of(2025, 4, 1) == "火"
    assert weekday_of(2025, 2, 30) is None


def test_find_dates():
    dates = find_dates("令和7年度の受付は4月1日から2025年5月31日まで。2025/6/1")
    assert [(d.year, d.month, d.day, d.fiscal) for d in dates] == [
        (2025, None, None, True), (None, 4, 1, False), (2025, 5, 31, False), (2025, 6, 1, False)]
