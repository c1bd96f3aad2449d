"""FAQ management: versions, atomic switch, rollback, history, and the `hideki faq` CLI."""
from __future__ import annotations

import csv
import io
import threading
from pathlib import Path

import pytest

from hideki.cli.main import main
from knowledge import index as index_module
from knowledge.embeddings import offline_fields
from knowledge.entries import Entry
from knowledge.store import KnowledgeBase, plan
from tests.support import activities as A
from tests.test_servicedesk import ADMIN, HEADER, faq_file, final  # noqa: F401 (faq_file is a fixture)

FAQ = (
    "id,質問,回答,カテゴリ,キーワード,URL,更新日\n"
    "ict-001,パスワードを忘れました,ポータルの「パスワード再設定」から再設定してください。,アカウント,パスワード、忘れた,,2025-04-01\n"
    "ict-002,VPNにつながりません,テレワーク端末を再起動し、VPNクライアントで再接続してください。,リモートワーク,VPN,,2025-05-01\n"
    ",回答だけの行,,,,,\n"
    "ict-003,プリンターで両面印刷するには,印刷画面の「両面印刷」にチェックを入れてください。,印刷・複合機,両面,,2025-06-01\n"
    "ict-004,VPNにつながりません,重複した質問です。,リモートワーク,,,\n"
)


def entry(i: str, question: str, answer: str = "回答", source: str = "a.csv") -> Entry:
    return Entry(id=i, question=question, answer=answer, source=source)


def test_plan_sync_merge_and_replace():
    current = [entry("1", "一"), entry("2", "二"), entry("3", "三", source="b.csv")]
    incoming = [entry("1", "一", "新しい回答"), entry("4", "四")]
    _, sync = plan(current, incoming, "sync")
    assert ([e.id for e in sync.added], [n.id for _, n in sync.updated], [e.id for e in sync.removed]) == (["4"], ["1"], ["2"])
    _, merge = plan(current, incoming, "merge")
    assert merge.removed == []
    result, replace = plan(current, incoming, "replace")
    assert sorted(e.id for e in replace.removed) == ["2", "3"] and sorted(e.id for e in result) == ["1", "4"]


@pytest.fixture(scope="module")
def embedder():
    return offline_fields()


def test_a_crash_mid_import_leaves_the_old_version_answering(tmp_path, embedder, monkeypatch):
    kb = KnowledgeBase(tmp_path / "kb", lambda: embedder)
    kb.import_entries([entry("1", "パスワードを忘れました"), entry("2", "VPNにつながりません")], "admin")
    assert kb.current_version() == 1

    def crash(directory, *args, **kwargs):
        Path(directory).mkdir(parents=True)
        (Path(directory) / "half-written").write_text("…")
        raise KeyboardInterrupt  # the process is stopped mid-build

    monkeypatch.setattr(index_module.Index, "build", crash)
    with pytest.raises(KeyboardInterrupt):
        kb.import_entries([entry("3", "プリンターで両面印刷するには")], "admin", mode="merge")
    monkeypatch.undo()
    assert kb.current_version() == 1 and kb.versions() == [1]
    assert not list((tmp_path / "kb" / "versions").glob(".building-*"))
    assert kb.search("パスワード", 1)[0].entry.id == "1"
    reopened = KnowledgeBase(tmp_path / "kb", lambda: embedder)  # as after a restart
    assert reopened.current_version() == 1


