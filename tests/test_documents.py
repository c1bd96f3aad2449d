"""Office documents in and out: Word ruby from `hideki furigana IN -o OUT`, minutes as Word, Q&A as Excel, bad input.

Every input document is built here with python-docx (no binary fixtures); every output is opened again with
python-docx / openpyxl and checked: ruby pairs (base + reading), text unchanged apart from the ruby, structure and
run formatting kept, and a clear Japanese message with exit code 2 for files we refuse.
"""
from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import zipfile
from pathlib import Path

import docx
import pytest
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Pt, RGBColor
from lxml import etree
from openpyxl import load_workbook

from hideki.cli.main import main
from hideki.documents.files import DocumentError, check_input, write_atomically
from hideki.documents.minutes_docx import TODO_HEADER, write_minutes_docx
from hideki.documents.qa_xlsx import EVIDENCE_HEADER, write_qa_xlsx
from hideki.documents.ruby import ruby_spans
from hideki.documents.word_ruby import add_ruby
from hideki.japanese.furigana import kanji_grade
from hideki.japanese.kana import is_kanji
from hideki.japanese.readings import ReadingEngine
from hideki.minutes.extract import extract_minutes
from hideki.minutes.transcripts import parse_transcript
from hideki.qa.generate import generate_pairs, to_faq_csv
from knowledge.importers import read_source

MEETINGS = Path(__file__).parent / "fixtures" / "meetings"
W_RUBY, W_RT, W_BASE, W_T = qn("w:ruby"), qn("w:rt"), qn("w:rubyBase"), qn("w:t")


# ------------------------------------------------------------------ helpers


def ruby_pairs(root) -> list[tuple[str, str]]:
    """(base, reading) of every w:ruby under `root`, in document order."""
    return [("".join(t.text or "" for t in ruby.find(W_BASE).iter(W_T)),
             "".join(t.text or "" for t in ruby.find(W_RT).iter(W_T)))
            for ruby in root.iter(W_RUBY)]


def visible_text(p) -> str:
    """A paragraph's text as a reader sees it, ruby readings left out (tabs as \\t)."""
    out = []
    for element in p.iter(W_T, qn("w:tab")):
        if any(a.tag == W_RT for a in element.iterancestors()):
            continue
        out.append("\t" if element.tag == qn("w:tab") else element.text or "")
    return "".join(out)


def paragraphs(document) -> list:
    """Every w:p of the body (tables at any depth included), then of the headers and footers."""
    roots = [document.element.body]
    for section in document.sections:
        roots += [section.header._element, section.footer._element]
    return [p for root in roots for p in root.iter(qn("w:p"))]


def run_cli(*argv: str) -> int:
    return main(["furigana", *map(str, argv)])


def notice(path: Path) -> Path:
    """A notice with a heading, formatted runs (one word split over two), lists, a nested table, header, footer."""
    d = docx.Document()
    d.sections[0].header.paragraphs[0].text = "世田谷区役所　区民課"
    d.sections[0].footer.paragraphs[0].text = "問い合わせ先：市民課"
    d.add_heading("住民票の写しの申請について", level=1)
    p = d.add_paragraph("市役所の窓口で")
    split_a = p.add_run("住民")
    split_a.bold = True
    split_a.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
    split_b = p.add_run("票")
    split_b.font.size = Pt(14)
    tail = p.add_run("を申請できます。")
    tail.font.name = "Arial"
    tail.italic = True
    d.add_paragraph("本人確認書類", style="List Bullet")
    d.add_paragraph("印鑑（認印）", style="List Number")
    d.add_heading("受付時間", level=2)
    table = d.add_table(rows=2, cols=2)
    table.style = "Table Grid"
    table.cell(0, 0).text = "曜日"
    table.cell(0, 1).text = "時間"
    table.cell(1, 0).text = "平日"
    nested = table.cell(1, 1).add_table(rows=1, cols=1)
    nested.cell(0, 0).text = "午前8時30分から午後5時まで"
    d.add_paragraph("4月1日\t田中一郎さんへ")
    d.save(path)
    return path


# ------------------------------------------------------------------ Word ruby


