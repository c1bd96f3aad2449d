"""Lexical side of the FAQ index: Sudachi analysis and a small BM25 over numpy postings.

Analysis (measured on the LocalgovFAQ dev queries, BM25 over question+answer, Recall@10 / nDCG@10):
  Sudachi mode A + normalized_form + stop POS/words   0.628 / 0.527   <- used
  mode A surface forms                                0.597 / 0.505
  mode C + normalized_form                            0.548 / 0.454
  mode A + mode C tokens merged                       0.616 / 0.508
  mode A without stopword filtering                   0.571 / 0.473
  character bigrams                                   0.469 / 0.395
Short units match paraphrases better than long compounds (住民票の写し vs 住民票), and the normalised form
folds spelling variants (引っ越し/引越し, ゴミ/ごみ). Bigrams were worse alone, so they are not indexed.

BM25 is our own: postings are flat numpy arrays (term -> slice of doc ids and precomputed BM25 weights), so a
query is a handful of vectorised `scores[docs] += weights`; no scipy (bm25s needs it) and no per-document Python
loop (rank-bm25 scores every document in Python, ~100x slower at 100k entries).
"""
from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import Counter
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from hideki.japanese.sudachi import tokenizer

# Parts of speech that carry no topic: particles, auxiliary verbs, punctuation, blanks.
_STOP_POS = frozenset({"助詞", "助動詞", "補助記号", "空白", "記号"})
# Frequent content words that only frame a question ("…したいのですが、どうすればいいですか").
_STOP_WORDS = frozenset(
    "する ある 居る いる 成る なる 出来る できる れる られる せる 事 こと 物 もの 為 ため 様 よう の ない 無い 言う いう "
    "思う 良い 好い いい 下さる くださる 教える 知る たい ます です 方 何 どう 如何 何処 どこ 何時 いつ 場合 "
    "について 等 など 時 とき 貰う もらう 呉れる くれる 行く いく 来る くる 為る 有る 居る 御 ご お 其の その 此の この "
    "ね よ か 分かる わかる 分る".split()
)
_SPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Width, case and spacing folded the same way for documents and queries."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()


@lru_cache(maxsize=4096)
def _analyze_cached(text: str) -> tuple[str, ...]:
    out: list[str] = []
    for m in tokenizer("A").tokenize(text):
        pos = m.part_of_speech()
        if pos[0] in _STOP_POS:
            continue
        word = m.normalized_form()
        if not word.strip() or word in _STOP_WORDS:
            continue
        out.append(word)
    return tuple(out)


def analyze(text: str) -> list[str]:
    """Index terms of a text: Sudachi short units (mode A), normalised forms, without function words."""
    text = normalize(text)
    if not text:
        return []
    # Sudachi rejects inputs over ~49 KB; long answers are analysed in pieces.
    if len(text) <= 4000:
        return list(_analyze_cached(text))
    terms: list[str] = []
    for i in range(0, len(text), 4000):
        terms.extend(_analyze_cached(text[i:i + 4000]))
    return terms


def negated(text: str) -> list[str]:
    """Nouns the text says it is *not* about: 「紙詰まりではない」「VPNじゃなくて」 → the nouns. Neither BM25 nor
    the embedders see negation (they match 紙詰まり either way), so the decision uses this. 「以外」 is not read as
    negation: 「市役所以外で手続きできる所」 asks for entries that name 市役所. (Decided by reading the 6 LocalgovFAQ dev
    queries a first version flagged: the 5 with 以外 all ask for alternatives; 1 negates with じゃなくて.)"""
    text = normalize(text)
    if not text:
        return []
    morphemes = list(tokenizer("C").tokenize(text[:4000]))
    out: list[str] = []
    for i, m in enumerate(morphemes[:-1]):
        if m.part_of_speech()[0] != "名詞":
            continue
        rest = [(n.surface(), n.normalized_form()) for n in morphemes[i + 1:i + 4]]
        words = [w for w, _ in rest]
        if ((words[:2] == ["で", "は"] and len(rest) > 2 and rest[2][1] == "無い")
                or (words[:1] in (["じゃ"], ["では"]) and len(rest) > 1 and rest[1][1] == "無い")):
            out.append(m.surface())
    return out


# ---------------------------------------------------------------------------------------------- synonyms

