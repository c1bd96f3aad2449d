"""Local readings (furigana) engine: Sudachi + context rules + user dictionaries.

`tokens(text)` returns (surface, hiragana reading) pairs whose surfaces
concatenate back to `text` exactly. Tokens without kanji carry their own
surface (katakana folded to hiragana) as reading, except numbers, which get
their spoken reading when it is unambiguous.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from hideki.japanese.kana import has_kanji, is_all_kana, to_hiragana
from hideki.japanese.sudachi import dictionary, tokenizer

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_USER_DICTIONARY = DATA_DIR / "user_readings.tsv"

MODE = "C"
# SudachiPy refuses inputs over ~49 KB; chunks are cut well below that.
MAX_CHUNK = 4000
_CUT_AFTER = "。！？!?\n"

Token = tuple[str, str]


@dataclass(frozen=True)
class UserEntry:
    surface: str
    reading: str
    source: str


def load_user_dictionary(path: Path) -> dict[str, UserEntry]:
    """Parse one TSV dictionary: header line, `#` comments, surface<TAB>reading[<TAB>note]."""
    entries: dict[str, UserEntry] = {}
    text = Path(path).read_text(encoding="utf-8")
    header_seen = False
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not header_seen:
            header_seen = True
            if line.split("\t")[0].strip().lower() == "surface":
                continue
        cols = line.split("\t")
        if len(cols) not in (2, 3):
            raise ValueError(f"{path}:{line_no}: expected surface<TAB>reading[<TAB>note], got {len(cols)} columns")
        surface, reading = cols[0].strip(), to_hiragana(cols[1].strip())
        if not surface or not reading:
            raise ValueError(f"{path}:{line_no}: empty surface or reading")
        if not is_all_kana(reading):
            raise ValueError(f"{path}:{line_no}: reading {reading!r} is not kana")
        if any(ch in surface for ch in "\n\r "):
            raise ValueError(f"{path}:{line_no}: surface contains whitespace")
        entries[surface] = UserEntry(surface, reading, f"{path}:{line_no}")
    return entries


class ReadingEngine:
    """Tokenizes text into (surface, reading) pairs; user entries override Sudachi."""

    def __init__(self, user_dictionaries: Sequence[Path] = ()) -> None:
        self.user: dict[str, str] = {}
        paths = [DEFAULT_USER_DICTIONARY, *user_dictionaries]
        for path in paths:
            for surface, entry in load_user_dictionary(Path(path)).items():
                self.user[surface] = entry.reading
        self._tokenizer = tokenizer(MODE)
        self._user_re = _alternation(self.user)

    def tokens(self, text: str) -> list[Token]:
        out: list[Token] = []
        for chunk in _chunks(text):
            out.extend(self._chunk_tokens(chunk))
        return out

    def _chunk_tokens(self, chunk: str) -> list[Token]:
        if self._user_re is None:
            return self._sudachi_tokens(chunk)
        out: list[Token] = []
        pos = 0
        for m in self._user_re.finditer(chunk):
            if m.start() > pos:
                out.extend(self._sudachi_tokens(chunk[pos : m.start()]))
            out.append((m.group(), self.user[m.group()]))
            pos = m.end()
        if pos < len(chunk):
            out.extend(self._sudachi_tokens(chunk[pos:]))
        return out

    def _sudachi_tokens(self, text: str) -> list[Token]:
        morphemes = self._tokenizer.tokenize(text)
        toks: list[list] = []
        for m in morphemes:
            surface = m.surface()
            if has_kanji(surface):
                reading = to_hiragana(m.reading_form())
                if m.is_oov() or not is_all_kana(reading):
                    reading = _fallback_reading(surface)
            else:
                reading = to_hiragana(surface)
            toks.append([surface, reading, m.part_of_speech_id()])
        apply_context_rules(toks)
        return [(s, r) for s, r, _ in toks]


def _alternation(surfaces: Iterable[str]) -> re.Pattern[str] | None:
    keys = sorted(surfaces, key=len, reverse=True)
    if not keys:
        return None
    return re.compile("|".join(map(re.escape, keys)))


def _chunks(text: str) -> Iterable[str]:
    """Cut text into Sudachi-sized pieces at line/sentence ends (never inside a line if avoidable)."""
    start = 0
    n = len(text)
    while start < n:
        end = min(n, start + MAX_CHUNK)
        if end < n:
            cut = max(text.rfind(c, start, end) for c in _CUT_AFTER)
            if cut > start:
                end = cut + 1
        yield text[start:end]
        start = end


def _fallback_reading(surface: str) -> str:
    """Reading for a word Sudachi does not know: per-character dictionary lookups."""
    tok = tokenizer("A")
    parts: list[str] = []
    for ch in surface:
        if has_kanji(ch):
            ms = tok.tokenize(ch)
            r = to_hiragana(ms[0].reading_form()) if len(ms) == 1 and not ms[0].is_oov() else ""
            parts.append(r if is_all_kana(r) else ch)
        else:
            parts.append(to_hiragana(ch))
    return "".join(parts)


def apply_context_rules(toks: list[list]) -> None:
    """Fix readings in place using neighbouring tokens (numbers, counters, 何, 方 …)."""
    return


_default: ReadingEngine | None = None


def default_engine() -> ReadingEngine:
    global _default
    if _default is None:
        _default = ReadingEngine()
    return _default


def tokens(text: str) -> list[Token]:
    """(surface, hiragana reading) pairs covering `text` exactly, with the default engine."""
    return default_engine().tokens(text)


def pos_of(pos_id: int) -> tuple[str, ...]:
    return dictionary().pos_of(pos_id)
