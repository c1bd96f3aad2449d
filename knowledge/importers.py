"""Read FAQ sources (CSV, Excel, Markdown, text, Word, PDF, HTML) into FAQ entries.

    result = read_source(Path("faq.xlsx"))
    result = read_source(data=upload_bytes, name="faq.csv")   # a file received from Teams
    print(validation_report(result))

Nothing raises for a bad file: every trouble becomes a Problem (in Japanese, for admins)
and the good rows are still imported.

`document_text(data, name)` gives the plain text of the same formats (paragraphs, table rows as
「セル / セル」 lines), for pipelines that take a file as their input.
"""
from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import io
import math
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hideki.japanese.eras import convert_eras
from hideki.japanese.sentences import split_sentences
from knowledge.entries import Entry, ImportResult, Problem, stable_id

MAX_BYTES = 50 * 1024 * 1024
HEADER_SEARCH_ROWS = 10
CHUNK_MAX = 600  # characters of one manual chunk at most

FORMATS = {
    ".csv": "CSV", ".xlsx": "Excel", ".md": "Markdown", ".txt": "テキスト",
    ".docx": "Word", ".pdf": "PDF", ".html": "HTML", ".htm": "HTML",
}
SUPPORTED_TEXT = "CSV（.csv）、Excel（.xlsx）、Markdown（.md）、テキスト（.txt）、Word（.docx）、PDF（.pdf）、HTML（.html / .htm）"
_OLD_FORMATS = {".xls": ".xlsx", ".doc": ".docx", ".xlsm": ".xlsx", ".docm": ".docx"}

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OLE_ENCRYPTION = "EncryptionInfo".encode("utf-16-le")
_PASSWORD = "パスワードで保護されているため読めません。保護を外してから、もう一度取り込んでください。"


# --------------------------------------------------------------------------- entry point

def read_source(path: Path | None = None, *, data: bytes | None = None, name: str | None = None,
                max_bytes: int = MAX_BYTES) -> ImportResult:
    """Entries and problems of one FAQ source, from a file path or from bytes plus the file name."""
    source = _base_name(name or (str(path) if path is not None else ""))
    result = ImportResult()

    def fail(message: str) -> ImportResult:
        result.problems.append(Problem(source, "", message))
        return result

    if path is None and data is None:
        return fail("取り込むファイルが指定されていません。")
    ext = Path(source).suffix.lower()
    if ext not in FORMATS:
        return fail(_unsupported_message(ext))
    if data is None:
        try:
            size = Path(path).stat().st_size
            if size > max_bytes:
                return fail(_too_large_message(size, max_bytes))
            data = Path(path).read_bytes()
        except FileNotFoundError:
            return fail("ファイルが見つかりません。")
        except OSError:
            return fail("ファイルを開けませんでした。ほかのプログラムで開いていないか、権限があるかを確認してください。")
    if len(data) > max_bytes:
        return fail(_too_large_message(len(data), max_bytes))
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        return fail("ファイルが空です。内容を確認してください。")
    try:
        _READERS[ext](data, source, result, max_bytes)
    except Exception:  # a last safety net: a parser library failing on an odd file must not crash the import
        result.problems.append(Problem(source, "", f"ファイルを読み込めませんでした。壊れているか、{FORMATS[ext]} 形式ではない可能性があります。"
                                                   "元のアプリで開けるかを確認し、保存し直してから取り込んでください。"))
    if not result.entries and not result.problems:  # e.g. a header row with nothing under it
        result.problems.append(Problem(source, "", "取り込める項目がありませんでした。見出し行の下に質問と回答があるかを確認してください。"))
    return result


def validation_report(result: ImportResult) -> str:
    """A short plain-text report in Japanese: counts, then each problem with where it is."""
    errors = [p for p in result.problems if p.severity == "error"]
    warnings = [p for p in result.problems if p.severity != "error"]
    lines = [
        "取り込み結果",
        f"・取り込んだ項目: {len(result.entries)} 件",
        f"・エラー: {len(errors)} 件" + ("（該当箇所は取り込まれていません）" if errors else ""),
        f"・警告: {len(warnings)} 件" + ("（内容を確認してください）" if warnings else ""),
    ]
    if not result.problems:
        lines.append("問題は見つかりませんでした。")
    for problem in errors + warnings:
        label = "エラー" if problem.severity == "error" else "警告"
        where = " ".join(part for part in (problem.source, problem.location) if part)
        lines.append(f"[{label}] {where}: {problem.message}" if where else f"[{label}] {problem.message}")
    return "\n".join(lines)


