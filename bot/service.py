"""What the bot does with a message: commands at once, pipeline work through the durable job queue, answers
proactively.

Pipeline work (anything that may call a model or take long) becomes a job row before the HTTP request is answered
and is run by whichever process holds it (`hideki/state/jobs.py`); a process that dies mid-way leaves it to another
replica or to itself after a restart, which updates the same 「作成中…」 message. Commands, help, rate-limit notices
and card buttons are answered at once in-process: they are quick lookups with no model call, touch no conversation
memory order, and if one is lost the user simply sends or clicks again.
"""
from __future__ import annotations

import asyncio
import logging
import time
import uuid
from contextvars import ContextVar
from dataclasses import replace
from typing import Any

import aiohttp
from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from bot import activity as teams
from bot.commands import Command, parse
from bot.connector import Target
from bot.delivery import Delivery, target_of
from bot.runner import JobRunner
from channels.base import Action, Place, Reply, User
from channels.dispatch import Dispatcher, Incoming
from channels.registry import binding_key
from hideki.state.jobs import Job, JobQueue
from hideki.state.ratelimit import open_rate_limiter
from hideki.state.locks import ConversationLocks, LockTimeout
from hideki.logs import correlation_id
from hideki.metrics import RATE_LIMITED
from hideki.settings import Settings

log = logging.getLogger(__name__)

BUSY = "ただいま混み合っています。少し時間をおいて、もう一度送ってください。"
SLOW_DOWN = "短い時間にたくさんのメッセージが届いたため、少し休ませてください。約{s}秒後にもう一度送ってください。"
GLOBAL_SLOW_DOWN = "ただいま Hideki 全体が混み合っています。約{s}秒後にもう一度送ってください。"
TIMED_OUT = "申し訳ありません。処理に時間がかかりすぎたため中断しました。文章を短くして、もう一度送ってください。（問い合わせ番号: {cid}）"
GAVE_UP = "申し訳ありません。何度か試しましたが、回答を作成できませんでした。もう一度送ってください。（問い合わせ番号: {cid}）"
TOO_LARGE = "ファイル「{name}」は大きすぎるため読み込めません（上限 {mb} MB）。"
DOWNLOAD_FAILED = "ファイル「{name}」をダウンロードできませんでした。もう一度送ってください。"
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
RETRY_DELAY_S = 5.0  # after a failed run (e.g. the Bot Connector refused the answer), times the attempts so far
TURN_POLL_S = 0.5  # a job waiting for an earlier one of its conversation, possibly on another replica, looks again

# The activity as received (JSON), set by the HTTP endpoint for the turn: what a job needs to run anywhere later.
received: ContextVar[dict[str, Any]] = ContextVar("received")


