"""Text, Markdown and Word as a list of simple blocks (headings, paragraphs, list items, tables), and those
blocks out as a Word document or as an HTML page with `<ruby>` readings.

Markdown is read lightly: `#` headings, `-`/`*`/`・` bullets, `1.` numbered items, `|` tables and
`**bold**`; anything else is a paragraph. Plain text is one paragraph per non-empty line.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

import docx
from docx.document import Document
from docx.table import Table
from docx.text.paragraph import Paragraph

from hideki.japanese.furigana import Engine, render

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_BULLET = re.compile(r"^\s*(?:[-*+]\s+|・\s*)(.+)$")
_NUMBERED = re.compile(r"^\s*\d+[.)．]\s+(.+)$")
_TABLE_RULE = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$")
_BOLD = re.compile(r"\*\*(.+?)\*\*")


@dataclass
class Block:
    kind: str                 # "heading", "paragraph", "bullet", "number", "table"
    text: str = ""
    level: int = 0            # heading level 1-6
    rows: list[list[str]] = field(default_factory=list)


def blocks_from_text(text: str, markdown: bool) -> list[Block]:
    blocks: list[Block] = []
    table: list[list[str]] | None = None
    for line in text.split("\n"):
        stripped = line.strip()
        if markdown and stripped.startswith("|"):
            if table is None:
                table = []
                blocks.append(Block("table", rows=table))
            if not _TABLE_RULE.match(stripped):
                table.append([cell.strip() for cell in stripped.strip("|").split("|")])
            continue
        table = None
        if not stripped:
            continue
        if markdown and (m := _HEADING.match(stripped)):
            blocks.append(Block("heading", m.group(2), level=len(m.group(1))))
        elif markdown and (m := _BULLET.match(line)):
            blocks.append(Block("bullet", m.group(1)))
        elif markdown and (m := _NUMBERED.match(line)):
            blocks.append(Block("number", m.group(1)))
        else:
            blocks.append(Block("paragraph", stripped if markdown else line.rstrip()))
    return blocks


def blocks_from_document(document: Document) -> list[Block]:
    """The body of a Word document, in order: headings by their style, list styles as items, tables by cell text."""
    blocks: list[Block] = []
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            blocks.append(Block("table", rows=[[cell.text for cell in row.cells] for row in item.rows]))
            continue
        paragraph: Paragraph = item
        text = paragraph.text
        if not text.strip():
            continue
        style = paragraph.style.name if paragraph.style is not None else ""
        if m := re.match(r"(?:Heading|見出し)\s*(\d)", style):
            blocks.append(Block("heading", text, level=min(6, int(m.group(1)))))
        elif style == "Title":
            blocks.append(Block("heading", text, level=1))
        elif "Bullet" in style or "箇条書き" in style:
            blocks.append(Block("bullet", text))
        elif "Number" in style or "段落番号" in style:
            blocks.append(Block("number", text))
        else:
            blocks.append(Block("paragraph", text))
    return blocks


def blocks_to_document(blocks: list[Block]) -> Document:
    """A Word document with the built-in heading, list and table styles (ruby is added afterwards)."""
    document = docx.Document()
    for block in blocks:
        if block.kind == "heading":
            _add_inline(document.add_heading(level=block.level), block.text)
        elif block.kind == "bullet":
            _add_inline(document.add_paragraph(style="List Bullet"), block.text)
        elif block.kind == "number":
            _add_inline(document.add_paragraph(style="List Number"), block.text)
        elif block.kind == "table" and block.rows:
            width = max(len(row) for row in block.rows)
            table = document.add_table(rows=len(block.rows), cols=width)
            table.style = "Table Grid"
            for row, cells in zip(table.rows, block.rows):
                for cell, text in zip(row.cells, cells):
                    _add_inline(cell.paragraphs[0], text)
        elif block.kind == "paragraph":
            _add_inline(document.add_paragraph(), block.text)
    return document


def _add_inline(paragraph: Paragraph, text: str) -> None:
    """`**bold**` becomes a bold run; the rest plain runs."""
    position = 0
    for m in _BOLD.finditer(text):
        if m.start() > position:
            paragraph.add_run(text[position:m.start()])
        paragraph.add_run(m.group(1)).bold = True
        position = m.end()
    if position < len(text):
        paragraph.add_run(text[position:])


def blocks_to_html(blocks: list[Block], engine: Engine, grade: int | None, title: str = "") -> str:
    """A standalone HTML page with `<ruby>` readings, in the blocks' order."""

    def inline(text: str) -> str:
        out, position = [], 0
        for m in _BOLD.finditer(text):
            out.append(render(text[position:m.start()], "html", grade, engine))
            out.append(f"<strong>{render(m.group(1), 'html', grade, engine)}</strong>")
            position = m.end()
        out.append(render(text[position:], "html", grade, engine))
        return "".join(out)

    body: list[str] = []
    open_list = ""
    for block in blocks:
        wanted = {"bullet": "ul", "number": "ol"}.get(block.kind, "")
        if open_list and open_list != wanted:
            body.append(f"</{open_list}>")
            open_list = ""
        if wanted and not open_list:
            body.append(f"<{wanted}>")
            open_list = wanted
        if block.kind == "heading":
            body.append(f"<h{block.level}>{inline(block.text)}</h{block.level}>")
        elif wanted:
            body.append(f"<li>{inline(block.text)}</li>")
        elif block.kind == "table":
            rows = "".join("<tr>" + "".join(f"<td>{inline(cell)}</td>" for cell in row) + "</tr>" for row in block.rows)
            body.append(f"<table>{rows}</table>")
        else:
            body.append(f"<p>{inline(block.text)}</p>")
    if open_list:
        body.append(f"</{open_list}>")
    return ("<!DOCTYPE html>\n<html lang=\"ja\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(title)}</title>\n"
            "<style>body{line-height:2.2;font-family:sans-serif}rt{font-size:0.5em}"
            "table{border-collapse:collapse}td{border:1px solid #999;padding:0.2em 0.5em}</style>\n"
            "</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n")


def blocks_text(blocks: list[Block]) -> str:
    """All the text of the blocks, one line each (for the guessed-readings check)."""
    lines: list[str] = []
    for block in blocks:
        if block.kind == "table":
            lines.extend(cell for row in block.rows for cell in row)
        else:
            lines.append(block.text)
    return "\n".join(_BOLD.sub(r"\1", line) for line in lines)