def test_rollback_serves_an_earlier_version_and_history_records_everything(tmp_path, embedder):
    kb = KnowledgeBase(tmp_path / "kb", lambda: embedder)
    kb.import_entries([entry("1", "パスワードを忘れました")], "admin-a", "first.csv")
    kb.import_entries([entry("2", "VPNにつながりません")], "admin-b", "second.csv", mode="replace")
    assert [e.id for e in kb.entries()] == ["2"]
    assert kb.search("パスワード", 1)[0].entry.id == "2"
    change = kb.rollback(1, "admin-c")
    assert (len(change.added), len(change.removed)) == (1, 1)
    assert [e.id for e in kb.entries()] == ["1"] and kb.search("パスワードを忘れた", 1)[0].entry.id == "1"
    assert [(h["action"], h["who"], h["version"]) for h in kb.history()] == [
        ("import", "admin-a", 1), ("import", "admin-b", 2), ("rollback", "admin-c", 1)]


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    monkeypatch.setenv("HIDEKI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)  # no .env from the project
    faq = tmp_path / "faq.csv"
    faq.write_text(FAQ, encoding="utf-8-sig")
    return faq


def test_cli_on_an_empty_knowledge_base_says_how_to_fill_it(cli_env, capsys):
    assert main(["faq", "list"]) == 1
    assert "hideki faq import" in capsys.readouterr().err
    assert main(["faq", "search", "VPN"]) == 1
    assert "サンプル FAQ" in capsys.readouterr().err


def test_cli_import_reports_bad_rows_and_still_imports_the_good_ones(cli_env, capsys):
    assert main(["faq", "import", str(cli_env), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "行 4" in out and "行 6" in out and "追加 3件" in out and "--dry-run" in out
    assert main(["faq", "import", str(cli_env), "--who", "admin"]) == 0
    assert "FAQ を更新しました（版 1）: 追加 3件" in capsys.readouterr().out
    assert main(["faq", "list"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "ict-001\tアカウント\tパスワードを忘れました", "ict-002\tリモートワーク\tVPNにつながりません",
        "ict-003\t印刷・複合機\tプリンターで両面印刷するには"]
    assert main(["faq", "show", "ict-003"]) == 0
    assert "回答: 印刷画面の「両面印刷」にチェックを入れてください。" in capsys.readouterr().out
    assert main(["faq", "show", "nope"]) == 1


def test_cli_search_remove_export_history_rollback_gaps(cli_env, capsys, tmp_path):
    main(["faq", "import", str(cli_env), "--who", "admin"])
    capsys.readouterr()
    assert main(["faq", "search", "VPN 接続できない"]) == 0
    assert capsys.readouterr().out.splitlines()[0].split()[3] == "ict-002"
    assert main(["faq", "remove", "ict-001", "--who", "admin"]) == 0
    assert "削除 1件" in capsys.readouterr().out
    exported = tmp_path / "export.csv"
    assert main(["faq", "export", "-o", str(exported)]) == 0
    rows = list(csv.DictReader(io.StringIO(exported.read_text(encoding="utf-8-sig"))))
    assert [r["id"] for r in rows] == ["ict-002", "ict-003"] and rows[0]["回答"].startswith("テレワーク端末")
    capsys.readouterr()
    assert main(["faq", "import", str(exported), "--mode", "replace", "--who", "admin"]) == 0  # round trip
    assert "追加 0件・更新 2件・削除 0件" in capsys.readouterr().out  # same entries, now from export.csv
    assert main(["faq", "history"]) == 0
    history = capsys.readouterr().out.splitlines()
    assert "import" in history[0] and "remove" in history[1]
    assert main(["faq", "rollback", "1", "--who", "admin"]) == 0
    assert "版 1 に戻しました" in capsys.readouterr().out
    assert main(["faq", "rollback", "99"]) == 1
    assert main(["faq", "gaps"]) == 0
    assert "ありません" in capsys.readouterr().out


def test_prune_deletes_old_versions_but_never_the_serving_one(tmp_path, embedder, capsys, monkeypatch):
    kb = KnowledgeBase(tmp_path / "knowledge", lambda: embedder)  # where the CLI finds it with HIDEKI_DATA_DIR below
    kb.import_entries([entry("1", "パスワードを忘れました")], "admin")
    kb.import_entries([entry("2", "VPNにつながりません")], "admin", mode="merge")
    kb.import_entries([entry("3", "プリンターで両面印刷するには")], "admin", mode="merge")
    kb.rollback(1, "admin")
    assert kb.prune(1) == [2]
    assert kb.versions() == [1, 3] and not (tmp_path / "knowledge" / "versions" / "0002").exists()
    assert kb.search("パスワードを忘れた", 1)[0].entry.id == "1"
    monkeypatch.setenv("HIDEKI_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)  # no .env from the project
    assert main(["faq", "prune", "--keep", "1"]) == 0
    assert "削除する古い版はありません。" in capsys.readouterr().out
    assert main(["faq", "prune", "--keep", "0"]) == 1


def test_while_a_new_version_opens_or_cannot_be_opened_the_old_one_answers(tmp_path, embedder, monkeypatch):
    kb = KnowledgeBase(tmp_path / "kb", lambda: embedder)
    kb.import_entries([entry("1", "パスワードを忘れました")], "admin")
    old = kb.index()
    kb.import_entries([entry("2", "VPNにつながりません")], "admin", mode="replace")
    opening, release = threading.Event(), threading.Event()
    open_index = kb.catalog.open_index

    def slow_open(version, embedder):
        opening.set()
        release.wait(120)
        return open_index(version, embedder)

    monkeypatch.setattr(kb.catalog, "open_index", slow_open)
    loader = threading.Thread(target=kb.index)
    loader.start()
    assert opening.wait(120)
    assert kb.index() is old  # not blocked behind the thread opening version 2
    release.set()
    loader.join()
    assert kb.search("VPNにつながらない", 1)[0].entry.id == "2"

    kb.import_entries([entry("3", "プリンターで両面印刷するには")], "admin", mode="replace")
    def unreachable(version, embedder):
        raise OSError("the vector store is unreachable")

    monkeypatch.setattr(kb.catalog, "open_index", unreachable)
    assert kb.search("VPNにつながらない", 1)[0].entry.id == "2"  # version 3 could not be opened: still version 2
    monkeypatch.undo()
    assert kb.search("プリンターで両面印刷", 1)[0].entry.id == "3"  # and the next query opens it


async def test_a_teams_import_that_lost_a_race_says_so_and_changes_nothing(start_bot, connector, faq_file, monkeypatch):
    from knowledge.store import ConcurrentChange

    bot = await start_bot(faq_seed=str(faq_file), admins=[ADMIN])
    url = connector.file_url("faq.csv", (HEADER + "ict-101,新しいPCの初期設定,手順書に従ってください。,,,,\n").encode())
    await bot.post(A.personal_message(connector.url, "", aad=ADMIN, attachments=[A.file_attachment("faq.csv", url)]))
    await bot.drain()
    apply = final(connector)["attachments"][0]["content"]["actions"][0]
    kb = bot.parts.registry.get("servicedesk").knowledge
    before = [e.id for e in kb.entries()]

    def lost_race(*args, **kwargs):
        raise ConcurrentChange()

    monkeypatch.setattr(kb, "import_entries", lost_race)
    press = A.personal_message(connector.url, "", aad=ADMIN)
    press.update(text=None, value=apply["data"])
    await bot.post(press)
    await bot.drain()
    text = final(connector)["text"]
    assert "ほかの操作が先に FAQ を更新したため、反映しませんでした" in text and "FAQ はそのままです" in text
    assert "問い合わせ番号" not in text and [e.id for e in kb.entries()] == before


def test_cli_gaps_lists_the_entries_the_bot_asked_back_about_and_what_was_chosen(cli_env, capsys):
    from hideki.settings import load_settings
    from hideki.state.db import open_database
    from hideki.state.stores import FeedbackStore

    main(["faq", "import", str(cli_env), "--who", "admin"])
    store = FeedbackStore(open_database(load_settings()))
    store.clarified("印刷もVPNもだめ", ["ict-003", "ict-002"], "u1")
    store.chose("印刷もVPNもだめ", ["ict-003", "ict-002"], "ict-002", "u1")
    store.clarified("印刷もVPNもだめ", ["ict-003", "ict-002"], "u2")
    capsys.readouterr()
    assert main(["faq", "gaps"]) == 0
    [line] = [l for l in capsys.readouterr().out.splitlines() if l.startswith("聞き返し")]
    assert line == ("聞き返し\t2\t「プリンターで両面印刷するには」 ⇄ 「VPNにつながりません」"
                    "（2回、選択: VPNにつながりません 1、例: 印刷もVPNもだめ）")
    assert main(["faq", "search", "VPN 接続できない"]) == 0
    assert "ボットの対応:" in capsys.readouterr().out


def test_an_faq_indexed_by_an_earlier_release_is_indexed_again_at_start(tmp_path, embedder):
    import json

    from knowledge.startup import reindex_if_outdated

    kb = KnowledgeBase(tmp_path / "kb", lambda: embedder)
    kb.import_entries([entry("1", "パスワードを忘れました"), entry("2", "VPNにつながりません")], "admin")
    meta_path = tmp_path / "kb" / "versions" / "0001" / "index" / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta_path.write_text(json.dumps({**meta, "format": 2}), encoding="utf-8")  # as an earlier release wrote it
    restarted = KnowledgeBase(tmp_path / "kb", lambda: embedder)
    reindex_if_outdated(restarted)
    assert restarted.current_version() == 2 and [h["action"] for h in restarted.history()] == ["import", "reindex"]
    assert [e.id for e in restarted.entries()] == ["1", "2"]
    assert restarted.search("VPNがつながらない", 1)[0].entry.id == "2"
