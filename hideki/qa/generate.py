"""Question/answer pairs from a notice or manual, offline (the Q&A生成 channel's local engine).

    pairs = generate_pairs(text, n=10)      # a PairList (a list of QAPair) with .requested / .note
    problems = check_pairs(pairs, text)     # also used on the LLM path's output
    csv_text = to_faq_csv(pairs, "gomi.txt")
    parse_requested_count("質問を三つ作って")  -> 3

How questions are made (no model, Sudachi tokens plus regular expressions):
  label lines   「日時：10月5日（日）午前9時から」 -> 「防災訓練の日時はいつですか？」 (kind from the label)
  topic + copula「申請期間は4月1日から4月30日までです。」 -> 「申請期間はいつですか？」
  wh-substitution a fact of a sentence (date/time, amount, count, place, person, phone, the
                things to bring or needed) is replaced by いつ/何時/いくら/何人/どこ/だれ/何 and the
                predicate is made a polite question: 「…を10月5日に行います。」 -> 「…をいつ行いますか？」,
                「…を持って市民課窓口にお越しください。」 -> 「…を持ってどこに行けばよいですか？」
  procedure     「〜するには、…してください。」 -> 「〜するにはどうすればよいですか？」 A = the instruction
  reason        「工事のため、休館します。」 -> 「なぜ休館するのですか？」 A = 「工事のため」
Every answer is an exact span of the source text (start/end are its offsets); a candidate whose
span does not match is dropped. Candidates are ranked facts > procedures > general, spread over
the paragraphs, deduplicated by question text and by answer span, and never padded: when the
text supports fewer than n pairs, fewer are returned and PairList.note says so.

The sentences and their tokens are prepared in `hideki.qa.text`, questions are made in
`hideki.qa.candidates` (predicates conjugated by `hideki.qa.predicates`); this module selects among the
candidates and holds the checks, the requested count and the FAQ CSV.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass

from hideki.japanese.facts import extract_facts
from hideki.japanese.numbers import DAIJI, parse_number
from hideki.japanese.sudachi import tokenizer
from hideki.qa.candidates import Candidate, sentence_candidates
from hideki.qa.text import DEMONSTRATIVE, locate_sentences, norm, notice_title, question_key, tokenize_sentence

MAX_COUNT = 50
FAQ_HEADER = ["id", "質問", "回答", "カテゴリ", "キーワード", "URL", "更新日"]


@dataclass
class QAPair:
    question: str
    answer: str
    evidence: str = ""   # the source sentence
    start: int = -1      # answer span in the source text (-1: not a span, e.g. from a model)
    end: int = -1
    kind: str = ""       # いつ/どこ/だれ/いくら/いくつ/どうすれば/何が必要/問い合わせ先/なぜ/何


class PairList(list):
    """The generated pairs (best first). `requested` is n; `note` explains a shortfall (else "")."""

    def __init__(self, pairs=(), requested: int = 0, note: str = ""):
        super().__init__(pairs)
        self.requested = requested
        self.note = note

    @property
    def short(self) -> bool:
        return len(self) < self.requested



# --------------------------------------------------------------------------- selection

def _acceptable(c: Candidate, text: str) -> bool:
    q = c.question
    answer = text[c.start:c.end]
    if not q.endswith(("ですか？", "ますか？")) or not (5 <= len(q) <= 110) or not answer.strip():
        return False
    if len(answer) > 200:
        return False
    # the question must keep some content besides the wh-word, and must not contain the answer
    content = re.sub(r"いつ|何時|どこ|だれ|いくら|いくつ|何|どのような方法|なぜ|ですか？|ますか？|よい|[はがをにでのと、]", "", q)
    if len(content) < 2:
        return False
    if len(norm(answer)) >= 2 and norm(answer) in norm(q):
        return False
    if DEMONSTRATIVE.match(q) or re.search(r"[（(][^）)]*$", q):
        return False
    if q.count("「") != q.count("」") or q.count("（") != q.count("）"):
        return False
    return True


def _score(c: Candidate) -> float:
    score = c.score
    answer_len = c.end - c.start
    if len(c.question) > 60:
        score -= 0.5
    if len(c.question) > 85:
        score -= 0.7
    if answer_len > 40 and c.kind not in ("どうすれば",):
        score -= 0.4
    return score


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    inter = min(a[1], b[1]) - max(a[0], b[0])
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter > 0 and inter >= 0.5 * union


def generate_pairs(text: str, n: int = 10) -> PairList:
    """Up to n question/answer pairs from `text`, best first; fewer (with .note) when the text is thin."""
    n = max(0, min(int(n), MAX_COUNT))
    if not text or not text.strip() or n == 0:
        return PairList([], n, "本文から質問を作れませんでした。" if n else "")
    sentences = locate_sentences(text)
    for s in sentences:
        tokenize_sentence(s)
    title = notice_title(sentences)
    candidates: list[Candidate] = []
    for s in sentences:
        if s.index == 0 and title and len(sentences) > 1:
            continue
        for c in sentence_candidates(s, title, text):
            if text[c.start:c.end] and _acceptable(c, text):
                c.score = _score(c)
                candidates.append(c)

    # greedy selection: best score, penalised for sentences and paragraphs already used
    chosen: list[Candidate] = []
    keys: set[str] = set()
    per_sentence: dict[int, int] = {}
    per_para: dict[int, int] = {}
    pool = sorted(candidates, key=lambda c: (-c.score, c.start))
    while pool and len(chosen) < n:
        best_i, best_value = -1, float("-inf")
        for i, c in enumerate(pool):
            value = c.score - 1.2 * per_sentence.get(c.sentence.index, 0) - 0.3 * per_para.get(c.sentence.para, 0)
            if value > best_value:
                best_i, best_value = i, value
        c = pool.pop(best_i)
        key = question_key(c.question)
        if key in keys or any(_overlap((c.start, c.end), (d.start, d.end)) for d in chosen):
            continue
        keys.add(key)
        chosen.append(c)
        per_sentence[c.sentence.index] = per_sentence.get(c.sentence.index, 0) + 1
        per_para[c.sentence.para] = per_para.get(c.sentence.para, 0) + 1

    pairs = [QAPair(c.question, text[c.start:c.end], c.sentence.text, c.start, c.end, c.kind) for c in chosen]
    note = ""
    if len(pairs) < n:
        note = (f"本文から作成できた質問は {len(pairs)} 問です（{n} 問の依頼）。" if pairs
                else "本文から質問を作れませんでした。日時・場所・金額・手続きなどが書かれた文章を貼り付けてください。")
    return PairList(pairs, n, note)


# --------------------------------------------------------------------------- checks (also for the LLM path)

_COPULA_TAIL = re.compile(r"(?:です|でした|である|だ|ます|となります|になります|でございます)?[。.！!]*$")


def _answer_forms(answer: str) -> list[str]:
    forms = [answer]
    a = norm(answer).strip("「」『』\"'")
    forms.append(a)
    b = _COPULA_TAIL.sub("", a)
    forms.append(b)
    if "は" in b:
        forms.append(b.split("は", 1)[1].lstrip("、,"))
    return [f for f in forms if f]


def _supported(answer: str, norm_text: str) -> bool:
    forms = _answer_forms(answer)
    if any(norm(f) in norm_text for f in forms):
        return True
    # a list whose items all occur (「本人確認書類と印鑑」 vs 「本人確認書類、印鑑」)
    parts = [p for p in re.split(r"[、,・/／]|と|や|及び|および|又は|または|\s", norm(forms[-1])) if len(p) >= 2]
    if len(parts) >= 2 and all(p in norm_text for p in parts):
        return True
    return False


def check_pairs(pairs: list[QAPair], text: str) -> list[str]:
    """Problems of generated pairs (Japanese, one line each): unsupported answers, mismatched spans,
    non-questions and duplicates (same question text or same answer span)."""
    problems: list[str] = []
    norm_text = norm(text)
    seen_questions: dict[str, int] = {}
    seen_spans: dict[tuple[int, int], int] = {}
    for i, pair in enumerate(pairs, 1):
        q, a = (pair.question or "").strip(), (pair.answer or "").strip()
        label = f"Q{i}"
        if not q:
            problems.append(f"{label}: 質問が空です。")
        elif not re.search(r"[?？]$|か[。]?$", q):
            problems.append(f"{label}: 質問が疑問文になっていません: {q}")
        if not a:
            problems.append(f"{label}: 回答が空です。")
            continue
        if pair.start is not None and pair.start >= 0 and pair.end is not None and pair.end >= 0:
            if text[pair.start:pair.end] != pair.answer:
                problems.append(f"{label}: 回答の位置（{pair.start}〜{pair.end}）が本文と一致しません。")
        if not _supported(a, norm_text):
            missing = []
            for fact in extract_facts(a):
                if fact.kind != "proper_noun" and norm(fact.text) not in norm_text:
                    missing.append(fact.text)
            if missing:
                problems.append(f"{label}: 回答の数値・日付などが本文にありません（{'、'.join(missing)}）: {a}")
            else:
                problems.append(f"{label}: 回答が本文にありません（根拠を確認してください）: {a}")
        if pair.evidence and norm(pair.evidence) not in norm_text:
            problems.append(f"{label}: 根拠の文が本文にありません。")
        key = question_key(q)
        if key and key in seen_questions:
            problems.append(f"{label}: 質問が Q{seen_questions[key]} と重複しています。")
        elif key:
            seen_questions[key] = i
        span = _span_of(pair, text)
        if span is not None:
            if span in seen_spans:
                problems.append(f"{label}: 回答が Q{seen_spans[span]} と同じ箇所です。")
            else:
                seen_spans[span] = i
    return problems


def _span_of(pair: QAPair, text: str) -> tuple[int, int] | None:
    """The answer's span: its offsets, else its only occurrence in the text (None if not unique)."""
    if pair.start is not None and pair.start >= 0 and pair.end is not None and pair.end > pair.start:
        return pair.start, pair.end
    answer = (pair.answer or "").strip().rstrip("。")
    if len(answer) < 2:
        return None
    at = text.find(answer)
    if at < 0 or text.find(answer, at + 1) >= 0:
        return None
    return at, at + len(answer)


