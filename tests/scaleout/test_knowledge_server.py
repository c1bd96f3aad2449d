"""The FAQ shared by replicas: versions in a real PostgreSQL, vectors on a real Chroma server (both on loopback)."""
from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest
from chromadb.api.models.Collection import Collection

from hideki.cli.main import main
from hideki.state.db import open_database
from hideki.settings import Settings
from hideki.state.stores import FeedbackStore
from knowledge import index as index_module
from knowledge import database
from knowledge.embeddings import offline_fields
from knowledge.entries import Entry
from knowledge.importers import read_source
from knowledge.startup import open_and_seed_knowledge_base
from knowledge.store import ConcurrentChange, KnowledgeBase, KnowledgeError
from knowledge.database import DatabaseCatalog, chroma_client, open_database_catalog

SAMPLE = Path(__file__).resolve().parents[2] / "knowledge" / "samples" / "ict_helpdesk_faq.csv"
QUESTIONS = ["VPNにつながらない", "パスワードを忘れてしまった", "プリンターで両面印刷したい", "Teams会議を録画するには",
             "共有フォルダーのファイルを消してしまった"]


def entry(i: str, question: str, answer: str = "回答") -> Entry:
    return Entry(id=i, question=question, answer=answer, source="a.csv")


FIRST = [entry("1", "パスワードを忘れました"), entry("2", "VPNにつながりません"), entry("3", "プリンターで両面印刷するには")]


@pytest.fixture(scope="module")
def embedder():
    return offline_fields()


@pytest.fixture
def prefix() -> str:
    return f"t{uuid.uuid4().hex[:12]}"  # collections of this test only, on the session's Chroma server


@pytest.fixture
def settings(tmp_path, postgres_url, chroma_url, prefix) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=postgres_url, chroma_url=f"{chroma_url}?prefix={prefix}",
                    faq_seed="")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def replica(settings: Settings, embedder, clock=None) -> KnowledgeBase:
    """What one bot process opens: its own connections to the shared database and Chroma server."""
    return KnowledgeBase(open_database_catalog(settings), lambda: embedder, **({"clock": clock} if clock else {}))


def server_collections(settings: Settings, prefix: str) -> dict[str, int]:
    client, _ = chroma_client(settings.chroma_url)
    return {c.name: c.count() for c in client.list_collections() if c.name.startswith(prefix)}