class BotService:
    def __init__(self, settings: Settings, dispatcher: Dispatcher, delivery: Delivery, runner: JobRunner,
                 jobs: JobQueue, locks: ConversationLocks) -> None:
        self.settings = settings
        self.dispatcher = dispatcher
        self.delivery = delivery
        self.runner = runner
        self.jobs = jobs
        self.locks = locks
        self._session: aiohttp.ClientSession | None = None  # for downloading files users send
        self.limiter = open_rate_limiter(settings)
        self._finished = asyncio.Event()  # set when a job of this process ends: the next of its conversation may start

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        await self.delivery.close()
        await self.limiter.close()
        await self.locks.close()

    # --- entry points from the activity handler --------------------------------------------------------
    async def on_message(self, turn: TurnContext) -> None:
        act = turn.activity
        if isinstance(act.value, dict) and act.value.get("hideki_action") and not act.text:
            return  # card actions arrive through on_action
        target = target_of(act)
        place, user = teams.place_of(act), teams.user_of(act)
        text = teams.text_without_mentions(act)
        cid = correlation_id.get()
        if place.channel_id and place.channel_name:
            self.dispatcher.bindings.remember_name(place.channel_id, place.channel_name)
        elif place.channel_id and (known := self.dispatcher.bindings.name_of(place.channel_id)):
            place = replace(place, channel_name=known)
        if limited := await self.limiter.check(user.aad_object_id or user.id):
            scope, wait = limited
            RATE_LIMITED.labels(scope).inc()
            message = (SLOW_DOWN if scope == "user" else GLOBAL_SLOW_DOWN).format(s=max(1, round(wait)))
            self._submit(lambda: self._send_now(target, message), cid)
            return
        command = parse(text)
        files = teams.file_attachments(act)
        if command is not None and command.kind == "pipeline_action" and not files:
            await self.on_action(turn, {"hideki_action": command.argument})
            return
        if command is not None and not files:
            self._submit(lambda: self._send_now(target, self.run_command(command, place, user)), cid)
            return
        if not text.strip() and not files:
            self._submit(lambda: self._send_now(target, self.usage_text(place)), cid)
            return
        unsupported = [name for name, _ in files if self.dispatcher.registry.for_file(name) is None]
        if unsupported:
            self._submit(lambda: self._send_now(target, self.unsupported_files_text(unsupported)), cid)
            return
        if not self.runner.has_room:
            log.warning("runner full; message refused", extra={"pending": self.runner.pending})
            await turn.send_activity(BUSY)  # tell the user now; their text stays in Teams for a resend
            return
        job_id = self.jobs.enqueue(place.conversation_id, cid, received.get())  # stored before the request is answered
        self._submit(lambda: self._run_accepted(job_id, target), cid)

    async def on_action(self, turn: TurnContext, data: dict[str, Any]) -> None:
        """A button on one of our cards. `data["hideki_action"]` names it."""
        act = turn.activity
        target = target_of(act)
        place, user = teams.place_of(act), teams.user_of(act)
        name = str(data.get("hideki_action"))
        cid = correlation_id.get()
        if name == "help":
            self._submit(lambda: self._send_now(target, self.help_text(place)), cid)
            return
        action = Action(name, data, user, place)

        async def answer() -> None:
            reply = await self.dispatcher.act(action, cid)
            if reply is None:
                log.info("unknown card action", extra={"action": name, "user": user.id})
                return
            await self.delivery.reply(target, None, reply, self.settings.max_message_bytes)

        if not self._submit(answer, cid):
            await turn.send_activity(BUSY)

    def welcome_text(self, place: Place) -> str:
        return "こんにちは。Hideki です。市役所の仕事を手伝う AI アシスタントです。\n\n" + self.help_text(place)

    # --- the background job ------------------------------------------------------------------------------
    def _submit(self, job, cid: str) -> bool:
        async def with_cid() -> None:
            correlation_id.set(cid)
            await job()

        accepted = self.runner.try_submit(with_cid, name=f"reply-{cid}")
        if not accepted:
            log.warning("runner full; message refused", extra={"pending": self.runner.pending})
        return accepted

    async def _send_now(self, target: Target, text: str) -> None:
        await self.delivery.send(target, text)

    # --- durable jobs ----------------------------------------------------------------------------------------
    async def _run_accepted(self, job_id: int, target: Target) -> None:
        """Show 「作成中…」 at once, then run the job once every earlier job of its conversation has finished."""
        try:
            await self.delivery.typing(target)
            self.jobs.set_placeholder(job_id, await self.delivery.send(target, self.settings.progress_text))
        except Exception:  # the run tries again
            log.warning("could not show progress", exc_info=True)
        while (job := self.jobs.claim(job_id)) is None:
            holder = self.jobs.holder(job_id)
            if holder is None or holder != ("queued", self.jobs.owner):
                return  # finished, or another process has it now
            self._finished.clear()
            try:
                await asyncio.wait_for(self._finished.wait(), TURN_POLL_S)
            except asyncio.TimeoutError:
                pass
        await self.run_job(job)

    def take_orphans(self) -> None:
        """Claim and start jobs nobody holds (their process died, or a run failed and waited): while there is room."""
        while self.runner.has_room and (job := self.jobs.claim()) is not None:
            self._submit(lambda job=job: self.run_job(job), job.correlation_id)

    async def run_job(self, job: Job) -> None:
        correlation_id.set(job.correlation_id)
        act = Activity().deserialize(job.payload)
        target = target_of(act)
        try:
            if job.attempts > self.jobs.max_attempts:
                log.error("job gave up", extra={"attempts": job.attempts - 1})
                self.jobs.finish(job, failed=True)  # first: the apology is sent at most once, even if sending fails
                await self._apologize(target, job)
                return
            async with self.locks.hold(f"conversation:{job.conversation_id}", ttl_s=self.jobs.lease_s,
                                       timeout_s=2 * self.jobs.lease_s):
                await self._answer(target, act, job)
        except LockTimeout:
            log.warning("conversation lock not free; job given back")
            self.jobs.retry_later(job, RETRY_DELAY_S)
        except Exception:
            log.exception("job failed; it will be tried again", extra={"attempts": job.attempts})
            self.jobs.retry_later(job, RETRY_DELAY_S * job.attempts)
        finally:
            self._finished.set()

    async def _apologize(self, target: Target, job: Job) -> None:
        try:
            await self.delivery.reply(target, job.placeholder_id, Reply(GAVE_UP.format(cid=job.correlation_id)),
                                      self.settings.max_message_bytes)
        except Exception:
            log.warning("could not send the apology", exc_info=True)

    async def _answer(self, target: Target, act: Activity, job: Job) -> None:
        place, user = teams.place_of(act), teams.user_of(act)
        if place.channel_id and not place.channel_name and (known := self.dispatcher.bindings.name_of(place.channel_id)):
            place = replace(place, channel_name=known)
        incoming = Incoming(text=teams.text_without_mentions(act), user=user, place=place, correlation_id=job.correlation_id)
        files = teams.file_attachments(act)
        cid = job.correlation_id
        started = time.monotonic()
        placeholder = job.placeholder_id  # a re-run updates the placeholder sent the first time
        if placeholder is None:
            await self.delivery.typing(target)
            placeholder = await self.delivery.send(target, self.settings.progress_text)
            self.jobs.set_placeholder(job.id, placeholder)
        if files and (problem := await self._download(incoming, files)):
            reply = Reply(problem, remember=False)
        else:
            progress = self._progress(target, placeholder)
            try:
                async with self.runner.slot():
                    reply = await asyncio.wait_for(self.dispatcher.handle(incoming, progress), self.settings.job_timeout_s)
            except asyncio.TimeoutError:
                log.error("pipeline timed out", extra={"timeout_s": self.settings.job_timeout_s})
                reply = Reply(TIMED_OUT.format(cid=cid), remember=False)
        if not self.jobs.holds(job):  # this process stalled past its lease and another one took the job over
            log.warning("job taken over by another process; answer dropped")
            return
        log.info("answered", extra={"seconds": round(time.monotonic() - started, 3)})
        await self.delivery.reply(target, placeholder, reply, self.settings.max_message_bytes)
        self.jobs.finish(job)

    def _progress(self, target: Target, placeholder: str | None):
        last = 0.0

        async def update(status: str) -> None:
            nonlocal last
            now = time.monotonic()
            if placeholder is None or now - last < 1.0:
                return
            last = now
            try:
                await self.delivery.update(target, placeholder, f"{self.settings.progress_text} {status}")
            except Exception:
                log.warning("progress update failed", exc_info=True)

        return update

    async def _download(self, incoming: Incoming, files: list[tuple[str, str]]) -> str | None:
        if self._session is None:
            self._session = aiohttp.ClientSession(trust_env=True)  # HTTP(S)_PROXY / NO_PROXY
        for name, url in files:
            try:
                incoming.attachments.append(await teams.download(self._session, name, url, MAX_ATTACHMENT_BYTES))
            except teams.AttachmentTooLarge:
                return TOO_LARGE.format(name=name, mb=MAX_ATTACHMENT_BYTES // (1024 * 1024))
            except (aiohttp.ClientError, asyncio.TimeoutError):
                log.warning("attachment download failed", exc_info=True)
                return DOWNLOAD_FAILED.format(name=name)
        return None

    # --- commands -----------------------------------------------------------------------------------------
    def run_command(self, command: Command, place: Place, user: User) -> str:
        if command.kind == "help":
            return self.help_text(place)
        if command.kind == "reset":
            if place.kind != "personal":
                return "「リセット」は1対1チャットで会話の記憶を消すコマンドです。"
            removed = self.dispatcher.memory.clear(place.conversation_id)
            return "会話の記憶を消しました。" if removed else "消す会話の記憶はありません。"
        # binding commands
        if place.kind == "personal":
            return "1対1チャットはいつもチャット機能です。チャネルで @Hideki 設定 <機能名> と送ってください。"
        route = self.dispatcher.route(place)
        if command.kind == "show_binding":
            return f"このチャネルの機能: **{route.pipeline.title}**（{route.pipeline.name}、{route.source}）\n\nチャネルID: `{binding_key(place)}`"
        if user.aad_object_id not in self.settings.admins:
            return (
                "チャネルの設定を変えられるのは管理者だけです。\n\n"
                f"管理者に依頼してください（あなたの Entra オブジェクトID: `{user.aad_object_id or '不明'}`）。"
            )
        key = binding_key(place)
        if command.kind == "unbind":
            self.dispatcher.bindings.remove(key)
            now = self.dispatcher.route(place)
            log.info("binding removed", extra={"channel": key, "by": user.aad_object_id})
            return f"Teams からの設定を解除しました。このチャネルの機能は **{now.pipeline.title}**（{now.source}）です。"
        pipeline = self.dispatcher.registry.find(command.argument)
        if pipeline is None:
            names = "、".join(f"{p.title}（{p.name}）" for p in self.dispatcher.registry if p.name != "chat")
            return f"「{command.argument}」という機能はありません。使える機能: {names}"
        self.dispatcher.bindings.set(key, pipeline.name, user.aad_object_id)
        log.info("binding set", extra={"channel": key, "pipeline": pipeline.name, "by": user.aad_object_id})
        return f"このチャネルを **{pipeline.title}** に設定しました。@Hideki に続けて文章を送ると、{pipeline.title}の処理をします。"

    def help_text(self, place: Place) -> str:
        route = self.dispatcher.route(place)
        lines = ["**Hideki の使い方**", ""]
        if place.kind == "personal":
            lines.append(f"この1対1チャットの機能: **{route.pipeline.title}**")
        else:
            lines.append(f"このチャネルの機能: **{route.pipeline.title}**（{route.pipeline.name}、{route.source}）")
            lines.append(f"チャネルID: `{binding_key(place)}`")
        lines += ["", "機能の一覧:"]
        lines += [f"- **{p.title}**（{p.name}）: {p.description}" for p in self.dispatcher.registry]
        lines += [
            "",
            "コマンド: `ヘルプ` ・ `設定`（今の機能を表示）・ `設定 <機能名>` と `設定 解除`（管理者のみ）・ `リセット`（1対1チャットの記憶を消す）",
            f"生成AIモデル: {self.dispatcher.gateway.describe}",
        ]
        return "\n".join(lines)

    def unsupported_files_text(self, names: list[str]) -> str:
        kinds = "、".join(f"{p.title}（{' '.join(p.file_types)}）" for p in self.dispatcher.registry if p.file_types)
        return (
            f"「{'」「'.join(names)}」は、この形式には対応していません。\n\n"
            f"1対1チャットで受け付けるファイル: {kinds or 'なし'}。文章はメッセージに貼り付けて送ってください。"
        )

    def usage_text(self, place: Place) -> str:
        return self.dispatcher.route(place).pipeline.usage_text()


def new_correlation_id() -> str:
    return uuid.uuid4().hex[:12]
