"""Sentence units of a transcript: every sentence of every utterance, as said and without speech fillers.

The minutes engine works on these units; each keeps the speaker, start time and line of its utterance.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from hideki.japanese.sentences import split_sentences
from hideki.minutes.transcripts import Transcript

_FILLER_RE = re.compile(
    r"(?:(?<=^)|(?<=[、。！？!?\s　「]))"
    r"(?:え[ーっ]+と?|ええと|えっと|えと|あの[ーぉお]+|あのー?(?=[、\s　])|その[ーぉお]+|まあ(?=[、\s　])|まぁ|"
    r"うーん|うん(?=[、\s　])|んー|あー+|おー+(?=[、\s　])|なんか(?=[、\s　])|ちょっと(?=[、\s　])|"
    r"そうですね(?=[、\s　])|はい(?=[、\s　])|ええ(?=[、\s　]))[ー、\s　]*"
)
_SPACES_RE = re.compile(r"[ \t　]+")


def clean_text(text: str) -> str:
    """Sentence without speech fillers (えーと, あのー, まあ, …) at clause starts."""
    previous = None
    text = text.strip()
    while previous != text:
        previous = text
        text = _FILLER_RE.sub("", text)
    text = re.sub(r"、{2,}", "、", text)
    text = re.sub(r"^[、\s　]+", "", text)
    return _SPACES_RE.sub(" ", text).strip()


@dataclass
class Unit:
    text: str          # the sentence as said
    clean: str         # without fillers
    speaker: str
    start: str
    line: int
    utterance: int     # index of the utterance
    index: int         # index of the sentence inside the utterance


def sentence_units(transcript: Transcript) -> list[Unit]:
    """The sentences of the transcript's utterances, in order."""
    units: list[Unit] = []
    for ui, u in enumerate(transcript.utterances):
        for si, sentence in enumerate(split_sentences(u.text)):
            units.append(Unit(sentence, clean_text(sentence), u.speaker, u.start, u.line, ui, si))
    return units