def test_the_cli_imports_into_the_servers_and_search_answers_as_on_disk(tmp_path, settings, prefix, embedder,
                                                                         monkeypatch, capsys):
    monkeypatch.setenv("HIDEKI_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("HIDEKI_DATABASE_URL", settings.database_url.get_secret_value())
    monkeypatch.setenv("HIDEKI_CHROMA_URL", settings.chroma_url)
    assert main(["faq", "import", str(SAMPLE), "--who", "admin-a"]) == 0
    assert "版 1" in capsys.readouterr().out
    assert not (settings.data_dir / "knowledge").exists()  # nothing of the FAQ on the machine itself
    assert server_collections(settings, prefix) == {f"{prefix}-v000001-questions": 131}

    assert main(["faq", "list"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 131
    assert main(["faq", "history"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("* 版 1") and "import" in line and "admin-a" in line and "追加 131" in line
    FeedbackStore(open_database(settings)).unanswered("庁舎の駐車場は何台ですか", "aad-staff-1", 0.2)
    assert main(["faq", "gaps"]) == 0
    assert "未回答\t1\t庁舎の駐車場は何台ですか" in capsys.readouterr().out

    on_disk = KnowledgeBase(tmp_path / "disk", lambda: embedder)
    on_disk.import_entries(read_source(SAMPLE).entries, "admin-a")
    server = replica(settings, embedder)
    expected = [on_disk.search(q, 1)[0].entry.id for q in QUESTIONS]
    assert [server.search(q, 1)[0].entry.id for q in QUESTIONS] == expected
    monkeypatch.setattr(index_module, "EXACT_MAX", 0)  # dense candidates from the Chroma server's own queries
    assert [replica(settings, embedder).search(q, 1)[0].entry.id for q in QUESTIONS] == expected


def test_a_replica_serves_what_another_imported_once_it_asks_again(settings, embedder):
    a = replica(settings, embedder)
    clock = Clock()
    b = replica(settings, embedder, clock)
    assert b.search("パスワード", 1) == []
    a.import_entries(FIRST, "admin-a")
    clock.now += database.POLL_S
    assert b.current_version() == 1 and b.search("パスワードを忘れた", 1)[0].entry.id == "1"

    a.remove(["1"], "admin-a")
    assert b.search("パスワードを忘れた", 1)[0].entry.id == "1"  # version 1 until B asks again
    clock.now += database.POLL_S
    assert b.current_version() == 2 and "1" not in {h.entry.id for h in b.search("パスワードを忘れた", 3)}
    assert [e.id for e in b.entries()] == ["2", "3"]


def test_rollback_from_one_replica_is_served_by_all(settings, embedder):
    a, b = replica(settings, embedder), replica(settings, embedder)
    a.import_entries(FIRST, "admin-a", "first.csv")
    a.import_entries([entry("4", "Teams会議を録画するには")], "admin-b", "second.csv", mode="replace")
    assert b.search("パスワードを忘れた", 1)[0].entry.id == "4"
    change = b.rollback(1, "admin-c")
    assert (len(change.added), len(change.removed)) == (3, 1)
    assert a.current_version() == 1 and a.search("パスワードを忘れた", 1)[0].entry.id == "1"
    assert [(h["action"], h["who"], h["version"]) for h in a.history()] == [
        ("import", "admin-a", 1), ("import", "admin-b", 2), ("rollback", "admin-c", 1)]
    with pytest.raises(KnowledgeError, match="版 7 はありません"):
        a.rollback(7, "admin-c")


def test_an_import_that_fails_half_way_through_the_collection_leaves_the_serving_version(settings, prefix, embedder,
                                                                                      monkeypatch):
    a = replica(settings, embedder)
    a.import_entries(FIRST, "admin-a")
    upsert = Collection.upsert

    def half_then_fail(self, ids, embeddings, metadatas):
        half = len(ids) // 2
        upsert(self, ids=ids[:half], embeddings=embeddings[:half], metadatas=metadatas[:half])
        raise KeyboardInterrupt  # the import is stopped with half the vectors on the server

    monkeypatch.setattr(Collection, "upsert", half_then_fail)
    with pytest.raises(KeyboardInterrupt):
        a.import_entries([entry("4", "Teams会議を録画するには"), entry("5", "メールが届きません")], "admin-a",
                         mode="merge")
    monkeypatch.undo()

    b = replica(settings, embedder)
    assert (b.current_version(), b.versions()) == (1, [1])
    assert b.search("パスワードを忘れた", 1)[0].entry.id == "1" and len(b.entries()) == 3
    assert server_collections(settings, prefix) == {f"{prefix}-v000001-questions": 3}  # the half-built one is gone
    assert [h["version"] for h in b.history()] == [1]


def test_an_import_killed_before_the_switch_is_never_served_and_is_cleaned_up_later(settings, prefix, embedder,
                                                                                 monkeypatch):
    a = replica(settings, embedder)
    a.import_entries(FIRST, "admin-a")
    def killed(self, version, base, record):
        raise KeyboardInterrupt  # the process stops between building a version and switching to it

    monkeypatch.setattr(DatabaseCatalog, "switch", killed)
    with pytest.raises(KeyboardInterrupt):
        a.import_entries([entry("4", "Teams会議を録画するには")], "admin-a", mode="merge")
    monkeypatch.undo()

    b = replica(settings, embedder)
    assert (b.current_version(), b.versions()) == (1, [1])
    assert b.search("Teams会議を録画", 1)[0].entry.id != "4"
    assert set(server_collections(settings, prefix)) == {f"{prefix}-v000001-questions", f"{prefix}-v000002-questions"}

    monkeypatch.setattr(database, "STALE_BUILD_S", 0.0)
    version, _ = b.import_entries([entry("5", "メールが届きません")], "admin-b", mode="merge")
    assert version == 3 and b.versions() == [1, 3]
    assert set(server_collections(settings, prefix)) == {f"{prefix}-v000001-questions", f"{prefix}-v000003-questions"}


def test_a_change_planned_on_an_old_version_is_refused_and_its_build_discarded(settings, prefix, embedder):
    a, b = replica(settings, embedder), replica(settings, embedder)
    a.import_entries(FIRST, "admin-a")
    built = b.catalog.publish([entry("9", "古い版から作った変更")], embedder, None)  # B planned on version 1 …
    a.remove(["3"], "admin-a")  # … while A switched to a newer one
    with pytest.raises(ConcurrentChange):
        b.catalog.switch(built, 1, {"action": "import"})
    assert (built, a.current_version(), a.versions()) == (2, 3, [1, 3])
    assert set(server_collections(settings, prefix)) == {f"{prefix}-v000001-questions", f"{prefix}-v000003-questions"}
    assert [h["version"] for h in a.history()] == [1, 3]


def test_prune_drops_old_versions_with_their_collections(settings, prefix, embedder, monkeypatch, capsys):
    a = replica(settings, embedder)
    a.import_entries(FIRST, "admin-a")
    a.remove(["3"], "admin-a")
    a.remove(["2"], "admin-a")
    a.rollback(1, "admin-a")  # version 1 serves: pruning keeps it
    monkeypatch.setenv("HIDEKI_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("HIDEKI_DATABASE_URL", settings.database_url.get_secret_value())
    monkeypatch.setenv("HIDEKI_CHROMA_URL", settings.chroma_url)
    assert main(["faq", "prune", "--keep", "1"]) == 0
    assert "古い版を削除しました: 2" in capsys.readouterr().out
    assert a.versions() == [1, 3]
    assert set(server_collections(settings, prefix)) == {f"{prefix}-v000001-questions", f"{prefix}-v000003-questions"}
    with pytest.raises(KnowledgeError, match="版 2 はありません"):
        a.rollback(2, "admin-a")
    assert a.search("パスワードを忘れた", 1)[0].entry.id == "1"


def test_a_chroma_server_that_lost_a_collection_gets_it_back_from_the_database(settings, prefix, embedder):
    replica(settings, embedder).import_entries(FIRST, "admin-a")
    client, _ = chroma_client(settings.chroma_url)
    client.delete_collection(f"{prefix}-v000001-questions")  # e.g. the Chroma server restored empty
    assert replica(settings, embedder).search("VPNにつながらない", 1)[0].entry.id == "2"
    assert server_collections(settings, prefix) == {f"{prefix}-v000001-questions": 3}


def test_without_a_chroma_server_each_replica_fills_its_own_chroma_from_the_shared_database(tmp_path, postgres_url,
                                                                                         embedder):
    a = replica(Settings(data_dir=tmp_path / "a", database_url=postgres_url, faq_seed=""), embedder)
    b = replica(Settings(data_dir=tmp_path / "b", database_url=postgres_url, faq_seed=""), embedder)
    a.import_entries(FIRST, "admin-a")
    assert b.search("VPNにつながらない", 1)[0].entry.id == "2"
    assert b.catalog.client.get_collection("hideki-v000001-questions").count() == 3


def test_chroma_urls_give_the_server_and_the_collection_prefix(chroma_url):
    client, prefix = chroma_client(f"{chroma_url}?prefix=city-a")
    assert prefix == "city-a" and client.heartbeat() > 0
    assert chroma_client(chroma_url)[1] == "hideki"
    with pytest.raises(ValueError, match="HIDEKI_CHROMA_URL"):
        chroma_client("127.0.0.1:8000")
    with pytest.raises(ValueError, match="prefix"):
        DatabaseCatalog(None, None, "-bad")


def test_with_sqlite_and_a_chroma_server_versions_switch_and_conflicts_are_refused(tmp_path, chroma_url, prefix,
                                                                                  embedder):
    settings = Settings(data_dir=tmp_path / "data", chroma_url=f"{chroma_url}?prefix={prefix}", faq_seed="")
    a, b = replica(settings, embedder), replica(settings, embedder)
    assert a.catalog.db.dialect == "sqlite"
    a.import_entries(FIRST, "admin-a")
    built = b.catalog.publish([entry("9", "古い版から作った変更")], embedder, None)
    a.remove(["3"], "admin-a")
    with pytest.raises(ConcurrentChange):
        b.catalog.switch(built, 1, {"action": "import"})
    b.rollback(1, "admin-b")
    assert (a.current_version(), a.versions()) == (1, [1, 3])
    assert a.search("プリンターで両面印刷", 1)[0].entry.id == "3"


def test_replicas_starting_together_seed_the_sample_faq_once(tmp_path, settings, embedder, monkeypatch):
    seed = tmp_path / "seed.csv"
    seed.write_text("id,質問,回答\nict-001,パスワードを忘れました,再設定してください。\n", encoding="utf-8")
    settings = settings.model_copy(update={"faq_seed": str(seed)})
    monkeypatch.setattr("knowledge.startup.dense_fields", lambda settings: embedder)
    both_planned = threading.Barrier(2, timeout=120)
    publish = DatabaseCatalog.publish

    def publish_once_both_planned(self, *args):
        both_planned.wait()  # both replicas saw no FAQ and decided to seed it
        return publish(self, *args)

    monkeypatch.setattr(DatabaseCatalog, "publish", publish_once_both_planned)
    opened: list[KnowledgeBase] = []
    starts = [threading.Thread(target=lambda: opened.append(open_and_seed_knowledge_base(settings))) for _ in range(2)]
    for start in starts:
        start.start()
    for start in starts:
        start.join()
    assert len(opened) == 2
    serving = opened[0].catalog.current_version()
    assert opened[0].versions() == [serving] and [h["version"] for h in opened[0].history()] == [serving]
    assert [kb.search("パスワードを忘れた", 1)[0].entry.id for kb in opened] == ["ict-001", "ict-001"]
