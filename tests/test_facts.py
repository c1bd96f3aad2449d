from hideki.japanese.facts import extract_facts, missing_facts, strip_readings

NOTICE_TAX = ("令和7年度の国民健康保険料の第1期の納付期限は令和7年6月30日です。"
              "納付額は12,300円です。午前8時30分から午後5時15分まで〇〇区役所保険年金課で受け付けます。"
              "問い合わせ：03-1234-5678 https://www.city.example.lg.jp/kokuho/ kokuho@city.example.lg.jp")


def kinds(text):
    return {(f.kind, f.value) for f in extract_facts(text)}


def test_extracts_every_kind():
    facts = kinds(NOTICE_TAX)
    assert ("date", "fy:2025") in facts
    assert ("date", "2025-06-30") in facts
    assert ("amount", "12300") in facts
    assert ("time", "08:30") in facts and ("time", "17:15") in facts
    assert ("phone", "0312345678") in facts
    assert ("url", "www.city.example.lg.jp/kokuho/") in facts
    assert ("email", "kokuho@city.example.lg.jp") in facts
    assert ("number", "1") in facts
    assert ("proper_noun", "〇〇区役所保険年金課") in facts


def test_times_in_many_spellings():
    assert kinds("9時") == {("time", "09:00")}
    assert kinds("9:30") == {("time", "09:30")}
    assert kinds("午後3時") == {("time", "15:00")}
    assert kinds("17時15分") == {("time", "17:15")}
    assert kinds("午前10時半") == {("time", "10:30")}
    assert ("time", "03:00") not in kinds("3時間")


def test_amounts_normalised():
    for text in ("1,000円", "1000円", "千円", "１，０００円", "¥1,000"):
        assert kinds(text) == {("amount", "1000")}, text
    assert kinds("1万5千円") == {("amount", "15000")}


def test_kanji_numerals_but_not_words_with_kanji_digits():
    assert ("number", "3") in kinds("書類を三つ持ってきてください。")
    assert not any(k == "number" for k, _ in kinds("一部の地域で統一します。"))


def test_proper_nouns():
    values = {f.value for f in extract_facts("世田谷区役所と東京都庁とヤマダ電機") if f.kind == "proper_noun"}
    assert {"世田谷区役所", "東京都庁", "ヤマダ電機"} <= values


def test_normalised_equivalences_are_not_missing():
    source = "令和7年4月1日午後3時に〇〇区役所で1,000円を納付してください。電話は０３－１２３４－５６７８です。"
    rewritten = "2025年4月1日（火） 15時に 〇〇区役所(くやくしょ)で 千円(せんえん)を 払(はら)ってください。電話(でんわ)は 03-1234-5678です。"
    assert missing_facts(source, rewritten) == []


def test_lost_facts_are_reported():
    source = "令和7年4月1日午後3時に〇〇区役所で1,000円を払います。"
    lost = missing_facts(source, "4月2日の15時に区役所で100円を払います。")
    assert {f.kind for f in lost} == {"date", "amount", "proper_noun"}
    assert missing_facts("3人と3人", "3人") != []  # repeated facts are counted
    assert [f.kind for f in missing_facts("9時から", "10時から")] == ["time"]
    assert [f.kind for f in missing_facts("https://a.example.jp/x", "https://a.example.jp/y")] == ["url"]


def test_partial_dates_are_covered_by_full_dates():
    assert missing_facts("4月1日から", "2025年4月1日（火）から") == []
    assert missing_facts("令和7年から", "2025年から") == []


def test_strip_readings():
    assert strip_readings("区役所(くやくしょ)で 住民票(じゅうみんひょう)を") == "区役所で 住民票を"
    assert strip_readings("ごみ（ゴミ）と（火）") == "ごみ（ゴミ）と（火）"
