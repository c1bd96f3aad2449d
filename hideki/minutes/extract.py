"""Extractive meeting minutes (議事録) from a Transcript, without a language model.

    m = extract_minutes(parse_transcript(data, name), meeting_date=date(2025, 4, 1))
    print(render_minutes(m))                         # Markdown for Teams

What is extracted and how:
  * attendees: the speakers (plus a 出席者 header), in order of appearance;
  * agenda: a 議題 header, else the chair's topic announcements (議題は…/…について/…の件);
  * summary: key sentences chosen by MMR over Sudachi content words (relevance = cosine to the meeting
    centroid with a mild position prior, redundancy = max cosine to sentences already chosen), shown in
    meeting order. TextRank is available (method="textrank"); benchmarks/minutes.py compares them (PoliInfo
    char ROUGE-1 F: MMR 0.370, TextRank 0.355, lead-N 0.254), and MMR is also O(n·k) where TextRank is O(n²);
  * decisions: cue expressions (決定・決まり・承認・了承・〜こととする・〜ことにします・〜で進めます・〜とします・
    異議なし …); a bare agreement (異議なし/賛成/それでいきましょう) after a proposal makes the proposal a decision;
  * ToDos: requests (〜をお願いします・〜してください・〜してもらえますか) whose owner is the addressee named in
    the sentence (田中さん、…) or the person who accepts in the next utterance, and first-person commitments
    (私が〜します・〜しておきます・〜までに〜します) owned by the speaker; deadlines are resolved against the
    meeting date (来週金曜, 月末, 今月中, 4月10日まで, 明日, 3日後, 次回まで → the next meeting when known);
  * next meeting: 次回は… sentences with a date or time; pending: 継続審議・保留・持ち帰り・次回検討 ….

Every item keeps the speaker, start time and line of the utterance it came from.
"""
from __future__ import annotations

import calendar
import datetime as dt
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from string import Template
from typing import Iterable, Sequence

from hideki.japanese.eras import find_dates, parse_number
from hideki.japanese.sentences import split_sentences
from hideki.japanese.sudachi import tokenizer
from hideki.minutes.transcripts import Transcript, Utterance


@dataclass
class Item:
    text: str
    speaker: str = ""
    start: str = ""
    line: int = 0


@dataclass
class Todo:
    task: str
    owner: str = ""
    due: str = ""        # ISO date or ""
    due_text: str = ""   # the deadline as said (来週金曜まで)
    speaker: str = ""
    start: str = ""
    line: int = 0


@dataclass
class Minutes:
    title: str
    date: str
    attendees: list[str]
    agenda: list[str]
    summary: list[str]
    decisions: list[Item]
    todos: list[Todo]
    next_meeting: str
    pending: list[Item]
    next_meeting_date: str = ""                              # ISO, when the next meeting has a date
    summary_items: list[Item] = field(default_factory=list)  # the summary with traceability


# ============================================================================ text clean-up

_FILLER_RE = re.compile(
    r"(?:(?<=^)|(?<=[、。！？!?\s　「]))"
    r"(?:え[ーっ]+と?|ええと|えっと|えと|あの[ーぉお]+|あのー?(?=[、\s　])|その[ーぉお]+|まあ(?=[、\s　])|まぁ|"
    r"うーん|うん(?=[、\s　])|んー|あー+|おー+(?=[、\s　])|なんか(?=[、\s　])|ちょっと(?=[、\s　])|"
    r"そうですね(?=[、\s　])|はい(?=[、\s　])|ええ(?=[、\s　]))[ー、\s　]*"
)
_SPACES_RE = re.compile(r"[ \t　]+")


def clean_text(text: str) -> str:
    """Sentence without speech fillers (えーと, あのー, まあ, …) at clause starts."""
    previous = None
    text = text.strip()
    while previous != text:
        previous = text
        text = _FILLER_RE.sub("", text)
    text = re.sub(r"、{2,}", "、", text)
    text = re.sub(r"^[、\s　]+", "", text)
    return _SPACES_RE.sub(" ", text).strip()


# ============================================================================ sentence units


@dataclass
class Unit:
    text: str          # the sentence as said
    clean: str         # without fillers
    speaker: str
    start: str
    line: int
    utterance: int     # index of the utterance
    index: int         # index of the sentence inside the utterance


def sentence_units(transcript: Transcript) -> list[Unit]:
    units: list[Unit] = []
    for ui, u in enumerate(transcript.utterances):
        for si, sentence in enumerate(split_sentences(u.text)):
            units.append(Unit(sentence, clean_text(sentence), u.speaker, u.start, u.line, ui, si))
    return units


# ============================================================================ content words

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


# ============================================================================ ranking