# --------------------------------------------------------------------------- requested count

_NATIVE = {"ひとつ": 1, "ふたつ": 2, "みっつ": 3, "よっつ": 4, "いつつ": 5, "むっつ": 6, "ななつ": 7, "やっつ": 8,
           "ここのつ": 9, "とお": 10}
_COUNT_RE = re.compile(
    r"(?P<num>\d{1,4}|[〇零一二三四五六七八九十百壱弐参]{1,4})\s*(?P<counter>問|個|つ|件|題|組|セット|ペア|コ|本|項目|点)"
    r"|(?P<native>ひとつ|ふたつ|みっつ|よっつ|いつつ|むっつ|ななつ|やっつ|ここのつ|とお(?=[作つくだお]|$))")
_CONTEXT_RE = re.compile(r"質問|問題|Q\s*&?\s*A|QA|FAQ|問|クイズ|作|ください|お願い|生成|出して|つくって", re.IGNORECASE)


def _count_value(text: str) -> int:
    """「20」, 「三」, 「十五」, 「弐」 -> int (大字 read as ordinary numerals)."""
    return int(text) if text.isdigit() else parse_number(text.translate(DAIJI))


def parse_requested_count(message: str) -> int | None:
    """「20問作って」 -> 20, 「Q&Aを5つ」 -> 5, 「質問を三つ」 -> 3, 「ひとつ」 -> 1; capped at 50; None if absent."""
    if not message:
        return None
    text = unicodedata.normalize("NFKC", message)
    best: tuple[int, int] | None = None  # (rank, value); lower rank wins
    for m in _COUNT_RE.finditer(text):
        if m.group("native"):
            value = _NATIVE[m.group("native")]
            counter = "つ"
        else:
            value = _count_value(m.group("num"))
            counter = m.group("counter")
        if not value:
            continue
        before = text[max(0, m.start() - 12):m.start()]
        after = text[m.end():m.end() + 8]
        if re.search(r"[月日年時分円]$", before.strip()) and counter in ("つ", "個", "件"):
            continue
        rank = 0 if counter in ("問", "題") or re.search(r"質問|Q\s*&?\s*A|QA|FAQ|問題", before, re.I) else (
            1 if _CONTEXT_RE.search(before + after) or len(text) <= 20 else 2)
        if rank == 2:
            continue
        if best is None or rank < best[0]:
            best = (rank, value)
    if best is None:
        return None
    return min(best[1], MAX_COUNT)


