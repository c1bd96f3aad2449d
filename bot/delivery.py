"""Sending replies to Teams: proactive messages into the right thread, updates, splitting, the answer's card, and
the marks Teams puts on an answer (AI label, citations, its own 👍/👎: bot/entities.py)."""
from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from botbuilder.schema import Activity

from bot.cards import card_for
from bot.connector import Connector, Target
from bot.entities import feedback_loop, message_entity, native_feedback
from channels.base import Reply
from hideki.state.stores import FeedbackStore

if TYPE_CHECKING:
    from bot.streaming import TeamsStream

log = logging.getLogger(__name__)


def split_message(text: str, max_bytes: int) -> list[str]:
    """Cut `text` into messages of at most `max_bytes` UTF-8 bytes, at paragraph, line or sentence ends."""
    if len(text.encode("utf-8")) <= max_bytes:
        return [text]
    parts: list[str] = []
    rest = text
    while len(rest.encode("utf-8")) > max_bytes:
        window = rest.encode("utf-8")[:max_bytes].decode("utf-8", errors="ignore")
        cut = -1
        for separator in ("\n\n", "\n", "。", "、", " "):
            cut = window.rfind(separator)
            if cut > len(window) // 3:
                cut += len(separator)
                break
            cut = -1
        if cut <= 0:
            cut = len(window)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n")
    if rest.strip():
        parts.append(rest)
    return [p for p in parts if p.strip()]


_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


def teams_markdown(text: str) -> str:
    """Teams' Markdown joins lines separated by a single newline: make every line break a paragraph break,
    except inside fenced code blocks, where lines are kept as they are. Teams draws no Markdown tables, so
    tables become lists (pipelines write ordinary Markdown, which the CLI and files keep)."""
    out: list[str] = []
    in_fence = False
    for line in _tables_as_lists(text.split("\n")):
        is_fence = line.lstrip().startswith("```")
        inside = in_fence  # true for the lines of a code block and its closing fence
        if is_fence:
            in_fence = not in_fence
        if not inside and out and out[-1] != "" and line != "":
            out.append("")
        out.append(line)
    return "\n".join(out)


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _tables_as_lists(lines: list[str]) -> list[str]:
    """`| # | 質問 | 回答 |` tables → one list item per row: `1. **質問**: … ／ **回答**: …` (outside code blocks)."""
    out: list[str] = []
    i, in_fence = 0, False
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        is_table = (not in_fence and line.lstrip().startswith("|") and i + 1 < len(lines)
                    and _TABLE_RULE.match(lines[i + 1]) is not None)
        if not is_table:
            out.append(line)
            i += 1
            continue
        header = _cells(line)
        numbered = header[0] in ("#", "No.", "番号")
        i += 2
        while i < len(lines) and lines[i].lstrip().startswith("|"):
            cells = _cells(lines[i])
            pairs = [f"**{h}**: {c}" if h else c for h, c in zip(header, cells) if c][1 if numbered else 0:]
            marker = f"{cells[0]}." if numbered and cells[0].isdigit() else "-"
            out.append(f"{marker} {' ／ '.join(pairs)}")
            i += 1
    return out


def target_of(activity: Activity) -> Target:
    """Replies to `activity` go to its conversation (a channel thread carries ;messageid=) as replies to it."""
    def account(a: Any) -> dict[str, Any]:
        return {"id": a.id, "name": a.name} if a is not None else {}

    return Target(
        service_url=activity.service_url,
        conversation_id=activity.conversation.id,
        reply_to_id=activity.id,
        bot=account(activity.recipient),
        user=account(activity.from_property),
        channel_id=activity.channel_id or "msteams",
        conversation_type=activity.conversation.conversation_type or "",
    )


def conversation_key(conversation_id: str) -> str:
    """A conversation's id without the thread part (`;messageid=…`) that channel replies carry."""
    return conversation_id.split(";", 1)[0]


