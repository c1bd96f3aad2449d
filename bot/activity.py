"""Reading a Teams activity, once: where, who, what text (mentions removed), which files, where replies go;
and fetching the files it offers."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import aiohttp
from botbuilder.schema import Activity

from bot.commands import strip_markup
from bot.connector import Target
from bot.delivery import target_of
from channels.base import Attachment, Place, User

log = logging.getLogger(__name__)

FILE_DOWNLOAD_INFO = "application/vnd.microsoft.teams.file.download.info"


@dataclass(frozen=True)
class ParsedActivity:
    """What the bot reads from one incoming activity."""

    place: Place  # conversation, channel, team, tenant
    user: User
    text: str  # the bot's own mention removed, other mentions reduced to names, Teams markup stripped
    files: tuple[tuple[str, str], ...]  # (name, download URL) of the files sent in a 1:1 chat
    target: Target  # where replies go: the conversation (a channel's thread), as replies to this activity


def parse_activity(activity: Activity) -> ParsedActivity:
    return ParsedActivity(
        place=_place_of(activity),
        user=_user_of(activity),
        text=_text_without_mentions(activity),
        files=_file_attachments(activity),
        target=target_of(activity),
    )


def _place_of(activity: Activity) -> Place:
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    channel = data.get("channel") or {}
    team = data.get("team") or {}
    conversation = activity.conversation
    kind = (conversation.conversation_type if conversation else None) or ("channel" if channel else "personal")
    return Place(
        conversation_id=conversation.id if conversation and conversation.id else "",
        kind=kind,
        channel_id=str(channel.get("id") or ""),
        channel_name=str(channel.get("name") or ""),
        team_id=str(team.get("id") or ""),
        tenant_id=str((data.get("tenant") or {}).get("id") or (conversation.tenant_id if conversation else None) or ""),
    )


def _user_of(activity: Activity) -> User:
    sender = activity.from_property
    if sender is None:
        return User(id="")
    return User(id=sender.id or "", name=sender.name or "", aad_object_id=sender.aad_object_id or "")


def _text_without_mentions(activity: Activity) -> str:
    """The message text with the bot's own mention removed and other mentions reduced to names."""
    text = activity.text or ""
    bot_id = activity.recipient.id if activity.recipient else None
    for entity in activity.entities or []:
        props = entity.additional_properties if hasattr(entity, "additional_properties") else {}
        if entity.type != "mention":
            continue
        mentioned = (props or {}).get("mentioned") or {}
        mention_text = (props or {}).get("text") or ""
        if mentioned.get("id") == bot_id and mention_text:
            text = text.replace(mention_text, " ")
    text = re.sub(r"<at>(.*?)</at>", r"\1", text)
    return strip_markup(text)


def _file_attachments(activity: Activity) -> tuple[tuple[str, str], ...]:
    """(name, download URL) of the files sent in a 1:1 chat (Teams' file download info)."""
    files: list[tuple[str, str]] = []
    for attachment in activity.attachments or []:
        if attachment.content_type == FILE_DOWNLOAD_INFO and isinstance(attachment.content, dict):
            url = attachment.content.get("downloadUrl")
            if url:
                files.append((attachment.name or "file", url))
    return tuple(files)


class AttachmentTooLarge(Exception):
    def __init__(self, name: str, limit: int) -> None:
        super().__init__(name)
        self.name = name
        self.limit = limit


async def download(session: aiohttp.ClientSession, name: str, url: str, limit: int) -> Attachment:
    """Fetch a file Teams offered us, refusing more than `limit` bytes."""
    async with session.get(url, timeout=aiohttp.ClientTimeout(total=60)) as response:
        response.raise_for_status()
        if response.content_length and response.content_length > limit:
            raise AttachmentTooLarge(name, limit)
        data = bytearray()
        async for chunk in response.content.iter_chunked(64 * 1024):
            data += chunk
            if len(data) > limit:
                raise AttachmentTooLarge(name, limit)
    return Attachment(name=name, content_type=response.content_type or "", data=bytes(data))
