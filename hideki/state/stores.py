"""State: channel bindings, conversation memory, saved results, files offered to users and FAQ feedback.

Each store is a small class over a `hideki.state.db.Database` — SQLite under the data directory, or PostgreSQL
shared by every replica — and creates the tables it needs. Calls are short indexed lookups and run inline.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from hideki.state.db import Database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS bindings (
    channel_key TEXT PRIMARY KEY,
    pipeline    TEXT NOT NULL,
    set_by      TEXT NOT NULL,
    set_at      REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content         TEXT NOT NULL,
    tokens          INTEGER NOT NULL,
    created_at      REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages (conversation_id, id);
CREATE TABLE IF NOT EXISTS results (
    id         TEXT PRIMARY KEY,
    pipeline   TEXT NOT NULL,
    kind       TEXT NOT NULL,
    content    TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS unanswered (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    question   TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    best_score REAL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    answer_id  TEXT NOT NULL,
    verdict    TEXT NOT NULL CHECK (verdict IN ('up', 'down')),
    question   TEXT NOT NULL,
    cited      TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    created_at REAL NOT NULL,
    UNIQUE (answer_id, user_id)
);
CREATE TABLE IF NOT EXISTS feedback_comments (
    answer_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    comment    TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (answer_id, user_id)
);
CREATE TABLE IF NOT EXISTS feedback_messages (
    activity_id     TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    action          TEXT NOT NULL,
    answer_id       TEXT NOT NULL,
    created_at      REAL NOT NULL,
    PRIMARY KEY (activity_id, conversation_id)
);
CREATE TABLE IF NOT EXISTS offered_files (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    name            TEXT NOT NULL,
    media_type      TEXT NOT NULL,
    content         BLOB NOT NULL,
    created_at      REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS clarifications (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    question   TEXT NOT NULL,
    choices    TEXT NOT NULL,
    chosen     TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS channel_names (
    channel_id TEXT PRIMARY KEY,
    name       TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Binding:
    channel_key: str
    pipeline: str
    set_by: str
    set_at: float


class BindingStore:
    """Channel → pipeline bindings set from Teams (`@Hideki 設定 …`)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        db.ensure_schema(_SCHEMA)

    def get(self, channel_key: str) -> Binding | None:
        row = self._db.connect().execute(
            "SELECT channel_key, pipeline, set_by, set_at FROM bindings WHERE channel_key = ?", (channel_key,)
        ).fetchone()
        return Binding(*row) if row else None

    def set(self, channel_key: str, pipeline: str, set_by: str) -> None:
        self._db.connect().execute(
            "INSERT INTO bindings VALUES (?, ?, ?, ?) ON CONFLICT(channel_key) DO UPDATE SET "
            "pipeline = excluded.pipeline, set_by = excluded.set_by, set_at = excluded.set_at",
            (channel_key, pipeline, set_by, time.time()),
        )

    def remove(self, channel_key: str) -> bool:
        return self._db.connect().execute("DELETE FROM bindings WHERE channel_key = ?", (channel_key,)).rowcount > 0

    def remember_name(self, channel_id: str, name: str) -> None:
        self._db.connect().execute(
            "INSERT INTO channel_names VALUES (?, ?) ON CONFLICT(channel_id) DO UPDATE SET name = excluded.name",
            (channel_id, name),
        )

    def name_of(self, channel_id: str) -> str | None:
        row = self._db.connect().execute("SELECT name FROM channel_names WHERE channel_id = ?", (channel_id,)).fetchone()
        return row[0] if row else None


@dataclass(frozen=True)
class Turn:
    role: str  # "user" or "assistant"
    content: str
    tokens: int


class MemoryStore:
    """Conversation memory for 1:1 chats: the recent turns that fit a token budget."""

    def __init__(self, db: Database) -> None:
        self._db = db
        db.ensure_schema(_SCHEMA)

    def append(self, conversation_id: str, role: str, content: str, tokens: int) -> None:
        self._db.connect().execute(
            "INSERT INTO messages (conversation_id, role, content, tokens, created_at) VALUES (?, ?, ?, ?, ?)",
            (conversation_id, role, content, tokens, time.time()),
        )

    def recent(self, conversation_id: str, budget_tokens: int, limit: int = 200) -> list[Turn]:
        """Newest turns whose tokens add up to at most `budget_tokens`, oldest first."""
        rows = self._db.connect().execute(
            "SELECT role, content, tokens FROM messages WHERE conversation_id = ? ORDER BY id DESC LIMIT ?",
            (conversation_id, limit),
        ).fetchall()
        kept: list[Turn] = []
        used = 0
        for role, content, tokens in rows:
            if used + tokens > budget_tokens:
                break
            kept.append(Turn(role, content, tokens))
            used += tokens
        kept.reverse()
        # a history should not start with the assistant answering a question it no longer shows
        while kept and kept[0].role == "assistant":
            kept.pop(0)
        return kept

    def purge(self, older_than_days: float) -> int:
        """Forget turns older than the retention period."""
        cutoff = time.time() - older_than_days * 86400
        return self._db.connect().execute("DELETE FROM messages WHERE created_at < ?", (cutoff,)).rowcount

    def clear(self, conversation_id: str) -> int:
        return self._db.connect().execute("DELETE FROM messages WHERE conversation_id = ?", (conversation_id,)).rowcount


