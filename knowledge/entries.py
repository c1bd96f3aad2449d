"""An FAQ entry: what importers produce, what the index stores and what answers cite."""
from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Entry:
    id: str  # stable across imports: an explicit id column, else derived from source + question
    question: str  # for manuals chunked by sentences: the section title or first sentence
    answer: str
    category: str = ""
    keywords: tuple[str, ...] = ()
    url: str = ""
    updated: str = ""  # ISO date (YYYY-MM-DD) when known
    source: str = ""  # file name it came from
    location: str = ""  # where in the file: "行 12", "p. 3", "見出し「VPN」"

    @property
    def content_hash(self) -> str:
        """Changes when anything users see or retrieval uses changes."""
        payload = json.dumps([self.question, self.answer, self.category, list(self.keywords), self.url, self.updated],
                             ensure_ascii=False)
        return hashlib.sha1(payload.encode("utf-8")).hexdigest()

    @property
    def text(self) -> str:
        """What is indexed: question, keywords and answer."""
        keywords = " ".join(self.keywords)
        return f"{self.question}\n{keywords}\n{self.answer}".strip()

    def to_json(self) -> dict:
        data = asdict(self)
        data["keywords"] = list(self.keywords)
        return data

    @classmethod
    def from_json(cls, data: dict) -> "Entry":
        return cls(**{**data, "keywords": tuple(data.get("keywords") or ())})


def stable_id(source: str, key: str) -> str:
    """An id from the source file name and a key (normally the question), robust to width and spacing."""
    norm = unicodedata.normalize("NFKC", f"{source}\n{key}").strip().lower()
    return "faq-" + hashlib.sha1(norm.encode("utf-8")).hexdigest()[:12]


@dataclass
class Problem:
    """Something wrong in a source file, for the validation report."""

    source: str
    location: str  # "行 12" …
    message: str  # Japanese, for admins
    severity: str = "error"  # "error": row skipped; "warning": imported anyway


@dataclass
class ImportResult:
    entries: list[Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
