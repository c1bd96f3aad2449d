"""Sentences of a notice, prepared for question making: offsets, paragraphs, Sudachi tokens, the body after
bullets and connectors, the notice's subject, and the comparison forms of questions and answers.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from hideki.japanese.facts import strip_readings
from hideki.japanese.sentences import split_sentences
from hideki.japanese.sudachi import tokenizer

LABEL = re.compile(r"^[\s\u3000]*(?:[・●○■□◆◇▪▶►◎＊*※\-]+[\s\u3000]*)?(?:【(?P<l1>[^】]{1,15})】|(?P<l2>[^\s:：。、「」()（）]{1,15}?)[\s\u3000]*[:：])[\s\u3000]*(?P<value>\S.*?)[\s\u3000。]*$")


def shadow(text: str) -> str:
    """NFKC per character where that keeps one character, so offsets stay aligned (１２ -> 12)."""
    out = []
    for ch in text:
        n = unicodedata.normalize("NFKC", ch)
        out.append(n if len(n) == 1 else ch)
    return "".join(out).replace("〜", "~").replace("～", "~")


def norm(text: str) -> str:
    """Comparison form: readings removed, NFKC, no spaces, unified waves and dashes, lower case."""
    text = unicodedata.normalize("NFKC", strip_readings(text))
    text = re.sub(r"\s+", "", text).replace("〜", "~").replace("～", "~")
    text = re.sub(r"[‐‑‒–—―−ｰ](?=\d)", "-", text)
    return text.lower()


def question_key(question: str) -> str:
    return re.sub(r"[?？。、,.!！「」『』\"'・]", "", norm(question))


BULLET = re.compile(r"^[\s\u3000]*(?:[・●○■□◆◇▪▶►◎〇＊*※\-－]+|\(?\d{1,2}[).．、]|[（(]\d{1,2}[)）]|[①-⑳])?[\s\u3000]*")
CONNECTOR = re.compile(r"^(?:なお|また|ただし|さらに|その他|そのほか|おって|それから|ちなみに|加えて|一方)[、,]\s*")
GREETING = re.compile(
    r"お世話になって|よろしくお願い|ありがとうございま|ご協力をお願い|ご理解|ご了承|おはようございます|こんにちは|こんばんは"
    r"|お疲れ様|拝啓|敬具|以上です|以上。?$|^(?:[^、。]{0,30}について)?(?:お知らせ|ご案内)(?:します|いたします)。?$")
DEMONSTRATIVE = re.compile(r"^(?:これ|それ|あれ|この|その|あの|こちら|そちら|こう|そう|同(?!じ)|上記|下記|以下|次)(?!他|ほか)")


@dataclass
class Sentence:
    text: str
    start: int        # offset of text in the source
    para: int
    index: int
    tokens: list = field(default_factory=list)  # (surface, pos tuple, dictionary form, begin, end)
    body: int = 0     # offset (in text) after bullets and connectors


def locate_sentences(text: str) -> list[Sentence]:
    """split_sentences with offsets; paragraphs are blocks between blank lines (else lines)."""
    lines = text.splitlines(keepends=True)
    blank_separated = any(not line.strip() for line in lines[1:-1]) if len(lines) > 2 else False
    para_of_offset: list[tuple[int, int]] = []
    offset, para, prev_blank = 0, 0, False
    for i, line in enumerate(lines):
        if not line.strip():
            prev_blank = True
        else:
            if i and (prev_blank or not blank_separated):
                para += 1
            prev_blank = False
        para_of_offset.append((offset, para))
        offset += len(line)
    out: list[Sentence] = []
    cursor = 0
    for sentence in split_sentences(text):
        at = text.find(sentence, cursor)
        if at < 0:
            continue
        cursor = at + len(sentence)
        p = 0
        for line_start, line_para in para_of_offset:
            if line_start > at:
                break
            p = line_para
        out.append(Sentence(sentence, at, p, len(out)))
    return out


def tokenize_sentence(s: Sentence) -> None:
    s.tokens = [(m.surface(), m.part_of_speech(), m.dictionary_form(), m.begin(), m.end())
                for m in tokenizer("C").tokenize(s.text)]
    body = BULLET.match(s.text).end()
    while True:
        m = CONNECTOR.match(s.text[body:])
        if not m:
            break
        body += m.end()
    s.body = body


def notice_title(sentences: list[Sentence]) -> str:
    """The notice's subject from a heading line (「防災訓練のお知らせ」 -> 防災訓練), else ""."""
    if not sentences:
        return ""
    first = sentences[0].text.strip()
    if len(first) > 40 or first.endswith(("。", ".", "？", "?")) or LABEL.match(first):
        return ""
    first = re.sub(r"^[【\[［〔<＜《■◆●□◇☆★\s]*(?:重要|お知らせ|ご案内|注意|新着)[】\]］〕>＞》]\s*", "", first)
    first = re.sub(r"[【】\[\]［］〔〕「」『』<>＜＞《》■◆●□◇☆★]", "", first).strip()
    first = re.sub(r"(?:のお知らせ|のご案内|のお願い|に関するお知らせ|についてのお知らせ|について|のご連絡|のごあんない|のおしらせ)$", "", first)
    if len(first) < 2 or GREETING.search(first):
        return ""
    return first
