"""The LLM gateway: one place that talks to an OpenAI-compatible chat endpoint.

Works with OpenAI, Azure OpenAI, and any OpenAI-compatible base URL (vLLM, Ollama, llama.cpp server).
Per-pipeline model / temperature / max tokens come from settings; every call has a timeout and is retried
with exponential backoff and jitter on 408/409/429/5xx, timeouts and connection errors, honouring the
server's Retry-After. Usage is returned to the caller. A call given `on_text` streams: the text so far is
handed over as it arrives, retries happen only before the first token, and a silence longer than the timeout
between chunks ends the call with the text so far kept in the error (`LLMError.partial`). With no endpoint configured the gateway hands out
no client (`client_for` returns None) and pipelines use their offline engine.
"""
from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Mapping

import openai
from openai.types.chat import ChatCompletion

from hideki.llm.breaker import CircuitBreaker, ConcurrencyCap, Rejected
from hideki.llm.identity import IdentityError, ManagedIdentityTokens
from hideki.metrics import LLM_ERRORS
from hideki.settings import PipelineParams, Settings
from hideki.llm.tokens import TokenCounter

log = logging.getLogger(__name__)

Message = dict[str, str]
TextSink = Callable[[str], Awaitable[None]]  # receives a streamed answer's text so far


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0

    def __add__(self, other: "Usage") -> "Usage":
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.calls + other.calls,
        )


@dataclass
class Completion:
    text: str
    model: str
    usage: Usage
    finish_reason: str | None = None

    @property
    def truncated(self) -> bool:
        return self.finish_reason == "length"


_USER_MESSAGES = {
    "timeout": "生成AIモデルの応答が時間内に返りませんでした。",
    "rate_limit": "生成AIモデルが混み合っています。",
    "connection": "生成AIモデルに接続できませんでした。",
    "server": "生成AIモデルでエラーが発生しました。",
    "auth": "生成AIモデルの認証に失敗しました。管理者に連絡してください。",
    "bad_request": "生成AIモデルが要求を受け付けませんでした。",
    "empty": "生成AIモデルから空の応答が返りました。",
    "busy": "生成AIモデルへの依頼が混み合っています。",
    "circuit_open": "生成AIモデルが応答しない状態が続いています。",
    "pii_blocked": "個人情報を含むため、生成AIには送りませんでした。",
    "stream_broken": "生成AIモデルの応答が途中で止まりました。",
}


