"""End-to-end: a model answer streamed into the Playground's personal chat (Teams' streaming protocol, the AI label).

Skipped unless HIDEKI_E2E=1 (run by `scripts/e2e` with test_playground.py, whose helpers it uses). Streaming needs a
model, so this module runs its own bot — with HIDEKI_LLM_BASE_URL on a scripted OpenAI-compatible server on
loopback (tests/support/model.py) that streams a canned Japanese answer slowly, 10 chunks over about 3 s — its own
Playground and its own Chromium. It checks that the 1:1 reply grows while the model writes, ends with the whole
text, and carries the "AI generated" label. Screenshots: test-artifacts/e2e/stream-*.png.
"""

from __future__ import annotations

import asyncio
import math
import os
import threading
import time
from typing import Iterator

import pytest

if os.environ.get("HIDEKI_E2E") != "1":
    pytest.skip("end-to-end Playground test: set HIDEKI_E2E=1 (or run scripts/e2e)", allow_module_level=True)

from playwright.sync_api import Page  # noqa: E402

from tests.e2e.test_playground import (  # noqa: E402
    ARTIFACTS, REPLY_TIMEOUT, browser_page, keep_personal, load, personal_replies, running_bot, running_playground, send_personal,
)
from tests.support.model import ScriptedModel, Step  # noqa: E402

ANSWER = (
    "住民票の写しは、市役所の窓口のほか、マイナンバーカードがあればコンビニでも取得できます。"
    "窓口は平日の午前8時30分から午後5時15分まで、コンビニは毎日午前6時30分から午後11時まで利用できます。"
    "手数料は窓口が1通300円、コンビニが1通200円です。"
)
CHUNKS = 10
CHUNK_DELAY_S = 0.33  # 10 chunks over about 3 s: the bot sends about one streaming update a second
AI_LABEL = "AI generated"  # the Playground's text for the AIGeneratedContent label


@pytest.fixture(scope="module")
def model() -> Iterator[str]:
    """The scripted model on its own event loop in a thread; yields its base URL (…/v1)."""
    loop = asyncio.new_event_loop()
    step = Step(text=ANSWER, chunk_chars=math.ceil(len(ANSWER) / CHUNKS), chunk_delay_s=CHUNK_DELAY_S)
    server = ScriptedModel(script=[step] * 5)  # a few calls' worth; the test makes one
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(30)
    try:
        yield server.base_url
    finally:
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@pytest.fixture(scope="module")
def stream_page(model: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    artifacts = ARTIFACTS
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / "7_streamed_partial-reply.png").unlink(missing_ok=True)
    data = tmp_path_factory.mktemp("hideki-data-model")
    env = {"HIDEKI_LLM_BASE_URL": model, "HIDEKI_LLM_API_KEY": "e2e"}
    with running_bot(artifacts, data, env, "stream-bot.log") as bot, \
            running_playground(bot, artifacts, "stream-playground.log") as url, \
            browser_page(url, artifacts, "stream-") as page:
        yield page


def shown_of_answer(text: str) -> int:
    """How many characters of ANSWER (from its start) the reply `text` shows."""
    return next((n for n in range(len(ANSWER), 0, -1) if ANSWER[:n] in text), 0)


def test_7_streamed_personal_answer(stream_page: Page) -> None:
    page = stream_page
    load(page)
    question = "住民票の写しの取り方を教えて"
    send_personal(page, question)
    seen: list[str] = []  # each distinct text of the bot's reply, as the user saw it
    deadline = time.monotonic() + REPLY_TIMEOUT
    while time.monotonic() < deadline:
        try:
            text = personal_replies(page, question)
        except Exception:  # the DOM re-renders while messages arrive
            text = ""
        if text and (not seen or text != seen[-1]):
            seen.append(text)
            if 10 <= shown_of_answer(text) < len(ANSWER) and not (ARTIFACTS / "7_streamed_partial-reply.png").exists():
                keep_personal(page, question, ARTIFACTS / "7_streamed_partial-reply.png")  # mid-stream
        if ANSWER in text and AI_LABEL in text:
            break
        time.sleep(0.1)
    page.screenshot(path=str(ARTIFACTS / "7_streamed_personal_answer.png"))
    history = "\n---\n".join(seen)
    assert seen and ANSWER in seen[-1], history
    assert any(10 <= shown_of_answer(t) < len(ANSWER) for t in seen), "the reply did not grow:\n" + history
    assert AI_LABEL in seen[-1], seen[-1]  # the AI label on a model-written answer
    keep_personal(page, question, ARTIFACTS / "7_streamed_personal_answer-reply.png")
