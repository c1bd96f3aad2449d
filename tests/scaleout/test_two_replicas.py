"""Two real bot processes behind an imaginary load balancer, sharing PostgreSQL, Redis and a Chroma server.

One 1:1 conversation's messages alternate between the replicas; replica A is killed (SIGKILL) while the model is
still thinking about the first message. Every message still gets exactly one answer, in the 「作成中…」 message
it was given, in order and with consistent memory; bindings, audit rows and rate limits are shared.
"""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import psycopg
import pytest

from tests.support import activities as A
from tests.support.model import Step
from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
ADMIN = "aad-admin"
RATE_PER_MINUTE = 5


@dataclass
class Replica:
    name: str
    url: str
    process: subprocess.Popen
    log: Path

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-30:]) if self.log.exists() else ""


def start_replica(name: str, tmp_path: Path, env: dict[str, str]) -> Replica:
    port = free_port()
    data = tmp_path / name
    data.mkdir()
    log = tmp_path / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py")], cwd=data, stdout=out, stderr=subprocess.STDOUT,
            env={**env, "PORT": str(port), "HIDEKI_DATA_DIR": str(data)},
        )
    return Replica(name, f"http://127.0.0.1:{port}", process, log)


async def wait_ready(session: aiohttp.ClientSession, replica: Replica, timeout_s: float = 120) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        if replica.process.poll() is not None:
            raise AssertionError(f"replica {replica.name} exited with {replica.process.returncode}:\n{replica.tail()}")
        try:
            async with session.get(f"{replica.url}/readyz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        if loop.time() > deadline:
            raise AssertionError(f"replica {replica.name} not ready:\n{replica.tail()}")
        await asyncio.sleep(0.2)


@pytest.fixture
async def replicas(tmp_path, postgres_url, redis_url, chroma_url, model):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HIDEKI_", "OPENAI_", "AZURE_OPENAI_", "MicrosoftApp"))}
    env.update(
        HIDEKI_DATABASE_URL=postgres_url, HIDEKI_REDIS_URL=redis_url, HIDEKI_CHROMA_URL=chroma_url,
        HIDEKI_LLM_BASE_URL=model.base_url, HIDEKI_LLM_API_KEY="test", HIDEKI_FAQ_SEED="", HIDEKI_HOST="127.0.0.1",
        HIDEKI_ADMINS=ADMIN, HIDEKI_RATE_USER_PER_MINUTE=str(RATE_PER_MINUTE), HIDEKI_LOG_LEVEL="INFO", HIDEKI_STREAMING="false",  # the placeholder path
        NO_PROXY="127.0.0.1,localhost", ANONYMIZED_TELEMETRY="False",
    )
    started = [start_replica(name, tmp_path, env) for name in ("a", "b")]
    async with aiohttp.ClientSession(trust_env=False) as session:
        try:
            await asyncio.gather(*(wait_ready(session, r) for r in started))
            yield session, started
        finally:
            for r in started:
                if r.process.poll() is None:
                    r.process.send_signal(signal.SIGTERM)
            for r in started:
                try:
                    r.process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    r.process.kill()


async def until_placeholders_stored(postgres_url: str, conversation: str, count: int, timeout_s: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    with psycopg.connect(postgres_url, autocommit=True) as db:
        while db.execute("SELECT COUNT(*) FROM jobs WHERE conversation_id = %s AND placeholder_id IS NOT NULL",
                         (conversation,)).fetchone()[0] < count:
            assert asyncio.get_running_loop().time() < deadline, "the placeholders were never stored"
            await asyncio.sleep(0.05)


async def post(session: aiohttp.ClientSession, replica: Replica, activity: dict) -> None:
    async with session.post(f"{replica.url}/api/messages", json=activity) as response:
        assert response.status == 200, (replica.name, response.status, await response.text(), replica.tail())


async def test_two_replicas_share_everything_and_a_killed_one_loses_nothing(replicas, connector, model, postgres_url):
    session, (a, b) = replicas
    started = b.log.read_text(errors="replace")
    assert "postgresql" in started and "redis" in started and "chroma server" in started  # the shared engines, by settings
    # rate limits are shared: a user who reached the limit through A is limited on B
    busy = {"user": "29:busy", "aad": "aad-busy"}
    for _ in range(RATE_PER_MINUTE):
        await post(session, a, A.personal_message(connector.url, "ヘルプ", **busy))
    await post(session, b, A.personal_message(connector.url, "ヘルプ", **busy))
    busy_texts = lambda: list(connector.final_texts("a:personal-29:busy").values())  # noqa: E731
    await connector.wait_for(lambda: len(busy_texts()) == RATE_PER_MINUTE + 1, timeout=30)
    assert sum("Hideki の使い方" in t for t in busy_texts()) == RATE_PER_MINUTE
    assert sum("少し休ませてください" in t for t in busy_texts()) == 1

    # the first answer takes long: replica A is still waiting for it when it is killed
    model.script = [Step(delay_s=120)]
    model.delay_s = 0.2
    user = {"user": "29:staff-2", "aad": "aad-staff-2"}
    questions = ["私の課は防災課です", "私の課はどこでしたか", "ありがとう"]
    conversation = "a:personal-29:staff-2"

    sent = [A.personal_message(connector.url, q, **user) for q in questions]
    await post(session, a, sent[0])
    await connector.wait_for(lambda: bool(model.requests), timeout=60)  # A holds the job, mid-way
    await post(session, b, sent[1])
    await post(session, a, sent[2])
    # every message shows 「作成中…」 at once, even while waiting for its turn; kill once the ids are stored
    # (a death between sending a placeholder and storing its id would leave a second one: a known, tiny window)
    await until_placeholders_stored(postgres_url, conversation, len(questions))
    a.process.send_signal(signal.SIGKILL)
    a.process.wait(timeout=10)

    # a binding set through one replica is seen by the other; channel work runs on B
    channel = "19:kouhou@thread.tacv2"
    await post(session, b, A.channel_message(connector.url, "設定 やさしい日本語", channel_id=channel, aad=ADMIN))
    await post(session, b, A.channel_message(connector.url, "区役所は午前8時30分に開きます。", channel_id=channel))

    def answered() -> bool:
        finals = connector.final_texts(conversation).values()
        return sum(t.startswith("モデルの回答") for t in finals) == len(questions)

    await connector.wait_for(answered, timeout=60)
    await connector.wait_for(lambda: any("設定しました" in t for t in connector.final_texts(channel).values()), timeout=30)
    await connector.wait_for(lambda: sum(t != "作成中…" for t in connector.final_texts(channel).values()) >= 2, timeout=60)

    # exactly one placeholder per message, each updated to its own answer, nothing sent twice
    personal = connector.messages(conversation)
    placeholders = {s.reply_to: s.activity_id for s in personal if s.method == "POST" and s.body.get("text") == "作成中…"}
    assert len(placeholders) == len(questions) == len([s for s in personal if s.method == "POST"])
    finals = connector.final_texts(conversation)
    assert [finals[placeholders[m["id"]]] for m in sent] == [f"モデルの回答: {q}" for q in questions]

    # memory in order: the last question saw the first two exchanges, once each
    last = next(r for r in reversed(model.requests) if r["messages"][-1]["content"] == questions[2])
    history = [(m["role"], m["content"]) for m in last["messages"][1:]]
    assert history == [("user", questions[0]), ("assistant", f"モデルの回答: {questions[0]}"),
                       ("user", questions[1]), ("assistant", f"モデルの回答: {questions[1]}"), ("user", questions[2])]

    with psycopg.connect(postgres_url) as db:
        audited = db.execute("SELECT pipeline, conversation_id FROM audit ORDER BY id").fetchall()
        open_jobs = db.execute("SELECT COUNT(*) FROM jobs WHERE state NOT IN ('done', 'failed')").fetchone()[0]
    assert [p for p, c in audited if c == conversation] == ["chat"] * len(questions)
    assert [p for p, c in audited if c.startswith(channel)] == ["yasashii"]
    assert open_jobs == 0
