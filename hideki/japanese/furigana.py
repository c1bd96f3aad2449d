"""Render text with readings: inline `漢字(かんじ)` or HTML `<ruby>` markup."""
from __future__ import annotations

import html
import re
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from hideki.japanese.kana import is_kanji, to_hiragana
from hideki.japanese.numbers import parse_quantity

GRADES_FILE = Path(__file__).parent / "data" / "kanji_grades.tsv"
# Grades: 1-6 elementary school (2020 table), 7 other 常用漢字; kanji not listed (表外字) rank 8.
UNLISTED_GRADE = 8
STYLES = ("inline", "html")


class Engine(Protocol):
    def tokens(self, text: str) -> list[tuple[str, str]]: ...


@lru_cache(maxsize=1)
def kanji_grades() -> dict[str, int]:
    """kanji → grade: 1–6 from the 2020 学年別漢字配当表, 7 for the other 常用漢字."""
    grades: dict[str, int] = {}
    for line in GRADES_FILE.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#") or line.startswith("kanji\t"):
            continue
        kanji, grade = line.split("\t")[:2]
        grades[kanji] = int(grade)
    return grades


def kanji_grade(ch: str) -> int:
    return kanji_grades().get(ch, UNLISTED_GRADE)


def needs_reading(surface: str, grade: int | None) -> bool:
    """A word gets readings when it has a kanji above `grade` (any kanji when grade is None).

    grade=6 annotates words with secondary-school or rarer kanji; grade=7 only non-常用 kanji.
    """
    kanji = [ch for ch in surface if is_kanji(ch)]
    if not kanji:
        return False
    return grade is None or any(kanji_grade(ch) > grade for ch in kanji)


@lru_cache(maxsize=4096)
def segments(surface: str, reading: str) -> tuple[tuple[str, str | None], ...]:
    """Split a word into kanji runs with their readings and kana runs (reading None).

    読み込む/よみこむ → (読,よ) (み,None) (込,こ) (む,None). When the okurigana cannot
    be matched against the reading, the whole word keeps the whole reading.
    """
    if not any(is_kanji(ch) for ch in surface):
        return ((surface, None),)
    # group characters into kanji / non-kanji runs
    groups: list[tuple[str, bool]] = []
    for ch in surface:
        k = is_kanji(ch)
        if groups and groups[-1][1] == k:
            groups[-1] = (groups[-1][0] + ch, k)
        else:
            groups.append((ch, k))
    if len(groups) == 1:
        return ((surface, reading),)
    pattern = "".join("(.+?)" if k else re.escape(to_hiragana(text)) for text, k in groups)
    m = re.fullmatch(pattern, to_hiragana(reading))
    if m is None:
        return ((surface, reading),)
    out: list[tuple[str, str | None]] = []
    captured = iter(m.groups())
    for text, k in groups:
        out.append((text, next(captured) if k else None))
    return tuple(out)


def _is_all_kanji(text: str) -> bool:
    return all(is_kanji(ch) for ch in text)


def _merge_kanji_runs(tokens: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Join a one-kanji token to an all-kanji neighbour: 世田谷+区 → 世田谷区, 市+役所 → 市役所.

    A single kanji attaches to the word on its left when there is one, else to the word on its
    right; longer words stay apart (東京都 / 世田谷区) so each reading sits next to its kanji.
    """
    out: list[tuple[str, str]] = []
    open_single = False  # out[-1] is a lone kanji still waiting for a right-hand word
    for surface, reading in tokens:
        kanji = _is_all_kanji(surface)
        if out and kanji and _is_all_kanji(out[-1][0]) and (len(surface) == 1 or open_single):
            prev_surface, prev_reading = out[-1]
            out[-1] = (prev_surface + surface, prev_reading + reading)
            open_single = False
        else:
            out.append((surface, reading))
            open_single = kanji and len(surface) == 1
    return out


def _merge_numbers_with_counters(tokens: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """1日 → 1日(ついたち), 4月 → 4月(しがつ): digits join their counter when either sound changed.

    A digit carries no ruby, so a changed counter reading (日 たち) alone would mislead; the
    pair gets the whole reading instead. Regular counters (300円) keep ruby on the kanji only.
    """
    from hideki.japanese.readings import COUNTERS, number_reading

    out: list[tuple[str, str]] = []
    i = 0
    while i < len(tokens):
        surface, reading = tokens[i]
        if i + 1 < len(tokens) and surface.isdecimal() and reading != surface:
            counter, counter_reading = tokens[i + 1]
            base = COUNTERS.get(counter, (counter_reading, ""))[0]
            value = parse_quantity(surface)
            changed = counter_reading != base or (value is not None and reading != number_reading(value))
            if changed and any(is_kanji(ch) for ch in counter):
                out.append((surface + counter, reading + counter_reading))
                i += 2
                continue
        out.append((surface, reading))
        i += 1
    return out


def render(text: str, style: str = "inline", grade: int | None = None, engine: Engine | None = None) -> str:
    """Text with readings on kanji: `漢字(かんじ)` (inline) or `<ruby>漢字<rt>かんじ</rt></ruby>` (html)."""
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; use one of {STYLES}")
    if engine is None:
        from hideki.japanese.readings import default_engine

        engine = default_engine()
    out: list[str] = []
    for surface, reading in _merge_kanji_runs(_merge_numbers_with_counters(engine.tokens(text))):
        if not needs_reading(surface, grade):
            out.append(html.escape(surface, quote=False) if style == "html" else surface)
            continue
        for seg, seg_reading in segments(surface, reading):
            annotate = seg_reading is not None and seg_reading != to_hiragana(seg)
            if style == "html":
                seg_html = html.escape(seg, quote=False)
                out.append(f"<ruby>{seg_html}<rt>{html.escape(seg_reading)}</rt></ruby>" if annotate else seg_html)
            else:
                out.append(f"{seg}({seg_reading})" if annotate else seg)
    return "".join(out)
