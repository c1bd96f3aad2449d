"""Furigana rendering (styles, grade filter, kanji grade table) and the `hideki furigana` CLI."""
from __future__ import annotations

import argparse
import io
import json
from collections import Counter
from pathlib import Path

import pytest

from hideki.cli import furigana as cli_furigana
from hideki.japanese.furigana import kanji_grade, kanji_grades, render, segments

EVAL_KANJI = Path(__file__).resolve().parents[2] / "shared" / "eval" / "kanji_lists"


# ------------------------------------------------------------------ rendering


def test_inline_okurigana_attaches_to_kanji_only() -> None:
    assert render("読み込む") == "読(よ)み込(こ)む"
    assert render("市役所") == "市役所(しやくしょ)"
    assert render("取り扱い") == "取(と)り扱(あつか)い"


def test_single_kanji_joins_its_neighbour_word() -> None:
    assert render("東京都世田谷区") == "東京都(とうきょうと)世田谷区(せたがやく)"
    assert render("一日中") == "一日中(いちにちじゅう)"


def test_inline_keeps_kana_symbols_and_newlines() -> None:
    assert render("ひらがな、カタカナ!\n") == "ひらがな、カタカナ!\n"
    assert render("") == ""


def test_digits_join_a_counter_whose_reading_changed() -> None:
    assert render("4月1日から") == "4月(しがつ)1日(ついたち)から"
    assert render("3階と6分") == "3階(さんがい)と6分(ろっぷん)"
    assert render("300円") == "300円(えん)"  # regular: ruby on the kanji only
    assert render("1日", style="html") == "1<ruby>日<rt>にち</rt></ruby>"


def test_old_province_reads_no_kuni_as_one_word() -> None:
    assert render("武蔵国と出雲国") == "武蔵国(むさしのくに)と出雲国(いずものくに)"


def test_html_ruby_and_escaping() -> None:
    out = render("<b>住民票</b> & 読み込む", style="html")
    assert out == (
        "&lt;b&gt;<ruby>住民票<rt>じゅうみんひょう</rt></ruby>&lt;/b&gt; &amp; "
        "<ruby>読<rt>よ</rt></ruby>み<ruby>込<rt>こ</rt></ruby>む"
    )


def test_unknown_style_is_rejected() -> None:
    with pytest.raises(ValueError):
        render("漢字", style="markdown")


def test_segments_fall_back_to_whole_word() -> None:
    assert segments("読み込む", "よみこむ") == (("読", "よ"), ("み", None), ("込", "こ"), ("む", None))
    assert segments("今日", "きょう") == (("今日", "きょう"),)
    assert segments("書き", "ぺん") == (("書き", "ぺん"),)  # okurigana does not match: keep the word whole


def test_grade_filter() -> None:
    text = "学校で住民票を出す"
    assert render(text) == "学校(がっこう)で住民票(じゅうみんひょう)を出(だ)す"
    # 学校/出 are grade 1; 住 3, 民 4, 票 4
    assert render(text, grade=1) == "学校で住民票(じゅうみんひょう)を出す"
    assert render(text, grade=3) == "学校で住民票(じゅうみんひょう)を出す"
    assert render(text, grade=4) == "学校で住民票を出す"
    assert render("憂鬱な日", grade=6) == "憂鬱(ゆううつ)な日"
    # grade 7: only words with kanji outside 常用漢字 (蟋蟀 is 表外)
    assert render("憂鬱な蟋蟀", grade=7) == "憂鬱な蟋蟀(こおろぎ)"


# ------------------------------------------------------------------ kanji grade table (2020)


def test_grade_table_is_the_2020_version() -> None:
    grades = {k: g for k, g in kanji_grades().items() if g <= 6}
    assert len(grades) == 1026
    assert Counter(grades.values()) == {1: 80, 2: 160, 3: 200, 4: 202, 5: 193, 6: 191}
    for ch in "茨媛岡潟岐熊香佐埼崎滋鹿縄井沖栃奈梨阪阜賀群徳富城":
        assert kanji_grade(ch) == 4, ch
    for ch, grade in {"囲": 5, "喜": 5, "胃": 6, "腸": 6, "恩": 6, "預": 6, "一": 1, "論": 6}.items():
        assert kanji_grade(ch) == grade, ch
    assert kanji_grade("鬱") == 7 and kanji_grade("頬") == 7 and kanji_grade("頰") == 7  # 常用, not elementary
    assert kanji_grade("蟋") == 8  # 表外字
    # 1,110 other 常用漢字 (+4 common glyph variants)
    assert sum(1 for g in kanji_grades().values() if g == 7) == 1114


