"""Extractive summaries: key sentences chosen by MMR over Sudachi content words, newsletter-style compression.

    summarize(speech, 100)                       # one speech or document, at most 100 characters
    rank_units(sentences, k=5)                   # indices of the k most representative sentences

Relevance is the cosine of a sentence to the centroid of all sentences (TF-IDF over content words) with a mild
position prior; redundancy is the highest cosine to the sentences already chosen. Another relevance (the
benchmark's TextRank) can be passed in; benchmarks/minutes.py compares them on PoliInfo.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from typing import Callable, Iterable, Sequence

from hideki.japanese.numbers import kanji_numerals_to_digits
from hideki.japanese.sentences import split_sentences
from hideki.japanese.sudachi import tokenizer
from hideki.minutes.units import clean_text

Vector = dict[str, float]
Relevance = Callable[[Sequence[Sequence[str]]], tuple[list[float], list[Vector]]]
"""Scores sentences (their content words) for relevance; returns the scores and the TF-IDF vectors."""

_STOP_LEMMAS = frozenset(
    "こと もの ため よう これ それ あれ どれ ここ そこ 方 ほう 中 時 とき 感じ 形 話 点 的 等 など 件 今回 今日 本日 "
    "皆さん 皆様 みなさん 私 わたし 僕 自分 我々 こちら そちら 辺 あたり 所 ところ 場合 上 前 後 次 以上 方向 部分 "
    "する 為る ある 有る いる 居る なる 成る できる 出来る 思う 言う 考える いただく 頂く くださる 下さる 申す おる 致す "
    "いう ござる 参る おっしゃる 伺う お願い 願う 様 さん 君 はい ええ いい 良い よい ない 無い そう どう".split())
_CONTENT_POS = ("名詞", "動詞", "形容詞")


def _chunks(text: str, size: int = 4000) -> Iterable[str]:
    for i in range(0, len(text), size):
        yield text[i:i + size]


def content_words(text: str, mode: str = "B") -> list[str]:
    """Normalised content words (nouns, verbs, adjectives) without stop words and numbers."""
    words: list[str] = []
    tok = tokenizer(mode)
    for chunk in _chunks(text):
        for m in tok.tokenize(chunk):
            pos = m.part_of_speech()
            if pos[0] not in _CONTENT_POS or pos[1] in ("数詞", "非自立可能", "代名詞") or pos[2] == "助数詞可能":
                continue
            lemma = m.normalized_form()
            if lemma in _STOP_LEMMAS or len(lemma) == 1 and not re.match(r"[\u4e00-\u9fff]", lemma):
                continue
            words.append(lemma)
    return words


def tfidf_vectors(docs: Sequence[Sequence[str]]) -> list[Vector]:
    """Unit-length TF-IDF vectors (log tf, smoothed idf) of the documents."""
    df: Counter[str] = Counter()
    for d in docs:
        df.update(set(d))
    n = len(docs)
    vectors: list[Vector] = []
    for d in docs:
        tf = Counter(d)
        vec = {w: (1 + math.log(c)) * math.log((n + 1) / (df[w] + 0.5)) for w, c in tf.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        vectors.append({w: v / norm for w, v in vec.items()})
    return vectors


def _cos(a: Vector, b: Vector) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(w, 0.0) for w, v in a.items())


def centroid_scores(docs: Sequence[Sequence[str]]) -> tuple[list[float], list[Vector]]:
    """The default relevance: cosine of each sentence to the centroid of all of them."""
    vectors = tfidf_vectors(docs)
    centroid: Counter[str] = Counter()
    for vec in vectors:
        centroid.update(vec)
    norm = math.sqrt(sum(v * v for v in centroid.values())) or 1.0
    centroid_vec = {w: v / norm for w, v in centroid.items()}
    return [_cos(vec, centroid_vec) for vec in vectors], vectors


def select_mmr(relevance: Sequence[float], vectors: Sequence[Vector], k: int, lam: float = 0.7,
               lengths: Sequence[int] | None = None, budget: int | None = None) -> list[int]:
    """Maximal marginal relevance: k indices (or as many as fit `budget` characters)."""
    chosen: list[int] = []
    max_sim = [0.0] * len(relevance)
    used = 0
    candidates = set(range(len(relevance)))
    while candidates and len(chosen) < k:
        best, best_score = -1, -1e9
        for i in candidates:
            if budget is not None and lengths is not None and used + lengths[i] > budget and chosen:
                continue
            score = lam * relevance[i] - (1 - lam) * max_sim[i]
            if score > best_score:
                best, best_score = i, score
        if best < 0:
            break
        chosen.append(best)
        candidates.discard(best)
        if lengths is not None:
            used += lengths[best]
        for i in candidates:
            s = _cos(vectors[i], vectors[best])
            if s > max_sim[i]:
                max_sim[i] = s
    return chosen


_LEADING_CONNECTIVES = re.compile(
    r"^(?:まず|次に|また|さらに|更に|そこで|一方|なお|加えて|あわせて|併せて|このため|そのため|したがって|従いまして|"
    r"しかしながら|しかし|ただ|ただし|最後に|特に|とりわけ|そして|では|それでは|じゃあ|じゃ|で|今後|今後とも|引き続き|"
    r"こうしたことから|こうした中|このように|これらを踏まえ|以上のことから|結論から申し上げますと|具体的には)[、,]"
)
_PADDING = [
    (re.compile(r"(?:に|へ)?(?:つきまして|ついて)(?:で)?(?:ございますが|ありますが|でございますが|でありますが|ですが)、?"), "は、"),
    (re.compile(r"(?:のでございます|のであります|のです|のでして)"), ""),
    (re.compile(r"でございます|であります"), "です"),
    (re.compile(r"をいたしました|いたしました"), "した"),
    (re.compile(r"をいたします|いたします|をしてまいります|してまいります|していきます"), "する"),
    (re.compile(r"させていただきます|させていただきました"), "する"),
    (re.compile(r"と(?:考えて|思って)おります|と存じます|と考えます|と思います|と思っております"), ""),
    (re.compile(r"(?:ところ|ところでございます)です"), ""),
    (re.compile(r"どのように"), "どう"),
    (re.compile(r"のか、?(?:[^、。]{0,12}の)?(?:見解|所見|考え|認識|決意|方針|取組|取り組み)を(?:伺います|伺いたい|お伺いします|求めます|お聞きします)"), "か"),
    (re.compile(r"、?(?:[^、。]{0,12}の)?(?:見解|所見|考え|認識|決意|方針)を(?:伺います|伺いたい|お伺いします|求めます|お聞きします)"), "は"),
    (re.compile(r"(?:を|について)?(?:伺います|お伺いします|お聞きします)"), "は"),
    (re.compile(r"(?:すべきと考えますが|べきと考えますが)"), "べきだが"),
]


def compress(sentence: str) -> str:
    """Shorter wording of a sentence: fillers, leading connectives and honorific padding removed."""
    s = clean_text(sentence)
    s = kanji_numerals_to_digits(s)
    for _ in range(2):
        s = _LEADING_CONNECTIVES.sub("", s).lstrip("、 　")
    for pattern, repl in _PADDING:
        s = pattern.sub(repl, s)
    s = re.sub(r"、(?=[。か])", "", s)
    s = re.sub(r"は、は", "は", s)
    s = re.sub(r"(です|ます|した|する)。$", r"\1。", s)
    return s.strip()


_QUESTION_CUE = re.compile(r"(?:伺います|伺いたい|お伺いします|求めます|お聞きします|見解は|所見は|いかがか|べきでは)")
_ANSWER_CUE = re.compile(r"(?:してまいります|いたします|取り組んで|進めて|実施|設置|策定|開始|推進|支援|強化|拡充|整備)")


_PART_OPENER = re.compile(r"^(?:まず|次に|また|さらに|更に|最後に|続いて|一方|加えて|そして|ところで|そこで)[、,]")


def rank_units(sentences: Sequence[str], k: int = 5, budget: int | None = None,
               lengths: Sequence[int] | None = None, position_weight: float = 0.15,
               cue_weight: float = 0.0, part_end_weight: float = 0.0, relevance: Relevance = centroid_scores) -> list[int]:
    """Indices of the k most representative sentences (in document order).

    Score = relevance (by default the centroid cosine) + a lead prior
    (position_weight, decreasing linearly) + cue_weight for question/commitment sentences + part_end_weight
    for the last sentence of a part (the next sentence opens a new one with まず/次に/また…: in assembly
    speeches the question or the answer's conclusion closes each part); selection by MMR.
    """
    docs = [content_words(s) for s in sentences]
    n = len(docs)
    if n == 0:
        return []
    scores, vectors = relevance(docs)
    scored = []
    for i, r in enumerate(scores):
        prior = position_weight * (1.0 - i / n) if n > 1 else 0.0
        cue = cue_weight if cue_weight and (_QUESTION_CUE.search(sentences[i]) or _ANSWER_CUE.search(sentences[i])) else 0.0
        length_penalty = 0.0 if len(docs[i]) >= 3 else 0.5
        part_end = part_end_weight if part_end_weight and (i == n - 1 or _PART_OPENER.match(sentences[i + 1])) else 0.0
        scored.append(r + prior + cue + part_end - length_penalty)
    chosen = select_mmr(scored, vectors, k, lengths=lengths, budget=budget)
    return sorted(chosen)


def summarize(text: str, max_chars: int, relevance: Relevance = centroid_scores) -> str:
    """An extractive summary of one speech or document, at most `max_chars` characters.

    Sentences are ranked (relevance over content words, question/commitment cues, part ends; MMR selection),
    compressed (fillers, honorific padding, connectives dropped; kanji numerals as digits) and joined in
    document order; the result is cut at `max_chars`.
    """
    text = text.replace("\\n", "\n")
    sentences = [s for s in split_sentences(text) if len(s) >= 6]
    if not sentences:
        return text[:max_chars]
    shown = [compress(s) for s in sentences]
    lengths = [len(s) for s in shown]
    k = max(1, len(sentences))
    chosen = rank_units(sentences, k=k, budget=max_chars, lengths=lengths, position_weight=0.0,
                        cue_weight=0.3, part_end_weight=0.2, relevance=relevance)
    out = "".join(shown[i] for i in chosen)
    return out[:max_chars]
