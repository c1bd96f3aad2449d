"""The durable job queue on both engines: leases, order per conversation, takeover after a death, shutdown, pruning."""
from __future__ import annotations

import threading

from hideki.state.jobs import JobQueue


def test_a_job_is_run_by_its_holder_and_taken_over_only_when_its_lease_lapses(opener):
    alive, other = JobQueue(opener()), JobQueue(opener())
    first = alive.enqueue("conv-a", "cid-1", {"text": "一つ目", "conversation": {"id": "conv-a"}})
    assert other.claim() is None and other.claim(first) is None  # held by a live process
    job = alive.claim(first)
    assert (job.payload["text"], job.attempts, job.placeholder_id, job.correlation_id) == ("一つ目", 1, None, "cid-1")
    assert alive.holds(job) and not other.holds(job)
    alive.set_placeholder(job.id, "bot-7")

    dying = JobQueue(opener(), lease_s=0)  # a process whose leases have already lapsed, as if it had died
    second = dying.enqueue("conv-b", "cid-2", {"text": "二つ目"})
    taken = other.claim()
    assert (taken.id, taken.attempts) == (second, 1) and other.holder(second) == ("running", other.owner)
    assert alive.finish(job) and other.finish(taken) and not dying.finish(taken)
    assert alive.depth() == 0 and alive.holder(first) == ("done", None)


def test_jobs_of_one_conversation_run_one_at_a_time_in_order(opener):
    q = JobQueue(opener())
    first = q.enqueue("conv", "c1", {})
    second = q.enqueue("conv", "c2", {})
    elsewhere = q.enqueue("other", "c3", {})
    assert q.claim(second) is None  # its turn comes after the first
    assert q.claim(elsewhere).id == elsewhere
    job = q.claim(first)
    assert q.claim(second) is None  # still not while the first runs
    q.finish(job)
    assert q.claim(second).id == second


def test_a_placeholder_and_the_attempts_survive_a_death_and_too_many_attempts_are_visible(opener):
    dying = JobQueue(opener(), lease_s=0)
    job_id = dying.enqueue("conv", "cid", {"text": "x"})
    dying.set_placeholder(dying.claim(job_id).id, "bot-1")
    heir = JobQueue(opener(), lease_s=0)
    again = heir.claim()
    assert (again.id, again.placeholder_id, again.attempts) == (job_id, "bot-1", 2)
    third = JobQueue(opener()).claim()
    assert third.attempts == 3 == heir.max_attempts  # one more death and the user gets the apology


def test_failed_runs_wait_and_shutdown_gives_jobs_back_without_counting_them(opener):
    q, other = JobQueue(opener()), JobQueue(opener())
    waiting = q.enqueue("conv-1", "c1", {})
    running = q.claim(q.enqueue("conv-2", "c2", {}))
    failed = q.claim(q.enqueue("conv-3", "c3", {}))
    q.retry_later(failed, delay_s=3600)
    assert other.claim() is None  # the failed one waits its delay, the others are held
    assert q.release_all() == 2
    claimed = {j.id: j.attempts for j in (other.claim(), other.claim())}
    assert claimed == {waiting: 1, running.id: 1} and other.claim() is None


def test_finished_jobs_forget_their_content_and_are_pruned(opener):
    db = opener()
    q = JobQueue(db)
    job = q.claim(q.enqueue("conv", "c", {"text": "個人的な内容"}))
    q.finish(job, failed=True)
    assert db.connect().execute("SELECT payload, state FROM jobs").fetchall() == [("{}", "failed")]
    assert q.prune(older_than_s=3600) == 0 and q.prune(older_than_s=-1) == 1


def test_concurrent_claims_from_many_processes_take_each_job_once(opener):
    q = JobQueue(opener(), lease_s=0)
    ids = {q.enqueue(f"conv-{n}", f"c{n}", {}) for n in range(30)}
    claimed: list[int] = []

    def worker() -> None:
        mine = JobQueue(opener())
        while (job := mine.claim()) is not None:
            claimed.append(job.id)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == sorted(ids)


def test_any_text_json_can_carry_survives_the_round_trip(opener):
    q = JobQueue(opener())
    text = "ＮＵＬ\x00と壊れた\ud800サロゲート🙂"
    job = q.claim(q.enqueue("conv", "c", {"text": text}))
    assert job.payload == {"text": text}