@lru_cache(maxsize=1)
def synonyms() -> dict[str, tuple[str, ...]]:
    """term -> the other terms of its group, from knowledge/data/synonyms.txt (one group per line)."""
    table: dict[str, set[str]] = {}
    text = resources.files("knowledge").joinpath("data/synonyms.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        group: list[str] = []
        for phrase in line.split(","):
            terms = analyze(phrase)
            # a multi-word phrase is represented by its terms joined; only single-term phrases expand cleanly
            if len(terms) == 1:
                group.append(terms[0])
        for term in group:
            table.setdefault(term, set()).update(t for t in group if t != term)
    return {k: tuple(sorted(v)) for k, v in table.items()}


def expand(terms: Sequence[str]) -> list[tuple[str, float]]:
    """Query terms with weight 1, their synonyms (not already present) with a lower weight."""
    table = synonyms()
    seen = set(terms)
    out = [(t, 1.0) for t in terms]
    for t in terms:
        for s in table.get(t, ()):
            if s not in seen:
                seen.add(s)
                out.append((s, SYNONYM_WEIGHT))
    return out


SYNONYM_WEIGHT = 0.5


# ---------------------------------------------------------------------------------------------- BM25

class BM25:
    """Okapi BM25 with postings in flat numpy arrays; document weights are precomputed at build time."""

    def __init__(self, vocab: dict[str, int], indptr: np.ndarray, docs: np.ndarray, weights: np.ndarray,
                 n_docs: int):
        self.vocab = vocab
        self.indptr = indptr
        self.docs = docs
        self.weights = weights
        self.n_docs = n_docs

    @classmethod
    def build(cls, documents: Iterable[Sequence[str]], k1: float = 1.5, b: float = 0.75) -> "BM25":
        postings: dict[str, list[tuple[int, int]]] = {}
        lengths: list[int] = []
        for i, terms in enumerate(documents):
            lengths.append(len(terms))
            for term, tf in Counter(terms).items():
                postings.setdefault(term, []).append((i, tf))
        n = len(lengths)
        dl = np.asarray(lengths, dtype=np.float32)
        avg = float(dl.mean()) if n and dl.mean() > 0 else 1.0
        vocab: dict[str, int] = {}
        indptr = [0]
        doc_parts: list[np.ndarray] = []
        weight_parts: list[np.ndarray] = []
        for term in sorted(postings):
            plist = postings[term]
            d = np.fromiter((p[0] for p in plist), dtype=np.int32, count=len(plist))
            tf = np.fromiter((p[1] for p in plist), dtype=np.float32, count=len(plist))
            idf = math.log(1.0 + (n - len(plist) + 0.5) / (len(plist) + 0.5))
            w = idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl[d] / avg))
            vocab[term] = len(vocab)
            indptr.append(indptr[-1] + len(plist))
            doc_parts.append(d)
            weight_parts.append(w.astype(np.float32))
        docs = np.concatenate(doc_parts) if doc_parts else np.zeros(0, np.int32)
        weights = np.concatenate(weight_parts) if weight_parts else np.zeros(0, np.float32)
        return cls(vocab, np.asarray(indptr, dtype=np.int64), docs, weights, n)

    def scores(self, terms: Sequence[tuple[str, float]] | Sequence[str]) -> np.ndarray:
        """BM25 score of every document for weighted query terms (a term counts once)."""
        out = np.zeros(self.n_docs, dtype=np.float32)
        seen: set[str] = set()
        for item in terms:
            term, qw = (item, 1.0) if isinstance(item, str) else item
            if term in seen:
                continue
            seen.add(term)
            tid = self.vocab.get(term)
            if tid is None:
                continue
            lo, hi = self.indptr[tid], self.indptr[tid + 1]
            out[self.docs[lo:hi]] += qw * self.weights[lo:hi]
        return out

    def indptr_range(self, term: str) -> tuple[int, int]:
        """Slice of the postings of a term ((0, 0) when unknown); its length is the document frequency."""
        tid = self.vocab.get(term)
        if tid is None:
            return 0, 0
        return int(self.indptr[tid]), int(self.indptr[tid + 1])

    def save(self, path: Path) -> None:
        np.savez(path.with_suffix(".npz"), indptr=self.indptr, docs=self.docs, weights=self.weights,
                 n_docs=np.asarray([self.n_docs]))
        path.with_suffix(".vocab.json").write_text(json.dumps(list(self.vocab), ensure_ascii=False),
                                                    encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> "BM25":
        with np.load(path.with_suffix(".npz")) as data:
            indptr, docs, weights = data["indptr"], data["docs"], data["weights"]
            n_docs = int(data["n_docs"][0])
        terms = json.loads(path.with_suffix(".vocab.json").read_text(encoding="utf-8"))
        return cls({t: i for i, t in enumerate(terms)}, indptr, docs, weights, n_docs)
