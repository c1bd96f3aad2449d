"""The audit log: who asked what of which pipeline, when, with which model, at what cost — append-only.

Rows can be added, and removed only once they are older than the retention period; message content is
stored only when enabled, and cleared after its own (shorter) retention. Triggers enforce both, in SQLite and
in PostgreSQL (where TRUNCATE is refused too), so the log stays append-only even for code that tries otherwise.
"""
from __future__ import annotations

import csv
import io
import json
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

from hideki.state.db import Database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at              REAL NOT NULL,
    correlation_id  TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    user_name       TEXT NOT NULL,
    aad_object_id   TEXT NOT NULL,
    tenant_id       TEXT NOT NULL,
    team_id         TEXT NOT NULL,
    channel_id      TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    pipeline        TEXT NOT NULL,
    model           TEXT NOT NULL,
    tokens_in       INTEGER NOT NULL,
    tokens_out      INTEGER NOT NULL,
    llm_calls       INTEGER NOT NULL,
    latency_ms      INTEGER NOT NULL,
    outcome         TEXT NOT NULL,
    pii             TEXT NOT NULL,
    content         TEXT
);
CREATE INDEX IF NOT EXISTS audit_by_time ON audit (at);
CREATE TABLE IF NOT EXISTS audit_policy (
    id                  INTEGER PRIMARY KEY CHECK (id = 1),
    retention_s         REAL NOT NULL,
    content_retention_s REAL NOT NULL
);
"""
_COLUMNS = ("at", "correlation_id", "user_id", "user_name", "aad_object_id", "tenant_id", "team_id", "channel_id",
            "conversation_id", "pipeline", "model", "tokens_in", "tokens_out", "llm_calls", "latency_ms", "outcome", "pii")
_APPEND_ONLY = "the audit log is append-only"
_KEPT = "audit rows are kept for the retention period"
# the only update allowed: clearing the content
_CHANGED = " OR ".join(["NEW.content IS NOT NULL"] + [f"NEW.{c} IS NOT OLD.{c}" for c in _COLUMNS])
_SQLITE_TRIGGERS = f"""
CREATE TRIGGER IF NOT EXISTS audit_retention BEFORE DELETE ON audit
WHEN OLD.at > CAST(strftime('%s', 'now') AS REAL) - (SELECT retention_s FROM audit_policy WHERE id = 1)
BEGIN SELECT RAISE(ABORT, '{_KEPT}'); END;
CREATE TRIGGER IF NOT EXISTS audit_append_only BEFORE UPDATE ON audit WHEN {_CHANGED}
BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END;
"""
_POSTGRES_TRIGGERS = f"""
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF {_CHANGED.replace(" IS NOT ", " IS DISTINCT FROM ")} THEN RAISE EXCEPTION '{_APPEND_ONLY}'; END IF;
    RETURN NEW;
END $$;
CREATE OR REPLACE FUNCTION audit_retention() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.at > EXTRACT(EPOCH FROM clock_timestamp()) - (SELECT retention_s FROM audit_policy WHERE id = 1) THEN
        RAISE EXCEPTION '{_KEPT}';
    END IF;
    RETURN OLD;