def test_docx_gets_ruby_and_keeps_text_structure_and_formatting(tmp_path: Path, capsys) -> None:
    source = notice(tmp_path / "notice.docx")
    before = docx.Document(source)
    assert run_cli(source, "-o", tmp_path / "out.docx") == 0
    after = docx.Document(tmp_path / "out.docx")

    # the text a reader sees is unchanged, paragraph by paragraph (body, nested table, header, footer)
    assert [visible_text(p) for p in paragraphs(after)] == [visible_text(p) for p in paragraphs(before)]
    # structure: paragraph styles, tables (the nested one too), header and footer
    assert [p.style.name for p in after.paragraphs] == [p.style.name for p in before.paragraphs]
    assert "Heading 1" in [p.style.name for p in after.paragraphs]
    assert len(after.tables) == 1 and len(after.tables[0].cell(1, 1).tables) == 1
    assert after.tables[0].style.name == "Table Grid"

    pairs = ruby_pairs(after.element.body)
    assert ("市役所", "しやくしょ") in pairs
    assert ("申請", "しんせい") in pairs
    assert ("窓口", "まどぐち") in pairs
    assert ("午前", "ごぜん") in pairs  # inside the nested table
    assert ("区民課", "くみんか") in ruby_pairs(after.sections[0].header._element)
    assert ("市民課", "しみんか") in ruby_pairs(after.sections[0].footer._element)
    # every kanji of the document now sits under a ruby
    for p in paragraphs(after):
        for t in p.iter(W_T):
            if not any(a.tag == W_RUBY for a in t.iterancestors()):
                assert not any(is_kanji(ch) for ch in t.text or ""), t.text

    # the word split over two runs: one reading per piece, each piece keeps its own formatting
    assert ("住民", "じゅうみん") in pairs and ("票", "ひょう") in pairs
    body = after.element.body
    rubies = {base: ruby for ruby, (base, _) in zip(body.iter(W_RUBY), pairs)}
    base_run = rubies["住民"].find(W_BASE).find(qn("w:r"))
    assert base_run.find(qn("w:rPr")).find(qn("w:b")) is not None
    assert base_run.find(qn("w:rPr")).find(qn("w:color")).get(qn("w:val")) == "C00000"
    assert rubies["票"].find(W_BASE).find(qn("w:r")).find(qn("w:rPr")).find(qn("w:sz")).get(qn("w:val")) == "28"
    ruby_pr = rubies["票"].find(qn("w:rubyPr"))
    assert [child.tag for child in ruby_pr] == [qn(f"w:{n}") for n in ("rubyAlign", "hps", "hpsRaise", "hpsBaseText", "lid")]
    assert ruby_pr.find(qn("w:rubyAlign")).get(qn("w:val")) == "distributeSpace"
    assert ruby_pr.find(qn("w:hps")).get(qn("w:val")) == "14"          # half the 14 pt base, in half-points
    assert ruby_pr.find(qn("w:hpsBaseText")).get(qn("w:val")) == "28"
    assert ruby_pr.find(qn("w:lid")).get(qn("w:val")) == "ja-JP"
    reading_rpr = rubies["住民"].find(W_RT).find(qn("w:r")).find(qn("w:rPr"))
    assert reading_rpr.find(qn("w:color")).get(qn("w:val")) == "C00000"  # the reading keeps the colour
    # the run after the word keeps italic and its font
    italic = [r for r in after.paragraphs[1].runs if r.text.startswith("を")]
    assert italic and italic[0].italic and italic[0].font.name == "Arial"

    err = capsys.readouterr().err
    assert "ルビ" in err and "読みが推定の語" in err and "田中(たなか)" in err


def test_a_word_whose_reading_does_not_split_gets_one_ruby_over_both_runs() -> None:
    d = docx.Document()
    p = d.add_paragraph("4月1")
    p.add_run("日から").bold = True
    add_ruby(d, ReadingEngine())
    rubies = list(d.element.body.iter(W_RUBY))
    first_day = [r for r in rubies if "".join(t.text for t in r.find(W_RT).iter(W_T)) == "ついたち"]
    assert len(first_day) == 1
    base_runs = first_day[0].find(W_BASE).findall(qn("w:r"))
    assert ["".join(t.text for t in r.iter(W_T)) for r in base_runs] == ["1", "日"]
    assert base_runs[1].find(qn("w:rPr")).find(qn("w:b")) is not None
    assert visible_text(d.paragraphs[0]._p) == "4月1日から"