def _base_name(name: str) -> str:
    return name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def _unsupported_message(ext: str) -> str:
    if ext in _OLD_FORMATS:
        return f"{ext} 形式には対応していません。{_OLD_FORMATS[ext]} 形式で保存し直してから取り込んでください。"
    shown = f"{ext} 形式" if ext else "拡張子のないファイル"
    return f"{shown}には対応していません。対応している形式: {SUPPORTED_TEXT}。"


def _too_large_message(size: int, max_bytes: int) -> str:
    return (f"ファイルが大きすぎます（{_megabytes(size)}）。上限は {_megabytes(max_bytes)} です。"
            "ファイルを分割してから取り込んでください。")


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")


# --------------------------------------------------------------------------- plain text of a document

class DocumentError(ValueError):
    """A file whose text cannot be read; the message is for the user (Japanese)."""


def document_text(data: bytes, name: str, max_bytes: int = MAX_BYTES) -> str:
    """The text of a .csv .xlsx .md .txt .docx .pdf .html file (raises DocumentError, in Japanese)."""
    source = _base_name(name)
    ext = Path(source).suffix.lower()
    if ext not in FORMATS:
        raise DocumentError(_unsupported_message(ext))
    if len(data) > max_bytes:
        raise DocumentError(_too_large_message(len(data), max_bytes))
    result = ImportResult()  # the readers' checks (password, old format, zip bomb) report here
    try:
        lines = _TEXT_READERS[ext](data, source, result, max_bytes)
    except DocumentError:
        raise
    except Exception:  # a parser library failing on an odd file
        raise DocumentError(f"ファイルを読み込めませんでした。壊れているか、{FORMATS[ext]} 形式ではない可能性があります。") from None
    if result.problems:
        raise DocumentError(result.problems[0].message)
    text = "\n".join(line.rstrip() for line in lines).strip()
    if not text:
        raise DocumentError("ファイルに文字がありません。内容を確認してください。")
    return text


def _plain_lines(data: bytes, source: str, result: ImportResult, max_bytes: int) -> list[str]:
    text = decode_text(data)
    if text is None:
        raise DocumentError("文字コードを判定できませんでした。UTF-8 または Shift_JIS で保存し直してください。")
    return text.lstrip("\ufeff").splitlines()


def _xlsx_lines(data: bytes, source: str, result: ImportResult, max_bytes: int) -> list[str]:
    if not _check_office_container(data, source, result, "Excel（.xlsx）", max_bytes):
        return []
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    lines: list[str] = []
    try:
        for sheet in workbook.worksheets:
            if sheet.sheet_state != "visible":
                continue
            rows = [" / ".join(_cell_text(c) for c in row if _cell_text(c)) for row in sheet.iter_rows(values_only=True)]
            if any(rows):
                lines += [f"【{sheet.title}】", *[row for row in rows if row], ""]
    finally:
        workbook.close()
    return lines


def _docx_lines(data: bytes, source: str, result: ImportResult, max_bytes: int) -> list[str]:
    if not _check_office_container(data, source, result, "Word（.docx）", max_bytes):
        return []
    import docx
    from docx.table import Table

    lines: list[str] = []
    for item in docx.Document(io.BytesIO(data)).iter_inner_content():
        lines += _table_lines(item) if isinstance(item, Table) else [item.text.strip()]
    return lines


def _pdf_lines(data: bytes, source: str, result: ImportResult, max_bytes: int) -> list[str]:
    if b"%PDF-" not in data[:1024]:
        raise DocumentError("PDF ではないか、ファイルが壊れています。")
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(data))
    if reader.is_encrypted and not _pdf_opens_without_password(reader):
        raise DocumentError(_PASSWORD)
    paragraphs = [p for page in reader.pages for p in _unwrap_lines(page.extract_text() or "")]
    if not paragraphs:
        raise DocumentError("文字を取り出せませんでした。スキャンした画像の PDF の可能性があります。")
    return paragraphs


