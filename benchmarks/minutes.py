"""Benchmark the offline minutes engine.

    .venv/bin/python benchmarks/minutes.py [--poliinfo ../shared/eval/poliinfo/Summarization-FormalRun-Training.json]
        [--meetings tests/fixtures/meetings] [--limit N] [--methods mmr,textrank] [--json FILE]

Two parts:

1. PoliInfo (NTCIR-14, Tokyo Metropolitan Assembly): each item is one assembly speech (question or answer)
   with a newsletter summary and a character limit ("50字以内" …). The offline summariser
   (hideki.minutes.summary.summarize: MMR over Sudachi content words + question/commitment cues +
   newsletter-style compression) writes a summary within the limit. Two baselines, kept here because only
   this benchmark uses them: lead-N takes the first sentences cut at the limit, and TextRank runs the same
   summariser with PageRank over the sentence-similarity graph as its relevance. Scores: character-level ROUGE-1, ROUGE-2 and ROUGE-L, F-measure (F1, beta = 1;
   n-gram counts clipped; ROUGE-L from the longest common subsequence), averaged over items. Both sides are
   normalised before scoring: NFKC, whitespace removed, the newsletter's item markers 〔1〕 removed.
   Punctuation is kept.

2. Meetings (tests/fixtures/meetings/*.gold.json, hand-marked): precision and recall of extracted decisions
   and ToDos. Match rule: a gold item and an extracted item match when at least 50 % of the gold text's
   character bigrams occur in the extracted item's text (both NFKC, fillers and punctuation removed);
   one-to-one, greedy in order. For matched ToDos: owner accuracy (gold owner's family name contained in
   the extracted owner, or both empty; 全員/各自 must be said as such) and deadline accuracy (same ISO date,
   or both empty).

Figures are printed as a table; --json writes them as one flat JSON object. Evaluation data is read in
place and never copied into the project.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import time
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Sequence

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hideki.japanese.sentences import split_sentences  # noqa: E402
from hideki.minutes.extract import extract_minutes  # noqa: E402
from hideki.minutes.units import clean_text  # noqa: E402
from hideki.minutes.summary import Vector, summarize, tfidf_vectors  # noqa: E402
from hideki.minutes.transcripts import parse_transcript  # noqa: E402

DEFAULT_POLIINFO = (ROOT / ".." / "shared" / "eval" / "poliinfo" / "Summarization-FormalRun-Training.json").resolve()
DEFAULT_MEETINGS = ROOT / "tests" / "fixtures" / "meetings"


# --------------------------------------------------------------------------- summary baselines

def lead_summary(text: str, max_chars: int) -> str:
    """Lead-N baseline: the first sentences, cut at `max_chars`."""
    text = text.replace("\\n", "\n")
    return "".join(split_sentences(text))[:max_chars]


def textrank_scores(docs: Sequence[Sequence[str]], damping: float = 0.85, iterations: int = 40) -> list[float]:
    """PageRank over the cosine-similarity graph of the sentences (numpy, dense)."""
    import numpy as np

    n = len(docs)
    if n == 0:
        return []
    vectors = tfidf_vectors(docs)
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


def textrank_relevance(docs: Sequence[Sequence[str]]) -> tuple[list[float], list[Vector]]:
    """TextRank as the summariser's relevance: PageRank scores scaled to a maximum of 1."""
    raw = textrank_scores(docs)
    top = max(raw) or 1.0
    return [r / top for r in raw], tfidf_vectors(docs)


RELEVANCE = {"mmr": None, "textrank": textrank_relevance}  # method -> relevance (None: the engine's default)


# --------------------------------------------------------------------------- ROUGE (characters)

def rouge_normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text.replace("\\n", "\n"))
    text = re.sub(r"[〔\[(（]\d+[〕\])）]", "", text)
    return re.sub(r"\s+", "", text)


def _ngrams(text: str, n: int) -> Counter[str]:
    return Counter(text[i:i + n] for i in range(len(text) - n + 1))


def _f1(overlap: float, system_total: float, reference_total: float) -> float:
    if overlap <= 0 or system_total <= 0 or reference_total <= 0:
        return 0.0
    p, r = overlap / system_total, overlap / reference_total
    return 2 * p * r / (p + r)


def rouge_n(system: str, reference: str, n: int) -> float:
    s, r = _ngrams(system, n), _ngrams(reference, n)
    return _f1(sum((s & r).values()), sum(s.values()), sum(r.values()))


