"""Bad requests get a clear 4xx or a no-op, never a 500, and the bot keeps serving."""
from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.request

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from app import build
from bot.server import create_app
from tests.conftest import make_settings
from tests.support import activities as A
from tests.support.connector import ScriptedConnector


async def test_malformed_bodies_get_clear_4xx(start_bot, connector):
    bot = await start_bot(max_body_bytes=4096)
    post = bot.client.post
    cases = [
        (b"{not json", {"Content-Type": "application/json"}, 400, "not valid JSON"),
        (b"[1, 2]", {"Content-Type": "application/json"}, 400, "JSON object"),
        (b'{"text": "no type"}', {"Content-Type": "application/json"}, 400, "activity.type"),
        (json.dumps({"type": "message", "text": "hi"}).encode(), {"Content-Type": "application/json"}, 400, "activity.conversation"),
        (b"\xff\xfe\x00", {"Content-Type": "application/json"}, 400, "not valid JSON"),
        (b"hello", {"Content-Type": "text/plain"}, 415, "application/json"),
        (json.dumps({"type": "message", "text": "あ" * 5000}).encode(), {"Content-Type": "application/json"}, 413, "larger"),
    ]
    for body, headers, status, words in cases:
        response = await post("/api/messages", data=body, headers=headers)
        assert response.status == status, (body[:40], await response.text())
        assert words in (await response.json())["error"]
    # still serving
    response = await bot.post(A.personal_message(connector.url, "ヘルプ"))
    assert response.status == 200


async def test_unknown_activity_types_are_a_no_op(start_bot, connector):
    bot = await start_bot()
    for kind in ("messageReaction", "event", "installationUpdate", "somethingNew", "typing", "endOfConversation"):
        activity = A.personal_message(connector.url, "x")
        activity["type"] = kind
        response = await bot.post(activity)
        assert response.status == 200, kind
    await bot.drain()
    assert connector.messages() == []


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=10,
)
_FIELDS = ["type", "text", "from", "recipient", "conversation", "serviceUrl", "entities", "attachments",
           "channelData", "value", "name", "membersAdded", "id", "channelId", "textFormat", "locale"]


@pytest.fixture(scope="module")
def threaded_bot(tmp_path_factory):
    """A real bot server on its own loop in a thread, so hypothesis can drive it synchronously."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    state: dict = {}

    async def start():
        connector = await ScriptedConnector().start()
        settings = make_settings(tmp_path_factory.mktemp("fuzz"))
        runner = web.AppRunner(create_app(build(settings)))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        state.update(runner=runner, connector=connector, port=site._server.sockets[0].getsockname()[1])
        started.set()

    thread = threading.Thread(target=lambda: (loop.run_until_complete(start()), loop.run_forever()), daemon=True)
    thread.start()
    assert started.wait(30)
    yield f"http://127.0.0.1:{state['port']}/api/messages", state["connector"]
    async def stop():
        await state["runner"].cleanup()
        await state["connector"].close()
    asyncio.run_coroutine_threadsafe(stop(), loop).result(30)
    loop.call_soon_threadsafe(loop.stop)


def _post(url: str, body: bytes) -> int:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@hsettings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutations=st.dictionaries(st.sampled_from(_FIELDS), _json_values, max_size=4), mention=st.booleans(), personal=st.booleans())
def test_fuzzed_activities_never_get_a_5xx(threaded_bot, mutations, mention, personal):
    url, connector = threaded_bot
    activity = A.personal_message(connector.url, "ヘルプ") if personal else A.channel_message(connector.url, "こんにちは", mention=mention)
    activity.update(mutations)
    status = _post(url, json.dumps(activity).encode())
    assert status < 500, mutations


@hsettings(max_examples=100, deadline=None)
@given(body=st.binary(max_size=300))
def test_fuzzed_raw_bodies_never_get_a_5xx(threaded_bot, body):
    url, _ = threaded_bot
    assert _post(url, body) < 500
