"""The aiohttp application: `/api/messages` for the Bot Framework, `/healthz`, `/readyz` and `/metrics`.

Requests are checked before the SDK sees them: wrong content type, oversized or malformed bodies, activities
missing their required fields, bad tokens and tenants not allowed get a clear 4xx; nothing in here answers 500.
A checked activity is handed to the SDK's turn together with its raw body, for the intake (`bot/intake.py`).
`create_app` also wires the Teams side (adapter, delivery, intake, worker, handler) onto the parts `app.py` built.
"""
from __future__ import annotations

import hmac
import json
import logging
import time
import uuid
from typing import Any

import requests
from aiohttp import web
from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity

from bot.adapter import create_adapter, create_delivery
from bot.commands import Commands
from bot.delivery import Delivery
from bot.files import FileOffers
from bot.handler import HidekiBot
from bot.intake import RECEIVED_BODY, Intake
from bot.parts import Parts
from bot.worker import Worker
from hideki.logs import correlation_id
from hideki.metrics import ACK_SECONDS, BREAKER_OPEN, JOBS_OPEN, LLM_IN_FLIGHT, QUEUE_DEPTH, REQUESTS, exposition

log = logging.getLogger(__name__)


def create_app(parts: Parts) -> web.Application:
    """The web app serving `parts`: the Teams side wired, the routes added, the worker started and stopped with it."""
    delivery = create_delivery(parts.settings, parts.feedback)
    files = FileOffers(parts.files, delivery)
    worker, handler = _wire_teams(parts, delivery, files)
    endpoints = Endpoints(parts, create_adapter(parts.settings), handler)
    app = web.Application(client_max_size=parts.settings.max_body_bytes, middlewares=[_observe])
    app.router.add_post("/api/messages", endpoints.messages)
    app.router.add_get("/healthz", endpoints.healthz)
    app.router.add_get("/readyz", endpoints.readyz)
    app.router.add_get("/metrics", endpoints.metrics)

    async def on_startup(_: web.Application) -> None:
        worker.start()

    async def on_shutdown(_: web.Application) -> None:
        await worker.shutdown()
        await files.close()
        await delivery.close()
        await parts.close()

    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)
    return app


def _wire_teams(parts: Parts, delivery: Delivery, files: FileOffers) -> tuple[Worker, HidekiBot]:
    """The worker, and the activity handler with the commands and the intake behind it."""
    settings = parts.settings
    commands = Commands(parts.dispatcher, parts.registry, parts.bindings, parts.memory, settings.admins, parts.gateway.describe)
    worker = Worker(settings=settings, dispatcher=parts.dispatcher, bindings=parts.bindings, memory=parts.memory,
                    audit=parts.audit, jobs=parts.jobs, locks=parts.locks, runner=parts.runner, delivery=delivery,
                    files=files, feedback=parts.feedback)
    intake = Intake(settings=settings, dispatcher=parts.dispatcher, registry=parts.registry, bindings=parts.bindings,
                    limiter=parts.limiter, jobs=parts.jobs, runner=parts.runner, commands=commands, worker=worker,
                    feedback=parts.feedback,
                    delivery=delivery)
    return worker, HidekiBot(intake, commands, parts.bindings, files)


@web.middleware
async def _observe(request: web.Request, handler) -> web.StreamResponse:
    started = time.perf_counter()
    response = await handler(request)
    if request.path == "/api/messages":
        ACK_SECONDS.observe(time.perf_counter() - started)
        REQUESTS.labels(str(response.status)).inc()
    return response


