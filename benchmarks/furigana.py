"""Reading (furigana) accuracy benchmark on KWDLC tokens and Aozora ruby pairs.

Usage: .venv/bin/python benchmarks/furigana.py [--engine hideki sudachi-A sudachi-C pykakasi | all]
       [--tokens PATH] [--aozora PATH] [--limit N] [--repeat N] [--json out.json] [--errors N]
       [--errors-file errors.tsv]
Data stays in ../shared/eval (never copied into the project).

KWDLC (gold JUMAN tokens with readings), over gold tokens that contain kanji:
  strict   our token has the gold token's exact character span and the same reading;
  relaxed  readings compared over the smallest span whose both ends are boundaries in both
           tokenizations (so 株式会社 vs 株式/会社 still compares);
  sentence every kanji token of the sentence right (relaxed; *_strict: strict);
  chars/s  throughput of the engine calls only (one `tokens()` call per sentence), as wall-clock
           time and as the process's CPU time (the fair figure on a shared, loaded machine).
Every figure is given for the whole set and for two fixed parts, split by a hash of the document
id: "tune" (about two thirds, for error analysis) and "held" (the rest, never looked at when
tuning rules). --errors prints tuning-part errors only; --errors-file marks each error's part.
Readings are compared in hiragana with ー replaced by the preceding vowel. kwdlc_errors_* split the
relaxed errors by kind (names or words unknown to the dictionary, single kanji, other; see error_kinds).
For hideki, kwdlc_guessed_* tell how often the readings it lists for a human check are wrong, against the
other kanji tokens (guessed_figures).
Aozora: share of ruby pairs whose base gets the ruby's reading, tokenized in its full line.

Ceiling of combining analysers: the comparison engines unidic-lite (pip install fugashi unidic-lite),
mecab-juman and mecab-naist (apt install mecab mecab-jumandic-utf8 mecab-naist-jdic) are not project
dependencies. With two or more engines, `combination_figures` adds what combining them gives: the
oracle (right when at least one engine is right), the first engine corrected where all the others
agree, and a selector fitted on the tune part over the engines' agreement patterns.
"""
from __future__ import annotations

import argparse
import bisect
import hashlib
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hideki.japanese.kana import has_kanji, to_hiragana  # noqa: E402

# Gold and predicted readings are compared in one form: hiragana, the long-vowel mark ー as the vowel before it.
_VOWEL_ROWS = {
    "あ": "あかさたなはまやらわがざだばぱぁゃゎ",
    "い": "いきしちにひみりぎじぢびぴぃ",
    "う": "うくすつぬふむゆるぐずづぶぷゔぅゅっ",
    "え": "えけせてねへめれげぜでべぺぇ",
    "お": "おこそとのほもよろをごぞどぼぽぉょ",
}
_VOWEL_OF = {ch: vowel for vowel, chars in _VOWEL_ROWS.items() for ch in chars}


def normalize_reading(reading: str) -> str:
    """Compare-friendly form: hiragana, with the long-vowel mark ー replaced by the preceding vowel."""
    out: list[str] = []
    for ch in to_hiragana(reading):
        if ch == "ー" and out:
            ch = _VOWEL_OF.get(out[-1], ch)
        out.append(ch)
    return "".join(out)

EVAL = ROOT.parent / "shared" / "eval"
DEFAULT_TOKENS = EVAL / "kwdlc" / "train_tokens.tsv"
DEFAULT_AOZORA = EVAL / "aozora_ruby" / "ruby_pairs.tsv"

Tokenize = Callable[[str], list[tuple[str, str]]]


PARTS = ("whole", "tune", "held")


@dataclass
class Sentence:
    text: str
    gold: list[tuple[int, int, str, bool]]  # start, end, reading, has_kanji
    part: str  # "tune" or "held"


def part_of(sid: str) -> str:
    """Deterministic split by document (sentence ids are <document>-<n>): one document in three is held out."""
    doc = sid.rsplit("-", 1)[0]
    return "held" if int(hashlib.sha1(doc.encode()).hexdigest(), 16) % 3 == 0 else "tune"