def test_grade_leaves_lower_grade_kanji_without_ruby(tmp_path: Path) -> None:
    source = notice(tmp_path / "notice.docx")
    assert run_cli(source, "-o", tmp_path / "out.docx", "--grade", "6") == 0
    pairs = ruby_pairs(docx.Document(tmp_path / "out.docx").element.body)
    bases = [base for base, _ in pairs]
    assert "市役所" not in bases and "窓口" not in bases   # grades 2, 3, 4, 6 only
    assert any("請" in base for base in bases)             # 請 is a secondary-school kanji
    for base in bases:
        assert any(kanji_grade(ch) > 6 for ch in base if is_kanji(ch)), base


def test_fields_text_boxes_existing_ruby_and_hyperlinks_are_left_as_they_were(tmp_path: Path, capsys) -> None:
    d = docx.Document()
    part = d.part
    r_id = part.relate_to("https://www.city.example.lg.jp/juminhyo", RT.HYPERLINK, is_external=True)
    p = d.add_paragraph("詳しくは")
    p._p.append(parse_xml(f'<w:hyperlink {nsdecls("w", "r")} r:id="{r_id}"><w:r><w:t>市のホームページ</w:t></w:r></w:hyperlink>'))
    p._p.append(parse_xml(f'<w:fldSimple {nsdecls("w")} w:instr="DATE"><w:r><w:t>令和7年4月1日</w:t></w:r></w:fldSimple>'))
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "二頁"), ("end", None)):
        inner = f'<w:fldChar w:fldCharType="{kind}"/>' if kind else (
            f'<w:instrText xml:space="preserve">{text}</w:instrText>' if text.startswith(" ") else f"<w:t>{text}</w:t>")
        p._p.append(parse_xml(f'<w:r {nsdecls("w")}>{inner}</w:r>'))
    p._p.append(parse_xml(
        f'<w:r {nsdecls("w")}><w:ruby><w:rubyPr><w:hps w:val="10"/></w:rubyPr><w:rt><w:r><w:t>きぞん</w:t></w:r></w:rt>'
        f'<w:rubyBase><w:r><w:t>既存</w:t></w:r></w:rubyBase></w:ruby></w:r>'))
    box = ('<w:txbxContent><w:p><w:r><w:t>箱の中の漢字</w:t></w:r></w:p></w:txbxContent>')
    p._p.append(parse_xml(
        f'<w:r {nsdecls("w")} xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
        f'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" xmlns:v="urn:schemas-microsoft-com:vml">'
        f'<mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wps:txbx>{box}</wps:txbx></w:drawing></mc:Choice>'
        f'<mc:Fallback><w:pict><v:textbox>{box}</v:textbox></w:pict></mc:Fallback></mc:AlternateContent></w:r>'))
    p.add_run("を見てください。")
    d.save(tmp_path / "in.docx")

    assert run_cli(tmp_path / "in.docx", "-o", tmp_path / "out.docx") == 0
    err = capsys.readouterr().err
    assert "そのままにしました" in err and "フィールド 2 個" in err and "テキストボックス 1 個" in err and "既存のルビ 1 個" in err

    out = docx.Document(tmp_path / "out.docx")
    body = out.element.body
    pairs = ruby_pairs(body)
    assert ("既存", "きぞん") in pairs and ("詳", "くわ") in pairs and ("見", "み") in pairs
    assert ("市", "し") in pairs  # the link text gets ruby; its target stays
    link = body.find(f".//{qn('w:hyperlink')}")
    assert link.get(qn("r:id")) == r_id
    assert out.part.rels[r_id].target_ref == "https://www.city.example.lg.jp/juminhyo"
    assert not list(body.find(f".//{qn('w:fldSimple')}").iter(W_RUBY))
    bases = [base for base, _ in pairs]
    assert "二頁" not in bases and "頁" not in bases and "令和" not in bases
    for box_content in body.iter(qn("w:txbxContent")):
        assert not list(box_content.iter(W_RUBY))
    assert visible_text(out.paragraphs[0]._p) == visible_text(docx.Document(tmp_path / "in.docx").paragraphs[0]._p)


