"""A scripted OpenAI-compatible chat-completions server on loopback; `"stream": true` is answered with
server-sent chunks (usage in the last one when `stream_options.include_usage`), which a step can break off."""
from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Callable

from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.support.loopback import LoopbackServer


@dataclass
class Step:
    """One scripted response: an error status (with optional Retry-After), or an answer after a delay."""

    status: int = 200
    delay_s: float = 0.0
    retry_after: str | None = None
    text: str | None = None
    finish_reason: str = "stop"
    # streamed answers: characters per chunk, the pause between chunks, and where the stream breaks off
    chunk_chars: int = 4
    chunk_delay_s: float = 0.0
    break_after_chunks: int | None = None  # close the connection after this many chunks, without a finish
    hang_after_chunks: int | None = None  # stop sending (but keep the connection open) after this many chunks


@dataclass
class ScriptedModel(LoopbackServer):
    script: list[Step] = field(default_factory=list)  # consumed in order; then `answer` is used
    answer: Callable[[list[dict]], str] = lambda messages: f"モデルの回答: {messages[-1]['content'][:50]}"
    delay_s: float = 0.0
    chunk_delay_s: float = 0.0  # between the chunks of a streamed answer (steps may set their own)
    requests: list[dict] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    server: TestServer | None = None

    @property
    def base_url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/v1"))

    @property
    def root_url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/")).rstrip("/")

    async def start(self) -> "ScriptedModel":
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._complete)
        # Azure OpenAI: /openai/deployments/{deployment}/chat/completions?api-version=…
        app.router.add_post("/openai/deployments/{deployment}/chat/completions", self._complete)
        await self._serve(app)
        return self

    async def _stream(self, request: web.Request, body: dict, step: Step, text: str, prompt_tokens: int) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)

        async def event(data: dict | str) -> None:
            await response.write(f"data: {data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)}\n\n".encode())

        def chunk(delta: dict, finish: str | None = None) -> dict:
            return {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": int(time.time()), "model": body["model"],
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

        pieces = [text[i:i + step.chunk_chars] for i in range(0, len(text), step.chunk_chars)]
        await event(chunk({"role": "assistant", "content": ""}))
        for n, piece in enumerate(pieces):
            if step.break_after_chunks is not None and n == step.break_after_chunks:
                await asyncio.sleep(0.2)  # what was sent arrives first
                request.transport.close()  # then the connection drops mid-answer
                return response
            if step.hang_after_chunks is not None and n == step.hang_after_chunks:
                await asyncio.sleep(3600)
            if n and step.chunk_delay_s:
                await asyncio.sleep(step.chunk_delay_s)
            await event(chunk({"content": piece}))
        await event(chunk({}, step.finish_reason))
        if (body.get("stream_options") or {}).get("include_usage"):
            await event({"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": int(time.time()),
                         "model": body["model"], "choices": [],
                         "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": len(text),
                                   "total_tokens": prompt_tokens + len(text)}})
        await event("[DONE]")
        await response.write_eof()
        return response

    async def _complete(self, request: web.Request) -> web.Response:
        body = await request.json()
        body["_path"] = request.path
        body["_query"] = dict(request.query)
        body["_headers"] = dict(request.headers)
        self.requests.append(body)
        self.times.append(time.monotonic())
        step = self.script.pop(0) if self.script else Step(delay_s=self.delay_s, chunk_delay_s=self.chunk_delay_s)
        if step.status == 200 and step.text == "":  # an OpenAI-compatible server that omits usage
            return web.json_response({"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                                      "choices": [{"index": 0, "message": {"role": "assistant", "content": "使用量なし"}, "finish_reason": "stop"}]})
        if step.delay_s:
            await asyncio.sleep(step.delay_s)
        if step.status != 200:
            headers = {"Retry-After": step.retry_after} if step.retry_after is not None else {}
            return web.json_response({"error": {"message": "scripted failure", "type": "server_error"}}, status=step.status, headers=headers)
        text = step.text if step.text is not None else self.answer(body["messages"])
        prompt_tokens = sum(len(m.get("content") or "") for m in body["messages"])
        if body.get("stream"):
            return await self._stream(request, body, step, text, prompt_tokens)
        return web.json_response(
            {
                "id": "chatcmpl-test",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": step.finish_reason}],
                "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": len(text), "total_tokens": prompt_tokens + len(text)},
            }
        )
