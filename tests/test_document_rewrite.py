"""やさしい日本語 documents: a .docx rewritten paragraph by paragraph keeps its structure and gets Word ruby; the
pipeline's file path offline and with a model; minutes and Q&A files; routing a file by its content."""
from __future__ import annotations

import io
import re
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn
from docx.shared import RGBColor
from openpyxl import load_workbook

from channels import build_registry
from channels.base import Attachment, PipelineContext, Place, Request, User
from hideki.documents.files import DocumentError
from hideki.documents.rewrite import rewrite_docx
from hideki.japanese.readings import ReadingEngine
from hideki.japanese.simplify import Simplifier
from hideki.llm.gateway import LLMGateway
from hideki.settings import load_settings
from hideki.state.stores import Database, ResultStore
from prompts import PromptLibrary
from tests.test_documents import paragraphs, ruby_pairs, visible_text

MEETINGS = Path(__file__).parent / "fixtures" / "meetings"
LONG = ("手続きには、本人確認書類が必要となりますので、ご持参くださいますようお願い申し上げます。"
        "申請書に必要事項を記入の上、市民課窓口に提出してください。")
PLAIN = "窓口は9時に開きます。"


def notice(path: Path) -> Path:
    d = docx.Document()
    d.add_heading("住民票の写しの交付について", level=1)
    d.add_paragraph(LONG)
    unchanged = d.add_paragraph()
    unchanged.add_run("窓口は").bold = True
    unchanged.add_run("9時に開きます。").font.color.rgb = RGBColor(0xC0, 0, 0)
    d.add_paragraph("本人確認書類を提出してください。", style="List Bullet")
    tabbed = d.add_paragraph("受付期間\t")
    tabbed.add_run("令和7年4月1日から提出を受け付けます。")
    table = d.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "手数料"
    table.cell(0, 1).text = "1件につき300円を徴収いたします。"
    link = d.add_paragraph("詳しくは市のホームページを参照してください。")
    link._p.append(link._p.makeelement(qn("w:hyperlink"), {}))
    d.sections[0].header.paragraphs[0].text = "世田谷区役所 区民課"
    d.save(path)
    return path


@pytest.fixture(scope="module")
def engine() -> ReadingEngine:
    return ReadingEngine()


def test_a_docx_is_rewritten_paragraph_by_paragraph_keeping_structure_and_gets_ruby(tmp_path, engine) -> None:
    source = notice(tmp_path / "notice.docx")
    report = rewrite_docx(source, tmp_path / "out.docx", Simplifier(), engine)
    before, after = docx.Document(str(source)), docx.Document(str(tmp_path / "out.docx"))
    assert [p.style.name for p in after.paragraphs] == [p.style.name for p in before.paragraphs]  # nothing appended
    assert len(after.tables) == 1 and len(paragraphs(after)) == len(paragraphs(before))
    texts = [visible_text(p._p) for p in after.paragraphs]
    assert "提出" not in texts[1] and "お願い申し上げます" not in texts[1]  # rewritten
    assert texts[2] == PLAIN  # an unchanged paragraph keeps its runs and their formatting
    runs = after.paragraphs[2]._p.findall(".//" + qn("w:rPr"))
    assert any(r.find(qn("w:b")) is not None for r in runs) and any(r.find(qn("w:color")) is not None for r in runs)
    assert after.paragraphs[3].style.name == "List Bullet" and "提出" not in texts[3]
    assert texts[4].startswith("受付期間\t") and "2025年4月1日" in texts[4]  # the tab stays; each side rewritten
    assert "徴収" not in visible_text(after.tables[0].cell(0, 1)._tc)
    assert texts[5] == "詳しくは市のホームページを参照してください。"  # a paragraph with a link is left as it was
    assert report.left_as_is == {"リンク": 1} and "リンク" in report.note()
    assert report.rewritten >= 4 and report.paragraphs == 8
    pairs = ruby_pairs(after.element.body)
    assert ("窓口", "まどぐち") in pairs and ("住民票", "じゅうみんひょう") in pairs
    assert ("区民課", "くみんか") in ruby_pairs(after.sections[0].header._element)  # headers get ruby, not rewritten
    assert report.ruby.words == len(pairs) + len(ruby_pairs(after.sections[0].header._element))


