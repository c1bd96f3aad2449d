"""Fixtures: a real bot on loopback with a scripted Bot Connector and a scripted model server."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from app import build
from bot.parts import Parts
from bot.server import create_app
from hideki.settings import Settings, load_settings
from hideki.llm.tokens import install_offline_encodings
from tests.support.connector import ScriptedConnector
from tests.support.model import ScriptedModel

pytest_plugins = ["tests.support.servers"]  # postgres_url, redis_url, chroma_url, db: real servers on loopback

_AMBIENT = ("HIDEKI_", "OPENAI_", "AZURE_OPENAI_", "MicrosoftApp", "MICROSOFT_APP", "PORT")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests build their settings explicitly; nothing from the developer's shell leaks in."""
    for name in list(os.environ):
        if name.startswith(_AMBIENT):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session", autouse=True)
def _tiktoken_offline(tmp_path_factory: pytest.TempPathFactory) -> None:
    install_offline_encodings(tmp_path_factory.mktemp("tiktoken"))


@pytest.fixture
async def connector():
    c = await ScriptedConnector().start()
    yield c
    await c.close()


@pytest.fixture
async def managed_identity(monkeypatch: pytest.MonkeyPatch):
    """A loopback Azure managed-identity endpoint, installed the way Container Apps announces its own."""
    from tests.support.managed_identity import ManagedIdentityEndpoint

    endpoint = await ManagedIdentityEndpoint().start()
    endpoint.install(monkeypatch)
    yield endpoint
    await endpoint.close()


@pytest.fixture
async def model():
    m = await ScriptedModel().start()
    yield m
    await m.close()


@dataclass
class RunningBot:
    client: TestClient
    parts: Parts
    settings: Settings
    connector: ScriptedConnector

    async def post(self, activity: dict[str, Any], headers: dict[str, str] | None = None):
        return await self.client.post("/api/messages", json=activity, headers=headers)

    async def drain(self) -> None:
        """Wait until every background job has finished, and the durable queue is empty."""
        import asyncio

        while self.parts.runner.pending or self.parts.jobs.depth():
            await asyncio.sleep(0.01)


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    overrides.setdefault("data_dir", tmp_path / "data")
    overrides.setdefault("faq_seed", "")  # the sample FAQ import is tested where it matters
    return load_settings(env_file=None, **overrides)


@pytest.fixture
async def start_bot(tmp_path: Path, connector: ScriptedConnector):
    """`await start_bot(**settings)` → a RunningBot on loopback."""
    clients: list[TestClient] = []

    async def start(**overrides: Any) -> RunningBot:
        settings = make_settings(tmp_path, **overrides)
        parts = build(settings)
        client = TestClient(TestServer(create_app(parts), host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        return RunningBot(client, parts, settings, connector)

    yield start
    for client in clients:
        await client.close()
