"""End-to-end: Hideki behind the Microsoft 365 Agents Playground, driven through its web UI in headless Chromium.

Skipped unless HIDEKI_E2E=1; `scripts/e2e` installs what it needs and runs it. It starts the bot (offline, a
fresh data directory with the sample FAQ), the Playground (npm package in .e2e/, telemetry off) and Chromium
(/usr/bin/chromium, requests to anything but loopback are blocked), then checks each pipeline as a user sees it.
Screenshots, the bot/Playground logs and the page's console go to test-artifacts/e2e/. The steps run in file order and
share one page: steps 2–4 re-bind General with `@Test Bot 設定 …` (the Playground user is made an admin).

test_2 also checks Teams' own marks on the answer as far as the Playground draws them: the citation entity for [1]
becomes a citation chip with a pop-up (the abstract, linked to the FAQ entry, and the entry's question; keywords — the
file/row and date — are not shown), and the offline answer has no "AI generated" label. `channelData.feedbackLoopEnabled`
is ignored there: the Playground validates an updated activity (our send-then-update answer) against a schema without
`channelData` and drops it, so no 👍/👎 are drawn under a channel answer (real Teams keeps them); its feedback dialog
(message/submitAction) is therefore not driven here — tests/test_teams_ai.py covers the invoke. The streamed 1:1 answer
(test_playground_stream.py) needs a model and runs its own bot.

Two Playground 0.2.28 client bugs are worked around here, not in the bot (real Teams handles both):
- A typing activity in a channel thread (conversation `team-id;messageid=…`) makes the page's message saga throw
  ("Invalid conversation id" in setBotTypingStatus, which knows only personal and group chats); every message after it
  is dropped until the saga restarts, so 「作成中…」, the answer and the card went missing at random. The page's
  WebSocket drops those typing frames (`drop_channel_typing`); the Playground shows no typing in channels anyway.
- The post composer sends only its text nodes: line breaks typed with Shift+Enter (or pasted) are lost, so a pasted
  transcript reached the bot as one line. `type_lines` types the lines as a user does, then turns the editor's line
  break nodes into "\n" text, which is what the bot gets from Teams for a multi-line post.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

if os.environ.get("HIDEKI_E2E") != "1":
    pytest.skip("end-to-end Playground test: set HIDEKI_E2E=1 (or run scripts/e2e)", allow_module_level=True)

from playwright.sync_api import Page, sync_playwright  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
PLAYGROUND = ROOT / ".e2e" / "node_modules" / ".bin" / "agentsplayground"
CHROMIUM = os.environ.get("HIDEKI_E2E_CHROMIUM", "/usr/bin/chromium")
FAQ_SEED = ROOT / "knowledge" / "samples" / "ict_helpdesk_faq.csv"
EXAMPLE = ROOT / "channels" / "examples" / "yoyaku"  # a shipped custom pipeline (要約), enabled as an admin would
PLAYGROUND_USER = "00000000-0000-0000-0000-0000000000020"  # aadObjectId of the Playground's user (Alex Wilber)
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic", "--no-proxy-server",
]
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}
REPLY_TIMEOUT = 45.0
PLACEHOLDER = "作成中…"
READING = re.compile(r"[（(][ぁ-ゖー]+[)）]")


# --- processes -----------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen) -> None:
    """Stop a process started with start_new_session=True, with everything it started."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def clean_env() -> dict[str, str]:
    """The environment without model endpoints, Bot credentials or proxies: the bot runs offline in local mode."""
    drop = ("HIDEKI_", "OPENAI", "AZURE_OPENAI", "MICROSOFTAPP", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(drop)}
    env["NO_PROXY"] = env["no_proxy"] = "localhost,127.0.0.1,::1"
    return env


@pytest.fixture(scope="module")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    return ARTIFACTS