def test_admin_dictionaries_are_used_and_their_words_are_not_guesses(tmp_path: Path, monkeypatch, capsys) -> None:
    (tmp_path / "data" / "dictionaries").mkdir(parents=True)
    (tmp_path / "data" / "dictionaries" / "readings_city.tsv").write_text("檜原\tひのはら\t村の名前\n", encoding="utf-8")
    monkeypatch.setenv("HIDEKI_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "in.txt").write_text("檜原に住む方へ\n", encoding="utf-8")
    assert run_cli(tmp_path / "in.txt", "-o", tmp_path / "out.docx") == 0
    assert ("檜原", "ひのはら") in ruby_pairs(docx.Document(tmp_path / "out.docx").element.body)
    assert "檜原" not in capsys.readouterr().err.split("読みが推定の語")[-1]


def test_markdown_to_word_and_html(tmp_path: Path) -> None:
    (tmp_path / "in.md").write_text(
        "# 粗大ごみの出し方\n\n**事前**に申し込みが必要です。\n\n- 手数料は400円\n- 収集日の朝\n\n1. 申し込む\n\n"
        "| 品目 | 手数料 |\n|---|---|\n| 自転車 | 400円 |\n", encoding="utf-8")
    assert run_cli(tmp_path / "in.md", "-o", tmp_path / "out.docx") == 0
    out = docx.Document(tmp_path / "out.docx")
    assert [p.style.name for p in out.paragraphs] == ["Heading 1", "Normal", "List Bullet", "List Bullet", "List Number"]
    assert [visible_text(p._p) for p in out.paragraphs][:2] == ["粗大ごみの出し方", "事前に申し込みが必要です。"]
    assert [visible_text(c._tc) for c in out.tables[0].rows[1].cells] == ["自転車", "400円"]
    assert ("事前", "じぜん") in ruby_pairs(out.element.body)
    bold_base = next(r for r in out.element.body.iter(W_RUBY) if ruby_pairs(r)[0][0] == "事前").find(W_BASE)
    assert bold_base.find(f".//{qn('w:b')}") is not None

    assert run_cli(tmp_path / "in.md", "-o", tmp_path / "out.html") == 0
    page = (tmp_path / "out.html").read_text(encoding="utf-8")
    assert "<h1><ruby>粗大<rt>そだい</rt></ruby>ごみの<ruby>出<rt>だ</rt></ruby>し<ruby>方<rt>かた</rt></ruby></h1>" in page
    assert "<ul>" in page and "<ol>" in page and "<table>" in page and "<strong>" in page


def test_text_and_word_to_html(tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_text("住民票の申請\n\n市役所で受け付けます。\n", encoding="cp932")
    assert run_cli(tmp_path / "in.txt", "-o", tmp_path / "out.html") == 0
    page = (tmp_path / "out.html").read_text(encoding="utf-8")
    assert "<p><ruby>市役所<rt>しやくしょ</rt></ruby>で" in page
    source = notice(tmp_path / "notice.docx")
    assert run_cli(source, "-o", tmp_path / "notice.html") == 0
    page = (tmp_path / "notice.html").read_text(encoding="utf-8")
    assert page.count("<h1>") == 1 and "<h2>" in page and "<ul>" in page and "<table>" in page


def test_ruby_spans_match_the_chat_rendering() -> None:
    engine = ReadingEngine()
    text = "<b>市役所</b> & 読み込む、4月1日"
    spans = ruby_spans(text, engine)
    assert [(text[s.start:s.end], s.reading) for s in spans] == [
        ("市役所", "しやくしょ"), ("読", "よ"), ("込", "こ"), ("4月", "しがつ"), ("1日", "ついたち")]


# ------------------------------------------------------------------ bad input


def _ole(extra: bytes = b"") -> bytes:
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + extra


def _zip(members: dict[str, bytes]) -> bytes:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


_TYPES = (b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          b'<Override PartName="/word/document.xml" ContentType="%s"/></Types>')
_MAIN = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_MACRO = b"application/vnd.ms-word.document.macroEnabled.main+xml"


@pytest.mark.parametrize("name, data, message", [
    ("locked.docx", _ole("EncryptionInfo".encode("utf-16-le")), "パスワードで保護"),
    ("old.docx", _ole(), "古い形式"),
    ("old.doc", _ole(), "古い形式"),
    ("text.docx", "これは Word 文書ではありません".encode(), "壊れているか"),
    ("empty-zip.docx", _zip({"hello.txt": b"x"}), "壊れているか"),
    ("broken-xml.docx", _zip({"[Content_Types].xml": _TYPES % _MAIN, "word/document.xml": b"<w:document><unclosed"}), "壊れているか"),
    ("macro.docm", _zip({"[Content_Types].xml": _TYPES % _MACRO, "word/document.xml": b"<x/>"}), "マクロ"),
    ("renamed-macro.docx", _zip({"[Content_Types].xml": _TYPES % _MACRO, "word/document.xml": b"<x/>"}), "マクロ"),
    ("empty.docx", b"", "空です"),
    ("slides.pptx", b"PK", "対応していません"),
])
def test_bad_input_is_refused_with_a_japanese_message_and_no_output(tmp_path: Path, capsys, name, data, message) -> None:
    (tmp_path / name).write_bytes(data)
    target = tmp_path / "out.docx"
    target.write_bytes(b"the previous good file")
    assert run_cli(tmp_path / name, "-o", target) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert target.read_bytes() == b"the previous good file"        # never a broken or clobbered output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, "out.docx"])  # no temp file left


def test_a_100_mb_file_is_refused_before_it_is_read(tmp_path: Path, capsys, monkeypatch) -> None:
    big = tmp_path / "big.docx"
    with big.open("wb") as f:
        f.truncate(100 * 1024 * 1024)  # sparse: costs no disk
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("the file was read"))
    assert run_cli(big, "-o", tmp_path / "out.docx") == 2
    assert "大きすぎます（100 MB）" in capsys.readouterr().err
    assert not (tmp_path / "out.docx").exists()


def test_a_zip_bomb_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _TYPES % _MAIN)
        archive.writestr("word/document.xml", b"\x00" * (600 * 1024 * 1024))
    with pytest.raises(DocumentError, match="展開後の大きさ"):
        check_input(path)


