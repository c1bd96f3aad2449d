"""A scripted Bot Connector on loopback: records what the bot sends, can fail on demand."""
from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.support.loopback import LoopbackServer


@dataclass
class Sent:
    method: str  # "POST" (send or reply) or "PUT" (update)
    conversation_id: str
    reply_to: str | None
    activity_id: str | None
    body: dict


@dataclass
class Upload:
    name: str
    headers: dict[str, str]
    data: bytes


@dataclass
class ScriptedConnector(LoopbackServer):
    sent: list[Sent] = field(default_factory=list)
    fail_statuses: list[int] = field(default_factory=list)  # returned, in order, before succeeding
    delay_s: float = 0.0
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    server: TestServer | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    files: dict[str, bytes] = field(default_factory=dict)  # served at /files/{name}, like Teams' downloadUrl
    # streaming: activities whose streaminfo has one of these streamTypes are refused with (status, error code)
    refuse_streams: dict[str, tuple[int, str]] = field(default_factory=dict)
    uploads: list[Upload] = field(default_factory=list)  # PUTs to /upload/{name}, like OneDrive's uploadUrl
    upload_status: int = 201

    def file_url(self, name: str, data: bytes) -> str:
        self.files[name] = data
        return f"{self.url}files/{name}"

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/")).rstrip("/") + "/"

    async def start(self) -> "ScriptedConnector":
        app = web.Application(client_max_size=10 * 1024 * 1024)
        app.router.add_post("/v3/conversations/{cid}/activities", self._handle)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._handle)
        app.router.add_put("/v3/conversations/{cid}/activities/{aid}", self._handle)
        app.router.add_get("/files/{name}", self._file)
        app.router.add_put("/upload/{name}", self._upload)
        await self._serve(app)
        return self

    async def _file(self, request: web.Request) -> web.Response:
        data = self.files.get(request.match_info["name"])
        return web.Response(body=data, content_type="application/octet-stream") if data is not None else web.Response(status=404)

    def upload_url(self, name: str) -> str:
        return f"{self.url}upload/{name}"

    async def _upload(self, request: web.Request) -> web.Response:
        self.uploads.append(Upload(request.match_info["name"], dict(request.headers), await request.read()))
        self.changed.set()
        return web.json_response({"id": "drive-item-1"}, status=self.upload_status)

    async def _handle(self, request: web.Request) -> web.Response:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.fail_statuses:
            status = self.fail_statuses.pop(0)
            return web.json_response({"error": {"code": "Throttled", "message": "scripted"}}, status=status)
        body = await request.json()
        stream_type = next((e.get("streamType") for e in body.get("entities") or [] if e.get("type") == "streaminfo"), None)
        if stream_type in self.refuse_streams:
            status, code = self.refuse_streams[stream_type]
            return web.json_response({"error": {"code": code, "message": "scripted stream refusal"}}, status=status)
        aid = request.match_info.get("aid")
        if request.method == "PUT":
            self.sent.append(Sent("PUT", request.match_info["cid"], None, aid, body))
            new_id = aid
        else:
            new_id = f"bot-{next(self._ids)}"
            self.sent.append(Sent("POST", request.match_info["cid"], aid, new_id, body))
        self.changed.set()
        return web.json_response({"id": new_id})

    # --- what tests look at -------------------------------------------------------------------------
    def messages(self, conversation_prefix: str = "") -> list[Sent]:
        return [s for s in self.sent if s.body.get("type") == "message" and s.conversation_id.startswith(conversation_prefix)]

    def final_texts(self, conversation_prefix: str = "") -> dict[str, str]:
        """The latest text of every message the bot sent (updates applied), by activity id."""
        texts: dict[str, str] = {}
        for s in self.messages(conversation_prefix):
            texts[s.activity_id or ""] = s.body.get("text") or ""
        return texts

    def latest_answer(self) -> dict:
        """The latest answer: its text (updates applied) and its card (sent as a message of its own)."""
        bodies = [s.body for s in self.messages()]
        text = next((b["text"] for b in reversed(bodies) if b.get("text")), "")
        attachments = next((b["attachments"] for b in reversed(bodies) if b.get("attachments")), None)
        return {"text": text, "attachments": attachments}

    def stream_activities(self) -> list[Sent]:
        """What the bot sent with a streaminfo entity, in order."""
        return [s for s in self.sent if any(e.get("type") == "streaminfo" for e in s.body.get("entities") or [])]

    async def wait_for(self, predicate, timeout: float = 10.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"connector never saw the expected activity; sent: {[s.body.get('text') for s in self.sent]}")
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), timeout=min(remaining, 0.5))
            except asyncio.TimeoutError:
                pass