# --------------------------------------------------------------------------- FAQ CSV

_STOP_WORDS = frozenset({"方", "こと", "もの", "ため", "場合", "何", "いつ", "どこ", "だれ", "誰", "いくら", "いくつ", "よう", "何時",
                         "何人", "方法", "とき", "際", "中", "等", "など", "番", "ほう", "何番"})


def _keywords(question: str, limit: int = 6) -> list[str]:
    words: list[str] = []
    for m in tokenizer("C").tokenize(question):
        pos = m.part_of_speech()
        surface = m.surface()
        if pos[0] != "名詞" or pos[1] in ("数詞",) or pos[1] == "普通名詞" and pos[2] == "副詞可能" and len(surface) < 2:
            continue
        if surface in _STOP_WORDS or surface.startswith("何") or len(surface) < 2 and not re.match(r"[\u3400-\u9fff]", surface):
            continue
        if surface not in words:
            words.append(surface)
    return words[:limit]


def to_faq_csv(pairs: list[QAPair], source_name: str, category: str = "") -> str:
    """CSV text for the FAQ import (header id,質問,回答,カテゴリ,キーワード,URL,更新日); no BOM.

    id is qa-<10 hex of sha1(source name + question)>, so the same question from two notices does not
    collide; URL is the source name when it is a URL; 更新日 is today (ISO)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(FAQ_HEADER)
    today = dt.date.today().isoformat()
    url = source_name if re.match(r"https?://", source_name or "") else ""
    for pair in pairs:
        digest = hashlib.sha1(unicodedata.normalize("NFKC", f"{source_name}\n{pair.question}").strip().encode("utf-8")).hexdigest()[:10]
        writer.writerow([f"qa-{digest}", pair.question, pair.answer, category, "、".join(_keywords(pair.question)), url, today])
    return out.getvalue()
