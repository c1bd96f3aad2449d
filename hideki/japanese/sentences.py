"""Split Japanese text into sentences.

Boundaries are 。！？!? (a run of them stays with its sentence, as do closing
brackets that follow directly, e.g. 「はい。」) and line breaks. Terminators inside
「」『』（）() and similar brackets do not end a sentence. A line whose brackets do
not balance is split as if it had no brackets, so one stray 「 cannot swallow a
long text. Runs in linear time.
"""
from __future__ import annotations

import re

TERMINATORS = frozenset("。！？!?｡")
OPENERS = {"「": "」", "『": "』", "（": "）", "(": ")", "【": "】", "〔": "〕", "［": "］", "《": "》", "〈": "〉", "“": "”"}
CLOSERS = frozenset(OPENERS.values())

_LINE_BREAK = re.compile(r"\r\n|\r|\n|\u2028|\u2029")


def _balanced(line: str) -> bool:
    stack: list[str] = []
    for ch in line:
        if ch in OPENERS:
            stack.append(OPENERS[ch])
        elif ch in CLOSERS:
            if not stack or stack[-1] != ch:
                return False
            stack.pop()
    return not stack


def _split_line(line: str, use_brackets: bool) -> list[str]:
    sentences: list[str] = []
    start = 0
    depth = 0
    i = 0
    n = len(line)
    while i < n:
        ch = line[i]
        if use_brackets and ch in OPENERS:
            depth += 1
        elif use_brackets and ch in CLOSERS:
            depth = max(0, depth - 1)
        elif ch in TERMINATORS and depth == 0:
            j = i + 1
            while j < n and (line[j] in TERMINATORS or line[j] in "…‥"):
                j += 1
            sentences.append(line[start:j])
            start = j
            i = j
            continue
        i += 1
    if start < n:
        sentences.append(line[start:])
    return sentences


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`, each with its terminal punctuation, stripped of outer spaces."""
    result: list[str] = []
    for line in _LINE_BREAK.split(text):
        if not line.strip():
            continue
        for sentence in _split_line(line, use_brackets=_balanced(line)):
            sentence = sentence.strip(" \t\u3000")
            if sentence:
                result.append(sentence)
    return result


def split_paragraphs(text: str) -> list[list[str]]:
    """Sentences grouped by line; blank lines give empty groups (to keep paragraph breaks)."""
    return [
        [s.strip(" \t\u3000") for s in _split_line(line, _balanced(line)) if s.strip(" \t\u3000")]
        for line in _LINE_BREAK.split(text)
    ]