def _html_lines(data: bytes, source: str, result: ImportResult, max_bytes: int) -> list[str]:
    from bs4 import BeautifulSoup

    text = _decode_html(data)
    if text is None:
        raise DocumentError("文字コードを判定できませんでした。UTF-8 で保存し直してください。")
    soup = BeautifulSoup(text, _html_parser())
    for tag in soup(["script", "style", "noscript", "template", "nav", "header", "footer"]):
        tag.decompose()
    for tag in soup.find_all(_HTML_BLOCKS + _HTML_HEADINGS):
        tag.append("\n")
    return [" ".join(line.split()) for line in (soup.body or soup).get_text().splitlines()]


# --------------------------------------------------------------------------- Office containers

def _check_office_container(data: bytes, source: str, result: ImportResult, label: str, max_bytes: int) -> bool:
    """True if `data` looks like a readable OOXML zip; otherwise record why not."""
    if data.startswith(_OLE_MAGIC):
        if _OLE_ENCRYPTION in data:
            message = _PASSWORD
        else:
            message = f"古い形式（.xls / .doc）のファイルのようです。{label} で開き、新しい形式で保存し直してから取り込んでください。"
        result.problems.append(Problem(source, "", message))
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        result.problems.append(Problem(source, "", f"ファイルが壊れているか、{label} 形式ではありません。{label} で開けるかを確認し、保存し直してから取り込んでください。"))
        return False
    if unpacked > 10 * max_bytes:
        result.problems.append(Problem(source, "", f"ファイルの展開後の大きさが上限を超えています（{_megabytes(unpacked)}）。ファイルを分割してから取り込んでください。"))
        return False
    return True


# --------------------------------------------------------------------------- text decoding

