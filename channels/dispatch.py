"""From a plain incoming message to a Reply: route, refuse empty or over-long input, memory, run, never raise."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from typing import Mapping

from channels.base import Action, Attachment, Partial, Pipeline, Place, Progress, Reply, Request, User, _no_progress
from channels.registry import Registry, Route
from hideki.state.audit import AuditLog, AuditRecord
from hideki.llm.gateway import LLMClient, LLMGateway
from hideki.metrics import LLM_TOKENS, PIPELINE_SECONDS
from hideki.pii.masking import MaskingClient
from hideki.state.stores import BindingStore, MemoryStore
from hideki.llm.tokens import TokenCounter

log = logging.getLogger(__name__)

APOLOGY = "申し訳ありません。処理中にエラーが発生しました。時間をおいて、もう一度送ってください。（問い合わせ番号: {cid}）"


@dataclass
class Incoming:
    text: str
    user: User
    place: Place
    attachments: list[Attachment] = field(default_factory=list)
    correlation_id: str = ""


class Dispatcher:
    def __init__(
        self,
        registry: Registry,
        bindings: BindingStore,
        memory: MemoryStore,
        gateway: LLMGateway,
        file_bindings: Mapping[str, str],
        memory_tokens: int,
        audit: AuditLog | None = None,
    ) -> None:
        self.audit = audit
        self.registry = registry
        self.bindings = bindings
        self.memory = memory
        self.gateway = gateway
        self.file_bindings = file_bindings
        self.memory_tokens = memory_tokens
        self._counter = TokenCounter(gateway.settings.llm_model)

    def _client_for(self, pipeline: Pipeline) -> tuple[LLMClient | MaskingClient | None, MaskingClient | None]:
        """The pipeline's model client (None offline), and the PII masking client if it is one (it counts findings)."""
        client = self.gateway.client_for(pipeline.name, pipeline.params)
        mode = self.gateway.settings.params_for(pipeline.name, pipeline.params).pii
        if client is None or mode == "off":
            return client, None
        masking = MaskingClient(client, mode)
        return masking, masking

    def route(self, place: Place) -> Route:
        return self.registry.route(place, self.bindings, self.file_bindings)

    @property
    def has_model(self) -> bool:
        """Whether pipelines are given a generative model (one is configured); without, every answer is offline."""
        return self.gateway.online

    async def handle(self, incoming: Incoming, progress: Progress = _no_progress, stream: Partial | None = None) -> Reply:
        """Answer a message. `progress` gets status lines; `stream`, where the channel can show it, the answer's
        text as the model writes it."""
        pipeline = self.route(incoming.place).pipeline
        if incoming.place.kind == "personal" and incoming.attachments:
            pipeline = self.registry.for_attachment(incoming.attachments[0], incoming.text) or pipeline
            if self.registry.find(incoming.text) is pipeline:  # the text only chose the pipeline: it is not input
                incoming = replace(incoming, text="")
        return await self.answer_with(pipeline, incoming, progress, stream)

    async def answer_with(self, pipeline: Pipeline, incoming: Incoming, progress: Progress = _no_progress,
                          stream: Partial | None = None) -> Reply:
        """Run `pipeline` on `incoming` with everything a routed message gets: input checks, PII guard, memory, audit
        (`hideki run` names the pipeline itself)."""
        limit = self.gateway.settings.params_for(pipeline.name, pipeline.params).max_input_chars or pipeline.max_input_chars  # settings win
        if (refusal := pipeline.refusal(incoming.text, bool(incoming.attachments), limit)) is not None:
            return refusal
        llm, masking = self._client_for(pipeline)
        conversation = incoming.place.conversation_id
        request = Request(
            text=incoming.text,
            user=incoming.user,
            place=incoming.place,
            attachments=incoming.attachments,
            history=self.memory.recent(conversation, self.memory_tokens) if pipeline.uses_memory else [],
            llm=llm,
            progress=progress,
            stream=stream if llm is not None else None,
            correlation_id=incoming.correlation_id,
        )
        started = time.monotonic()
        try:
            reply = await pipeline.run(request)
        except Exception:
            log.exception("pipeline failed", extra={"pipeline": pipeline.name, "correlation_id": incoming.correlation_id})
            self._audit(incoming, pipeline.name, request, masking, Reply(""), started, "error")
            PIPELINE_SECONDS.labels(pipeline.name, "error").observe(time.monotonic() - started)
            return Reply(APOLOGY.format(cid=incoming.correlation_id), remember=False)
        outcome = "ok" if not reply.offline else ("offline" if request.llm is None else "fallback")
        self._audit(incoming, pipeline.name, request, masking, reply, started, outcome)
        PIPELINE_SECONDS.labels(pipeline.name, outcome).observe(time.monotonic() - started)
        LLM_TOKENS.labels(pipeline.name, "in").inc(reply.usage.prompt_tokens)
        LLM_TOKENS.labels(pipeline.name, "out").inc(reply.usage.completion_tokens)
        log.info(
            "pipeline answered",
            extra={"pipeline": pipeline.name, "outcome": outcome, "tokens_in": reply.usage.prompt_tokens,
                   "tokens_out": reply.usage.completion_tokens, "llm_calls": reply.usage.calls},
        )
        if pipeline.uses_memory and reply.remember:
            self.memory.append(conversation, "user", incoming.text, self._counter.count(incoming.text))
            self.memory.append(conversation, "assistant", reply.text, self._counter.count(reply.text))
        return reply

    def _audit(self, incoming: Incoming, pipeline: str, request: Request, masking: MaskingClient | None, reply: Reply,
               started: float, outcome: str) -> None:
        if self.audit is None:
            return
        place, user = incoming.place, incoming.user
        self.audit.record(AuditRecord(
            correlation_id=incoming.correlation_id, user_id=user.id, user_name=user.name, aad_object_id=user.aad_object_id,
            tenant_id=place.tenant_id, team_id=place.team_id, channel_id=place.channel_id, conversation_id=place.conversation_id,
            pipeline=pipeline, model=request.llm.model if request.llm is not None else "",
            tokens_in=reply.usage.prompt_tokens, tokens_out=reply.usage.completion_tokens, llm_calls=reply.usage.calls,
            latency_ms=int((time.monotonic() - started) * 1000), outcome=outcome,
            pii=dict(masking.pii_counts) if masking is not None else {},
            content=incoming.text,
        ))

    async def feedback(self, action: Action, comment: str, correlation_id: str = "") -> Reply | None:
        """👍/👎 given on an answer (`action.data` has "answer" and "verdict"), with the user's comment: answered by
        the pipeline as a vote, and audited (the comment only where content logging is on)."""
        reply = await self.act(Action(action.name, {**action.data, "comment": comment}, action.user, action.place), correlation_id)
        if self.audit is not None:
            place, user = action.place, action.user
            self.audit.record(AuditRecord(
                correlation_id=correlation_id, user_id=user.id, user_name=user.name, aad_object_id=user.aad_object_id,
                tenant_id=place.tenant_id, team_id=place.team_id, channel_id=place.channel_id,
                conversation_id=place.conversation_id, pipeline=action.name.partition(".")[0], model="",
                outcome=f"feedback_{action.data.get('verdict')}", content=comment or None,
            ))
        return reply

    async def act(self, action: Action, correlation_id: str = "") -> Reply | None:
        """A card button: `action.name` is "<pipeline>.<verb>". None if no pipeline answers it."""
        pipeline_name, _, verb = action.name.partition(".")
        pipeline = self.registry.find(pipeline_name)
        if pipeline is None:
            return None
        try:
            return await pipeline.act(Action(verb, action.data, action.user, action.place))
        except Exception:
            log.exception("card action failed", extra={"action": action.name, "correlation_id": correlation_id})
            return Reply(APOLOGY.format(cid=correlation_id), remember=False)
