"""Put real Word ruby (ルビ, the phonetic guide) over the kanji words of a .docx, keeping everything else.

    report = add_ruby(docx.Document(path), engine, grade=None)
    document.save(out)   # report.words ruby added, report.left_as_is what was not touched, report.guessed

How it works, paragraph by paragraph (body, tables at any depth, headers and footers):
  1. The paragraph's visible text is read whole, so a word split over several runs (住民|票 with one part
     bold) is still read in context. Tabs, breaks and every object we do not read (images, fields, existing
     ruby, formulas) stand in the text as one separator character, so words never join across them.
  2. hideki.documents.ruby.ruby_spans says which characters get which reading (the same decision as chat).
  3. The runs under a span are split at the span's edges; the span becomes one `w:r/w:ruby` whose
     `w:rubyBase` holds one run per original piece, each with its original `w:rPr` (bold, colour, size,
     fonts), and whose `w:rt` holds the reading at half the base size. A word crossing two runs thus gets
     one reading over both pieces, as Word itself writes it. Only when the pieces sit in different
     containers (half of a word inside a hyperlink) can one ruby not cover them: each piece is then read on
     its own.
  4. Runs without a span are not touched at all.

Left exactly as they were, and counted in `report.left_as_is`: existing ruby, fields (w:fldSimple and
complex fields — a table of contents is rebuilt by Word anyway), text boxes (Word stores their text twice,
for new and old readers, and the two copies must stay equal), formulas, content controls inside a line,
footnotes/endnotes/comments, deleted text of tracked changes. Hyperlink targets are never changed.
"""
from __future__ import annotations

import bisect
import copy
from collections import Counter
from dataclasses import dataclass, field

from docx.document import Document
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn
from docx.oxml.parser import oxml_parser
from lxml import etree

from hideki.documents.ruby import RubySpan, ruby_spans
from hideki.japanese.furigana import Engine
from hideki.japanese.kana import to_hiragana

W_P, W_R, W_T, W_RPR = qn("w:p"), qn("w:r"), qn("w:t"), qn("w:rPr")
W_TXBX = qn("w:txbxContent")
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
SEPARATOR = "\ufffc"  # stands in the read text for anything that is not text (image, field, ruby…)
DEFAULT_HALF_POINTS = 21  # 10.5 pt, Word's default size for Japanese documents

# Elements whose runs we read and may split; runs anywhere else are left alone.
_RUN_CONTAINERS = {qn(t) for t in ("w:p", "w:hyperlink", "w:ins", "w:smartTag", "w:customXml", "w:moveTo")}
# Run children that read as text, and what they stand for.
_RUN_CHARACTERS = {qn("w:tab"): "\t", qn("w:br"): "\n", qn("w:cr"): "\n", qn("w:noBreakHyphen"): "\u2011"}
_ZERO_WIDTH = {qn("w:lastRenderedPageBreak")}  # a layout cache Word rewrites; dropped from split runs
_LEFT_AS_IS = {
    qn("w:fldSimple"): "フィールド",
    qn("m:oMath"): "数式",
    qn("m:oMathPara"): "数式",
    qn("w:sdt"): "文中のコンテンツ コントロール",
    qn("w:del"): "変更履歴の削除部分",
    qn("w:moveFrom"): "変更履歴の削除部分",
}
_UNREAD_PARTS = {RT.FOOTNOTES: "脚注", RT.ENDNOTES: "文末脚注", RT.COMMENTS: "コメント"}
_RUBY_PR_ORDER = ("w:rubyAlign", "w:hps", "w:hpsRaise", "w:hpsBaseText", "w:lid")


@dataclass
class RubyReport:
    """What add_ruby did: ruby added, guessed readings to check, and what it left as it was (kind → count)."""

    words: int = 0
    guessed: dict[tuple[str, str], None] = field(default_factory=dict)
    left_as_is: Counter = field(default_factory=Counter)

    def note(self) -> str:
        """One Japanese line about what was left as it was; "" when nothing was."""
        if not self.left_as_is:
            return ""
        parts = "、".join(f"{kind} {count} 個" for kind, count in self.left_as_is.items())
        return f"次の部分はルビを付けず、そのままにしました: {parts}。"


