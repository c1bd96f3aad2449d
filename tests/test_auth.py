"""Bot Framework token validation, checked for real against a loopback identity provider.

`IdentityProvider` plays login.botframework.com and login.microsoftonline.com on 127.0.0.1 over HTTPS (a test
CA, trusted through REQUESTS_CA_BUNDLE, which `requests` — used by the SDK and msal — honours):

* `/botframework/v1/.well-known/openidconfiguration` and `/botframework/keys`: the OpenID configuration and
  JWKS (with Teams endorsements) that the SDK fetches to check the signature of channel → bot tokens;
* `/{tenant}/v2.0/.well-known/openid-configuration` and `/{tenant}/oauth2/v2.0/token`: what msal needs for the
  bot's own client-credentials token (bot → channel calls), checked for the app id, secret and scope.

The bot is configured only through settings (HIDEKI_BF_OPENID_METADATA_URL, HIDEKI_BF_TOKEN_ISSUER,
HIDEKI_BF_LOGIN_URL); nothing in the SDK is patched or skipped. It runs in a thread of its own because the SDK
fetches keys with blocking `requests` calls from the event loop.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import os
import ssl
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import jwt
import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from app import build
from hideki.settings import SettingsError
from tests.conftest import make_settings
from tests.support import activities as A
from tests.support.connector import ScriptedConnector

ROOT = Path(__file__).resolve().parents[1]
APP_ID = "00000000-0000-0000-0000-0000000000a1"
APP_PASSWORD = "test-secret"
TENANT = "tenant-1"


def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _self_signed_cert(key: rsa.RSAPrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def _jwk(key: rsa.RSAPrivateKey, kid: str, endorsements: list[str]) -> dict:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "use": "sig", "alg": "RS256", "endorsements": endorsements}


@dataclass
class IdentityProvider:
    """Loopback stand-in for the Bot Framework's OpenID metadata and Entra's token endpoint."""

    ca_file: Path
    signing_key: rsa.RSAPrivateKey = field(default_factory=_rsa_key)
    other_key: rsa.RSAPrivateKey = field(default_factory=_rsa_key)  # published, but endorsed for webchat only
    token_requests: list[dict] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)
    base: str = ""

    @property
    def metadata_url(self) -> str:
        return f"{self.base}/botframework/v1/.well-known/openidconfiguration"

    @property
    def issuer(self) -> str:
        return f"{self.base}/botframework"

    def app(self) -> web.Application:
        async def openid(_: web.Request) -> web.Response:
            return web.json_response(
                {"issuer": self.issuer, "jwks_uri": f"{self.base}/botframework/keys", "id_token_signing_alg_values_supported": ["RS256"]}
            )

        async def keys(_: web.Request) -> web.Response:
            return web.json_response(
                {"keys": [_jwk(self.signing_key, "kid-teams", ["msteams", "webchat"]), _jwk(self.other_key, "kid-webchat", ["webchat"])]}
            )

        async def tenant_openid(request: web.Request) -> web.Response:
            tenant = request.match_info["tenant"]
            return web.json_response(
                {
                    "issuer": f"{self.base}/{tenant}/v2.0",
                    "authorization_endpoint": f"{self.base}/{tenant}/oauth2/v2.0/authorize",
                    "token_endpoint": f"{self.base}/{tenant}/oauth2/v2.0/token",
                }
            )

        async def token(request: web.Request) -> web.Response:
            form = dict(await request.post())
            self.token_requests.append({"tenant": request.match_info["tenant"], **form})
            if (form.get("client_id"), form.get("client_secret"), form.get("grant_type")) != (APP_ID, APP_PASSWORD, "client_credentials"):
                return web.json_response({"error": "invalid_client", "error_description": "wrong credentials"}, status=401)
            access_token = f"bot-token-{uuid.uuid4()}"
            self.issued.append(access_token)
            return web.json_response({"access_token": access_token, "expires_in": 3600, "token_type": "Bearer"})

        app = web.Application()
        app.router.add_get("/botframework/v1/.well-known/openidconfiguration", openid)
        app.router.add_get("/botframework/keys", keys)
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", tenant_openid)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", token)
        return app

    def channel_token(self, service_url: str, *, key: rsa.RSAPrivateKey | None = None, kid: str = "kid-teams", **claims) -> str:
        """A channel → bot token as the Bot Framework signs it; claims override the good defaults."""
        now = int(time.time())
        payload = {"iss": self.issuer, "aud": APP_ID, "serviceurl": service_url, "nbf": now - 60, "iat": now - 60, "exp": now + 3600}
        payload.update(claims)
        payload = {k: v for k, v in payload.items() if v is not None}
        return jwt.encode(payload, key or self.signing_key, algorithm="RS256", headers={"kid": kid})


def start_identity_provider(tmp_dir: Path) -> tuple[IdentityProvider, Callable[[], None]]:
    """The identity provider on HTTPS in a thread of its own (the SDK's key fetch blocks the bot's loop)."""
    tls_key = _rsa_key()
    ca_file = tmp_dir / "ca.pem"
    ca_file.write_bytes(_self_signed_cert(tls_key))
    key_file = tmp_dir / "key.pem"
    key_file.write_bytes(tls_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(ca_file, key_file)

    provider = IdentityProvider(ca_file)
    loop = asyncio.new_event_loop()
    started = threading.Event()
    state: dict = {}

    async def start() -> None:
        runner = web.AppRunner(provider.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls)
        await site.start()
        state["runner"] = runner
        provider.base = f"https://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
        started.set()

    thread = threading.Thread(target=lambda: (loop.run_until_complete(start()), loop.run_forever()), daemon=True)
    thread.start()
    assert started.wait(30)

    def stop() -> None:
        asyncio.run_coroutine_threadsafe(state["runner"].cleanup(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)

    return provider, stop


@pytest.fixture(scope="module")
def identity(tmp_path_factory) -> IdentityProvider:
    provider, stop = start_identity_provider(tmp_path_factory.mktemp("tls"))
    yield provider
    stop()


@dataclass
class TokenRecordingConnector(ScriptedConnector):
    """The scripted Bot Connector, also recording the Authorization header of every call."""

    authorizations: list[str | None] = field(default_factory=list)

    async def _handle(self, request: web.Request) -> web.Response:
        self.authorizations.append(request.headers.get("Authorization"))
        return await super()._handle(request)


@pytest.fixture
async def connector():  # overrides conftest's: start_bot then uses this one
    c = await TokenRecordingConnector().start()
    yield c
    await c.close()


@pytest.fixture
def trust_identity(identity, monkeypatch) -> IdentityProvider:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(identity.ca_file))
    identity.token_requests.clear()
    return identity


@pytest.fixture
async def secured_bot(start_bot, trust_identity):
    idp = trust_identity
    return await start_bot(
        app_id=APP_ID,
        app_password=APP_PASSWORD,
        app_tenant_id=TENANT,
        bf_openid_metadata_url=idp.metadata_url,
        bf_token_issuer=idp.issuer,
        bf_login_url=idp.base,
    )


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def assert_help_sent_with(bot, response, connector, issued: list[str]) -> None:
    """The activity was accepted, and the help reply went to the connector with the last token `issued` (filled
    while the reply is sent), and only that token."""
    assert response.status == 200, await response.text()
    await bot.drain()
    assert any("Hideki の使い方" in (s.body.get("text") or "") for s in connector.messages())
    assert connector.authorizations and all(a == f"Bearer {issued[-1]}" for a in connector.authorizations)


async def test_a_correctly_signed_token_is_accepted_and_the_reply_goes_out_with_the_bots_own_token(secured_bot, connector, identity):
    activity = A.personal_message(connector.url, "ヘルプ")
    response = await secured_bot.post(activity, headers=_bearer(identity.channel_token(connector.url)))
    # the reply carried a token that the loopback Entra issued for the app's client credentials
    await assert_help_sent_with(secured_bot, response, connector, identity.issued)
    request = identity.token_requests[-1]
    assert request["tenant"] == TENANT and request["scope"] == "https://api.botframework.com/.default"


async def test_the_sdks_own_sends_are_authenticated_too(secured_bot, connector, identity):
    """The welcome on install goes through the SDK's connector client, with credentials from the same login host."""
    response = await secured_bot.post(A.install_update(connector.url), headers=_bearer(identity.channel_token(connector.url)))
    assert response.status == 200, await response.text()
    await connector.wait_for(lambda: connector.messages())
    assert connector.authorizations[-1] in {f"Bearer {t}" for t in identity.issued}


