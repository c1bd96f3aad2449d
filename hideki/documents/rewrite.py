"""Rewrite a Word document in やさしい日本語 paragraph by paragraph, keeping its structure, then add ruby.

    rewrite = DocumentRewrite(document)                   # the texts to rewrite, in order: rewrite.units
    rewrite.apply([simplify(text) for text in rewrite.units])
    report = add_ruby(document, engine)                   # hideki.documents.word_ruby

    report = rewrite_docx(Path("notice.docx"), Path("notice-yasashii.docx"), simplifier, engine)   # offline, in one call

What is kept: every paragraph's style (headings, list styles and numbering, alignment), tables at any depth,
headers and footers (they get ruby but are not rewritten: 「○○市役所 市民課」 needs no rewrite), and a
paragraph whose text the rewrite leaves unchanged is not touched at all (its runs, bold, colours stay). A
rewritten paragraph gets one run with its first run's formatting; its tabs and line breaks stay where they were
(each piece between them is rewritten on its own). Nothing is added to the document: the measures and the facts
to check go to the chat message or to standard error.

Left as they were, and counted in `left_as_is`: paragraphs holding anything but plain text — links, fields,
images, existing ruby, formulas, footnote marks, tracked changes, content controls — and text boxes, because
rewriting would lose or break those parts.
"""
from __future__ import annotations

import copy
import io
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from docx.document import Document
from docx.oxml.ns import qn
from lxml import etree

from hideki.documents.blocks import blocks_from_document, blocks_from_text, blocks_text, blocks_to_document
from hideki.documents.files import MAX_BYTES, DocumentError, check_input, read_pdf_text, read_text, write_atomically
from hideki.documents.furigana_file import open_word
from hideki.documents.word_ruby import RubyReport, add_ruby
from hideki.japanese.furigana import Engine
from hideki.japanese.simplify import Simplifier

W_P, W_R, W_T, W_RPR, W_PPR = qn("w:p"), qn("w:r"), qn("w:t"), qn("w:rPr"), qn("w:pPr")
W_TAB, W_BR, W_TXBX = qn("w:tab"), qn("w:br"), qn("w:txbxContent")
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
MAX_CHARS = 100_000  # about 100 pages of notices; longer documents are refused with a message

_PARAGRAPH_PLAIN = {W_PPR, W_R, qn("w:bookmarkStart"), qn("w:bookmarkEnd"), qn("w:proofErr"), qn("w:permStart"),
                    qn("w:permEnd")}
_RUN_PLAIN = {W_RPR, W_T, W_TAB, W_BR, qn("w:lastRenderedPageBreak")}
_SEPARATORS = {W_TAB: "\t", W_BR: "\n"}
_KINDS = {  # what a paragraph holds that keeps it from being rewritten, as staff call it
    qn("w:hyperlink"): "リンク", qn("w:fldSimple"): "フィールド", qn("w:fldChar"): "フィールド",
    qn("w:instrText"): "フィールド", qn("w:drawing"): "図", qn("w:pict"): "図", qn("w:object"): "図",
    qn("w:ruby"): "既存のルビ", qn("m:oMath"): "数式", qn("m:oMathPara"): "数式",
    qn("w:footnoteReference"): "脚注", qn("w:endnoteReference"): "脚注", qn("w:ins"): "変更履歴",
    qn("w:del"): "変更履歴", qn("w:moveFrom"): "変更履歴", qn("w:moveTo"): "変更履歴",
    qn("w:sdt"): "コンテンツ コントロール",
}
OTHER_KIND = "その他の要素"
TOO_LONG = "文書が長すぎます（{n:,}文字）。やさしい日本語への書き換えは {limit:,}文字までです。文書を分けて送ってください。"


@dataclass
class _Paragraph:
    element: etree._Element
    pieces: list[str]        # the text between tabs and line breaks
    separators: list[str]    # "\t" or "\n", one fewer than pieces


@dataclass
class RewriteReport:
    """What a document rewrite did: paragraphs read and rewritten, what was left as it was, the ruby added."""

    paragraphs: int = 0
    rewritten: int = 0
    left_as_is: Counter = field(default_factory=Counter)  # kind → paragraphs left as they were
    source_text: str = ""      # the rewritable text before, one piece a line (for the measures and fact checks)
    rewritten_text: str = ""   # and after
    ruby: RubyReport = field(default_factory=RubyReport)

    def note(self) -> str:
        """One Japanese line about the paragraphs left as they were; "" when none was."""
        if not self.left_as_is:
            return ""
        parts = "、".join(f"{kind}を含む段落 {count} 個" for kind, count in self.left_as_is.items())
        return f"次の部分は書き換えず、そのままにしました（ルビは付けました）: {parts}。"