def _tfidf(docs: Sequence[Sequence[str]]) -> list[dict[str, float]]:
    df: Counter[str] = Counter()
    for d in docs:
        df.update(set(d))
    n = len(docs)
    vectors: list[dict[str, float]] = []
    for d in docs:
        tf = Counter(d)
        vec = {w: (1 + math.log(c)) * math.log((n + 1) / (df[w] + 0.5)) for w, c in tf.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        vectors.append({w: v / norm for w, v in vec.items()})
    return vectors


def _cos(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(w, 0.0) for w, v in a.items())


def textrank_scores(docs: Sequence[Sequence[str]], damping: float = 0.85, iterations: int = 40) -> list[float]:
    """PageRank over the cosine-similarity graph of the sentences (numpy, dense)."""
    import numpy as np

    n = len(docs)
    if n == 0:
        return []
    vectors = _tfidf(docs)
    vocab: dict[str, int] = {}
    for vec in vectors:
        for w in vec:
            vocab.setdefault(w, len(vocab))
    matrix = np.zeros((n, max(1, len(vocab))), dtype=np.float32)
    for i, vec in enumerate(vectors):
        for w, v in vec.items():
            matrix[i, vocab[w]] = v
    sim = matrix @ matrix.T
    np.fill_diagonal(sim, 0.0)
    row = sim.sum(axis=1, keepdims=True)
    row[row == 0] = 1.0
    transition = sim / row
    scores = np.full(n, 1.0 / n, dtype=np.float32)
    for _ in range(iterations):
        scores = (1 - damping) / n + damping * (transition.T @ scores)
    return [float(s) for s in scores]


def centroid_scores(docs: Sequence[Sequence[str]]) -> tuple[list[float], list[dict[str, float]]]:
    vectors = _tfidf(docs)
    centroid: Counter[str] = Counter()
    for vec in vectors:
        centroid.update(vec)
    norm = math.sqrt(sum(v * v for v in centroid.values())) or 1.0
    centroid_vec = {w: v / norm for w, v in centroid.items()}
    return [_cos(vec, centroid_vec) for vec in vectors], vectors


def select_mmr(relevance: Sequence[float], vectors: Sequence[dict[str, float]], k: int, lam: float = 0.7,
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


# ============================================================================ compression (newsletter style)

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
_KANJI_NUMERAL_RE = re.compile(r"(?<![\u4e00-\u9fff々])([一二三四五六七八九十百千〇]+(?:[万億兆][一二三四五六七八九十百千〇]*)*)"
                               r"(?=[万億兆]?(?:年|か月|カ月|箇月|月|日|人|件|か所|カ所|箇所|円|%|％|回|校|区|市|町|村|名|社|台|棟|戸|倍|割|"
                               r"時間|分|歳|期|項目|つ|点|本|施設|団体|週|ヘクタール|キロ|メートル|万|億|兆|千))")


def kanji_numerals_to_digits(text: str) -> str:
    """二十四年度 -> 24年度, 三百五十二万人 -> 352万人 (numerals before a counter only)."""

    def repl(m: re.Match[str]) -> str:
        try:
            value = parse_number(m.group(1))
        except ValueError:
            return m.group(1)
        return str(value)

    return _KANJI_NUMERAL_RE.sub(repl, text)


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


# ============================================================================ summariser (generic)

_PROCEDURAL_RE = re.compile(
    r"^(?:よろしく(?:お願い)?|お疲れ様|ありがとうございま|はい|ええ|うん|そうですね|なるほど|了解|承知|わかりました|分かりました|"
    r"おはようございま|こんにちは|失礼しま|お願いします|大丈夫です|以上です|異議なし|聞こえ|画面)"
)
_QUESTION_CUE = re.compile(r"(?:伺います|伺いたい|お伺いします|求めます|お聞きします|見解は|所見は|いかがか|べきでは)")
_ANSWER_CUE = re.compile(r"(?:してまいります|いたします|取り組んで|進めて|実施|設置|策定|開始|推進|支援|強化|拡充|整備)")


_PART_OPENER = re.compile(r"^(?:まず|次に|また|さらに|更に|最後に|続いて|一方|加えて|そして|ところで|そこで)[、,]")


def rank_units(sentences: Sequence[str], method: str = "mmr", k: int = 5, budget: int | None = None,
               lengths: Sequence[int] | None = None, position_weight: float = 0.15,
               cue_weight: float = 0.0, part_end_weight: float = 0.0) -> list[int]:
    """Indices of the k most representative sentences (in document order).

    Score = relevance (centroid cosine for MMR, normalised PageRank for TextRank) + a lead prior
    (position_weight, decreasing linearly) + cue_weight for question/commitment sentences + part_end_weight
    for the last sentence of a part (the next sentence opens a new one with まず/次に/また…: in assembly
    speeches the question or the answer's conclusion closes each part); selection by MMR.
    """
    docs = [content_words(s) for s in sentences]
    n = len(docs)
    if n == 0:
        return []
    if method == "textrank":
        raw = textrank_scores(docs)
        top = max(raw) or 1.0
        relevance = [r / top for r in raw]
        vectors = _tfidf(docs)
    else:
        relevance, vectors = centroid_scores(docs)
    scored = []
    for i, r in enumerate(relevance):
        prior = position_weight * (1.0 - i / n) if n > 1 else 0.0
        cue = cue_weight if cue_weight and (_QUESTION_CUE.search(sentences[i]) or _ANSWER_CUE.search(sentences[i])) else 0.0
        length_penalty = 0.0 if len(docs[i]) >= 3 else 0.5
        part_end = part_end_weight if part_end_weight and (i == n - 1 or _PART_OPENER.match(sentences[i + 1])) else 0.0
        scored.append(r + prior + cue + part_end - length_penalty)
    chosen = select_mmr(scored, vectors, k, lengths=lengths, budget=budget)
    return sorted(chosen)


def summarize(text: str, max_chars: int, method: str = "mmr", compress_sentences: bool = True) -> str:
    """An extractive summary of one speech or document, at most `max_chars` characters.

    Sentences are ranked (MMR or TextRank over content words, question/commitment cues, part ends),
    compressed (fillers, honorific padding, connectives dropped; kanji numerals as digits) and joined in
    document order; the result is cut at `max_chars`.
    """
    text = text.replace("\\n", "\n")
    sentences = [s for s in split_sentences(text) if len(s) >= 6]
    if not sentences:
        return text[:max_chars]
    shown = [compress(s) if compress_sentences else s for s in sentences]
    lengths = [len(s) for s in shown]
    k = max(1, len(sentences))
    chosen = rank_units(sentences, method=method, k=k, budget=max_chars, lengths=lengths, position_weight=0.0,
                        cue_weight=0.3, part_end_weight=0.2)
    out = "".join(shown[i] for i in chosen)
    return out[:max_chars]


def lead_summary(text: str, max_chars: int) -> str:
    """Lead-N baseline: the first sentences, cut at `max_chars`."""
    text = text.replace("\\n", "\n")
    return "".join(split_sentences(text))[:max_chars]


# ============================================================================ dates and deadlines

WEEKDAYS = "月火水木金土日"
_NUM = r"(?:[0-9０-９]+|[〇一二三四五六七八九十]+)"
_DATE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [(name, re.compile(p)) for name, p in [
    ("week_wd", r"(?P<rel>今週|来週|再来週|翌週)(?:の)?(?P<wd>[月火水木金土日])曜(?:日)?"),
    ("week_end", r"(?P<rel>今週|来週|再来週|翌週)(?:中|いっぱい|末|内|(?=まで))"),
    ("week_start", r"週明け"),
    ("month_part", r"(?P<rel>今月|来月|再来月|翌月)(?:の)?(?P<part>上旬|中旬|下旬|中|末|いっぱい|内|初め|はじめ|頭|前半|後半)"),
    ("m_part", r"(?<![0-9０-９])(?P<m>" + _NUM + r")月(?:の)?(?P<part>上旬|中旬|下旬|中|末|いっぱい|初め|はじめ|頭|前半|後半)"),
    ("month_end", r"(?<![今来翌再])月末"),
    ("fy_end", r"(?P<rel>今|来)?年度(?:末|内|中)"),
    ("year_end", r"年内|年末|今年中"),
    ("after", r"(?P<n>" + _NUM + r")(?P<unit>営業日|日|週間|か月|ヶ月|カ月|ヵ月|箇月)後"),
    ("within", r"(?P<n>" + _NUM + r")(?P<unit>営業日|日|週間)(?:以内|のうち)"),
    ("tomorrow", r"明日|あした|明朝"),
    ("day_after", r"明後日|あさって"),
    ("today", r"本日中|今日中|今日いっぱい|本日の?うち|今日の?うち"),
    ("next_meeting", r"次回(?:の)?(?:会議|打ち合わせ|打合せ|定例|委員会|会合|ミーティング)?(?:まで|前)"),
    ("day_only", r"(?<![0-9０-９月〇一二三四五六七八九十])(?P<d>" + _NUM + r")日(?=まで|中に|目途|めど|締め|〆|は私|に(?!収|短|延|分|減|増|1|一))(?!間)"),
    ("weekday", r"(?<![週の])(?P<wd>[月火水木金土日])曜(?:日)?"),
]]
_DUE_FOLLOW = re.compile(r"^(?:[0-9０-９:：時分半]*(?:の)?(?:午前|午後|正午|夕方|朝|中|末|いっぱい)?(?:までには|までに|まで|中|目途|めど|を目途|を目処|締め切り|締切|〆切|期限))")


def _fy_end(base: dt.date, offset: int = 0) -> dt.date:
    year = base.year if base.month >= 4 else base.year - 1
    return dt.date(year + 1 + offset, 3, 31)


def _month_last(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _add_months(base: dt.date, months: int) -> tuple[int, int]:
    m = base.month - 1 + months
    return base.year + m // 12, m % 12 + 1


def _part_of_month(year: int, month: int, part: str) -> dt.date:
    if part in ("上旬", "初め", "はじめ", "頭"):
        return dt.date(year, month, 10)
    if part in ("中旬", "前半"):
        return dt.date(year, month, 15 if part == "前半" else 20)
    return _month_last(year, month)


def _add_business_days(base: dt.date, n: int) -> dt.date:
    d = base
    while n > 0:
        d += dt.timedelta(days=1)
        if d.weekday() < 5:
            n -= 1
    return d


def _year_for(base: dt.date, month: int, day: int) -> dt.date | None:
    """The date with this month/day nearest to the meeting, preferring the future."""
    for year in (base.year, base.year + 1):
        try:
            d = dt.date(year, month, day)
        except ValueError:
            return None
        if d >= base - dt.timedelta(days=60):
            return d
    return None


@dataclass
class DateExpression:
    start: int
    end: int
    text: str
    date: dt.date | None
    kind: str


def find_date_expressions(text: str, base: dt.date | None, next_meeting: dt.date | None = None) -> list[DateExpression]:
    """Absolute and relative date expressions in `text`, resolved against `base` (the meeting date)."""
    text_n = unicodedata.normalize("NFKC", text)
    found: list[DateExpression] = []
    taken: list[tuple[int, int]] = []

    def free(s: int, e: int) -> bool:
        return all(e <= a or s >= b for a, b in taken)

    def add(s: int, e: int, date: dt.date | None, kind: str) -> None:
        found.append(DateExpression(s, e, text_n[s:e], date, kind))
        taken.append((s, e))

    for d in find_dates(text_n):
        if d.fiscal or d.month is None:
            continue
        date = None
        if d.day is not None:
            if d.year:
                try:
                    date = dt.date(d.year, d.month, d.day)
                except ValueError:
                    date = None
            elif base:
                date = _year_for(base, d.month, d.day)
        add(d.start, d.end, date, "absolute")
    for kind, pattern in _DATE_PATTERNS:
        for m in pattern.finditer(text_n):
            if not free(m.start(), m.end()):
                continue
            add(m.start(), m.end(), _resolve(kind, m, base, next_meeting), kind)
    return sorted(found, key=lambda x: x.start)


def _resolve(kind: str, m: re.Match[str], base: dt.date | None, next_meeting: dt.date | None) -> dt.date | None:
    if kind == "next_meeting":
        return next_meeting
    if base is None:
        return None
    g = m.groupdict()
    week_offset = {"今週": 0, "来週": 1, "翌週": 1, "再来週": 2}
    monday = base - dt.timedelta(days=base.weekday())
    try:
        if kind == "week_wd":
            return monday + dt.timedelta(weeks=week_offset[g["rel"]], days=WEEKDAYS.index(g["wd"]))
        if kind == "week_end":
            return monday + dt.timedelta(weeks=week_offset[g["rel"]], days=4)
        if kind == "week_start":
            return monday + dt.timedelta(weeks=1)
        if kind == "month_part":
            year, month = _add_months(base, {"今月": 0, "来月": 1, "翌月": 1, "再来月": 2}[g["rel"]])
            return _part_of_month(year, month, g["part"])
        if kind == "m_part":
            month = parse_number(g["m"])
            if not 1 <= month <= 12:
                return None
            year = base.year + (1 if month < base.month - 2 else 0)
            return _part_of_month(year, month, g["part"])
        if kind == "month_end":
            return _month_last(base.year, base.month)
        if kind == "fy_end":
            return _fy_end(base, 1 if g.get("rel") == "来" else 0)
        if kind == "year_end":
            return dt.date(base.year, 12, 31)
        if kind in ("after", "within"):
            n = parse_number(g["n"])
            unit = g["unit"]
            if unit == "営業日":
                return _add_business_days(base, n)
            if unit == "日":
                return base + dt.timedelta(days=n)
            if unit == "週間":
                return base + dt.timedelta(weeks=n)
            year, month = _add_months(base, n)
            return dt.date(year, month, min(base.day, calendar.monthrange(year, month)[1]))
        if kind == "tomorrow":
            return base + dt.timedelta(days=1)
        if kind == "day_after":
            return base + dt.timedelta(days=2)
        if kind == "today":
            return base
        if kind == "day_only":
            day = parse_number(g["d"])
            year, month = base.year, base.month
            if day < base.day:
                year, month = _add_months(base, 1)
            return dt.date(year, month, day)
        if kind == "weekday":
            delta = (WEEKDAYS.index(g["wd"]) - base.weekday()) % 7 or 7
            return base + dt.timedelta(days=delta)
    except (ValueError, KeyError):
        return None
    return None


def find_deadline(text: str, base: dt.date | None, next_meeting: dt.date | None = None) -> DateExpression | None:
    """The deadline of a task sentence: a date expression followed by まで/までに/中/目途…, else the first one."""
    expressions = find_date_expressions(text, base, next_meeting)
    if not expressions:
        return None
    text_n = unicodedata.normalize("NFKC", text)
    for e in expressions:
        tail = text_n[e.end:e.end + 12]
        if e.kind == "next_meeting" or _DUE_FOLLOW.match(tail) or e.kind in ("week_end", "month_part", "m_part",
                                                                             "fy_end", "year_end", "within"):
            return _with_suffix(e, text_n)
    return _with_suffix(expressions[0], text_n)


def _with_suffix(e: DateExpression, text_n: str) -> DateExpression:
    m = _DUE_FOLLOW.match(text_n[e.end:e.end + 12])
    if m and m.group(0):
        return DateExpression(e.start, e.end + m.end(), text_n[e.start:e.end + m.end()], e.date, e.kind)
    return e


# ============================================================================ names


_HONORIFIC = r"(?:さん|様|さま|君|くん|ちゃん|課長補佐|課長|係長|主査|主任|主事|部長|室長|所長|局長|次長|補佐|参事|リーダー|先生)"
_NAME_CHARS = r"[\u4e00-\u9fff々ヶァ-ヺーA-Za-z]"
_ADDRESSEE_RE = re.compile(r"(?P<name>" + _NAME_CHARS + r"{1,8}?)" + _HONORIFIC + r"(?:[、,]|に(?:は)?|には|の方で|で|から|が|も|は|、)")
_ORG_RE = re.compile(r"(?P<name>[\u4e00-\u9fff々ヶァ-ヺー]{1,10}?(?:課|係|室|班|部|局|チーム|センター|事務局))"
                     r"(?:さんの方で|の方で|さんで|さんに|にお願い|で対応|で担当|が担当|で作成|で準備)")
_NOT_NAMES = frozenset({"皆", "みな", "皆様", "お客", "市民", "住民", "職員", "担当", "先方", "相手", "業者", "委員", "向こう",
                        "みんな", "各", "そちら", "こちら", "どなた", "誰", "お子", "お母", "お父", "利用者"})


def _name_keys(speakers: Sequence[str]) -> dict[str, str]:
    """Short forms of each speaker name (family name, name without role) -> the speaker."""
    keys: dict[str, str] = {}
    ambiguous: set[str] = set()
    for s in speakers:
        forms = {s}
        base = re.sub(r"[（(].*?[）)]", "", s).strip()
        forms.add(base)
        inner = re.findall(r"[（(]([^）)]+)[）)]", s)
        for part in inner:
            forms.add(re.sub(r"(君|さん|氏|委員|議員)$", "", part))
        for form in list(forms):
            parts = form.split(" ")
            forms.add(parts[0])
            stripped = re.sub(_HONORIFIC + r"$", "", form)
            forms.add(stripped)
            forms.add(re.sub(r"(委員長|副委員長|委員|議長|副議長|課長|係長|部長|主査|主任|室長|局長|所長)$", "", form))
            if " " not in form and 3 <= len(form) <= 5 and re.fullmatch(r"[\u4e00-\u9fff々]+", form):
                forms.add(form[:2])
        for f in forms:
            f = f.strip()
            if not f:
                continue
            if f in keys and keys[f] != s:
                ambiguous.add(f)
            keys[f] = s
    for f in ambiguous:
        keys.pop(f, None)
    return keys


def _match_person(name: str, keys: dict[str, str]) -> str | None:
    if name in keys:
        return keys[name]
    for length in range(len(name) - 1, 0, -1):   # 防災課の田中 -> 田中
        tail = name[-length:]
        if tail in keys and length >= 2:
            return keys[tail]
    return None


_GROUP_RE = re.compile(r"(?P<who>全員|各自|皆さん|みなさん|皆様|みんな|各課|各担当)(?!に(?:送|共有|配|周知|連絡|通知|お知らせ))")


def find_addressee(sentence: str, keys: dict[str, str]) -> str:
    """The person (or section) a request is addressed to: 田中さん、… / 防災課の方で… / 全員"""
    for m in _ADDRESSEE_RE.finditer(sentence):
        name = m.group("name")
        if name in _NOT_NAMES:
            continue
        person = _match_person(name, keys)
        if person:
            return person
    for m in _ADDRESSEE_RE.finditer(sentence):
        name = m.group("name")
        if name not in _NOT_NAMES and not re.search(r"[ぁ-ん]", name) and len(name) >= 2 and \
                not name.endswith(("署", "会社", "業者")):
            return name
    m = _ORG_RE.search(sentence)
    if m and m.group("name") not in ("担当", "事務局"):
        return m.group("name")
    m = _GROUP_RE.search(sentence)
    if m:
        return "各自" if m.group("who") in ("各自", "各課", "各担当") else "全員"
    return ""


# ============================================================================ cue expressions

_QUESTION_RE = re.compile(r"(?:[？?]|(?:どう|どの|いつ|何|なに|どこ|誰|どなた)[^。、]*ましょう[。]?$|(?:でしょうか|ですか|ますか|ませんか|かな|っけ|ですかね|のか|んですか|どうか|かね)[。]?$)")
_NEGATED_RE = re.compile(r"(?:決まって(?:い)?(?:ない|ません)|決まらな|決めかね|決めてい(?:ない|ません)|決定ではな|まだ決|未定|"
                         r"確定で(?:は)?(?:ない|ありません)|未確定|"
                         r"承認されな|了承(?:でき|され)(?:ない|ません))")
_DECISION_RE = re.compile(
    r"(?:決定(?:します|しました|いたします|いたしました|です|とします|とさせて|事項|となり|になり|ということで|で(?:す|よろしい))|"
    r"(?:に|と|で)決(?:まり|めま|めさせ|定)|決まりました|決まりです|決まりで|決めました|決めたいと思います(?=.*よろしい)|"
    r"承認(?:します|しました|されました|いたします|いたしました|とします|ということ|で(?:す|よろしい)|を得)|"
    r"了承(?:します|しました|されました|いたしました|いただきました|とします|ということ|を得)|"
    r"(?:こと|方向|方針|形)(?:と|に)(?:します|しましょう|いたします|させていただきます|なりました|決ま|したいと思います|する|いたしたい)|"
    r"(?:こと|方針|方向)で(?:進め|いき|行き|合意|決定|確定|まとま|お願いします)|"
    r"で(?:進めます|進めましょう|進めることに|進めさせて|いきましょう|行きましょう|いこうと思います|確定|合意|決まり|決定|了承|承認|まとま|オッケー|OK)|"
    r"(?:その案|この案|その方向|その内容|原案|この内容|その形|その線)で(?:お願いします|よろしくお願いします)|"
    r"とします|とすることに|こととします|ことにします|ことにしました|ことになりました|ことで決|ことで合意|"
    r"異議(?:なし|ありません|はありません|ございません)|ご異議なし|賛成多数|全会一致|可決|原案(?:どおり|通り)|方向で[^、。]{1,12}ます$|"
    r"確定(?:します|しました|です|とします|で)|合意(?:しました|します|できました|です|とします)|"
    r"それでいきましょう|それで行きましょう|これでいきましょう|その方向で|その案で|この案で)"
)
_AGREEMENT_RE = re.compile(r"^(?:はい[、。]?)?(?:異議(?:なし|ありません|はありません|ございません)(?:です)?|ご?異議なし|賛成(?:です|します)?|"
                           r"了承します|意義なし|異議なしです)[。！!]*$")
_PROPOSAL_RE = re.compile(r"(?:よろしいでしょうか|よろしいですか|いかがでしょうか|どうでしょうか|いいですか|ということで(?:よろしい|いい)|"
                          r"したいと思いますが|と思いますが、?(?:どう|いかが|皆さん)|でいいですかね|ご意見はありますか|ご異議ございませんか|"
                          r"ご異議ありませんか|異議ありませんか)")
_PENDING_RE = re.compile(
    r"(?:継続審議|継続審査|継続協議|継続して(?:検討|協議|審議)|保留|持ち帰(?:り|って|らせ|ります)|持ち越し|持ち越す|先送り|"
    r"次回(?:に|で|の会議で|改めて|以降)?(?:改めて)?(?:検討|議論|協議|審議|決め|結論|判断|諮)|次回に回|"
    r"引き続き(?:検討|協議|議論|調整)(?:する|します|とします|としましょう|ということ)|"
    r"結論(?:は|を)(?:次回|出さず|見送|持ち越|先)|改めて(?:検討|協議|議論|お諮り)|今日は決めず|今回は決めず|今日は結論を出さず|"
    r"判断を保留|まだ決められ|決めきれ)"
)
_REQUEST_RE = re.compile(
    r"(?:をお願い(?:します|したいです|したいと思います|できますか|できますでしょうか|いたします)|お願い(?:します|したい|できますか|できますでしょうか|いたします)|"
    r"(?:して|って|で|て)(?:ください|下さい|くれますか|もらえますか|もらえますでしょうか|いただけますか|いただけますでしょうか|"
    r"もらっていいですか|もらってもいいですか|いただきたい|もらいたい|おいてください|おいて下さい|"
    r"くれる|おいてもらえますか|もらえないでしょうか|いただけないでしょうか|ほしい|欲しい)|"
    r"を(?:ください|下さい|いただけますか|もらえますか)|"
    r"(?:を|の)?担当(?:して|をお願い|でお願い|は|に決まり|に決め|ということで|としたいと)|宿題(?:に|で|として|ということ|を)|"
    r"(?:を|に|までに|までには)(?:ください|下さい|もらえますか|いただけますか|いただけますでしょうか)|"
    r"(?:もらえると|いただけると)(?:助かります|ありがたい|うれしい|嬉しい))"
)
_POLITE_ONLY_RE = re.compile(r"^(?:(?:それでは|では|じゃあ|はい|それじゃ)[、,]?\s*)?(?:どうぞ)?(?:よろしく|引き続きよろしく|今後ともよろしく|以上、?よろしく)?(?:お願い(?:いた)?します|お願いいたします)[。！!]*$")
_PROCEDURE_OBJECTS = re.compile(r"(?:ご?説明|ご?報告|ご?紹介|ご?意見|ご?発言|ご?挨拶|ご?質問|ご?確認を?いただ|進行|司会|自己紹介|ご?審議|ご?協力|ご?理解|"
                                r"ご?発表|ご?回答|ご?答弁|ミュート|画面共有|よろしく)(?:を|も|の方)?(?:お願い|して|いただ)|"
                                r"(?:状況|現状|結果|経緯|概要|方|順番|ところ)から(?:お願い|ご説明|説明)|^(?:それで|これで|その方向で|その案で)お願い")
_COMMIT_RE = re.compile(
    r"(?:(?:して|って|で|て)おきます|(?:して|って|で|て)おこうと思います|しておく|やっておきます|(?:やり|作り|送り|出し|まとめ|確認し|調べ|"
    r"連絡し|手配し|準備し|調整し|作成し|提出し|共有し|用意し|整理し|修正し|更新し|依頼し|相談し|問い合わせ|聞い|当たっ|進め|"
    r"回答し|掲載し|発注し|見直し|検討し|送付し|配布し|予約し|申請し|集計し|取りまとめ|とりまとめ|対応し|展開し|周知し|"
    r"作っ|書い|入れ|投げ|打診し|照会し|確保し|押さえ)(?:ます|ましょう|たいと思います|ようと思います|させていただきます|て(?:み|いき)ます|"
    r"ておきます|てみます)|"
    r"(?:いたします|やります|引き受けます|担当します|対応します|お任せください|任せてください|させていただきます|させてもらいます|"
    r"(?:確認|調整|作成|準備|連絡|手配|提出|報告|共有|相談|検討|修正|集計|整理|回答|送付)(?:いたします|します|しておきます)))"
)
# a sentence ending in a non-past action verb (作ります, 送ります, 確定させます, 行ってきます …)
_ACTION_END_RE = re.compile(r"(?:ます|ましょう|ておきます|てきます|てみます)[。！!]*$")
_STATIVE_END_RE = re.compile(r"(?:あり|(?:て|で|が|は|も|に|^)い|なり|思い|でき|おり|ござい|かかり|わかり|分かり|存じ|見え|聞こえ|しまい|助かり|"
                             r"違い|足り|困り|参り|まいり|入り|要り|すみ|すいま|始まり|終わり|決まり|変わり|集まり|届き|続き|残り|減り|増え|"
                             r"間に合い|似合い|向き|わかり)(?:ます|ましょう)[。！!]*$|ません[。]*$")
_FIRST_PERSON_RE = re.compile(r"(?:私|わたし|僕|ぼく|自分|わたくし|こちら|うち|当課|我々|私ども|弊課|こっち)(?:の方|のほう|たち|ども|で)?(?:で|が|から|は|も|、)|私$")
_ACCEPT_RE = re.compile(r"^(?:はい[、。]?\s*)?(?:承知しました|承知いたしました|了解です|了解しました|わかりました|分かりました|"
                        r"かしこまりました|やります|大丈夫です|できます|引き受けます|了解|オッケー|OK|いいですよ)")
_MEETING_VERBS = re.compile(r"(?:始め|はじめ|開始し|終わり|終了し|閉会し|開会し|移り|移ら|進め(?:させて)?(?:ます|ましょう)$|説明し|説明いた|"
                            r"ご説明|報告し|報告いた|ご報告|紹介し|ご紹介|共有し(?:ます)?(?=.*画面)|画面|読み上げ|お諮り|諮り|"
                            r"締め|まとめます$|戻し|休憩|再開|申し上げ|お答えし|答弁)")
_PAST_RE = re.compile(r"(?:ました|でした|ていました|ておりました|たんです|たんですけど|た。|ましたが)[。]?$")


def _trim_task(text: str) -> str:
    """A task phrase from its sentence: fillers, addressee and polite endings removed."""
    s = clean_text(text)
    for _ in range(2):
        s = re.sub(r"^(?:じゃあ|では|それでは|それじゃ|で|あとは?|それと|それから|なので|ですので|はい|了解です|承知しました|"
                   r"わかりました|分かりました|ありがとうございます|お願いします|それは)[、,。]?\s*", "", s)
    s = re.sub(r"^" + _NAME_CHARS + r"{1,8}?" + _HONORIFIC + r"[、,]\s*", "", s)
    s = s.rstrip("。！!")
    return s.strip()


def _sentence_neighbours(units: Sequence[Unit], i: int) -> Iterable[Unit]:
    j = i + 1
    while j < len(units) and units[j].utterance == units[i].utterance:
        yield units[j]
        j += 1


# ============================================================================ extraction


def _to_date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _find_next_meeting(units: Sequence[Unit], base: dt.date | None) -> tuple[str, dt.date | None, Unit | None]:
    best: tuple[str, dt.date | None, Unit | None] = ("", None, None)
    for u in units:
        s = u.clean
        if not re.search(r"次回|次の会議|次の打ち合わせ|次回会議|次の定例", s):
            continue
        if re.search(r"次回(?:の会議|の打ち合わせ)?(?:まで|前)", s) and not re.search(r"次回(?:は|の日程|の開催|の会議は)", s):
            continue
        if _PENDING_RE.search(s) and not re.search(r"次回(?:は|の日程|の開催)", s):
            continue
        expressions = [e for e in find_date_expressions(s, base) if e.kind != "next_meeting"]
        time_hit = re.search(r"[0-9０-９一二三四五六七八九十]+時|同じ時間|午前|午後", s)
        same_time = re.search(r"(?:来週|再来週|来月)の同じ(?:曜日|時間)", s)
        if not expressions and not time_hit and not same_time:
            continue
        dated = next((e for e in expressions if e.date), None)
        date = dated.date if dated else None
        if date is not None and base is not None and date < base and "年" not in dated.text:
            date = _year_for(base + dt.timedelta(days=60), date.month, date.day)  # the next meeting is ahead
        if date is None and same_time and base:
            date = base + dt.timedelta(weeks=1 if "来週" in same_time.group(0) else 2) if "来月" not in same_time.group(0) \
                else None
        text = _trim_task(s)
        if date is not None:
            text = f"{date.year}年{date.month}月{date.day}日（{WEEKDAYS[date.weekday()]}） {text}"
        if best[2] is None or date is not None:
            best = (text, date, u)
    return best


def extract_minutes(transcript: Transcript, meeting_date: dt.date | None = None, summary_sentences: int = 5,
                    method: str = "mmr") -> Minutes:
    """Minutes of a transcript, every item traceable to its utterance."""
    base = meeting_date or _to_date(transcript.date)
    units = sentence_units(transcript)
    speakers = transcript.speakers
    attendees = list(dict.fromkeys([s for s in speakers if s != "（不明）"] + transcript.participants))
    keys = _name_keys(attendees)
    next_text, next_date, next_unit = _find_next_meeting(units, base)
    decisions, pending = _decisions_and_pending(units, next_unit)
    todos = _todos(units, transcript.utterances, keys, base, next_date)
    summary_items = _summary(units, summary_sentences, method)
    agenda = list(transcript.agenda) or _agenda(units)
    return Minutes(
        title=transcript.title,
        date=(meeting_date.isoformat() if meeting_date else transcript.date),
        attendees=attendees,
        agenda=agenda,
        summary=[f"{it.text}（{it.speaker}）" for it in summary_items],
        decisions=decisions,
        todos=todos,
        next_meeting=next_text,
        pending=pending,
        next_meeting_date=next_date.isoformat() if next_date else "",
        summary_items=summary_items,
    )


def _item(u: Unit, text: str | None = None) -> Item:
    return Item(text if text is not None else _trim_task(u.text), u.speaker, u.start, u.line)


_CHAIR_NOT_DECISION = re.compile(r"(?:始め|はじめ|終わり|終え|移り|休憩し|集まり|締め|戻り|再開し|聞き|伺い|判断し|検討し|考え|"
                                 r"相談し|確認し|待ち)ましょう$")
_REFERRING_RE = re.compile(r"^(?:では|じゃあ|それでは|はい)?[、,]?(?:これ|それ|この|その|以上|そのよう|あの)")
_NEXT_MEETING_RE = re.compile(r"^(?:次回|次の(?:会議|打ち合わせ|打合せ|定例))(?:の[^、。]{0,6})?は")


def _is_short(text: str, limit: int = 16) -> bool:
    return len(re.sub(r"[、。？?！!\s]", "", text)) <= limit


def _decisions_and_pending(units: Sequence[Unit], next_unit: Unit | None) -> tuple[list[Item], list[Item]]:
    """Decisions (cue expressions, agreed proposals, the chair's 〜しましょう) and pending items.

    A weak decision (a short 「それでいきましょう」 or the chair's 〜しましょう) is replaced by a formal one
    (〜こととします) that the same speaker states within three utterances.
    """
    decisions: list[Item] = []
    weak: dict[int, int] = {}                  # index in decisions -> utterance of a weak decision
    pending: list[Item] = []
    decided: set[tuple[int, int]] = set()      # (utterance, sentence) already used
    last_decision_utterance = -10
    chair = units[0].speaker if units else ""

    def add(u: Unit, text: str, is_weak: bool, key: tuple[int, int]) -> None:
        nonlocal last_decision_utterance
        decided.add(key)
        for index in sorted(weak, reverse=True):
            prev = decisions[index]
            if prev.speaker == u.speaker and 0 <= u.utterance - weak[index] <= 3 and not is_weak:
                del weak[index]
                if prev.line == u.line:
                    prev.text = prev.text + "。" + text      # 「それでいきましょう。Aの方向で要求します。」
                else:
                    decisions[index] = _item(u, text)
                last_decision_utterance = u.utterance
                return
        decisions.append(_item(u, text))
        if is_weak:
            weak[len(decisions) - 1] = u.utterance
        last_decision_utterance = u.utterance

    for i, u in enumerate(units):
        s = u.clean
        cue = s.rstrip("。！!．. ")
        if not s or u is next_unit or _NEXT_MEETING_RE.match(s):
            continue
        if _PENDING_RE.search(s) and not _QUESTION_RE.search(s):
            text = _trim_task(u.text)
            if _is_short(text, 10) and u.index > 0 and units[i - 1].utterance == u.utterance:
                text = _trim_task(units[i - 1].text) + "。" + text   # 「一旦保留とします。」 refers back
            pending.append(_item(u, text))
            continue
        if _NEGATED_RE.search(s):
            continue
        if _AGREEMENT_RE.match(s):
            # 「異議なし」 after a proposal: the proposal is the decision
            proposal = _previous_proposal(units, i)
            if proposal is not None and (proposal.utterance, proposal.index) not in decided:
                add(proposal, _trim_task(proposal.text), False, (proposal.utterance, proposal.index))
            continue
        if _QUESTION_RE.search(s) or len(cue) < 8 or (u.utterance, u.index) in decided:
            continue
        strong = bool(_DECISION_RE.search(cue))
        chair_volitional = (u.speaker == chair and cue.endswith("ましょう") and not _CHAIR_NOT_DECISION.search(cue))
        if not (strong or chair_volitional):
            continue
        text = _trim_task(u.text)
        short = _is_short(text, 12)
        previous = units[i - 1] if i > 0 else None
        if short and previous is not None and previous.utterance == u.utterance \
                and not _QUESTION_RE.search(previous.clean) and (previous.utterance, previous.index) not in decided:
            # 「…やってみましょう。これは決定ということで。」: the sentence before carries the content
            add(previous, _trim_task(previous.text) + "。" + text, _REFERRING_RE.match(s) is None and not strong
                or short and "いきましょう" in cue, (u.utterance, u.index))
            decided.add((previous.utterance, previous.index))
            continue
        if short and _REFERRING_RE.match(s) and strong:
            near = [k for k, w in weak.items() if decisions[k].speaker == u.speaker and 0 <= u.utterance - w <= 3]
            if near:   # 「これは決定ということで。」 confirms the chair's proposal
                k = max(near)
                del weak[k]
                if decisions[k].line == u.line:
                    decisions[k].text += "。" + text
                decided.add((u.utterance, u.index))
                continue
            if u.utterance - last_decision_utterance <= 3:
                continue   # 「では、この基準で決定します。」 restates the decision just made
        add(u, text, short or not strong, (u.utterance, u.index))
    return decisions, pending


def _previous_proposal(units: Sequence[Unit], i: int) -> Unit | None:
    """The proposal an agreement at unit i answers: in the last turn before it that is not itself an agreement."""
    j = i - 1
    while j >= 0 and (units[j].speaker == units[i].speaker or _AGREEMENT_RE.match(units[j].clean)
                      or _ACCEPT_RE.match(units[j].clean) and _is_short(units[j].clean, 10)):
        j -= 1
    if j < 0:
        return None
    turn_end = j
    while j >= 0 and units[j].utterance == units[turn_end].utterance:
        s = units[j].clean
        if _PROPOSAL_RE.search(s) or _DECISION_RE.search(s):
            # the proposal may be split: 「A で進めたいと思います。よろしいでしょうか。」
            if _is_short(s, 14) and j > 0 and units[j - 1].utterance == units[j].utterance:
                return units[j - 1]
            return units[j]
        j -= 1
    return None


def _is_commitment(s: str, has_deadline: bool) -> bool:
    """A first-person promise: 私が〜します / 〜しておきます / 〜までに〜します (not a question, past or negation)."""
    if _QUESTION_RE.search(s):
        return False
    s = s.rstrip("。！!．. ")
    if _PAST_RE.search(s + "。"):
        return False
    if _STATIVE_END_RE.search(s) and not re.search(r"ておきます|てきます|てみます", s[-8:]):
        return False
    action = bool(_ACTION_END_RE.search(s) or _COMMIT_RE.search(s))
    if not action:
        return False
    if _MEETING_VERBS.search(s) and not has_deadline:
        return False
    if re.search(r"(?:と|に)(?:決定|します|しましょう)$|こととします|ことにします|方向で", s) and not _FIRST_PERSON_RE.search(s):
        return False   # a decision, not a promise
    if re.search(r"ましょう[。！!]*$", s) and not _FIRST_PERSON_RE.search(s):
        return False
    return bool(_FIRST_PERSON_RE.search(s) or has_deadline or re.search(r"ておきます|ておこう|てきます", s)
                or re.search(r"(?:担当します|引き受けます|お任せください|任せてください|やります)", s))


_REPORTED_RE = re.compile(r"(?:ほしい|欲しい|ください|下さい|お願いします|してくれ)(?:という|とい|との|と言|って言|って話|と要望|と依頼)")
_BARE_REQUEST_RE = re.compile(r"^(?:それで|これで|じゃあ|では|はい|、|\s)*(?:お願い(?:いた)?します|お願いできますか|よろしくお願いします)[。！!]*$")


def _todos(units: Sequence[Unit], utterances: Sequence[Utterance], keys: dict[str, str], base: dt.date | None,
           next_date: dt.date | None) -> list[Todo]:
    todos: list[Todo] = []
    answered: set[int] = set()   # ids of requests a commitment has already answered
    for i, u in enumerate(units):
        s = u.clean
        if not s or _POLITE_ONLY_RE.match(s) or len(s) < 6 or _NEXT_MEETING_RE.match(s):
            continue
        if _PENDING_RE.search(s) and not re.search(r"宿題", s):
            continue
        deadline = find_deadline(s, base, next_date)
        is_request = bool(_REQUEST_RE.search(s)) and not _PROCEDURE_OBJECTS.search(s) and not _REPORTED_RE.search(s)
        if is_request and (_PAST_RE.search(s) or _QUESTION_RE.search(s) and not re.search(
                r"(?:もらえますか|いただけますか|くれますか|できますか|でしょうか|もらえますでしょうか|いただけますでしょうか|"
                r"もらってもいいですか|もらっていいですか)[。？?]*$", s)):
            is_request = False
        is_commit = not is_request and _is_commitment(s, deadline is not None)
        if not (is_request or is_commit):
            continue
        task = _trim_task(u.text)
        rest = unicodedata.normalize("NFKC", task)
        if deadline is not None:
            rest = rest.replace(deadline.text, "").replace("までに", "").replace("まで", "")
        rest = re.sub("^" + _NAME_CHARS + r"{1,8}?" + _HONORIFIC + r"[、,は]?", "", rest)
        bare = _BARE_REQUEST_RE.match(re.sub(r"^[、,はに\s]+", "", rest))
        if is_request:
            owner = find_addressee(s, keys)
            if not owner:   # 「田中さん。」 as a sentence of its own, or 「…。これは全員お願いします。」
                for j in (i - 1, i + 1):
                    if 0 <= j < len(units) and units[j].utterance == u.utterance:
                        owner = find_addressee(units[j].clean + "、", keys)
                        if owner:
                            break
            if not owner:
                owner = _accepting_speaker(units, i, utterances)
            if owner == u.speaker:
                owner = ""
            if bare and not deadline:
                continue   # 「田中さん、お願いします。」 hands over the floor
        else:
            owner = u.speaker
        if deadline is None:
            for nb in _sentence_neighbours(units, i):
                if _REQUEST_RE.search(nb.clean) or _is_commitment(nb.clean, False):
                    break
                deadline = find_deadline(nb.clean, base, next_date)
                if deadline is not None:   # 「…をお願いします。説明会の日、7月14日までに。」
                    task = task + "。" + _trim_task(nb.text)
                    break
        if is_commit:
            for nb in _sentence_neighbours(units, i):
                t = nb.clean.rstrip("。！!")
                if _ACTION_END_RE.search(t) and not _STATIVE_END_RE.search(t) and not _QUESTION_RE.search(nb.clean) \
                        and not _REQUEST_RE.search(t) and not _is_commitment(nb.clean, False):
                    task = task + "。" + _trim_task(nb.text)   # 「設計は私が担当します。すぐ着手します。」
                break
        if len(task) < 4:
            continue
        todo = Todo(task, owner, deadline.date.isoformat() if deadline and deadline.date else "",
                    deadline.text if deadline else "", u.speaker, u.start, u.line)
        _add_todo(todos, todo, units, i, is_commit, bool(bare), answered)
    return todos


def _accepting_speaker(units: Sequence[Unit], i: int, utterances: Sequence[Utterance]) -> str:
    """The speaker who answers a request with 承知しました/わかりました/はい、やります in the next turn."""
    ui = units[i].utterance
    for nxt in range(ui + 1, min(ui + 3, len(utterances))):
        u = utterances[nxt]
        if u.speaker == units[i].speaker:
            return ""
        text = clean_text(u.text)
        if _ACCEPT_RE.match(text) or re.match(r"^はい[、。]", u.text.strip()) and any(
                _is_commitment(sentence, True) for sentence in split_sentences(text)):
            return u.speaker
    return ""


def _add_todo(todos: list[Todo], todo: Todo, units: Sequence[Unit], i: int, is_commit: bool, bare: bool,
              answered: set[int]) -> None:
    """Append, merging follow-ups: a second sentence of the same request, a deadline-only request, a promise
    that answers a recent request to the same person."""
    utterance = units[i].utterance
    for prev in reversed(todos[-4:]):
        prev_utterance = prev.__dict__.get("_utterance", -10)
        same_utterance = prev.line == todo.line and prev.speaker == todo.speaker
        if same_utterance and (not todo.owner or not prev.owner or todo.owner == prev.owner) \
                and (not is_commit or prev.owner == todo.speaker):
            if not prev.due and todo.due:
                prev.due, prev.due_text = todo.due, todo.due_text
            prev.owner = prev.owner or todo.owner
            if not bare and todo.task not in prev.task:
                prev.task = prev.task + "。" + todo.task
            return
        if bare and prev.speaker == todo.speaker and utterance - prev_utterance <= 3:
            # 「来週金曜までにお願いします。」 answering 「いつまでですか」
            if todo.due:
                prev.due, prev.due_text = todo.due, todo.due_text
            prev.owner = prev.owner or todo.owner
            return
        if is_commit and id(prev) not in answered and prev.owner == todo.owner and prev.speaker != todo.speaker \
                and 0 < utterance - prev_utterance <= 2:
            answered.add(id(prev))
            if not prev.due and todo.due:
                prev.due, prev.due_text = todo.due, todo.due_text
            return
    todo.__dict__["_utterance"] = utterance   # not a field: kept out of asdict()
    todos.append(todo)


def _summary(units: Sequence[Unit], k: int, method: str) -> list[Item]:
    candidates = [u for u in units if len(u.clean) >= 12 and not _PROCEDURAL_RE.match(u.clean)
                  and not _QUESTION_RE.search(u.clean)]
    if not candidates:
        return []
    chosen = rank_units([c.clean for c in candidates], method=method, k=k, position_weight=0.05)
    return [Item(_trim_task(candidates[j].text), candidates[j].speaker, candidates[j].start, candidates[j].line)
            for j in chosen]


_AGENDA_RE = re.compile(
    r"(?:(?:[0-9０-９一二三四五六七八九十]+(?:つ目|点目|番目)の)?議題(?:は|の|に)?|案件|次(?:に|は)|続いて|まず|最後に|本日は)[、,]?\s*"
    r"(?P<topic>[^、。「」]{2,30}?)(?:について|に関して|の件|についての)"
)


def _agenda(units: Sequence[Unit]) -> list[str]:
    topics: list[str] = []
    first_speaker = units[0].speaker if units else ""
    for u in units:
        if u.speaker != first_speaker:
            continue
        m = _AGENDA_RE.search(u.clean)
        if m:
            topic = m.group("topic").strip()
            topic = re.sub(r"^(?:の|は|、)", "", topic)
            if topic and topic not in topics and not re.search(r"(?:これ|それ|その|この|先ほど|今の|今回の件)$|^(?:これ|それ|その|この)", topic):
                topics.append(topic)
    return topics[:10]


# ============================================================================ Markdown


def _trace(start: str, speaker: str, line: int) -> str:
    where = f"{start} " if start else ""
    return f"{where}{speaker}（{line}行目）" if line else f"{where}{speaker}"


def _cell(text: str) -> str:
    return text.replace("|", "｜").replace("\n", " ")


def _due_label(t: Todo) -> str:
    if t.due:
        d = dt.date.fromisoformat(t.due)
        label = f"{d.month}月{d.day}日（{WEEKDAYS[d.weekday()]}）"
        return f"{label} ※{t.due_text}" if t.due_text and not re.search(r"\d+月\d+日", t.due_text) else label
    return t.due_text or "未定"


def sections(m: Minutes) -> dict[str, str]:
    """Markdown for each part of the minutes: the placeholders of the minutes template."""
    d = _to_date(m.date)
    todos = "- なし"
    if m.todos:
        rows = ["| 担当 | 内容 | 期限 | 発言 |", "|---|---|---|---|"]
        rows += [f"| {_cell(t.owner or '未定')} | {_cell(t.task)} | {_cell(_due_label(t))} | {_cell(_trace(t.start, t.speaker, t.line))} |"
                 for t in m.todos]
        todos = "\n".join(rows)

    def bullets(lines: list[str], empty: str = "なし") -> str:
        return "\n".join(f"- {line}" for line in lines) if lines else f"- {empty}"

    return {
        "title": m.title or "（未記載）",
        "date": f"{d.year}年{d.month}月{d.day}日（{WEEKDAYS[d.weekday()]}）" if d else (m.date or "（未記載）"),
        "attendees": "、".join(m.attendees) if m.attendees else "（不明）",
        "agenda": bullets(m.agenda, "（未記載）"),
        "summary": bullets(m.summary),
        "decisions": bullets([f"{i.text}（{_trace(i.start, i.speaker, i.line)}）" for i in m.decisions]),
        "todos": todos,
        "next_meeting": bullets([m.next_meeting] if m.next_meeting else [], "未定"),
        "pending": bullets([f"{i.text}（{_trace(i.start, i.speaker, i.line)}）" for i in m.pending]),
    }


# The layout the bot ships in prompts/minutes/minutes.md (admins edit that file; this is for the CLI and tests).
DEFAULT_TEMPLATE = Template(
    "**会議名**: ${title}\n**日時**: ${date}\n**出席者**: ${attendees}\n\n**議題**\n${agenda}\n\n**要旨**\n${summary}\n\n"
    "**決定事項**\n${decisions}\n\n**ToDo**\n${todos}\n\n**次回予定**\n${next_meeting}\n\n**保留事項**\n${pending}\n"
)


def render_minutes(m: Minutes, template: Template = DEFAULT_TEMPLATE) -> str:
    """Markdown minutes for Teams: bold headings, lists, ToDos as a table."""
    return template.substitute(sections(m))