def load_kwdlc(path: Path, limit: int | None) -> list[Sentence]:
    sentences: list[Sentence] = []
    current_sid = None
    parts: list[str] = []
    gold: list[tuple[int, int, str, bool]] = []
    pos = 0
    with open(path, encoding="utf-8") as f:
        next(f)
        for line in f:
            cols = line.rstrip("\n").split("\t")
            sid, surface, reading = cols[0], cols[2], cols[3]
            if sid != current_sid:
                if parts:
                    sentences.append(Sentence("".join(parts), gold, part_of(current_sid)))
                    if limit and len(sentences) >= limit:
                        return sentences
                current_sid, parts, gold, pos = sid, [], [], 0
            parts.append(surface)
            gold.append((pos, pos + len(surface), reading, has_kanji(surface)))
            pos += len(surface)
    if parts and not (limit and len(sentences) >= limit):
        sentences.append(Sentence("".join(parts), gold, part_of(current_sid)))
    return sentences


def make_engine(name: str) -> Tokenize:
    if name == "hideki":
        from hideki.japanese.readings import ReadingEngine, _kakasi

        _kakasi()  # the fallback dictionary for kanji Sudachi cannot read loads lazily: load it untimed
        return ReadingEngine().tokens
    if name.startswith("sudachi-"):
        from hideki.japanese.sudachi import tokenizer

        tok = tokenizer(name[-1])

        def sudachi_tokens(text: str) -> list[tuple[str, str]]:
            out = []
            for m in tok.tokenize(text):
                s = m.surface()
                out.append((s, to_hiragana(m.reading_form()) if has_kanji(s) else to_hiragana(s)))
            return out

        return sudachi_tokens
    if name == "pykakasi":
        import pykakasi

        kks = pykakasi.kakasi()

        def kakasi_tokens(text: str) -> list[tuple[str, str]]:
            return repair_coverage(text, [(item["orig"], item["hira"]) for item in kks.convert(text)])

        return kakasi_tokens
    if name == "unidic-lite":
        import fugashi  # comparison only: pip install fugashi unidic-lite

        return _mecab_engine(fugashi.Tagger(), lambda f: getattr(f, "kana", None))
    if name.startswith("mecab-"):
        import fugashi

        dic, field = {"mecab-juman": ("juman-utf8", 5), "mecab-naist": ("naist-jdic", 7)}[name]
        path = Path("/var/lib/mecab/dic") / dic
        if not path.is_dir():
            raise SystemExit(f"{name}: {path} is missing (apt install mecab mecab-jumandic-utf8 mecab-naist-jdic)")
        tagger = fugashi.GenericTagger(f"-d {path} -r /etc/mecabrc")
        return _mecab_engine(tagger, lambda f: f[field] if len(f) > field else None)
    raise SystemExit(f"unknown engine {name}")


def _mecab_engine(tagger, reading_of: Callable) -> Tokenize:
    def mecab_tokens(text: str) -> list[tuple[str, str]]:
        out = []
        for word in tagger(text):
            s, r = word.surface, reading_of(word.feature)
            out.append((s, to_hiragana(r) if has_kanji(s) and r and r != "*" else to_hiragana(s)))
        return repair_coverage(text, out)

    return mecab_tokens


