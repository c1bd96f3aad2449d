"""Pipeline definitions in the database (channels.stored) on SQLite and PostgreSQL: versions, history, rollback,
removal; two replicas (two Database objects, two data directories) where an upload applied through one is served by
the other within the poll time, a hand edit is kept until the next upload, and a broken stored version keeps the
previous one."""
from __future__ import annotations

import logging
import threading

import pytest

from channels import RESERVED, build_registry
from channels.base import Action, Attachment, PipelineContext, Place, Request, User
from channels.custom import RECHECK_S, CustomPipelines
from channels.stored import MARKS, DefinitionStore, StoreError, written_version
from channels.upload import DefinitionUpload
from hideki.state.stores import ResultStore
from prompts import PromptLibrary

ADMIN = "aad-admin-1"
EIYAKU = """\
id = "eiyaku"
title = "英訳"
description = "外国人住民向けのやさしい英語にします。"
system = "Translate into plain English."
"""


class Replica:
    """One bot's pipelines: its own data directory and Database object, the shared database behind them."""

    def __init__(self, opener, directory, clock) -> None:
        db = opener()
        self.store = DefinitionStore(db)
        self.directory = directory
        self.context = PipelineContext(results=ResultStore(db), admins=(ADMIN,), custom_pipelines_dir=directory,
                                       definitions=self.store)
        self.registry = build_registry(PromptLibrary(), PipelineContext())
        self.registry.custom = CustomPipelines(directory, RESERVED, self.context, clock=clock)
        self.registry.custom.load()
        self.upload = DefinitionUpload(self.context, RESERVED)

    async def apply(self, toml: str) -> str:
        """Send `toml` as an admin and press 反映; the answer."""
        user = User("u", "管理者", ADMIN)
        place = Place("a:personal", "personal")
        preview = await self.upload.run(Request(text="", user=user, place=place,
                                                attachments=[Attachment("eiyaku.toml", "", toml.encode())]))
        pending = preview.buttons[0].data["pending"]
        reply = await self.upload.act(Action("apply", {"pending": pending}, user, place))
        return reply.text

    def description(self, word: str = "英訳") -> str | None:
        pipeline = self.registry.find(word)
        return None if pipeline is None else pipeline.description


@pytest.fixture
def replicas(opener, tmp_path):
    now = [0.0]
    clock = lambda: now[0]  # noqa: E731

    def later() -> None:
        now[0] += RECHECK_S

    a = Replica(opener, tmp_path / "a" / "pipelines", clock)
    b = Replica(opener, tmp_path / "b" / "pipelines", clock)
    return a, b, later


def test_versions_history_rollback_and_removal(opener):
    store = DefinitionStore(opener())
    assert store.serving() == {} and store.history() == []
    assert store.apply("eiyaku", EIYAKU, "aad-1", "新しい機能「英訳」（eiyaku）を追加しました") == 1
    second = EIYAKU.replace("plain English.", "plain English for residents.")
    assert DefinitionStore(opener()).apply("eiyaku", second, "aad-2", "置き換えました") == 2
    assert store.apply("yoyaku", 'title = "要約"\ndescription = "d"\nsystem = "s"\n', "aad-1", "追加") == 1
    assert store.serving() == {"eiyaku": 2, "yoyaku": 1}
    assert store.rollback("eiyaku", 1, "aad-3") == 3
    assert store.get("eiyaku", 3).definition == EIYAKU and store.serving()["eiyaku"] == 3
    assert store.remove("eiyaku", "aad-3") == 4
    history = DefinitionStore(opener()).history("eiyaku")
    assert [(v.version, v.action, v.who, v.note) for v in history] == [
        (1, "applied", "aad-1", "新しい機能「英訳」（eiyaku）を追加しました"), (2, "applied", "aad-2", "置き換えました"),
        (3, "rolled back", "aad-3", "版 1 に戻しました"), (4, "removed", "aad-3", "削除しました")]
    assert history[3].definition == "" and len(store.history()) == 5
    with pytest.raises(StoreError, match="版 9 はありません"):
        store.rollback("eiyaku", 9, "aad-3")
    with pytest.raises(StoreError, match="版 4 は削除の記録です"):
        store.rollback("eiyaku", 4, "aad-3")
    with pytest.raises(StoreError, match="データベースに保存された定義ではありません"):
        store.remove("eiyaku", "aad-3")  # already removed
    assert store.rollback("eiyaku", 2, "aad-1") == 5 and store.get("eiyaku", 5).definition == second


