"""Kana and character-class helpers for the readings engine."""
from __future__ import annotations

import re

_KATA_TO_HIRA = {c: c - 0x60 for c in range(0x30A1, 0x30F5)}  # ァ..ヴ → ぁ..ゔ (ヵヶ stay: they read か)
_KATA_TO_HIRA.update({0x30FD: 0x309D, 0x30FE: 0x309E})  # ヽヾ → ゝゞ



def to_hiragana(text: str) -> str:
    """Katakana → hiragana; everything else unchanged."""
    return text.translate(_KATA_TO_HIRA)


_KANJI_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff々〆〇ヶ"
KANJI_RE = re.compile(f"[{_KANJI_CLASS}]")
_KANA_RUN = re.compile("[\u3041-\u309f\u30a0-\u30ff]+")


def is_kanji(ch: str) -> bool:
    """CJK ideographs plus 々 〆 〇 ヶ (they take readings)."""
    return KANJI_RE.match(ch) is not None


def has_kanji(text: str) -> bool:
    return KANJI_RE.search(text) is not None


def is_all_kana(text: str) -> bool:
    return _KANA_RUN.fullmatch(text) is not None

