"""Teams' streaming protocol for one answer in a 1:1 chat: an informative update, the growing text, the final message.

Every activity carries a `streaminfo` entity (Microsoft Learn, "Stream bot messages"): first a `typing` activity
with `streamType: "informative"` and `streamSequence: 1`, whose returned id is the stream's id; then `typing`
activities with `streamType: "streaming"`, the text so far (each one containing the last) and the next sequence
number; at the end a `message` with `streamType: "final"` that replaces the streamed text with the whole,
checked answer (bot/delivery.py builds it). Teams throttles a stream to about one update a second, so
`write` only records the latest text and a pump sends it at that pace. The first update that Teams refuses
ends the streaming updates (the final message still goes out, or, failing that, an ordinary one); a refusal of
the very first one means this conversation cannot stream (`open` returns None) and the old path is used.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from bot.connector import Connector, ConnectorError, Target
from bot.delivery import teams_markdown

log = logging.getLogger(__name__)

UPDATE_INTERVAL_S = 1.0  # Teams: about one streaming update a second
INFORMATIVE_CHARS = 1000  # Teams: informative texts of at most 1 KB or 1000 characters
USER_STOPPED = "ContentStreamNotAllowed"  # Teams' error when the user pressed Stop


def stream_info(stream_type: str, sequence: int | None = None, stream_id: str | None = None) -> dict[str, Any]:
    entity: dict[str, Any] = {"type": "streaminfo", "streamType": stream_type}
    if sequence is not None:
        entity["streamSequence"] = sequence
    if stream_id:
        entity["streamId"] = stream_id
    return entity


class TeamsStream:
    """One answer streamed into a 1:1 chat. Make it with `open`; then `inform`, `write`, and `finish` once."""

    def __init__(self, connector: Connector, target: Target, max_bytes: int, interval_s: float = UPDATE_INTERVAL_S) -> None:
        self._connector = connector
        self._target = target
        self._max_bytes = max_bytes
        self._interval_s = interval_s
        self.stream_id: str | None = None
        self.updates = 0  # streaming updates sent (the informative one and the final message not counted)
        self.broken = False  # Teams refused an update: no more updates; the final message is still tried
        self.stopped_by_user = False  # the user pressed Stop: nothing more is sent
        self._sequence = 0
        self._shown = ""  # the text of the last streaming update Teams accepted
        self._latest = ""  # the newest text the pipeline gave
        self._status = ""  # the newest progress line not sent yet
        self._last_sent = 0.0
        self._lock = asyncio.Lock()  # one send at a time, in sequence order
        self._wake = asyncio.Event()
        self._pump: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, connector: Connector, target: Target, text: str, max_bytes: int,
                   interval_s: float = UPDATE_INTERVAL_S) -> TeamsStream | None:
        """Start a stream with an informative update; None if the conversation cannot stream."""
        stream = cls(connector, target, max_bytes, interval_s)
        try:
            stream.stream_id = await connector.send(target, stream._informative(text, 1))
        except Exception as exc:  # e.g. 400 "streaming api is not enabled", or a channel that cannot stream
            log.info("stream refused; answering with send-then-update", extra={"error": str(exc)[:200]})
            return None
        if not stream.stream_id:
            return None
        stream._sequence = 1
        stream._last_sent = time.monotonic()
        stream._pump = asyncio.get_running_loop().create_task(stream._run())
        return stream

    def _informative(self, text: str, sequence: int) -> dict[str, Any]:
        return {"type": "typing", "text": text[:INFORMATIVE_CHARS], "entities": [stream_info("informative", sequence, self.stream_id)]}

    async def inform(self, status: str) -> None:
        """A progress line (「FAQ を検索しています…」), shown while no answer text has been streamed yet."""
        if self._latest or self.broken or self.stopped_by_user:
            return
        self._status = status  # sent by the pump at Teams' pace (only the newest line)
        self._wake.set()

    async def write(self, text: str) -> None:
        """The answer's text so far: sent at Teams' pace by the pump (only the newest text is sent)."""
        self._latest = text
        self._wake.set()

    async def _run(self) -> None:
        while not (self.broken or self.stopped_by_user):
            await self._wake.wait()
            self._wake.clear()
            if (wait := self._interval_s - (time.monotonic() - self._last_sent)) > 0:
                await asyncio.sleep(wait)
            if not self._latest:
                status, self._status = self._status, ""
                if status:
                    async with self._lock:
                        self._sequence += 1
                        await self._send(self._informative(status, self._sequence))
                continue
            text = teams_markdown(self._latest)
            # each update must contain the last one; a re-rendered prefix (a table, say) waits for the final message
            if text == self._shown or not text.startswith(self._shown) or len(text.encode()) > self._max_bytes:
                continue
            async with self._lock:
                self._sequence += 1
                fields = {"type": "typing", "text": text, "textFormat": "markdown",
                          "entities": [stream_info("streaming", self._sequence, self.stream_id)]}
                if await self._send(fields):
                    self._shown = text
                    self.updates += 1

    async def _send(self, fields: dict[str, Any]) -> bool:
        try:  # not retried: the next update carries the whole text anyway
            await self._connector.send(self._target, fields, retries=0)
        except Exception as exc:
            self._refused(exc)
            return False
        self._last_sent = time.monotonic()
        return True

    def _refused(self, exc: Exception) -> None:
        if isinstance(exc, ConnectorError) and exc.status == 403 and USER_STOPPED in str(exc):
            self.stopped_by_user = True
            log.info("stream stopped by the user")
        else:
            self.broken = True
            log.warning("stream update refused; the final message follows", extra={"error": str(exc)[:200]})

    async def finish(self, fields: dict[str, Any]) -> str | None:
        """End the stream with the final message `fields` (type "message"); returns its id (the stream's id).
        Raises if Teams refuses it (the caller then sends the answer as an ordinary message)."""
        if self._pump is not None:
            async with self._lock:  # a send in flight completes first; the pump sends nothing after this
                self._pump.cancel()
            try:
                await self._pump
            except asyncio.CancelledError:
                pass
        final = {**fields, "entities": [stream_info("final", stream_id=self.stream_id), *fields.get("entities", [])]}
        if self.stream_id:
            final["id"] = self.stream_id
        await self._connector.send(self._target, final)
        return self.stream_id
