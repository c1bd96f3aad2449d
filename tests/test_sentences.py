from hideki.japanese.sentences import split_paragraphs, split_sentences


def test_splits_on_terminators_and_keeps_them():
    assert split_sentences("申し込みは不要です。当日、会場に来てください！質問はありますか？") == [
        "申し込みは不要です。", "当日、会場に来てください！", "質問はありますか？"]


def test_ascii_terminators_and_runs():
    assert split_sentences("本当ですか?!はい!") == ["本当ですか?!", "はい!"]


def test_newlines_split_and_blank_lines_dropped():
    text = "防災訓練のお知らせ\n\n日時：2025年9月1日（月）\n場所：〇〇小学校"
    assert split_sentences(text) == ["防災訓練のお知らせ", "日時：2025年9月1日（月）", "場所：〇〇小学校"]


def test_quotes_and_parentheses_stay_intact():
    text = "窓口で「住民票の写しをください。」と言ってください。書類（原本。コピーは不可）を持ってきてください。"
    assert split_sentences(text) == [
        "窓口で「住民票の写しをください。」と言ってください。",
        "書類（原本。コピーは不可）を持ってきてください。",
    ]


def test_unbalanced_bracket_does_not_swallow_the_text():
    text = "「申し込みは電話で。受付は平日のみです。土日は休みです。"
    assert split_sentences(text) == ["「申し込みは電話で。", "受付は平日のみです。", "土日は休みです。"]


def test_text_without_terminator_and_whitespace():
    assert split_sentences("  粗大ごみの申し込み  ") == ["粗大ごみの申し込み"]
    assert split_sentences("") == []
    assert split_sentences("\n \n") == []


def test_long_text_is_fast_and_complete():
    text = "今日は晴れです。" * 20000
    sentences = split_sentences(text)
    assert len(sentences) == 20000
    assert "".join(sentences) == text


def test_paragraphs_keep_line_structure():
    assert split_paragraphs("一。二。\n\n三。") == [["一。", "二。"], [], ["三。"]]
