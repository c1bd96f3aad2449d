"""Adaptive Cards for Teams, built from a Reply's typed fields (buttons, related questions, 👍/👎).

Small typed builders in the spirit of the Teams SDK (microsoft/teams.py): each element is a dataclass with
`to_json()`; `card_for(reply)` lays out the one card an answer may carry. Pipelines never write card JSON.
Every button is an Action.Submit whose data carry {"hideki_action": "<pipeline>.<verb>", ...}; a press comes
back to bot/ and on to that pipeline's `act`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Union

from channels.base import Button, Reply

CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.4"
TITLE_CHARS = 80  # longer button titles are cut (the data keep the whole text)

FEEDBACK_QUESTION = "この回答は役に立ちましたか？"
FEEDBACK_UP = "👍 役に立った"
FEEDBACK_DOWN = "👎 役に立たない"
RELATED_HEADING = "関連する質問"


@dataclass(frozen=True)
class TextBlock:
    text: str
    size: Literal["Small", "Default", "Large"] | None = None
    weight: Literal["Lighter", "Default", "Bolder"] | None = None
    wrap: bool = True

    def to_json(self) -> dict[str, Any]:
        block: dict[str, Any] = {"type": "TextBlock", "text": self.text, "wrap": self.wrap}
        if self.size:
            block["size"] = self.size
        if self.weight:
            block["weight"] = self.weight
        return block


@dataclass(frozen=True)
class SubmitAction:
    """A button that posts `data` back to the bot."""

    title: str
    data: dict[str, Any]

    @classmethod
    def of(cls, button: Button) -> SubmitAction:
        return cls(button.title[:TITLE_CHARS], {"hideki_action": button.action, **button.data})

    def to_json(self) -> dict[str, Any]:
        return {"type": "Action.Submit", "title": self.title, "data": self.data}


@dataclass(frozen=True)
class ActionSet:
    """Buttons inside the card's body (the card's own `actions` come at its foot)."""

    actions: list[SubmitAction]

    def to_json(self) -> dict[str, Any]:
        return {"type": "ActionSet", "actions": [a.to_json() for a in self.actions]}


Element = Union[TextBlock, ActionSet]


@dataclass(frozen=True)
class AdaptiveCard:
    body: list[Element] = field(default_factory=list)
    actions: list[SubmitAction] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The card's content, as it goes into an attachment."""
        return {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION,
                "body": [e.to_json() for e in self.body], "actions": [a.to_json() for a in self.actions]}

    def attachment(self) -> dict[str, Any]:
        return {"contentType": CONTENT_TYPE, "content": self.to_json()}


def card_for(reply: Reply, feedback_buttons: bool = True) -> AdaptiveCard | None:
    """The card under an answer: the caption and buttons, the 👍/👎 question, related questions. None: no card.
    `feedback_buttons=False` where the message carries Teams' own feedback controls instead (bot/entities.py)."""
    wants_votes = reply.feedback is not None and feedback_buttons
    if not (reply.buttons or wants_votes or reply.related):
        return None
    body: list[Element] = []
    actions = [SubmitAction.of(b) for b in reply.buttons]
    if reply.caption:
        body.append(TextBlock(reply.caption, weight="Bolder") if reply.confirm else TextBlock(reply.caption, size="Small"))
    if wants_votes and reply.feedback is not None:
        body.append(TextBlock(FEEDBACK_QUESTION, size="Small"))
        vote = {"hideki_action": reply.feedback.action, "answer": reply.feedback.answer}
        actions += [SubmitAction(FEEDBACK_UP, {**vote, "verdict": "up"}), SubmitAction(FEEDBACK_DOWN, {**vote, "verdict": "down"})]
    if reply.related:
        body += [TextBlock(RELATED_HEADING, weight="Bolder"), ActionSet([SubmitAction.of(b) for b in reply.related])]
    return AdaptiveCard(body, actions)
