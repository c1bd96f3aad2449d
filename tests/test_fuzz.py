"""Fuzzing /api/messages with 10,000 generated requests per bot: never a 5xx, never a crash, and with credentials
set, never a reply to a request without a valid token.

Two real bots run on loopback in a thread of their own (with their scripted Bot Connectors): one in local mode,
where fuzzed activities go all the way through the SDK and the pipelines, and one with credentials and the
loopback identity provider of tests/test_auth.py, where requests carry no token, junk, or forged tokens (right
issuer and key id, wrong key; right key, wrong audience or serviceUrl; alg none; expired). Requests go over one
keep-alive HTTP connection per bot. Hypothesis is derandomized (no example database), so CI runs the same cases.

Deselect with `-m "not fuzz"` (or `-k "not fuzz"`); FUZZ_EXAMPLES=… changes the number of cases.
benchmarks/fuzz.py runs the same cases outside pytest and prints the figures.
"""
from __future__ import annotations

import asyncio
import base64
import copy
import http.client
import json
import os
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest
from aiohttp import web
from botbuilder.schema import ActivityTypes
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from app import build
from bot.parts import Parts
from bot.server import create_app
from tests.conftest import make_settings
from tests.support import activities as A
from tests.support.connector import ScriptedConnector
from tests.test_auth import APP_ID, APP_PASSWORD, TENANT, IdentityProvider, _rsa_key, identity  # noqa: F401 (fixture)

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "1000"))  # per bot; benchmarks/fuzz.py runs 10,000
FUZZ_SETTINGS = hsettings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=list(HealthCheck),
)

# --- what is generated -------------------------------------------------------------------------------
ACTIVITY_TYPES = sorted(t.value for t in ActivityTypes) + ["", "Message", "somethingNew", "message\x00", "メッセージ"]
_unicode = st.text(alphabet=st.characters(codec=None, categories=None), max_size=30)  # incl. lone surrogates, controls
_huge = st.builds(lambda unit, n: unit * n, st.sampled_from(["a", "あ", "😀", "\u202e", "\\", '"', "<at>Hideki</at> ", "\x00"]), st.integers(1000, 70_000))
_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20) | _unicode
_json = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10) | _unicode, children, max_size=4),
    max_leaves=8,
)


def _junk_pool(size: int = 800, seed: int = 20261123) -> list[Any]:
    """Values drawn with one choice each (hypothesis pays ~0.3 ms per choice): nested junk, huge strings,
    unicode edge cases, wrong types and bot commands, made once from a fixed seed."""
    rng = random.Random(seed)
    units = ["a", "あ", "😀", "\u202e", "\u200b", "\\", '"', "<at>Hideki</at> ", "\x00", "\ud800", "\udfff", "é", "ｱ", "\r\n"]
    scalars: list[Any] = [None, True, False, 0, -1, 2**63, -(2**63) - 1, 10**400, 1e308, -0.0, 3.5, "", " ", "null", "[]", "{}",
                          "ヘルプ", "設定", "設定 やさしい", "議事録", "FAQ状況", "反映", "<at>Hideki</at>", "http://", "javascript:alert(1)"]

    def value(depth: int) -> Any:
        pick = rng.random()
        if pick < 0.35 or depth > 6:
            return rng.choice(scalars)
        if pick < 0.55:
            return "".join(rng.choice(units) for _ in range(rng.randint(1, 40)))
        if pick < 0.65:
            return rng.choice(units) * rng.randint(1_000, 70_000)
        if pick < 0.8:
            return [value(depth + 1) for _ in range(rng.randint(0, 4))]
        return {"".join(rng.choice(units) for _ in range(rng.randint(0, 6))): value(depth + 1) for _ in range(rng.randint(0, 4))}

    deep: list[Any] = []
    for _ in range(3):
        nested: Any = "x"
        for _ in range(rng.randint(50, 500)):  # deep but within what json and the SDK can walk
            nested = [nested] if rng.random() < 0.5 else {"a": nested}
        deep.append(nested)
    return scalars + deep + [value(0) for _ in range(size)]