def decode_text(data: bytes) -> str | None:
    """Text of `data` in UTF-16 (BOM or NULs), UTF-8 (with or without BOM), CP932 or a detected encoding; None if unknown."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    if b"\x00" in data[:4096]:
        head = data[:4096]
        encoding = "utf-16-le" if head[1::2].count(0) > head[0::2].count(0) else "utf-16-be"
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            return None
    for encoding in ("utf-8-sig", "cp932"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-8-sig" or _plausible_japanese(text):
            return text
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - charset-normalizer is a dependency
        return None
    best = from_bytes(data).best()
    return str(best) if best is not None else None


def _plausible_japanese(text: str) -> bool:
    """CP932 decodes EUC-JP and other bytes too, mostly into half-width katakana: reject such text."""
    halfwidth = sum(1 for ch in text if "\uff61" <= ch <= "\uff9f")
    non_ascii = sum(1 for ch in text if ord(ch) > 127)
    return non_ascii == 0 or halfwidth / non_ascii < 0.3


# --------------------------------------------------------------------------- tables (CSV, Excel)

FIELDS: dict[str, tuple[str, ...]] = {
    "question": ("質問", "問い", "問", "q", "question", "質問内容", "問合せ", "問い合わせ", "お問い合わせ", "よくある質問", "faq"),
    "answer": ("回答", "答え", "答", "a", "answer", "回答内容", "解答"),
    "category": ("カテゴリ", "カテゴリー", "分類", "区分", "category", "ジャンル", "種別"),
    "keywords": ("キーワード", "keywords", "keyword", "tags", "tag", "タグ", "検索語"),
    "url": ("url", "リンク", "参照", "link", "参照先", "参考url", "関連リンク", "参考"),
    "updated": ("更新日", "最終更新", "最終更新日", "updated", "update", "updatedat", "lastupdated", "更新日時", "更新", "日付"),
    "id": ("id", "番号", "no", "no.", "faqid", "管理番号", "№"),
}
FIELD_LABELS = {"question": "質問", "answer": "回答"}


def _header_key(value: Any) -> str:
    text = unicodedata.normalize("NFKC", str(value or "")).casefold()
    text = re.sub(r"[（(].*?[)）]|[\s*＊※:_\-]", "", text)
    return text


def _field_of(cell: Any) -> str | None:
    """The field a header cell names: an exact synonym, else a compound ending or starting with one (質問内容, 参照URL)."""
    key = _header_key(cell)
    if not key:
        return None
    for name, synonyms in FIELDS.items():
        if key in synonyms:
            return name
    for test in (str.endswith, str.startswith):
        matches = [(len(s), name) for name, synonyms in FIELDS.items() for s in synonyms if len(s) > 1 and test(key, s)]
        if matches:
            return max(matches)[1]
    return None


def _columns(row: Sequence[Any]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, cell in enumerate(row):
        name = _field_of(cell)
        if name and name not in columns:
            columns[name] = index
    return columns


def _find_header(rows: Sequence[tuple[int, Sequence[Any]]]) -> tuple[int, dict[str, int]] | dict[str, int]:
    """(position in rows, columns) of the first row with question and answer columns; else the best partial match."""
    best: dict[str, int] = {}
    for position, (_, row) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        columns = _columns(row)
        if "question" in columns and "answer" in columns:
            return position, columns
        if len(columns) > len(best):
            best = columns
    return best


def _missing_columns_message(found: dict[str, int], where: str = "") -> str:
    missing = [label for name, label in FIELD_LABELS.items() if name not in found]
    text = f"{where}先頭 {HEADER_SEARCH_ROWS} 行の中に「{'」と「'.join(missing)}」の列の見出しが見つかりません。"
    return text + "見出し行に「質問」「回答」（任意で「カテゴリ」「キーワード」「URL」「更新日」「ID」）を入れてください。取り込んだ項目はありません。"


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).replace("\r\n", "\n").strip()


@dataclass
class _TableState:
    source: str
    result: ImportResult
    seen_questions: dict[str, str] = field(default_factory=dict)  # normalised question -> location
    seen_ids: dict[str, str] = field(default_factory=dict)


def _import_table(rows: Sequence[tuple[int, Sequence[Any]]], state: _TableState, prefix: str = "") -> bool:
    """Import rows (row number, cells) of one table; False if it has no header row."""
    found = _find_header(rows)
    if not isinstance(found, tuple):
        return False
    position, columns = found
    for number, row in rows[position + 1:]:
        _import_row(number, row, columns, state, prefix)
    return True


def _import_row(number: int, row: Sequence[Any], columns: dict[str, int], state: _TableState, prefix: str) -> None:
    def get(name: str) -> Any:
        index = columns.get(name)
        return row[index] if index is not None and index < len(row) else None

    if not any(_cell_text(cell) for cell in row):
        return
    location = f"{prefix}行 {number}"
    problems = state.result.problems
    question, answer = _cell_text(get("question")), _cell_text(get("answer"))
    empty = [label for label, text in (("質問", question), ("回答", answer)) if not text]
    if empty:
        problems.append(Problem(state.source, location, f"{'と'.join(empty)}が空のため、この行は取り込みませんでした。"))
        return
    key = _question_key(question)
    if key in state.seen_questions:
        first = state.seen_questions[key]
        problems.append(Problem(state.source, location, f"質問が {first} と重複しています。{first} を取り込み、{location} は取り込みませんでした。", "warning"))
        return
    entry_id = _cell_text(get("id")) or stable_id(state.source, question)
    if entry_id in state.seen_ids:
        first = state.seen_ids[entry_id]
        problems.append(Problem(state.source, location, f"ID「{entry_id}」が {first} と重複しています。ID を直してください。この行は取り込みませんでした。"))
        return
    updated = normalize_date(get("updated"))
    if updated is None:
        problems.append(Problem(state.source, location, f"更新日「{_cell_text(get('updated'))}」を日付として読めませんでした（例: 2025/4/1）。更新日なしで取り込みました。", "warning"))
        updated = ""
    state.seen_questions[key] = location
    state.seen_ids[entry_id] = location
    state.result.entries.append(Entry(
        id=entry_id, question=question, answer=answer, category=_cell_text(get("category")),
        keywords=split_keywords(_cell_text(get("keywords"))), url=_cell_text(get("url")), updated=updated,
        source=state.source, location=location,
    ))


def _question_key(question: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", question)).casefold()


def split_keywords(text: str) -> tuple[str, ...]:
    """Keywords separated by 、,;／/ or spaces, without duplicates."""
    parts = re.split(r"[、,;/\s]+", unicodedata.normalize("NFKC", text))
    return tuple(dict.fromkeys(part for part in parts if part))


_DATE_RE = re.compile(r"^\s*(\d{4})\s*[/\-.年]\s*(\d{1,2})\s*[/\-.月]\s*(\d{1,2})\s*日?(?:[\sT(（].*)?$")


def normalize_date(value: Any) -> str | None:
    """YYYY-MM-DD for dates like 2025/4/1, 2025年4月1日, 令和7年4月1日 or Excel date cells; '' if empty, None if unreadable."""
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 20000 <= value <= 80000:  # an Excel serial date in a cell without date format
            return (dt.date(1899, 12, 30) + dt.timedelta(days=int(value))).isoformat()
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        return ""
    match = _DATE_RE.match(convert_eras(text, add_weekday=False))
    if not match:
        return None
    try:
        return dt.date(*(int(group) for group in match.groups())).isoformat()
    except ValueError:
        return None


def _read_csv(data: bytes, source: str, result: ImportResult, max_bytes: int) -> None:
    text = decode_text(data)
    if text is None:
        result.problems.append(Problem(source, "", "文字コードを判定できませんでした。UTF-8 または Shift_JIS で保存し直してから取り込んでください。"))
        return
    text = text.lstrip("\ufeff")
    try:
        rows = list(enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text)), start=1))
    except csv.Error as exc:
        result.problems.append(Problem(source, "", f"CSV の形式が正しくありません（{exc}）。Excel で開いて CSV 形式で保存し直してください。"))
        return
    if not _import_table(rows, _TableState(source, result)):
        result.problems.append(Problem(source, "", _missing_columns_message(_find_header(rows))))


def _delimiter(text: str) -> str:
    """Tab for Excel's 'Unicode text' (UTF-16, tab-separated), else comma."""
    head = "\n".join(text.splitlines()[:HEADER_SEARCH_ROWS])
    return "\t" if head.count("\t") > head.count(",") else ","


