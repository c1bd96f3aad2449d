"""Tokens from an Azure managed identity (Container Apps, App Service, VMs), for Azure OpenAI without an API key.

msal finds the platform's identity endpoint itself (IDENTITY_ENDPOINT / IDENTITY_HEADER on Container Apps and
App Service, the instance metadata service on VMs) and caches tokens until shortly before they expire.
"""
from __future__ import annotations

import asyncio
import threading

import msal
import requests

COGNITIVE_SERVICES = "https://cognitiveservices.azure.com"
SYSTEM_ASSIGNED = "system"


class IdentityError(Exception):
    """No token could be had; the message says why (in Japanese, for the operator's log)."""


class ManagedIdentityTokens:
    def __init__(self, client_id: str) -> None:
        """`client_id`: a user-assigned identity's client id, or "system" for the system-assigned one."""
        identity = (msal.SystemAssignedManagedIdentity() if client_id == SYSTEM_ASSIGNED
                    else msal.UserAssignedManagedIdentity(client_id=client_id))
        session = requests.Session()
        session.trust_env = True  # HTTPS_PROXY / NO_PROXY, like every other outbound call
        self._client = msal.ManagedIdentityClient(identity, http_client=session, token_cache=msal.TokenCache())
        self._lock = threading.Lock()

    def token(self, resource: str) -> str:
        with self._lock:  # one refresh at a time; msal answers from its cache otherwise
            result = self._client.acquire_token_for_client(resource=resource)
        if "access_token" not in result:
            detail = result.get("error_description") or result.get("error") or result
            raise IdentityError(f"マネージド ID のトークンを取得できませんでした（{resource}）: {detail}")
        return result["access_token"]

    def provider(self, resource: str = COGNITIVE_SERVICES):
        """An async token provider, as openai's `azure_ad_token_provider` expects."""
        async def fetch() -> str:
            return await asyncio.to_thread(self.token, resource)

        return fetch
