"""The masking client in front of the model: nothing personal leaves the machine.

`MaskingClient` wraps a pipeline's LLMClient. Before each call the user-side messages are analysed locally
(hideki.pii.detect). In "mask" mode personal information is replaced by placeholders (［氏名1］, ［電話番号1］ …) that
the model sees instead, and the originals are put back into its answer; in "block" mode the call is not made
at all and the pipeline answers with its offline engine, saying what was found. Counts per category (never
the values) go to the audit log and the metrics. A streamed answer is restored as it arrives: the tail that
could still be the start of a placeholder is held back until the next chunk shows what it is, so the text
handed on only ever grows.
"""
from __future__ import annotations

import asyncio
import re
from collections import Counter
from typing import Any

from hideki.llm.gateway import Completion, LLMClient, LLMError, Message, TextSink
from hideki.metrics import PII_FINDINGS
from hideki.pii.detect import describe, find_pii, mask, restore

_SEPARATOR = "\n\u241e\n"  # joins the messages so that one mapping covers a whole call
SCANNED_ROLES = ("user", "assistant")  # system prompts are the admins' own text
_OPENING = "［[【〔〖(（<＜「『"  # brackets a model may put around a placeholder (hideki.pii.detect.restore)
_CLOSING = "］]】〕〗)）>＞」』"
_HOLD_CHARS = 24  # a placeholder is never longer than this, spaces and digits included


def settled_length(text: str, labels: set[str]) -> int:
    """How much of a streamed `text` can be restored now: all of it, except a tail that could still grow into a
    placeholder — an open bracket not closed yet, the start of a label, or a label and digits."""
    for i in range(max(0, len(text) - _HOLD_CHARS), len(text)):
        rest = text[i:]
        if rest[0] in _OPENING and not any(c in _CLOSING for c in rest):
            return i
        if any(label.startswith(rest) or re.fullmatch(re.escape(label) + r"[ 　]*[0-9０-９]*", rest) for label in labels):
            return i
    return len(text)


def restoring(sink: TextSink, mapping: dict[str, str]) -> TextSink:
    """`sink` fed with a streamed answer's text so far, placeholders restored, never half a placeholder."""
    labels = {placeholder.strip("［］").rstrip("0123456789") for placeholder in mapping}
    shown = 0

    async def restored(text: str) -> None:
        nonlocal shown
        settled = settled_length(text, labels)
        if settled > shown:
            shown = settled
            await sink(restore(text[:settled], mapping))

    return restored


class MaskingClient:
    def __init__(self, inner: LLMClient, mode: str) -> None:
        if mode not in ("mask", "block"):
            raise ValueError(f"unknown PII mode {mode!r}")
        self._inner = inner
        self.mode = mode
        self.pii_counts: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:  # model, counter, params, input_budget …
        return getattr(self._inner, name)

    async def complete(self, messages: list[Message], *, on_text: TextSink | None = None, **kwargs: Any) -> Completion:
        scanned = [i for i, m in enumerate(messages) if m.get("role") in SCANNED_ROLES and m.get("content")]
        joined = _SEPARATOR.join(messages[i]["content"] for i in scanned)
        findings = await asyncio.to_thread(find_pii, joined)  # Sudachi work: off the event loop
        if not findings:
            return await self._inner.complete(messages, on_text=on_text, **kwargs)
        counts = Counter(f.category for f in findings)
        for category, n in counts.items():
            PII_FINDINGS.labels(category, self.mode).inc(n)
        self.pii_counts.update(counts)
        if self.mode == "block":
            raise LLMError("pii_blocked", f"{describe(findings)}。個人情報を含むため、生成AIには送りませんでした。")
        masked, mapping = mask(joined, findings)
        parts = masked.split(_SEPARATOR)
        if len(parts) != len(scanned):  # a finding spanned two messages: mask each on its own, never send raw
            raise LLMError("pii_blocked", f"{describe(findings)}。個人情報を含むため、生成AIには送りませんでした。")
        safe = [dict(m) for m in messages]
        for index, part in zip(scanned, parts):
            safe[index]["content"] = part
        try:
            completion = await self._inner.complete(safe, on_text=restoring(on_text, mapping) if on_text else None, **kwargs)
        except LLMError as error:
            error.partial = restore(error.partial, mapping)
            raise
        completion.text = restore(completion.text, mapping)
        return completion
