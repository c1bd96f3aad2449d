"""Azure OpenAI with a managed identity instead of an API key (a token from the platform's identity endpoint)."""
from __future__ import annotations

from tests.support import activities as A
from tests.support.model import Step

CLIENT_ID = "11111111-2222-3333-4444-555555555555"


async def test_azure_openai_calls_carry_the_managed_identitys_token(managed_identity, start_bot, connector, model):
    model.script.append(Step(text="マネージド ID で呼びました。"))
    bot = await start_bot(azure_endpoint=model.root_url, azure_managed_identity_client_id=CLIENT_ID, llm_model="gpt-4o-mini")
    await bot.post(A.personal_message(connector.url, "こんにちは"))
    await bot.drain()
    assert "マネージド ID で呼びました。" in connector.latest_answer()["text"]
    sent = model.requests[-1]
    assert sent["_headers"]["Authorization"] == f"Bearer {managed_identity.issued[-1]}" and "api-key" not in {k.lower() for k in sent["_headers"]}
    assert managed_identity.requests[-1]["resource"] == "https://cognitiveservices.azure.com"
    assert managed_identity.requests[-1]["client_id"] == CLIENT_ID


async def test_no_token_means_a_clear_japanese_message(managed_identity, start_bot, connector, model):
    managed_identity.fail_status = 500
    bot = await start_bot(azure_endpoint=model.root_url, azure_managed_identity_client_id="system")
    await bot.post(A.personal_message(connector.url, "こんにちは"))
    await bot.drain()
    text = connector.latest_answer()["text"]
    assert model.requests == []  # nothing went out without a token
    assert "生成AIモデルの認証に失敗しました" in text and "Traceback" not in text
    assert "client_id" not in managed_identity.requests[-1]  # system-assigned: no client id