@dataclass
class _Piece:
    """A stretch of the paragraph text: a text node's characters, or one non-text run child."""

    run: etree._Element
    start: int
    text: str                          # for a non-text child, its stand-in character(s)
    child: etree._Element | None = None  # the non-text run child (tab, drawing…); None for text


def add_ruby(document: Document, engine: Engine, grade: int | None = None) -> RubyReport:
    """Add ruby over every kanji word above `grade` (all kanji when None) in the body, headers and footers."""
    report = RubyReport()
    sizes = _StyleSizes(document)
    parts = [document.part]
    for rel in document.part.rels.values():
        if rel.is_external:
            continue
        if rel.reltype in (RT.HEADER, RT.FOOTER):
            parts.append(rel.target_part)
        elif rel.reltype in _UNREAD_PARTS:
            report.left_as_is[_UNREAD_PARTS[rel.reltype]] += 1
    for part in parts:
        _Annotator(engine, grade, sizes, report).annotate(part.element)
    return report


class _Annotator:
    def __init__(self, engine: Engine, grade: int | None, sizes: _StyleSizes, report: RubyReport) -> None:
        self.engine = engine
        self.grade = grade
        self.sizes = sizes
        self.report = report
        self.field_depth = 0  # complex fields (TOC…) may span paragraphs
        self._ruby_templates: dict[tuple, etree._Element] = {}

    def annotate(self, root: etree._Element) -> None:
        boxes = sum(1 for box in root.iter(W_TXBX) if not any(a.tag == MC_FALLBACK for a in box.iterancestors()))
        if boxes:  # each box once: Word stores a copy for old readers under mc:Fallback
            self.report.left_as_is["テキストボックス"] += boxes
        for paragraph in list(root.iter(W_P)):
            if any(a.tag == W_TXBX for a in paragraph.iterancestors()):
                continue
            self.paragraph(paragraph)

    # ------------------------------------------------------------------ reading

    def paragraph(self, p: etree._Element) -> None:
        pieces: list[_Piece] = []
        self._collect(p, pieces, [0])
        text = "".join(piece.text for piece in pieces)
        if not text.strip(SEPARATOR + " \t\n"):
            return
        is_object = bytearray(len(text))  # 1 where the text stands for a tab, image, field…
        for piece in pieces:
            if piece.child is not None:
                is_object[piece.start:piece.start + len(piece.text)] = b"\x01" * len(piece.text)
        spans = [s for s in ruby_spans(text, self.engine, self.grade) if not any(is_object[s.start:s.end])]
        if not spans:
            return
        self.report.guessed.update(dict.fromkeys(self.engine.guessed(text)))
        spans = self._split_across_runs(spans, pieces, text)
        style_size = self.sizes.paragraph_size(p)
        self._rewrite(pieces, spans, style_size)

    def _collect(self, container: etree._Element, pieces: list[_Piece], position: list[int]) -> None:
        for child in container:
            tag = child.tag
            if tag == W_R:
                self._collect_run(child, pieces, position)
            elif tag in _RUN_CONTAINERS:
                self._collect(child, pieces, position)
            elif tag in _LEFT_AS_IS:
                self.report.left_as_is[_LEFT_AS_IS[tag]] += 1
                if tag not in (qn("w:del"), qn("w:moveFrom")):  # deleted text is not there for the reader
                    self._separator(pieces, position, child)
            # bookmarks, proofing marks, pPr …: no text

    def _separator(self, pieces: list[_Piece], position: list[int], element: etree._Element) -> None:
        pieces.append(_Piece(element, position[0], SEPARATOR, element))
        position[0] += 1

    def _collect_run(self, run: etree._Element, pieces: list[_Piece], position: list[int]) -> None:
        fld_chars = run.findall(qn("w:fldChar"))
        for fld in fld_chars:
            kind = fld.get(qn("w:fldCharType"))
            if kind == "begin":
                if self.field_depth == 0:
                    self.report.left_as_is["フィールド"] += 1
                self.field_depth += 1
            elif kind == "end":
                self.field_depth = max(0, self.field_depth - 1)
        if fld_chars or self.field_depth or run.find(qn("w:instrText")) is not None:
            self._separator(pieces, position, run)
            return
        if run.find(qn("w:ruby")) is not None:
            self.report.left_as_is["既存のルビ"] += 1
            self._separator(pieces, position, run)
            return
        for child in run:
            if child.tag == W_RPR or child.tag in _ZERO_WIDTH:
                continue
            text = (child.text or "") if child.tag == W_T else _RUN_CHARACTERS.get(child.tag, SEPARATOR)
            pieces.append(_Piece(run, position[0], text, None if child.tag == W_T else child))
            position[0] += len(text)

    def _split_across_runs(self, spans: list[RubySpan], pieces: list[_Piece], text: str) -> list[RubySpan]:
        """Spans over two or more runs: one span per run when the parts' own readings add up to the word's
        reading (住民|票 → じゅうみん|ひょう), which every viewer draws right. Otherwise (a sound change, as in
        区|役所 read くやくしょ …) one ruby over all the runs, as Word writes it — unless the runs sit in
        different containers (half a word in a hyperlink), where each part is then read on its own."""
        out: list[RubySpan] = []
        starts = [p.start for p in pieces]
        for span in spans:
            cuts: list[tuple[int, int, etree._Element]] = []  # (start, end, run) per run under the span
            for p in pieces[max(0, bisect.bisect_right(starts, span.start) - 1):]:
                if p.start >= span.end:
                    break
                start, end = max(p.start, span.start), min(p.start + len(p.text), span.end)
                if start >= end:
                    continue
                if cuts and cuts[-1][2] is p.run:
                    cuts[-1] = (cuts[-1][0], end, p.run)
                else:
                    cuts.append((start, end, p.run))
            if len(cuts) == 1:
                out.append(span)
                continue
            readings = [self._reading(text[start:end]) for start, end, _ in cuts]
            if "".join(readings) == span.reading:
                out.extend(RubySpan(start, end, reading) for (start, end, _), reading in zip(cuts, readings))
            elif len({id(run.getparent()) for _, _, run in cuts}) == 1:
                out.append(span)
            else:
                for start, end, _ in cuts:
                    out.extend(RubySpan(start + s.start, start + s.end, s.reading)
                               for s in ruby_spans(text[start:end], self.engine, self.grade))
        return out

    def _reading(self, text: str) -> str:
        return to_hiragana("".join(reading for _, reading in self.engine.tokens(text)))

    # ------------------------------------------------------------------ writing

    def _ruby_template(self, blank: etree._Element, rpr: etree._Element | None, size: int) -> etree._Element:
        key = (etree.tostring(blank), size)
        if key not in self._ruby_templates:
            self._ruby_templates[key] = _ruby_run(blank, rpr, size)
        return self._ruby_templates[key]

    def _rewrite(self, pieces: list[_Piece], spans: list[RubySpan], style_size: int) -> None:
        """Replace each run touched by a span with plain runs and ruby runs, in the same place."""
        covered = bytearray(pieces[-1].start + len(pieces[-1].text))
        for span in spans:
            covered[span.start:span.end] = b"\x01" * (span.end - span.start)
        touched = {id(p.run) for p in pieces if p.child is None and any(covered[p.start:p.start + len(p.text)])}
        span_index = 0
        open_base: etree._Element | None = None  # the rubyBase of the span being written
        open_span: RubySpan | None = None
        by_run: dict[int, list[_Piece]] = {}
        order: list[etree._Element] = []
        for piece in pieces:
            if id(piece.run) in touched:
                if id(piece.run) not in by_run:
                    order.append(piece.run)
                by_run.setdefault(id(piece.run), []).append(piece)
        for run in order:
            rpr = run.find(W_RPR)
            blank = _new_run(run, rpr)  # copied for every piece: building elements one by one is slow
            ruby_template = self._ruby_template(blank, rpr, self.sizes.run_size(rpr, style_size))
            replacement: list[etree._Element] = []
            plain: etree._Element | None = None
            for piece in by_run[id(run)]:
                if piece.child is not None:  # tab, break, drawing…: moved as they are into a plain run
                    if plain is None:
                        plain = copy.deepcopy(blank)
                        replacement.append(plain)
                    plain.append(piece.child)
                    continue
                cut = piece.start
                end = piece.start + len(piece.text)
                while cut < end:
                    while span_index < len(spans) and spans[span_index].end <= cut:
                        span_index += 1
                    span = spans[span_index] if span_index < len(spans) else None
                    if span is not None and span.start <= cut:
                        stop = min(end, span.end)
                        if open_span is not span:
                            outer, open_base = _filled_ruby(ruby_template, span.reading)
                            open_span = span
                            replacement.append(outer)
                            self.report.words += 1
                        base_run = copy.deepcopy(blank)
                        _append_text(base_run, piece.text[cut - piece.start:stop - piece.start])
                        open_base.append(base_run)
                        plain = None
                    else:
                        stop = min(end, span.start) if span is not None else end
                        if plain is None:
                            plain = copy.deepcopy(blank)
                            replacement.append(plain)
                        _append_text(plain, piece.text[cut - piece.start:stop - piece.start])
                    cut = stop
            for element in replacement:
                run.addprevious(element)
            run.getparent().remove(run)


