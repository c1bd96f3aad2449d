"""The LLM gateway against a real OpenAI-compatible HTTP server on loopback."""
from __future__ import annotations

import hashlib
import socket
import time

import pytest
import tiktoken

from hideki.llm.gateway import LLMError, LLMGateway, RetryPolicy, retry_after_seconds
from hideki.settings import load_settings
from hideki.llm.tokens import TokenCounter, install_offline_encodings
from tests.support.model import Step


def gateway(tmp_path, **overrides):
    overrides.setdefault("llm_backoff_s", 0.01)
    return LLMGateway(load_settings(env_file=None, data_dir=tmp_path, **overrides))


def test_no_endpoint_means_no_client(tmp_path):
    assert gateway(tmp_path).client_for("chat") is None


async def test_openai_compatible_call_uses_pipeline_parameters_and_returns_usage(tmp_path, model):
    from hideki.settings import PipelineParams

    gw = gateway(tmp_path, llm_base_url=model.base_url, llm_model="qwen2.5-7b-instruct",
                 pipelines={"minutes": PipelineParams(model="llama3.1-70b", temperature=0.0, max_tokens=3000)})
    completion = await gw.client_for("minutes").complete([{"role": "user", "content": "議事録を作って"}])
    sent = model.requests[-1]
    assert (sent["model"], sent["temperature"], sent["max_tokens"]) == ("llama3.1-70b", 0.0, 3000)
    assert completion.text == "モデルの回答: 議事録を作って"
    assert completion.usage.prompt_tokens == len("議事録を作って") and completion.usage.calls == 1
    await gw.client_for("chat").complete([{"role": "user", "content": "x"}])
    assert model.requests[-1]["model"] == "qwen2.5-7b-instruct"
    await gw.close()


async def test_azure_openai_uses_deployment_url_api_version_and_key(tmp_path, model):
    gw = gateway(tmp_path, azure_endpoint=model.root_url, azure_api_key="azure-secret", llm_model="gpt4o-city", azure_api_version="2024-10-21")
    assert gw.settings.llm_mode == "azure"
    await gw.client_for("chat").complete([{"role": "user", "content": "こんにちは"}])
    sent = model.requests[-1]
    assert sent["_path"] == "/openai/deployments/gpt4o-city/chat/completions"
    assert sent["_query"]["api-version"] == "2024-10-21"
    assert sent["_headers"]["api-key"] == "azure-secret"
    await gw.close()


async def test_retries_5xx_and_429_then_succeeds(tmp_path, model):
    model.script = [Step(status=503), Step(status=429, retry_after="0.2"), Step(status=500), Step(text="ok")]
    gw = gateway(tmp_path, llm_base_url=model.base_url, llm_max_retries=3)
    completion = await gw.client_for("chat").complete([{"role": "user", "content": "x"}])
    assert completion.text == "ok" and len(model.requests) == 4
    assert model.times[2] - model.times[1] >= 0.2  # Retry-After honoured
    await gw.close()


async def test_gives_up_after_max_retries_with_a_japanese_message(tmp_path, model):
    model.script = [Step(status=429), Step(status=429), Step(status=429)]
    gw = gateway(tmp_path, llm_base_url=model.base_url, llm_max_retries=2)
    with pytest.raises(LLMError) as error:
        await gw.client_for("chat").complete([{"role": "user", "content": "x"}])
    assert error.value.kind == "rate_limit" and error.value.user_message == "生成AIモデルが混み合っています。"
    assert len(model.requests) == 3
    await gw.close()


async def test_client_errors_are_not_retried(tmp_path, model):
    model.script = [Step(status=401)]
    gw = gateway(tmp_path, llm_base_url=model.base_url)
    with pytest.raises(LLMError) as error:
        await gw.client_for("chat").complete([{"role": "user", "content": "x"}])
    assert error.value.kind == "auth" and len(model.requests) == 1
    model.script = [Step(status=400)]
    with pytest.raises(LLMError, match="bad_request"):
        await gw.client_for("chat").complete([{"role": "user", "content": "x"}])
    await gw.close()


async def test_a_retry_after_longer_than_the_cap_fails_fast(tmp_path, model):
    model.script = [Step(status=429, retry_after="3600")]
    gw = gateway(tmp_path, llm_base_url=model.base_url, llm_max_backoff_s=5)
    started = time.monotonic()
    with pytest.raises(LLMError, match="rate_limit"):
        await gw.client_for("chat").complete([{"role": "user", "content": "x"}])
    assert time.monotonic() - started < 2
    await gw.close()


async def test_missing_usage_is_counted_locally(tmp_path, model):
    model.script = [Step(text="")]
    gw = gateway(tmp_path, llm_base_url=model.base_url)
    completion = await gw.client_for("chat").complete([{"role": "user", "content": "使用量を返さないサーバー"}])
    assert completion.text == "使用量なし"
    assert completion.usage.prompt_tokens > 0 and completion.usage.completion_tokens > 0
    await gw.close()


