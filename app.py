"""The composition root: settings → parts (database and stores, LLM gateway, prompts and pipelines, knowledge
base, dispatcher, locks, rate limits) → web app → run.

`python app.py` (or `hideki serve`) starts the bot on $PORT (default 3978). Tests and benchmarks use `build`
and `bot.server.create_app` (or `prepare`) to get the same bot.
"""
from __future__ import annotations

import gc
import logging
import sys

from aiohttp import web

from bot.parts import Parts
from bot.runner import JobRunner
from bot.server import create_app
from channels import build_registry
from channels.base import PipelineContext
from channels.dispatch import Dispatcher
from channels.registry import validate_bindings
from channels.stored import DefinitionStore
from hideki.llm.gateway import LLMGateway
from hideki.llm.tokens import install_offline_encodings
from hideki.logs import setup_logging
from hideki.settings import Settings, SettingsError, load_settings
from hideki.state.audit import AuditLog
from hideki.state.db import open_database
from hideki.state.jobs import JobQueue
from hideki.state.locks import open_locks
from hideki.state.ratelimit import open_rate_limiter
from hideki.state.stores import BindingStore, FeedbackStore, FileStore, MemoryStore, ResultStore
from knowledge.startup import open_and_seed_knowledge_base
from prompts import PromptError, PromptLibrary

log = logging.getLogger("hideki")


def build(settings: Settings) -> Parts:
    """Wire the bot's parts from settings. Raises PromptError / ValueError with a message naming the file on bad
    setup, SettingsError when the Bot credentials cannot work (or HIDEKI_ENV=production lacks them)."""
    settings.check_production()
    library = PromptLibrary(override_dir=settings.prompts_override_dir)
    db = open_database(settings)
    feedback = FeedbackStore(db)
    context = PipelineContext(
        results=ResultStore(db),
        feedback=feedback,
        knowledge=open_and_seed_knowledge_base(settings),
        admins=tuple(settings.admins),
        helpdesk_contact=settings.helpdesk_contact,
        faq_rewrite=settings.faq_rewrite,
        dictionaries_dir=settings.dictionaries_dir,
        custom_pipelines_dir=settings.custom_pipelines_dir,
        definitions=DefinitionStore(db),
    )
    registry = build_registry(library, context, default=settings.default_pipeline)
    validate_bindings(registry, settings.bindings)
    gateway = LLMGateway(settings)
    bindings, memory = BindingStore(db), MemoryStore(db)
    audit = AuditLog(db, settings.audit_store_content, settings.audit_retention_days, settings.audit_content_retention_days)
    return Parts(
        settings=settings,
        registry=registry,
        dispatcher=Dispatcher(registry, bindings, memory, gateway, settings.bindings, settings.memory_tokens, audit),
        bindings=bindings,
        memory=memory,
        audit=audit,
        jobs=JobQueue(db, settings.job_lease_s, settings.job_max_attempts),
        locks=open_locks(settings),
        limiter=open_rate_limiter(settings),
        runner=JobRunner(settings.max_concurrent_jobs, settings.max_pending_jobs),
        gateway=gateway,
        feedback=feedback,
        files=FileStore(db),
    )


def prepare(settings: Settings) -> web.Application:
    """Everything start-up does before serving; raises on a bad setup."""
    settings.check_production()  # before anything is written or logged (build() checks it too)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    setup_logging(settings.log_level, settings.log_dir)
    install_offline_encodings(settings.cache_dir / "tiktoken")
    if not settings.auth_enabled:
        log.warning(
            "local mode: MicrosoftAppId is not set, so Bot Framework token validation is off. "
            "Use this only with the Agents Playground or on a closed test machine."
        )
    log.info("state engines", extra={
        "database": "postgresql" if settings.database_url.get_secret_value() else "sqlite",
        "locks_and_rate_limits": "redis" if settings.redis_url.get_secret_value() else "in-process",
        "vectors": "chroma server" if settings.chroma_url else "chroma on disk",
    })
    if settings.llm_mode == "none":
        log.info("no LLM endpoint configured: every pipeline answers with its offline engine")
    app = create_app(build(settings))
    # Everything built so far (modules, dictionaries, models, the FAQ index) lives as long as the process: keep it
    # out of the garbage collector's full passes, which otherwise stall the event loop for ~0.1 s every second or
    # two under load (benchmarks/bot_overhead.py, steady phase).
    gc.collect()
    gc.freeze()
    return app


def main() -> int:
    try:
        settings = load_settings()
        app = prepare(settings)
    except (SettingsError, PromptError, ValueError) as exc:
        print(f"Hideki を起動できません: {exc}", file=sys.stderr)
        return 2
    log.info("listening", extra={"host": settings.host, "port": settings.port, "llm": settings.llm_mode})
    web.run_app(app, host=settings.host, port=settings.port, print=None, access_log=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
