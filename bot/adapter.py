"""The Bot Framework side, built from settings: the SDK's adapter with its authentication configuration
(HIDEKI_BF_* endpoint overrides, the turn-error apology) and the outgoing connector replies are sent through."""
from __future__ import annotations

import logging
from types import SimpleNamespace

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import CallerIdConstants
from botframework.connector.auth import AuthenticationConstants

from bot.connector import BotCredentialsFactory, Connector
from bot.delivery import Delivery
from bot.sdk import CachingAuthentication, speed_up_msrest
from hideki.logs import correlation_id
from hideki.settings import Settings
from hideki.state.stores import FeedbackStore

log = logging.getLogger(__name__)

TURN_FAILED = "申し訳ありません。エラーが発生しました。もう一度送ってください。（問い合わせ番号: {cid}）"


def _endpoints(settings: Settings) -> dict[str, str]:
    """Bot Framework endpoint overrides (HIDEKI_BF_*), for the SDK's configuration object; {} for the public cloud.

    Setting any of them switches the SDK to its parameterized authentication, which uses every value as given,
    so the ones not set are filled in with the public-cloud values.
    """
    if not (settings.bf_openid_metadata_url or settings.bf_token_issuer or settings.bf_emulator_openid_metadata_url or settings.bf_login_url):
        return {}
    tenant = settings.app_tenant_id if settings.app_type == "SingleTenant" and settings.app_tenant_id else AuthenticationConstants.DEFAULT_CHANNEL_AUTH_TENANT
    login = settings.bf_login_url.rstrip("/") or AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX.rstrip("/")
    return {
        "TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL": settings.bf_openid_metadata_url
        or AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL,
        "TO_BOT_FROM_CHANNEL_TOKEN_ISSUER": settings.bf_token_issuer or AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER,
        "TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL": settings.bf_emulator_openid_metadata_url
        or AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL,
        "TO_CHANNEL_FROM_BOT_LOGIN_URL": f"{login}/{tenant}",
        "TO_CHANNEL_FROM_BOT_OAUTH_SCOPE": AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE,
        "OAUTH_URL": AuthenticationConstants.OAUTH_URL,
        "CALLER_ID": CallerIdConstants.public_azure_channel,
    }


def _authentication(settings: Settings) -> ConfigurationBotFrameworkAuthentication:
    return ConfigurationBotFrameworkAuthentication(
        SimpleNamespace(
            APP_ID=settings.app_id,
            APP_PASSWORD=settings.app_password.get_secret_value(),
            APP_TYPE=settings.app_type if settings.auth_enabled else "MultiTenant",
            APP_TENANTID=settings.app_tenant_id,
            **_endpoints(settings),
        ),
        credentials_factory=(
            BotCredentialsFactory(
                settings.app_id,
                settings.app_password.get_secret_value(),
                settings.app_tenant_id if settings.app_type == "SingleTenant" else "",
                settings.bf_login_url,
            )
            if settings.bf_login_url and settings.auth_enabled and settings.app_type != "UserAssignedMSI"
            else None
        ),
    )


async def _on_turn_error(turn: TurnContext, error: Exception) -> None:
    cid = correlation_id.get()
    log.error("turn failed", exc_info=error)
    try:
        await turn.send_activity(TURN_FAILED.format(cid=cid))
    except Exception:
        log.warning("could not send the apology", exc_info=True)


def create_adapter(settings: Settings) -> CloudAdapter:
    """The SDK adapter that authenticates incoming requests and runs turns (it reuses its clients: bot/sdk.py)."""
    speed_up_msrest()
    adapter = CloudAdapter(CachingAuthentication(_authentication(settings)))
    adapter.on_turn_error = _on_turn_error
    return adapter


def create_delivery(settings: Settings, feedback: FeedbackStore) -> Delivery:
    """Where every proactive reply goes out: Delivery over the Bot Connector REST client, with the app's token."""
    connector = Connector(
        settings.app_id, settings.app_password.get_secret_value(), settings.app_tenant_id, login_url=settings.bf_login_url,
        app_type=settings.app_type,
    )
    return Delivery(connector, feedback)