@contextmanager
def running_bot(artifacts: Path, data: Path, env: dict[str, str], log_name: str = "bot.log") -> Iterator[str]:
    """Run app.py with `data` as its data directory; yields its /api/messages URL once /readyz answers."""
    port = free_port()
    env = clean_env() | {"HIDEKI_DATA_DIR": str(data), "PORT": str(port)} | env
    log = open(artifacts / log_name, "wb")
    proc = subprocess.Popen(
        [sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 120  # the first start imports the sample FAQ
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the bot exited with {proc.returncode}; see {artifacts / log_name}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the bot did not become ready in 120 s; see {artifacts / log_name}")
            time.sleep(0.5)
        yield f"http://localhost:{port}/api/messages"
    finally:
        stop(proc)
        log.close()


@contextmanager
def running_playground(bot: str, artifacts: Path, log_name: str = "playground.log") -> Iterator[str]:
    """Run the Playground in front of the bot at `bot`; yields the URL of its web UI."""
    if not PLAYGROUND.exists():
        pytest.fail(f"{PLAYGROUND} is missing: run scripts/e2e (npm install --prefix .e2e @microsoft/m365agentsplayground)")
    env = clean_env() | {"TEAMSAPPTESTER_BROWSER": "none"}
    proc = subprocess.Popen(
        [str(PLAYGROUND), "-e", bot, "-c", "msteams", "-p", str(free_port()), "--disable-telemetry"],
        cwd=PLAYGROUND.parents[2], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    found: dict[str, int] = {}
    ready = threading.Event()

    def pump() -> None:  # copy the output to a log; the Playground prints the port it really uses
        with open(artifacts / log_name, "wb") as log:
            for line in proc.stdout:
                log.write(line)
                log.flush()
                if m := re.search(rb"Listening on (\d+)", line):
                    found["port"] = int(m.group(1))
                    ready.set()
        ready.set()

    threading.Thread(target=pump, daemon=True).start()
    try:
        if not ready.wait(60) or "port" not in found:
            pytest.fail(f"the Playground did not start; see {artifacts / log_name}")
        yield f"http://localhost:{found['port']}/"
    finally:
        stop(proc)


PAGE_FRAMES: list[dict] = []  # what the Playground's server sent the page (createMessage/updateMessage/typing)


def drop_channel_typing(ws) -> None:
    """Forward the Playground's WebSocket both ways, except typing frames for a channel thread (see the docstring).
    The frames sent to the page are kept in PAGE_FRAMES, to tell what the bot sent from what the page draws."""
    server = ws.connect_to_server()

    def to_page(message) -> None:
        if isinstance(message, str) and message.startswith("{"):
            PAGE_FRAMES.append(json.loads(message))
        if isinstance(message, str) and '"typing"' in message:
            frame = json.loads(message)
            if frame.get("action") == "typing" and ";messageid=" in frame.get("actionConversationId", ""):
                return
        ws.send(message)

    ws.on_message(server.send)
    server.on_message(to_page)


@contextmanager
def browser_page(playground: str, artifacts: Path, prefix: str = "") -> Iterator[Page]:
    """Headless Chromium on the Playground's UI, allowed to reach loopback only; the blocked requests and the
    page's console errors go to <prefix>blocked-requests.txt and <prefix>page-console.txt."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/e2e (apt-get install chromium fonts-noto-cjk)")
    blocked: list[str] = []
    console: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="ja-JP")

            def only_loopback(route):
                url = route.request.url
                host = re.sub(r"^[a-z]+://([^/:]+|\[[^\]]+\]).*$", r"\1", url, flags=re.I)
                if url.startswith(("data:", "blob:")) or host.lower() in LOOPBACK_HOSTS:
                    route.continue_()
                else:
                    blocked.append(url)
                    route.abort()

            context.route("**/*", only_loopback)
            context.route_web_socket(re.compile(r"^wss?://(localhost|127\.0\.0\.1)[:/]"), drop_channel_typing)
            pg = context.new_page()
            pg.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type == "error" else None)
            pg.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
            pg.set_default_timeout(20_000)
            pg.goto(playground)
            yield pg
        finally:
            (artifacts / f"{prefix}blocked-requests.txt").write_text("\n".join(blocked) + "\n", encoding="utf-8")
            (artifacts / f"{prefix}page-console.txt").write_text("\n".join(console) + "\n", encoding="utf-8")
            browser.close()


@pytest.fixture(scope="module")
def bot(artifacts: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The bot offline, with General bound to やさしい日本語 and the example pipeline copied in."""
    data = tmp_path_factory.mktemp("hideki-data")
    (data / "hideki.toml").write_text('[bindings]\n"team-id" = "yasashii"\n', encoding="utf-8")
    shutil.copytree(EXAMPLE, data / "pipelines" / EXAMPLE.name)  # docs/custom-pipelines.md: copy, then bind with 設定
    with running_bot(artifacts, data, {"HIDEKI_FAQ_SEED": str(FAQ_SEED), "HIDEKI_ADMINS": PLAYGROUND_USER}) as url:
        yield url


@pytest.fixture(scope="module")
def playground(bot: str, artifacts: Path) -> Iterator[str]:
    with running_playground(bot, artifacts) as url:
        yield url


@pytest.fixture(scope="module")
def page(playground: str, artifacts: Path) -> Iterator[Page]:
    with browser_page(playground, artifacts) as pg:
        yield pg


def load(page: Page) -> None:
    """(Re)load the Playground UI and wait for the bot's welcome (the Playground sends a welcome trigger on load)."""
    page.reload()
    page.get_by_role("treeitem", name="Personal Chat").wait_for()
    page.locator('[aria-label="Message author"]', has_text="Test Bot").first.wait_for(timeout=30_000)


@pytest.fixture
def shot(page: Page, artifacts: Path, request: pytest.FixtureRequest):
    """Each step starts on a freshly loaded UI and ends with a screenshot (also when it fails):
    test-artifacts/e2e/<step>.png. The UI keeps conversations in the page only; the bot keeps its state (bindings).
    A passing step also saves just the exchange it checked, <step>-reply.png (docs/images/ uses those)."""
    load(page)
    name = request.node.name.removeprefix("test_")
    yield artifacts / f"{name}-reply.png"
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=False)


# --- driving the UI ------------------------------------------------------------------------------------------
def open_conversation(page: Page, label: str) -> None:
    page.get_by_role("treeitem", name=label).click()
    page.locator('[data-lexical-editor="true"]').first.wait_for()
    page.wait_for_timeout(800)


def send_personal(page: Page, text: str) -> None:
    open_conversation(page, "Personal Chat")
    box = page.locator('[data-lexical-editor="true"]').last
    box.click()
    page.keyboard.type(text)
    page.keyboard.press("Enter")


KEEP_LINE_BREAKS = """el => {
  const editor = el.__lexicalEditor;
  const state = editor.getEditorState().toJSON();
  const visit = node => {
    if (!node.children) return;
    node.children = node.children.map(c => c.type === "linebreak"
      ? {type: "text", text: "\\n", detail: 0, format: 0, mode: "normal", style: "", version: 1} : c);
    node.children.forEach(visit);
  };
  visit(state.root);
  editor.setEditorState(editor.parseEditorState(JSON.stringify(state)));
}"""


def type_lines(page: Page, box, text: str) -> None:
    """Type `text` line by line (Shift+Enter between lines), then keep the line breaks (see the module docstring)."""
    for i, line in enumerate(text.split("\n")):
        if i:
            page.keyboard.press("Shift+Enter")
        page.keyboard.type(line)
    if "\n" in text:
        box.evaluate(KEEP_LINE_BREAKS)


def mention_in_general(page: Page, text: str) -> None:
    """Start a new post in General: @ → pick Test Bot → text → Post."""
    open_conversation(page, "My Team - General")
    box = page.locator('[data-lexical-editor="true"]').first  # "Start a new post"
    box.click()
    page.keyboard.type("@")
    option = page.get_by_role("option", name=re.compile("Test Bot"))
    if option.count() == 0:
        page.wait_for_timeout(1000)
    if option.count():
        option.first.click()
    else:
        page.locator("#typeahead-menu").get_by_text("Test Bot").first.click()
    page.keyboard.type(" ")
    type_lines(page, box, text)
    page.wait_for_timeout(200)
    page.get_by_role("button", name="Post", exact=True).click()


def personal_replies(page: Page, sent: str) -> str:
    """Text of the bot's messages after the last user message `sent` in the open personal chat."""
    messages = page.locator('div:has(> [aria-label="Message header"])').evaluate_all(
        """els => els.map(e => ({
              bot: !!e.querySelector('[aria-label="Message author"]'),
              text: e.innerText }))"""
    )
    start = None
    for i, m in enumerate(messages):
        if not m["bot"] and m["text"].strip().endswith(sent.strip().split("\n")[-1]):
            start = i
    if start is None:
        return ""
    return "\n".join(m["text"] for m in messages[start + 1:] if m["bot"])


def keep_personal(page: Page, sent: str, path: Path) -> None:
    """Screenshot of the personal chat from the user's message `sent` to the bot's last reply."""
    boxes = page.locator('div:has(> [aria-label="Message header"])').evaluate_all(
        """els => els.map(e => { const r = e.getBoundingClientRect();
              return {bot: !!e.querySelector('[aria-label="Message author"]'), text: e.innerText,
                      x: r.left, y: r.top, w: r.width, h: r.height}; })"""
    )
    start = max(i for i, b in enumerate(boxes) if not b["bot"] and b["text"].strip().endswith(sent))
    shown = boxes[start:]
    left, top = min(b["x"] for b in shown), shown[0]["y"]
    right, bottom = max(b["x"] + b["w"] for b in shown), max(b["y"] + b["h"] for b in shown)
    page.screenshot(path=str(path), clip={"x": left - 8, "y": top - 8, "width": right - left + 16, "height": bottom - top + 16})


def thread_of(page: Page, marker: str):
    return page.locator('[role="group"].fui-Card').filter(has_text=marker).first


def wait_for(read, check, what: str, timeout: float = REPLY_TIMEOUT) -> str:
    """Poll read() until check(text) holds and the 「作成中…」 bubble is gone (it must be updated in place)."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        try:
            text = read()
        except Exception:  # the DOM re-renders while messages arrive
            text = ""
        if text and check(text) and PLACEHOLDER not in text:
            return text
        time.sleep(0.5)
    pytest.fail(f"{what}: no matching reply in {timeout:.0f} s; last seen:\n{text}")


def wait_channel(page: Page, marker: str, check, what: str, timeout: float = REPLY_TIMEOUT) -> str:
    def read() -> str:
        thread = thread_of(page, marker)
        return thread.inner_text(timeout=2000) if thread.count() else ""

    def replied(text: str) -> bool:  # the thread holds the post and at least one bot reply
        return "Test Bot" in text.split(marker, 1)[-1] and check(text)

    return wait_for(read, replied, what, timeout)


def rebind(page: Page, title: str) -> None:
    mention_in_general(page, f"設定 {title}")
    text = wait_channel(page, f"設定 {title}", lambda t: "に設定しました" in t, f"設定 {title}")
    assert f"このチャネルを {title} に設定しました" in text or title in text.split("に設定しました")[0], text


# --- the steps -----------------------------------------------------------------------------------------------
def test_1_general_yasashii(page: Page, shot: Path) -> None:
    notice = "住民票の写しの交付申請は、市役所の窓口で受け付けます。本人確認書類を持参してください。"
    mention_in_general(page, notice)
    text = wait_channel(page, notice, lambda t: "📏" in t, "やさしい日本語")
    after = text.split(notice, 1)[1]
    assert "(じゅうみんひょう)" in after or READING.search(after), after
    button = thread_of(page, notice).get_by_role("button", name=re.compile("HTML（ルビ）版を表示"))
    assert button.count() >= 1, after
    thread_of(page, notice).screenshot(path=str(shot))


def test_2_servicedesk_faq(page: Page, shot: Path) -> None:
    rebind(page, "サービスデスク")
    question = "パスワードを忘れました"
    mention_in_general(page, question)
    text = wait_channel(page, question, lambda t: "出典" in t, "サービスデスク")
    thread = thread_of(page, question)
    # the [1] marker with its citation entity is drawn as Teams' citation chip; the offline answer has no AI label
    chip = thread.locator("a.fai-Citation")
    assert chip.count() == 1 and chip.first.inner_text().strip() == "1", text
    assert "AI generated" not in text, text
    # Teams' own 👍/👎 replace the card's buttons in Teams: the related-questions card has none
    assert thread.get_by_role("button", name=re.compile("[👍👎]")).count() == 0, text
    thread.screenshot(path=str(shot))
    # hovering the chip opens the pop-up: the abstract of the FAQ answer linked to the entry, and its question
    chip.first.hover()
    popup = page.locator('a[href="https://portal.city.example.lg.jp/ict/password"]', has_text="多要素認証を登録済み")
    popup.first.wait_for(timeout=5000)
    page.wait_for_timeout(300)
    box = thread.bounding_box()
    page.screenshot(path=str(ARTIFACTS / "2_servicedesk_citation-reply.png"),
                    clip={"x": box["x"] - 100, "y": box["y"], "width": box["width"] + 100, "height": min(box["height"], 560)})


def test_3_qa_generation(page: Page, shot: Path) -> None:
    rebind(page, "Q&A生成")
    notice = (
        "市民課からのお知らせです。4月1日から、住民票の写しをコンビニで取得できるようになります。"
        "利用にはマイナンバーカードが必要です。利用時間は午前6時30分から午後11時までです。"
    )
    mention_in_general(page, notice)
    text = wait_channel(page, notice, lambda t: "質問" in t.split(notice, 1)[1] and "回答" in t.split(notice, 1)[1],
                        "Q&A生成")
    # Teams draws no Markdown tables: the pairs arrive as a numbered list, rendered as one
    answer = text.split(notice, 1)[1]
    assert "|---" not in answer and thread_of(page, notice).locator("ol li").count() >= 3, text
    assert re.search(r"質問\s*:\s*\S.*回答\s*:\s*\S", answer), text
    assert "コンビニ" in text.split(notice, 1)[1], text
    button = thread_of(page, notice).get_by_role("button", name=re.compile("FAQ に追加"))
    assert button.count() >= 1, text
    thread_of(page, notice).screenshot(path=str(shot))


def test_4_minutes(page: Page, shot: Path) -> None:
    rebind(page, "議事録作成")
    transcript = "\n".join([
        "田中: それでは定例会議を始めます。今日の議題は防災訓練の日程です。",
        "佐藤: 防災訓練は10月15日の土曜日に実施することで決定しました。",
        "田中: 鈴木さん、会場の予約をお願いします。",
        "鈴木: 承知しました。来週の金曜日までに予約します。",
        "田中: 次回の会議は10月1日に開きます。以上で終わります。",
    ])
    mention_in_general(page, transcript)
    marker = "定例会議を始めます"
    text = wait_channel(page, marker, lambda t: "決定事項" in t and "ToDo" in t, "議事録作成")
    minutes = text.split("以上で終わります。", 1)[1]
    for section in ("出席者", "要旨", "決定事項", "ToDo", "次回"):
        assert section in minutes, section
    assert "田中" in minutes and "佐藤" in minutes and "鈴木" in minutes, minutes
    assert "防災訓練" in minutes.split("決定事項", 1)[1], minutes
    assert "会場の予約" in minutes.split("ToDo", 1)[1], minutes
    thread_of(page, marker).screenshot(path=str(shot))


def test_4b_custom_pipeline_from_example(page: Page, shot: Path) -> None:
    rebind(page, "要約")
    notice = (
        "市民課からのお知らせです。4月1日から、住民票の写しをコンビニで取得できるようになります。"
        "利用にはマイナンバーカードが必要です。利用時間は午前6時30分から午後11時までです。"
        "手数料は1通200円で、窓口より100円安くなります。"
    )
    mention_in_general(page, notice)
    text = wait_channel(page, notice, lambda t: "生成AIモデル" in t.split(notice, 1)[1], "要約")
    answer = text.split(notice, 1)[1]
    assert "コンビニ" in answer or "マイナンバーカード" in answer, answer  # an extractive summary of the notice
    thread_of(page, notice).screenshot(path=str(shot))


def test_5_personal_help(page: Page, shot: Path) -> None:
    send_personal(page, "ヘルプ")
    text = wait_for(lambda: personal_replies(page, "ヘルプ"), lambda t: "機能の一覧" in t, "ヘルプ")
    for title in ("チャット", "やさしい日本語", "サービスデスク", "Q&A生成", "議事録作成"):
        assert title in text, title
    assert "yasashii" in text and "servicedesk" in text
    keep_personal(page, "ヘルプ", shot)


def test_6_personal_offline_chat(page: Page, shot: Path) -> None:
    send_personal(page, "こんにちは")
    text = wait_for(lambda: personal_replies(page, "こんにちは"), lambda t: "生成AIモデル" in t, "こんにちは")
    assert "生成AIモデルが設定されていない" in text, text
    assert "AI generated" not in text, text  # no AI label on an offline answer
    keep_personal(page, "こんにちは", shot)
