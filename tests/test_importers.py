"""FAQ importers: real files of every supported format, built in tmp_path, and every kind of bad file."""
from __future__ import annotations

import datetime as dt
import io
import os
from pathlib import Path

import pytest

from knowledge.entries import ImportResult, stable_id
from knowledge.importers import chunk_text, normalize_date, read_source, split_keywords, validation_report

CSV_ROWS = [
    ["質問", "回答", "カテゴリ", "キーワード", "URL", "更新日"],
    ["パスワードを忘れました", "サービスデスク（内線1234）に連絡してください。", "アカウント", "パスワード、リセット／ログイン", "https://intra.example/pw", "2025/4/1"],
    ["VPNにつながらない", "", "ネットワーク", "VPN", "", ""],
    ["パスワードを 忘れました", "重複した行です。", "", "", "", ""],
    ["プリンタが動かない", "電源を入れ直してください。", "機器", "プリンタ 印刷", "", "令和7年4月3日"],
]


def _csv_bytes(rows: list[list[str]], encoding: str) -> bytes:
    text = "\r\n".join(",".join(f'"{cell}"' for cell in row) for row in rows) + "\r\n"
    return text.encode(encoding)


def _errors(result: ImportResult) -> list[str]:
    return [f"{p.location} {p.message}" for p in result.problems if p.severity == "error"]


def _warnings(result: ImportResult) -> list[str]:
    return [f"{p.location} {p.message}" for p in result.problems if p.severity == "warning"]


def _only_problem(result: ImportResult) -> str:
    assert result.entries == []
    assert len(result.problems) == 1, result.problems
    return result.problems[0].message


# --------------------------------------------------------------------------- CSV