class DocumentRewrite:
    """The body paragraphs of a document that can be rewritten, as `units` (texts without tabs or breaks)."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.report = RewriteReport()
        self._paragraphs: list[_Paragraph] = []
        body = document.element.body
        boxes = sum(1 for _ in body.iter(W_TXBX))
        if boxes:
            self.report.left_as_is["テキストボックス"] += boxes
        for p in body.iter(W_P):
            if any(a.tag == W_TXBX for a in p.iterancestors()):
                continue
            paragraph = self._read(p)
            if paragraph is not None:
                self._paragraphs.append(paragraph)
        self.units = [piece for paragraph in self._paragraphs for piece in paragraph.pieces]

    def _read(self, p: etree._Element) -> _Paragraph | None:
        pieces, separators = [""], []
        for child in p:
            if child.tag not in _PARAGRAPH_PLAIN:
                return self._left(p, child.tag)
            if child.tag != W_R:
                continue
            for part in child:
                if part.tag not in _RUN_PLAIN:
                    return self._left(p, part.tag)
                if part.tag == W_T:
                    pieces[-1] += part.text or ""
                elif part.tag in _SEPARATORS:
                    separators.append(_SEPARATORS[part.tag])
                    pieces.append("")
        if not "".join(pieces).strip():
            return None
        self.report.paragraphs += 1
        return _Paragraph(p, pieces, separators)

    def _left(self, p: etree._Element, tag: str) -> None:
        if "".join(t.text or "" for t in p.iter(W_T)).strip():
            self.report.paragraphs += 1
            self.report.left_as_is[_KINDS.get(tag, OTHER_KIND)] += 1
        return None

    @property
    def chars(self) -> int:
        return sum(len(unit) for unit in self.units)

    def apply(self, rewritten: list[str]) -> RewriteReport:
        """Put the rewritten units back, in the order of `units`. A unit's line breaks are dropped (a piece of
        a paragraph stays one piece); a paragraph whose pieces all stay the same is not touched."""
        if len(rewritten) != len(self.units):
            raise ValueError(f"{len(rewritten)} rewritten texts for {len(self.units)} units")
        position = 0
        before: list[str] = []
        after: list[str] = []
        for paragraph in self._paragraphs:
            count = len(paragraph.pieces)
            new = ["".join(text.split("\n")).strip() if text.strip() else old
                   for old, text in zip(paragraph.pieces, rewritten[position:position + count])]
            position += count
            before.extend(piece for piece in paragraph.pieces if piece.strip())
            after.extend(piece for piece in new if piece.strip())
            if new != paragraph.pieces:
                _replace_runs(paragraph, new)
                self.report.rewritten += 1
        self.report.source_text = "\n".join(before)
        self.report.rewritten_text = "\n".join(after)
        return self.report


def _replace_runs(paragraph: _Paragraph, pieces: list[str]) -> None:
    """One run, with the first run's formatting, where the paragraph's runs were: text, tabs and breaks in order."""
    runs = paragraph.element.findall(W_R)
    run = copy.deepcopy(runs[0])
    for child in list(run):
        if child.tag != W_RPR:
            run.remove(child)
    for index, piece in enumerate(pieces):
        if index:
            etree.SubElement(run, W_TAB if paragraph.separators[index - 1] == "\t" else W_BR)
        if piece:
            t = etree.SubElement(run, W_T)
            t.text = piece
            if piece != piece.strip():
                t.set(XML_SPACE, "preserve")
    runs[0].addprevious(run)
    for old in runs:
        paragraph.element.remove(old)


def simplify_unit(simplifier: Simplifier, text: str) -> str:
    """The offline rewrite of one unit: the simplifier's sentences joined again into one piece of text."""
    if not text.strip():
        return text
    return "".join(line for line in simplifier.simplify(text).text.split("\n"))


def read_document(data: bytes, name: str, max_bytes: int = MAX_BYTES) -> Document:
    """A file the user sent (.docx, .txt, .md or .pdf with a text layer) as a Word document to rewrite;
    DocumentError (Japanese) for what cannot be read — the same checks as `hideki furigana`."""
    suffix = Path(name).suffix.lower()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"input{suffix}"
        path.write_bytes(data)
        check_input(path, max_bytes)
        if suffix == ".docx":
            return open_word(path)
        if suffix == ".pdf":
            return blocks_to_document(blocks_from_text(read_pdf_text(path), markdown=False))
        return blocks_to_document(blocks_from_text(read_text(path), markdown=suffix == ".md"))


def read_document_text(data: bytes, name: str) -> str:
    """The text of a file the user sent (as `read_document` reads it), one paragraph or table cell a line."""
    return blocks_text(blocks_from_document(read_document(data, name)))


def document_bytes(document: Document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def rewrite_offline(document: Document, simplifier: Simplifier, engine: Engine, grade: int | None = None,
                    max_chars: int = MAX_CHARS) -> RewriteReport:
    """Rewrite `document` in place with the offline simplifier and add ruby; DocumentError when it is too long."""
    rewrite = DocumentRewrite(document)
    if rewrite.chars > max_chars:
        raise DocumentError(TOO_LONG.format(n=rewrite.chars, limit=max_chars))
    report = rewrite.apply([simplify_unit(simplifier, unit) for unit in rewrite.units])
    report.ruby = add_ruby(document, engine, grade)
    return report


def rewrite_docx(source: Path, target: Path, simplifier: Simplifier, engine: Engine, grade: int | None = None,
                 max_chars: int = MAX_CHARS) -> RewriteReport:
    """`source` (.docx/.txt/.md/.pdf) rewritten offline with ruby, written atomically to `target` (.docx)."""
    if target.suffix.lower() != ".docx":
        raise DocumentError("やさしい日本語の文書は Word（.docx）で出力します。出力先を .docx にしてください。")
    if source.resolve() == target.resolve():
        raise DocumentError("入力と同じファイルには書き込みません。別の出力先を指定してください。")
    check_input(source)
    document = read_document(source.read_bytes(), source.name)
    report = rewrite_offline(document, simplifier, engine, grade, max_chars)
    write_atomically(target, document.save)
    return report
