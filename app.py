"""Hideki entry point: `python app.py` (or `hideki serve`) starts the bot on $PORT (default 3978)."""
from __future__ import annotations

import logging
import sys

from aiohttp import web

from bot.server import create_app
from hideki.logs import setup_logging
from hideki.settings import Settings, SettingsError, load_settings
from hideki.llm.tokens import install_offline_encodings
from prompts import PromptError

log = logging.getLogger("hideki")


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
    log.info("shared engines", extra={
        "database": "postgresql" if settings.database_url.get_secret_value() else "sqlite",
        "locks_and_rate_limits": "redis" if settings.redis_url.get_secret_value() else "in-process",
        "vectors": "chroma server" if settings.chroma_url else "chroma on disk",
    })
    if settings.llm_mode == "none":
        log.info("no LLM endpoint configured: every pipeline answers with its offline engine")
    return create_app(settings)


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
