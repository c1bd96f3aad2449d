"""The aiohttp application: `/api/messages` for the Bot Framework, `/healthz` and `/readyz`.

Requests are checked before the SDK sees them: wrong content type, oversized or malformed bodies and
activities missing their required fields get a clear 4xx; nothing in here answers 500.
"""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from dataclasses import dataclass
from types import SimpleNamespace

import requests
from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, CallerIdConstants
from botframework.connector.auth import AuthenticationConstants

from bot.connector import BotCredentialsFactory, Connector
from bot.delivery import Delivery
from bot.handler import HidekiBot
from bot.runner import JobRunner
from bot.sdk import CachingAuthentication, speed_up_msrest
from bot.service import BotService, new_correlation_id, received
from channels import build_registry
from channels.base import PipelineContext
from channels.dispatch import Dispatcher
from channels.registry import validate_bindings
from hideki.state.audit import AuditLog
from hideki.state.db import open_database
from hideki.state.jobs import JobQueue
from hideki.llm.gateway import LLMGateway
from hideki.state.locks import open_locks
from hideki.logs import correlation_id
from hideki.metrics import ACK_SECONDS, BREAKER_OPEN, JOBS_OPEN, LLM_IN_FLIGHT, QUEUE_DEPTH, REQUESTS, exposition
from hideki.settings import Settings
from hideki.state.stores import BindingStore, FeedbackStore, MemoryStore, ResultStore
from knowledge.startup import open_and_seed_knowledge_base
from prompts import PromptLibrary

log = logging.getLogger(__name__)

SERVICE_KEY = web.AppKey("service", BotService)
MAINTENANCE_KEY = web.AppKey("maintenance", asyncio.Task)
JOB_KEEPER_KEY = web.AppKey("job_keeper", asyncio.Task)
JOB_RETENTION_S = 86400  # finished jobs (which keep no content) are deleted a day later


@dataclass
class Parts:
    """Everything the app is made of, for tests and the CLI."""

    adapter: CloudAdapter
    bot: HidekiBot
    service: BotService
    runner: JobRunner
    gateway: LLMGateway


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


