"""The parts the bot is built from, as one typed value: made once from settings by the composition root
(`app.build`), handed to the web app (`bot.server.create_app`), and read by tests and the CLI.

It is declared here, in bot/, because bot/ is what consumes it and imports point from `app.py` down to bot/,
never back up. Nothing Teams-specific is in it: the Bot Framework adapter, its authentication and the outgoing
connector are built inside bot/ from `settings` (`bot/adapter.py`).
"""
from __future__ import annotations

from dataclasses import dataclass

from bot.runner import JobRunner
from channels.dispatch import Dispatcher
from channels.registry import Registry
from hideki.llm.gateway import LLMGateway
from hideki.settings import Settings
from hideki.state.audit import AuditLog
from hideki.state.jobs import JobQueue
from hideki.state.locks import ConversationLocks
from hideki.state.ratelimit import AsyncRateLimiter
from hideki.state.stores import BindingStore, FeedbackStore, FileStore, MemoryStore


@dataclass
class Parts:
    """Everything the bot is made of, wired once."""

    settings: Settings
    registry: Registry  # the pipelines
    dispatcher: Dispatcher  # a message (or card action) to a pipeline's Reply
    bindings: BindingStore  # channel → pipeline set in Teams, and channel names
    memory: MemoryStore  # conversation memory of 1:1 chats
    audit: AuditLog
    jobs: JobQueue  # durable pipeline work, shared by replicas
    locks: ConversationLocks  # one job per conversation at a time, across replicas
    limiter: AsyncRateLimiter  # messages per user and in all
    runner: JobRunner  # this process's bounded background tasks
    gateway: LLMGateway
    feedback: FeedbackStore  # 👍/👎 and unanswered questions; which sent message shows which answer
    files: FileStore  # documents offered in 1:1 chats until the user accepts or declines them

    async def close(self) -> None:
        """Let go of the connections the parts hold (rate limiter, locks, model client)."""
        await self.limiter.close()
        await self.locks.close()
        await self.gateway.close()