class ResultStore:
    """Results a card button can ask for later (e.g. the HTML version of a rewrite), by opaque id."""

    def __init__(self, db: Database, keep_days: float = 30) -> None:
        self._db = db
        db.ensure_schema(_SCHEMA)
        self._keep_s = keep_days * 86400

    def save(self, pipeline: str, kind: str, content: str) -> str:
        result_id = uuid.uuid4().hex
        now = time.time()
        conn = self._db.connect()
        conn.execute("INSERT INTO results VALUES (?, ?, ?, ?, ?)", (result_id, pipeline, kind, content, now))
        conn.execute("DELETE FROM results WHERE created_at < ?", (now - self._keep_s,))
        return result_id

    def get(self, result_id: str, pipeline: str) -> tuple[str, str] | None:
        """(kind, content) of a saved result of `pipeline`, or None if unknown or expired."""
        row = self._db.connect().execute(
            "SELECT kind, content FROM results WHERE id = ? AND pipeline = ?", (str(result_id), pipeline)
        ).fetchone()
        return (row[0], row[1]) if row else None


@dataclass(frozen=True)
class StoredFile:
    name: str
    media_type: str
    data: bytes


class FileStore:
    """Files a user was offered and has not yet accepted or declined (Teams' file consent), by opaque id, kept in
    the shared database so that any replica can answer the user's click."""

    def __init__(self, db: Database, keep_days: float = 7) -> None:
        self._db = db
        db.ensure_schema(_SCHEMA)
        self._keep_s = keep_days * 86400

    def save(self, conversation_id: str, name: str, media_type: str, data: bytes) -> str:
        file_id = uuid.uuid4().hex
        now = time.time()
        conn = self._db.connect()
        conn.execute("INSERT INTO offered_files VALUES (?, ?, ?, ?, ?, ?)",
                     (file_id, conversation_id, name, media_type, data, now))
        conn.execute("DELETE FROM offered_files WHERE created_at < ?", (now - self._keep_s,))
        return file_id

    def get(self, file_id: str, conversation_id: str) -> StoredFile | None:
        """The file offered in this conversation under `file_id`, or None if unknown, expired or offered elsewhere."""
        row = self._db.connect().execute(
            "SELECT name, media_type, content FROM offered_files WHERE id = ? AND conversation_id = ? AND created_at >= ?",
            (str(file_id), conversation_id, time.time() - self._keep_s),
        ).fetchone()
        return StoredFile(row[0], row[1], bytes(row[2])) if row else None

    def remove(self, file_id: str) -> bool:
        return self._db.connect().execute("DELETE FROM offered_files WHERE id = ?", (str(file_id),)).rowcount > 0


@dataclass(frozen=True)
class Gap:
    kind: str  # "unanswered" or "down"
    question: str
    count: int
    last_at: float
    cited: str = ""
    comment: str = ""  # the latest comment given with a 👎 (Teams' feedback form)


@dataclass(frozen=True)
class Confusion:
    """FAQ entries the service desk could not tell apart: offered together as choices `count` times."""

    choices: tuple[str, ...]  # entry ids, best first
    count: int
    chosen: dict[str, int]  # entry id -> how often it was picked (a relevance signal)
    last_question: str


