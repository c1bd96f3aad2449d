"""One shared Sudachi dictionary per process (loading it takes ~100 ms and ~70 MB)."""
from __future__ import annotations

from functools import lru_cache

from sudachipy import Dictionary, SplitMode, Tokenizer

MODES = {"A": SplitMode.A, "B": SplitMode.B, "C": SplitMode.C}


@lru_cache(maxsize=1)
def dictionary() -> Dictionary:
    return Dictionary(dict="core")


@lru_cache(maxsize=3)
def tokenizer(mode: str = "C") -> Tokenizer:
    """A tokenizer bound to a split mode ("A" short units … "C" long units)."""
    return dictionary().tokenizer(mode=MODES[mode])