@pytest.mark.skipif(not (EVAL_KANJI / "joyo_kanji.csv").exists(), reason="shared eval data absent")
def test_grade_table_covers_joyo_list() -> None:
    lines = (EVAL_KANJI / "joyo_kanji.csv").read_text(encoding="utf-8").splitlines()
    joyo = {line.split(",")[1].strip() for line in lines if line.strip()}
    table = {k for k, g in kanji_grades().items() if g <= 7}
    assert joyo <= table
    assert len(table - joyo) == 4  # the 告示 glyphs 剝𠮟塡頰 beside the common forms


def _read_eval_grades() -> dict[str, int]:
    names = ["1st", "2nd", "3rd", "4th", "5th", "6th"]
    grades: dict[str, int] = {}
    for grade, name in enumerate(names, start=1):
        for line in (EVAL_KANJI / f"primary_school_{name}_grade.csv").read_text(encoding="utf-8").splitlines():
            if line.strip():
                grades[line.split(",")[1].strip()] = grade
    return grades


@pytest.mark.skipif(not (EVAL_KANJI / "primary_school_1st_grade.csv").exists(), reason="shared eval data absent")
def test_grade_table_matches_2011_list_plus_2020_revision() -> None:
    old = _read_eval_grades()
    new = {k: g for k, g in kanji_grades().items() if g <= 6}
    assert set(new) - set(old) == set("茨媛岡潟岐熊香佐埼崎滋鹿縄井沖栃奈梨阪阜")
    assert not set(old) - set(new)
    moved = {k: (old[k], new[k]) for k in old if old[k] != new[k]}
    expected = {
        **{k: (4, 5) for k in "囲紀喜救型航告殺士史象賞貯停堂得毒費粉脈歴"},
        **{k: (4, 6) for k in "胃腸"},
        **{k: (5, 4) for k in "賀群徳富"},
        **{k: (5, 6) for k in "恩券承舌銭退敵俵預"},
        "城": (6, 4),
    }
    assert moved == expected


# ------------------------------------------------------------------ CLI


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="hideki")
    cli_furigana.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def run_cli(argv: list[str], stdin: str) -> tuple[int, str]:
    args = parse(["furigana", *argv])
    out = io.StringIO()
    code = args.func(args, stdin=io.StringIO(stdin), stdout=out)
    return code, out.getvalue()


def test_register_sets_run() -> None:
    assert parse(["furigana"]).func is cli_furigana.run


def test_cli_inline_and_html() -> None:
    assert run_cli([], "市役所へ行く\n漢字\n") == (0, "市役所(しやくしょ)へ行(い)く\n漢字(かんじ)\n")
    code, out = run_cli(["--style", "html"], "<漢字>")
    assert code == 0 and out == "&lt;<ruby>漢字<rt>かんじ</rt></ruby>&gt;"


def test_cli_grade() -> None:
    assert run_cli(["--grade", "4"], "学校で住民票\n") == (0, "学校で住民票\n")


def test_cli_tokens_one_json_array_per_line() -> None:
    text = "3本の木と6分\n\n二子玉川 👍 <tag>\n"
    code, out = run_cli(["--tokens"], text)
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 3
    for line, src in zip(lines, text.splitlines()):
        pairs = json.loads(line)
        assert "".join(s for s, _ in pairs) == src
        assert all(isinstance(s, str) and isinstance(r, str) for s, r in pairs)
    assert ["本", "ぼん"] in json.loads(lines[0]) and ["分", "ぷん"] in json.loads(lines[0])
    assert json.loads(lines[1]) == []
    assert "二子玉川" in out and "ふたこたまがわ" in out  # ensure_ascii=False


def test_cli_empty_and_long_input() -> None:
    assert run_cli([], "") == (0, "")
    assert run_cli(["--tokens"], "") == (0, "")
    long_line = "住民票の写しを請求します。" * 2000
    code, out = run_cli(["--tokens"], long_line + "\n")
    assert code == 0 and "".join(s for s, _ in json.loads(out)) == long_line


def test_cli_extra_dictionary(tmp_path: Path) -> None:
    d = tmp_path / "words.tsv"
    d.write_text("surface\treading\n東京\tひがしきょう\n", encoding="utf-8")
    assert run_cli(["--dict", str(d)], "東京\n") == (0, "東京(ひがしきょう)\n")


def test_cli_malformed_dictionary_fails_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "bad.tsv"
    d.write_text("surface\treading\nbroken line\n", encoding="utf-8")
    code, out = run_cli(["--dict", str(d)], "東京\n")
    assert code == 2 and out == ""
    assert "bad.tsv:2" in capsys.readouterr().err


def test_cli_check_lists_guessed_readings_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_cli(["--check"], "担当は小園です。\n小園さんと勝英さん\n")
    assert code == 0 and out.startswith("担当(たんとう)は小園(")
    err = capsys.readouterr().err
    assert err.startswith("読みが推定の語（人名・辞書にない語）: 小園(") and "勝英(" in err
    assert err.count("小園(") == 1
    run_cli(["--check"], "住民票\n")
    assert capsys.readouterr().err.strip().endswith(": なし")
