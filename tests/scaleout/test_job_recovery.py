"""One machine, default settings (SQLite): jobs left behind by a process that died are answered after a restart,
into the 「作成中…」 message the first run sent; a job that keeps dying ends with an apology; a process whose job
was taken over does not answer as well."""
from __future__ import annotations

import asyncio
import time

from hideki.state.db import Database
from hideki.state.jobs import MAX_ATTEMPTS, JobQueue
from tests.support import activities as A


def left_behind(tmp_path, activity: dict, runs: int) -> JobQueue:
    """A job of a process that died `runs` times while running it, after sending its placeholder."""
    queue = JobQueue(Database(tmp_path / "data" / "hideki.db"), lease_s=0)
    job_id = queue.enqueue(activity["conversation"]["id"], "cid-left", activity)
    for _ in range(runs):
        job = queue.claim(job_id)
        queue.set_placeholder(job.id, "bot-placeholder")
    return queue


async def test_a_restart_answers_a_job_left_by_a_dead_process_in_its_placeholder(tmp_path, start_bot, connector, model):
    left_behind(tmp_path, A.personal_message(connector.url, "途中で止まった質問"), runs=1)
    bot = await start_bot(llm_base_url=model.base_url)
    await bot.drain()
    assert connector.final_texts() == {"bot-placeholder": "モデルの回答: 途中で止まった質問"}
    assert [s.method for s in connector.messages()] == ["PUT"]  # no second placeholder, no second answer
    [row] = bot.parts.audit.rows()
    assert row["correlation_id"] == "cid-left"


async def test_a_job_that_keeps_dying_ends_with_an_apology_and_its_correlation_id(tmp_path, start_bot, connector, model):
    queue = left_behind(tmp_path, A.personal_message(connector.url, "重すぎる質問"), runs=MAX_ATTEMPTS)
    bot = await start_bot(llm_base_url=model.base_url)
    await bot.drain()
    [text] = connector.final_texts().values()
    assert "回答を作成できませんでした" in text and "cid-left" in text
    assert model.requests == [] and queue.depth() == 0


async def test_metrics_count_the_open_jobs_of_every_process(tmp_path, start_bot, connector):
    queue = JobQueue(Database(tmp_path / "data" / "hideki.db"))
    job = queue.claim(queue.enqueue("a:personal-29:staff-2", "cid", A.personal_message(connector.url, "あとで")))
    queue.retry_later(job, delay_s=3600)  # open, but not to be run for an hour
    bot = await start_bot()
    assert "hideki_jobs_open 1.0" in await (await bot.client.get("/metrics")).text()


async def test_a_process_that_lost_its_job_to_another_one_does_not_answer_too(tmp_path, start_bot, connector, model):
    model.delay_s = 5  # long enough to hand the job over while the model thinks
    bot = await start_bot(llm_base_url=model.base_url, streaming=False)  # the placeholder path
    await bot.post(A.personal_message(connector.url, "取られる質問"))
    await connector.wait_for(lambda: bool(model.requests))
    db = Database(tmp_path / "data" / "hideki.db")  # another replica took it over after this one stalled past its lease
    db.connect().execute("UPDATE jobs SET lease_owner = 'other-replica', lease_until = ?", (time.time() + 3600,))
    while bot.parts.runner.pending:
        await asyncio.sleep(0.05)
    assert [s.body.get("text") for s in connector.messages()] == ["作成中…"]  # the other replica answers, not this one
    assert db.connect().execute("SELECT state, lease_owner FROM jobs").fetchall() == [("running", "other-replica")]
