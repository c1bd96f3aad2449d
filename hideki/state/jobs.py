"""The durable job queue: every accepted message is a row before the HTTP request is answered.

A job always has one process responsible for it, its lease holder: the process that accepted it (while the job
waits for its turn) or the one running it. Every process renews all its leases together (`renew`). A process that
dies stops renewing; once its leases lapse, any process — another replica, or the same one restarted — claims the
job and runs it again. A job runs only after every earlier job of its conversation has finished, so the turns of
one conversation are answered one at a time and in order, whichever replica holds them.

States: queued (waiting; `lease_until` is also the earliest time it may be claimed when nobody holds it) →
running → done | failed. Finished jobs keep no message content and are pruned by the retention task.
Works the same on SQLite (one machine: a restart loses nothing) and PostgreSQL (claims use SKIP LOCKED).
"""
from __future__ import annotations

import json
import os
import socket
import time
import uuid
from dataclasses import dataclass
from typing import Any

from hideki.state.db import Database

LEASE_S = 10.0  # a dead process's jobs are picked up again after at most this long
MAX_ATTEMPTS = 3  # runs of one job (the process died or delivery failed) before the user gets an apology

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL,
    correlation_id  TEXT NOT NULL,
    payload         TEXT NOT NULL,
    placeholder_id  TEXT,
    state           TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    lease_owner     TEXT,
    lease_until     REAL NOT NULL,
    created_at      REAL NOT NULL,
    finished_at     REAL
);
CREATE INDEX IF NOT EXISTS jobs_open ON jobs (state, conversation_id, id);
CREATE INDEX IF NOT EXISTS jobs_finished ON jobs (finished_at);
"""
_OPEN = "state IN ('queued', 'running')"
# a job may run only when no earlier job of its conversation is still open
_ITS_TURN = f"NOT EXISTS (SELECT 1 FROM jobs AS e WHERE e.conversation_id = j.conversation_id AND e.id < j.id AND e.{_OPEN})"
_COLUMNS = "id, conversation_id, correlation_id, payload, placeholder_id, attempts"


@dataclass(frozen=True)
class Job:
    id: int
    conversation_id: str
    correlation_id: str
    payload: dict[str, Any]  # the activity as received: enough for any process to run it again
    placeholder_id: str | None  # the 「作成中…」 message, once sent: a re-run updates it
    attempts: int  # runs so far, this one included


class JobQueue:
    def __init__(self, db: Database, lease_s: float = LEASE_S, max_attempts: int = MAX_ATTEMPTS) -> None:
        db.ensure_schema(_SCHEMA)
        self._db = db
        self.lease_s = lease_s
        self.max_attempts = max_attempts
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._lock_rows = " FOR UPDATE SKIP LOCKED" if db.dialect == "postgres" else ""

    def enqueue(self, conversation_id: str, correlation_id: str, payload: dict[str, Any]) -> int:
        """Store a job, leased by this process; committed when this returns."""
        return self._db.connect().execute(
            "INSERT INTO jobs (conversation_id, correlation_id, payload, state, lease_owner, lease_until, created_at) "
            "VALUES (?, ?, ?, 'queued', ?, ?, ?) RETURNING id",
            (conversation_id, correlation_id, json.dumps(payload), self.owner,  # ASCII: lone surrogates and NULs survive
             time.time() + self.lease_s, time.time()),
        ).fetchone()[0]

    def claim(self, job_id: int | None = None) -> Job | None:
        """Start a job whose turn it is: `job_id` if this process holds it or nobody does, else (None) the oldest
        job nobody holds. Returns None when there is none."""
        now = time.time()
        if job_id is None:
            where, params = "j.lease_until < ?", (now,)
        else:
            where, params = "j.id = ? AND (j.lease_until < ? OR j.lease_owner = ?)", (job_id, now, self.owner)
        with self._db.transaction() as conn:
            row = conn.execute(
                f"SELECT j.id FROM jobs AS j WHERE j.{_OPEN} AND {where} AND {_ITS_TURN} ORDER BY j.id LIMIT 1{self._lock_rows}",
                params,
            ).fetchone()
            if row is None:
                return None
            row = conn.execute(
                f"UPDATE jobs SET state = 'running', lease_owner = ?, lease_until = ?, attempts = attempts + 1 "
                f"WHERE id = ? RETURNING {_COLUMNS}",
                (self.owner, now + self.lease_s, row[0]),
            ).fetchone()
        return Job(row[0], row[1], row[2], json.loads(row[3]), row[4], row[5])

    def holder(self, job_id: int) -> tuple[str, str | None] | None:
        """(state, lease holder) of a job, or None if it is gone."""
        row = self._db.connect().execute("SELECT state, lease_owner FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return (row[0], row[1]) if row else None

    def holds(self, job: Job) -> bool:
        """Whether this process still holds the job (its lease was not taken over after a stall)."""
        return self.holder(job.id) == ("running", self.owner)

    def renew(self) -> int:
        """Extend every lease this process holds. Returns how many."""
        return self._db.connect().execute(
            f"UPDATE jobs SET lease_until = ? WHERE lease_owner = ? AND {_OPEN}", (time.time() + self.lease_s, self.owner)
        ).rowcount

    def set_placeholder(self, job_id: int, activity_id: str | None) -> None:
        """Remember the 「作成中…」 message of a job this process holds (waiting or running)."""
        self._db.connect().execute(
            "UPDATE jobs SET placeholder_id = ? WHERE id = ? AND lease_owner = ?", (activity_id, job_id, self.owner)
        )

    def finish(self, job: Job, failed: bool = False) -> bool:
        """Mark the job done (or failed) and forget its content. False if another process holds it now."""
        return self._db.connect().execute(
            "UPDATE jobs SET state = ?, payload = '{}', lease_owner = NULL, finished_at = ? WHERE id = ? AND lease_owner = ?",
            ("failed" if failed else "done", time.time(), job.id, self.owner),
        ).rowcount == 1

    def retry_later(self, job: Job, delay_s: float) -> None:
        """Give the job back after a failed run; any process may try again after `delay_s`."""
        self._db.connect().execute(
            "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_until = ? WHERE id = ? AND lease_owner = ?",
            (time.time() + delay_s, job.id, self.owner),
        )

    def release_all(self) -> int:
        """Shutting down: give back every job this process holds, at once and without counting the interrupted run."""
        return self._db.connect().execute(
            "UPDATE jobs SET attempts = CASE WHEN state = 'running' THEN attempts - 1 ELSE attempts END, "
            f"state = 'queued', lease_owner = NULL, lease_until = 0 WHERE lease_owner = ? AND {_OPEN}",
            (self.owner,),
        ).rowcount

    def depth(self) -> int:
        """Jobs not finished yet, in every process."""
        return self._db.connect().execute(f"SELECT COUNT(*) FROM jobs WHERE {_OPEN}").fetchone()[0]

    def prune(self, older_than_s: float) -> int:
        """Delete jobs finished more than `older_than_s` ago."""
        return self._db.connect().execute(
            "DELETE FROM jobs WHERE finished_at IS NOT NULL AND finished_at < ?", (time.time() - older_than_s,)
        ).rowcount