def test_pdf_without_a_text_layer_says_ocr_is_not_available_and_pdf_output_is_refused(tmp_path: Path, capsys) -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    with (tmp_path / "scan.pdf").open("wb") as f:
        writer.write(f)
    assert run_cli(tmp_path / "scan.pdf", "-o", tmp_path / "out.docx") == 2
    assert "OCR" in capsys.readouterr().err
    (tmp_path / "in.txt").write_text("漢字", encoding="utf-8")
    assert run_cli(tmp_path / "in.txt", "-o", tmp_path / "out.pdf") == 2
    assert "PDF での出力には対応していません" in capsys.readouterr().err
    assert not (tmp_path / "out.docx").exists() and not (tmp_path / "out.pdf").exists()


def test_input_and_output_go_together(capsys) -> None:
    assert main(["furigana", "-o", "x.docx"]) == 2
    assert "一緒に指定" in capsys.readouterr().err


def test_a_failing_write_leaves_no_file(tmp_path: Path) -> None:
    def broken(f) -> None:
        f.write(b"half a document")
        raise OSError("disk full")

    with pytest.raises(OSError):
        write_atomically(tmp_path / "out.docx", broken)
    assert list(tmp_path.iterdir()) == []


def test_5000_tables_fields_and_text_boxes(tmp_path: Path, capsys) -> None:
    d = docx.Document()
    table = d.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "申請書"
    table.cell(0, 1).text = "窓口"
    body = d.element.body
    template = table._tbl
    for _ in range(4999):
        body.append(etree.fromstring(etree.tostring(template)))
        body.append(parse_xml(f'<w:p {nsdecls("w")}><w:fldSimple w:instr="PAGE"><w:r><w:t>一</w:t></w:r></w:fldSimple></w:p>'))
    body.append(body.find(qn("w:sectPr")))  # sectPr stays last
    d.save(tmp_path / "tables.docx")
    assert run_cli(tmp_path / "tables.docx", "-o", tmp_path / "out.docx") == 0
    assert "フィールド 4999 個" in capsys.readouterr().err
    out = docx.Document(tmp_path / "out.docx")
    assert len(out.tables) == 5000
    assert ruby_pairs(out.element.body).count(("申請書", "しんせいしょ")) == 5000


