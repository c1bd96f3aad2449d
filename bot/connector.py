"""A small Bot Connector REST client for outgoing activities, on one pooled aiohttp session.

The SDK's `continue_conversation` builds a new msrest ConnectorClient and UserTokenClient for every call
(~8 ms of CPU each, plus `requests` in a thread pool without keep-alive), which capped the bot at ~15
messages/s on two cores. Replies, updates and typing indicators are plain REST calls of the Bot Connector
protocol (POST /v3/conversations/{id}/activities[/{replyToId}], PUT …/activities/{id}); this client makes
them directly, with the app's OAuth token when credentials are configured, and retries 412/429/5xx with
backoff and jitter, honouring Retry-After.
"""
from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
from aiohttp.helpers import get_env_proxy_for_url
from botframework.connector.auth import (
    AppCredentials,
    ManagedIdentityAppCredentials,
    MicrosoftAppCredentials,
    PasswordServiceClientCredentialFactory,
)
from msal import ConfidentialClientApplication
from yarl import URL

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({412, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Target:
    """Where replies go: the conversation (for a channel, the thread) and the message being answered."""

    service_url: str
    conversation_id: str
    reply_to_id: str | None
    bot: dict[str, Any]
    user: dict[str, Any]
    channel_id: str = "msteams"
    conversation_type: str = ""  # "personal", "groupChat" or "channel", as the incoming activity said


class BotCredentials(MicrosoftAppCredentials):
    """The app's client-credentials token for bot → channel calls, from the public or a configured login host.

    With `login_url` (HIDEKI_BF_LOGIN_URL) the authority is `{login_url}/{tenant}`; msal then reads that host's
    `/{tenant}/v2.0/.well-known/openid-configuration` and skips instance discovery, which only knows Microsoft's
    own hosts. Without it, this is exactly the SDK's MicrosoftAppCredentials (login.microsoftonline.com).
    """

    def __init__(self, app_id: str, password: str, tenant_id: str = "", login_url: str = "", oauth_scope: str | None = None) -> None:
        super().__init__(app_id, password, channel_auth_tenant=tenant_id or None, oauth_scope=oauth_scope)
        self._custom_login = bool(login_url)
        if login_url:
            self.oauth_endpoint = f"{login_url.rstrip('/')}/{self.tenant}"

    def get_access_token(self, force_refresh: bool = False) -> str:
        if self.app is None and self._custom_login:  # the SDK builds its msal app lazily from self.app
            self.app = ConfidentialClientApplication(
                self.microsoft_app_id,
                client_credential=self.microsoft_app_password,
                authority=self.oauth_endpoint,
                instance_discovery=False,
            )
        return super().get_access_token(force_refresh)


class BotCredentialsFactory(PasswordServiceClientCredentialFactory):
    """For the SDK's own outgoing calls (welcome, busy notice, apology) when HIDEKI_BF_LOGIN_URL is set."""

    def __init__(self, app_id: str, password: str, tenant_id: str, login_url: str) -> None:
        super().__init__(app_id, password, tenant_id)
        self._login_url = login_url
        self._credentials: dict[str, BotCredentials] = {}

    async def create_credentials(self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool):
        if await self.is_authentication_disabled():
            return MicrosoftAppCredentials.empty()
        if not await self.is_valid_app_id(app_id):
            raise PermissionError("Invalid app_id")
        if oauth_scope not in self._credentials:  # one msal app (and token cache) per scope
            self._credentials[oauth_scope] = BotCredentials(app_id, self.password, self.tenant_id or "", self._login_url, oauth_scope)
        return self._credentials[oauth_scope]


class ConnectorError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"connector answered {status}: {detail[:200]}")
        self.status = status


class Connector:
    def __init__(
        self,
        app_id: str = "",
        app_password: str = "",
        tenant_id: str = "",
        login_url: str = "",
        retries: int = 4,
        backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        timeout_s: float = 30.0,
        app_type: str = "SingleTenant",
    ) -> None:
        self._credentials: AppCredentials | None = None
        if app_id and app_type == "UserAssignedMSI":  # the app id is the identity's client id; no secret
            self._credentials = ManagedIdentityAppCredentials(app_id)
        elif app_id:
            self._credentials = BotCredentials(app_id, app_password, tenant_id, login_url)
        self._retries = retries
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[URL, tuple[str | None, aiohttp.BasicAuth | None]] = {}
        self._token: tuple[str, float] | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout, connector=aiohttp.TCPConnector(limit=256, limit_per_host=128)
            )
        return self._session

    def _proxy(self, url: str) -> tuple[str | None, aiohttp.BasicAuth | None]:
        """The HTTP(S)_PROXY / NO_PROXY proxy for `url` (as the model client uses), looked up once per host.
        Not `trust_env=True`: that costs every request two thread-pool hops (the proxy and ~/.netrc), which
        queued up when many 1:1 chats streamed at once (benchmarks/bot_overhead.py, stream phase)."""
        origin = URL(url).origin()
        if origin not in self._proxies:
            try:
                proxy, auth = get_env_proxy_for_url(origin)
                self._proxies[origin] = (str(proxy), auth)
            except LookupError:
                self._proxies[origin] = (None, None)
        return self._proxies[origin]

    async def _headers(self) -> dict[str, str]:
        if self._credentials is None:
            return {}
        if self._token is None or self._token[1] < time.monotonic():
            token = await asyncio.to_thread(self._credentials.get_access_token)  # msal caches it too
            self._token = (token, time.monotonic() + 300)
        return {"Authorization": f"Bearer {self._token[0]}"}

    # --- the protocol ----------------------------------------------------------------------------------
    def _activity(self, target: Target, fields: dict[str, Any]) -> dict[str, Any]:
        return {
            "channelId": target.channel_id,
            "serviceUrl": target.service_url,
            "conversation": {"id": target.conversation_id,  # with its type, as the Bot Framework SDKs send it
                             **({"conversationType": target.conversation_type} if target.conversation_type else {})},
            "from": target.bot,
            "recipient": target.user,
            **({"replyToId": target.reply_to_id} if target.reply_to_id else {}),
            **fields,
        }

    def _url(self, target: Target, activity_id: str | None = None) -> str:
        base = f"{target.service_url.rstrip('/')}/v3/conversations/{quote(target.conversation_id, safe='')}/activities"
        return f"{base}/{quote(activity_id, safe='')}" if activity_id else base

    async def send(self, target: Target, fields: dict[str, Any], retries: int | None = None) -> str | None:
        """Post an activity as a reply in the target's thread; returns its id. `retries`: instead of the
        connector's own (0 for what the next activity supersedes, like a streaming update)."""
        body = await self._call("POST", self._url(target, target.reply_to_id), self._activity(target, fields), retries)
        return (body or {}).get("id")

    async def update(self, target: Target, activity_id: str, fields: dict[str, Any]) -> None:
        await self._call("PUT", self._url(target, activity_id), {**self._activity(target, fields), "id": activity_id})

    async def _call(self, method: str, url: str, body: dict[str, Any], retries: int | None = None) -> dict[str, Any] | None:
        retries = self._retries if retries is None else retries
        for attempt in range(retries + 1):
            retry_after: float | None = None
            try:
                proxy, proxy_auth = self._proxy(url)
                async with self._http().request(method, url, json=body, headers=await self._headers(),
                                                proxy=proxy, proxy_auth=proxy_auth) as response:
                    if response.status < 300:
                        if response.content_type == "application/json":
                            return await response.json()
                        return None
                    detail = await response.text()
                    if response.status not in RETRY_STATUSES or attempt == retries:
                        raise ConnectorError(response.status, detail)
                    if value := response.headers.get("Retry-After"):
                        try:
                            retry_after = float(value)
                        except ValueError:
                            retry_after = None
                    if response.status == 401:
                        self._token = None
            except (aiohttp.ClientConnectionError, asyncio.TimeoutError):
                if attempt == retries:
                    raise
            delay = retry_after if retry_after is not None else min(self._max_backoff_s, self._backoff_s * 2**attempt)
            delay = min(self._max_backoff_s, delay) * random.uniform(0.8, 1.2)
            log.info("connector call retried", extra={"method": method, "attempt": attempt + 1, "delay_s": round(delay, 2)})
            await asyncio.sleep(delay)
        return None
