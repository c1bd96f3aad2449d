"""The furigana benchmark's scoring of engine combinations (oracle and agreement override), on hand-made data."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("furigana_benchmark", ROOT / "benchmarks" / "furigana.py")
bench = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = bench  # its dataclasses look their module up
_spec.loader.exec_module(bench)


def sentence(tokens: list[tuple[str, str]], part: str = "tune") -> "bench.Sentence":
    gold, pos = [], 0
    for surface, reading in tokens:
        gold.append((pos, pos + len(surface), reading, bench.has_kanji(surface)))
        pos += len(surface)
    return bench.Sentence("".join(s for s, _ in tokens), gold, part)


GOLD = sentence([("東京", "とうきょう"), ("に", "に"), ("行く", "いく")])


def test_override_takes_the_reading_all_other_engines_agree_on():
    base = [("東京", "ひがしきょう"), ("に", "に"), ("行く", "ゆく")]
    other = [("東京", "とうきょう"), ("に", "に"), ("行", "ゆ"), ("く", "く")]  # other cut, same reading of 行く
    assert bench._combine(GOLD.text, [base, other, other], bench._override_choice) == [
        ("東京", "とうきょう"), ("に", "に"), ("行く", "ゆく")]
    # the others disagree among themselves: the base stays
    third = [("東京", "とうけい"), ("に", "に"), ("行く", "ゆく")]
    assert bench._combine(GOLD.text, [base, other, third], bench._override_choice)[0] == ("東京", "ひがしきょう")


def test_combination_figures_count_oracle_fixes_and_breaks():
    right = [("東京", "とうきょう"), ("に", "に"), ("行く", "いく")]
    half = [("東京", "ひがしきょう"), ("に", "に"), ("行く", "いく")]
    other_half = [("東京", "とうきょう"), ("に", "に"), ("行く", "ゆく")]
    figures = bench.combination_figures([GOLD], {"a": [half], "b": [other_half], "c": [other_half]})
    # oracle: every token is right in some engine, but no engine has the whole sentence
    assert figures["tune.kwdlc_oracle_token_acc"] == 1.0
    assert figures["tune.kwdlc_oracle_sentence_acc"] == 0.0
    # override: b and c agree on both tokens, so a's right 行く is broken and its wrong 東京 fixed
    assert figures["tune.kwdlc_override_fixes"] == 1
    assert figures["tune.kwdlc_override_breaks"] == 1
    assert figures["tune.kwdlc_override_token_acc"] == 0.5
    both = bench.combination_figures([GOLD], {"a": [right], "b": [half]})
    assert both["whole.kwdlc_oracle_sentence_acc"] == 1.0
    assert both["held.kwdlc_oracle_token_acc"] == 0.0 and both["held.kwdlc_override_fixes"] == 0  # no held sentence


def test_the_selector_is_fitted_on_tune_sentences_and_applied_to_held_ones():
    # engine b is right where the engines disagree on a single kanji in the tune sentences
    tune = [sentence([("町", "ちょう"), ("の", "の")]) for _ in range(3)]
    held = sentence([("町", "ちょう"), ("へ", "へ")], part="held")
    a = [[("町", "まち"), ("の", "の")]] * 3 + [[("町", "まち"), ("へ", "へ")]]
    b = [[("町", "ちょう"), ("の", "の")]] * 3 + [[("町", "ちょう"), ("へ", "へ")]]
    figures = bench.combination_figures([*tune, held], {"a": a, "b": b})
    assert figures["held.kwdlc_selector_fixes"] == 1 and figures["held.kwdlc_selector_breaks"] == 0
    assert figures["held.kwdlc_selector_token_acc"] == 1.0
    # where a was right on tune, the selector keeps a
    a_right = [[("町", "ちょう"), ("の", "の")]] * 3 + [[("町", "まち"), ("へ", "へ")]]
    b_wrong = [[("町", "まち"), ("の", "の")]] * 3 + [[("町", "ちょう"), ("へ", "へ")]]
    kept = bench.combination_figures([*tune, held], {"a": a_right, "b": b_wrong})
    assert kept["held.kwdlc_selector_fixes"] == 0 and kept["held.kwdlc_selector_token_acc"] == 0.0