@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "cp932", "utf-16"])
def test_csv_in_every_encoding(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "faq.csv"
    path.write_bytes(_csv_bytes(CSV_ROWS, encoding))
    result = read_source(path)
    assert [e.question for e in result.entries] == ["パスワードを忘れました", "プリンタが動かない"]
    first, second = result.entries
    assert first.answer == "サービスデスク（内線1234）に連絡してください。"
    assert first.category == "アカウント"
    assert first.keywords == ("パスワード", "リセット", "ログイン")
    assert first.url == "https://intra.example/pw"
    assert first.updated == "2025-04-01"
    assert first.source == "faq.csv" and first.location == "行 2"
    assert first.id == stable_id("faq.csv", "パスワードを忘れました")
    assert second.updated == "2025-04-03" and second.keywords == ("プリンタ", "印刷")
    assert _errors(result) == ["行 3 回答が空のため、この行は取り込みませんでした。"]
    assert _warnings(result) == ["行 4 質問が 行 2 と重複しています。行 2 を取り込み、行 4 は取り込みませんでした。"]


def test_csv_duplicate_question_names_both_rows(tmp_path: Path) -> None:
    rows = [["question", "answer"], ["VPNにつながらない", "再起動"], ["ＶＰＮ に つながらない", "重複"]]
    result = read_source(data=_csv_bytes(rows, "utf-8"), name="faq.csv")
    assert [e.answer for e in result.entries] == ["再起動"]
    (warning,) = result.problems
    assert warning.severity == "warning" and warning.location == "行 3"
    assert "行 2" in warning.message and "行 3" in warning.message


def test_csv_english_headers_id_column_and_tabs() -> None:
    text = "ID\tQ\tA\ttags\tupdated\nFAQ-7\tHow do I reset?\tCall us.\tpw; reset\t2025-04-01\n"
    result = read_source(data=text.encode("utf-16"), name="faq.csv")
    (entry,) = result.entries
    assert entry.id == "FAQ-7" and entry.question == "How do I reset?" and entry.keywords == ("pw", "reset")
    assert result.problems == []


def test_csv_missing_answer_column_is_one_problem() -> None:
    rows = [["質問", "カテゴリ"], ["パスワード", "アカウント"]]
    message = _only_problem(read_source(data=_csv_bytes(rows, "utf-8"), name="faq.csv"))
    assert "「回答」" in message and "見出し" in message


def test_csv_with_only_a_header() -> None:
    assert "取り込める項目がありませんでした" in _only_problem(read_source(data="質問,回答\n,\n".encode(), name="faq.csv"))


def test_csv_bad_date_is_a_warning_and_the_row_is_kept() -> None:
    rows = [["質問", "回答", "更新日"], ["Q", "A", "そのうち"]]
    result = read_source(data=_csv_bytes(rows, "utf-8"), name="faq.csv")
    assert len(result.entries) == 1 and result.entries[0].updated == ""
    assert result.problems[0].severity == "warning" and "そのうち" in result.problems[0].message


def test_csv_multiline_cell_counts_as_one_excel_row() -> None:
    text = '質問,回答\n"印刷","用紙を確認。\n次に再起動。"\n"スキャン",\n'
    result = read_source(data=text.encode(), name="faq.csv")
    assert result.entries[0].answer == "用紙を確認。\n次に再起動。"
    assert _errors(result)[0].startswith("行 3 ")


# --------------------------------------------------------------------------- Excel

def _workbook(tmp_path: Path) -> Path:
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["A1"] = "サービスデスク FAQ（2025年度）"
    sheet.append([])
    sheet.append(["番号", "問い", "答え", "分類", "タグ", "リンク", "最終更新"])
    sheet.append([101, "Teams に入れない", "アプリを再起動してください。", "Teams", "Teams,ログイン", "https://x", dt.datetime(2025, 4, 1)])
    sheet.append([102, "共有フォルダが見えない", None, "ファイル", None, None, None])
    sheet.append([103, "Teams  に入れない", "重複です。", None, None, None, None])
    sheet.append([None, None, None, None, None, None, None])
    sheet.append([None, "メールの容量", "1 GB です。", "メール", None, None, "2025年5月1日"])
    path = tmp_path / "faq.xlsx"
    workbook.save(path)
    return path


def test_xlsx_header_on_row_3_dates_empty_answer_and_duplicate(tmp_path: Path) -> None:
    result = read_source(_workbook(tmp_path))
    assert [e.question for e in result.entries] == ["Teams に入れない", "メールの容量"]
    teams, mail = result.entries
    assert teams.id == "101" and teams.updated == "2025-04-01" and teams.keywords == ("Teams", "ログイン")
    assert teams.location == "行 4" and teams.category == "Teams" and teams.url == "https://x"
    assert mail.id == stable_id("faq.xlsx", "メールの容量") and mail.updated == "2025-05-01"
    assert mail.location == "行 8"
    assert _errors(result) == ["行 5 回答が空のため、この行は取り込みませんでした。"]
    (warning,) = _warnings(result)
    assert warning.startswith("行 6 ") and "行 4" in warning


def test_xlsx_from_teams_bytes(tmp_path: Path) -> None:
    data = _workbook(tmp_path).read_bytes()
    result = read_source(data=data, name="FAQ.XLSX")
    assert len(result.entries) == 2 and result.entries[0].source == "FAQ.XLSX"


def test_xlsx_without_question_column(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.Workbook()
    workbook.active.append(["回答", "カテゴリ"])
    workbook.active.append(["はい", "その他"])
    path = tmp_path / "faq.xlsx"
    workbook.save(path)
    assert "「質問」" in _only_problem(read_source(path))


def test_xlsx_several_sheets_and_an_empty_workbook(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.Workbook()
    workbook.active.title = "アカウント"
    workbook.active.append(["質問", "回答"])
    workbook.active.append(["パスワード", "窓口へ。"])
    notes = workbook.create_sheet("メモ")
    notes.append(["作業メモ"])
    network = workbook.create_sheet("ネットワーク")
    network.append(["質問", "回答"])
    network.append(["VPN", "再起動。"])
    network.append(["パスワード", "重複。"])
    path = tmp_path / "faq.xlsx"
    workbook.save(path)
    result = read_source(path)
    assert [e.location for e in result.entries] == ["シート「アカウント」行 2", "シート「ネットワーク」行 2"]
    assert [(p.location, p.severity) for p in result.problems] == [
        ("シート「ネットワーク」行 3", "warning"), ("シート「メモ」", "warning")]
    assert "シート「アカウント」行 2" in result.problems[0].message

    empty = tmp_path / "empty.xlsx"
    openpyxl.Workbook().save(empty)
    assert "データがありません" in _only_problem(read_source(empty))


def test_encrypted_office_file_fake_ole(tmp_path: Path) -> None:
    # What Office writes for a password-protected file: an OLE compound file with an EncryptionInfo stream.
    fake = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + "EncryptionInfo".encode("utf-16-le") + os.urandom(1000)
    for name in ("faq.xlsx", "manual.docx"):
        assert "パスワードで保護されているため読めません" in _only_problem(read_source(data=fake, name=name))


def test_encrypted_xlsx_real(tmp_path: Path) -> None:
    msoffcrypto = pytest.importorskip("msoffcrypto")
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = io.BytesIO(_workbook(tmp_path).read_bytes())
    encrypted = io.BytesIO()
    OOXMLFile(plain).encrypt("secret", encrypted)
    assert msoffcrypto  # imported for the skip
    assert "パスワード" in _only_problem(read_source(data=encrypted.getvalue(), name="faq.xlsx"))


def test_old_xls_format_renamed_to_xlsx() -> None:
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2000)
    assert "古い形式" in _only_problem(read_source(data=data, name="faq.xlsx"))


@pytest.mark.parametrize("name", ["faq.xlsx", "manual.docx"])
def test_corrupt_office_file(name: str) -> None:
    message = _only_problem(read_source(data=os.urandom(4096), name=name))
    assert "壊れている" in message


def test_zip_that_is_not_a_workbook() -> None:
    buffer = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    message = _only_problem(read_source(data=buffer.getvalue(), name="faq.xlsx"))
    assert "読み込めませんでした" in message


# --------------------------------------------------------------------------- Markdown and text

def test_markdown_one_entry_per_heading(tmp_path: Path) -> None:
    path = tmp_path / "faq.md"
    path.write_text(
        "# サービスデスク FAQ\n\n## VPN\n\n### つながらない\n\n端末を再起動してください。\n\n"
        "```\n# これはコード\n```\n\n### 遅い\n\n有線 LAN を使ってください。\n\n## 空の見出し\n",
        encoding="utf-8",
    )
    result = read_source(path)
    assert [e.question for e in result.entries] == ["つながらない", "遅い"]
    first = result.entries[0]
    assert first.answer.startswith("端末を再起動してください。") and "# これはコード" in first.answer
    assert first.category == "VPN" and first.location == "見出し「つながらない」（行 5）"
    assert _errors(result) == ["見出し「空の見出し」（行 17） 本文が空のため取り込みませんでした。"]


def test_markdown_without_headings() -> None:
    assert "見出し" in _only_problem(read_source(data="ただの文章です。".encode(), name="faq.md"))


def test_txt_qa_pairs_and_marks(tmp_path: Path) -> None:
    path = tmp_path / "faq.txt"
    text = ("【アカウント】\n"
            "Q: パスワードを忘れました\nA: サービスデスクに連絡してください。\n本人確認があります。\n\n"
            "質問：印刷できない\n回答：プリンタを再起動してください。\n\n"
            "■ 共有フォルダ\nエクスプローラーから開いてください。\n\n"
            "Ｑ．回答のない質問\n")
    path.write_bytes(text.encode("cp932"))
    result = read_source(path)
    assert [(e.question, e.category) for e in result.entries] == [
        ("パスワードを忘れました", "アカウント"), ("印刷できない", "アカウント"), ("共有フォルダ", "アカウント")]
    assert result.entries[0].answer == "サービスデスクに連絡してください。\n本人確認があります。"
    assert result.entries[1].location == "見出し「印刷できない」（行 6）"
    (error,) = _errors(result)
    assert "回答のない質問" in error and "回答が空" in error


# --------------------------------------------------------------------------- Word, HTML, PDF

LONG_SECTION = "職員番号とパスワードでログインします。" * 40  # 760 characters, 40 sentences


def test_docx_chunks_follow_headings(tmp_path: Path) -> None:
    docx = pytest.importorskip("docx")
    document = docx.Document()
    document.add_paragraph("この手引きは職員向けです。")
    document.add_heading("第1章 ログイン", level=1)
    document.add_heading("1.1 初回ログイン", level=2)
    document.add_paragraph(LONG_SECTION)
    document.add_heading("1.2 パスワード変更", level=2)
    document.add_paragraph("設定画面から変更します。")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "有効期限"
    table.cell(0, 1).text = "90日"
    path = tmp_path / "manual.docx"
    document.save(path)
    result = read_source(path)
    assert result.problems == []
    questions = [e.question for e in result.entries]
    assert questions[0] == "この手引きは職員向けです。"
    assert questions[1:] == ["1.1 初回ログイン", "1.1 初回ログイン", "1.2 パスワード変更"]
    login = [e for e in result.entries if e.question == "1.1 初回ログイン"]
    assert "".join(e.answer for e in login) == LONG_SECTION
    assert all(300 <= len(e.answer) <= 600 and e.answer.endswith("。") for e in login)
    assert login[0].location == "見出し「1.1 初回ログイン」" and login[0].category == "第1章 ログイン"
    assert "有効期限 / 90日" in result.entries[-1].answer
    assert len({e.id for e in result.entries}) == len(result.entries)


def test_html_headings(tmp_path: Path) -> None:
    path = tmp_path / "manual.html"
    path.write_text(
        "<html><head><title>手引き</title><style>p{}</style></head><body>"
        "<nav>メニュー</nav><h1>Teams の使い方</h1><h2>会議に参加する</h2>"
        "<p>予定表から参加します。</p><ul><li>カメラを確認します。</li><li>マイクを確認します。</li></ul>"
        "<h2>チャット</h2><div><p>@ で相手を呼べます。</p></div><script>var x = 1;</script></body></html>",
        encoding="utf-8",
    )
    result = read_source(path)
    assert result.problems == []
    assert [e.question for e in result.entries] == ["会議に参加する", "チャット"]
    meeting = result.entries[0]
    assert meeting.answer == "予定表から参加します。\nカメラを確認します。\nマイクを確認します。"
    assert meeting.location == "見出し「会議に参加する」" and meeting.category == "Teams の使い方"
    assert "メニュー" not in meeting.answer and "var x" not in result.entries[1].answer


def test_html_in_shift_jis_with_cp932_characters() -> None:
    html = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS"></head>' \
           "<body><h2>申請～手続き①</h2><p>㈱の窓口で申請します。</p></body></html>"
    result = read_source(data=html.encode("cp932"), name="manual.htm")
    assert [(e.question, e.answer) for e in result.entries] == [("申請～手続き①", "㈱の窓口で申請します。")]


def _pdf(pages: list[str]) -> bytes:
    """A minimal PDF pypdf can extract text from: a Type0 font whose codes are UTF-16 units, identity ToUnicode."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    cmap = (b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /U def "
            b"1 begincodespacerange <0000> <FFFF> endcodespacerange "
            b"1 beginbfrange <0000> <FFFF> <0000> endbfrange endcmap CMapName currentdict /CMap defineresource pop end end")
    to_unicode = add(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(cmap), cmap))
    cid_font = add(b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /HeiseiMin-W3 "
                   b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 1000 >>")
    font = add(b"<< /Type /Font /Subtype /Type0 /BaseFont /HeiseiMin-W3 /Encoding /Identity-H "
               b"/DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>" % (cid_font, to_unicode))
    pages_id = len(objects) + 2 * len(pages) + 1
    kids = []
    for text in pages:
        lines = [b"<%s> Tj T*" % line.encode("utf-16-be").hex().encode() for line in text.split("\n")]
        stream = b"BT /F1 10 Tf 20 800 Td 12 TL\n" + b"\n".join(lines) + b"\nET"
        content = add(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        kids.append(add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
                        b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (pages_id, content, font)))
    add(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids)))
    catalog = add(b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id)
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, catalog, xref)
    return bytes(out)


def test_pdf_pages_and_wrapped_lines(tmp_path: Path) -> None:
    pytest.importorskip("pypdf")
    path = tmp_path / "manual.pdf"
    path.write_bytes(_pdf(["VPN の接続方法\n端末を再起動してください。それでもつながらない場\n合は、連絡してください。",
                           "サービスデスクの受付は平日 9 時から 17 時です。"]))
    result = read_source(path)
    assert result.problems == []
    first, second = result.entries
    assert first.location == "p. 1" and second.location == "p. 2"
    assert "それでもつながらない場合は、連絡してください。" in first.answer  # the wrapped line is rejoined
    assert first.question == "VPN の接続方法"
    assert second.question == second.answer == "サービスデスクの受付は平日 9 時から 17 時です。"


def test_encrypted_pdf(tmp_path: Path) -> None:
    pypdf = pytest.importorskip("pypdf")
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(_pdf(["秘密の手引きです。"]))))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    assert "パスワードで保護されているため読めません" in _only_problem(read_source(data=buffer.getvalue(), name="m.pdf"))


def test_pdf_with_owner_password_only_is_read(tmp_path: Path) -> None:
    pypdf = pytest.importorskip("pypdf")
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(_pdf(["印刷だけ禁止の手引きです。"]))))
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    result = read_source(data=buffer.getvalue(), name="m.pdf")
    assert [e.answer for e in result.entries] == ["印刷だけ禁止の手引きです。"]


@pytest.mark.parametrize("data", [b"not a pdf at all" * 10, b"%PDF-1.4\n" + bytes(range(256)) * 4])
def test_corrupt_pdf(data: bytes) -> None:
    message = _only_problem(read_source(data=data, name="manual.pdf"))
    assert "PDF" in message


def test_pdf_without_text() -> None:
    message = _only_problem(read_source(data=_pdf([""]), name="scan.pdf"))
    assert "スキャン" in message


# --------------------------------------------------------------------------- file-level problems

def test_unsupported_extension_lists_formats() -> None:
    message = _only_problem(read_source(data=b"PK\x03\x04 slides", name="slides.pptx"))
    assert ".pptx" in message and ".xlsx" in message and ".csv" in message and ".pdf" in message


def test_old_excel_extension_suggests_xlsx() -> None:
    assert ".xlsx" in _only_problem(read_source(data=b"\xd0\xcf\x11\xe0", name="faq.xls"))


def test_file_over_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_bytes(b"a" * 3 * 1024 * 1024)
    assert "上限は 2 MB" in _only_problem(read_source(path, max_bytes=2 * 1024 * 1024))
    assert "上限は 1 MB" in _only_problem(read_source(data=b"x" * (1024 * 1024 + 1), name="a.md", max_bytes=1024 * 1024))


@pytest.mark.parametrize("name", ["faq.csv", "faq.xlsx", "faq.md", "manual.pdf"])
def test_empty_file(name: str) -> None:
    assert "空" in _only_problem(read_source(data=b"", name=name))


def test_missing_file_and_no_input(tmp_path: Path) -> None:
    assert "見つかりません" in _only_problem(read_source(tmp_path / "none.csv"))
    assert "指定されていません" in _only_problem(read_source())


def test_undecodable_text() -> None:
    data = bytes(range(0x80, 0x100)) * 40
    result = read_source(data=data, name="faq.csv")
    assert result.entries == [] and result.problems


# --------------------------------------------------------------------------- helpers and report

@pytest.mark.parametrize("value, expected", [
    ("2025/4/1", "2025-04-01"), ("2025-04-01", "2025-04-01"), ("2025年4月1日", "2025-04-01"),
    ("２０２５年４月１日（火）", "2025-04-01"), ("令和7年4月1日", "2025-04-01"), ("令和元年5月1日", "2019-05-01"),
    (dt.datetime(2025, 4, 1, 9, 30), "2025-04-01"), (dt.date(2025, 4, 1), "2025-04-01"), (45748, "2025-04-01"),
    ("2025/4/1 10:00", "2025-04-01"), ("", ""), (None, ""), ("2025/2/30", None), ("来月", None),
])
def test_normalize_date(value: object, expected: str | None) -> None:
    assert normalize_date(value) == expected


def test_split_keywords() -> None:
    assert split_keywords("VPN、リモート,在宅;テレワーク／自宅/外出 出張　VPN") == (
        "VPN", "リモート", "在宅", "テレワーク", "自宅", "外出", "出張")


def test_chunks_keep_sentences_whole() -> None:
    sentences = [f"これは{i}番目の文で、内容を説明しています。" for i in range(60)]
    chunks = chunk_text(["".join(sentences)])
    assert "".join(chunks) == "".join(sentences)
    assert all(300 <= len(chunk) <= 600 for chunk in chunks[:-1])
    for chunk in chunks:
        assert chunk.startswith("これは") and chunk.endswith("。")


def test_a_sentence_longer_than_a_chunk_is_cut_at_commas() -> None:
    chunks = chunk_text(["、".join(["長い説明が続きます"] * 150)])
    assert all(len(chunk) <= 600 for chunk in chunks) and len(chunks) > 1


def test_validation_report(tmp_path: Path) -> None:
    path = tmp_path / "faq.csv"
    path.write_bytes(_csv_bytes(CSV_ROWS, "utf-8"))
    report = validation_report(read_source(path))
    assert "取り込んだ項目: 2 件" in report and "エラー: 1 件" in report and "警告: 1 件" in report
    assert "[エラー] faq.csv 行 3: 回答が空" in report
    assert "[警告] faq.csv 行 4:" in report
    assert "問題は見つかりませんでした" in validation_report(ImportResult())
