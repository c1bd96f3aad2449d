"""Offline Q&A generation: span answers, kinds, dedupe, counts, checks, requested count, FAQ CSV."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from hideki.qa.generate import (FAQ_HEADER, QAPair, check_pairs, generate_pairs, parse_requested_count,
                          to_faq_csv)

SODAI = """粗大ごみの出し方

粗大ごみは、事前に申し込みが必要です。申し込みは粗大ごみ受付センターで受け付けています。
受付時間は午前8時30分から午後5時までです。
手数料は1点につき400円です。
粗大ごみ処理券をコンビニエンスストアで購入し、品物に貼ってください。
粗大ごみは、収集日の朝8時までに指定の場所に出してください。
一度に出せるのは10点までです。
問い合わせ：粗大ごみ受付センター　電話 0120-123-456
"""

JIDOU = """児童手当の申請について

児童手当は、中学校修了前の児童を養育している方に支給されます。
対象者は、市内に住所があり、中学生以下の児童を養育している方です。
出生や転入により新たに受給資格が生じた場合は、15日以内に子育て支援課で申請してください。
申請には、請求者の健康保険証の写しと預金通帳が必要です。
支給額は、3歳未満の児童1人につき月額15,000円です。
手当は毎年6月、10月、2月に支給します。
"""

JUMINHYO = """住民票の写しの請求

住民票の写しを請求するには、本人確認書類を持って市民課窓口にお越しください。
窓口の受付時間は、平日の午前８時３０分から午後５時１５分までです。
手数料は1通300円です。
代理人が請求する場合は、委任状が必要です。
マイナンバーカードをお持ちの方は、コンビニエンスストアでも取得できます。
お問い合わせ　市民課　電話03-1234-5678
"""

KENSHIN = """【健康診断のお知らせ】

令和7年度の特定健康診断を実施します。
対象：40歳から74歳までの国民健康保険加入者
期間：令和7年6月1日から令和7年11月30日まで
費用：無料
持ち物：受診券、保険証
受診券は5月下旬に郵送します。
受診を希望する方は、指定の医療機関に直接予約してください。
問い合わせ先：健康推進課　電話 03-9876-5432
"""

BOUSAI = """防災訓練のお知らせ

