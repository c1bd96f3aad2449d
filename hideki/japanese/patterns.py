"""The regular expressions for dates, times, amounts and phone numbers in Japanese text, in one place.

Facts (`facts`), era dates (`eras`), Q&A (`hideki.qa`), the PII guard (`hideki.pii.detect`) and minutes
(`hideki.minutes`) all take their patterns from here. Where one of them needs a different rule, the
rule is a named variant next to the common one and says why it differs:

  numbers   NUMERAL (in dates), SMALL_NUMERAL (relative dates in minutes), DECIMAL / KANJI_NUMBER
            (Q&A spans on NFKC text), FACT_NUMBER / FACT_NUMERAL_CHARS (facts, any spelling)
  dates     ERA_DATE, WESTERN_DATE, MONTH_DAY, YEAR_MONTH, SLASH_DATE (eras.find_dates);
            WHEN / YEAR_SPAN / CLOCK_ONLY (Q&A: dates, times, ranges and periods as answer spans);
            DATE_ANY_FORM (PII: a date of birth as written on forms, H1.2.3 and spaces included)
  times     TIME (facts: with the groups that give its value); CLOCK (Q&A: part of WHEN)
  amounts   AMOUNT (facts: groups yen / num give the value); AMOUNT_SPAN (Q&A: 1万5千円 as one span)
  phones    PHONE (facts and Q&A: numbers as printed in notices); PHONE_ANY_FORM (PII: also +81 and
            spaces, checked digit by digit afterwards, because missing one is a leak)

The patterns are unchanged from the modules they came from, so every figure measured on them stands.
Values are read with `hideki.japanese.numbers.parse_number`.
"""
from __future__ import annotations

import re

# ------------------------------------------------------------------------------------------ numbers

NUMERAL = r"[0-9０-９]+|[〇零一二三四五六七八九十百千]+"
"""A number inside a date: ASCII or full-width digits, or kanji numerals (令和七年四月一日, 二〇二五年)."""

SMALL_NUMERAL = r"(?:[0-9０-９]+|[〇一二三四五六七八九十]+)"
"""A day, month or count in a relative date (3日後, 4月末, 10日まで): kanji up to 十 only."""

DECIMAL = r"\d+(?:,\d{3})*(?:\.\d+)?"
"""Digits with thousands separators and decimals (1,000 / 2.5), on NFKC text."""

KANJI_NUMBER = r"(?<![\u3400-\u9fff])[一二三四五六七八九十百千]+"
"""Kanji numerals that do not continue a word (三人, not 統一)."""

FACT_NUMERAL_CHARS = "〇一二三四五六七八九十百千"
"""The kanji numerals of a fact (large units 万億兆 are added where a whole number is meant)."""

_FACT_DIGITS = r"\d[\d,]*(?:\.\d+)?"
FACT_NUMBER = r"(?:" + _FACT_DIGITS + r"|[" + FACT_NUMERAL_CHARS + r"万億兆])+"
"""A number as facts compare it, in any mix of digits and kanji: 1,000 / 1.5万 / 三千 / 2千."""

FACT_NUMBER_FROM_DIGITS = re.compile(_FACT_DIGITS + r"(?:" + _FACT_DIGITS + r"|[" + FACT_NUMERAL_CHARS + r"万億兆])*")
"""A FACT_NUMBER that starts with a digit (kanji-only numbers are found with Sudachi instead)."""

# -------------------------------------------------------------------------------------------- dates

WEEKDAY_SUFFIX = r"\s*[（(]\s*(?P<wd>[月火水木金土日])(?:曜日?)?(?:[・、,][^）)]{0,4})?\s*[）)]"
"""（火）, (火曜日), （月・祝） after a date; group wd is the weekday as written."""

ERA_NAMES = ("明治", "大正", "昭和", "平成", "令和")

ERA_DATE = re.compile(
    r"(?P<era>" + "|".join(ERA_NAMES) + r")\s*(?P<year>元|" + NUMERAL + r")\s*年(?P<fy>度)?"
    r"(?:(?<!度)\s*(?P<month>" + NUMERAL + r")\s*月(?:\s*(?P<day>" + NUMERAL + r")\s*日)?)?"
    r"(?:" + WEEKDAY_SUFFIX + r")?"
)
"""令和7年4月1日（火）, 平成元年, 令和七年度: groups era, year (元 = 1), fy (年度), month, day, wd."""

WESTERN_DATE = re.compile(
    r"(?<![0-9０-９〇一二三四五六七八九十])(?P<year>[0-9０-９]{4}|[〇一二三四五六七八九]{4})\s*年"
    r"\s*(?P<month>" + NUMERAL + r")\s*月\s*(?P<day>" + NUMERAL + r")\s*日"
    r"(?:" + WEEKDAY_SUFFIX + r")?"
)
"""A full Western date 2025年4月1日 / 二〇二五年四月一日, with an optional weekday."""