def _element(tag: str) -> etree._Element:
    """A new, empty WordprocessingML element ("w:r"), of python-docx's element class."""
    return oxml_parser.makeelement(qn(tag))


def _new_run(like: etree._Element, rpr: etree._Element | None) -> etree._Element:
    run = _element("w:r")
    for name, value in like.attrib.items():
        run.set(name, value)
    if rpr is not None:
        run.append(copy.deepcopy(rpr))
    return run


def _append_text(run: etree._Element, text: str) -> None:
    if not text:
        return
    t = etree.SubElement(run, W_T)
    t.text = text
    if text != text.strip():
        t.set(XML_SPACE, "preserve")


def _ruby_run(blank: etree._Element, rpr: etree._Element | None, base_size: int) -> etree._Element:
    """`<w:r><w:ruby>rubyPr, rt (an empty reading), rubyBase (empty)</w:ruby></w:r>`, for _filled_ruby to copy."""
    outer = copy.deepcopy(blank)
    ruby = _element("w:ruby")
    ruby_pr = _element("w:rubyPr")
    reading_size = max(2, round(base_size / 2))
    values = ("distributeSpace", reading_size, max(reading_size, base_size - 2), base_size, "ja-JP")
    for name, value in zip(_RUBY_PR_ORDER, values):
        element = _element(name)
        element.set(qn("w:val"), str(value))
        ruby_pr.append(element)
    rt = _element("w:rt")
    rt_run = _element("w:r")
    rt_run.append(_reading_rpr(rpr, reading_size))
    etree.SubElement(rt_run, W_T)
    rt.append(rt_run)
    ruby.extend([ruby_pr, rt, _element("w:rubyBase")])
    outer.append(ruby)
    return outer