class FeedbackStore:
    """Questions the FAQ could not answer, and 👍/👎 on answers, for admins to improve the FAQ."""

    def __init__(self, db: Database) -> None:
        self._db = db
        db.ensure_schema(_SCHEMA)

    def unanswered(self, question: str, user_id: str, best_score: float | None) -> None:
        self._db.connect().execute(
            "INSERT INTO unanswered (question, user_id, best_score, created_at) VALUES (?, ?, ?, ?)",
            (question, user_id, best_score, time.time()),
        )

    def vote(self, answer_id: str, verdict: str, question: str, cited: list[str], user_id: str, comment: str = "") -> None:
        """One vote per user and answer; voting again replaces it (and its comment, when one is given)."""
        conn = self._db.connect()
        conn.execute(
            "INSERT INTO feedback (answer_id, verdict, question, cited, user_id, created_at) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(answer_id, user_id) DO UPDATE SET verdict = excluded.verdict, created_at = excluded.created_at",
            (answer_id, verdict, question, ",".join(cited), user_id, time.time()),
        )
        if comment.strip():
            conn.execute(
                "INSERT INTO feedback_comments (answer_id, user_id, comment, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(answer_id, user_id) DO UPDATE SET comment = excluded.comment, created_at = excluded.created_at",
                (answer_id, user_id, comment.strip(), time.time()),
            )

    def link_message(self, activity_id: str, conversation_id: str, action: str, answer_id: str) -> None:
        """Remember which answer a sent message shows, for feedback given on the message itself (Teams' 👍/👎)."""
        self._db.connect().execute(
            "INSERT INTO feedback_messages (activity_id, conversation_id, action, answer_id, created_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(activity_id, conversation_id) DO UPDATE SET action = excluded.action, answer_id = excluded.answer_id",
            (activity_id, conversation_id, action, answer_id, time.time()),
        )

    def forget_links(self, older_than_days: float) -> int:
        """Forget message → answer links older than the retention period (their votes stay); returns how many."""
        cutoff = time.time() - older_than_days * 86400
        return self._db.connect().execute("DELETE FROM feedback_messages WHERE created_at < ?", (cutoff,)).rowcount

    def linked(self, activity_id: str, conversation_id: str) -> tuple[str, str] | None:
        """(action, answer id) of a message this bot sent with feedback enabled, or None."""
        row = self._db.connect().execute(
            "SELECT action, answer_id FROM feedback_messages WHERE activity_id = ? AND conversation_id = ?",
            (activity_id, conversation_id),
        ).fetchone()
        return (row[0], row[1]) if row else None

    def clarified(self, question: str, choices: list[str], user_id: str) -> None:
        """The bot asked 「次のどれについてですか？」 with these entries."""
        self._db.connect().execute(
            "INSERT INTO clarifications (question, choices, chosen, user_id, created_at) VALUES (?, ?, '', ?, ?)",
            (question, ",".join(choices), user_id, time.time()),
        )

    def chose(self, question: str, choices: list[str], chosen: str, user_id: str) -> None:
        """The user picked `chosen` among the choices offered for `question`."""
        conn = self._db.connect()
        row = conn.execute(
            "SELECT id FROM clarifications WHERE question = ? AND choices = ? AND user_id = ? AND chosen = '' "
            "ORDER BY id DESC LIMIT 1", (question, ",".join(choices), user_id)).fetchone()
        if row is None:
            self.clarified(question, choices, user_id)
            row = conn.execute("SELECT MAX(id) FROM clarifications").fetchone()
        conn.execute("UPDATE clarifications SET chosen = ? WHERE id = ?", (chosen, row[0]))

    def confusions(self, limit: int = 20) -> list[Confusion]:
        """Sets of entries offered together, most frequent first, with what was picked."""
        rows = self._db.connect().execute(
            "SELECT choices, chosen, question, created_at FROM clarifications ORDER BY id").fetchall()
        groups: dict[str, dict] = {}
        for choices, chosen, question, _ in rows:
            g = groups.setdefault(choices, {"count": 0, "chosen": {}, "question": question})
            g["count"] += 1
            g["question"] = question
            if chosen:
                g["chosen"][chosen] = g["chosen"].get(chosen, 0) + 1
        ranked = sorted(groups.items(), key=lambda kv: -kv[1]["count"])[:limit]
        return [Confusion(tuple(c.split(",")), g["count"], g["chosen"], g["question"]) for c, g in ranked]

    def gaps(self, limit: int = 50) -> list[Gap]:
        """Unanswered questions and 👎 answers, most frequent first."""
        conn = self._db.connect()
        rows = conn.execute(
            "SELECT question, COUNT(*), MAX(created_at) FROM unanswered GROUP BY question ORDER BY COUNT(*) DESC, MAX(created_at) DESC LIMIT ?",
            (limit,),
        ).fetchall()
        gaps = [Gap("unanswered", q, n, t) for q, n, t in rows]
        rows = conn.execute(
            "SELECT f.question, COUNT(*), MAX(f.created_at), f.cited, "
            "(SELECT c.comment FROM feedback_comments c JOIN feedback g ON g.answer_id = c.answer_id AND g.user_id = c.user_id "
            " WHERE g.verdict = 'down' AND g.question = f.question AND g.cited = f.cited ORDER BY c.created_at DESC LIMIT 1) "
            "FROM feedback f WHERE f.verdict = 'down' "
            "GROUP BY f.question, f.cited ORDER BY COUNT(*) DESC, MAX(f.created_at) DESC LIMIT ?",
            (limit,),
        ).fetchall()
        gaps += [Gap("down", q, n, t, c, comment or "") for q, n, t, c, comment in rows]
        return gaps

    def counts(self) -> dict[str, int]:
        conn = self._db.connect()
        up, down = (conn.execute("SELECT COUNT(*) FROM feedback WHERE verdict = ?", (v,)).fetchone()[0] for v in ("up", "down"))
        return {"unanswered": conn.execute("SELECT COUNT(*) FROM unanswered").fetchone()[0], "up": up, "down": down}