def _message(text: str) -> dict[str, Any]:
    return {"type": "message", "text": teams_markdown(text), "textFormat": "markdown"}


def answer_message(text: str, reply: Reply, feedback: bool) -> dict[str, Any]:
    """A message showing `text` (all or part of `reply`): its AI label and citations, and Teams' own 👍/👎 if
    `feedback`."""
    fields = _message(text)
    if (entity := message_entity(text, reply)) is not None:
        fields["entities"] = [entity]
    if feedback:
        fields["channelData"] = feedback_loop()
    return fields


class Delivery:
    """Every proactive activity goes through here."""

    def __init__(self, connector: Connector, feedback: FeedbackStore | None = None) -> None:
        self.connector = connector  # also what bot/streaming.py streams through
        self._feedback = feedback  # where messages with Teams' own 👍/👎 are linked to their answers

    async def close(self) -> None:
        await self.connector.close()

    async def typing(self, target: Target) -> None:
        await self.connector.send(target, {"type": "typing"})

    async def send(self, target: Target, text: str) -> str | None:
        """Send a message into the thread; returns its activity id (for later updates)."""
        return await self.connector.send(target, _message(text))

    async def attachment(self, target: Target, attachment: dict[str, Any], text: str = "") -> str | None:
        """Send one attachment (a file consent or file info card, bot/files.py), with an optional line of text."""
        fields: dict[str, Any] = {"type": "message", "attachments": [attachment]}
        if text:
            fields.update(text=teams_markdown(text), textFormat="markdown")
        return await self.connector.send(target, fields)

    async def update(self, target: Target, activity_id: str, text: str) -> None:
        await self.connector.update(target, activity_id, _message(text))

    async def reply(self, target: Target, placeholder_id: str | None, reply: Reply, max_bytes: int,
                    stream: TeamsStream | None = None) -> None:
        """Deliver a whole answer: the first part of its text ends the stream (bot/streaming.py) or replaces the
        placeholder, the rest follow, then the card made from its buttons, related questions and — where Teams'
        own feedback controls are not available — 👍/👎 (bot/cards.py). Every part carries its AI label and
        citations; the last one Teams' 👍/👎, linked to the answer for the `message/submitAction` invoke.

        The card always goes in a message of its own: Teams turns text plus a card into two activities, and
        refuses to update one activity into two ("Activity resulted into multiple skype activities")."""
        parts = split_message(reply.full_text(), max_bytes) or [""]
        total = len(parts)
        if total > 1:
            parts = [f"{part}\n\n（{i}/{total}）" for i, part in enumerate(parts, 1)]
        native = native_feedback(target.channel_id) and reply.feedback is not None
        for index, part in enumerate(parts):
            last = index == total - 1
            fields = answer_message(part, reply, feedback=native and last)
            sent: str | None = None
            if index == 0 and stream is not None:
                if stream.stopped_by_user:
                    log.info("answer not sent: the user stopped the stream")
                    return
                try:
                    sent = await stream.finish(fields)
                except Exception:  # e.g. the stream ran past Teams' time limit: an ordinary message, nothing lost
                    log.warning("final stream message refused; sending a new message", exc_info=True)
            elif index == 0 and placeholder_id:
                try:
                    await self.connector.update(target, placeholder_id, fields)
                    sent = placeholder_id
                except Exception:  # some clients cannot update: send it as a new message instead, nothing lost
                    log.warning("update failed; sending a new message", exc_info=True)
            if sent is None:
                sent = await self.connector.send(target, fields)
            if native and last and sent and reply.feedback is not None and self._feedback is not None:
                self._feedback.link_message(sent, conversation_key(target.conversation_id), reply.feedback.action,
                                            reply.feedback.answer)
        if (card := card_for(reply, feedback_buttons=not native_feedback(target.channel_id))) is not None:
            await self.connector.send(target, {"type": "message", "attachments": [card.attachment()]})
