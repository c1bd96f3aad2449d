"""Q&A pairs (hideki.qa.generate) as an Excel workbook in the FAQ import format, ready for `hideki faq import`.

    write_qa_xlsx(pairs, Path("faq.xlsx"), source_name="gomi.txt")

The columns and values are those of hideki.qa.generate.to_faq_csv (id, 質問, 回答, カテゴリ, キーワード, URL, 更新日),
so the CSV and the Excel file import the same; a last column 根拠（元の文） shows each answer's source sentence
for the person checking the sheet (the importer ignores it).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from hideki.documents.files import write_atomically
from hideki.qa.generate import QAPair, to_faq_csv

EVIDENCE_HEADER = "根拠（元の文）"
SHEET_TITLE = "FAQ"
_WIDTHS = {"id": 16, "質問": 40, "回答": 50, "カテゴリ": 12, "キーワード": 24, "URL": 20, "更新日": 12, EVIDENCE_HEADER: 50}


def qa_workbook(pairs: list[QAPair], source_name: str, category: str = "") -> Workbook:
    """One sheet: a bold, frozen header row and one row per pair."""
    rows = list(csv.reader(io.StringIO(to_faq_csv(pairs, source_name, category))))
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET_TITLE
    header = [*rows[0], EVIDENCE_HEADER]
    sheet.append(header)
    updated = header.index("更新日")
    for pair, row in zip(pairs, rows[1:]):
        values: list[object] = [*row, pair.evidence]
        values[updated] = dt.date.fromisoformat(row[updated])
        sheet.append(values)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    for column, name in enumerate(header, start=1):
        letter = sheet.cell(row=1, column=column).column_letter
        sheet.column_dimensions[letter].width = _WIDTHS.get(name, 16)
        for cell in sheet[letter][1:]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if name == "更新日":
                cell.number_format = "yyyy/mm/dd"
    sheet.freeze_panes = "A2"
    return workbook


def qa_xlsx_bytes(pairs: list[QAPair], source_name: str, category: str = "") -> bytes:
    """The workbook as the bytes of an .xlsx file (for a chat reply)."""
    buffer = io.BytesIO()
    qa_workbook(pairs, source_name, category).save(buffer)
    return buffer.getvalue()


def write_qa_xlsx(pairs: list[QAPair], path: Path, source_name: str, category: str = "") -> None:
    """Save the pairs as .xlsx at `path` (atomically)."""
    write_atomically(path, qa_workbook(pairs, source_name, category).save)