END $$;
CREATE OR REPLACE FUNCTION audit_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION '{_APPEND_ONLY}'; END $$;
CREATE OR REPLACE TRIGGER audit_append_only BEFORE UPDATE ON audit FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE OR REPLACE TRIGGER audit_retention BEFORE DELETE ON audit FOR EACH ROW EXECUTE FUNCTION audit_retention();
CREATE OR REPLACE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit FOR EACH STATEMENT EXECUTE FUNCTION audit_no_truncate();
"""


@dataclass
class AuditRecord:
    correlation_id: str
    user_id: str
    user_name: str
    aad_object_id: str
    tenant_id: str
    team_id: str
    channel_id: str
    conversation_id: str
    pipeline: str
    model: str
    tokens_in: int = 0
    tokens_out: int = 0
    llm_calls: int = 0
    latency_ms: int = 0
    outcome: str = "ok"  # ok, offline, fallback, error, refused
    pii: Mapping[str, int] = field(default_factory=dict)  # category -> count found (never the values)
    content: str | None = None
    at: float = 0.0


class AuditLog:
    def __init__(self, db: Database, store_content: bool = False, retention_days: float = 1825, content_retention_days: float = 30) -> None:
        self._db = db
        self.store_content = store_content
        db.ensure_schema(_SCHEMA + (_POSTGRES_TRIGGERS if db.dialect == "postgres" else _SQLITE_TRIGGERS))
        db.connect().execute(
            "INSERT INTO audit_policy VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET "
            "retention_s = excluded.retention_s, content_retention_s = excluded.content_retention_s",
            (retention_days * 86400, content_retention_days * 86400),
        )

    def record(self, record: AuditRecord) -> None:
        values = asdict(record)
        values["at"] = record.at or time.time()
        values["pii"] = json.dumps(dict(record.pii), ensure_ascii=False)
        if not self.store_content:
            values["content"] = None
        columns = ", ".join(values)
        self._db.connect().execute(f"INSERT INTO audit ({columns}) VALUES ({', '.join('?' * len(values))})", tuple(values.values()))

    def purge(self) -> tuple[int, int]:
        """Clear content past its retention and delete rows past theirs. Returns (contents cleared, rows deleted)."""
        conn = self._db.connect()
        retention_s, content_s = conn.execute("SELECT retention_s, content_retention_s FROM audit_policy").fetchone()
        now = time.time()
        cleared = conn.execute("UPDATE audit SET content = NULL WHERE content IS NOT NULL AND at < ?", (now - content_s,)).rowcount
        deleted = conn.execute("DELETE FROM audit WHERE at < ?", (now - retention_s - 1,)).rowcount
        return cleared, deleted

    def rows(self, since: float = 0, until: float | None = None) -> list[dict]:
        conn = self._db.connect()
        cursor = conn.execute("SELECT * FROM audit WHERE at >= ? AND at < ? ORDER BY id", (since, until or time.time() + 1))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]


# --- usage reports --------------------------------------------------------------------------------------

# Estimated prices in yen per million tokens (input, output); edit [prices] in the settings file.
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o": (375.0, 1500.0),
    "gpt-4o-mini": (22.5, 90.0),
    "gpt-4.1": (300.0, 1200.0),
    "gpt-4.1-mini": (60.0, 240.0),
    "gpt-4.1-nano": (15.0, 60.0),
}


def load_departments(path: Path) -> dict[str, str]:
    """A CSV exported from the directory: columns aad_object_id (or user), department."""
    if not path.exists():
        return {}
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        return {(row.get("aad_object_id") or row.get("user") or "").strip(): (row.get("department") or "").strip() for row in reader}


def cost_of(model: str, tokens_in: int, tokens_out: int, prices: Mapping[str, tuple[float, float]]) -> float:
    # exact name, else the longest listed name the model starts with (gpt-4o-mini-prod is gpt-4o-mini, not gpt-4o)
    price = prices.get(model) or next(
        (prices[name] for name in sorted(prices, key=len, reverse=True) if model.startswith(name)), (0.0, 0.0)
    )
    return (tokens_in * price[0] + tokens_out * price[1]) / 1_000_000


def usage(rows: Iterable[dict], by: str, departments: Mapping[str, str], prices: Mapping[str, tuple[float, float]]) -> list[dict]:
    """Requests, tokens and estimated cost grouped by user, department, pipeline or month."""
    groups: dict[str, dict] = defaultdict(lambda: {"requests": 0, "tokens_in": 0, "tokens_out": 0, "cost_yen": 0.0, "pii_findings": 0})
    for row in rows:
        if by == "user":
            key = row["user_name"] or row["aad_object_id"] or row["user_id"]
        elif by == "department":
            key = departments.get(row["aad_object_id"]) or departments.get(row["user_name"]) or "（未設定）"
        elif by == "pipeline":
            key = row["pipeline"]
        elif by == "month":
            key = time.strftime("%Y-%m", time.localtime(row["at"]))
        else:
            raise ValueError(f"unknown grouping {by!r}")
        g = groups[key]
        g["requests"] += 1
        g["tokens_in"] += row["tokens_in"]
        g["tokens_out"] += row["tokens_out"]
        g["cost_yen"] += cost_of(row["model"], row["tokens_in"], row["tokens_out"], prices)
        g["pii_findings"] += sum(json.loads(row["pii"] or "{}").values())
    return [{by: key, **values, "cost_yen": round(values["cost_yen"], 2)} for key, values in sorted(groups.items())]


def to_csv(report: list[dict]) -> str:
    if not report:
        return ""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(report[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(report)
    return out.getvalue()