def repair_coverage(text: str, tokens: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Re-align a comparison engine's tokens when it alters the text (pykakasi rewrites ＝)."""
    out: list[tuple[str, str]] = []
    pos = 0
    for surface, reading in tokens:
        found = text.find(surface, pos, pos + len(surface) + 3) if surface else -1
        if found < 0:
            continue
        if found > pos:
            out.append((text[pos:found], text[pos:found]))
        out.append((surface, reading))
        pos = found + len(surface)
    if pos < len(text):
        out.append((text[pos:], text[pos:]))
    return out


def spans(tokens: list[tuple[str, str]]) -> list[tuple[int, int, str]]:
    out, pos = [], 0
    for surface, reading in tokens:
        out.append((pos, pos + len(surface), reading))
        pos += len(surface)
    return out


def score_sentence(sent: Sentence, predicted: list[tuple[str, str]]) -> tuple[int, int, int, list]:
    """Returns (kanji tokens, strict correct, relaxed correct, relaxed errors: (span text, gold, predicted,
    span start, span end, gold token start))."""
    pred = spans(predicted)
    pred_by_span = {(s, e): r for s, e, r in pred}
    pred_bounds = {0} | {e for _, e, _ in pred}
    gold_bounds = {0} | {e for _, e, _, _ in sent.gold}
    common = sorted(pred_bounds & gold_bounds)
    n = strict = relaxed = 0
    errors = []
    for start, end, reading, kanji in sent.gold:
        if not kanji:
            continue
        n += 1
        gold_norm = normalize_reading(reading)
        r = pred_by_span.get((start, end))
        if r is not None and normalize_reading(r) == gold_norm:
            strict += 1
        # smallest span with boundaries shared by both tokenizations
        lo = common[bisect.bisect_right(common, start) - 1]
        hi = common[bisect.bisect_left(common, end)]
        g = "".join(rd for s, e, rd, _ in sent.gold if s >= lo and e <= hi)
        p = "".join(rd for s, e, rd in pred if s >= lo and e <= hi)
        if normalize_reading(g) == normalize_reading(p):
            relaxed += 1
        else:
            errors.append((sent.text[lo:hi], normalize_reading(g), normalize_reading(p), lo, hi, start))
    return n, strict, relaxed, errors


def run_kwdlc(
    engine: Tokenize, sentences: list[Sentence], repeat: int = 1, dump: list | None = None,
    predictions: list | None = None,
) -> tuple[dict, Counter]:
    """Scores each sentence; figures per part ("whole", "tune", "held"), keys `<part>.<metric>`.

    The scoring pass times each engine call (wall and CPU); with repeat > 1, extra passes time one
    loop over each part's sentences and the fastest pass counts. `dump`, when given, receives
    (part, sentence, span start, span end, gold, predicted) per error; the returned Counter
    holds tuning-part errors only. `predictions`, when given, receives each sentence's tokens.
    """
    wall, cpu = time.perf_counter, time.process_time
    totals = {part: Counter() for part in PARTS}
    errors: Counter = Counter()
    for sent in sentences:
        w0, c0 = wall(), cpu()
        pred = engine(sent.text)
        w1, c1 = wall(), cpu()
        assert "".join(s for s, _ in pred) == sent.text, f"coverage broken: {sent.text!r}"
        k, st, rl, errs = score_sentence(sent, pred)
        row = Counter(sentences=1, chars=len(sent.text), tokens=k, strict=st, relaxed=rl,
                      sent_ok=rl == k, sent_strict_ok=st == k)
        for part in ("whole", sent.part):
            totals[part].update(row)
            totals[part]["wall"] += w1 - w0
            totals[part]["cpu"] += c1 - c0
        if sent.part == "tune":
            errors.update(e[:3] for e in errs)
        if dump is not None:
            dump.extend((sent.part, sent.text, lo, hi, g, p) for _, g, p, lo, hi, _ in errs)
        if predictions is not None:
            predictions.append(pred)
    for _ in range(repeat - 1):
        _time_pass(engine, sentences, totals)
    results = {}
    for part, t in totals.items():
        n, m = max(t["tokens"], 1), max(t["sentences"], 1)
        results.update({
            f"{part}.kwdlc_sentences": t["sentences"],
            f"{part}.kwdlc_kanji_tokens": t["tokens"],
            f"{part}.kwdlc_strict_token_acc": t["strict"] / n,
            f"{part}.kwdlc_relaxed_token_acc": t["relaxed"] / n,
            f"{part}.kwdlc_sentence_acc": t["sent_ok"] / m,
            f"{part}.kwdlc_sentence_acc_strict": t["sent_strict_ok"] / m,
            f"{part}.kwdlc_chars": t["chars"],
            f"{part}.kwdlc_wall_seconds": t["wall"],
            f"{part}.kwdlc_cpu_seconds": t["cpu"],
            f"{part}.kwdlc_chars_per_s_wall": t["chars"] / t["wall"] if t["wall"] else 0.0,
            f"{part}.kwdlc_chars_per_s_cpu": t["chars"] / t["cpu"] if t["cpu"] else 0.0,
        })
    return results, errors


def _time_pass(engine: Tokenize, sentences: list[Sentence], totals: dict[str, Counter]) -> None:
    """One timing-only pass, one loop per part; keeps each part's fastest wall and CPU time."""
    wall, cpu = time.perf_counter, time.process_time
    spent = {}
    for part in ("tune", "held"):
        texts = [s.text for s in sentences if s.part == part]
        w0, c0 = wall(), cpu()
        for text in texts:
            engine(text)
        spent[part] = (wall() - w0, cpu() - c0)
    spent["whole"] = (spent["tune"][0] + spent["held"][0], spent["tune"][1] + spent["held"][1])
    for part, (w, c) in spent.items():
        totals[part]["wall"] = min(totals[part]["wall"], w)
        totals[part]["cpu"] = min(totals[part]["cpu"], c)


def aozora_plain(line: str) -> tuple[str, list[int]]:
    """Strip ruby markup; returns plain text and, for each raw index, its plain offset."""
    out: list[str] = []
    offsets: list[int] = []
    i = 0
    while i < len(line):
        offsets.append(len(out))
        ch = line[i]
        if ch == "《":
            j = line.find("》", i)
            if j > 0:
                offsets.extend([len(out)] * (j - i))
                i = j + 1
                continue
        if ch == "［" and line.startswith("［＃", i):
            j = line.find("］", i)
            if j > 0:
                offsets.extend([len(out)] * (j - i))
                i = j + 1
                continue
        if ch != "｜":
            out.append(ch)
        i += 1
    offsets.append(len(out))
    return "".join(out), offsets


def base_reading(tokens: list[tuple[str, str]], start: int, end: int) -> str | None:
    """The reading of text[start:end] from the token stream, at character-segment precision."""
    from hideki.japanese.furigana import segments

    pos = 0
    parts: list[str] = []
    for surface, reading in tokens:
        t_end = pos + len(surface)
        if t_end > start and pos < end:
            for seg_text, seg_reading in segments(surface, reading):
                s_end = pos + len(seg_text)
                if s_end > start and pos < end:
                    if pos < start or s_end > end:
                        return None  # the base cuts through a segment
                    parts.append(seg_reading if seg_reading is not None else to_hiragana(seg_text))
                pos = s_end
        else:
            pos = t_end
        if pos >= end:
            break
    return "".join(parts)


def run_aozora(engine: Tokenize, path: Path, limit: int | None) -> tuple[dict, Counter]:
    rows = []
    with open(path, encoding="utf-8") as f:
        next(f)
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) >= 6:
                rows.append(cols)
    if limit:
        rows = rows[:limit]
    cache: dict[str, tuple[str, list[int], list]] = {}
    seen: Counter = Counter()
    ok = 0
    errors: Counter = Counter()
    texts: dict[str, list[str]] = {}
    for work, line_no, base, ruby, marker, raw in rows:
        if base + "《" + ruby + "》" not in raw:
            raw = _full_line(path.parent / "texts", work, raw, texts)
        if raw not in cache:
            plain, offsets = aozora_plain(raw)
            cache[raw] = (plain, offsets, engine(plain))
        plain, offsets, toks = cache[raw]
        key = (raw, base, ruby)
        needle = base + "《" + ruby + "》"
        idx = -1
        for _ in range(seen[key] + 1):
            idx = raw.find(needle, idx + 1)
        seen[key] += 1
        if idx < 0:
            reading = None
        else:
            start = offsets[idx]
            reading = base_reading(toks, start, start + len(base))
        if reading is not None and normalize_reading(reading) == normalize_reading(ruby):
            ok += 1
        else:
            errors[(base, ruby, reading)] += 1
    return {"aozora_pairs": len(rows), "aozora_acc": ok / max(len(rows), 1)}, errors