MONTH_DAY = re.compile(
    r"(?<![0-9０-９〇一二三四五六七八九十年])(?P<month>" + NUMERAL + r")\s*月\s*(?P<day>" + NUMERAL + r")\s*日(?!間)"
    r"(?:" + WEEKDAY_SUFFIX + r")?"
)
"""4月1日 without a year (not 3日間)."""

YEAR_MONTH = re.compile(
    r"(?<![0-9０-９])(?P<year>[0-9０-９]{4})\s*年(?P<fy>度)?(?:\s*(?P<month>" + NUMERAL + r")\s*月(?!\s*(?:" + NUMERAL
    + r")\s*日))?"
)
"""2025年, 2025年度, 2025年4月 (a year with an optional month, when no day follows)."""

SLASH_DATE = re.compile(r"(?<![0-9./-])(?P<year>[12][0-9]{3})[/.-](?P<month>[01]?[0-9])[/.-](?P<day>[0-3]?[0-9])(?![0-9])")
"""2025/4/1, 2025-04-01, 2025.4.1."""

# Q&A: "when" answer spans on NFKC text (digits only), with ranges, periods and weekday schedules.
YEAR_SPAN = r"(?:(?:令和|平成|昭和|大正|明治|西暦)\s*(?:\d{1,4}|元|[一二三四五六七八九十]+)\s*年度?|(?<!\d)\d{4}\s*年度?(?!間))"
"""令和7年度, 西暦2025年, 2025年度 (not 2025年間)."""

_MONTH_DAY_SPAN = r"\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?(?:上旬|中旬|下旬|末|初め|中)?"
_WEEKDAY_IN_BRACKETS = r"\s*[(（][月火水木金土日祝休](?:曜日?)?(?:[・,、][月火水木金土日祝休]日?)?[)）]"
_WEEKDAY_WORDS = (r"(?:毎週|毎月第\d(?:[・,、と]第?\d)*|第\d)?[月火水木金土日]曜日?(?:[・,、と][月火水木金土日]曜日?)*"
                  r"(?:及び祝日|・祝日|祝日)?")
CLOCK = r"(?:(?:朝|夕方|夜|午前|午後)\s*)?\d{1,2}\s*時(?!間|点|代|期|刻)(?:\s*\d{1,2}\s*分|半)?|\d{1,2}:\d{2}(?!\d)|正午"
"""A clock time as a Q&A answer: 午前9時, 夕方5時半, 9:30, 正午 (digits only: the text is NFKC)."""

_PERIOD = (r"\d{1,2}世紀(?:前半|後半|末|初頭|中頃|半ば)?|\d{3,4}年代(?:前半|後半|半ば)?|(?:江戸|明治|大正|昭和|平成|室町|鎌倉|"
           r"平安|奈良|飛鳥|戦国|安土桃山)時代(?:前期|中期|後期|末期|初期)?")
_DAY_ONLY = r"(?<!\d)\d{1,2}\s*日(?=" + _WEEKDAY_IN_BRACKETS + r")"
_DATE_ATOM = (r"(?:" + YEAR_SPAN + r"(?:\s*" + _MONTH_DAY_SPAN + r")?|" + _MONTH_DAY_SPAN + r"|" + _DAY_ONLY + r"|"
              + _PERIOD + r"|" + _WEEKDAY_WORDS + r")(?:" + _WEEKDAY_IN_BRACKETS + r")?")
_WHEN_ATOM = r"(?:" + _DATE_ATOM + r"|" + CLOCK + r")"
_WHEN_SEQ = _WHEN_ATOM + r"(?:\s*(?:の|、|,|・|と|及び|および|や)?\s*" + _WHEN_ATOM + r")*"
WHEN = re.compile(
    r"(?P<core>" + _WHEN_SEQ + r"(?:\s*(?P<range>から|より|~|-|－|―)\s*" + _WHEN_SEQ + r")?)"
    r"(?P<suffix>\s*まで|\s*から|\s*にかけて|以降|以前|ごろ|頃)?")
"""Dates and times as one answer span: 10月5日（日）午前9時から正午まで, 毎週火・木曜日, 19世紀後半;
groups core (the span), range (から/~ between two), suffix (まで, にかけて, 以降, 頃 …)."""

CLOCK_ONLY = re.compile(r"^(?:" + CLOCK + r"|\s|から|より|~|-|－|―|まで)+$")
"""A WHEN core made of clock times only (asked with 何時, not いつ)."""

