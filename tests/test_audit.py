"""The audit log over real requests, its append-only rules, and `hideki usage`."""
from __future__ import annotations

import csv
import io
import time

import pytest

from hideki.state.audit import AuditLog, AuditRecord, usage
from hideki.cli.main import main
from hideki.state.db import PostgresDatabase
from hideki.state.stores import Database
from tests.support import activities as A


async def test_every_answer_is_audited_without_content_unless_enabled(start_bot, connector, model):
    bot = await start_bot(llm_base_url=model.base_url, llm_model="gpt-4o-mini")
    await bot.post(A.personal_message(connector.url, "会議室の予約方法を教えて"))
    await bot.post(A.channel_message(connector.url, "ヘルプ"))  # a command: not a pipeline call
    await bot.drain()
    [row] = bot.parts.audit.rows()
    assert (row["pipeline"], row["model"], row["outcome"], row["user_name"], row["aad_object_id"]) == (
        "chat", "gpt-4o-mini", "ok", "砧 太郎", "aad-staff-2")
    assert row["tokens_in"] > 0 and row["tokens_out"] > 0 and row["llm_calls"] == 1 and row["latency_ms"] >= 0
    assert row["content"] is None and row["tenant_id"] == "tenant-1" and row["correlation_id"]


async def test_content_is_kept_only_when_enabled_and_offline_answers_are_marked(start_bot, connector):
    bot = await start_bot(audit_store_content=True)
    await bot.post(A.personal_message(connector.url, "こんにちは"))
    await bot.drain()
    [row] = bot.parts.audit.rows()
    assert row["content"] == "こんにちは" and row["outcome"] == "offline" and row["model"] == ""


def test_the_log_is_append_only_and_content_expires(db):
    log = AuditLog(db, store_content=True, content_retention_days=1)
    log.record(AuditRecord("c1", "u", "n", "aad", "t", "", "", "conv", "chat", "gpt-4o", 10, 5, content="秘密", at=time.time() - 2 * 86400))
    conn = db.connect()
    with pytest.raises(db.Error, match="append-only"):
        conn.execute("UPDATE audit SET tokens_in = 0")
    with pytest.raises(db.Error, match="append-only"):
        conn.execute("UPDATE audit SET content = 'changed'")
    log.record(AuditRecord("c2", "u", "n", "aad", "t", "", "", "conv", "chat", "gpt-4o", 1, 1, content="新しい"))
    with pytest.raises(db.Error, match="retention"):
        conn.execute("DELETE FROM audit WHERE correlation_id = 'c2'")
    assert log.purge() == (1, 0)  # the old row's content is cleared; rows are kept for five years
    assert [r["content"] for r in log.rows()] == [None, "新しい"]
    assert [r["correlation_id"] for r in AuditLog(db).rows()] == ["c1", "c2"]  # a second replica opens the same log


def test_rows_past_retention_are_deleted_and_postgres_refuses_truncate(db):
    log = AuditLog(db, retention_days=1)
    log.record(AuditRecord("old", "u", "n", "aad", "t", "", "", "conv", "chat", "", at=time.time() - 3 * 86400))
    log.record(AuditRecord("new", "u", "n", "aad", "t", "", "", "conv", "chat", ""))
    assert log.purge() == (0, 1)
    assert [r["correlation_id"] for r in log.rows()] == ["new"]
    if db.dialect == "postgres":
        with pytest.raises(db.Error, match="append-only"):
            db.connect().execute("TRUNCATE audit")


def test_usage_groups_and_estimates_cost():
    rows = [
        {"user_name": "砧 太郎", "aad_object_id": "a1", "user_id": "u1", "pipeline": "chat", "model": "gpt-4o-mini",
         "tokens_in": 1_000_000, "tokens_out": 1_000_000, "at": 1_764_000_000.0, "pii": '{"phone": 1}'},
        {"user_name": "世田谷 花子", "aad_object_id": "a2", "user_id": "u2", "pipeline": "minutes", "model": "gpt-4o-2024-08-06",
         "tokens_in": 2_000_000, "tokens_out": 0, "at": 1_764_000_000.0, "pii": "{}"},
    ]
    prices = {"gpt-4o-mini": (22.5, 90.0), "gpt-4o": (375.0, 1500.0)}
    by_department = usage(rows, "department", {"a1": "情報政策課"}, prices)
    assert by_department == [
        {"department": "情報政策課", "requests": 1, "tokens_in": 1_000_000, "tokens_out": 1_000_000, "cost_yen": 112.5, "pii_findings": 1},
        {"department": "（未設定）", "requests": 1, "tokens_in": 2_000_000, "tokens_out": 0, "cost_yen": 750.0, "pii_findings": 0},
    ]
    assert [r["pipeline"] for r in usage(rows, "pipeline", {}, prices)] == ["chat", "minutes"]
    from hideki.state.audit import cost_of
    assert cost_of("gpt-4o-mini-prod", 1_000_000, 0, prices) == 22.5  # the longest matching name wins


def test_hideki_usage_cli_prints_and_exports_csv(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HIDEKI_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "departments.csv").write_text("aad_object_id,department\naad-1,防災課\n", encoding="utf-8")
    log = AuditLog(Database(tmp_path / "hideki.db"))
    for _ in range(3):
        log.record(AuditRecord("c", "u", "防災 一郎", "aad-1", "t", "", "", "conv", "yasashii", "gpt-4o-mini", 1000, 500))
    assert main(["usage", "--by", "department"]) == 0
    out = capsys.readouterr().out
    assert "防災課\t3\t3000\t1500\t0.2" in out and out.splitlines()[-2].startswith("合計\t3")
    target = tmp_path / "usage.csv"
    assert main(["usage", "--by", "user", "--csv", str(target)]) == 0
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    assert rows == [{"user": "防災 一郎", "requests": "3", "tokens_in": "3000", "tokens_out": "1500", "cost_yen": "0.2", "pii_findings": "0"}]
    assert main(["usage", "--month", "2026/11"]) == 2


def test_hideki_usage_reads_the_shared_database(tmp_path, monkeypatch, capsys, postgres_url):
    monkeypatch.setenv("HIDEKI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HIDEKI_DATABASE_URL", postgres_url)
    monkeypatch.chdir(tmp_path)
    log = AuditLog(PostgresDatabase(postgres_url))  # written by a replica
    for pipeline in ("chat", "qa"):
        log.record(AuditRecord("c", "u", "n", "aad-1", "t", "", "", "conv", pipeline, "gpt-4o-mini", 1000, 500))
    assert main(["usage", "--by", "pipeline"]) == 0
    out = capsys.readouterr().out
    assert "chat\t1\t1000\t500" in out and "qa\t1\t1000\t500" in out
    assert not (tmp_path / "hideki.db").exists()
