"""A forward HTTP proxy on loopback that records what passed through it (for the outbound-proxy test)."""
from __future__ import annotations

import aiohttp
from aiohttp import web

from tests.support.loopback import LoopbackServer

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-authorization", "proxy-connection", "te", "trailer",
               "transfer-encoding", "upgrade", "host", "content-length"}


class ForwardProxy(LoopbackServer):
    """Plain-HTTP forward proxy: clients send absolute-form requests (`POST http://host/path`)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []  # (method, absolute url)
        self._session: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    async def start(self) -> "ForwardProxy":
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._session = aiohttp.ClientSession(auto_decompress=False)
        await self._serve(app)
        return self

    async def _forward(self, request: web.Request) -> web.Response:
        target = str(request.url)
        self.seen.append((request.method, target))
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        assert self._session is not None
        async with self._session.request(request.method, target, headers=headers, data=await request.read()) as upstream:
            body = await upstream.read()
            out = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP | {"content-encoding"}}
            return web.Response(status=upstream.status, body=body, headers=out)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        await super().close()