def _refused_tokens(idp: IdentityProvider, service_url: str) -> dict[str, str | None]:
    now = int(time.time())
    return {
        "no token": None,
        "not a JWT": "Bearer not-a-real-token",
        "Basic scheme": "Basic " + idp.channel_token(service_url),
        "wrong signature": "Bearer " + idp.channel_token(service_url, key=_rsa_key()),
        "unknown key id": "Bearer " + idp.channel_token(service_url, kid="kid-nobody"),
        "key not endorsed for msteams": "Bearer " + idp.channel_token(service_url, key=idp.other_key, kid="kid-webchat"),
        "expired": "Bearer " + idp.channel_token(service_url, exp=now - 3600, nbf=now - 7200, iat=now - 7200),
        "not yet valid": "Bearer " + idp.channel_token(service_url, nbf=now + 3600),
        "wrong audience": "Bearer " + idp.channel_token(service_url, aud="00000000-0000-0000-0000-0000000000b2"),
        "no audience": "Bearer " + idp.channel_token(service_url, aud=None),
        "wrong issuer": "Bearer " + idp.channel_token(service_url, iss="https://api.botframework.com"),
        "serviceUrl mismatch": "Bearer " + idp.channel_token("https://smba.trafficmanager.net/evil/"),
        "no serviceUrl claim": "Bearer " + idp.channel_token(service_url, serviceurl=None),
        "alg none": "Bearer " + jwt.encode({"iss": idp.issuer, "aud": APP_ID, "serviceurl": service_url, "exp": now + 3600}, None, algorithm="none"),
        "HS256 with the public key": "Bearer "
        + jwt.encode(
            {"iss": idp.issuer, "aud": APP_ID, "serviceurl": service_url, "exp": now + 3600},
            "x" * 64,
            algorithm="HS256",
            headers={"kid": "kid-teams"},
        ),
    }