地域の防災訓練を10月5日（日）午前9時から〇〇小学校で行います。
当日は、消火器の使い方や応急手当の方法を学びます。
工事のため、体育館は使用できません。
参加を希望する方は、9月20日までに防災課へ電話で申し込んでください。
定員は先着100人です。
動きやすい服装でご参加ください。
"""

NOTICES = {"sodai": SODAI, "jidou": JIDOU, "juminhyo": JUMINHYO, "kenshin": KENSHIN, "bousai": BOUSAI}


def pairs_of(text, n=10):
    return generate_pairs(text, n)


def find(pairs, question=None, answer=None):
    for p in pairs:
        if (question is None or p.question == question) and (answer is None or p.answer == answer):
            return p
    raise AssertionError(f"no pair {question!r} → {answer!r} in {[(p.question, p.answer) for p in pairs]}")


@pytest.mark.parametrize("name", sorted(NOTICES))
def test_every_answer_is_a_span_and_checks_pass(name):
    text = NOTICES[name]
    pairs = pairs_of(text)
    assert len(pairs) >= 5
    for p in pairs:
        assert text[p.start:p.end] == p.answer, p
        assert p.evidence and p.evidence in text
        at = text.find(p.evidence)
        assert at <= p.start and p.end <= at + len(p.evidence)  # the answer lies in its evidence sentence
        assert p.question.endswith(("ですか？", "ますか？")), p.question
        assert p.answer not in p.question
    assert check_pairs(pairs, text) == []


def test_when_questions_keep_the_period_as_answer():
    text = "申請期間は4月1日から4月30日までです。"
    pairs = pairs_of(text)
    p = find(pairs, "申請期間はいつですか？", "4月1日から4月30日まで")
    assert p.kind == "いつ"
    # times get 何時, and まで stays in the question
    find(pairs_of(SODAI), "粗大ごみは、収集日の何時までに指定の場所に出せばよいですか？", "朝8時")
    find(pairs_of(BOUSAI), "参加を希望する方は、いつまでに防災課へ電話で申し込めばよいですか？", "9月20日")


def test_kinds_from_realistic_notices():
    kinds = {p.kind for text in NOTICES.values() for p in pairs_of(text)}
    assert {"いつ", "どこ", "だれ", "いくら", "いくつ", "どうすれば", "何が必要", "問い合わせ先", "なぜ", "何"} <= kinds


def test_where_who_how_much_how_many():
    find(pairs_of(JUMINHYO), "住民票の写しを請求するには、本人確認書類を持ってどこに行けばよいですか？", "市民課窓口")
    find(pairs_of(BOUSAI), "地域の防災訓練を10月5日（日）午前9時からどこで行いますか？", "〇〇小学校")
    find(pairs_of(JIDOU), "対象者はだれですか？", "市内に住所があり、中学生以下の児童を養育している方")
    find(pairs_of(JUMINHYO), "手数料はいくらですか？", "1通300円")
    assert find(pairs_of(BOUSAI), "定員は何人ですか？").answer == "先着100人"
    find(pairs_of(KENSHIN), "健康診断の費用はいくらですか？", "無料")


def test_procedure_needed_items_contact_and_reason():
    p = find(pairs_of(JUMINHYO), "住民票の写しを請求するにはどうすればよいですか？")
    assert p.answer == "本人確認書類を持って市民課窓口にお越しください" and p.kind == "どうすれば"
    assert find(pairs_of(JUMINHYO), answer="委任状").kind == "何が必要"
    find(pairs_of(KENSHIN), "健康診断の持ち物は何ですか？", "受診券、保険証")
    assert find(pairs_of(KENSHIN), answer="03-9876-5432").kind == "問い合わせ先"
    assert find(pairs_of(JUMINHYO), "市民課の電話番号は何番ですか？").answer == "03-1234-5678"
    p = find(pairs_of(BOUSAI), answer="工事のため")
    assert p.kind == "なぜ" and p.question.startswith("なぜ")


def test_full_width_digits_are_spans_too():
    p = find(pairs_of(JUMINHYO), "窓口の受付時間は、平日の何時から何時までですか？")
    assert p.answer == "午前８時３０分から午後５時１５分まで"


def test_ranked_facts_first_and_spread_over_the_text():
    pairs = pairs_of(SODAI, 5)
    assert len(pairs) == 5
    assert all(p.kind not in ("何",) for p in pairs)
    evidences = [p.evidence for p in pairs]
    assert len(set(evidences)) == len(evidences)  # five different sentences for five pairs


def test_no_duplicate_questions_or_answer_spans():
    text = SODAI + "\n" + SODAI  # the same notice twice: the same questions must not come twice
    pairs = pairs_of(text, 30)
    questions = [p.question for p in pairs]
    assert len(questions) == len(set(questions))
    spans = [(p.start, p.end) for p in pairs]
    assert len(spans) == len(set(spans))
    assert check_pairs(pairs, text) == []


def test_n_respected_and_fewer_when_the_text_is_thin():
    assert len(pairs_of(JIDOU, 3)) == 3
    one = pairs_of("申請期間は4月1日から4月30日までです。", 10)
    assert 1 <= len(one) <= 2 and one.short and "10 問" in one.note
    for greeting in ("いつもお世話になっております。よろしくお願いいたします。", "こんにちは。", "", "   "):
        pairs = pairs_of(greeting, 10)
        assert list(pairs) == [] and pairs.note
    assert len(pairs_of(SODAI, 100)) <= 50
    assert pairs_of(SODAI, 10).note == "" or len(pairs_of(SODAI, 10)) < 10


def test_check_pairs_finds_unsupported_answers_and_duplicates():
    text = JUMINHYO
    good = QAPair("手数料はいくらですか？", "300円")
    llm_sentence = QAPair("窓口はどこですか？", "市民課窓口です。")
    width = QAPair("受付は何時からですか？", "午前8時30分")              # full-width in the text
    paraphrased_list = QAPair("何が必要ですか？", "本人確認書類、委任状")
    wrong_amount = QAPair("手数料を教えて", "500円")
    invented = QAPair("駐車場はありますか？", "地下に100台分あります")
    duplicate = QAPair("手数料はいくらですか", "1通300円")
    problems = check_pairs([good, llm_sentence, width, paraphrased_list, wrong_amount, invented, duplicate], text)
    joined = "\n".join(problems)
    assert not any(line.startswith(("Q1:", "Q2:", "Q3:", "Q4:")) for line in problems), joined
    assert any(line.startswith("Q5:") and "500円" in line for line in problems)
    assert any(line.startswith("Q5:") and "疑問文" in line for line in problems)
    assert any(line.startswith("Q6:") and "本文にありません" in line for line in problems)
    assert any(line.startswith("Q7:") and "Q1" in line for line in problems)
    same_span = [QAPair("窓口はどこですか？", "市民課窓口", start=text.index("市民課窓口"), end=text.index("市民課窓口") + 5),
                 QAPair("どこに行けばよいですか？", "市民課窓口")]
    assert any("同じ箇所" in line for line in check_pairs(same_span, text))
    bad_offsets = QAPair("窓口はどこですか？", "市民課窓口", start=0, end=5)
    assert any("位置" in line for line in check_pairs([bad_offsets], text))
    with_readings = QAPair("どこに行けばよいですか？", "市民課(しみんか)窓口(まどぐち)")
    assert check_pairs([with_readings], text) == []


@pytest.mark.parametrize("message,expected", [
    ("20問作って", 20), ("Q&Aを5つ", 5), ("15個", 15), ("質問を三つ作ってください", 3), ("ＦＡＱを１２件お願いします", 12),
    ("質問を十五個", 15), ("問題をふたつ", 2), ("100問作って", 50), ("Q&Aを作って", None), ("", None),
    ("4月1日の申請について", None), ("質問を二十問", 20),
])
def test_parse_requested_count(message, expected):
    assert parse_requested_count(message) == expected


def test_faq_csv_round_trip():
    pairs = pairs_of(KENSHIN, 5)
    text = to_faq_csv(pairs, "kenshin.txt", category="健康")
    assert not text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == FAQ_HEADER == ["id", "質問", "回答", "カテゴリ", "キーワード", "URL", "更新日"]
    assert len(rows) == len(pairs) + 1
    ids = set()
    for row, pair in zip(rows[1:], pairs):
        assert row[0].startswith("qa-") and len(row[0]) > 5
        ids.add(row[0])
        assert row[1] == pair.question and row[2] == pair.answer and row[3] == "健康"
        assert row[4] and "、" in row[4] or row[4]
        assert row[5] == ""
        assert row[6] == dt.date.today().isoformat()
    assert len(ids) == len(pairs)
    keywords = rows[1 + [p.question for p in pairs].index("健康診断の持ち物は何ですか？")][4].split("、") \
        if "健康診断の持ち物は何ですか？" in [p.question for p in pairs] else None
    if keywords is not None:
        assert "健康" in "".join(keywords) and "持ち物" in keywords and "何" not in keywords
    tricky = [QAPair('「はい, いいえ」で答えますか？', '"はい"\nまたは、いいえ')]
    row = list(csv.reader(io.StringIO(to_faq_csv(tricky, "https://example.lg.jp/a"))))[1]
    assert row[1:3] == tricky[0].question and False or row[1] == tricky[0].question and row[2] == tricky[0].answer
    assert row[5] == "https://example.lg.jp/a"
