"""Custom pipelines defined by files: the checks (file and line), the run with a model and offline, hot reload."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from channels import RESERVED, build_registry
from channels.base import Attachment, PipelineContext, Place, Request, User
from channels.custom import CustomPipelines, table_rows, to_csv
from channels.definitions import MAX_PIPELINES, DefinitionError, load_directory, parse_definition
from hideki.llm.gateway import LLMGateway
from hideki.settings import PipelineParams, load_settings
from prompts import PromptLibrary

WHERE = Path("/data/pipelines/mine/pipeline.toml")
GOOD = """\
title = "文章校正"
description = "公用文の書き方に合わせて直します。"
temperature = 0.1
pii = "block"
steps = ["check_facts"]

system = \"\"\"
あなたは自治体の文書担当です。今日は${today}です。
\"\"\"
user = \"\"\"
次の文章を校正してください。
${input}
\"\"\"

[[examples]]
input = "例の文"
output = "例の答え"
"""


def write(folder: Path, toml: str, **files: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pipeline.toml").write_text(toml, encoding="utf-8")
    for name, text in files.items():
        (folder / f"{name}.md").write_text(text, encoding="utf-8")
    return folder


def refused(data: bytes, files: dict[str, bytes] | None = None, pipeline_id: str | None = "mine") -> str:
    with pytest.raises(DefinitionError) as caught:
        parse_definition(pipeline_id, data, files or {}, WHERE, RESERVED)
    return str(caught.value)


def request(text: str, llm=None, attachments=()) -> Request:
    return Request(text=text, user=User("u1"), place=Place("19:c;messageid=1", "channel", "19:c"), llm=llm,
                   attachments=list(attachments))


# --------------------------------------------------------------------------- the checks

def test_a_good_definition_declares_what_the_pipeline_is():
    definition = parse_definition("mine", GOOD.encode(), {}, WHERE, RESERVED)
    assert (definition.id, definition.title, definition.spec.temperature) == ("mine", "文章校正", 0.1)
    assert definition.user.get_identifiers() == ["input"]


@pytest.mark.parametrize("toml, expected", [
    ('title = "x"\ndescription = \n', "pipeline.toml: TOML として読めません（2 行目 15 文字目"),
    ('title = "x"\ndescription = "y"\nsystem = "s"\ntemprature = 1\n', "pipeline.toml の 4 行目: temprature: 知らない項目です"),
    ('description = "y"\nsystem = "s"\n', "pipeline.toml: title: 必須の項目がありません"),
    ('title = "x"\ndescription = "y"\nsystem = """\n一行目\n${__import__}\n"""\n', "pipeline.toml の 5 行目: 使えない変数 ${__import__}"),
    ('title = "x"\ndescription = "y"\nsystem = "${secret} を表示"\n', "pipeline.toml の 3 行目: 使えない変数 ${secret}"),
    ('title = "x"\ndescription = "y"\nsystem = "100$ です"\n', "pipeline.toml の 3 行目: 不正な $ があります"),
    ('title = "やさしい日本語"\ndescription = "y"\nsystem = "s"\n', "pipeline.toml の 1 行目: title「やさしい日本語」は標準の機能"),
    ('title = "解除"\ndescription = "y"\nsystem = "s"\n', "title「解除」は標準の機能またはコマンドと同じ"),
    ('title = "x"\ndescription = "y"\nsystem = "s"\n[[examples]]\ninput = "a"\noutput = "b"\n[[examples]]\ninput = "a"\n',
     "pipeline.toml の 7 行目: examples.1.output: 必須の項目がありません"),
    ('title = "x"\ndescription = "y"\nsystem = "s"\nfile_types = [".txt", ".exe"]\n', "pipeline.toml の 4 行目: file_types.1: 使えない値です"),
    ('title = "x"\ndescription = "y"\nuser = "入力なし"\n', "pipeline.toml の 3 行目: ユーザープロンプトに ${input} がありません"),
    ('title = "x"\ndescription = "y"\n', "pipeline.toml: プロンプトがありません"),
    ('title = "x"\ndescription = "二行\\nです"\nsystem = "s"\n', "pipeline.toml の 2 行目: description: Value error, 1行で書いてください"),
])
def test_mistakes_are_refused_naming_the_file_and_line(toml, expected):
    assert expected in refused(toml.encode())


def test_not_utf8_too_large_and_a_thousand_pipelines_in_one_file_are_refused():
    assert "pipeline.toml の 2 行目: UTF-8 ではありません" in refused('title = "x"\ndescription = "文章"\n'.encode("cp932"))
    assert "ファイルが大きすぎます（5,242,892 バイト）。上限は 262,144 バイト" in refused(b'title = "x"\n' + b"#" * (5 * 1024 * 1024))
    thousand = "\n".join(f'[p{i}]\ntitle = "t{i}"\nsystem = "s"' for i in range(1000)).encode()
    message = refused(thousand)
    assert "pipeline.toml の 1 行目: p0: 知らない項目です" in message and "ほか" in message


def test_prompt_files_are_checked_with_their_own_name_and_line():
    toml = b'title = "x"\ndescription = "y"\n'
    assert "system.md の 2 行目: 使えない変数 ${__import__}" in refused(toml, {"system.md": "一行目\n${__import__}\n".encode()})
    assert "system.md の 1 行目: UTF-8 ではありません" in refused(toml, {"system.md": "校正".encode("cp932")})
    assert "system が pipeline.toml と system.md の両方にあります" in refused(toml + b'system = "s"\n', {"system.md": b"s"})


def test_ids_must_be_plain_and_not_a_builtin():
    toml = b'title = "x"\ndescription = "y"\nsystem = "s"\n'
    assert "id「chat」は標準の機能またはコマンドと同じです" in refused(toml, pipeline_id="chat")
    assert "id「../etc」は使えません" in refused(toml, pipeline_id="../etc")
    assert "id がありません" in refused(toml, pipeline_id=None)
    assert "id「other」がフォルダ名「mine」と違います" in refused(b'id = "other"\n' + toml)


def test_a_folder_with_too_many_definitions_or_a_link_out_of_it_is_refused(tmp_path):
    outside = tmp_path / "secret.md"
    outside.write_text("秘密", encoding="utf-8")
    folder = write(tmp_path / "pipelines" / "linked", 'title = "x"\ndescription = "y"\n')
    (folder / "system.md").symlink_to(outside)
    with pytest.raises(DefinitionError, match="定義フォルダの外を指すリンクは使えません"):
        load_directory(tmp_path / "pipelines", RESERVED)
    many = tmp_path / "many"
    for i in range(MAX_PIPELINES + 1):
        (many / f"p{i:04d}").mkdir(parents=True)
    with pytest.raises(DefinitionError, match=f"パイプラインの定義が多すぎます（{MAX_PIPELINES + 1} 個）"):
        load_directory(many, RESERVED)


def test_two_definitions_with_the_same_title_are_refused(tmp_path):
    write(tmp_path / "a1", 'title = "要約"\ndescription = "y"\nsystem = "s"\n')
    write(tmp_path / "a2", 'title = "要 約"\ndescription = "y"\nsystem = "s"\n')
    with pytest.raises(DefinitionError, match="a2/pipeline.toml: 名前「要 約」が .*a1/pipeline.toml と重なっています"):
        load_directory(tmp_path, RESERVED)


# --------------------------------------------------------------------------- running

class FakeModel:
    """Records what it is sent and answers with a fixed text."""

    model = "fake"

    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.sent: list[list[dict]] = []

    async def complete(self, messages, **_):
        from hideki.llm.gateway import Completion, Usage

        self.sent.append(messages)
        return Completion(self.answer, "fake", Usage(10, 5, 1), "stop")


@pytest.fixture
def registry(tmp_path):
    def make(**folders: str):
        for name, toml in folders.items():
            write(tmp_path / "pipelines" / name, toml)
        return build_registry(PromptLibrary(), PipelineContext(custom_pipelines_dir=tmp_path / "pipelines"))
    return make


async def test_with_a_model_the_prompts_and_examples_are_sent_and_the_steps_run(registry):
    pipeline = registry(kousei=GOOD).get("kousei")
    model = FakeModel("令和7年4月1日から手数料が変わります。")
    reply = await pipeline.run(request("令和7年4月1日から手数料が350円に変わります。", model))
    [messages] = model.sent
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[0]["content"].startswith("あなたは自治体の文書担当です。今日は") and "${today}" not in messages[0]["content"]
    assert messages[1]["content"] == "次の文章を校正してください。\n例の文\n" and messages[2]["content"] == "例の答え"
    assert messages[3]["content"] == "次の文章を校正してください。\n令和7年4月1日から手数料が350円に変わります。\n"
    assert reply.text == "令和7年4月1日から手数料が変わります。"
    assert any("確認できなかった事実" in w and "350円" in w for w in reply.warnings)
    assert reply.usage.calls == 1 and not reply.offline


async def test_a_table_answer_also_comes_as_csv_and_pii_in_the_answer_is_flagged(registry):
    toml = 'title = "一覧表"\ndescription = "表にします"\noutput = "table"\nsteps = ["check_pii"]\nsystem = "表で答えて"\n'
    pipeline = registry(table=toml).get("table")
    answer = "```markdown\n| 名前 | 電話 |\n|---|---|\n| 山田太郎様 | 090-1234-5678 |\n```"
    reply = await pipeline.run(request("名簿", FakeModel(answer)))
    assert reply.text.startswith("| 名前 | 電話 |")  # the fence around the whole answer is dropped
    assert "**CSV**\n```csv\n名前,電話\n山田太郎様,090-1234-5678\n```" in reply.text
    assert any("個人情報の可能性" in w and "電話番号 1件" in w for w in reply.warnings)


def test_tables_are_read_from_markdown():
    rows = table_rows("前置き\n\n| 質問 | 回答 |\n| :-- | --: |\n| A | B, C |\n\n後書き")
    assert rows == [["質問", "回答"], ["A", "B, C"]]
    assert to_csv(rows) == '質問,回答\nA,"B, C"\n'
    assert table_rows("表はありません") == []


async def test_offline_without_an_engine_says_it_needs_a_model_in_one_line(registry):
    pipeline = registry(eiyaku='title = "英訳"\ndescription = "英語にします"\nsystem = "Translate"\n').get("eiyaku")
    reply = await pipeline.run(request("こんにちは"))
    assert reply.text == "ℹ️ 「英訳」には生成AIモデルが必要です。生成AIモデルが使えるようになってから、もう一度送ってください。"
    assert reply.offline and "\n" not in reply.text


async def test_offline_engines_summary_furigana_and_yasashii(registry):
    base = 'description = "y"\nsystem = "s"\n'
    reg = registry(summary=f'title = "要約"\noffline = "summary"\n{base}', yomi=f'title = "読み"\noffline = "furigana"\n{base}',
                   plain=f'title = "やさしく"\noffline = "yasashii"\n{base}')
    text = ("本市では、令和7年4月1日から粗大ごみの収集方法を変更します。申込みは電話またはインターネットで受け付けます。"
            "手数料は品目ごとに異なります。収集日の3日前までに申し込んでください。") * 3
    summary = await reg.get("summary").run(request(text))
    assert summary.offline and 0 < len(summary.text) < len(text) and summary.warnings[0].startswith("ℹ️ 生成AIモデルが設定されていない")
    readings = await reg.get("yomi").run(request("区役所に行きます"))
    assert readings.text == "区役所(くやくしょ)に行(い)きます"
    plain = await reg.get("plain").run(request("申請書を提出してください。"))
    assert "出(だ)して" in plain.text


async def test_a_file_is_read_as_the_input(registry, tmp_path):
    toml = 'title = "要約"\ndescription = "y"\nfile_types = [".html", ".vtt"]\nsystem = "要約して"\n'
    pipeline = registry(yoyaku=toml).get("yoyaku")
    model = FakeModel("要約です")
    html = "<html><body><h1>お知らせ</h1><p>区役所は4月1日から移転します。</p></body></html>".encode()
    await pipeline.run(request("", model, [Attachment("notice.html", "text/html", html)]))
    assert model.sent[0][-1]["content"] == "お知らせ\n区役所は4月1日から移転します。"
    vtt = "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v 田中>始めます。</v>\n".encode()
    await pipeline.run(request("", model, [Attachment("meeting.vtt", "text/vtt", vtt)]))
    assert model.sent[1][-1]["content"] == "田中: 始めます。"
    bad = await pipeline.run(request("", model, [Attachment("scan.pdf", "application/pdf", b"not a pdf")]))
    assert bad.text.startswith("ファイル「scan.pdf」を読めませんでした。")


def test_the_definitions_model_parameters_reach_the_gateway_and_the_settings_file_wins(tmp_path):
    settings = load_settings(env_file=None, data_dir=tmp_path, llm_base_url="http://127.0.0.1:9/v1",
                             pipelines={"kousei": PipelineParams(temperature=0.7)})
    declared = PipelineParams(model="gpt-4o", temperature=0.1, pii="block", max_tokens=300)
    params = settings.params_for("kousei", declared)
    assert (params.model, params.temperature, params.pii, params.max_tokens) == ("gpt-4o", 0.7, "block", 300)
    assert LLMGateway(settings).client_for("kousei", declared).params == params
    assert settings.params_for("other", declared).temperature == 0.1


# --------------------------------------------------------------------------- hot reload

def test_new_edited_broken_and_removed_definitions_are_picked_up_and_a_broken_edit_keeps_the_old(tmp_path, caplog):
    directory = tmp_path / "pipelines"
    now = [0.0]
    custom = CustomPipelines(directory, RESERVED, PipelineContext(), clock=lambda: now[0])
    registry = build_registry(PromptLibrary(), PipelineContext())
    registry.custom = custom
    custom.load()
    assert registry.find("要約") is None

    folder = write(directory / "yoyaku", 'title = "要約"\ndescription = "一"\nsystem = "s"\n')
    assert registry.find("要約") is None  # not looked at again yet
    now[0] += 5
    assert registry.find("要約").description == "一" and registry.is_custom("yoyaku")

    write(folder, 'title = "要約"\ndescription = "二"\nsystem = "s"\n')
    os.utime(folder / "pipeline.toml", ns=(1, 1))  # a different stamp even within the same clock tick
    now[0] += 5
    assert registry.find("要約").description == "二"

    write(folder, 'title = "要約"\ndescription = "三"\nsystem = "${__import__}"\n')
    now[0] += 5
    assert registry.find("要約").description == "二"  # the previous version stays
    assert "使えない変数 ${__import__}" in caplog.text

    write(folder, 'title = "要約"\ndescription = "四"\nsystem = "s"\n')
    now[0] += 5
    assert registry.find("yoyaku").description == "四"

    (folder / "pipeline.toml").unlink()
    folder.rmdir()
    now[0] += 5
    assert registry.find("yoyaku") is None and "yoyaku" not in registry.names()


def test_start_up_stops_on_a_broken_definition(tmp_path):
    write(tmp_path / "pipelines" / "bad", 'title = "x"\ndescription = "y"\nsystem = "s"\ncolour = "red"\n')
    with pytest.raises(DefinitionError, match=r"bad/pipeline.toml の 4 行目: colour: 知らない項目です"):
        build_registry(PromptLibrary(), PipelineContext(custom_pipelines_dir=tmp_path / "pipelines"))
