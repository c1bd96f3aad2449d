"""Offline Q&A generation benchmark on JSQuAD (SQuAD-style JSON: data[].paragraphs[].context/qas).

Usage: .venv/bin/python benchmarks/qagen.py [--jsquad PATH] [--limit N] [--n 10] [--json out.json] [--show N]
Data stays in ../shared/eval (never copied into the project).

Per paragraph (the context, including its "title [SEP]" prefix) we generate up to --n pairs and report:
  span_rate     share of generated answers that are exact spans of the paragraph (text[start:end] == answer);
  gold_coverage share of gold questions whose answer is covered: some generated answer equals one of its
                gold answers (after NFKC/space folding), or their character spans overlap with
                intersection/union >= 0.5 (spans: generated start/end vs gold answer_start);
  pairs_per_par average number of pairs per paragraph (and share of paragraphs with none);
  roundtrip@1   share of generated questions whose own paragraph ranks first among the article's
                paragraphs, BM25 (k1=1.5, b=0.75) over Sudachi mode-A normalised content words;
  check_clean   share of paragraphs where check_pairs finds no problem;
  kinds         share of each question kind.
--limit N takes the first N paragraphs (whole articles are kept for retrieval: the article's other
paragraphs are still indexed). Timing covers generate_pairs only.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
import unicodedata
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hideki.japanese.sudachi import tokenizer  # noqa: E402
from hideki.qa.generate import check_pairs, generate_pairs  # noqa: E402

EVAL = ROOT.parent / "shared" / "eval"
DEFAULT_JSQUAD = EVAL / "jsquad" / "valid-v1.3.json"

_STOP_POS = frozenset({"助詞", "助動詞", "補助記号", "空白", "記号"})
_STOP_WORDS = frozenset("する ある いる なる 事 こと 物 もの 為 ため 様 よう 何 何時 いつ 何処 どこ 誰 だれ 幾ら いくら 幾つ いくつ "
                        "なぜ 何故 です ます 良い よい 為る 有る 居る 成る".split())


def terms(text: str) -> list[str]:
    out = []
    for m in tokenizer("A").tokenize(unicodedata.normalize("NFKC", text)):
        if m.part_of_speech()[0] in _STOP_POS:
            continue
        word = m.normalized_form()
        if word.strip() and word not in _STOP_WORDS:
            out.append(word)
    return out


class BM25:
    def __init__(self, docs: list[list[str]], k1: float = 1.5, b: float = 0.75):
        self.docs = [Counter(d) for d in docs]
        self.lengths = [len(d) for d in docs]
        self.avg = sum(self.lengths) / max(1, len(docs))
        df: Counter[str] = Counter()
        for d in self.docs:
            df.update(d.keys())
        n = len(docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self.k1, self.b = k1, b

    def scores(self, query: list[str]) -> list[float]:
        out = []
        for d, length in zip(self.docs, self.lengths):
            s = 0.0
            for t in query:
                tf = d.get(t, 0)
                if tf:
                    s += self.idf[t] * tf * (self.k1 + 1) / (tf + self.k1 * (1 - self.b + self.b * length / self.avg))
            out.append(s)
        return out


def fold(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def covered(gold: list[dict], pairs) -> bool:
    for answer in gold:
        g_text = answer["text"]
        g_a = answer["answer_start"]
        g_b = g_a + len(g_text)
        for p in pairs:
            if fold(p.answer) == fold(g_text):
                return True
            inter = min(g_b, p.end) - max(g_a, p.start)
            union = max(g_b, p.end) - min(g_a, p.start)
            if inter > 0 and inter / union >= 0.5:
                return True
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jsquad", type=Path, default=DEFAULT_JSQUAD)
    parser.add_argument("--limit", type=int, default=None, help="first N paragraphs")
    parser.add_argument("--n", type=int, default=10, help="pairs requested per paragraph")
    parser.add_argument("--json", type=Path, default=None, help="write all figures as one flat JSON object")
    parser.add_argument("--show", type=int, default=0, help="print the pairs of the first N paragraphs")
    args = parser.parse_args(argv)

    data = json.loads(args.jsquad.read_text(encoding="utf-8"))["data"]
    paragraphs = spans = generated = gold_total = gold_covered = empty = clean = 0
    roundtrip_hits = roundtrip_total = 0
    kinds: Counter[str] = Counter()
    engine_seconds = 0.0
    started = time.perf_counter()
    done = False
    for article in data:
        contexts = [p["context"] for p in article["paragraphs"]]
        index = None
        for pi, paragraph in enumerate(article["paragraphs"]):
            if args.limit is not None and paragraphs >= args.limit:
                done = True
                break
            context = paragraph["context"]
            # JSQuAD contexts start with "title [SEP] "; the engine sees the paragraph text only and the
            # offsets are shifted back so they index the context as the gold answers do.
            shift = context.find("[SEP]")
            shift = shift + len("[SEP]") + 1 if shift >= 0 else 0
            t0 = time.perf_counter()
            pairs = generate_pairs(context[shift:], args.n)
            engine_seconds += time.perf_counter() - t0
            for p in pairs:
                p.start += shift
                p.end += shift
            paragraphs += 1
            generated += len(pairs)
            empty += not pairs
            spans += sum(1 for p in pairs if 0 <= p.start < p.end and context[p.start:p.end] == p.answer)
            clean += not check_pairs(pairs, context)
            kinds.update(p.kind for p in pairs)
            for qa in paragraph["qas"]:
                if qa.get("is_impossible"):
                    continue
                gold_total += 1
                gold_covered += covered(qa["answers"], pairs)
            if pairs:
                if index is None:
                    index = BM25([terms(c) for c in contexts])
                for p in pairs:
                    scores = index.scores(terms(p.question))
                    best = max(range(len(scores)), key=lambda i: (scores[i], i == pi))
                    roundtrip_total += 1
                    roundtrip_hits += best == pi and scores[pi] > 0
            if pi < args.show and paragraphs <= args.show:
                print(f"--- {context[:70]}…")
                for p in pairs:
                    print(f"  [{p.kind}] {p.question}  → {p.answer}")
        if done:
            break

    figures = {
        "paragraphs": paragraphs,
        "pairs": generated,
        "pairs_per_paragraph": round(generated / max(1, paragraphs), 3),
        "paragraphs_without_pairs": round(empty / max(1, paragraphs), 4),
        "span_rate": round(spans / max(1, generated), 4),
        "gold_questions": gold_total,
        "gold_coverage": round(gold_covered / max(1, gold_total), 4),
        "roundtrip_at_1": round(roundtrip_hits / max(1, roundtrip_total), 4),
        "check_clean": round(clean / max(1, paragraphs), 4),
        "engine_seconds": round(engine_seconds, 2),
        "total_seconds": round(time.perf_counter() - started, 2),
        "n_requested": args.n,
    }
    for kind, count in kinds.most_common():
        figures[f"kind_{kind}"] = round(count / max(1, generated), 4)

    width = max(len(k) for k in figures)
    print(f"{'metric':<{width}}  value")
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
