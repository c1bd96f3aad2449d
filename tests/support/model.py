"""A scripted OpenAI-compatible chat-completions server on loopback."""
from __future__ import annotations

import asyncio
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


@dataclass
class ScriptedModel(LoopbackServer):
    script: list[Step] = field(default_factory=list)  # consumed in order; then `answer` is used
    answer: Callable[[list[dict]], str] = lambda messages: f"モデルの回答: {messages[-1]['content'][:50]}"
    delay_s: float = 0.0
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

    async def _complete(self, request: web.Request) -> web.Response:
        body = await request.json()
        body["_path"] = request.path
        body["_query"] = dict(request.query)
        body["_headers"] = dict(request.headers)
        self.requests.append(body)
        self.times.append(time.monotonic())
        step = self.script.pop(0) if self.script else Step(delay_s=self.delay_s)
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