def _full_line(text_dir: Path, work: str, raw: str, texts: dict[str, list[str]]) -> str:
    """The TSV's line column is cut at 200 characters; recover the whole line from the work's text."""
    prefix = raw.rstrip("\ufffd")
    if work not in texts:
        f = text_dir / f"{work}.utf8.txt"
        texts[work] = f.read_text(encoding="utf-8").splitlines() if f.exists() else []
    for line in texts[work]:
        if prefix in line:
            return line
    return raw


ENGINES = ["hideki", "sudachi-A", "sudachi-B", "sudachi-C", "pykakasi"]
COMPARISON_ENGINES = ["unidic-lite", "mecab-juman", "mecab-naist"]  # not dependencies: see the module docstring
TARGETS = {"kwdlc_relaxed_token_acc": 0.99, "kwdlc_sentence_acc": 0.95, "kwdlc_oracle_token_acc": 0.99,
           "kwdlc_oracle_sentence_acc": 0.95, "kwdlc_override_token_acc": 0.99, "kwdlc_override_sentence_acc": 0.95,
           "kwdlc_selector_token_acc": 0.99, "kwdlc_selector_sentence_acc": 0.95, "kwdlc_chars_per_s_cpu": 300_000,
           "kwdlc_chars_per_s_wall": 300_000}


