"""The life of a durable job, from 「作成中…」 to the answer, and the loops that keep jobs and stored data in order.

The intake (`bot/intake.py`) stores pipeline work as a job row before the HTTP request is answered
(`hideki/state/jobs.py`); the worker shows the placeholder 「作成中…」, waits for the conversation's earlier jobs,
claims the job, holds the conversation's lock, downloads the files, runs the pipeline with progress updates and
replaces the placeholder with the answer. A model answer in a Teams 1:1 chat streams instead (bot/streaming.py):
no placeholder, an informative update when the job starts, the growing text, the final message; if Teams refuses
the stream, the placeholder path is used. A failed run is tried again later and ends with an apology after too
many attempts. Jobs are leased: a process that dies mid-way leaves its job to another replica or to itself after
a restart (`take_orphans`), which updates the same 「作成中…」 message. The worker also applies retention and, at
shutdown, lets running jobs finish and gives the rest back to the queue.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace

import aiohttp
from botbuilder.schema import Activity

from bot.activity import AttachmentTooLarge, ParsedActivity, download, parse_activity
from bot.connector import Target
from bot.delivery import Delivery
from bot.files import FileOffers, channel_hint
from bot.runner import JobRunner
from bot.streaming import TeamsStream
from channels.base import Progress, Reply
from channels.dispatch import Dispatcher, Incoming
from hideki.logs import correlation_id
from hideki.settings import Settings
from hideki.state.audit import AuditLog
from hideki.state.jobs import Job, JobQueue
from hideki.state.locks import ConversationLocks, LockTimeout
from hideki.state.stores import BindingStore, FeedbackStore, MemoryStore

log = logging.getLogger(__name__)

TIMED_OUT = "申し訳ありません。処理に時間がかかりすぎたため中断しました。文章を短くして、もう一度送ってください。（問い合わせ番号: {cid}）"
GAVE_UP = "申し訳ありません。何度か試しましたが、回答を作成できませんでした。もう一度送ってください。（問い合わせ番号: {cid}）"
TOO_LARGE = "ファイル「{name}」は大きすぎるため読み込めません（上限 {mb} MB）。"
DOWNLOAD_FAILED = "ファイル「{name}」をダウンロードできませんでした。もう一度送ってください。"
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
RETRY_DELAY_S = 5.0  # after a failed run (e.g. the Bot Connector refused the answer), times the attempts so far
TURN_POLL_S = 0.5  # a job waiting for an earlier one of its conversation, possibly on another replica, looks again
JOB_RETENTION_S = 86400  # finished jobs (which keep no content) are deleted a day later
RETENTION_INTERVAL_S = 6 * 3600


class Worker:
    def __init__(self, *, settings: Settings, dispatcher: Dispatcher, bindings: BindingStore, memory: MemoryStore,
                 audit: AuditLog, jobs: JobQueue, locks: ConversationLocks, runner: JobRunner, delivery: Delivery,
                 files: FileOffers, feedback: FeedbackStore) -> None:
        self._settings = settings
        self._dispatcher = dispatcher
        self._bindings = bindings
        self._memory = memory
        self._audit = audit
        self._jobs = jobs
        self._locks = locks
        self._runner = runner
        self._delivery = delivery
        self._files = files  # a reply's documents: consent cards in a 1:1 chat
        self._feedback = feedback  # which sent message shows which answer (Teams' 👍/👎)
        self._session: aiohttp.ClientSession | None = None  # for downloading files users send
        self._finished = asyncio.Event()  # set when a job of this process ends: the next of its conversation may start
        self._retention: asyncio.Task[None] | None = None
        self._keeper: asyncio.Task[None] | None = None

    # --- a job's run ---------------------------------------------------------------------------------------
    def accept(self, job_id: int, message: ParsedActivity, cid: str) -> None:
        """Start a job the intake has just stored (if the runner is full, `take_orphans` starts it later)."""
        self._runner.submit(lambda: self._run_accepted(job_id, message.target, self.streams(message)), cid)

    def streams(self, message: ParsedActivity) -> bool:
        """Whether the answer streams: a 1:1 chat in Teams, with a model (Teams streams only in 1:1 chats; an
        offline answer is ready at once). Elsewhere: 「作成中…」, then the answer in its place."""
        return (self._settings.streaming and message.place.kind == "personal" and message.target.channel_id == "msteams"
                and self._dispatcher.has_model)

    async def _run_accepted(self, job_id: int, target: Target, streamed: bool) -> None:
        """Show 「作成中…」 at once (a streamed answer: the typing indicator; its stream opens when the job runs,
        as Teams allows one stream per chat at a time), then run the job once every earlier job of its
        conversation has finished."""
        try:
            await self._delivery.typing(target)
            if not streamed:
                self._jobs.set_placeholder(job_id, await self._delivery.send(target, self._settings.progress_text))
        except Exception:  # the run tries again
            log.warning("could not show progress", exc_info=True)
        while (job := self._jobs.claim(job_id)) is None:
            holder = self._jobs.holder(job_id)
            if holder is None or holder != ("queued", self._jobs.owner):
                return  # finished, or another process has it now
            self._finished.clear()
            try:
                await asyncio.wait_for(self._finished.wait(), TURN_POLL_S)
            except asyncio.TimeoutError:
                pass
        await self.run_job(job)

    def take_orphans(self) -> None:
        """Claim and start jobs nobody holds (their process died, or a run failed and waited): while there is room."""
        while self._runner.has_room and (job := self._jobs.claim()) is not None:
            self._runner.submit(lambda job=job: self.run_job(job), job.correlation_id)

    async def run_job(self, job: Job) -> None:
        correlation_id.set(job.correlation_id)
        message = parse_activity(Activity().deserialize(job.payload))
        target = message.target
        try:
            if job.attempts > self._jobs.max_attempts:
                log.error("job gave up", extra={"attempts": job.attempts - 1})
                self._jobs.finish(job, failed=True)  # first: the apology is sent at most once, even if sending fails
                await self._apologize(target, job)
                return
            async with self._locks.hold(f"conversation:{job.conversation_id}", ttl_s=self._jobs.lease_s,
                                        timeout_s=2 * self._jobs.lease_s):
                await self._answer(message, job)
        except LockTimeout:
            log.warning("conversation lock not free; job given back")
            self._jobs.retry_later(job, RETRY_DELAY_S)
        except Exception:
            log.exception("job failed; it will be tried again", extra={"attempts": job.attempts})
            self._jobs.retry_later(job, RETRY_DELAY_S * job.attempts)
        finally:
            self._finished.set()

    async def _apologize(self, target: Target, job: Job) -> None:
        try:
            await self._delivery.reply(target, job.placeholder_id, Reply(GAVE_UP.format(cid=job.correlation_id)),
                                       self._settings.max_message_bytes)
        except Exception:
            log.warning("could not send the apology", exc_info=True)

    async def _answer(self, message: ParsedActivity, job: Job) -> None:
        target, place = message.target, message.place
        if place.channel_id and not place.channel_name and (known := self._bindings.name_of(place.channel_id)):
            place = replace(place, channel_name=known)
        incoming = Incoming(text=message.text, user=message.user, place=place, correlation_id=job.correlation_id)
        cid = job.correlation_id
        started = time.monotonic()
        placeholder = job.placeholder_id  # a re-run updates the placeholder sent the first time
        stream: TeamsStream | None = None
        if placeholder is None and self.streams(message):
            stream = await TeamsStream.open(self._delivery.connector, target, self._settings.progress_text,
                                            self._settings.max_message_bytes)
        if placeholder is None and stream is None:  # not streamed, or the stream was refused: send-then-update
            await self._delivery.typing(target)
            placeholder = await self._delivery.send(target, self._settings.progress_text)
            self._jobs.set_placeholder(job.id, placeholder)
        if message.files and (problem := await self._download(incoming, message.files)):
            reply = Reply(problem, remember=False)
        else:
            progress = stream.inform if stream is not None else self._progress(target, placeholder)
            partial = stream.write if stream is not None else None
            try:
                async with self._runner.slot():
                    reply = await asyncio.wait_for(self._dispatcher.handle(incoming, progress, partial),
                                                   self._settings.job_timeout_s)
            except asyncio.TimeoutError:
                log.error("pipeline timed out", extra={"timeout_s": self._settings.job_timeout_s})
                reply = Reply(TIMED_OUT.format(cid=cid), remember=False)
        if not self._jobs.holds(job):  # this process stalled past its lease and another one took the job over
            log.warning("job taken over by another process; answer dropped")
            return
        log.info("answered", extra={"seconds": round(time.monotonic() - started, 3)})
        if hint := channel_hint(place, reply.files):
            reply.warnings.append(hint)
        await self._delivery.reply(target, placeholder, reply, self._settings.max_message_bytes, stream)
        if stream is None or not stream.stopped_by_user:  # a stopped answer is not sent, nor are its files
            await self._files.offer(target, place, reply.files)
        self._jobs.finish(job)

    def _progress(self, target: Target, placeholder: str | None) -> Progress:
        last = 0.0

        async def update(status: str) -> None:
            nonlocal last
            now = time.monotonic()
            if placeholder is None or now - last < 1.0:
                return
            last = now
            try:
                await self._delivery.update(target, placeholder, f"{self._settings.progress_text} {status}")
            except Exception:
                log.warning("progress update failed", exc_info=True)

        return update

    async def _download(self, incoming: Incoming, files: tuple[tuple[str, str], ...]) -> str | None:
        if self._session is None:
            self._session = aiohttp.ClientSession(trust_env=True)  # HTTP(S)_PROXY / NO_PROXY
        for name, url in files:
            try:
                incoming.attachments.append(await download(self._session, name, url, MAX_ATTACHMENT_BYTES))
            except AttachmentTooLarge:
                return TOO_LARGE.format(name=name, mb=MAX_ATTACHMENT_BYTES // (1024 * 1024))
            except (aiohttp.ClientError, asyncio.TimeoutError):
                log.warning("attachment download failed", exc_info=True)
                return DOWNLOAD_FAILED.format(name=name)
        return None

    # --- the loops, and shutdown -------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the retention loop and the job keeper (call on the running event loop, at start-up)."""
        loop = asyncio.get_running_loop()
        self._retention = loop.create_task(self._apply_retention())
        self._keeper = loop.create_task(self._keep_jobs())

    async def _apply_retention(self) -> None:
        """Retention, applied at start-up and then every six hours."""
        while True:
            try:
                cleared, deleted = self._audit.purge()
                forgotten = self._memory.purge(self._settings.memory_retention_days)
                pruned = self._jobs.prune(JOB_RETENTION_S)
                unlinked = self._feedback.forget_links(self._settings.audit_retention_days)
                log.info("retention applied", extra={"audit_content_cleared": cleared, "audit_rows_deleted": deleted,
                                                      "memory_turns_forgotten": forgotten, "jobs_pruned": pruned,
                                                      "feedback_links_forgotten": unlinked})
            except Exception:
                log.exception("retention failed")
            await asyncio.sleep(RETENTION_INTERVAL_S)

    async def _keep_jobs(self) -> None:
        """Renew this process's job leases, and start jobs nobody holds (left by a process that died)."""
        while True:
            try:
                self._jobs.renew()
                self.take_orphans()
            except Exception:
                log.exception("job keeping failed")
            await asyncio.sleep(min(1.0, self._jobs.lease_s / 3))

    async def shutdown(self) -> None:
        """Stop retention; let running jobs finish for the grace period (their leases still renewed), then give the
        unfinished ones back to the queue for another replica, or this one restarted."""
        if self._retention is not None:
            self._retention.cancel()
        cancelled = await self._runner.close(self._settings.shutdown_grace_s)
        if self._keeper is not None:
            self._keeper.cancel()
        released = self._jobs.release_all()
        if cancelled or released:
            log.warning("shutdown interrupted jobs; given back to the queue", extra={"cancelled": cancelled, "released": released})
        if self._session is not None:
            await self._session.close()