def _read_xlsx(data: bytes, source: str, result: ImportResult, max_bytes: int) -> None:
    if not _check_office_container(data, source, result, "Excel（.xlsx）", max_bytes):
        return
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheets = [sheet for sheet in workbook.worksheets if sheet.sheet_state == "visible"]
        tables = [(sheet.title, list(enumerate(sheet.iter_rows(values_only=True), start=1))) for sheet in sheets]
    finally:
        workbook.close()
    _import_sheets(tables, source, result)


def _import_sheets(tables: list[tuple[str, list[tuple[int, Sequence[Any]]]]], source: str, result: ImportResult) -> None:
    """Every visible sheet with a header row; locations name the sheet when there are several."""
    state = _TableState(source, result)
    several = len(tables) > 1
    imported = 0
    skipped: list[tuple[str, dict[str, int]]] = []
    for title, rows in tables:
        if _import_table(rows, state, f"シート「{title}」" if several else ""):
            imported += 1
        elif any(_cell_text(cell) for _, row in rows for cell in row):
            found = _find_header(rows)
            skipped.append((title, found if isinstance(found, dict) else {}))
    if not imported:
        message = _missing_columns_message(max((found for _, found in skipped), key=len)) if skipped else "ファイルにデータがありません。"
        result.problems.append(Problem(source, "", message))
        return
    for title, _ in skipped:
        result.problems.append(Problem(source, f"シート「{title}」", "見出し行（質問・回答）がないため、このシートは取り込みませんでした。", "warning"))


# --------------------------------------------------------------------------- Markdown and text

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_TXT_HEADING = re.compile(r"^\s*(?:【(?P<bracket>[^】]+)】\s*$|[■◆□◇●▼]\s*(?P<mark>.+?)\s*$)")  # 【】 above ■
_QUESTION = re.compile(r"^\s*(?:[QqＱｑ]|質問|問)\s*[0-9０-９]*\s*[:.．：]\s*(?P<text>.*)$")
_ANSWER = re.compile(r"^\s*(?:[AaＡａ]|回答|答え|答)\s*[0-9０-９]*\s*[:.．：]\s*(?P<text>.*)$")


@dataclass
class _Section:
    title: str
    line: int
    level: int = 0
    parent: str = ""
    body: list[str] = field(default_factory=list)
    in_answer: bool = False  # Q:/A: pairs: lines go to the question until the A: line
    has_children: bool = False


def _text_sections(text: str, plain_text: bool) -> tuple[list[str], list[_Section]]:
    """Lines before the first heading, and one section per heading or Q:/A: pair."""
    preamble: list[str] = []
    sections: list[_Section] = []
    parents: list[_Section] = []
    in_code = False
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("```"):
            in_code = not in_code
        heading = None if in_code else _heading(line, plain_text)
        if heading is not None:
            level, title = heading
            while parents and parents[-1].level >= level:
                parents.pop()
            if parents:
                parents[-1].has_children = True
            section = _Section(title, number, level, parents[-1].title if parents else "", in_answer=level != _PAIR)
            sections.append(section)
            if level != _PAIR:
                parents.append(section)
            continue
        current = sections[-1] if sections else None
        if current is None:
            preamble.append(line)
        elif current.in_answer or in_code:
            current.body.append(line)
        elif answer := _ANSWER.match(line):
            current.in_answer = True
            current.body.append(answer.group("text"))
        elif line.strip():  # a question written over several lines
            current.title = f"{current.title} {line.strip()}".strip()
    return preamble, sections