def evaluate(
    name: str, sentences: list[Sentence], aozora: Path, limit: int | None, repeat: int = 1,
    dump: list | None = None, predictions: list | None = None,
) -> tuple[dict, Counter, Counter]:
    engine = make_engine(name)
    engine("ウォームアップ。")  # load dictionaries outside the timing
    predictions = [] if predictions is None else predictions
    results, kw_err = run_kwdlc(engine, sentences, repeat, dump, predictions)
    results.update(error_kinds(sentences, predictions))
    if name == "hideki":
        results.update(guessed_figures(sentences, predictions))
    az, az_err = run_aozora(engine, aozora, limit)
    results.update(az)
    return results, kw_err, az_err


def print_table(by_engine: dict[str, dict]) -> None:
    """KWDLC figures with one column per engine and part, then the Aozora figures per engine."""
    first = next(iter(by_engine.values()))
    columns = [(n, part) for n in by_engine for part in PARTS]
    kw_keys = [k.split(".", 1)[1] for k in first if k.startswith("whole.")]
    print(f"{'KWDLC':26}" + "".join(f"{n[:10] + '/' + part:>17}" for n, part in columns) + f"{'target':>10}")
    for key in kw_keys:
        cells = "".join(_cell(key, by_engine[n][f"{part}.{key}"]) for n, part in columns)
        print(f"{key:26}" + cells + _target(key))
    print("(chars/s: cpu = process CPU time, the fair figure on a loaded machine; wall = elapsed time)")
    print(f"\n{'Aozora':26}" + "".join(f"{n:>17}" for n in by_engine))
    for key in (k for k in first if "." not in k):
        print(f"{key:26}" + "".join(_cell(key, by_engine[n][key]) for n in by_engine))


def _cell(key: str, v: float) -> str:
    if "_acc" in key or key.endswith("_share"):
        return f"{v * 100:16.2f}%"
    return f"{v:17,}" if isinstance(v, int) else f"{v:17,.0f}" if v >= 100 else f"{v:17.2f}"


def _target(key: str) -> str:
    target = TARGETS.get(key)
    return "" if target is None else f"{target * 100:9.0f}%" if target < 1 else f"{target:10,}"


def error_kinds(sentences: list[Sentence], predictions: list) -> dict:
    """Relaxed errors per part by kind: `names` (the span overlaps a proper noun or a word unknown to Sudachi's
    dictionary, by Sudachi mode C), `single_kanji` (a one-character span), `other`."""
    from hideki.japanese.sudachi import tokenizer

    tok = tokenizer("C")
    totals = {part: Counter() for part in PARTS}
    for sent, pred in zip(sentences, predictions):
        errs = score_sentence(sent, pred)[3]
        if not errs:
            continue
        morphemes = [(m.begin(), m.end(), m.part_of_speech()[1] == "固有名詞" or m.is_oov())
                     for m in tok.tokenize(sent.text)]
        for _, _, _, lo, hi, _ in errs:
            named = any(named for b, e, named in morphemes if e > lo and b < hi)
            kind = "names" if named else "single_kanji" if hi - lo == 1 else "other"
            for part in ("whole", sent.part):
                totals[part][kind] += 1
    return {f"{part}.kwdlc_errors_{kind}": totals[part][kind] for part in PARTS
            for kind in ("names", "single_kanji", "other")}


def guessed_figures(sentences: list[Sentence], predictions: list) -> dict:
    """How often the readings ReadingEngine.guessed lists for a check (person names, unknown words) are wrong,
    against the other kanji tokens: the share of each group that overlaps a relaxed error."""
    from hideki.japanese.readings import ReadingEngine

    engine = ReadingEngine()
    totals = {part: Counter() for part in PARTS}
    for sent, pred in zip(sentences, predictions):
        errs = score_sentence(sent, pred)[3]
        guessed = set(engine.guessed(sent.text))
        for start, end, reading in spans(pred):
            surface = sent.text[start:end]
            if not has_kanji(surface):
                continue
            group = "guessed" if (surface, reading) in guessed else "other"
            wrong = any(lo < end and start < hi for _, _, _, lo, hi, _ in errs)
            for part in ("whole", sent.part):
                totals[part][group] += 1
                totals[part][f"{group}_wrong"] += wrong
    out = {}
    for part, t in totals.items():
        out[f"{part}.kwdlc_guessed_tokens"] = t["guessed"]
        out[f"{part}.kwdlc_guessed_wrong_share"] = t["guessed_wrong"] / max(t["guessed"], 1)
        out[f"{part}.kwdlc_other_wrong_share"] = t["other_wrong"] / max(t["other"], 1)
    return out