class LLMError(Exception):
    """The model could not answer. `kind` is one of the keys above; `user_message` is Japanese."""

    def __init__(self, kind: str, detail: str = "", partial: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail
        self.partial = partial  # a streamed call that broke off: the text that had arrived (already shown)

    @property
    def user_message(self) -> str:
        if self.kind == "pii_blocked" and self.detail:  # says what was found (categories and counts, not values)
            return self.detail
        return _USER_MESSAGES.get(self.kind, _USER_MESSAGES["server"])


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 3
    backoff_s: float = 1.0
    max_backoff_s: float = 60.0

    def delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait before retry number `attempt` (1-based), or None to give up."""
        if attempt > self.max_retries:
            return None
        if retry_after is not None:
            return retry_after if retry_after <= self.max_backoff_s else None
        base = min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1))
        return base * random.uniform(0.5, 1.0)


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Parse `retry-after-ms` / `retry-after` (seconds or an HTTP date) from response headers."""
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def _classify(exc: Exception) -> tuple[str, bool, float | None]:
    """(kind, retryable, retry_after) for an exception raised by the openai client."""
    if isinstance(exc, openai.APITimeoutError | asyncio.TimeoutError):
        # the aiohttp transport reports a refused connection as a connect *timeout*
        if type(exc.__cause__).__name__ == "ConnectTimeout" and "Cannot connect" in str(exc.__cause__):
            return "connection", True, None
        return "timeout", True, None
    if isinstance(exc, openai.APIConnectionError):
        return "connection", True, None
    if isinstance(exc, IdentityError):  # no managed-identity token for Azure OpenAI
        return "auth", False, None
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        after = retry_after_seconds(exc.response.headers)
        if status == 429:
            return "rate_limit", True, after
        if status in (408, 409) or status >= 500:
            return "server", True, after
        if status in (401, 403):
            return "auth", False, None
        return "bad_request", False, None
    raise exc


class LLMClient:
    """A pipeline's handle on the model: its parameters, a token counter, and retried calls."""

    def __init__(
        self,
        api: openai.AsyncOpenAI,
        params: PipelineParams,
        retry: RetryPolicy,
        timeout_s: float,
        breaker: CircuitBreaker,
        cap: ConcurrencyCap,
    ) -> None:
        self._api = api
        self._breaker = breaker
        self._cap = cap
        self.params = params
        self.model = params.model or ""
        self.counter = TokenCounter(self.model)
        self._retry = retry
        self._timeout_s = timeout_s

    @property
    def input_budget(self) -> int:
        return self.params.input_tokens or 8000

    async def complete(
        self, messages: list[Message], *, max_tokens: int | None = None, temperature: float | None = None,
        on_text: TextSink | None = None,
    ) -> Completion:
        """One completion. Every attempt asks the circuit breaker first and takes a slot of the concurrency cap;
        backoff sleeps happen outside the slot; every failed attempt counts toward opening the breaker, so that
        when the endpoint is down, calls already waiting fail at once and pipelines answer offline.

        With `on_text` the answer streams: `on_text` gets the text so far after each chunk. Once text has been
        handed over the call is not retried (the user has seen it); its failure carries that text as `partial`."""
        attempt = 0
        received = _Received()
        while True:
            attempt += 1
            try:
                if self._breaker.state == "open":  # fail before queueing for a slot…
                    raise Rejected("circuit_open")
                async with self._cap.slot():
                    self._breaker.before_call()  # …and again once a slot is ours: it may have opened meanwhile
                    if on_text is None:
                        completion = await self._call(messages, max_tokens, temperature)
                    else:
                        completion = await self._stream(messages, max_tokens, temperature, on_text, received)
            except Rejected as rejected:
                LLM_ERRORS.labels(rejected.kind).inc()
                raise LLMError(rejected.kind) from None
            except Exception as exc:  # classified below; anything unexpected propagates
                if isinstance(exc, LLMError) and exc.kind == "stream_broken":
                    self._breaker.failure()
                    LLM_ERRORS.labels(exc.kind).inc()
                    log.warning("llm stream broke off", extra={"chars": len(exc.partial), "model": self.model})
                    raise
                kind, retryable, after = _classify(exc)
                if received.text and kind != "timeout":  # the connection dropped mid-answer
                    kind = "stream_broken"
                if kind not in ("bad_request", "rate_limit"):  # unwell, not busy (429) or a bad request
                    self._breaker.failure()
                delay = self._retry.delay(attempt, after) if retryable and not received.text else None
                if delay is None:
                    LLM_ERRORS.labels(kind).inc()
                    log.warning("llm call failed", extra={"kind": kind, "attempts": attempt, "model": self.model})
                    raise LLMError(kind, str(exc), partial=received.text) from exc
                log.info("llm call retried", extra={"kind": kind, "attempt": attempt, "delay_s": round(delay, 2)})
                await asyncio.sleep(delay)
                continue
            self._breaker.success()
            return completion

    async def _call(self, messages: list[Message], max_tokens: int | None, temperature: float | None) -> Completion:
        body = {
            "model": self.model,
            "messages": messages,
            "max_tokens": max_tokens or self.params.max_tokens,
            "temperature": self.params.temperature if temperature is None else temperature,
        }
        # The plain `post` skips the SDK's per-call TypedDict transform (~3 ms of CPU a call, measured);
        # our body is already in wire form. Azure's deployment URL is still derived from body["model"].
        response = await asyncio.wait_for(
            self._api.post("/chat/completions", body=body, cast_to=ChatCompletion),
            timeout=self._timeout_s,
        )
        if not response.choices or response.choices[0].message.content is None:
            raise LLMError("empty", "no choices / no content")
        choice = response.choices[0]
        usage = Usage(calls=1)
        if response.usage is not None:
            usage.prompt_tokens = response.usage.prompt_tokens or 0
            usage.completion_tokens = response.usage.completion_tokens or 0
        else:  # some local servers omit usage: count it ourselves
            usage.prompt_tokens = self.counter.count_messages(messages)
            usage.completion_tokens = self.counter.count(choice.message.content or "")
        return Completion(choice.message.content or "", response.model or self.model, usage, choice.finish_reason)

    async def _stream(self, messages: list[Message], max_tokens: int | None, temperature: float | None,
                      on_text: TextSink, received: "_Received") -> Completion:
        """A streamed completion: server-sent chunks, the usage in the last one (`include_usage`)."""
        body = {
            "model": self.model,
            "messages": messages,
            "max_tokens": max_tokens or self.params.max_tokens,
            "temperature": self.params.temperature if temperature is None else temperature,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        # Chunks stay the JSON dicts they arrive as (`AsyncStream[object]`): building a ChatCompletionChunk model
        # for each one was the largest per-chunk cost with many answers streaming at once (benchmarks/bot_overhead.py).
        stream = await asyncio.wait_for(
            self._api.post("/chat/completions", body=body, cast_to=ChatCompletion, stream=True,
                           stream_cls=openai.AsyncStream[object]),
            timeout=self._timeout_s,
        )
        chunks = stream.__aiter__()
        finish_reason: str | None = None
        usage: Usage | None = None
        model = self.model
        try:
            while True:
                try:  # the first chunk and every later one must come within the timeout
                    chunk = await asyncio.wait_for(chunks.__anext__(), self._timeout_s)
                except StopAsyncIteration:
                    break
                if not isinstance(chunk, dict):
                    continue
                model = chunk.get("model") or model
                if isinstance(counts := chunk.get("usage"), dict):
                    usage = Usage(counts.get("prompt_tokens") or 0, counts.get("completion_tokens") or 0, 1)
                for choice in (chunk.get("choices") or [])[:1]:
                    if not isinstance(choice, dict):
                        continue
                    content = (choice.get("delta") or {}).get("content")
                    if content:
                        received.text += content
                        await on_text(received.text)
                    if choice.get("finish_reason"):
                        finish_reason = choice["finish_reason"]
        finally:
            await stream.close()
        if finish_reason is None:  # the connection ended without the model saying it had finished
            if received.text:
                raise LLMError("stream_broken", "stream ended without a finish reason", partial=received.text)
            raise LLMError("empty", "stream ended without content")
        if usage is None:  # some local servers send no usage: count it ourselves
            usage = Usage(self.counter.count_messages(messages), self.counter.count(received.text), 1)
        return Completion(received.text, model, usage, finish_reason)


@dataclass
class _Received:
    """What a streamed call has handed over so far, across its attempts (it is retried only while empty)."""

    text: str = ""


@dataclass
class LLMGateway:
    """Builds the openai client once from settings and hands each pipeline its `LLMClient`."""

    settings: Settings
    _api: openai.AsyncOpenAI | None = field(init=False, default=None)
    breaker: CircuitBreaker = field(init=False)
    cap: ConcurrencyCap = field(init=False)

    def __post_init__(self) -> None:
        s = self.settings
        self.breaker = CircuitBreaker(s.llm_breaker_failures, s.llm_breaker_cooldown_s)
        self.cap = ConcurrencyCap(s.llm_max_concurrency, s.llm_max_queue)
        # We retry ourselves, honouring Retry-After. aiohttp as the transport: httpx's pool scan per request
        # was ~2 ms of CPU with many connections open (benchmarks/bot_overhead.py).
        # An unreachable host (a firewall dropping packets) fails within the connect timeout, not the whole one.
        timeout = openai.Timeout(s.llm_timeout_s, connect=min(10.0, s.llm_timeout_s))
        common = dict(timeout=timeout, max_retries=0, http_client=openai.DefaultAioHttpClient(timeout=timeout))
        if s.llm_mode == "azure":
            key = s.azure_api_key.get_secret_value() or s.llm_api_key.get_secret_value()
            identity = s.azure_managed_identity_client_id if not key else ""
            self._api = openai.AsyncAzureOpenAI(
                azure_endpoint=s.azure_endpoint,
                api_key=key or None,
                azure_ad_token_provider=ManagedIdentityTokens(identity).provider() if identity else None,
                api_version=s.azure_api_version,
                **common,
            )
        elif s.llm_mode == "openai":
            self._api = openai.AsyncOpenAI(
                base_url=s.llm_base_url or None,
                # local servers (vLLM, Ollama, llama.cpp) accept any key
                api_key=s.llm_api_key.get_secret_value() or "not-needed",
                **common,
            )

    @property
    def online(self) -> bool:
        """Whether a model endpoint is configured (pipelines get a client)."""
        return self._api is not None

    @property
    def describe(self) -> str:
        s = self.settings
        if s.llm_mode == "none":
            return "なし（ローカル処理のみ）"
        where = s.azure_endpoint if s.llm_mode == "azure" else (s.llm_base_url or "OpenAI")
        return f"{s.llm_model} @ {where}"

    def client_for(self, pipeline: str, declared: PipelineParams | None = None) -> LLMClient | None:
        """The model client of a pipeline (None offline); `declared` is what the pipeline brings itself."""
        if self._api is None:
            return None
        s = self.settings
        return LLMClient(
            self._api,
            s.params_for(pipeline, declared),
            RetryPolicy(s.llm_max_retries, s.llm_backoff_s, s.llm_max_backoff_s),
            s.llm_timeout_s,
            self.breaker,
            self.cap,
        )

    async def close(self) -> None:
        if self._api is not None:
            await self._api.close()