# ------------------------------------------------------------------ rendering


def test_word_ruby_renders_with_libreoffice(tmp_path: Path) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed: apt-get install libreoffice-writer-nogui to run this")
    from pypdf import PdfReader

    source = notice(tmp_path / "notice.docx")
    assert run_cli(source, "-o", tmp_path / "ruby.docx") == 0
    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(tmp_path / "ruby.docx")],
                   check=True, capture_output=True, timeout=180)
    reader = PdfReader(tmp_path / "ruby.pdf")
    assert len(reader.pages) >= 1
    text = "".join(page.extract_text() or "" for page in reader.pages)
    assert "しやくしょ" in text.replace(" ", "") or "市役所" in text


# ------------------------------------------------------------------ minutes as Word, Q&A as Excel


def test_minutes_as_word_in_the_template_order_with_sources(tmp_path: Path) -> None:
    path = MEETINGS / "01_bousai.vtt"
    minutes = extract_minutes(parse_transcript(path.read_bytes(), path.name), dt.date(2025, 4, 8))
    assert minutes.todos and minutes.decisions
    write_minutes_docx(minutes, tmp_path / "minutes.docx")
    out = docx.Document(tmp_path / "minutes.docx")
    headings = [p.text for p in out.paragraphs if p.style.name.startswith("Heading")]
    assert headings == ["議題", "要旨", "決定事項", "ToDo", "次回", "保留"]
    facts, todos = out.tables
    assert [row.cells[0].text for row in facts.rows] == ["会議名", "日時", "出席者"]
    assert facts.rows[2].cells[1].text == "、".join(minutes.attendees)
    assert tuple(c.text for c in todos.rows[0].cells) == TODO_HEADER
    assert len(todos.rows) == len(minutes.todos) + 1
    for row, todo in zip(todos.rows[1:], minutes.todos):
        owner, task, due, source = (c.text for c in row.cells)
        assert (owner, task) == (todo.owner or "未定", todo.task)
        assert todo.speaker in source and f"{todo.line}行目" in source
    texts = [p.text for p in out.paragraphs]
    for decision in minutes.decisions:
        line = next(t for t in texts if t.startswith(decision.text))
        assert decision.speaker in line and f"{decision.line}行目" in line


def test_qa_as_excel_round_trips_through_the_faq_import(tmp_path: Path) -> None:
    text = ("粗大ごみの出し方\n\n粗大ごみは、事前に申し込みが必要です。\n受付時間は午前8時30分から午後5時までです。\n"
            "手数料は1点につき400円です。\n問い合わせ：粗大ごみ受付センター　電話 0120-123-456\n")
    pairs = generate_pairs(text, 5)
    assert len(pairs) >= 3
    write_qa_xlsx(pairs, tmp_path / "faq.xlsx", source_name="sodai.txt", category="ごみ")
    sheet = load_workbook(tmp_path / "faq.xlsx").active
    assert [c.value for c in sheet[1]][-1] == EVIDENCE_HEADER
    assert sheet.freeze_panes == "A2"

    result = read_source(tmp_path / "faq.xlsx")
    assert not [p for p in result.problems if p.severity == "error"], result.problems
    assert [(e.question, e.answer, e.category) for e in result.entries] == [(p.question, p.answer, "ごみ") for p in pairs]
    csv_ids = [line.split(",")[0] for line in to_faq_csv(pairs, "sodai.txt", "ごみ").splitlines()[1:]]
    assert [e.id for e in result.entries] == csv_ids
    assert all(e.updated == dt.date.today().isoformat() for e in result.entries)