def combination_figures(sentences: list[Sentence], predictions: dict[str, list]) -> dict:
    """What combining the engines could give, per part.

    The engines' outputs are cut at the boundaries they all share; on each span with kanji the readings give an
    agreement pattern (which engines read it alike). From it:
      oracle_*    a token (a sentence) counts as right when at least one engine gets it right: the upper
                  bound of any way of choosing between them;
      override_*  the first engine's reading, unless all the others agree on another one;
      selector_*  the engine that was right most often for the span's pattern (and single kanji or not) on the
                  tune part's spans, fitted there and applied everywhere: the best decision over agreement.
    *_fixes / *_breaks count the kanji tokens that a combination turns right / wrong against the first engine.
    """
    engines = list(predictions)
    policy = _fit_selector(sentences, predictions)
    choosers = {"override": _override_choice, "selector": lambda pattern, single: policy.get((pattern, single), 0)}
    totals = {part: Counter() for part in PARTS}
    for i, sent in enumerate(sentences):
        preds = [predictions[n][i] for n in engines]
        scored = [score_sentence(sent, p) for p in preds]
        wrong_sets = [frozenset(e[5] for e in sc[3]) for sc in scored]
        kanji = scored[0][0]
        row = Counter(tokens=kanji, sentences=1, oracle_right=kanji - len(frozenset.intersection(*wrong_sets)),
                      oracle_ok=any(not w for w in wrong_sets))
        for name, choose in choosers.items():
            _, _, right, errs = score_sentence(sent, _combine(sent.text, preds, choose))
            after = frozenset(e[5] for e in errs)
            row.update({f"{name}_right": right, f"{name}_ok": right == kanji,
                        f"{name}_fixes": len(wrong_sets[0] - after), f"{name}_breaks": len(after - wrong_sets[0])})
        for part in ("whole", sent.part):
            totals[part].update(row)
    out = {}
    for part, t in totals.items():
        n, m = max(t["tokens"], 1), max(t["sentences"], 1)
        for name in ("oracle", *choosers):
            out[f"{part}.kwdlc_{name}_token_acc"] = t[f"{name}_right"] / n
            out[f"{part}.kwdlc_{name}_sentence_acc"] = t[f"{name}_ok"] / m
        for name in choosers:
            out[f"{part}.kwdlc_{name}_fixes"] = t[f"{name}_fixes"]
            out[f"{part}.kwdlc_{name}_breaks"] = t[f"{name}_breaks"]
    return out


def _override_choice(pattern: tuple[int, ...], single_kanji: bool) -> int:
    """Engine 1 (for all the others) when all engines after the first read the span alike and unlike the first."""
    return 1 if len(set(pattern[1:])) == 1 and pattern[1] != 0 else 0


def _shared_spans(text: str, preds: list[list[tuple[str, str]]]):
    """(start, end, readings per engine, agreement pattern) for the kanji spans cut where all engines cut; the
    pattern gives each engine the index of the first engine with the same (normalised) reading."""
    all_spans = [spans(p) for p in preds]
    cuts = sorted(set.intersection(*({0} | {e for _, e, _ in sp} for sp in all_spans)))
    for lo, hi in zip(cuts, cuts[1:]):
        readings = ["".join(r for s, e, r in sp if s >= lo and e <= hi) for sp in all_spans]
        norm = [normalize_reading(r) for r in readings]
        yield lo, hi, readings, tuple(norm.index(r) for r in norm)


def _combine(text: str, preds: list[list[tuple[str, str]]], choose: Callable) -> list[tuple[str, str]]:
    """One token per shared span, read by the engine `choose(pattern, single_kanji)` names."""
    out = []
    for lo, hi, readings, pattern in _shared_spans(text, preds):
        pick = choose(pattern, hi - lo == 1) if has_kanji(text[lo:hi]) else 0
        out.append((text[lo:hi], readings[pick]))
    return out