_pool = st.sampled_from(_junk_pool()).map(copy.deepcopy)  # a copy: activities are mutated in place
_values = st.one_of(_pool, _pool, _pool, _json)
_PATHS = [
    ("type",), ("text",), ("from",), ("recipient",), ("conversation",), ("serviceUrl",), ("entities",), ("attachments",),
    ("channelData",), ("value",), ("name",), ("membersAdded",), ("membersRemoved",), ("id",), ("channelId",),
    ("textFormat",), ("locale",), ("replyToId",), ("timestamp",), ("channelData", "tenant"), ("channelData", "tenant", "id"),
    ("channelData", "team"), ("channelData", "channel", "id"), ("channelData", "eventType"), ("conversation", "id"),
    ("conversation", "tenantId"), ("conversation", "conversationType"), ("from", "id"), ("from", "aadObjectId"),
    ("recipient", "id"), ("value", "action"), ("value", "action", "data"), ("value", "action", "data", "hideki_action"),
    ("entities", 0), ("entities", 0, "mentioned"), ("attachments", 0, "content"), ("attachments", 0, "contentType"),
    ("attachments", 0, "content", "downloadUrl"), ("membersAdded", 0),
]
_TEMPLATES: dict[str, Callable[[str], dict[str, Any]]] = {
    "personal": lambda url: A.personal_message(url, "ヘルプ"),
    "channel": lambda url: A.channel_message(url, "こんにちは"),
    "install": lambda url: A.install_update(url),
    "invoke": lambda url: A.card_invoke(url, {"hideki_action": "help"}),
    "file": lambda url: A.personal_message(url, "", attachments=[A.file_attachment("a.txt", url + "files/a.txt")]),
}


def _set(activity: dict[str, Any], path: tuple, value: Any) -> None:
    """activity[path] = value, making (or replacing with) dicts and lists along the way; list steps are 0."""
    node: Any = activity
    for step, next_step in zip(path, path[1:]):
        kind = list if isinstance(next_step, int) else dict
        if isinstance(node, list):
            node.extend([None] * (not node))
            step = 0
        child = node[step] if isinstance(node, list) else node.get(step)
        if not isinstance(child, kind):
            child = node[step] = kind()
        node = child
    if isinstance(node, list):
        node[:1] = [value]
    else:
        node[path[-1]] = value