def test_retry_after_parsing_and_policy():
    assert retry_after_seconds({"retry-after-ms": "1500"}) == 1.5
    assert retry_after_seconds({"retry-after": "7"}) == 7
    assert 0 <= retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0
    assert retry_after_seconds({}) is None
    policy = RetryPolicy(max_retries=2, backoff_s=1, max_backoff_s=10)
    assert 0.5 <= policy.delay(1, None) <= 1 and 1 <= policy.delay(2, None) <= 2
    assert policy.delay(3, None) is None
    assert policy.delay(1, 4.0) == 4.0 and policy.delay(1, 11.0) is None


def test_tiktoken_works_offline_from_the_shipped_encodings(tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    cache = install_offline_encodings(tmp_path / "tiktoken")
    url = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
    assert (cache / hashlib.sha1(url.encode()).hexdigest()).exists()
    tiktoken.registry.ENCODINGS.clear()  # force a fresh load from the cache
    counter = TokenCounter("gpt-4o")
    assert counter.count("世田谷区役所") > 0
    assert TokenCounter("gpt-4").encoding.name == "cl100k_base"
    assert len(counter.split("会議の内容を記録します。\n" * 200, 100)) > 1  # the text splitter counts offline too


def test_token_split_keeps_every_character_and_respects_the_budget():
    counter = TokenCounter("gpt-4o-mini")
    text = "".join(f"{i}番目の発言です。会議の内容を記録します。\n" for i in range(2000)) + "句点のない長い行" * 500
    pieces = counter.split(text, 300)
    assert "".join(pieces) == text
    assert max(counter.count(p) for p in pieces) <= 300
    assert counter.truncate("あいうえお" * 100, 10) and counter.count(counter.truncate("あいうえお" * 100, 10)) <= 10


def test_token_split_cuts_at_line_ends_then_at_sentence_ends():
    counter = TokenCounter("gpt-4o-mini")
    lines = "".join(f"{i}番目の発言です。会議の内容を記録します。\n" for i in range(500))
    pieces = counter.split(lines, 200)
    assert "".join(pieces) == lines and all(p.endswith("\n") for p in pieces)
    long_line = "区役所の窓口で住民票の写しを請求しました、その後に税の証明も取りました。" * 40
    pieces = counter.split(long_line, 100)
    assert "".join(pieces) == long_line and all(p.endswith(("。", "、")) for p in pieces)


# --- streaming ------------------------------------------------------------------------------------------
async def test_a_streamed_call_hands_over_the_growing_text_and_returns_usage(tmp_path, model):
    model.script = [Step(text="住民票は区役所の窓口で取れます。", chunk_chars=3)]
    gw = gateway(tmp_path, llm_base_url=model.base_url)
    seen: list[str] = []

    async def on_text(text: str) -> None:
        seen.append(text)

    completion = await gw.client_for("chat").complete([{"role": "user", "content": "住民票"}], on_text=on_text)
    sent = model.requests[-1]
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    assert completion.text == "住民票は区役所の窓口で取れます。" and completion.finish_reason == "stop"
    assert completion.usage.prompt_tokens == len("住民票") and completion.usage.completion_tokens == len(completion.text)
    assert len(seen) > 3 and seen[-1] == completion.text
    assert all(later.startswith(earlier) for earlier, later in zip(seen, seen[1:]))
    await gw.close()


async def test_a_stream_is_retried_before_its_first_token_only(tmp_path, model):
    model.script = [Step(status=503), Step(text="一二三四五六七八", chunk_chars=2, break_after_chunks=2)]
    gw = gateway(tmp_path, llm_base_url=model.base_url, llm_max_retries=3)
    seen: list[str] = []

    async def on_text(text: str) -> None:
        seen.append(text)

    with pytest.raises(LLMError) as raised:
        await gw.client_for("chat").complete([{"role": "user", "content": "x"}], on_text=on_text)
    assert len(model.requests) == 2  # the 503 was retried; the broken stream was not
    assert raised.value.kind == "stream_broken"
    assert raised.value.partial == "一二三四" == seen[-1]
    assert "途中で止まりました" in LLMError("stream_broken").user_message
    await gw.close()


async def test_silence_between_chunks_times_out_with_the_text_so_far(tmp_path, model):
    model.script = [Step(text="あいうえおかきくけこ", chunk_chars=5, hang_after_chunks=1)]
    gw = gateway(tmp_path, llm_base_url=model.base_url, llm_timeout_s=0.5, llm_max_retries=2)
    started = time.monotonic()

    async def on_text(text: str) -> None:
        return None

    with pytest.raises(LLMError) as raised:
        await gw.client_for("chat").complete([{"role": "user", "content": "x"}], on_text=on_text)
    assert raised.value.kind == "timeout" and raised.value.partial == "あいうえお"
    assert len(model.requests) == 1 and time.monotonic() - started < 3
    await gw.close()
