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
