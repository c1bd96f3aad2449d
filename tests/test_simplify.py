from pathlib import Path

import pytest

from hideki.japanese.facts import missing_facts
from hideki.japanese.simplify import (
    DEFAULT_DICTIONARY, Simplifier, conjugate, is_already_plain, load_dictionary, simplify,
)

NOTICE_HEALTH = ("令和7年度の国民健康保険料につきましては、納付書により、令和7年6月30日までに"
                 "金融機関またはコンビニエンスストアで納付しなければなりません。")
NOTICE_RESIDENT = "住民票の写しの交付を希望される方は、本人確認書類を持参の上、〇〇区役所市民課の窓口で申請してください。"
NOTICE_BULKY = "粗大ごみを排出する際は、事前に電話で申し込みをしていただきますようお願いいたします。手数料は1,000円です。"
NOTICE_DRILL = ("令和7年9月1日午前9時から、〇〇小学校において防災訓練を開催いたします。"
                "当日は、筆記用具及び飲料水を持参してください。雨天の場合は中止となります。")


def test_dictionary_is_large_and_well_formed():
    words = load_dictionary(DEFAULT_DICTIONARY)
    assert len(words) >= 300
    for hard, plain in [("提出する", "出す"), ("交付する", "渡す"), ("速やかに", "すぐに"), ("申請", "申し込み"),
                        ("居住する", "住む"), ("納付する", "払う"), ("還付する", "返す"), ("所定の", "決められた"),
                        ("必要事項", "必要なこと"), ("記入する", "書く")]:
        assert words[hard] == plain


@pytest.mark.parametrize("source, expected", [
    ("書類を提出してください。", "書類を出してください。"),
    ("書類を提出した。", "書類を出した。"),
    ("書類を提出しない。", "書類を出さない。"),
    ("書類を提出すれば終わりです。", "書類を出せば終わりです。"),
    ("書類は窓口で提出できます。", "書類は窓口で出せます。"),
    ("保険料を納付してください。", "保険料を払ってください。"),
    ("市内に居住している人", "市内に住んでいる人"),
    ("必要事項を記入してください。", "必要なことを書いてください。"),
    ("所定の用紙", "決められた紙"),
    ("速やかに連絡してください。", "すぐに連絡してください。"),
    ("訓練を行います。", "訓練をします。"),
    ("税金が還付されます。", "税金が返されます。"),
])
def test_conjugation_aware_word_replacement(source, expected):
    assert simplify(source).text == expected


@pytest.mark.parametrize("source, expected", [
    ("申込書を提出しなければなりません。", "申し込みの紙を出してください。"),
    ("保険料を払わなければなりません。", "保険料を払ってください。"),
    ("この件につきましては窓口で聞いてください。", "この件は窓口で聞いてください。"),
    ("料金は無料となっております。", "料金は無料です。"),
    ("説明会を開催いたします。", "説明会をします。"),
    ("受付は2階でございます。", "受付は2階です。"),
    ("ご記入ください。", "書いてください。"),
    ("お待ちください。", "待ってください。"),
    ("ここで申し込むことができます。", "ここで申し込めます。"),
    ("住所を変更した場合は届け出る必要があります。", "住所を変えた場合は届けてください。"),
    ("このカードは使えないわけではありません。", "このカードは使えることもあります。"),
    ("喫煙はご遠慮ください。", "喫煙はしないでください。"),
])
def test_formal_endings_become_plain_polite(source, expected):
    assert simplify(source).text == expected


def test_long_sentences_are_split_at_connectives():
    result = simplify("大きな台風が近づいているので、外に出ないで、家の中にいてください。")
    assert result.text.split("\n")[0] == "大きな台風が近づいています。"
    assert result.text.split("\n")[1].startswith("だから、")
    assert result.sentences_after == 3 and result.sentences_before == 1
    assert result.avg_sentence_len_after < result.avg_sentence_len_before
    request = simplify("必要事項を記入し、本人確認書類と一緒に窓口の職員に渡してから帰ってください。").text
    assert request.split("\n")[0] == "必要なことを書いてください。"


def test_dates_and_numbers_rewritten():
    result = simplify("令和7年4月1日から書類を三つ用意してください。")
    assert result.text == "2025年4月1日（火）から書類を3つ用意してください。"
    assert ("三つ", "3つ", "number:digits") in result.changes


@pytest.mark.parametrize("notice", [NOTICE_HEALTH, NOTICE_RESIDENT, NOTICE_BULKY, NOTICE_DRILL])
def test_municipal_notices_keep_every_fact(notice):
    result = simplify(notice)
    assert result.text != notice
    assert missing_facts(notice, result.text) == []
    assert all(len(change) == 3 for change in result.changes)


def test_notice_contents():
    text = simplify(NOTICE_HEALTH).text
    assert "2025年6月30日（月）" in text and "払ってください" in text and "につきましては" not in text
    text = simplify(NOTICE_RESIDENT).text
    assert "〇〇区役所市民課" in text and "申し込んでください" in text and "持って来てください" in text
    drill = simplify(NOTICE_DRILL)
    assert drill.text.count("\n") == 2
    assert "その日" in drill.text and "と飲む水" in drill.text


def test_sentence_that_would_lose_a_fact_is_reverted(tmp_path: Path):
    extra = tmp_path / "plain_words_bad.tsv"
    extra.write_text("hard\tplain\n世田谷区役所\t役所\n千円\tお金\n", encoding="utf-8")
    simplifier = Simplifier([extra])
    source = "手数料は千円です。"
    result = simplifier.simplify(source)
    assert result.text == source
    assert result.reverted == [source]
    assert result.changes == []


def test_extra_dictionary_extends_and_overrides(tmp_path: Path):
    extra = tmp_path / "plain_words_city.tsv"
    extra.write_text("hard\tplain\tnote\n罹災証明書\t災害の証明書\tcity term\n提出する\t持って行く\n", encoding="utf-8")
    simplifier = Simplifier([extra])
    assert simplifier.simplify("罹災証明書を提出してください。").text == "災害の証明書を持って行ってください。"


def test_malformed_dictionary_line_names_file_and_line(tmp_path: Path):
    bad = tmp_path / "plain_words_bad.tsv"
    bad.write_text("hard\tplain\n申請\t申し込み\nこの行はタブがない\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"plain_words_bad\.tsv:3"):
        Simplifier([bad])


def test_already_plain_and_hard_words_left():
    assert is_already_plain("あしたは雨です。かさを持ってきてください。")
    assert not is_already_plain("必要事項を記入し、速やかに提出してください。")
    assert not is_already_plain(NOTICE_HEALTH)
    assert simplify("あしたは雨です。").changes == []


def test_conjugate_helper():
    assert conjugate("住む", "godan", "連用形-一般", "て") == ("住ん", True)
    assert conjugate("行く", "godan", "連用形-一般", "た") == ("行っ", False)
    assert conjugate("出す", "godan", "未然形-一般") == ("出さ", False)
    assert conjugate("見る", "ichidan", "意志推量形") == ("見よう", False)
    assert conjugate("掃除する", "suru", "仮定形-一般") == ("掃除すれ", False)


def test_paragraph_breaks_are_kept():
    assert simplify("お知らせ\n\n本日は休みです。").text == "お知らせ\n\n今日は休みです。"