def test_text_and_bad_files_in(tmp_path, engine) -> None:
    (tmp_path / "a.txt").write_text(LONG + "\n" + PLAIN, encoding="utf-8")
    report = rewrite_docx(tmp_path / "a.txt", tmp_path / "a.docx", Simplifier(), engine)
    assert report.paragraphs == 2 and len(docx.Document(str(tmp_path / "a.docx")).paragraphs) == 2
    (tmp_path / "bad.docx").write_bytes(b"PK\x03\x04 broken")
    with pytest.raises(DocumentError, match="壊れて"):
        rewrite_docx(tmp_path / "bad.docx", tmp_path / "b.docx", Simplifier(), engine)
    assert not (tmp_path / "b.docx").exists()
    with pytest.raises(DocumentError, match=r"\.docx"):
        rewrite_docx(tmp_path / "a.txt", tmp_path / "a.html", Simplifier(), engine)


# ------------------------------------------------------------------ the pipelines

@pytest.fixture
def registry(tmp_path):
    shared = PipelineContext(results=ResultStore(Database(tmp_path / "h.db")))
    return build_registry(PromptLibrary(), shared)


def personal(attachment: Attachment, llm=None) -> Request:
    return Request(text="", user=User("u1"), place=Place("a:personal-u1", "personal"), attachments=[attachment], llm=llm)


def attachment(path: Path) -> Attachment:
    return Attachment(path.name, "", path.read_bytes())


def test_files_go_to_minutes_when_they_are_transcripts_and_to_yasashii_otherwise(registry, tmp_path) -> None:
    for name in ("05_kosodate.docx", "07_kouhou.txt", "01_bousai.vtt"):
        assert registry.for_attachment(attachment(MEETINGS / name)).name == "minutes"
    assert registry.for_attachment(attachment(notice(tmp_path / "notice.docx"))).name == "yasashii"
    assert registry.for_attachment(Attachment("n.txt", "", LONG.encode())).name == "yasashii"
    assert registry.for_attachment(Attachment("n.pdf", "", b"%PDF")).name == "yasashii"
    assert registry.for_attachment(Attachment("faq.csv", "", b"a,b")).name == "servicedesk"
    assert registry.for_attachment(Attachment("x.pptx", "", b"")) is None


async def test_the_pipeline_returns_the_document_and_a_short_answer_offline(registry, tmp_path) -> None:
    reply = await registry.get("yasashii").run(personal(attachment(notice(tmp_path / "notice.docx"))))
    [file] = reply.files
    assert file.name == "notice_やさしい日本語.docx" and file.suffix == ".docx"
    out = docx.Document(io.BytesIO(file.data))
    assert out.paragraphs[0].style.name == "Heading 1" and ruby_pairs(out.element.body)
    assert "Word 文書を作りました" in reply.text and "(" in reply.text  # a preview with readings
    assert reply.offline and any(w.startswith("📏") for w in reply.warnings)
    assert any("リンク" in w for w in reply.warnings) and reply.buttons  # the HTML button stays


async def test_a_broken_file_gets_a_japanese_message_and_no_file(registry) -> None:
    reply = await registry.get("yasashii").run(personal(Attachment("x.docx", "", b"PK\x03\x04 broken")))
    assert "壊れて" in reply.text and reply.files == []


@pytest.fixture
async def llm_for(tmp_path, model):
    gateways: list[LLMGateway] = []

    def make():
        settings = load_settings(env_file=None, data_dir=tmp_path, llm_base_url=model.base_url, llm_backoff_s=0.01)
        gateways.append(LLMGateway(settings))
        return gateways[-1].client_for("yasashii")

    yield make
    for gateway in gateways:
        await gateway.close()