async def test_bad_tokens_are_refused_with_401_and_get_no_reply(secured_bot, connector, identity):
    for case, header in _refused_tokens(identity, connector.url).items():
        for make in (A.personal_message, lambda url, _: A.card_invoke(url, {"hideki_action": "help"})):
            response = await secured_bot.post(make(connector.url, "ヘルプ"), headers={"Authorization": header} if header else None)
            assert response.status == 401, (case, response.status, await response.text())
            assert (await response.json()) == {"error": "unauthorized"}
    await secured_bot.drain()
    await asyncio.sleep(0.1)
    assert connector.sent == [] and connector.authorizations == []
    # and a good token still works afterwards
    response = await secured_bot.post(A.personal_message(connector.url, "ヘルプ"), headers=_bearer(identity.channel_token(connector.url)))
    assert response.status == 200
    await secured_bot.drain()
    assert connector.messages()


async def test_with_credentials_an_activity_without_service_url_is_refused(secured_bot, connector, identity):
    """Found by the fuzz: the SDK compares the token's serviceurl claim only when the activity has a serviceUrl,
    so a genuine token issued for another service URL passed with an `event` that had none."""
    for kind in ("event", "messageReaction", "installationUpdate"):
        activity = A.personal_message(connector.url, "ヘルプ")
        activity.update(type=kind)
        activity.pop("serviceUrl")
        token = identity.channel_token("https://smba.example/elsewhere/")
        response = await secured_bot.post(activity, headers=_bearer(token))
        assert response.status == 400, kind
        assert (await response.json()) == {"error": "activity.serviceUrl is required"}
    assert connector.sent == []


async def test_unreachable_signing_keys_are_a_503_not_an_accept(start_bot, connector, trust_identity):
    idp = trust_identity
    bot = await start_bot(
        app_id=APP_ID, app_password=APP_PASSWORD, app_tenant_id=TENANT,
        bf_openid_metadata_url=f"{idp.base}/nowhere/{uuid.uuid4()}", bf_token_issuer=idp.issuer, bf_login_url=idp.base,
    )
    response = await bot.post(A.personal_message(connector.url, "ヘルプ"), headers=_bearer(idp.channel_token(connector.url)))
    assert response.status == 503
    assert connector.sent == []


