"""Benchmark the offline やさしい日本語 simplifier on MATCHA complex/simple pairs.

    .venv/bin/python benchmarks/yasashii.py [--pairs ../shared/eval/matcha/dev.tsv]
        [--jlpt ../shared/eval/jlpt_vocab] [--limit N] [--json FILE]

Figures (input = the complex side, reference = the simple side):
  * SARI (Xu et al. 2016), computed on Sudachi split-mode-A tokens, n = 1..4, one reference, averaged over
    sentences (keep F1, deletion precision, addition F1; empty sets score 0 as in the original code).
    The identity baseline (output = input) is printed for comparison.
  * average sentence length in characters (input, output, reference),
  * share of content words beyond JLPT N3: the token's dictionary form is in the N2/N1 lists and not in N5-N3,
  * fact preservation: share of pairs where facts.missing_facts(input, output) is empty.
Evaluation data is read in place and never copied into the project.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Iterable, Sequence

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hideki.japanese.facts import missing_facts  # noqa: E402
from hideki.japanese.sentences import split_sentences  # noqa: E402
from hideki.japanese.simplify import Simplifier  # noqa: E402
from hideki.japanese.sudachi import tokenizer  # noqa: E402

DEFAULT_EVAL = (ROOT / ".." / "shared" / "eval").resolve()
_SKIP_POS = {"補助記号", "空白", "記号"}


# --------------------------------------------------------------------------- data

def read_pairs(path: Path, limit: int | None = None) -> list[tuple[str, str]]:
    """(complex, simple) pairs from the MATCHA TSV (columns: line, complex, simple, tag...)."""
    pairs: list[tuple[str, str]] = []
    with open(path, encoding="utf-8") as handle:
        header = handle.readline().rstrip("\n").split("\t")
        ci, si = header.index("complex"), header.index("simple")
        for line in handle:
            fields = line.rstrip("\n").split("\t")
            if len(fields) <= max(ci, si) or not fields[ci].strip() or not fields[si].strip():
                continue
            pairs.append((fields[ci], fields[si]))
            if limit and len(pairs) >= limit:
                break
    return pairs


def read_jlpt(folder: Path) -> dict[str, int]:
    """Word -> easiest JLPT level (5 = N5 ... 1 = N1), from n1.csv ... n5.csv (expression and reading)."""
    levels: dict[str, int] = {}
    for level in range(1, 6):
        with open(folder / f"n{level}.csv", encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                for key in ("expression", "reading"):
                    for word in (row.get(key) or "").replace("；", ";").split(";"):
                        word = word.strip().lstrip("〜~")
                        if word and (key == "expression" or word == row.get("expression")):
                            levels[word] = max(levels.get(word, 0), level)
    return levels


# --------------------------------------------------------------------------- metrics

def tokens(text: str) -> list[str]:
    return [m.surface() for m in tokenizer("A").tokenize(text) if m.part_of_speech()[0] != "空白"]


def _ngrams(words: Sequence[str], n: int) -> list[str]:
    return [" ".join(words[i:i + n]) for i in range(len(words) - n + 1)]


def _sari_ngram(s: list[str], c: list[str], r: list[str], numref: int = 1) -> tuple[float, float, float]:
    rgram = Counter(r)
    sgram_rep = Counter({k: v * numref for k, v in Counter(s).items()})
    cgram_rep = Counter({k: v * numref for k, v in Counter(c).items()})
    # keep
    keep_rep = sgram_rep & cgram_rep
    keep_good = keep_rep & rgram
    keep_all = sgram_rep & rgram
    k1 = sum(keep_good[g] / keep_rep[g] for g in keep_rep)
    k2 = sum(keep_good[g] / keep_all[g] for g in keep_all)
    kp = k1 / len(keep_rep) if keep_rep else 0.0
    kr = k2 / len(keep_all) if keep_all else 0.0
    keep = 2 * kp * kr / (kp + kr) if kp + kr > 0 else 0.0
    # deletion (precision only)
    del_rep = sgram_rep - cgram_rep
    del_good = del_rep - rgram
    dp = sum(del_good[g] / del_rep[g] for g in del_rep) / len(del_rep) if del_rep else 0.0
    # addition
    add = set(c) - set(s)
    add_good = add & set(r)
    add_all = set(r) - set(s)
    ap = len(add_good) / len(add) if add else 0.0
    ar = len(add_good) / len(add_all) if add_all else 0.0
    addf = 2 * ap * ar / (ap + ar) if ap + ar > 0 else 0.0
    return keep, dp, addf


def sari(source: str, output: str, reference: str) -> float:
    """Sentence SARI (0-100) on Sudachi mode-A tokens, n-grams 1-4."""
    s, c, r = tokens(source), tokens(output), tokens(reference)
    keep = dele = add = 0.0
    for n in range(1, 5):
        k, d, a = _sari_ngram(_ngrams(s, n), _ngrams(c, n), _ngrams(r, n))
        keep, dele, add = keep + k, dele + d, add + a
    return 100 * (keep + dele + add) / 12


def beyond_n3(texts: Iterable[str], levels: dict[str, int]) -> float:
    """Share of content tokens (Sudachi mode C) listed at N2/N1 and not at N5-N3."""
    total = hard = 0
    for text in texts:
        for m in tokenizer("C").tokenize(text):
            pos = m.part_of_speech()
            if pos[0] in _SKIP_POS or pos[1] in ("数詞", "固有名詞"):
                continue
            total += 1
            level = levels.get(m.dictionary_form()) or levels.get(m.normalized_form())
            if level is not None and level <= 2:
                hard += 1
    return hard / total if total else 0.0


def avg_sentence_len(texts: Iterable[str]) -> float:
    lengths = [len(s) for text in texts for s in split_sentences(text)]
    return sum(lengths) / len(lengths) if lengths else 0.0


# --------------------------------------------------------------------------- main

def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=Path, default=DEFAULT_EVAL / "matcha" / "dev.tsv")
    parser.add_argument("--jlpt", type=Path, default=DEFAULT_EVAL / "jlpt_vocab")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--json", type=Path, default=None, help="write all figures as one flat JSON object")
    args = parser.parse_args(argv)

    pairs = read_pairs(args.pairs, args.limit)
    levels = read_jlpt(args.jlpt)
    simplifier = Simplifier()
    started = time.perf_counter()
    outputs = [simplifier.simplify(source).text for source, _ in pairs]
    elapsed = time.perf_counter() - started

    sources = [p[0] for p in pairs]
    references = [p[1] for p in pairs]
    preserved = sum(1 for src, out in zip(sources, outputs) if not missing_facts(src, out))
    changed = sum(1 for src, out in zip(sources, outputs) if src != out)
    figures = {
        "pairs": len(pairs),
        "sari_identity": sum(sari(s, s, r) for s, r in zip(sources, references)) / len(pairs),
        "sari_simplifier": sum(sari(s, o, r) for s, o, r in zip(sources, outputs, references)) / len(pairs),
        "avg_sentence_len_input": avg_sentence_len(sources),
        "avg_sentence_len_output": avg_sentence_len(outputs),
        "avg_sentence_len_reference": avg_sentence_len(references),
        "beyond_n3_share_input": beyond_n3(sources, levels),
        "beyond_n3_share_output": beyond_n3(outputs, levels),
        "beyond_n3_share_reference": beyond_n3(references, levels),
        "fact_preservation_rate": preserved / len(pairs),
        "changed_share": changed / len(pairs),
        "seconds_per_pair": elapsed / len(pairs),
    }
    rows = [
        ("pairs", f"{len(pairs)}"),
        ("SARI identity baseline (tokens, Sudachi A)", f"{figures['sari_identity']:.2f}"),
        ("SARI offline simplifier", f"{figures['sari_simplifier']:.2f}"),
        ("avg sentence length input / output / reference",
         f"{figures['avg_sentence_len_input']:.1f} / {figures['avg_sentence_len_output']:.1f} / "
         f"{figures['avg_sentence_len_reference']:.1f}"),
        ("words beyond JLPT N3 input / output / reference",
         f"{figures['beyond_n3_share_input']:.1%} / {figures['beyond_n3_share_output']:.1%} / "
         f"{figures['beyond_n3_share_reference']:.1%}"),
        ("fact preservation", f"{figures['fact_preservation_rate']:.1%}"),
        ("inputs changed", f"{figures['changed_share']:.1%}"),
        ("time per pair", f"{1000 * figures['seconds_per_pair']:.1f} ms"),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"{'metric':<{width}} | value")
    print("-" * width + "-|------")
    for name, value in rows:
        print(f"{name:<{width}} | {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8")
    return figures


if __name__ == "__main__":
    main()
