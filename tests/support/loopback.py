"""A scripted HTTP peer on loopback: start an aiohttp app on 127.0.0.1, close it after the test."""
from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestServer


class LoopbackServer:
    server: TestServer | None = None

    async def _serve(self, app: web.Application) -> None:
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()