class Refused(Exception):
    """A request answered with a 4xx (or 503) and a short reason, before its activity reaches the bot."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Endpoints:
    def __init__(self, parts: Parts, adapter: CloudAdapter, handler: HidekiBot) -> None:
        self._settings = parts.settings
        self._runner = parts.runner
        self._jobs = parts.jobs
        self._gateway = parts.gateway
        self._adapter = adapter
        self._handler = handler

    async def messages(self, request: web.Request) -> web.Response:
        """POST /api/messages: read and check the activity, authenticate it, then run the turn."""
        cid = new_correlation_id()
        correlation_id.set(cid)
        try:
            body = await self._read_body(request)
            activity = self._activity(body)
            authenticated = await self._authenticate(request, activity)
            self._check_tenant(body)
        except Refused as refused:
            return _problem(refused.status, refused.message)
        return await self._run_turn(authenticated, activity, body, cid)

    async def _read_body(self, request: web.Request) -> dict[str, Any]:
        """The JSON body, within the size limit, with the fields an activity needs (Refused otherwise)."""
        limit = self._settings.max_body_bytes
        if "application/json" not in request.headers.get("Content-Type", ""):
            raise Refused(415, "Content-Type must be application/json")
        if request.content_length is not None and request.content_length > limit:
            raise Refused(413, f"body larger than {limit} bytes")
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise Refused(413, f"body larger than {limit} bytes") from None
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise Refused(400, "body is not valid JSON") from None
        except RecursionError:  # e.g. 100,000 nested "[": json.loads recurses per level
            raise Refused(400, "body is nested too deeply") from None
        if problem := check_activity(body):
            raise Refused(400, problem)
        return body

    def _activity(self, body: dict[str, Any]) -> Activity:
        try:
            activity = Activity().deserialize(body)
        except Exception:
            raise Refused(400, "body is not a Bot Framework activity") from None
        if self._settings.auth_enabled and not activity.service_url:  # the SDK checks the token's serviceurl claim only when there is one
            raise Refused(400, "activity.serviceUrl is required")
        return activity

    async def _authenticate(self, request: web.Request, activity: Activity) -> Any:
        """The SDK's authentication result; done apart from the turn, so that every failure of it is a 401 and
        never a turn error."""
        try:
            return await self._adapter.bot_framework_authentication.authenticate_request(
                activity, request.headers.get("Authorization") or None
            )
        except requests.RequestException:
            log.exception("Bot Framework signing keys could not be fetched")
            raise Refused(503, "token signing keys unavailable") from None
        except Exception as error:  # PermissionError, jwt.PyJWTError, the SDK's bare Exceptions (endorsements, unknown kid)
            log.info("request refused: %s: %s", type(error).__name__, error)
            raise Refused(401, "unauthorized") from None

    def _check_tenant(self, body: dict[str, Any]) -> None:
        if self._settings.allowed_tenants and tenant_of(body) not in self._settings.allowed_tenants:
            log.info("request refused: tenant not allowed", extra={"tenant": tenant_of(body)})
            raise Refused(403, "tenant not allowed")

    async def _run_turn(self, authenticated: Any, activity: Activity, body: dict[str, Any], cid: str) -> web.Response:
        """The SDK runs the turn with the handler; the raw body rides along in the turn state for the intake."""
        async def logic(turn: TurnContext) -> None:
            turn.turn_state[RECEIVED_BODY] = body
            await self._handler.on_turn(turn)

        try:
            invoke: InvokeResponse | None = await self._adapter.process_activity(authenticated, activity, logic)
        except Exception:  # the turn itself must not take the endpoint down
            log.exception("activity processing failed")
            return _problem(400, f"activity could not be processed (correlation id {cid})")
        if invoke is not None and invoke.status >= 500:  # the SDK's 501 when the invoke's turn failed (on_turn_error ran)
            return _problem(400, f"activity could not be processed (correlation id {cid})")
        if invoke is not None:
            return web.json_response(invoke.body, status=invoke.status)
        return web.Response(status=200)

    async def healthz(self, _: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(self, _: web.Request) -> web.Response:
        """Ready when accepting work: not shutting down and the runner not full."""
        runner = self._runner
        ready = not runner.closing and runner.pending < self._settings.max_pending_jobs
        return web.json_response(
            {"status": "ready" if ready else "busy", "pending_jobs": runner.pending, "llm": self._settings.llm_mode,
             "llm_circuit": self._gateway.breaker.state},
            status=200 if ready else 503,
        )

    async def metrics(self, request: web.Request) -> web.Response:
        if not _metrics_allowed(request, self._settings.metrics_token.get_secret_value()):
            return web.Response(status=401, headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
        QUEUE_DEPTH.set(self._runner.pending)
        JOBS_OPEN.set(self._jobs.depth())
        LLM_IN_FLIGHT.set(self._gateway.cap.in_flight)
        BREAKER_OPEN.set(1 if self._gateway.breaker.state == "open" else 0)
        body, content_type = exposition()
        return web.Response(body=body, headers={"Content-Type": content_type})


def new_correlation_id() -> str:
    return uuid.uuid4().hex[:12]


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