_PAIR = 99  # the level of a Q:/A: pair: below every heading, never a parent


def _heading(line: str, plain_text: bool) -> tuple[int, str] | None:
    """(level, title) if the line opens a new section."""
    if match := _MD_HEADING.match(line):
        return len(match.group(1)), match.group(2).strip()
    if match := _QUESTION.match(line):
        return _PAIR, match.group("text").strip()
    if plain_text and (match := _TXT_HEADING.match(line)):
        return (7, match.group("bracket").strip()) if match.group("bracket") else (8, match.group("mark").strip())
    return None


def _read_text_faq(data: bytes, source: str, result: ImportResult, max_bytes: int) -> None:
    text = decode_text(data)
    if text is None:
        result.problems.append(Problem(source, "", "文字コードを判定できませんでした。UTF-8 で保存し直してから取り込んでください。"))
        return
    preamble, sections = _text_sections(text.lstrip("\ufeff"), plain_text=source.lower().endswith(".txt"))
    if not sections:
        message = ("見出し（# で始まる行）や「Q:」「A:」の組が見つかりません。項目ごとに見出しを付けてください。"
                   if source.lower().endswith(".md") else
                   "見出し（【…】、■…、# …）や「Q:」「A:」の組が見つかりません。項目ごとに見出しを付けてください。")
        result.problems.append(Problem(source, "", message))
        return
    if "\n".join(preamble).strip():
        result.problems.append(Problem(source, "行 1", "最初の見出しより前の文章は、見出しがないため取り込みませんでした。", "warning"))
    seen: dict[str, str] = {}
    for section in sections:
        _add_text_section(section, source, result, seen)


def _add_text_section(section: _Section, source: str, result: ImportResult, seen: dict[str, str]) -> None:
    question = re.sub(r"\s*\n\s*", " ", section.title).strip()
    answer = "\n".join(section.body).strip()
    location = f"見出し「{_short(question)}」（行 {section.line}）"
    if not question:
        result.problems.append(Problem(source, f"行 {section.line}", "質問が空のため取り込みませんでした。"))
        return
    if not answer:
        if not section.has_children:
            label = "回答" if section.level == _PAIR else "本文"
            result.problems.append(Problem(source, location, f"{label}が空のため取り込みませんでした。"))
        return
    key = _question_key(question)
    if key in seen:
        result.problems.append(Problem(source, location, f"質問が {seen[key]} と重複しています。先の方を取り込み、こちらは取り込みませんでした。", "warning"))
        return
    seen[key] = location
    result.entries.append(Entry(id=stable_id(source, question), question=question, answer=answer,
                                category=section.parent, source=source, location=location))


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------- manuals (Word, PDF, HTML)

@dataclass
class _Block:
    """A part of a manual: a heading's text (or none) with its paragraphs."""

    heading: str
    location: str
    parent: str = ""
    paragraphs: list[str] = field(default_factory=list)


def chunk_text(paragraphs: Iterable[str], max_chars: int = CHUNK_MAX) -> list[str]:
    """Chunks of at most max_chars made of whole sentences, of even size (760 characters: 2 × 380, not 600 + 160).

    A sentence longer than max_chars is cut at 、 or spaces.
    """
    pieces = [(piece, number == 0) for paragraph in paragraphs
              for number, sentence in enumerate(split_sentences(paragraph))
              for piece in _cut_long(sentence, max_chars)]
    total = sum(len(piece) for piece, _ in pieces)
    target = total / max(1, math.ceil(total / max_chars)) if total > max_chars else max_chars
    chunks: list[str] = []
    current = ""
    for piece, new_paragraph in pieces:
        if current and (len(current) >= target or len(current) + len(piece) > max_chars):
            chunks.append(current)
            current = ""
        current = _join(current, piece, new_paragraph)
    if current:
        chunks.append(current)
    return chunks


def _join(text: str, piece: str, new_paragraph: bool) -> str:
    if not text:
        return piece
    if new_paragraph:
        return f"{text}\n{piece}"
    return f"{text} {piece}" if text[-1].isascii() and piece[0].isascii() else text + piece


