"""Sending replies to Teams: proactive messages into the right thread, updates, splitting, retries."""
from __future__ import annotations

import asyncio
import logging
import random
from typing import Any, Awaitable, Callable

from botbuilder.core import CardFactory, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ActivityTypes, ConversationReference

log = logging.getLogger(__name__)

RETRY_STATUSES = {412, 429, 500, 502, 503, 504}


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


def teams_markdown(text: str) -> str:
    """Teams' Markdown joins lines separated by a single newline: make every line break a paragraph break,
    except inside fenced code blocks, where lines are kept as they are."""
    out: list[str] = []
    in_fence = False
    for line in text.split("\n"):
        is_fence = line.lstrip().startswith("```")
        inside = in_fence  # true for the lines of a code block and its closing fence
        if is_fence:
            in_fence = not in_fence
        if not inside and out and out[-1] != "" and line != "":
            out.append("")
        out.append(line)
    return "\n".join(out)


def _status_of(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None) or getattr(response, "status", None)


class Delivery:
    """Every outgoing activity goes through here, via `continue_conversation`, with retries."""

    def __init__(self, adapter: CloudAdapter, app_id: str, retries: int = 4, backoff_s: float = 0.5) -> None:
        self._adapter = adapter
        self._app_id = app_id
        self._retries = retries
        self._backoff_s = backoff_s

    async def _with_turn(self, reference: ConversationReference, action: Callable[[TurnContext], Awaitable[Any]]) -> Any:
        result: list[Any] = []
        failure: list[BaseException] = []

        async def callback(turn: TurnContext) -> None:
            # Replies go to the thread of the message that mentioned us: apply_conversation_reference turns the
            # activity id into reply_to_id.
            turn.activity.id = reference.activity_id
            try:
                result.append(await action(turn))
            except Exception as exc:  # keep it from the adapter's on_turn_error: we decide about retries
                failure.append(exc)

        for attempt in range(self._retries + 1):
            result.clear()
            failure.clear()
            try:
                await self._adapter.continue_conversation(reference, callback, self._app_id)
                if failure:
                    raise failure[0]
                return result[-1] if result else None
            except Exception as exc:  # connector errors carry the HTTP status
                status = _status_of(exc)
                transient = status in RETRY_STATUSES or status is None and isinstance(exc, (OSError, asyncio.TimeoutError))
                if not transient or attempt == self._retries:
                    raise
                delay = min(30.0, self._backoff_s * 2**attempt) * random.uniform(0.5, 1.5)
                log.info("connector call retried", extra={"status": status, "attempt": attempt + 1})
                await asyncio.sleep(delay)
        return None

    async def typing(self, reference: ConversationReference) -> None:
        await self._with_turn(reference, lambda turn: turn.send_activity(Activity(type=ActivityTypes.typing)))

    async def send(self, reference: ConversationReference, text: str, card: dict | None = None) -> str | None:
        """Send a message; returns its activity id (for later updates)."""
        activity = Activity(type=ActivityTypes.message, text=teams_markdown(text), text_format="markdown")
        if card is not None:
            activity.attachments = [CardFactory.adaptive_card(card)]
        response = await self._with_turn(reference, lambda turn: turn.send_activity(activity))
        return getattr(response, "id", None)

    async def update(self, reference: ConversationReference, activity_id: str, text: str, card: dict | None = None) -> None:
        activity = Activity(type=ActivityTypes.message, id=activity_id, text=teams_markdown(text), text_format="markdown")
        if card is not None:
            activity.attachments = [CardFactory.adaptive_card(card)]

        async def action(turn: TurnContext) -> Any:
            activity.conversation = turn.activity.conversation
            activity.service_url = turn.activity.service_url
            return await turn.update_activity(activity)

        await self._with_turn(reference, action)

    async def reply(
        self, reference: ConversationReference, placeholder_id: str | None, text: str, card: dict | None, max_bytes: int
    ) -> None:
        """Deliver a whole answer: the first part replaces the placeholder, the rest follow; the card goes last."""
        parts = split_message(text, max_bytes) or [""]
        total = len(parts)
        if total > 1:
            parts = [f"{part}\n\n（{i}/{total}）" for i, part in enumerate(parts, 1)]
        for index, part in enumerate(parts):
            last = index == total - 1
            part_card = card if last else None
            if index == 0 and placeholder_id:
                try:
                    await self.update(reference, placeholder_id, part, part_card)
                    continue
                except Exception:  # some clients cannot update: send it as a new message instead, nothing lost
                    log.warning("update failed; sending a new message", exc_info=True)
            await self.send(reference, part, part_card)