async def test_with_a_model_paragraphs_go_in_parts_and_a_part_that_loses_its_shape_goes_one_by_one(
        registry, tmp_path, model, llm_for) -> None:
    source = notice(tmp_path / "notice.docx")

    def answer(messages: list[dict]) -> str:
        text = re.search(r"<文章>\n(.*)\n</文章>", messages[1]["content"], re.S).group(1)
        if len(model.requests) == 1:  # several paragraphs joined into one: the pipeline asks again, one at a time
            return "やさしく: " + text.replace("\n\n", "")
        return "\n\n".join(f"やさしく: {p}" for p in text.split("\n\n"))

    model.answer = answer
    reply = await registry.get("yasashii").run(personal(attachment(source), llm_for()))
    out = docx.Document(io.BytesIO(reply.files[0].data))
    texts = [visible_text(p._p) for p in out.paragraphs]
    assert texts[1].startswith("やさしく: 手続き") and texts[3].startswith("やさしく: 本人確認")
    assert texts[2] == PLAIN  # already plain: not sent to the model
    assert len(model.requests) > 2 and not reply.offline


async def test_minutes_from_a_file_come_as_word_and_qa_as_excel(registry) -> None:
    reply = await registry.get("minutes").run(personal(attachment(MEETINGS / "07_kouhou.txt")))
    [file] = reply.files
    minutes = docx.Document(io.BytesIO(file.data))
    assert file.name == "07_kouhou_議事録.docx" and minutes.tables  # 会議名・日時 and the ToDo table
    pasted = Request(text=(MEETINGS / "07_kouhou.txt").read_text(encoding="utf-8"), user=User("u1"),
                     place=Place("19:c;messageid=1", "channel", "19:c"))
    assert (await registry.get("minutes").run(pasted)).files == []  # pasted text: the chat answer only

    text = ("粗大ごみは、事前に申し込みが必要です。申し込みは、電話またはインターネットで受け付けます。"
        "手数料は1点につき400円です。収集日の3日前までに申し込んでください。")
    qa = await registry.get("qa").run(Request(text=text, user=User("u1"), place=Place("cli", "personal")))
    [sheet] = qa.files
    workbook = load_workbook(io.BytesIO(sheet.data))
    assert sheet.name.endswith(".xlsx") and workbook.active["B1"].value == "質問" and workbook.active.max_row > 1


async def test_qa_reads_a_notice_sent_as_a_file(registry, tmp_path) -> None:
    path = notice(tmp_path / "notice.docx")
    reply = await registry.get("qa").run(Request(text="", user=User("u1"), place=Place("cli", "channel", "cli"),
                                                 attachments=[attachment(path)]))
    assert "質問と回答" in reply.text and reply.files[0].name == "Q&A.xlsx"


def test_hideki_run_writes_the_answers_file_with_o(tmp_path, monkeypatch, capsys) -> None:
    from hideki.cli.main import main

    monkeypatch.setenv("HIDEKI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HIDEKI_FAQ_SEED", "")
    monkeypatch.chdir(tmp_path)
    source = notice(tmp_path / "notice.docx")
    assert main(["run", "yasashii", str(source), "-o", str(tmp_path / "easy.docx")]) == 0
    out, err = capsys.readouterr()
    assert "Word 文書を作りました" in out and "📏 1文の平均" in err and "書き出しました" in err
    easy = docx.Document(str(tmp_path / "easy.docx"))
    assert easy.paragraphs[0].style.name == "Heading 1" and ruby_pairs(easy.element.body)

    assert main(["run", "minutes", str(MEETINGS / "01_bousai.vtt"), "-o", str(tmp_path / "minutes.docx")]) == 0
    assert docx.Document(str(tmp_path / "minutes.docx")).tables
    (tmp_path / "gomi.txt").write_text("粗大ごみは、事前に申し込みが必要です。申し込みは、電話またはインターネットで受け付けます。"
                                       "手数料は1点につき400円です。", encoding="utf-8")
    assert main(["run", "qa", str(tmp_path / "gomi.txt"), "-o", str(tmp_path / "faq.xlsx")]) == 0
    assert load_workbook(tmp_path / "faq.xlsx").active.max_row > 1
    capsys.readouterr()

    assert main(["run", "qa", str(tmp_path / "gomi.txt"), "-o", str(tmp_path / "faq.docx")]) == 2
    assert "作れる形式: .xlsx" in capsys.readouterr().err and not (tmp_path / "faq.docx").exists()
    assert main(["run", "yasashii", str(source), "-o", str(source)]) == 2
