"""Readings engine: exact coverage, context rules, user dictionaries."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hideki.japanese import readings
from hideki.japanese.kana import is_all_kana
from hideki.japanese.readings import ReadingEngine, counter_readings, number_reading, tokens


def joined(text: str) -> str:
    return "".join(r for _, r in tokens(text))


def reading_of(text: str, surface: str) -> str:
    return [r for s, r in tokens(text) if s == surface][-1]


# ------------------------------------------------------------------ coverage

ALPHABET = (
    "日本語漢字読込市役所住民票方何一二三十百千万円本分人日月年時回"
    "あいうえおかがきっゃゅょーアイウエオカタナー"
    "abcXYZ019０１２３，,.．・、。！？!?「」（）()[]<>&\"' 　\n\t\r"
    "々〆ヶ〇😀👍🏻🇯🇵\u200d\ufe0f𠮟𩸽"
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=ALPHABET, max_size=60))
def test_tokens_cover_text_exactly(text: str) -> None:
    toks = tokens(text)
    assert "".join(s for s, _ in toks) == text
    assert all(s for s, _ in toks)  # no empty tokens
    for s, r in toks:
        assert isinstance(r, str)


@settings(max_examples=30, deadline=None)
@given(st.text(max_size=40))
def test_tokens_cover_any_unicode(text: str) -> None:
    assert "".join(s for s, _ in tokens(text)) == text


def test_empty_and_whitespace() -> None:
    assert tokens("") == []
    assert "".join(s for s, _ in tokens(" \n\n　")) == " \n\n　"


def test_long_text_is_chunked_and_covered() -> None:
    text = ("市役所で住民票を受け取りました" * 400) + "\n" + ("あ" * (readings.MAX_CHUNK * 2 + 7))
    toks = tokens(text)
    assert "".join(s for s, _ in toks) == text
    assert ("住民票", "じゅうみんひょう") in toks


def test_kanji_readings_are_hiragana() -> None:
    for surface, reading in tokens("東京都世田谷区の区役所で、マイナンバーカードを申請する。"):
        if any("\u4e00" <= c <= "\u9fff" for c in surface):
            assert is_all_kana(reading) and reading == reading.translate({c: None for c in range(0x30A1, 0x30F7)})


def test_symbols_and_latin_keep_their_surface() -> None:
    toks = dict(tokens("ABC、「テスト」 ok!"))
    assert toks["、"] == "、"
    assert toks["ABC"] == "ABC"
    assert toks["テスト"] == "てすと"
    assert dict(tokens("ﾊﾟｿｺﾝ"))["ﾊﾟｿｺﾝ"] == "ぱそこん"  # half-width katakana


# ------------------------------------------------------------------ numbers and counters


@pytest.mark.parametrize(
    "n, reading",
    [(1, "いち"), (10, "じゅう"), (300, "さんびゃく"), (600, "ろっぴゃく"), (8000, "はっせん"),
     (2010, "にせんじゅう"), (1996, "せんきゅうひゃくきゅうじゅうろく"), (100000, "じゅうまん")],
)
def test_number_reading(n: int, reading: str) -> None:
    assert number_reading(n) == reading


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1本", "いっぽん"), ("2本", "にほん"), ("3本", "さんぼん"), ("6本", "ろっぽん"), ("10本", "じゅっぽん"),
        ("1分", "いっぷん"), ("3分", "さんぷん"), ("6分", "ろっぷん"), ("10分", "じゅっぷん"), ("5分", "ごふん"),
        ("1回", "いっかい"), ("8回", "はっかい"), ("1個", "いっこ"), ("1冊", "いっさつ"), ("3階", "さんがい"),
        ("1人", "ひとり"), ("2人", "ふたり"), ("4人", "よにん"), ("一人", "ひとり"), ("二人", "ふたり"),
        ("一つ", "ひとつ"), ("4時", "よじ"), ("9時", "くじ"), ("4月", "しがつ"), ("7月", "しちがつ"), ("9月", "くがつ"),
        ("1か月", "いっかげつ"), ("3ヶ月", "さんかげつ"), ("2日", "ふつか"), ("3日", "みっか"), ("8日", "ようか"),
        ("10日", "とおか"), ("14日", "じゅうよっか"), ("20日", "はつか"), ("24日", "にじゅうよっか"), ("11日", "じゅういちにち"),
        ("二十日", "はつか"), ("4月1日", "しがつついたち"), ("1日2回", "いちにちにかい"), ("2004年", "にせんよねん"),
        ("何本", "なんぼん"), ("何回", "なんかい"), ("何人", "なんにん"), ("3分の1", "さんぶんのいち"),
        ("徒歩3分の所", "とほさんぷんのところ"), ("一晩", "ひとばん"), ("1000万円", "いっせんまんえん"),
        ("3つ", "みっつ"), ("8つ", "やっつ"), ("3つ選ぶ", "みっつえらぶ"),
        ("第1戦", "だいいっせん"), ("20世紀", "にじゅっせいき"), ("10周年", "じゅっしゅうねん"), ("第19話", "だいじゅうきゅうわ"),
        ("一月半", "ひとつきはん"), ("何十回", "なんじゅっかい"), ("数十本", "すうじゅっぽん"),
        ("何百人", "なんびゃくにん"), ("何千本", "なんぜんぼん"), ("数千円", "すうせんえん"), ("一月一日", "いちがつついたち"), ("2棟", "にとう"), ("一棟", "いっとう"), ("三つ折", "みつおり"), ("四畳半", "よじょうはん"), ("四字熟語", "よじじゅくご"), ("7畳", "ななじょう"),
    ],
)
def test_counter_readings_in_context(text: str, expected: str) -> None:
    assert joined(text) == expected


def test_counter_token_after_digits_has_context_reading() -> None:
    toks = tokens("3本と6分と1日")
    assert ("本", "ぼん") in toks and ("分", "ぷん") in toks
    assert tokens("毎月1日に")[-2:] == [("日", "たち"), ("に", "に")] or ("日", "たち") in tokens("毎月1日に")


def test_middle_dot_separates_words() -> None:
    assert joined("日曜日・祝日") == "にちようび・しゅくじつ"
    assert joined("月・水・金") == "げつ・すい・きん"


def test_counter_table_function() -> None:
    assert counter_readings(1, "本") == ("いっ", "ぽん")
    assert counter_readings(None, "本") == ("なん", "ぼん")
    assert counter_readings(1, "日", first_of_month=True) == ("つい", "たち")
    assert counter_readings(1, "日") == ("いち", "にち")


# ------------------------------------------------------------------ word rules


@pytest.mark.parametrize(
    "text, surface, reading",
    [
        ("日本の市役所", "日本", "にほん"),
        ("何を食べますか", "何", "なに"),
        ("何か", "何", "なに"),
        ("何の話", "何", "なん"),
        ("何でも", "何", "なん"),
        ("ご希望の方はお申し込みください", "方", "かた"),
        ("早く行った方がいい", "方", "ほう"),
        ("駅の東の方に", "方", "ほう"),
        ("こちらの店の方が安い", "方", "ほう"),
        ("初めての方が多い", "方", "かた"),
        ("山の方を見る", "方", "ほう"),
        ("私の方から説明します", "方", "ほう"),
        ("都市ガスの方が性能が良い", "方", "ほう"),
        ("会員の方は無料です", "方", "かた"),
        ("参加した方が多い", "方", "かた"),
        ("申し込んだ方が来ます", "方", "かた"),
        ("早めに予約した方が安い", "方", "ほう"),
        ("私が書きました", "私", "わたし"),
        ("私どもの店", "私", "わたくし"),
        ("その後", "後", "ご"),
        ("彼は後に語った", "後", "のち"),
        ("食事の後に", "後", "あと"),
        ("調査を行っています", "行っ", "おこなっ"),
        ("環境省が行っている事業", "行っ", "おこなっ"),
        ("会費で行っています", "行っ", "おこなっ"),
        ("積極的に行っている", "行っ", "おこなっ"),
        ("東京に行っている", "行っ", "いっ"),
        ("最近は行っていない", "行っ", "いっ"),
        ("文字通り", "通り", "どおり"),
        ("これまで通り公開します", "通り", "どおり"),
        ("通常通り営業", "通り", "どおり"),
        ("駅まで通りを歩く", "通り", "とおり"),
        ("普段使いに便利", "使い", "づかい"),
        ("そのまま使いました", "使い", "つかい"),
        ("五つ星ホテル", "星", "ぼし"),
        ("多摩川", "川", "がわ"),
        ("国道沿いの店", "沿い", "ぞい"),
        ("受付時間：月〜金", "月", "げつ"),
        ("5月6日（水）", "水", "すい"),
        ("休館日", "日", "び"),
        ("定休日", "日", "び"),
        ("彼がそう言う", "言う", "いう"),
        ("佐藤家", "家", "け"),
        ("依頼主の希望", "主", "ぬし"),
        ("ひと月ほど前", "月", "つき"),
        ("広告主", "主", "ぬし"),
        ("自転車道を走る", "道", "どう"),
        ("ルクセンブルク家の支配", "家", "け"),
        ("絵を描いている", "描い", "かい"),
        ("円を描く", "描く", "えがく"),
        ("主として平日に開く", "主として", "しゅとして"),
        ("感謝の意を表します", "表し", "ひょうし"),
        ("気持ちを表しました", "表し", "あらわし"),
        ("那覇行の便", "行", "いき"),
        ("空港方面行のバス", "行", "いき"),
        ("3行の文", "行", "ぎょう"),
        ("タラワ島の海", "島", "とう"),
        ("島に渡る", "島", "しま"),
        ("古い碑が残る", "碑", "ひ"),
        ("生ビールを頼む", "生", "なま"),
        ("社会人・大学生ドラフト", "生", "せい"),
        ("登録されている物件数です", "物件数", "ぶっけんすう"),  # Sudachi splits 物/件数 here
        ("市内の貸店舗、アパート", "貸店舗", "かしてんぽ"),
        ("武蔵国の国府", "国", "くに"),
        ("武蔵国の国府", "武蔵", "むさしの"),
        ("大和国", "大和", "やまとの"),
        ("満州国", "国", "こく"),
        ("いつの間にか", "間", "ま"),
        ("常緑高木の一種", "高木", "こうぼく"),
        ("結論を得る", "得る", "える"),
        ("画面下のボタンを押す", "下", "した"),
        ("葉の縁がぎざぎざ", "縁", "ふち"),
        ("皆様とのご縁", "縁", "えん"),
        ("人の縁", "縁", "えん"),
        ("交通の便がよい", "便", "べん"),
        ("航空便で送る", "便", "びん"),
        ("政府の影響下にある", "下", "か"),
        ("起こり得る", "得る", "うる"),
        ("お降りの際はご注意ください", "降り", "おり"),
        ("雪の降り始め", "降り", "ふり"),
        ("バスから降りた", "降り", "おり"),
        ("高木さんの家", "高木", "たかぎ"),
        ("今年の上半期の売上", "上半期", "かみはんき"),
        ("瞬く間に広がる", "瞬く", "またたく"),
        ("その間に", "間", "あいだ"),
        ("予防のために行っています", "行っ", "おこなっ"),
        ("日本国憲法", "国", "こく"),
        ("鉢に植える", "鉢", "はち"),
        ("川が深い", "深い", "ふかい"),
        ("興味深い", "深い", "ぶかい"),
        ("映画好きの人", "好き", "ずき"),
        ("音楽が好き", "好き", "すき"),
        ("運動不足", "不足", "ぶそく"),
        ("文庫本", "本", "ぼん"),
        ("この本", "本", "ほん"),
        ("デジタル本放送", "本", "ほん"),
        ("一番好きな曲", "好き", "すき"),
        ("生ビール", "生", "なま"),
        ("生放送を見る", "生", "なま"),
        ("コーヒー生豆", "生", "なま"),
        ("留学生制度", "生", "せい"),
        ("生年月日", "生", "せい"),
        ("富士山が見える", "山", "さん"),
        ("今話題の店", "今", "いま"),
        ("今年度の住民税", "今", "こん"),
        ("何時に来ますか", "何時", "なんじ"),
        ("何時もありがとう", "何時", "いつ"),
        ("他の人", "他", "た"),
        ("他にもある", "他", "ほか"),
        ("一日中", "中", "じゅう"),
        ("会議中", "中", "ちゅう"),
        ("大・中・小", "中", "ちゅう"),
        ("四つ星ホテル", "四", "よ"),
        ("この度、開店しました", "度", "たび"),
        ("温度が3度上がった", "度", "ど"),
        ("その間、待っていた", "間", "あいだ"),
        ("種を蒔く", "種", "たね"),
        ("生物種を守る", "種", "しゅ"),
        ("ローズ色の口紅", "色", "いろ"),
        ("お申し込み時に", "時", "じ"),
        ("前シーズンの優勝チーム", "前", "ぜん"),
        ("駅の前の店", "前", "まえ"),
        ("食事の前に", "前", "まえ"),
        ("赤い実をつける", "実", "み"),
        ("実は", "実", "じつ"),
        ("トイレ付の部屋", "付", "つき"),
        ("フィリピン人の友人", "人", "じん"),
        ("宇宙人が来た", "人", "じん"),
        ("古代人の暮らし", "人", "じん"),
        ("口座名義人の名前", "人", "にん"),
        ("管理人に連絡", "人", "にん"),
        ("株式会社", "会社", "がいしゃ"),
        ("日本銀行", "日本銀行", "にっぽんぎんこう"),
    ],
)
def test_context_rules(text: str, surface: str, reading: str) -> None:
    assert reading_of(text, surface) == reading


# ------------------------------------------------------------------ user dictionaries


def test_shipped_dictionary_place_names() -> None:
    for text, reading in [("世田谷", "せたがや"), ("砧", "きぬた"), ("等々力", "とどろき"), ("九品仏", "くほんぶつ"),
                          ("二子玉川", "ふたこたまがわ"), ("用賀", "ようが"), ("烏山", "からすやま"), ("奥沢", "おくさわ"),
                          ("三軒茶屋", "さんげんぢゃや")]:
        assert joined(text) == reading, text


def test_user_dictionary_overrides_sudachi(tmp_path: Path) -> None:
    d = tmp_path / "extra.tsv"
    d.write_text("surface\treading\tnote\n# comment\n東京\tひがしきょう\ttest\n東京都庁\tとうきょうとちょう\n", encoding="utf-8")
    engine = ReadingEngine([d])
    assert ("東京", "ひがしきょう") in engine.tokens("東京へ行く")
    assert ("東京都庁", "とうきょうとちょう") in engine.tokens("東京都庁へ行く")  # longest match wins
    assert ("東京", "とうきょう") in ReadingEngine().tokens("東京へ行く")  # other engines unaffected


def test_user_entry_never_cuts_through_a_word(tmp_path: Path) -> None:
    d = tmp_path / "extra.tsv"
    d.write_text("surface\treading\n施工\tせこう\n", encoding="utf-8")
    toks = ReadingEngine([d]).tokens("実施工程")
    assert "".join(s for s, _ in toks) == "実施工程"
    assert ("施工", "せこう") not in toks


def test_katakana_reading_in_dictionary_is_folded(tmp_path: Path) -> None:
    d = tmp_path / "k.tsv"
    d.write_text("surface\treading\n砧公園\tキヌタコウエン\n", encoding="utf-8")
    assert ("砧公園", "きぬたこうえん") in ReadingEngine([d]).tokens("砧公園で")


@pytest.mark.parametrize("bad", ["no tab here", "漢字\t", "漢字\tかんじ\tnote\textra", "漢字\tkanji"])
def test_malformed_line_names_file_and_line(tmp_path: Path, bad: str) -> None:
    d = tmp_path / "broken.tsv"
    d.write_text(f"surface\treading\n# ok\n{bad}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"broken\.tsv:3"):
        ReadingEngine([d])


def test_shipped_dictionary_is_well_formed() -> None:
    entries = readings.load_user_dictionary(readings.DEFAULT_USER_DICTIONARY)
    assert len(entries) >= 10


def test_engine_is_safe_across_threads() -> None:
    from concurrent.futures import ThreadPoolExecutor

    text = "今日は市役所で住民票を3本取りました。" * 10
    expected = tokens(text)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(tokens, [text] * 16))
    assert all(r == expected for r in results)


def test_large_user_dictionary(tmp_path: Path) -> None:
    d = tmp_path / "big.tsv"
    rows = [f"試験語{chr(0x4E00 + i)}\tしけんご" for i in range(3000)]
    d.write_text("surface\treading\n" + "\n".join(rows) + "\n区役所前\tくやくしょまえ\n", encoding="utf-8")
    engine = ReadingEngine([d])
    text = "区役所前で待つ。" * 50
    toks = engine.tokens(text)
    assert "".join(s for s, _ in toks) == text
    assert toks.count(("区役所前", "くやくしょまえ")) == 50


@pytest.mark.parametrize(
    "text, surface, reading",
    [
        ("正しく使う", "正しく", "ただしく"),
        ("浮気相手の素性を知る", "素性", "すじょう"),
        ("臼杵の石仏", "石仏", "せきぶつ"),
        ("長野オリンピック", "長野", "ながの"),
        ("同人活動", "同人", "どうじん"),
        ("使い勝手がいい", "使い勝手", "つかいがって"),
        ("台北に着いた", "台北", "たいぺい"),
        ("米子駅", "米子", "よなご"),
        ("空メールを送る", "空メール", "からめーる"),
        ("私事ですが", "私事", "わたくしごと"),
    ],
)
def test_shipped_dictionary_common_words(text: str, surface: str, reading: str) -> None:
    assert reading_of(text, surface) == reading


def test_unknown_kanji_get_a_reading() -> None:
    # Sudachi has no reading for 喘 on its own; pykakasi supplies one, 々 repeats the previous kanji
    assert all(is_all_kana(r) for s, r in tokens("日喘連の会") if s != "日")
    assert reading_of("日喘連の会", "喘連") == "ぜんれん"
    assert readings._fallback_reading("禰々") == "ねね"


def test_guessed_lists_person_names_once_in_order_and_not_ordinary_words() -> None:
    engine = ReadingEngine()
    text = "担当は小園勝英です。住民票の写しを交付します。担当は小園勝英です。"
    tokens = engine.tokens(text)
    assert engine.guessed(text) == [("小園", dict(tokens)["小園"]), ("勝英", dict(tokens)["勝英"])]
    assert engine.guessed("住民票の写しを交付します。") == []
    assert engine.guessed("") == []


def test_guessed_skips_words_the_user_dictionary_gives(tmp_path: Path) -> None:
    d = tmp_path / "names.tsv"
    d.write_text("surface\treading\n小園\tおぞの\n", encoding="utf-8")
    assert [s for s, _ in ReadingEngine([d]).guessed("担当は小園勝英です。")] == ["勝英"]


def test_guessed_finds_names_past_the_first_chunk_of_a_long_text() -> None:
    engine = ReadingEngine()
    text = "住民票の写しを交付します。" * 400 + "担当は小園勝英です。"  # longer than one Sudachi chunk
    assert [s for s, _ in engine.guessed(text)] == ["小園", "勝英"]