def _filled_ruby(template: etree._Element, reading: str) -> tuple[etree._Element, etree._Element]:
    """A copy of a _ruby_run template with `reading` in; returns the outer run and its empty rubyBase."""
    outer = copy.deepcopy(template)
    ruby = outer[-1]
    reading_text = ruby[1][0][-1]
    reading_text.text = reading
    if reading != reading.strip():
        reading_text.set(XML_SPACE, "preserve")
    return outer, ruby[2]


_NOT_ON_READINGS = {qn(t) for t in ("w:sz", "w:szCs", "w:u", "w:position", "w:vertAlign", "w:kern", "w:rStyle",
                                   "w:spacing", "w:w", "w:fitText", "w:em", "w:rPrChange")}


def _reading_rpr(rpr: etree._Element | None, half_points: int) -> etree._Element:
    """The base run's fonts and colour at the reading size, without underline, emphasis marks or spacing."""
    reading = copy.deepcopy(rpr) if rpr is not None else _element("w:rPr")
    for child in list(reading):
        if child.tag in _NOT_ON_READINGS:
            reading.remove(child)
    for name in ("w:sz", "w:szCs"):
        size = _element(name)
        size.set(qn("w:val"), str(half_points))
        _insert_in_order(reading, size)
    return reading


# The CT_RPr child order; sz/szCs must come after these and before the rest.
_BEFORE_SZ = {qn(t) for t in ("w:rStyle", "w:rFonts", "w:b", "w:bCs", "w:i", "w:iCs", "w:caps", "w:smallCaps",
                              "w:strike", "w:dstrike", "w:outline", "w:shadow", "w:emboss", "w:imprint",
                              "w:noProof", "w:snapToGrid", "w:vanish", "w:webHidden", "w:color", "w:spacing",
                              "w:w", "w:kern", "w:position", "w:sz")}