def build(settings: Settings) -> Parts:
    """Wire the bot from settings. Raises PromptError / ValueError with a message naming the file on bad setup,
    SettingsError when HIDEKI_ENV=production lacks Bot credentials."""
    settings.check_production()
    library = PromptLibrary(override_dir=settings.prompts_override_dir)
    db = open_database(settings)
    shared = PipelineContext(
        results=ResultStore(db),
        feedback=FeedbackStore(db),
        knowledge=open_and_seed_knowledge_base(settings),
        admins=tuple(settings.admins),
        helpdesk_contact=settings.helpdesk_contact,
        dictionaries_dir=settings.dictionaries_dir,
    )
    registry = build_registry(library, shared, default=settings.default_pipeline)
    validate_bindings(registry, settings.bindings)
    gateway = LLMGateway(settings)
    audit = AuditLog(db, settings.audit_store_content, settings.audit_retention_days, settings.audit_content_retention_days)
    dispatcher = Dispatcher(registry, BindingStore(db), MemoryStore(db), gateway, settings.bindings, settings.memory_tokens, audit)
    auth = ConfigurationBotFrameworkAuthentication(
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
    speed_up_msrest()
    adapter = CloudAdapter(CachingAuthentication(auth))
    runner = JobRunner(settings.max_concurrent_jobs, settings.max_pending_jobs)
    connector = Connector(
        settings.app_id, settings.app_password.get_secret_value(), settings.app_tenant_id, login_url=settings.bf_login_url,
        app_type=settings.app_type,
    )
    service = BotService(settings, dispatcher, Delivery(connector), runner, JobQueue(db, settings.job_lease_s, settings.job_max_attempts), open_locks(settings))
    bot = HidekiBot(service)

    async def on_turn_error(turn: TurnContext, error: Exception) -> None:
        cid = correlation_id.get()
        log.error("turn failed", exc_info=error)
        try:
            await turn.send_activity(f"申し訳ありません。エラーが発生しました。もう一度送ってください。（問い合わせ番号: {cid}）")
        except Exception:
            log.warning("could not send the apology", exc_info=True)

    adapter.on_turn_error = on_turn_error
    return Parts(adapter, bot, service, runner, gateway)


def _metrics_allowed(request: web.Request, token: str) -> bool:
    if not token:
        return True
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def _problem(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def check_activity(body: object) -> str | None:
    """What is wrong with an incoming activity body, or None."""
    if not isinstance(body, dict):
        return "activity must be a JSON object"
    if not isinstance(body.get("type"), str) or not body["type"]:
        return "activity.type is required"
    for field in ("conversation", "from", "recipient"):
        if body["type"] in ("message", "invoke", "conversationUpdate") and not isinstance(body.get(field), dict):
            return f"activity.{field} is required"
    if body["type"] in ("message", "invoke", "conversationUpdate"):
        if not isinstance(body.get("serviceUrl"), str) or not body["serviceUrl"].startswith(("http://", "https://")):
            return "activity.serviceUrl is required"
        if not isinstance(body["conversation"].get("id"), str):
            return "activity.conversation.id is required"
    for field in ("text", "channelId", "id", "name"):
        if field in body and body[field] is not None and not isinstance(body[field], str):
            return f"activity.{field} must be a string"
    for field in ("entities", "attachments", "membersAdded", "membersRemoved"):
        if field in body and body[field] is not None and not isinstance(body[field], list):
            return f"activity.{field} must be a list"
    return None


def tenant_of(body: dict) -> str | None:
    """The Teams tenant of an activity: channelData.tenant.id, else conversation.tenantId."""
    channel_data = body.get("channelData")
    tenant = channel_data.get("tenant") if isinstance(channel_data, dict) else None
    if isinstance(tenant, dict) and isinstance(tenant.get("id"), str) and tenant["id"]:
        return tenant["id"]
    conversation_tenant = body["conversation"].get("tenantId") if isinstance(body.get("conversation"), dict) else None
    return conversation_tenant if isinstance(conversation_tenant, str) and conversation_tenant else None


def create_app(settings: Settings, parts: Parts | None = None) -> web.Application:
    parts = parts or build(settings)

    @web.middleware
    async def observe(request: web.Request, handler):
        started = time.perf_counter()
        response = await handler(request)
        if request.path == "/api/messages":
            ACK_SECONDS.observe(time.perf_counter() - started)
            REQUESTS.labels(str(response.status)).inc()
        return response

    app = web.Application(client_max_size=settings.max_body_bytes, middlewares=[observe])
    app[SERVICE_KEY] = parts.service

    async def messages(request: web.Request) -> web.Response:
        cid = new_correlation_id()
        correlation_id.set(cid)
        if "application/json" not in request.headers.get("Content-Type", ""):
            return _problem(415, "Content-Type must be application/json")
        if request.content_length is not None and request.content_length > settings.max_body_bytes:
            return _problem(413, f"body larger than {settings.max_body_bytes} bytes")
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _problem(413, f"body larger than {settings.max_body_bytes} bytes")
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return _problem(400, "body is not valid JSON")
        except RecursionError:  # e.g. 100,000 nested "[": json.loads recurses per level
            return _problem(400, "body is nested too deeply")
        if problem := check_activity(body):
            return _problem(400, problem)
        received.set(body)
        try:
            activity = Activity().deserialize(body)
        except Exception:
            return _problem(400, "body is not a Bot Framework activity")
        if settings.auth_enabled and not activity.service_url:  # the SDK checks the token's serviceurl claim only when there is one
            return _problem(400, "activity.serviceUrl is required")
        try:  # authenticated here, apart from the turn, so that every failure of it is a 401 and never a turn error
            authenticated = await parts.adapter.bot_framework_authentication.authenticate_request(
                activity, request.headers.get("Authorization") or None
            )
        except requests.RequestException:
            log.exception("Bot Framework signing keys could not be fetched")
            return _problem(503, "token signing keys unavailable")
        except Exception as error:  # PermissionError, jwt.PyJWTError, the SDK's bare Exceptions (endorsements, unknown kid)
            log.info("request refused: %s: %s", type(error).__name__, error)
            return _problem(401, "unauthorized")
        if settings.allowed_tenants and tenant_of(body) not in settings.allowed_tenants:
            log.info("request refused: tenant not allowed", extra={"tenant": tenant_of(body)})
            return _problem(403, "tenant not allowed")
        try:
            invoke = await parts.adapter.process_activity(authenticated, activity, parts.bot.on_turn)
        except Exception:  # the turn itself must not take the endpoint down
            log.exception("activity processing failed")
            return _problem(400, f"activity could not be processed (correlation id {cid})")
        if invoke is not None and invoke.status >= 500:  # the SDK's 501 when the invoke's turn failed (on_turn_error ran)
            return _problem(400, f"activity could not be processed (correlation id {cid})")
        if invoke is not None:
            return web.json_response(invoke.body, status=invoke.status)
        return web.Response(status=200)

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        """Ready when accepting work: not shutting down and the runner not full."""
        runner, gateway = parts.runner, parts.gateway
        ready = not runner.closing and runner.pending < settings.max_pending_jobs
        return web.json_response(
            {"status": "ready" if ready else "busy", "pending_jobs": runner.pending, "llm": settings.llm_mode,
             "llm_circuit": gateway.breaker.state},
            status=200 if ready else 503,
        )

    async def metrics(request: web.Request) -> web.Response:
        if not _metrics_allowed(request, settings.metrics_token.get_secret_value()):
            return web.Response(status=401, headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
        QUEUE_DEPTH.set(parts.runner.pending)
        JOBS_OPEN.set(parts.service.jobs.depth())
        LLM_IN_FLIGHT.set(parts.gateway.cap.in_flight)
        BREAKER_OPEN.set(1 if parts.gateway.breaker.state == "open" else 0)
        body, content_type = exposition()
        return web.Response(body=body, headers={"Content-Type": content_type})

    async def maintenance() -> None:
        """Retention, applied at start-up and then every six hours."""
        dispatcher = parts.service.dispatcher
        while True:
            try:
                cleared, deleted = dispatcher.audit.purge() if dispatcher.audit else (0, 0)
                forgotten = dispatcher.memory.purge(settings.memory_retention_days)
                pruned = parts.service.jobs.prune(JOB_RETENTION_S)
                log.info("retention applied", extra={"audit_content_cleared": cleared, "audit_rows_deleted": deleted,
                                                      "memory_turns_forgotten": forgotten, "jobs_pruned": pruned})
            except Exception:
                log.exception("retention failed")
            await asyncio.sleep(6 * 3600)

    async def keep_jobs() -> None:
        """Renew this process's job leases, and start jobs nobody holds (left by a process that died)."""
        jobs = parts.service.jobs
        while True:
            try:
                jobs.renew()
                parts.service.take_orphans()
            except Exception:
                log.exception("job keeping failed")
            await asyncio.sleep(min(1.0, jobs.lease_s / 3))

    async def on_startup(app: web.Application) -> None:
        app[MAINTENANCE_KEY] = asyncio.get_running_loop().create_task(maintenance())
        app[JOB_KEEPER_KEY] = asyncio.get_running_loop().create_task(keep_jobs())

    async def on_shutdown(app: web.Application) -> None:
        if MAINTENANCE_KEY in app:
            app[MAINTENANCE_KEY].cancel()
        cancelled = await parts.runner.close(settings.shutdown_grace_s)  # leases are still renewed meanwhile
        if JOB_KEEPER_KEY in app:
            app[JOB_KEEPER_KEY].cancel()
        released = parts.service.jobs.release_all()  # another replica, or this one restarted, answers them
        if cancelled or released:
            log.warning("shutdown interrupted jobs; given back to the queue", extra={"cancelled": cancelled, "released": released})
        await parts.service.close()
        await parts.gateway.close()

    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)
    return app