# --- tenants ----------------------------------------------------------------------------------------
async def test_activities_from_other_tenants_are_refused_with_403(start_bot, connector):
    bot = await start_bot(allowed_tenants=["tenant-9", "tenant-8"])
    refused = [A.personal_message(connector.url, "ヘルプ"), A.channel_message(connector.url, "こんにちは"), A.card_invoke(connector.url, {"hideki_action": "help"})]
    no_tenant = A.personal_message(connector.url, "ヘルプ")
    no_tenant.pop("channelData")
    no_tenant["conversation"].pop("tenantId")
    for activity in [*refused, no_tenant]:
        response = await bot.post(activity)
        assert response.status == 403
        assert (await response.json()) == {"error": "tenant not allowed"}
    await bot.drain()
    assert connector.sent == []

    allowed = A.personal_message(connector.url, "ヘルプ")
    allowed["channelData"]["tenant"]["id"] = "tenant-8"
    assert (await bot.post(allowed)).status == 200
    by_conversation = A.personal_message(connector.url, "ヘルプ", user="29:staff-3")  # no channelData: conversation.tenantId
    by_conversation.pop("channelData")
    by_conversation["conversation"]["tenantId"] = "tenant-9"
    assert (await bot.post(by_conversation)).status == 200
    await bot.drain()
    assert len(connector.messages()) >= 2


async def test_no_tenant_list_means_no_restriction(start_bot, connector):
    bot = await start_bot()
    activity = A.personal_message(connector.url, "ヘルプ")
    activity["channelData"]["tenant"]["id"] = "any-tenant"
    assert (await bot.post(activity)).status == 200


def test_allowed_tenants_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("HIDEKI_ALLOWED_TENANTS", " tenant-1, tenant-2 ,")
    monkeypatch.setenv("HIDEKI_BF_OPENID_METADATA_URL", "https://login.example/v1/.well-known/openidconfiguration")
    settings = make_settings(tmp_path)
    assert settings.allowed_tenants == ["tenant-1", "tenant-2"]
    assert settings.bf_openid_metadata_url.startswith("https://login.example/")


# --- production -------------------------------------------------------------------------------------
def test_production_refuses_to_build_without_credentials(tmp_path):
    with pytest.raises(SettingsError, match="HIDEKI_ENV=production では Bot の資格情報が必要です") as error:
        build(make_settings(tmp_path, env="production"))
    assert "MicrosoftAppId" in str(error.value) and "MicrosoftAppPassword" in str(error.value)
    with pytest.raises(SettingsError, match="MicrosoftAppPassword"):
        build(make_settings(tmp_path, env="production", app_id=APP_ID, app_tenant_id=TENANT))
    build(make_settings(tmp_path, env="production", app_id=APP_ID, app_password=APP_PASSWORD, app_tenant_id=TENANT))


def test_python_app_py_in_production_without_credentials_exits_2_with_the_message(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HIDEKI_", "OPENAI_", "AZURE_OPENAI_", "MicrosoftApp", "MICROSOFT_APP", "PORT"))}
    env.update(HIDEKI_ENV="production", HIDEKI_DATA_DIR=str(tmp_path / "data"))
    result = subprocess.run([sys.executable, str(ROOT / "app.py")], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "Hideki を起動できません: HIDEKI_ENV=production では Bot の資格情報が必要です" in result.stderr
    assert "Traceback" not in result.stderr and "local mode" not in result.stderr


async def test_with_a_managed_identity_replies_carry_its_token_and_no_secret_is_needed(
    start_bot, trust_identity, managed_identity, connector
):
    idp = trust_identity
    bot = await start_bot(app_id=APP_ID, app_type="UserAssignedMSI", app_tenant_id=TENANT,
                          bf_openid_metadata_url=idp.metadata_url, bf_token_issuer=idp.issuer)
    response = await bot.post(A.personal_message(connector.url, "ヘルプ"), headers=_bearer(idp.channel_token(connector.url)))
    await assert_help_sent_with(bot, response, connector, managed_identity.issued)
    asked = managed_identity.requests[-1]
    assert asked["client_id"] == APP_ID and asked["resource"] == "https://api.botframework.com"
    assert idp.token_requests == []  # no client-secret flow at all
