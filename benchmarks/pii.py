"""PII guard benchmark: precision/recall on the labelled set, false-positive rate on KWDLC web leads.

Usage: .venv/bin/python benchmarks/pii.py [--labelled PATH] [--kwdlc PATH] [--limit N] [--sample N]
       [--errors] [--json out.json]
Data stays in ../shared/eval (never copied into the project).

Labelled set (tests/fixtures/pii/labelled.jsonl): a finding is correct when category, start and end all
equal a gold span (exact match); `overlap_*` figures also count a same-category finding that overlaps a
gold span (each gold span matched at most once).
KWDLC (web document leads, sentences rebuilt from the gold tokens): share of sentences with any finding,
per category, plus a sample of flagged sentences to read. These texts are public web pages, so most
findings there are public figures (〜さん/〜氏) or shop numbers, not leaks — the sample shows which.
chars/s: find_pii over the whole input, all categories (Sudachi included).
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hideki.pii.detect import CATEGORIES, find_pii  # noqa: E402

DEFAULT_LABELLED = ROOT / "tests" / "fixtures" / "pii" / "labelled.jsonl"
DEFAULT_KWDLC = ROOT.parent / "shared" / "eval" / "kwdlc" / "train_tokens.tsv"


def load_labelled(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def score_labelled(rows: list[dict], errors: list[str] | None = None) -> dict[str, dict[str, float]]:
    """Per-category tp/fp/fn (exact) and overlap counts, plus precision/recall/F1."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for row in rows:
        text = row["text"]
        gold = {(s["category"], s["start"], s["end"]) for s in row["spans"]}
        found = {(f.category, f.start, f.end) for f in find_pii(text)}
        for g in gold:
            counts[g[0]]["gold"] += 1
        for f in found:
            counts[f[0]]["found"] += 1
        for c, s, e in found & gold:
            counts[c]["tp"] += 1
        unmatched_gold = set(gold - found)
        for c, s, e in sorted(found - gold):
            hit = next((g for g in unmatched_gold if g[0] == c and g[1] < e and s < g[2]), None)
            if hit:
                unmatched_gold.discard(hit)
                counts[c]["overlap_tp"] += 1
            if errors is not None:
                errors.append(f"FP {c} {text[s:e]!r} ({'overlaps gold' if hit else 'no gold'}) | {text}")
        if errors is not None:
            for c, s, e in sorted(gold - found):
                errors.append(f"FN {c} {text[s:e]!r} | {text}")
    table: dict[str, dict[str, float]] = {}
    for c in CATEGORIES:
        k = counts[c]
        tp, found, gold = k["tp"], k["found"], k["gold"]
        otp = tp + k["overlap_tp"]
        p = tp / found if found else 1.0
        r = tp / gold if gold else 1.0
        table[c] = {
            "gold": gold, "found": found, "tp": tp,
            "precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
            "overlap_precision": otp / found if found else 1.0,
            "overlap_recall": otp / gold if gold else 1.0,
        }
    return table