def _cut_long(sentence: str, max_chars: int) -> list[str]:
    pieces: list[str] = []
    while len(sentence) > max_chars:
        window = sentence[:max_chars]
        cut = max(window.rfind("、"), window.rfind(" "), window.rfind("，"))
        cut = cut + 1 if cut > max_chars // 2 else max_chars
        pieces.append(sentence[:cut].strip())
        sentence = sentence[cut:].strip()
    if sentence:
        pieces.append(sentence)
    return pieces


def _blocks_to_entries(blocks: list[_Block], source: str, result: ImportResult) -> None:
    used: set[str] = set()
    for block in blocks:
        for number, chunk in enumerate(chunk_text(block.paragraphs), start=1):
            question = block.heading or _short(split_sentences(chunk)[0], 60)
            key = f"{block.location}\n{number}"
            entry_id = stable_id(source, key)
            suffix = 2
            while entry_id in used:
                entry_id, suffix = stable_id(source, f"{key}\n{suffix}"), suffix + 1
            used.add(entry_id)
            result.entries.append(Entry(id=entry_id, question=question, answer=chunk, category=block.parent,
                                        source=source, location=block.location))
    if not result.entries:
        result.problems.append(Problem(source, "", "本文が見つからないため、取り込んだ項目はありません。"))


def _heading_location(heading: str) -> str:
    return f"見出し「{_short(heading)}」" if heading else "本文の冒頭"


def _add_heading(blocks: list[_Block], parents: list[tuple[int, str]], level: int, heading: str) -> None:
    while parents and parents[-1][0] >= level:
        parents.pop()
    blocks.append(_Block(heading, _heading_location(heading), parents[-1][1] if parents else ""))
    parents.append((level, heading))


def _read_docx(data: bytes, source: str, result: ImportResult, max_bytes: int) -> None:
    if not _check_office_container(data, source, result, "Word（.docx）", max_bytes):
        return
    import docx
    from docx.table import Table

    document = docx.Document(io.BytesIO(data))
    blocks = [_Block("", _heading_location(""))]
    parents: list[tuple[int, str]] = []
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            blocks[-1].paragraphs.extend(_table_lines(item))
            continue
        text = item.text.strip()
        level = _docx_heading_level(item.style.name if item.style is not None else "")
        if text and level:
            _add_heading(blocks, parents, level, text)
        elif text:
            blocks[-1].paragraphs.append(text)
    _blocks_to_entries(blocks, source, result)


def _docx_heading_level(style: str) -> int:
    name = unicodedata.normalize("NFKC", style).lower()
    if name in ("title", "表題"):
        return 1
    match = re.match(r"(?:heading|見出し)\s*(\d)", name)
    return int(match.group(1)) if match else 0


def _table_lines(table: Any) -> list[str]:
    lines = []
    for row in table.rows:
        cells = list(dict.fromkeys(cell.text.strip() for cell in row.cells if cell.text.strip()))
        if cells:
            lines.append(" / ".join(cells))
    return lines


def _read_pdf(data: bytes, source: str, result: ImportResult, max_bytes: int) -> None:
    if b"%PDF-" not in data[:1024]:
        result.problems.append(Problem(source, "", "PDF ではないか、ファイルが壊れています。PDF として保存し直してから取り込んでください。"))
        return
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(data))
    if reader.is_encrypted and not _pdf_opens_without_password(reader):
        result.problems.append(Problem(source, "", _PASSWORD))
        return
    blocks: list[_Block] = []
    for number, page in enumerate(reader.pages, start=1):
        try:
            text = page.extract_text() or ""
        except Exception:
            result.problems.append(Problem(source, f"p. {number}", "このページの文字を取り出せませんでした。", "warning"))
            continue
        blocks.append(_Block("", f"p. {number}", paragraphs=_unwrap_lines(text)))
    if not any(block.paragraphs for block in blocks):
        result.problems.append(Problem(source, "", "文字を取り出せませんでした。スキャンした画像の PDF の可能性があります。文字を含む PDF（OCR 済み）にしてから取り込んでください。"))
        return
    _blocks_to_entries(blocks, source, result)


def _pdf_opens_without_password(reader: Any) -> bool:
    """A PDF with only an owner password (printing or copying limits) opens with an empty password."""
    try:
        return bool(reader.decrypt(""))
    except Exception:
        return False


