"""`hideki furigana IN -o OUT` as a function: a .docx/.txt/.md/.pdf file in, a .docx with Word ruby or an .html
page with `<ruby>` out (chosen by OUT's suffix), written atomically.

    report = add_readings_to_file(Path("notice.docx"), Path("notice-ruby.docx"), engine, grade=None)

A .docx in and .docx out keeps the document as it is and adds ruby (hideki.documents.word_ruby); every other
pair goes through simple blocks (hideki.documents.blocks). Bad input raises DocumentError (Japanese message).
"""
from __future__ import annotations

from pathlib import Path

import docx
from docx.document import Document
from docx.opc.exceptions import PackageNotFoundError
from lxml import etree

from hideki.documents.blocks import Block, blocks_from_document, blocks_from_text, blocks_text, blocks_to_document, blocks_to_html
from hideki.documents.files import (CORRUPT_MESSAGE, MAX_BYTES, OUTPUT_SUFFIXES, DocumentError, check_input, read_pdf_text,
                                    read_text, write_atomically)
from hideki.documents.word_ruby import RubyReport, add_ruby
from hideki.japanese.furigana import Engine


def add_readings_to_file(source: Path, target: Path, engine: Engine, grade: int | None = None,
                         max_bytes: int = MAX_BYTES) -> RubyReport:
    """Write `target` (.docx or .html) with readings over the kanji of `source`; the report says what was done."""
    out_suffix = target.suffix.lower()
    if out_suffix == ".pdf":
        raise DocumentError("PDF での出力には対応していません。出力先は .docx（Word のルビ）か .html（<ruby>）にしてください。"
                            "PDF が必要なときは、できた Word 文書を Word で PDF として保存してください。")
    if out_suffix not in OUTPUT_SUFFIXES:
        raise DocumentError(f"出力先の形式（{out_suffix or '拡張子なし'}）には対応していません。.docx か .html を指定してください。")
    if not target.parent.is_dir():
        raise DocumentError(f"出力先のフォルダがありません: {target.parent}")
    if source.resolve() == target.resolve():
        raise DocumentError("入力と同じファイルには書き込みません。別の出力先を指定してください。")
    check_input(source, max_bytes)
    in_suffix = source.suffix.lower()
    if in_suffix == ".docx":
        document = open_word(source)
        if out_suffix == ".docx":
            report = add_ruby(document, engine, grade)
            write_atomically(target, document.save)
            return report
        blocks = blocks_from_document(document)
    elif in_suffix == ".pdf":
        blocks = blocks_from_text(read_pdf_text(source), markdown=False)
    else:
        blocks = blocks_from_text(read_text(source), markdown=in_suffix == ".md")
    return _write_blocks(blocks, target, engine, grade, title=source.stem)


def open_word(path: Path) -> Document:
    """A checked .docx file as a python-docx Document; DocumentError when python-docx cannot read it."""
    try:
        return docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, etree.XMLSyntaxError, OSError):
        raise DocumentError(CORRUPT_MESSAGE) from None


def _write_blocks(blocks: list[Block], target: Path, engine: Engine, grade: int | None, title: str) -> RubyReport:
    if target.suffix.lower() == ".docx":
        document = blocks_to_document(blocks)
        report = add_ruby(document, engine, grade)
        write_atomically(target, document.save)
        return report
    report = RubyReport()
    page = blocks_to_html(blocks, engine, grade, title)
    report.words = page.count("<ruby>")
    report.guessed.update(dict.fromkeys(engine.guessed(blocks_text(blocks))))
    write_atomically(target, lambda f: f.write(page.encode("utf-8")))
    return report
