"""Files for the user in Teams: the file-consent flow of a 1:1 chat, and a one-line hint everywhere else.

A Reply's files (channels.base.OutputFile) can reach a user only in a 1:1 chat, where Teams lets a bot put a
file into the user's OneDrive once they agree ("Send and receive files using bots", Teams bot APIs):
  1. `offer`: the bytes are kept in the shared database (FileStore, so any replica can finish the flow) and a
     FileConsentCard is sent (name, description, size); its accept/decline context carry only the stored id.
  2. The user presses 許可 or 拒否: Teams sends the invoke `fileConsent/invoke` with value
     {"type": "fileUpload", "action": "accept" | "decline", "context": {...}, "uploadInfo": {...}}.
  3. `on_consent`, accepted: PUT the bytes to uploadInfo.uploadUrl (Content-Range: bytes 0-{n-1}/{n}), send a
     FileInfoCard (uniqueId, fileType, contentUrl from uploadInfo), forget the bytes, answer 200.
     Declined: forget the bytes, say so in one line, answer 200. An unknown or expired id: 200 and a line saying
     so; a malformed value: 400 with the reason. Never a 500.
In channels and group chats bots cannot upload files: `channel_hint` is the line the answer carries instead.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from botbuilder.core import InvokeResponse, TurnContext

from bot.connector import Target
from bot.delivery import Delivery, target_of
from channels.base import OutputFile, Place
from hideki.state.stores import FileStore

log = logging.getLogger(__name__)

CONSENT_CARD = "application/vnd.microsoft.teams.card.file.consent"
FILE_INFO_CARD = "application/vnd.microsoft.teams.card.file.info"
CONTEXT_KEY = "hideki_file"  # in acceptContext/declineContext: the stored file's id
UPLOAD_TIMEOUT_S = 60.0

CHANNEL_HINT = ("📎 {names} は、チャネルやグループチャットでは送れません（Teams でボットがファイルを送れるのは 1対1チャット"
                "だけです）。Word の文書や文字起こしは、Hideki との 1対1チャットにファイルで送ると、ファイルでも返します。")
OFFER_FAILED = "ファイル「{name}」を送る準備ができませんでした。もう一度、文書を送ってください。"
UPLOADED = "ファイル「{name}」を OneDrive に保存しました。"
DECLINED = "ファイル「{name}」は送りませんでした。必要になったら、もう一度、文書を送ってください。"
UNKNOWN = "このファイルは保存期間を過ぎたか、すでに送り終えています。もう一度、文書を送ってください。"
UPLOAD_FAILED = "ファイル「{name}」を OneDrive に保存できませんでした。時間をおいて、もう一度、文書を送ってください。"


def channel_hint(place: Place, files: list[OutputFile]) -> str | None:
    """The line an answer with files carries where bots cannot upload (channels, group chats); None in a 1:1 chat."""
    if not files or place.kind == "personal":
        return None
    return CHANNEL_HINT.format(names="、".join(f.name for f in files))


def consent_card(file: OutputFile, file_id: str) -> dict[str, Any]:
    context = {CONTEXT_KEY: file_id}
    return {
        "contentType": CONSENT_CARD,
        "name": file.name,
        "content": {"description": file.description or file.name, "sizeInBytes": len(file.data),
                    "acceptContext": context, "declineContext": context},
    }


def file_info_card(upload_info: dict[str, Any]) -> dict[str, Any]:
    return {
        "contentType": FILE_INFO_CARD,
        "contentUrl": upload_info["contentUrl"],
        "name": upload_info["name"],
        "content": {"uniqueId": upload_info["uniqueId"], "fileType": upload_info["fileType"]},
    }


class FileOffers:
    """Offers a reply's files in a 1:1 chat and finishes the consent flow when the user answers."""

    def __init__(self, store: FileStore, delivery: Delivery, timeout_s: float = UPLOAD_TIMEOUT_S) -> None:
        self._store = store
        self._delivery = delivery
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def offer(self, target: Target, place: Place, files: list[OutputFile]) -> None:
        """A consent card per file, in a 1:1 chat (elsewhere the answer carries `channel_hint`). Never raises:
        the answer is already out, and a failed card is followed by a line saying so."""
        if place.kind != "personal":
            return
        for file in files:
            try:
                file_id = self._store.save(place.conversation_id, file.name, file.media_type, file.data)
                await self._delivery.attachment(target, consent_card(file, file_id))
            except Exception:
                log.warning("file offer failed", exc_info=True)
                try:
                    await self._delivery.send(target, OFFER_FAILED.format(name=file.name))
                except Exception:
                    log.warning("could not say the offer failed", exc_info=True)

    async def on_consent(self, turn: TurnContext) -> InvokeResponse:
        """The invoke `fileConsent/invoke`: upload on accept, forget on decline."""
        activity = turn.activity
        value = activity.value if isinstance(activity.value, dict) else {}
        action = value.get("action")
        context = value.get("context")
        file_id = context.get(CONTEXT_KEY) if isinstance(context, dict) else None
        if action not in ("accept", "decline") or not isinstance(file_id, str) or not file_id:
            return _refused("value.action must be accept or decline and value.context must carry the file id")
        upload_info = value.get("uploadInfo")
        if action == "accept" and not _valid_upload_info(upload_info):
            return _refused("value.uploadInfo needs uploadUrl, contentUrl, name, uniqueId and fileType")
        conversation = activity.conversation.id if activity.conversation else ""
        target = target_of(activity)
        stored = self._store.get(file_id, conversation)
        if stored is None:
            await self._say(target, UNKNOWN)
            return InvokeResponse(status=200)
        if action == "decline":
            self._store.remove(file_id)
            await self._say(target, DECLINED.format(name=stored.name))
            return InvokeResponse(status=200)
        assert isinstance(upload_info, dict)
        try:
            await self._upload(upload_info["uploadUrl"], stored.data)
        except (aiohttp.ClientError, asyncio.TimeoutError, UploadRefused):
            log.warning("file upload failed", exc_info=True)
            await self._say(target, UPLOAD_FAILED.format(name=stored.name))
            return InvokeResponse(status=200)
        self._store.remove(file_id)
        try:
            await self._delivery.attachment(target, file_info_card(upload_info),
                                            UPLOADED.format(name=upload_info["name"]))
        except Exception:
            log.warning("file info card not sent", exc_info=True)
        return InvokeResponse(status=200)

    async def _upload(self, url: str, data: bytes) -> None:
        """One PUT of the whole file to the upload session Teams opened (files here are far below its limits)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout, trust_env=True)  # HTTP(S)_PROXY / NO_PROXY
        headers = {"Content-Length": str(len(data)), "Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}"}
        async with self._session.put(url, data=data, headers=headers) as response:
            if response.status >= 300:
                raise UploadRefused(f"upload answered {response.status}: {(await response.text())[:200]}")

    async def _say(self, target: Target, text: str) -> None:
        try:
            await self._delivery.send(target, text)
        except Exception:
            log.warning("file consent note not sent", exc_info=True)


class UploadRefused(Exception):
    """The upload URL answered with an error status."""


def _valid_upload_info(info: Any) -> bool:
    keys = ("uploadUrl", "contentUrl", "name", "uniqueId", "fileType")
    return isinstance(info, dict) and all(isinstance(info.get(k), str) and info.get(k) for k in keys) \
        and str(info["uploadUrl"]).startswith(("https://", "http://"))


def _refused(reason: str) -> InvokeResponse:
    return InvokeResponse(status=400, body={"error": {"code": "BadRequest", "message": reason}})