# PII: a date of birth as written on forms; the text is normalised one character to one (not NFKC),
# so kanji numerals and spaces stay, and era initials (S50.1.2, H1/2/3) are common.
_PII_DIGIT = r"[0-9一二三四五六七八九十〇]"
_PII_ERA = r"(?:明治|大正|昭和|平成|令和)"
DATE_ANY_FORM = re.compile(
    rf"(?:(?:{_PII_ERA}[ ]?(?:{_PII_DIGIT}{{1,3}}|元)|[MTSHR][ .]?\d{{1,2}}|\d{{4}})[ ]?年[ ]?)?{_PII_DIGIT}{{1,3}}[ ]?月"
    rf"[ ]?{_PII_DIGIT}{{1,3}}[ ]?日"
    rf"|(?:[MTSHR][ .]?\d{{1,2}}|\d{{4}})([./\-])\d{{1,2}}\1\d{{1,2}}(?![0-9])"
    rf"|(?:{_PII_ERA}|[MTSHR])\d{{1,2}}\.\d{{1,2}}\.\d{{1,2}}(?![0-9])"
)
"""昭和50年1月2日, S50.1.2, 1975/1/2, H1-2-3, 昭和50.1.2 (the PII guard's birth dates)."""

# -------------------------------------------------------------------------------------------- times

TIME = re.compile(
    r"(?P<ampm>午前|午後)?\s*(?:(?P<h>\d{1,2}|[" + FACT_NUMERAL_CHARS + r"]{1,3})\s*時(?!間|点|代|期|刻|給|差|限)"
    r"(?:\s*(?P<half>半)|\s*(?P<m>\d{1,2}|[" + FACT_NUMERAL_CHARS + r"]{1,3})\s*分)?"
    r"|(?P<hc>\d{1,2}):(?P<mc>\d{2})(?![\d:]))"
    r"|(?P<noon>正午)"
)
"""午後3時, 三時半, 15:00, 正午 with the groups of its value: ampm, h, half, m (or hc:mc), noon.
Unlike CLOCK it reads kanji hours and skips 時給/時差/時限."""

# ------------------------------------------------------------------------------------------ amounts

AMOUNT = re.compile(r"(?:[¥￥]\s?(?P<yen>\d[\d,]*)|(?P<num>" + FACT_NUMBER + r")\s*円)")
"""¥1,000 or 1,000円 / 1.5万円 / 千円; group yen or num is the number (facts compare values)."""

AMOUNT_SPAN = re.compile(r"(?:[¥￥]\s?" + DECIMAL + r"|(?:" + DECIMAL + r"|" + KANJI_NUMBER + r")(?:\s*[万千]\s*(?:"
                         + DECIMAL + r"|[一二三四五六七八九]?千)?)?\s*円)")
"""An amount as a Q&A answer span: ¥500, 1,000円, 1万5千円, 三千円 (no value groups)."""

# ------------------------------------------------------------------------------------------- phones

PHONE = re.compile(
    r"(?<![0-9])(?:\(0\d{1,4}\)\s?\d{1,4}-\d{3,4}|0\d{1,4}-\d{1,4}-\d{3,4}|0\d{1,4}\(\d{1,4}\)\d{3,4}"
    r"|0[5-9]0\d{8}|0\d{9})(?![0-9])")
"""A phone number as printed in notices: 03-1234-5678, (03)1234-5678, 03(1234)5678, 09012345678."""

PHONE_ANY_FORM = re.compile(
    r"(?:(?<=TEL)|(?<=Tel)|(?<=tel)|(?<=FAX)|(?<=Fax)|(?<=fax)|(?<=TEL\.)|(?<=Tel\.)|(?<![0-9A-Za-z\-+./_@]))"
    r"(?:\+81[ \-]?(?:\(0\)[ \-]?)?\d{1,4}[ \-]\d{1,4}[ \-]\d{3,4}"
    r"|\+81\d{9,10}"
    r"|\(0\d{1,4}\)[ ]?\d{1,4}[ \-]?\d{3,4}"
    r"|0\d{1,4}[ \-]?\(\d{1,4}\)[ ]?\d{3,4}"
    r"|0\d{1,4}[ \-]\d{1,4}[ \-]\d{3,4}"
    r"|0\d{9,10})"
    r"(?![0-9A-Za-z]|[\-./][0-9A-Za-z])"
)
"""Every way a phone number is typed, for the PII guard: +81 forms, spaces as separators, right after
TEL/FAX, not inside a longer code (03-1234-5678-A). Wider than PHONE on purpose; the guard then checks the
digit count of each match (`hideki.pii.detect._phone_ok`)."""
