"""The minutes benchmark's summary baselines (lead-N, TextRank), which live in benchmarks/minutes.py."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from hideki.minutes.summary import summarize

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("minutes_benchmark", ROOT / "benchmarks" / "minutes.py")
bench = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = bench
_spec.loader.exec_module(bench)

SPEECH = ("まず、防災対策についてでございますが、都は九つの検討部会を設置いたしました。\\n"
          "検討内容は九月までに素案として取りまとめてまいります。\\n本日はよろしくお願いいたします。\\n")


def test_lead_summary_takes_the_first_sentences_cut_at_the_limit():
    assert bench.lead_summary(SPEECH, 20) == "まず、防災対策についてでございますが、都"


def test_textrank_relevance_plugs_into_the_summariser():
    scores, vectors = bench.textrank_relevance([["防災", "部会"], ["防災", "素案"], ["本日"]])
    assert max(scores) == 1.0 and len(vectors) == 3
    out = summarize(SPEECH, 50, bench.textrank_relevance)
    assert len(out) <= 50 and "9つの検討部会を設置" in out