def _insert_in_order(rpr: etree._Element, element: etree._Element) -> None:
    index = 0
    for i, child in enumerate(rpr):
        if child.tag in _BEFORE_SZ:
            index = i + 1
    rpr.insert(index, element)


class _StyleSizes:
    """Font sizes (half-points) from run formatting, character and paragraph styles and the document defaults."""

    def __init__(self, document: Document) -> None:
        styles = document.styles.element
        self.by_id = {s.get(qn("w:styleId")): s for s in styles.findall(qn("w:style"))}
        self.default_paragraph = next((s.get(qn("w:styleId")) for s in styles.findall(qn("w:style"))
                                       if s.get(qn("w:type")) == "paragraph" and s.get(qn("w:default")) in ("1", "true")), None)
        defaults = styles.find(f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:sz')}")
        self.document_default = int(defaults.get(qn("w:val"))) if defaults is not None else DEFAULT_HALF_POINTS
        self._cache: dict[str | None, int] = {}

    def style_size(self, style_id: str | None) -> int | None:
        seen: set[str] = set()
        while style_id and style_id in self.by_id and style_id not in seen:
            seen.add(style_id)
            style = self.by_id[style_id]
            sz = style.find(f"{qn('w:rPr')}/{qn('w:sz')}")
            if sz is not None and sz.get(qn("w:val"), "").isdigit():
                return int(sz.get(qn("w:val")))
            based = style.find(qn("w:basedOn"))
            style_id = based.get(qn("w:val")) if based is not None else None
        return None

    def paragraph_size(self, p: etree._Element) -> int:
        pstyle = p.find(f"{qn('w:pPr')}/{qn('w:pStyle')}")
        style_id = pstyle.get(qn("w:val")) if pstyle is not None else self.default_paragraph
        if style_id not in self._cache:
            self._cache[style_id] = self.style_size(style_id) or self.style_size(self.default_paragraph) or self.document_default
        return self._cache[style_id]

    def run_size(self, rpr: etree._Element | None, paragraph_size: int) -> int:
        if rpr is None:
            return paragraph_size
        sz = rpr.find(qn("w:sz"))
        if sz is not None and sz.get(qn("w:val"), "").isdigit():
            return int(sz.get(qn("w:val")))
        rstyle = rpr.find(qn("w:rStyle"))
        if rstyle is not None:
            return self.style_size(rstyle.get(qn("w:val"))) or paragraph_size
        return paragraph_size