_BULLET = re.compile(r"^\s*(?:[・●○■□◆◇▶►\-–*]|\d+[.)．）]|[①-⑳]|[（(]\d+[)）])")


def _unwrap_lines(text: str) -> list[str]:
    """Paragraphs of PDF text, whose lines are broken at the page width: a line nearly as long as the
    longest one and not ending a sentence goes on in the next line (unless that starts a bullet)."""
    lines = [line.strip() for line in text.splitlines()]
    full = 0.7 * max((len(line) for line in lines), default=0)
    paragraphs: list[str] = []
    current, wrapped = "", False
    for line in lines:
        if not line:
            current, wrapped = _flush(paragraphs, current), False
            continue
        if current and wrapped and not _BULLET.match(line):
            current = f"{current} {line}" if current[-1].isascii() and line[0].isascii() else current + line
        else:
            _flush(paragraphs, current)
            current = line
        wrapped = len(line) >= full and not line.endswith(("。", "！", "？", "!", "?", ":", "："))
    _flush(paragraphs, current)
    return paragraphs


def _flush(paragraphs: list[str], current: str) -> str:
    if current:
        paragraphs.append(current)
    return ""


_HTML_HEADINGS = ("h1", "h2", "h3", "h4")
_HTML_BLOCKS = ("p", "div", "li", "br", "tr", "td", "th", "dd", "dt", "pre", "blockquote", "section", "article", "h5", "h6", "table", "ul", "ol")
_HEADING_MARK = "\x00"


def _read_html(data: bytes, source: str, result: ImportResult, max_bytes: int) -> None:
    from bs4 import BeautifulSoup

    text = _decode_html(data)
    if text is None:
        result.problems.append(Problem(source, "", "文字コードを判定できませんでした。UTF-8 で保存し直してから取り込んでください。"))
        return
    soup = BeautifulSoup(text, _html_parser())
    for tag in soup(["script", "style", "noscript", "template", "nav", "header", "footer"]):
        tag.decompose()
    for tag in soup.find_all(_HTML_HEADINGS):
        level = int(tag.name[1])
        tag.replace_with(f"\n{_HEADING_MARK}{level}{' '.join(tag.get_text(' ').split())}\n")
    for tag in soup.find_all(_HTML_BLOCKS):
        tag.append("\n")
    body = soup.body or soup
    blocks = [_Block("", _heading_location(""))]
    parents: list[tuple[int, str]] = []
    for line in body.get_text().splitlines():
        line = " ".join(line.split())
        if line.startswith(_HEADING_MARK) and len(line) > 2:
            _add_heading(blocks, parents, int(line[1]), line[2:])
        elif line and not line.startswith(_HEADING_MARK):
            blocks[-1].paragraphs.append(line)
    _blocks_to_entries(blocks, source, result)


_SJIS_NAMES = {"shift_jis", "shift-jis", "sjis", "x-sjis", "windows-31j", "ms932", "cp932", "ms_kanji"}
_CHARSET = re.compile(rb"""charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.IGNORECASE)


def _decode_html(data: bytes) -> str | None:
    """The declared charset first (Shift_JIS read as CP932, which has ①, ～ and the like; lxml drops such pages)."""
    declared = _CHARSET.search(data[:4096])
    if declared and not data.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        name = declared.group(1).decode("ascii").lower()
        name = "cp932" if name in _SJIS_NAMES else name
        try:
            return data.decode(name)
        except (LookupError, UnicodeDecodeError):
            pass
    return decode_text(data)


def _html_parser() -> str:
    return "lxml" if importlib.util.find_spec("lxml") else "html.parser"


_READERS: dict[str, Callable[[bytes, str, ImportResult, int], None]] = {
    ".csv": _read_csv, ".xlsx": _read_xlsx, ".md": _read_text_faq, ".txt": _read_text_faq,
    ".docx": _read_docx, ".pdf": _read_pdf, ".html": _read_html, ".htm": _read_html,
}
_TEXT_READERS: dict[str, Callable[[bytes, str, ImportResult, int], list[str]]] = {
    ".csv": _plain_lines, ".xlsx": _xlsx_lines, ".md": _plain_lines, ".txt": _plain_lines,
    ".docx": _docx_lines, ".pdf": _pdf_lines, ".html": _html_lines, ".htm": _html_lines,
}