def test_concurrent_changes_get_distinct_versions(opener):
    stores = [DefinitionStore(opener()) for _ in range(2)]
    errors = []

    def apply_five(store: DefinitionStore) -> None:
        try:
            for n in range(5):
                store.apply("eiyaku", EIYAKU, f"aad-{n}", "")
        except Exception as exc:  # collected: an assertion in a thread would be lost
            errors.append(exc)

    threads = [threading.Thread(target=apply_five, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [v.version for v in stores[0].history("eiyaku")] == list(range(1, 11))
    assert stores[1].serving() == {"eiyaku": 10}


async def test_an_upload_on_one_replica_is_served_by_the_other_within_the_poll_time(replicas):
    a, b, later = replicas
    answer = await a.apply(EIYAKU)
    assert "**英訳**（eiyaku）を反映しました" in answer and "版 1 として保存しました" in answer
    assert (a.directory / "eiyaku" / "pipeline.toml").read_text(encoding="utf-8") == EIYAKU  # the uploader's at once
    assert a.description() is None and b.description() is None  # not looked at again yet
    later()
    assert a.description() == b.description() == "外国人住民向けのやさしい英語にします。"
    assert (b.directory / "eiyaku" / "pipeline.toml").read_text(encoding="utf-8") == EIYAKU
    assert written_version(b.directory, "eiyaku") == 1 and (b.directory / MARKS / "eiyaku").is_file()

    # a hand edit of b's folder is served until the next change in the database
    hand = EIYAKU.replace("外国人住民向けの", "手で直した")
    (b.directory / "eiyaku" / "pipeline.toml").write_text(hand, encoding="utf-8")
    later()
    assert b.description() == "手で直したやさしい英語にします。"
    later()
    assert b.description() == "手で直したやさしい英語にします。"  # not overwritten by the same version
    answer = await a.apply(EIYAKU.replace("やさしい英語", "やさしい英語（第2版）"))
    assert "版 2 として保存しました" in answer
    later()
    assert b.description() == "外国人住民向けのやさしい英語（第2版）にします。"
    [kept] = (b.directory / ".history" / "eiyaku").iterdir()  # the hand edit was kept
    assert (kept / "pipeline.toml").read_text(encoding="utf-8") == hand

    # a rollback anywhere (the CLI's store call) is served everywhere
    assert DefinitionStore(b.store.db).rollback("eiyaku", 1, "aad-admin-2") == 3
    later()
    assert a.description() == b.description() == "外国人住民向けのやさしい英語にします。"
    assert [(v.version, v.action) for v in a.store.history("eiyaku")] == [(1, "applied"), (2, "applied"), (3, "rolled back")]
    assert a.store.history("eiyaku")[1].note == "「英訳」（eiyaku）を置き換えました（変わる項目: description）"

    # a removal takes the pipeline away on every replica; its folder goes to the history
    a.store.remove("eiyaku", "aad-admin-2")
    later()
    assert a.description() is None and b.description() is None
    assert not (b.directory / "eiyaku").exists() and written_version(b.directory, "eiyaku") == 4


async def test_a_broken_stored_version_keeps_the_previous_one(replicas, opener, tmp_path, caplog):
    a, b, later = replicas
    await a.apply(EIYAKU)
    later()
    assert b.description() == "外国人住民向けのやさしい英語にします。"
    caplog.set_level(logging.ERROR, logger="channels.stored")
    a.store.apply("eiyaku", EIYAKU + 'colour = "red"\n', "someone", "checks bypassed")  # as a faulty tool would
    later()
    assert a.description() == b.description() == "外国人住民向けのやさしい英語にします。"
    assert "pipeline.toml（データベースの版 2） の 5 行目: colour: 知らない項目です" in caplog.text
    assert written_version(b.directory, "eiyaku") == 1 and "colour" not in (b.directory / "eiyaku" / "pipeline.toml").read_text()
    # a new replica starts without it (logged), instead of refusing to start
    fresh = Replica(opener, tmp_path / "c" / "pipelines", lambda: 0.0)
    assert fresh.description() is None and "eiyaku" not in fresh.registry.names()
    # the next good version is served everywhere
    a.store.apply("eiyaku", EIYAKU.replace("やさしい英語", "英語"), "aad-admin-1", "直しました")
    later()
    assert a.description() == b.description() == "外国人住民向けの英語にします。"


def test_a_stored_title_that_clashes_with_a_hand_made_folder_is_not_written(replicas, caplog):
    a, b, later = replicas
    folder = b.directory / "honyaku"
    folder.mkdir(parents=True)
    (folder / "pipeline.toml").write_text('title = "英訳"\ndescription = "手で置いた英訳"\nsystem = "s"\n', encoding="utf-8")
    later()
    assert b.description() == "手で置いた英訳"
    a.store.apply("eiyaku", EIYAKU, "aad-admin-1", "追加")
    later()
    assert b.description() == "手で置いた英訳" and not (b.directory / "eiyaku").exists()
    assert "名前「英訳」が" in caplog.text
    assert a.description() == "外国人住民向けのやさしい英語にします。"