@st.composite
def fuzzed_request(draw, service_url: str) -> tuple[bytes, dict[str, str], str]:
    """(body, headers, kind): mostly mutated activities, some raw bodies."""
    kind = draw(st.sampled_from(["activity"] * 8 + ["raw", "nested", "json"]))
    content_type = draw(st.sampled_from(["application/json"] * 12 + ["application/json; charset=utf-8", "text/plain", "", "application/jsonx"]))
    headers = {"Content-Type": content_type} if content_type else {}
    if kind == "raw":
        return draw(st.binary(max_size=400)), headers, kind
    if kind == "nested":
        depth = draw(st.integers(1, 120_000))
        opener = draw(st.sampled_from(["[", '{"a":', '{"type":"message","value":' ]))
        return (opener * depth).encode(), headers, kind
    if kind == "json":
        return json.dumps(draw(_json), ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass"), headers, kind
    activity = _TEMPLATES[draw(st.sampled_from(sorted(_TEMPLATES)))](service_url)
    activity["type"] = draw(st.sampled_from(ACTIVITY_TYPES)) if draw(st.booleans()) else activity["type"]
    for path, value in draw(st.lists(st.tuples(st.sampled_from(_PATHS), _values), max_size=4)):
        _set(activity, path, value)
    for path in draw(st.lists(st.sampled_from(_PATHS), max_size=2)):  # and some fields removed
        parent = activity
        for step in path[:-1]:
            parent = parent.get(step) if isinstance(parent, dict) else None
        if isinstance(parent, dict):
            parent.pop(path[-1], None)
    return json.dumps(activity, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass"), headers, kind


def _jws(claims: dict, key, kid: str | None, alg: str = "RS256") -> str:
    """A compact JWS made by hand, so that claims of any JSON type can be signed (PyJWT checks some types)."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = {"alg": alg, "typ": "JWT", **({"kid": kid} if kid is not None else {})}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims, default=str).encode())}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256()) if alg == "RS256" else b""
    return f"{signing_input}.{b64(signature)}"


def forged_tokens(idp: IdentityProvider, service_url: str, seed: int = 7) -> list[str]:
    """Authorization headers that must all be refused, made once (RSA signing costs ~1 ms each): forged
    signatures with the real key ids, alg none, and the real key with a wrong claim, expired, not yet valid
    or not endorsed for Teams."""
    rng = random.Random(seed)
    attacker = _rsa_key()
    now = int(time.time())
    junk_claims: list[Any] = [None, 0, 1.5, "", "x" * 5000, ["https://api.botframework.com"], {"a": 1}, True, "\u202e", APP_ID]
    headers: list[str] = []
    for _ in range(60):
        claims: dict[str, Any] = {"iss": idp.issuer, "aud": APP_ID, "serviceurl": service_url, "nbf": now - 60, "exp": now + 3600}
        for name in rng.sample(["iss", "aud", "serviceurl", "appid", "ver", "azp", "exp", "nbf"], rng.randint(0, 2)):
            claims[name] = rng.choice(junk_claims)
        headers.append("Bearer " + _jws(claims, attacker, rng.choice(["kid-teams", "kid-webchat", "kid-other", None])))
        headers.append("Bearer " + _jws(claims, None, rng.choice(["kid-teams", None]), alg="none"))
    for wrong in ({"aud": "someone-else"}, {"serviceurl": "https://smba.example/evil/"}, {"serviceurl": None},
                  {"iss": "https://api.botframework.com"}, {"aud": None}, {"exp": now - 400}, {"exp": now - 10**8}, {"nbf": now + 3600}):
        headers.append("Bearer " + idp.channel_token(service_url, **wrong))
    headers.append("Bearer " + idp.channel_token(service_url, key=idp.other_key, kid="kid-webchat"))  # not endorsed for msteams
    return headers


def authorizations(tokens: list[str]) -> st.SearchStrategy[str | None]:
    junk = st.builds(lambda scheme, rest: scheme + rest, st.sampled_from(["Bearer ", "Basic ", "bearer ", "Bearer a.b.", ""]),
                     st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=60))
    return st.one_of(st.none(), junk, st.sampled_from(tokens), st.sampled_from(tokens))


# --- the bots --------------------------------------------------------------------------------------------
@dataclass
class ThreadedBot:
    """A real bot server on its own event loop, driven synchronously over one keep-alive connection."""

    port: int
    parts: Parts
    connector: ScriptedConnector
    loop: asyncio.AbstractEventLoop
    statuses: Counter = field(default_factory=Counter)
    reconnects: int = 0
    _conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        for attempt in range(2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self._conn.request(method, path, body=body, headers=headers or {})
                response = self._conn.getresponse()
                data = response.read()
                if response.will_close:
                    self._conn.close()
                    self._conn = None
                return response.status, data
            except (ConnectionError, http.client.HTTPException):
                # the server may close a connection (e.g. after refusing a body it did not read); one retry on a
                # new connection, and a dead server fails the second attempt and the /healthz check
                self._conn.close()
                self._conn = None
                self.reconnects += 1
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def post(self, body: bytes, headers: dict[str, str]) -> int:
        status, _ = self.request("POST", "/api/messages", body, headers)
        self.statuses[status] += 1
        return status

    def drain(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.parts.runner.pending and time.monotonic() < deadline:
            time.sleep(0.05)


def start_threaded_bot(tmp_dir, **overrides: Any):
    """Start a bot (and its scripted connector) on a new loop in a daemon thread; returns (bot, stop)."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    state: dict = {}

    async def start() -> None:
        connector = await ScriptedConnector().start()
        settings = make_settings(tmp_dir, **overrides)
        parts = build(settings)
        runner = web.AppRunner(create_app(parts), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        state.update(runner=runner, connector=connector, parts=parts, port=site._server.sockets[0].getsockname()[1])
        started.set()

    thread = threading.Thread(target=lambda: (loop.run_until_complete(start()), loop.run_forever()), daemon=True)
    thread.start()
    assert started.wait(60)
    bot = ThreadedBot(state["port"], state["parts"], state["connector"], loop)

    def stop() -> None:
        async def cleanup() -> None:
            await state["runner"].cleanup()
            await state["connector"].close()

        asyncio.run_coroutine_threadsafe(cleanup(), loop).result(60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)

    return bot, stop


@pytest.fixture(scope="module")
def local_bot(tmp_path_factory):
    bot, stop = start_threaded_bot(tmp_path_factory.mktemp("fuzz-local"))
    yield bot
    stop()


@pytest.fixture(scope="module")
def secured_bot(tmp_path_factory, identity):  # noqa: F811
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REQUESTS_CA_BUNDLE", str(identity.ca_file))
        bot, stop = start_threaded_bot(
            tmp_path_factory.mktemp("fuzz-secured"),
            app_id=APP_ID, app_password=APP_PASSWORD, app_tenant_id=TENANT,
            bf_openid_metadata_url=identity.metadata_url, bf_token_issuer=identity.issuer, bf_login_url=identity.base,
        )
        yield bot, identity
        stop()


def _report(name: str, bot: ThreadedBot, seconds: float) -> None:
    cases = sum(bot.statuses.values())
    print(f"\n{name}: {cases} cases in {seconds:.1f} s ({cases / seconds:.0f}/s), statuses {dict(sorted(bot.statuses.items()))}, "
          f"reconnects {bot.reconnects}, replies sent {len(bot.connector.sent)}")


# --- the tests -------------------------------------------------------------------------------------------
def run_local_fuzz(bot: ThreadedBot) -> None:
    @FUZZ_SETTINGS
    @given(request=fuzzed_request(bot.connector.url))
    def case(request):
        body, headers, kind = request
        status = bot.post(body, headers)
        assert status < 500, (kind, status, body[:300])

    case()


def run_secured_fuzz(bot: ThreadedBot, idp: IdentityProvider) -> None:
    @FUZZ_SETTINGS
    @given(request=fuzzed_request(bot.connector.url), authorization=authorizations(forged_tokens(idp, bot.connector.url)))
    def case(request, authorization):
        body, headers, kind = request
        if authorization is not None:
            headers = {**headers, "Authorization": authorization}
        status = bot.post(body, headers)
        assert status < 500, (kind, status, body[:300], authorization)
        assert status in (400, 401, 413, 415), (kind, status, body[:300], authorization)  # never accepted

    case()


def test_fuzz_local_mode_never_answers_5xx_and_keeps_serving(local_bot):
    started = time.perf_counter()
    run_local_fuzz(local_bot)
    _report("local mode", local_bot, time.perf_counter() - started)
    local_bot.drain()
    assert local_bot.request("GET", "/healthz")[0] == 200
    assert local_bot.statuses[200] > EXAMPLES // 10  # the fuzz reached the turn, not just the validation
    assert local_bot.post(json.dumps(A.personal_message(local_bot.connector.url, "ヘルプ")).encode(), {"Content-Type": "application/json"}) == 200


def test_fuzz_with_credentials_nothing_unauthenticated_is_answered(secured_bot):
    bot, idp = secured_bot
    started = time.perf_counter()
    run_secured_fuzz(bot, idp)
    _report("with credentials", bot, time.perf_counter() - started)
    bot.drain()
    time.sleep(0.2)
    assert bot.request("GET", "/healthz")[0] == 200
    assert bot.connector.sent == []  # no reply to any of them
    assert bot.statuses[401] > EXAMPLES // 10  # many reached the token check (the rest failed validation first)
    # the server still serves a genuine request
    token = idp.channel_token(bot.connector.url)
    status = bot.post(json.dumps(A.personal_message(bot.connector.url, "ヘルプ")).encode(),
                      {"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    assert status == 200