def _fit_selector(sentences: list[Sentence], predictions: dict[str, list]) -> dict:
    """(pattern, single kanji) -> the engine right most often on tune spans that are also gold boundaries, when it
    beats the first engine there."""
    right: dict[tuple, Counter] = {}
    for i, sent in enumerate(sentences):
        if sent.part != "tune":
            continue
        gold = {(s, e): r for s, e, r, _ in sent.gold}
        bounds = sorted({0} | {e for _, e in gold})
        for lo, hi, readings, pattern in _shared_spans(sent.text, [p[i] for p in predictions.values()]):
            if lo not in bounds or hi not in bounds or not has_kanji(sent.text[lo:hi]):
                continue
            g = normalize_reading("".join(r for (s, e), r in gold.items() if s >= lo and e <= hi))
            counts = right.setdefault((pattern, hi - lo == 1), Counter())
            counts.update(j for j in set(pattern) if normalize_reading(readings[j]) == g)
    policy = {}
    for key, counts in right.items():
        best = max(sorted(counts), key=lambda j: counts[j], default=0)
        if counts[best] > counts[0]:
            policy[key] = best
    return policy


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--tokens", type=Path, default=DEFAULT_TOKENS, help="KWDLC token TSV")
    p.add_argument("--aozora", type=Path, default=DEFAULT_AOZORA, help="Aozora ruby pairs TSV")
    p.add_argument("--engine", nargs="+", default=["hideki"], choices=[*ENGINES, *COMPARISON_ENGINES, "all"],
                   help="one or more engines to compare (all = every project engine)")
    p.add_argument("--limit", type=int, default=None, help="first N sentences / pairs")
    p.add_argument("--json", type=Path, default=None, help="write all figures as one flat JSON object")
    p.add_argument("--errors", type=int, default=0, help="print the N most frequent errors")
    p.add_argument("--errors-file", type=Path, default=None,
                   help="write every KWDLC mismatch as TSV: engine, part, span, gold, predicted, sentence with 【span】")
    p.add_argument("--repeat", type=int, default=3,
                   help="time N passes over KWDLC and keep the fastest (default 3: the bot is a long-running process "
                        "whose caches are warm; --repeat 1 times the first, cold pass only)")
    args = p.parse_args(argv)
    names = ENGINES if "all" in args.engine else list(dict.fromkeys(args.engine))

    sentences = load_kwdlc(args.tokens, args.limit)
    by_engine: dict[str, dict] = {}
    dump_lines: list[str] = []
    predictions: dict[str, list] = {}
    for name in names:
        dump: list | None = [] if args.errors_file else None
        predictions[name] = []
        by_engine[name], kw_err, az_err = evaluate(name, sentences, args.aozora, args.limit, args.repeat, dump,
                                                   predictions[name])
        for part, text, lo, hi, g, pr in dump or ():
            dump_lines.append(f"{name}\t{part}\t{text[lo:hi]}\t{g}\t{pr}\t{text[:lo]}【{text[lo:hi]}】{text[hi:]}")
        if args.errors:
            print(f"\n[{name}] KWDLC tuning-part errors (span, gold, predicted):")
            for (span, g, pr), c in kw_err.most_common(args.errors):
                print(f"{c:5d}  {span}\t{g}\t{pr}")
            print(f"\n[{name}] Aozora errors (base, ruby, predicted):")
            for (b, r, pr), c in az_err.most_common(args.errors):
                print(f"{c:5d}  {b}\t{r}\t{pr}")
    if args.errors_file:
        args.errors_file.write_text("engine\tpart\tspan\tgold\tpredicted\tcontext\n" + "".join(l + "\n" for l in dump_lines),
                                    encoding="utf-8")
    print_table(by_engine)
    combined = combination_figures(sentences, predictions) if len(names) > 1 else {}
    if combined:
        print(f"\nCombining {', '.join(names)} (oracle: right when one engine is right; override: {names[0]}, "
              f"corrected where all the others agree; selector: best engine per agreement pattern, fitted on tune)")
        print(f"{'':32}" + "".join(f"{part:>17}" for part in PARTS) + f"{'target':>10}")
        for key in sorted({k.split(".", 1)[1] for k in combined}):
            print(f"{key:32}" + "".join(_cell(key, combined[f"{part}.{key}"]) for part in PARTS) + _target(key))
    if args.json:
        if len(names) == 1:
            flat = {"engine": names[0], **by_engine[names[0]]}
        else:
            flat = {f"{n}.{k}": v for n, r in by_engine.items() for k, v in r.items()}
            flat.update({f"combined.{k}": v for k, v in combined.items()})
        args.json.write_text(json.dumps(flat, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
