"""Outbound traffic honours the standard HTTP(S)_PROXY / NO_PROXY variables (closed networks route through a proxy)."""
from __future__ import annotations

import pytest

from tests.support import activities as A
from tests.support.model import Step
from tests.support.proxy import ForwardProxy


@pytest.fixture
async def proxy(monkeypatch: pytest.MonkeyPatch):
    p = await ForwardProxy().start()
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", p.url)
    yield p
    await p.close()


async def test_replies_model_calls_and_file_downloads_go_through_the_proxy(proxy, start_bot, connector, model):
    model.script.append(Step(text="プロキシ経由の回答です。"))
    bot = await start_bot(llm_base_url=model.base_url)
    await bot.post(A.personal_message(connector.url, "こんにちは"))
    await bot.drain()
    assert "プロキシ経由の回答です。" in connector.latest_answer()["text"]
    url = connector.file_url("notice.txt", "住民票の写しは窓口で受け取れます。".encode())
    await bot.post(A.personal_message(connector.url, "", attachments=[A.file_attachment("notice.txt", url)]))
    await bot.drain()
    through = [u for _, u in proxy.seen]
    assert any(u.startswith(connector.url) and "/activities" in u for u in through)  # replies to the Bot Connector
    assert any(u.startswith(model.base_url) and u.endswith("/chat/completions") for u in through)  # the model
    assert url in through  # the file the user sent


async def test_no_proxy_is_respected(proxy, monkeypatch, start_bot, connector):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    bot = await start_bot()
    await bot.post(A.personal_message(connector.url, "ヘルプ"))
    await bot.drain()
    assert connector.latest_answer()["text"] and proxy.seen == []