def lcs_length(a: str, b: str) -> int:
    if not a or not b:
        return 0
    previous = [0] * (len(b) + 1)
    for ca in a:
        current = [0]
        for j, cb in enumerate(b, start=1):
            current.append(previous[j - 1] + 1 if ca == cb else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def rouge_l(system: str, reference: str) -> float:
    return _f1(lcs_length(system, reference), len(system), len(reference))


def rouge_all(system: str, reference: str) -> dict[str, float]:
    s, r = rouge_normalise(system), rouge_normalise(reference)
    return {"rouge1": rouge_n(s, r, 1), "rouge2": rouge_n(s, r, 2), "rougeL": rouge_l(s, r)}


# --------------------------------------------------------------------------- PoliInfo

def char_limit(length_field: str) -> int:
    m = re.search(r"\d+", unicodedata.normalize("NFKC", length_field))
    return int(m.group(0)) if m else 100


def run_poliinfo(path: Path, methods: list[str], limit: int | None = None) -> dict[str, float]:
    items = json.loads(path.read_text(encoding="utf-8"))
    if limit:
        items = items[:limit]
    systems = {"lead": lambda text, n: lead_summary(text, n)}
    for method in methods:
        relevance = RELEVANCE[method]
        systems[method] = (lambda r: (lambda text, n: summarize(text, n) if r is None else summarize(text, n, r)))(relevance)
    totals: dict[str, Counter[str]] = {name: Counter() for name in systems}
    seconds: Counter[str] = Counter()
    over_limit: Counter[str] = Counter()
    for item in items:
        source, reference = item["Source"], item["Summary"]
        n = char_limit(item.get("Length", ""))
        for name, fn in systems.items():
            start = time.perf_counter()
            output = fn(source, n)
            seconds[name] += time.perf_counter() - start
            if len(output) > n:
                over_limit[name] += 1
            for key, value in rouge_all(output, reference).items():
                totals[name][key] += value
    figures: dict[str, float] = {"poliinfo_items": len(items)}
    for name in systems:
        for key in ("rouge1", "rouge2", "rougeL"):
            figures[f"poliinfo_{name}_{key}"] = round(totals[name][key] / max(1, len(items)), 4)
        figures[f"poliinfo_{name}_ms_per_item"] = round(1000 * seconds[name] / max(1, len(items)), 2)
        figures[f"poliinfo_{name}_over_limit"] = over_limit[name]
    return figures


# --------------------------------------------------------------------------- meetings

def _match_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", clean_text(text))
    return re.sub(r"[\s、。，．,.!?！？「」『』（）()・:：]", "", text)


def bigram_coverage(gold: str, predicted: str) -> float:
    g = _ngrams(_match_text(gold), 2)
    p = _ngrams(_match_text(predicted), 2)
    if not g:
        return 0.0
    return sum((g & p).values()) / sum(g.values())


def match(gold_texts: list[str], predicted_texts: list[str], threshold: float = 0.5) -> list[tuple[int, int]]:
    """Greedy one-to-one matches (gold index, predicted index), best coverage first."""
    candidates = sorted(((bigram_coverage(g, p), gi, pi) for gi, g in enumerate(gold_texts)
                         for pi, p in enumerate(predicted_texts)), reverse=True)
    used_g: set[int] = set()
    used_p: set[int] = set()
    pairs: list[tuple[int, int]] = []
    for coverage, gi, pi in candidates:
        if coverage < threshold:
            break
        if gi in used_g or pi in used_p:
            continue
        used_g.add(gi)
        used_p.add(pi)
        pairs.append((gi, pi))
    return pairs


def _owner_key(name: str) -> str:
    name = unicodedata.normalize("NFKC", name)
    inner = re.findall(r"\(([^)]+)\)", name)
    if inner:
        name = inner[0]
    return name.split(" ")[0].strip()


def owner_ok(gold: str, predicted: str) -> bool:
    g, p = _owner_key(gold), _owner_key(predicted)
    if not g:
        return not p
    return bool(p) and (g in p or p in g)


def run_meetings(folder: Path, verbose: bool = False) -> tuple[dict[str, float], list[str]]:
    counts: Counter[str] = Counter()
    log: list[str] = []
    seconds = 0.0
    files = sorted(p for p in folder.iterdir() if p.suffix in (".vtt", ".docx", ".txt"))
    for path in files:
        gold_path = path.with_name(path.stem + ".gold.json")
        if not gold_path.exists():
            continue
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        start = time.perf_counter()
        transcript = parse_transcript(path.read_bytes(), path.name)
        minutes = extract_minutes(transcript, dt.date.fromisoformat(gold["meeting_date"]))
        seconds += time.perf_counter() - start
        counts["meetings"] += 1
        counts["utterances"] += len(transcript.utterances)

        g_dec = [d["text"] for d in gold["decisions"]]
        p_dec = [d.text for d in minutes.decisions]
        pairs = match(g_dec, p_dec)
        counts["dec_gold"] += len(g_dec)
        counts["dec_pred"] += len(p_dec)
        counts["dec_match"] += len(pairs)
        for gi in set(range(len(g_dec))) - {g for g, _ in pairs}:
            log.append(f"{path.name} missed decision: {g_dec[gi]}")
        for pi in set(range(len(p_dec))) - {p for _, p in pairs}:
            log.append(f"{path.name} extra decision: {p_dec[pi]}")

        g_todo = gold["todos"]
        p_todo = minutes.todos
        pairs = match([t["text"] for t in g_todo], [t.task for t in p_todo])
        counts["todo_gold"] += len(g_todo)
        counts["todo_pred"] += len(p_todo)
        counts["todo_match"] += len(pairs)
        for gi, pi in pairs:
            g, p = g_todo[gi], p_todo[pi]
            if owner_ok(g["owner"], p.owner):
                counts["owner_ok"] += 1
            else:
                log.append(f"{path.name} owner: gold {g['owner']!r} got {p.owner!r}: {g['text']}")
            if (g.get("due") or "") == (p.due or ""):
                counts["due_ok"] += 1
            else:
                log.append(f"{path.name} due: gold {g.get('due')!r} got {p.due!r} ({p.due_text}): {g['text']}")
        for gi in set(range(len(g_todo))) - {g for g, _ in pairs}:
            log.append(f"{path.name} missed todo: {g_todo[gi]['text']}")
        for pi in set(range(len(p_todo))) - {p for _, p in pairs}:
            log.append(f"{path.name} extra todo: {p_todo[pi].task}")

    def ratio(a: str, b: str) -> float:
        return round(counts[a] / counts[b], 4) if counts[b] else 0.0

    figures = {
        "meetings": counts["meetings"],
        "meetings_utterances": counts["utterances"],
        "meetings_ms_per_meeting": round(1000 * seconds / max(1, counts["meetings"]), 1),
        "decisions_gold": counts["dec_gold"],
        "decisions_extracted": counts["dec_pred"],
        "decisions_precision": ratio("dec_match", "dec_pred"),
        "decisions_recall": ratio("dec_match", "dec_gold"),
        "todos_gold": counts["todo_gold"],
        "todos_extracted": counts["todo_pred"],
        "todos_precision": ratio("todo_match", "todo_pred"),
        "todos_recall": ratio("todo_match", "todo_gold"),
        "todos_owner_accuracy": ratio("owner_ok", "todo_match"),
        "todos_due_accuracy": ratio("due_ok", "todo_match"),
    }
    return figures, log


# --------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--poliinfo", type=Path, default=DEFAULT_POLIINFO)
    parser.add_argument("--meetings", type=Path, default=DEFAULT_MEETINGS)
    parser.add_argument("--methods", default="mmr,textrank", help="summariser ranking methods to compare")
    parser.add_argument("--limit", type=int, default=None, help="first N PoliInfo items only")
    parser.add_argument("--json", type=Path, default=None, help="write all figures as one flat JSON object")
    parser.add_argument("--verbose", action="store_true", help="list misses and extras on the meetings")
    args = parser.parse_args(argv)

    figures: dict[str, float] = {}
    meeting_figures, log = run_meetings(args.meetings)
    figures.update(meeting_figures)
    if args.poliinfo.exists():
        figures.update(run_poliinfo(args.poliinfo, [m for m in args.methods.split(",") if m], args.limit))
    else:
        print(f"(PoliInfo not found at {args.poliinfo}; skipped)", file=sys.stderr)

    print("Meetings (gold: tests/fixtures/meetings/*.gold.json; match = ≥50 % of gold char bigrams)")
    print(f"  {'':<10} {'gold':>5} {'found':>6} {'precision':>10} {'recall':>8}")
    for kind in ("decisions", "todos"):
        print(f"  {kind:<10} {figures[kind + '_gold']:>5} {figures[kind + '_extracted']:>6} "
              f"{figures[kind + '_precision']:>10.3f} {figures[kind + '_recall']:>8.3f}")
    print(f"  ToDo owner accuracy {figures['todos_owner_accuracy']:.3f}, deadline accuracy "
          f"{figures['todos_due_accuracy']:.3f} (on matched ToDos); {figures['meetings_ms_per_meeting']} ms/meeting")
    if "poliinfo_items" in figures:
        print(f"\nPoliInfo summarisation ({figures['poliinfo_items']} speeches; char-level ROUGE F1, within the limit)")
        print(f"  {'system':<10} {'R-1':>7} {'R-2':>7} {'R-L':>7} {'ms/item':>9} {'>limit':>7}")
        for name in ["lead"] + [m for m in args.methods.split(",") if m]:
            print(f"  {name:<10} {figures[f'poliinfo_{name}_rouge1']:>7.4f} {figures[f'poliinfo_{name}_rouge2']:>7.4f} "
                  f"{figures[f'poliinfo_{name}_rougeL']:>7.4f} {figures[f'poliinfo_{name}_ms_per_item']:>9.2f} "
                  f"{figures[f'poliinfo_{name}_over_limit']:>7}")
    if args.verbose:
        print("\n" + "\n".join(log))
    if args.json:
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
