"""Where the ruby goes in a text: (base, reading) spans, the same ones chat and the HTML button show.

hideki.japanese.furigana.render decides which words get readings (grade filter, okurigana split,
digits joined to a changed counter). We ask it for `<ruby>` markup and read that back into spans, so a
Word document and a chat message can never disagree about a reading.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass

from hideki.japanese.furigana import Engine, render

_RUBY = re.compile(r"<ruby>(.*?)<rt>(.*?)</rt></ruby>", re.S)


@dataclass(frozen=True)
class RubySpan:
    """text[start:end] is the base that gets `reading` above it."""

    start: int
    end: int
    reading: str


def ruby_spans(text: str, engine: Engine, grade: int | None = None) -> list[RubySpan]:
    """The ruby spans of `text` in order; an empty list when nothing needs a reading."""
    if not text:
        return []
    marked = render(text, style="html", grade=grade, engine=engine)
    spans: list[RubySpan] = []
    position = 0   # in text
    cursor = 0     # in marked
    for m in _RUBY.finditer(marked):
        position += len(html.unescape(marked[cursor:m.start()]))
        base = html.unescape(m.group(1))
        spans.append(RubySpan(position, position + len(base), html.unescape(m.group(2))))
        position += len(base)
        cursor = m.end()
    position += len(html.unescape(marked[cursor:]))
    if position != len(text):  # render changed the text: better no ruby than ruby in the wrong place
        return []
    return spans
