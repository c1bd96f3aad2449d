"""Splitting long answers under Teams' message size limit."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from bot.commands import parse
from bot.delivery import split_message


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("あいう漢字。、\n ab😀")), min_size=0, max_size=3000), limit=st.integers(60, 2000))
def test_split_respects_the_byte_limit_and_loses_only_whitespace_at_cuts(text, limit):
    parts = split_message(text, limit)
    assert all(len(p.encode("utf-8")) <= limit for p in parts)
    assert "".join(parts).replace("\n", "").replace(" ", "") == text.replace("\n", "").replace(" ", "")


def test_split_prefers_paragraph_ends():
    text = "一段落目です。" * 10 + "\n\n" + "二段落目です。" * 10
    assert split_message(text, 250) == ["一段落目です。" * 10, "二段落目です。" * 10]


def test_commands_are_recognised_only_as_short_single_lines():
    assert parse("ヘルプ").kind == "help" and parse(" ＨＥＬＰ ").kind == "help"
    assert parse("設定").kind == "show_binding"
    assert parse("設定 やさしい日本語") .argument == "やさしい日本語"
    assert parse("設定 解除").kind == "unbind"
    assert parse("リセット").kind == "reset"
    assert parse("ヘルプデスクの電話番号は？") is None
    assert parse("設定\nこの文書を要約して") is None


def test_line_breaks_survive_teams_markdown_but_code_blocks_are_kept():
    from bot.delivery import teams_markdown

    assert teams_markdown("一行目\n二行目\n\n三行目") == "一行目\n\n二行目\n\n三行目"
    code = "説明\n```html\n<ruby>漢<rt>かん</rt></ruby>\n<p>二行目</p>\n```\n後"
    assert teams_markdown(code) == "説明\n\n```html\n<ruby>漢<rt>かん</rt></ruby>\n<p>二行目</p>\n```\n\n後"


def test_tables_become_lists_because_teams_draws_no_markdown_tables():
    from bot.delivery import teams_markdown

    qa = "**質問と回答**\n| # | 質問 | 回答 |\n|---|---|---|\n| 1 | いつから？ | 4月1日 |\n| 2 | 何が必要？ | マイナンバーカード |\n後"
    assert teams_markdown(qa) == (
        "**質問と回答**\n\n1. **質問**: いつから？ ／ **回答**: 4月1日\n\n2. **質問**: 何が必要？ ／ **回答**: マイナンバーカード\n\n後"
    )
    todo = "| 担当 | 内容 | 期限 |\n|:---|---|---:|\n| 田中 | 資料を直す |  |"
    assert teams_markdown(todo) == "- **担当**: 田中 ／ **内容**: 資料を直す"  # empty cells are left out
    fenced = "```\n| a | b |\n|---|---|\n```"
    assert teams_markdown(fenced) == fenced  # code blocks stay as they are
    assert teams_markdown("| 縦棒で始まる行\n次の行") == "| 縦棒で始まる行\n\n次の行"  # no rule line: not a table
