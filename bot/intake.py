"""What happens to a message while its HTTP request is open: the channel's name remembered, the rate limit
checked, commands, card buttons, empty input and unsupported files answered at once in the background — and
anything else (pipeline work, which may call a model or take long) stored as a durable job before the request is
answered, for the worker (`bot/worker.py`) to run.

Answers given at once are quick lookups with no model call that touch no conversation memory; if one is lost the
user simply sends or clicks again.
"""
from __future__ import annotations

import json
import logging
from dataclasses import replace
from typing import Any, Callable

from botbuilder.core import InvokeResponse, TurnContext

from bot.activity import ParsedActivity, parse_activity
from bot.commands import Commands, parse
from bot.connector import Target
from bot.delivery import Delivery, conversation_key
from bot.runner import JobRunner
from bot.worker import Worker
from channels.base import Action, Place
from channels.dispatch import Dispatcher
from channels.registry import Registry
from hideki.logs import correlation_id
from hideki.metrics import RATE_LIMITED
from hideki.settings import Settings
from hideki.state.jobs import JobQueue
from hideki.state.ratelimit import AsyncRateLimiter
from hideki.state.stores import BindingStore, FeedbackStore

log = logging.getLogger(__name__)

BUSY = "ただいま混み合っています。少し時間をおいて、もう一度送ってください。"
SLOW_DOWN = "短い時間にたくさんのメッセージが届いたため、少し休ませてください。約{s}秒後にもう一度送ってください。"
GLOBAL_SLOW_DOWN = "ただいま Hideki 全体が混み合っています。約{s}秒後にもう一度送ってください。"

# turn_state key: the activity's JSON exactly as received, put there by bot/server.py — what a job needs to run
# anywhere later
RECEIVED_BODY = "hideki.received_body"


class Intake:
    def __init__(self, *, settings: Settings, dispatcher: Dispatcher, registry: Registry, bindings: BindingStore,
                 limiter: AsyncRateLimiter, jobs: JobQueue, runner: JobRunner, commands: Commands, worker: Worker,
                 delivery: Delivery, feedback: FeedbackStore) -> None:
        self._settings = settings
        self._dispatcher = dispatcher
        self._registry = registry
        self._bindings = bindings
        self._limiter = limiter
        self._jobs = jobs
        self._runner = runner
        self._commands = commands
        self._worker = worker
        self._delivery = delivery
        self._feedback = feedback

    async def on_message(self, turn: TurnContext) -> None:
        """A message (card buttons go to `on_action`)."""
        message = parse_activity(turn.activity)
        cid = correlation_id.get()
        place = self._remember_channel_name(message.place)
        if limited := await self._limiter.check(message.user.aad_object_id or message.user.id):
            scope, wait = limited
            RATE_LIMITED.labels(scope).inc()
            text = (SLOW_DOWN if scope == "user" else GLOBAL_SLOW_DOWN).format(s=max(1, round(wait)))
            self._answer_soon(message.target, lambda: text, cid)
            return
        command = parse(message.text)
        if command is not None and command.kind == "pipeline_action" and not message.files:
            await self._act(turn, message, {"hideki_action": command.argument}, cid)
            return
        if command is not None and not message.files:
            self._answer_soon(message.target, lambda: self._commands.answer(command, place, message.user), cid)
            return
        if not message.text.strip() and not message.files:
            self._answer_soon(message.target, lambda: self._commands.usage_text(place), cid)
            return
        unsupported = [name for name, _ in message.files if self._registry.for_file(name) is None]
        if unsupported:
            self._answer_soon(message.target, lambda: self._commands.unsupported_files_text(unsupported), cid)
            return
        if not self._runner.has_room:
            log.warning("runner full; message refused", extra={"pending": self._runner.pending})
            await turn.send_activity(BUSY)  # tell the user now; their text stays in Teams for a resend
            return
        job_id = self._jobs.enqueue(place.conversation_id, cid, turn.turn_state[RECEIVED_BODY])  # stored before the request is answered
        self._worker.accept(job_id, message, cid)

    async def on_action(self, turn: TurnContext, data: dict[str, Any]) -> None:
        """A button on one of our cards. `data["hideki_action"]` names it."""
        await self._act(turn, parse_activity(turn.activity), data, correlation_id.get())

    async def on_feedback(self, turn: TurnContext) -> InvokeResponse:
        """Teams' own 👍/👎 on one of our answers (`message/submitAction`, actionName "feedback"): stored as the
        answer's pipeline stores a vote. A malformed value is a 400, a message we did not send with feedback a 404."""
        activity = turn.activity
        value = activity.value if isinstance(activity.value, dict) else {}
        action_value = value.get("actionValue")
        if value.get("actionName") != "feedback" or not isinstance(action_value, dict) \
                or action_value.get("reaction") not in ("like", "dislike"):
            log.info("malformed feedback invoke")
            return _invoke_error(400, "BadRequest", "feedback の値が正しくありません。")
        message = parse_activity(activity)
        linked = self._feedback.linked(activity.reply_to_id, conversation_key(message.place.conversation_id)) \
            if activity.reply_to_id else None
        if linked is None:
            log.info("feedback on a message without a linked answer", extra={"activity": activity.reply_to_id})
            return _invoke_error(404, "NotFound", "この回答への評価は受け付けられません（保存期間を過ぎたか、評価できない回答です）。")
        name, answer = linked
        verdict = "up" if action_value["reaction"] == "like" else "down"
        action = Action(name, {"answer": answer, "verdict": verdict, "via": "teams"}, message.user, message.place)
        await self._dispatcher.feedback(action, _comment(action_value.get("feedback")), correlation_id.get())
        return InvokeResponse(status=200, body={})

    def _remember_channel_name(self, place: Place) -> Place:
        """Store the channel's name when Teams sends it; fill it in from the store when it does not."""
        if place.channel_id and place.channel_name:
            self._bindings.remember_name(place.channel_id, place.channel_name)
        elif place.channel_id and (known := self._bindings.name_of(place.channel_id)):
            place = replace(place, channel_name=known)
        return place

    async def _act(self, turn: TurnContext, message: ParsedActivity, data: dict[str, Any], cid: str) -> None:
        """A card button or a pipeline-action command: "help", or "<pipeline>.<verb>" answered by its pipeline."""
        target, place, user = message.target, message.place, message.user
        name = str(data.get("hideki_action"))
        if name == "help":
            self._answer_soon(target, lambda: self._commands.help_text(place), cid)
            return
        action = Action(name, data, user, place)

        async def answer() -> None:
            reply = await self._dispatcher.act(action, cid)
            if reply is None:
                log.info("unknown card action", extra={"action": name, "user": user.id})
                return
            await self._delivery.reply(target, None, reply, self._settings.max_message_bytes)

        if not self._runner.submit(answer, cid):
            await turn.send_activity(BUSY)

    def _answer_soon(self, target: Target, text: Callable[[], str], cid: str) -> None:
        """Send `text()` in the background: it is computed there too, after the HTTP request has been answered."""
        self._runner.submit(lambda: self._delivery.send(target, text()), cid)


def _comment(feedback: Any) -> str:
    """The user's comment from Teams' feedback form: a JSON string {"feedbackText": …} (or the text itself)."""
    if isinstance(feedback, str):
        try:
            feedback = json.loads(feedback)
        except ValueError:
            return feedback.strip()[:2000]
    if isinstance(feedback, dict):
        return str(feedback.get("feedbackText") or "").strip()[:2000]
    return ""


def _invoke_error(status: int, code: str, message: str) -> InvokeResponse:
    return InvokeResponse(status=status, body={"error": {"code": code, "message": message}})
