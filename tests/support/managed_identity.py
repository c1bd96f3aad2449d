"""A loopback Azure managed-identity endpoint (the App Service / Container Apps protocol msal speaks)."""
from __future__ import annotations

import itertools
import time

import pytest
from aiohttp import web

from tests.support.loopback import LoopbackServer

HEADER = "loopback-identity-header"


class ManagedIdentityEndpoint(LoopbackServer):
    """GET ?api-version=2019-08-01&resource=…&client_id=… with X-IDENTITY-HEADER → a token for that resource."""

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        self.issued: list[str] = []
        self.fail_status: int | None = None
        self._ids = itertools.count(1)

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/msi/token"))

    async def start(self) -> "ManagedIdentityEndpoint":
        app = web.Application()
        app.router.add_get("/msi/token", self._token)
        await self._serve(app)
        return self

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Point msal at this endpoint, as Container Apps does with its environment."""
        monkeypatch.setenv("IDENTITY_ENDPOINT", self.url)
        monkeypatch.setenv("IDENTITY_HEADER", HEADER)

    async def _token(self, request: web.Request) -> web.Response:
        self.requests.append(dict(request.query))
        if request.headers.get("X-IDENTITY-HEADER") != HEADER:
            return web.json_response({"error": "invalid_request"}, status=401)
        if self.fail_status:
            return web.json_response({"error": "unavailable", "error_description": "scripted failure"}, status=self.fail_status)
        token = f"mi-token-{next(self._ids)}"
        self.issued.append(token)
        return web.json_response({"access_token": token, "expires_on": str(int(time.time()) + 3600),
                                  "resource": request.query["resource"], "token_type": "Bearer"})
