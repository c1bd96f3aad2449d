"""Minutes (hideki.minutes.extract.Minutes) as a Word document, in the template's order.

    write_minutes_docx(minutes, Path("議事録.docx"))

会議名・日時・出席者 as a small table, then 議題, 要旨, 決定事項, ToDo (a real table: 担当・内容・期限・発言),
次回, 保留 — each item followed by its source (time, speaker, line) in small grey type, as in chat.
"""
from __future__ import annotations

import io
from pathlib import Path

import docx
from docx.document import Document
from docx.shared import Pt, RGBColor
from docx.text.paragraph import Paragraph

from hideki.documents.files import write_atomically
from hideki.minutes.extract import Item, Minutes, due_label, trace, sections

SOURCE_COLOUR = RGBColor(0x59, 0x59, 0x59)
TODO_HEADER = ("担当", "内容", "期限", "発言")


def minutes_document(m: Minutes) -> Document:
    """The minutes as a python-docx Document (not saved)."""
    header = sections(m)
    document = docx.Document()
    document.add_heading("議事録", level=0)
    facts = document.add_table(rows=3, cols=2)
    facts.style = "Table Grid"
    for row, (label, value) in zip(facts.rows, (("会議名", header["title"]), ("日時", header["date"]),
                                               ("出席者", header["attendees"]))):
        row.cells[0].paragraphs[0].add_run(label).bold = True
        row.cells[1].text = value

    document.add_heading("議題", level=1)
    _items(document, [Item(text) for text in m.agenda], "（未記載）", style="List Number")

    document.add_heading("要旨", level=1)
    _items(document, m.summary_items or [Item(text) for text in m.summary], "なし")

    document.add_heading("決定事項", level=1)
    _items(document, m.decisions, "なし")

    document.add_heading("ToDo", level=1)
    if m.todos:
        table = document.add_table(rows=1, cols=len(TODO_HEADER))
        table.style = "Table Grid"
        for cell, label in zip(table.rows[0].cells, TODO_HEADER):
            cell.paragraphs[0].add_run(label).bold = True
        for todo in m.todos:
            cells = table.add_row().cells
            for cell, value in zip(cells, (todo.owner or "未定", todo.task, due_label(todo),
                                           trace(todo.start, todo.speaker, todo.line))):
                cell.text = value
    else:
        document.add_paragraph("なし", style="List Bullet")

    document.add_heading("次回", level=1)
    document.add_paragraph(m.next_meeting or "未定")

    document.add_heading("保留", level=1)
    _items(document, m.pending, "なし")
    return document


def minutes_docx_bytes(m: Minutes) -> bytes:
    """The minutes as the bytes of a .docx file (for a chat reply)."""
    buffer = io.BytesIO()
    minutes_document(m).save(buffer)
    return buffer.getvalue()


def write_minutes_docx(m: Minutes, path: Path) -> None:
    """Save the minutes as .docx at `path` (atomically: a failure leaves no partial file)."""
    write_atomically(path, minutes_document(m).save)


def _items(document: Document, items: list[Item], empty: str, style: str = "List Bullet") -> None:
    if not items:
        document.add_paragraph(empty, style=style)
    for item in items:
        paragraph = document.add_paragraph(item.text, style=style)
        if item.speaker or item.start or item.line:
            _add_source(paragraph, trace(item.start, item.speaker, item.line))


def _add_source(paragraph: Paragraph, source: str) -> None:
    run = paragraph.add_run(f"（{source}）")
    run.font.size = Pt(9)
    run.font.color.rgb = SOURCE_COLOUR
