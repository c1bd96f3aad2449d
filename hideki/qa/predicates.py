"""The predicate of a sentence as a polite question (…ますか？, …すればよいですか？) and in plain form (for なぜ).

Conjugation from Sudachi's dictionary form and conjugation type: ます-stem, ば-form, ない-form.
"""
from __future__ import annotations

from hideki.japanese.sudachi import tokenizer
from hideki.qa.text import Sentence

_ROW = {"う": "いえ", "く": "きけ", "ぐ": "ぎげ", "す": "しせ", "つ": "ちて", "ぬ": "にね", "ぶ": "びべ", "む": "みめ", "る": "りれ"}


def _masu_stem(dictionary_form: str, conjugation: str) -> str | None:
    if not dictionary_form:
        return None
    if conjugation.startswith("五段"):
        last = dictionary_form[-1]
        return dictionary_form[:-1] + _ROW[last][0] if last in _ROW else None
    if conjugation.startswith(("上一段", "下一段")):
        return dictionary_form[:-1]
    if conjugation.startswith("サ行変格"):
        return dictionary_form[:-2] + "し" if dictionary_form.endswith(("する", "ずる")) else None
    if conjugation.startswith("カ行変格"):
        return dictionary_form[:-2] + ("来" if dictionary_form.endswith("来る") else "き")
    return None


def _ba_form(dictionary_form: str, conjugation: str) -> str | None:
    if conjugation.startswith("五段"):
        last = dictionary_form[-1]
        return dictionary_form[:-1] + _ROW[last][1] + "ば" if last in _ROW else None
    if conjugation.startswith(("上一段", "下一段")):
        return dictionary_form[:-1] + "れば"
    if conjugation.startswith("サ行変格"):
        return dictionary_form[:-2] + "すれば" if dictionary_form.endswith("する") else None
    if conjugation.startswith("カ行変格"):
        return dictionary_form[:-1] + "れば"
    return None


def _nai_form(dictionary_form: str, conjugation: str) -> str | None:
    """できる -> できない, 使う -> 使わない, する -> しない."""
    if conjugation.startswith("五段"):
        last = dictionary_form[-1]
        row = {"う": "わ", "く": "か", "ぐ": "が", "す": "さ", "つ": "た", "ぬ": "な", "ぶ": "ば", "む": "ま", "る": "ら"}
        return dictionary_form[:-1] + row[last] + "ない" if last in row else None
    if conjugation.startswith(("上一段", "下一段")):
        return dictionary_form[:-1] + "ない"
    if conjugation.startswith("サ行変格") and dictionary_form.endswith("する"):
        return dictionary_form[:-2] + "しない"
    if conjugation.startswith("カ行変格"):
        return dictionary_form[:-2] + ("来ない" if dictionary_form.endswith("来る") else "こない")
    return None


