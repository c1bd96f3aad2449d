"""One shared Sudachi dictionary per process (loading it takes ~100 ms and ~70 MB), one tokenizer per thread.

Sudachi tokenizers are not thread-safe ("Tokenizer is already in use"): pipelines run their local engines
with asyncio.to_thread, so each worker thread gets its own tokenizers over the shared dictionary.
"""
from __future__ import annotations

import threading
from functools import lru_cache

from sudachipy import Dictionary, SplitMode, Tokenizer

MODES = {"A": SplitMode.A, "B": SplitMode.B, "C": SplitMode.C}


@lru_cache(maxsize=1)
def dictionary() -> Dictionary:
    return Dictionary(dict="core")


_local = threading.local()


def tokenizer(mode: str = "C") -> Tokenizer:
    """This thread's tokenizer for a split mode ("A" short units … "C" long units)."""
    cache = getattr(_local, "tokenizers", None)
    if cache is None:
        cache = _local.tokenizers = {}
    tok = cache.get(mode)
    if tok is None:
        tok = cache[mode] = dictionary().tokenizer(mode=MODES[mode])
    return tok


MAX_BYTES = 40_000  # Sudachi refuses an input over 49,149 bytes


def pieces(text: str, max_bytes: int = MAX_BYTES) -> list[str]:
    """`text` cut into pieces Sudachi accepts, at line ends where possible, else sentence ends, else anywhere.
    Joined, the pieces are `text`."""
    if len(text.encode("utf-8")) <= max_bytes:
        return [text]
    out: list[str] = []
    current, size = "", 0
    for unit in _units(text, max_bytes):
        unit_size = len(unit.encode("utf-8"))
        if current and size + unit_size > max_bytes:
            out.append(current)
            current, size = "", 0
        current += unit
        size += unit_size
    if current:
        out.append(current)
    return out


def _units(text: str, max_bytes: int) -> list[str]:
    units: list[str] = []
    for line in text.splitlines(keepends=True):
        if len(line.encode("utf-8")) <= max_bytes:
            units.append(line)
            continue
        start = 0
        for i, ch in enumerate(line):
            if ch in "。！？!?" or i - start >= max_bytes // 4:  # 4 bytes is the most a character takes
                units.append(line[start : i + 1])
                start = i + 1
        if start < len(line):
            units.append(line[start:])
    return units


def tokenize(text: str, mode: str = "C") -> list:
    """Morphemes of a text of any length."""
    tok = tokenizer(mode)
    return [m for piece in pieces(text) for m in tok.tokenize(piece)]
