"""Teams' marks on an answer message: the AI label, native citations and the feedback loop, from a Reply's plain data.

Teams reads one schema.org `Message` entity per message (two are refused with a 400): `additionalType:
["AIGeneratedContent"]` draws the "AI generated" label — only on text a model wrote (`Reply.model_written`) — and
`citation` holds one `Claim` per `[n]` marker in the message's text, which Teams turns into pop-ups with the
source's name, link, abstract and keywords. `channelData.feedbackLoopEnabled` adds Teams' own 👍/👎 with a
comment box; a press comes back as a `message/submitAction` invoke (bot/handler.py).

Limits from Teams' documentation (the SDKs' CitationAppearance): name ≤ 80 characters, abstract ≤ 160,
at most 3 keywords of ≤ 28 characters each; we send at most 20 citations per message.
"""
from __future__ import annotations

import re
from typing import Any

from channels.base import Reply, Source

NAME_CHARS = 80
ABSTRACT_CHARS = 160
KEYWORD_CHARS = 28
MAX_KEYWORDS = 3
MAX_CITATIONS = 20
_MARKER = re.compile(r"\[(\d+)\]")
_MARKDOWN = re.compile(r"[*_`#>]|\[([^\]]*)\]\([^)]*\)")


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plain(markdown: str) -> str:
    """Markdown → plain text for an abstract (links keep their text)."""
    return _MARKDOWN.sub(lambda m: m.group(1) or "", markdown)


def citation(source: Source) -> dict[str, Any]:
    """One Teams citation (`Claim`) for a source cited as [source.number]."""
    appearance: dict[str, Any] = {
        "@type": "DigitalDocument",
        "name": _cut(source.title, NAME_CHARS) or f"出典 {source.number}",
        "abstract": _cut(_plain(source.excerpt or source.title), ABSTRACT_CHARS),
    }
    if source.url.startswith(("https://", "http://")):
        appearance["url"] = source.url
    keywords = [_cut(k, KEYWORD_CHARS) for k in (source.location, f"更新日 {source.updated}" if source.updated else "") if k]
    if keywords:
        appearance["keywords"] = keywords[:MAX_KEYWORDS]
    return {"@type": "Claim", "position": source.number, "appearance": appearance}


def citations_in(text: str, sources: list[Source]) -> list[dict[str, Any]]:
    """A citation for every source whose [n] marker is in `text`, in marker order, at most MAX_CITATIONS."""
    by_number = {s.number: s for s in sources}
    cited: list[int] = []
    for match in _MARKER.finditer(text):
        number = int(match.group(1))
        if number in by_number and number not in cited:
            cited.append(number)
    return [citation(by_number[n]) for n in cited[:MAX_CITATIONS]]


def message_entity(text: str, reply: Reply) -> dict[str, Any] | None:
    """The schema.org Message entity for a message showing `text` (a part of `reply`), or None if it needs none."""
    claims = citations_in(text, reply.sources)
    if not reply.model_written and not claims:
        return None
    entity: dict[str, Any] = {"type": "https://schema.org/Message", "@type": "Message", "@context": "https://schema.org", "@id": ""}
    if reply.model_written:
        entity["additionalType"] = ["AIGeneratedContent"]
    if claims:
        entity["citation"] = claims
    return entity


def feedback_loop() -> dict[str, Any]:
    """channelData that asks Teams for its own 👍/👎 under the message."""
    return {"feedbackLoopEnabled": True}


def native_feedback(channel_id: str) -> bool:
    """Teams' own feedback controls exist for bots in personal chats, group chats and channels (Microsoft Learn,
    "Enhance AI-generated bot messages"); other channels (Web Chat, Emulator) get card buttons instead."""
    return channel_id == "msteams"