def question_ending(s: Sentence) -> tuple[int, str, str] | None:
    """How the sentence's predicate becomes a polite question: (cut, replacement, style).

    question = text[...:cut] + replacement; style is "ask" (…ですか/ますか), "how" (…ばよいですか)
    or None when the ending is not understood. Offsets are within s.text.
    """
    toks = s.tokens
    end = len(toks)
    while end and (toks[end - 1][1][0] in ("補助記号", "空白") or toks[end - 1][0] in ("。", "」", "』", ")", "）")):
        end -= 1
    if end == 0:
        return None
    toks = toks[:end]
    surface = s.text[:toks[-1][4]]
    cut = toks[-1][4]
    last, pos, lemma = toks[-1][0], toks[-1][1], toks[-1][2]

    if surface.endswith(("ですか", "ますか", "でしょうか")) or last in ("か", "の") and pos[0] == "助詞":
        return None  # already a question
    if surface.endswith(("ません", "ました", "でした", "ます", "です", "ませんでした")):
        if surface.endswith(("お願いします", "お願いいたします", "お願い致します", "いたします", "致します")) and not surface.endswith("実施いたします"):
            return None
        return cut, "か？", "ask"
    if surface.endswith(("ください", "下さい")):
        # verb te-form + ください -> ba-form + よいですか; お越しください -> 行けば; ご提出ください -> 提出すれば
        i = len(toks) - 2
        if i >= 0 and toks[i][0] in ("て", "で") and toks[i][1][0] == "助詞":
            if i - 1 >= 0 and toks[i - 1][0] in ("ない", "ず") or surface.endswith(("ないでください", "ないで下さい")):
                return None
            j = i - 1
            if j >= 0 and toks[j][1][0] == "動詞":
                ba = _ba_form(toks[j][2], toks[j][1][4])
                if ba:
                    return toks[j][3], ba + "よいですか？", "how"
            return None
        j = len(toks) - 2
        if j >= 1 and toks[j - 1][0] in ("お", "ご", "御"):
            word = toks[j]
            if word[0] == "越し" or word[2] in ("越す", "出で", "いでる"):
                return toks[j - 1][3], "行けばよいですか？", "how"
            if word[0] in ("持ち",):
                return toks[j - 1][3], "持っていけばよいですか？", "how"
            if word[1][0] == "動詞":
                ba = _ba_form(word[2], word[1][4])
                return (toks[j - 1][3], ba + "よいですか？", "how") if ba else None
            if word[1][0] == "名詞":
                if word[0].endswith(("問い合わせ", "問合せ", "申し込み", "申込み", "申込")):
                    base = {"問合せ": "問い合わせ", "申込み": "申し込み", "申込": "申し込み"}.get(word[0], word[0])
                    stem = base[:-1] + {"せ": "せれ", "み": "め"}[base[-1]] + "ば" if base[-1] in "せみ" else None
                    return (toks[j - 1][3], stem + "よいですか？", "how") if stem else None
                return toks[j - 1][3], word[0] + "すればよいですか？", "how"
        return None
    if surface.endswith(("である", "であります")):
        return s.text.rfind("で", 0, cut), "ですか？", "ask"
    if surface.endswith(("であった",)):
        return s.text.rfind("で", 0, cut), "でしたか？", "ask"
    if last == "だ" and pos[0] == "助動詞":
        return toks[-1][3], "ですか？", "ask"
    if pos[0] in ("名詞", "接尾辞") or pos[0] == "代名詞":
        return cut, "ですか？", "ask"
    if pos[0] == "形容詞" and "終止形" in pos[5]:
        return cut, "ですか？", "ask"
    if pos[0] == "動詞" and "終止形" in pos[5]:
        stem = _masu_stem(lemma, pos[4])
        return (toks[-1][3], stem + "ますか？", "ask") if stem else None
    if pos[0] == "助動詞":
        if lemma in ("れる", "られる", "せる", "させる") and "終止形" in pos[5]:
            return toks[-1][3], last[:-1] + "ますか？", "ask"
        if lemma == "た" and len(toks) >= 2:
            prev = toks[-2]
            if prev[1][0] == "動詞":
                stem = _masu_stem(prev[2], prev[1][4])
                return (prev[3], stem + "ましたか？", "ask") if stem else None
            if prev[2] in ("れる", "られる", "せる", "させる"):
                return prev[3], prev[0] + "ましたか？", "ask"
            if prev[0] == "だっ":
                return prev[3], "でしたか？", "ask"
        if lemma == "ない" and len(toks) >= 2:
            return cut, "のですか？", "ask"
    return None


def plain_predicate(clause: str) -> str | None:
    """「休館します」 -> 「休館する」; 「ご利用ください」 -> 「利用する必要がある」 (for なぜ questions)."""
    toks = [(m.surface(), m.part_of_speech(), m.dictionary_form()) for m in tokenizer("C").tokenize(clause)]
    while toks and toks[-1][1][0] in ("補助記号", "空白"):
        toks.pop()
    if len(toks) < 2:
        return None
    text = "".join(t[0] for t in toks)
    if text.endswith("ません") and toks[-1][0] == "ん" and toks[-2][0] == "ませ" and len(toks) >= 3 and toks[-3][1][0] == "動詞":
        nai = _nai_form(toks[-3][2], toks[-3][1][4])
        return "".join(t[0] for t in toks[:-3]) + nai if nai else None
    if text.endswith(("ません", "ました", "でした")):
        return None
    if toks[-1][0] == "ます" and toks[-2][1][0] == "動詞":
        return "".join(t[0] for t in toks[:-2]) + toks[-2][2]
    if toks[-1][0] == "です":
        return "".join(t[0] for t in toks[:-1]) + "な"
    if toks[-1][0] in ("ください", "下さい") and toks[-2][0] in ("て", "で") and len(toks) >= 3 and toks[-3][1][0] == "動詞":
        return "".join(t[0] for t in toks[:-3]) + toks[-3][2] + "必要がある"
    if toks[-1][0] in ("ください", "下さい") and len(toks) >= 3 and toks[-3][0] in ("ご", "お") and toks[-2][1][0] == "名詞":
        return "".join(t[0] for t in toks[:-3]) + toks[-2][0] + "する必要がある"
    if toks[-1][1][0] == "動詞" and "終止形" in toks[-1][1][5]:
        return text
    return None
