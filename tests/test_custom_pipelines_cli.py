"""`hideki pipelines list|check|new` and `hideki run`, on a data directory of their own."""
from __future__ import annotations

import io

import pytest

from channels import RESERVED
from channels.definitions import EXAMPLES_DIR, load_directory
from hideki.cli.main import main


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("HIDEKI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HIDEKI_FAQ_SEED", "")
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    return tmp_path / "data"


def test_the_shipped_examples_pass_the_check_and_are_not_enabled():
    examples = {d.id: d for d in load_directory(EXAMPLES_DIR, RESERVED)}
    assert {d.title for d in examples.values()} == {"文章校正", "要約", "英訳", "お知らせ文の下書き"}
    assert examples["kousei"].spec.output == "table" and "公用文作成の考え方" in examples["kousei"].system_text
    assert examples["yoyaku"].spec.offline == "summary"


def test_new_from_an_example_then_check_and_list(data_dir, capsys):
    assert main(["pipelines", "new", "kousei", "--from", "kousei"]) == 0
    assert (data_dir / "pipelines" / "kousei" / "system.md").exists()
    assert main(["pipelines", "new", "memo"]) == 0
    assert main(["pipelines", "check"]) == 0
    assert "OK  kousei: 文章校正" in capsys.readouterr().out
    main(["pipelines", "list"])
    out = capsys.readouterr().out
    assert "kousei\t文章校正" in out and "oshirase\tお知らせ文の下書き" in out
    assert main(["pipelines", "new", "bad/id"]) == 2
    assert main(["pipelines", "new", "x1", "--from", "nothing"]) == 2


def test_check_exits_non_zero_naming_the_file_and_line(data_dir, capsys):
    main(["pipelines", "new", "memo"])
    with open(data_dir / "pipelines" / "memo" / "pipeline.toml", "a", encoding="utf-8") as f:
        f.write('colour = "red"\n')
    assert main(["pipelines", "check"]) == 1
    assert "memo/pipeline.toml の 20 行目: colour: 知らない項目です" in capsys.readouterr().err


def test_run_a_custom_and_a_builtin_pipeline_on_stdin_and_on_a_file(data_dir, capsys, monkeypatch):
    main(["pipelines", "new", "yoyaku", "--from", "yoyaku"])
    capsys.readouterr()
    monkeypatch.setattr("sys.stdin", io.StringIO("区役所に行きます"))
    assert main(["run", "yasashii"]) == 0
    assert capsys.readouterr().out.startswith("区役所(くやくしょ)に行(い)きます")
    notice = data_dir / "notice.html"
    notice.write_text("<p>本市では4月1日から粗大ごみの収集方法を変更します。</p>", encoding="utf-8")
    assert main(["run", "要約", str(notice)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("本市では4月1日から粗大ごみの収集方法を変更します。") and "ローカル処理で作成しました" in out
    monkeypatch.setattr("sys.stdin", io.StringIO("x"))
    assert main(["run", "翻訳"]) == 2
    assert "「翻訳」という機能はありません" in capsys.readouterr().err


ONE_FILE = """\
title = "英訳"
description = "外国人住民向けのやさしい英語にします。"
system = "Translate into plain English."
"""


def test_apply_history_rollback_and_remove_through_the_database(data_dir, tmp_path, capsys):
    folder = data_dir / "pipelines" / "eiyaku"
    source = tmp_path / "eiyaku.toml"
    source.write_text(ONE_FILE, encoding="utf-8")
    assert main(["pipelines", "apply", str(source), "--who", "suzuki"]) == 0
    assert "新しい機能「英訳」（eiyaku）を追加しました。版 1 として保存しました" in capsys.readouterr().out
    assert (folder / "pipeline.toml").read_text(encoding="utf-8") == ONE_FILE
    source.write_text(ONE_FILE.replace("plain English.", "plain English for residents."), encoding="utf-8")
    assert main(["pipelines", "apply", str(source), "--who", "sato"]) == 0
    assert "for residents" in (folder / "pipeline.toml").read_text(encoding="utf-8")

    source.write_text(ONE_FILE + 'colour = "red"\n', encoding="utf-8")  # refused with the file and line, nothing stored
    assert main(["pipelines", "apply", str(source)]) == 1
    assert "eiyaku.toml の 4 行目: colour: 知らない項目です" in capsys.readouterr().err
    (tmp_path / "pipeline.toml").write_text('title = "ヘルプ"\ndescription = "d"\nsystem = "s"\n', encoding="utf-8")
    assert main(["pipelines", "apply", str(tmp_path / "pipeline.toml")]) == 1
    assert "id がありません" in capsys.readouterr().err

    assert main(["pipelines", "rollback", "eiyaku", "1", "--who", "tanaka"]) == 0
    assert "版 1 の定義に戻しました（版 3）" in capsys.readouterr().out
    assert (folder / "pipeline.toml").read_text(encoding="utf-8") == ONE_FILE
    assert main(["pipelines", "rollback", "eiyaku", "7"]) == 1
    assert "版 7 はありません" in capsys.readouterr().err

    assert main(["pipelines", "history", "eiyaku"]) == 0
    lines = capsys.readouterr().out.splitlines()
    fields = [line[2:].split("  ") for line in lines]  # after the mark: id, version, when, action, who, note
    assert [[f[1], f[3], f[4]] for f in fields] == [
        ["版 1", "反映", "suzuki"], ["版 2", "反映", "sato"], ["版 3", "ロールバック", "tanaka"]]
    assert lines[1].endswith("「英訳」（eiyaku）を置き換えました（変わる項目: システムプロンプト）")
    assert lines[2].startswith("* eiyaku  版 3") and lines[2].endswith("版 1 に戻しました")

    main(["pipelines", "list"])
    assert "# データベースに保存された定義" in capsys.readouterr().out.split("# 同梱")[0]
    assert main(["pipelines", "remove", "eiyaku", "--who", "tanaka"]) == 0
    assert "「eiyaku」を削除しました（版 4" in capsys.readouterr().out
    assert not folder.exists() and main(["pipelines", "list"]) == 0
    assert "eiyaku" not in capsys.readouterr().out.split("# 同梱")[0]
    assert main(["pipelines", "remove", "eiyaku"]) == 1
    assert main(["pipelines", "rollback", "eiyaku", "4"]) == 1 and "削除の記録です" in capsys.readouterr().err
    assert main(["pipelines", "rollback", "eiyaku", "2"]) == 0 and "for residents" in (folder / "pipeline.toml").read_text()


def test_history_without_stored_definitions(data_dir, capsys):
    assert main(["pipelines", "history"]) == 0
    assert "保存された定義はありません" in capsys.readouterr().out


def test_run_shows_the_buttons_of_an_answer_on_stderr():
    """A terminal has no buttons: the choices Teams would show (e.g. 「次のどれについてですか？」) are listed on stderr."""
    from channels.base import Button, Reply
    from hideki.cli.run import _buttons

    reply = Reply("次のどれについてですか？", buttons=[Button("紙詰まり", "servicedesk.choose"), Button("何も出てこない", "servicedesk.choose")],
                  caption="どれも違うときは、ヘルプデスクへ。", related=[Button("両面印刷", "servicedesk.ask")])
    assert _buttons(reply).splitlines() == [
        "（Teams でのボタン）どれも違うときは、ヘルプデスクへ。", "- 紙詰まり", "- 何も出てこない", "（関連する質問）", "- 両面印刷",
    ]
    assert _buttons(Reply("答え")) == ""