def load_kwdlc(path: Path, limit: int | None = None) -> list[str]:
    """Sentences rebuilt by joining the surfaces of each sentence id's tokens (file order)."""
    sentences: list[str] = []
    current, parts = None, []
    with open(path, encoding="utf-8") as f:
        next(f)
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if cols[0] != current:
                if parts:
                    sentences.append("".join(parts))
                    if limit and len(sentences) >= limit:
                        return sentences
                current, parts = cols[0], []
            parts.append(cols[2])
    if parts:
        sentences.append("".join(parts))
    return sentences


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--labelled", type=Path, default=DEFAULT_LABELLED)
    ap.add_argument("--kwdlc", type=Path, default=DEFAULT_KWDLC)
    ap.add_argument("--limit", type=int, default=None, help="first N KWDLC sentences only")
    ap.add_argument("--sample", type=int, default=25, help="flagged KWDLC sentences to print")
    ap.add_argument("--errors", action="store_true", help="print labelled-set misses and false alarms")
    ap.add_argument("--json", type=Path, default=None, help="write all figures as one flat JSON object")
    args = ap.parse_args(argv)
    flat: dict[str, float | int | str] = {}

    if args.labelled and args.labelled.exists():
        rows = load_labelled(args.labelled)
        errors: list[str] = []
        t0 = time.perf_counter()
        table = score_labelled(rows, errors if args.errors else None)
        elapsed = time.perf_counter() - t0
        chars = sum(len(r["text"]) for r in rows)
        print(f"Labelled set: {args.labelled} ({len(rows)} texts, exact span match)")
        print(f"{'category':<15}{'gold':>6}{'found':>7}{'P':>8}{'R':>8}{'F1':>8}{'P~':>8}{'R~':>8}")
        for c, v in table.items():
            print(f"{c:<15}{v['gold']:>6}{v['found']:>7}{v['precision']:>8.3f}{v['recall']:>8.3f}{v['f1']:>8.3f}"
                  f"{v['overlap_precision']:>8.3f}{v['overlap_recall']:>8.3f}")
            for key, value in v.items():
                flat[f"labelled_{c}_{key}"] = value
        tp = sum(v["tp"] for v in table.values())
        found = sum(v["found"] for v in table.values())
        gold = sum(v["gold"] for v in table.values())
        micro_p, micro_r = (tp / found if found else 1.0), (tp / gold if gold else 1.0)
        print(f"{'micro':<15}{gold:>6}{found:>7}{micro_p:>8.3f}{micro_r:>8.3f}"
              f"{2 * micro_p * micro_r / (micro_p + micro_r):>8.3f}")
        print("(P~/R~: a same-category overlap also counts)")
        flat.update(labelled_texts=len(rows), labelled_micro_precision=micro_p, labelled_micro_recall=micro_r,
                    labelled_chars_per_s=chars / elapsed)
        for e in errors:
            print("  " + e)
        print()

    if args.kwdlc and args.kwdlc.exists():
        sentences = load_kwdlc(args.kwdlc, args.limit)
        find_pii("ウォームアップ、山田様")  # load the Sudachi dictionary outside the timing
        per_cat: Counter = Counter()
        findings_per_cat: Counter = Counter()
        flagged: list[tuple[str, list]] = []
        t0 = time.perf_counter()
        results = [find_pii(s) for s in sentences]
        elapsed = time.perf_counter() - t0
        for s, found in zip(sentences, results):
            if found:
                flagged.append((s, found))
            for c in {f.category for f in found}:
                per_cat[c] += 1
            for f in found:
                findings_per_cat[f.category] += 1
        n = len(sentences)
        chars = sum(len(s) for s in sentences)
        print(f"KWDLC: {args.kwdlc} ({n} sentences, {chars} chars)")
        print(f"{'category':<15}{'sentences':>10}{'rate':>9}{'findings':>10}")
        for c in CATEGORIES:
            print(f"{c:<15}{per_cat[c]:>10}{per_cat[c] / n:>9.4f}{findings_per_cat[c]:>10}")
            flat[f"kwdlc_{c}_sentences"] = per_cat[c]
            flat[f"kwdlc_{c}_rate"] = per_cat[c] / n
        print(f"{'any':<15}{len(flagged):>10}{len(flagged) / n:>9.4f}{sum(findings_per_cat.values()):>10}")
        print(f"chars/s: {chars / elapsed:,.0f}")
        flat.update(kwdlc_sentences=n, kwdlc_chars=chars, kwdlc_any_sentences=len(flagged),
                    kwdlc_any_rate=len(flagged) / n, kwdlc_chars_per_s=chars / elapsed)
        if args.sample and flagged:
            print(f"\nSample of flagged sentences ({min(args.sample, len(flagged))} of {len(flagged)}, seed 0):")
            for s, found in random.Random(0).sample(flagged, min(args.sample, len(flagged))):
                marks = ", ".join(f"{f.category}={f.text}" for f in found)
                print(f"  [{marks}] {s}")
        print()

    if args.json:
        args.json.write_text(json.dumps(flat, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
