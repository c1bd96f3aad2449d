"""Kana and character-class helpers for the readings engine."""
from __future__ import annotations

_KATA_TO_HIRA = {c: c - 0x60 for c in range(0x30A1, 0x30F5)}  # ァ..ヴ → ぁ..ゔ (ヵヶ stay: they read か)
_KATA_TO_HIRA.update({0x30FD: 0x309D, 0x30FE: 0x309E})  # ヽヾ → ゝゞ

_VOWEL_ROWS = {
    "あ": "あかさたなはまやらわがざだばぱぁゃゎ",
    "い": "いきしちにひみりぎじぢびぴぃ",
    "う": "うくすつぬふむゆるぐずづぶぷゔぅゅっ",
    "え": "えけせてねへめれげぜでべぺぇ",
    "お": "おこそとのほもよろをごぞどぼぽぉょ",
}
_VOWEL_OF = {ch: vowel for vowel, chars in _VOWEL_ROWS.items() for ch in chars}


def to_hiragana(text: str) -> str:
    """Katakana → hiragana; everything else unchanged."""
    return text.translate(_KATA_TO_HIRA)


def is_kanji(ch: str) -> bool:
    """CJK ideographs plus the iteration mark 々 and 〆 (they take readings)."""
    o = ord(ch)
    return (
        0x4E00 <= o <= 0x9FFF
        or 0x3400 <= o <= 0x4DBF
        or 0xF900 <= o <= 0xFAFF
        or 0x20000 <= o <= 0x3FFFF
        or ch in "々〆〇ヶ"
    )


def has_kanji(text: str) -> bool:
    return any(is_kanji(ch) for ch in text)


def is_kana(ch: str) -> bool:
    o = ord(ch)
    return 0x3041 <= o <= 0x309F or 0x30A0 <= o <= 0x30FF or ch == "ー"


def is_all_kana(text: str) -> bool:
    return bool(text) and all(is_kana(ch) for ch in text)


def normalize_reading(reading: str) -> str:
    """Compare-friendly form: hiragana, with the long-vowel mark ー replaced by the preceding vowel."""
    out: list[str] = []
    for ch in to_hiragana(reading):
        if ch == "ー" and out:
            ch = _VOWEL_OF.get(out[-1], ch)
        out.append(ch)
    return "".join(out)
