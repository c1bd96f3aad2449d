"""The FAQ retrieval index: real Chroma on disk, real offline embedder, hand-written ICT helpdesk entries."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from knowledge.embeddings import USEEmbedder
from knowledge.entries import Entry
from knowledge.index import Index, VectorCache

FAQ = [
    ("pw-reset", "パスワードを忘れてしまいました。どうすれば再設定できますか？",
     "ログイン画面の「パスワードを忘れた場合」から再設定できます。できない場合は情報政策課へ連絡してください。"),
    ("pw-expire", "パスワードの有効期限が切れたと表示されます。",
     "有効期限は90日です。新しいパスワードを設定してください。過去3回と同じものは使えません。"),
    ("vpn-connect", "自宅からVPNに接続できません。",
     "VPNクライアントを再起動し、ワンタイムパスワードを確認してください。それでも接続できない場合は回線を確認します。"),
    ("vpn-apply", "テレワーク用のVPNの利用申請はどうすればいいですか？",
     "所属長の承認を得て、庁内ポータルの申請フォームから申請してください。"),
    ("printer-jam", "プリンターで紙詰まりが起きました。",
     "前面カバーを開け、詰まった用紙をゆっくり引き抜いてください。無理に引っ張らないでください。"),
    ("printer-add", "新しい複合機をパソコンに追加したい。",
     "スタートメニューの設定からプリンターとスキャナーを開き、デバイスを追加してください。"),
    ("teams-meeting", "Teamsで会議を予約する方法を教えてください。",
     "Teamsの予定表から新しい会議を選び、参加者と日時を入力して送信します。"),
    ("teams-camera", "Teams会議でカメラが映りません。",
     "デバイス設定でカメラが選ばれているか確認し、他のアプリがカメラを使っていないか確かめてください。"),
    ("mail-capacity", "メールボックスの容量がいっぱいです。",
     "不要なメールや添付ファイルを削除し、削除済みアイテムを空にしてください。"),
    ("mail-attachment", "大きなファイルをメールで送れません。",
     "添付ファイルの上限は10MBです。大きなファイルはファイル共有サービスを使ってください。"),
    ("wifi", "庁内のWi-Fiにつながりません。",
     "無線LANのSSIDが庁内用になっているか確認し、パソコンを再起動してください。"),
    ("pc-slow", "パソコンの動作が遅いです。",
     "不要なアプリを終了し、再起動してください。改善しない場合はヘルプデスクへ連絡してください。"),
    ("usb", "USBメモリが使えません。",
     "情報セキュリティ規程により、許可された暗号化USBメモリのみ使えます。"),
    ("account-new", "新しく配属された職員のアカウントを作りたい。",
     "人事異動の発令後、所属長が利用者登録申請書を提出してください。"),
    ("shared-folder", "共有フォルダにアクセスできません。",
     "アクセス権の付与は所属長の申請が必要です。ネットワークドライブの割り当ても確認してください。"),
    ("screen-lock", "離席するときの画面ロックの方法は？",
     "WindowsキーとLキーを同時に押すと画面がロックされます。"),
    ("phishing", "不審なメールを開いてしまいました。",
     "LANケーブルを抜き、すぐに情報政策課へ電話で報告してください。添付ファイルは開かないでください。"),
    ("software-install", "業務で使うソフトをインストールしたい。",
     "ソフトウェア導入申請を提出し、情報政策課の許可を得てからインストールしてください。"),
    ("mfa", "多要素認証のスマートフォンを機種変更しました。",
     "認証アプリの再登録が必要です。ヘルプデスクで旧端末の登録を解除します。"),
    ("monitor", "外部モニターに画面が映りません。",
     "ケーブルの接続を確認し、Windowsキーと P キーで表示モードを切り替えてください。"),
]


def entries() -> list[Entry]:
    return [Entry(id=i, question=q, answer=a, source="helpdesk.csv") for i, q, a in FAQ]


class CountingEmbedder:
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self, inner):
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.passages = 0
        self.queries = 0

    def embed(self, texts, kind):
        if kind == "query":
            self.queries += len(texts)
        else:
            self.passages += len(texts)
        return self.inner.embed(texts, kind)


@pytest.fixture(scope="module")
def use() -> USEEmbedder:
    return USEEmbedder()


@pytest.fixture(scope="module")
def built(tmp_path_factory, use):
    root = tmp_path_factory.mktemp("kb")
    embedder = CountingEmbedder(use)
    cache = VectorCache(root / "vectors.sqlite")
    index = Index.build(root / "v1", entries(), embedder, cache)
    return root, embedder, cache, index


def test_embedder_vectors_are_normalised(use):
    v = use.embed(["VPNにつながらない", "プリンターの紙詰まり"], "query")
    assert v.shape == (2, use.dim) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)


@pytest.mark.parametrize("query, expected", [
    ("パスワードがわからなくなった", "pw-reset"),
    ("家からVPNがつながらない", "vpn-connect"),
    ("印刷機に用紙が挟まった", "printer-jam"),
    ("オンライン会議の予定を入れたい", "teams-meeting"),
    ("メールの容量が上限です", "mail-capacity"),
    ("怪しいメールの添付を開いた", "phishing"),
])
def test_paraphrased_queries_find_the_entry_after_reopening(built, use, query, expected):
    root, _, _, _ = built
    reopened = Index.open(root / "v1", use)  # from disk: Chroma + BM25 + entries
    assert len(reopened.entries) == len(FAQ)
    hits = reopened.search(query, k=3)
    assert hits[0].entry.id == expected, [(h.entry.id, round(h.score, 3)) for h in hits]
    assert reopened.answerable(hits)
    assert hits[0].score >= hits[-1].score


def test_chroma_collection_is_on_disk_with_our_vectors(built, use):
    import chromadb
    from chromadb.config import Settings

    root, _, _, _ = built
    client = chromadb.PersistentClient(path=str(root / "v1" / "chroma"), settings=Settings(anonymized_telemetry=False))
    col = client.get_collection("questions")
    assert col.count() == len(FAQ)
    assert col.metadata["hnsw:space"] == "cosine"
    got = col.get(ids=["usb"], include=["embeddings"])
    expected = use.embed([FAQ[12][1]], "passage")[0]
    assert np.allclose(np.asarray(got["embeddings"][0]), expected, atol=1e-4)


def test_incremental_rebuild_embeds_only_changed_entries(built):
    root, embedder, cache, _ = built
    changed = entries()
    changed[3] = replace(changed[3], question="在宅勤務のVPN利用を申し込むには？")
    changed.append(Entry(id="new", question="内線電話の転送設定を知りたい。", answer="受話器を上げて転送ボタンを押します。"))
    before = embedder.passages
    index = Index.build(root / "v2", changed, embedder, cache)
    assert embedder.passages - before == 2 * 2  # question and answer head of the changed and the new entry
    assert index.search("在宅勤務でVPNを使う申し込み", k=1)[0].entry.id == "vpn-apply"
    before = embedder.passages
    Index.build(root / "v3", changed, embedder, cache)
    assert embedder.passages == before


def test_off_topic_query_is_declined(built):
    _, _, _, index = built
    for query in ["日本で一番高い山は何ですか", "徳川家康が江戸幕府を開いたのは何年か"]:
        hits = index.search(query, k=3)
        assert not index.answerable(hits), [(h.entry.id, round(h.score, 3)) for h in hits]


def test_build_refuses_a_non_empty_directory(built, use, tmp_path):
    target = tmp_path / "index"
    target.mkdir()
    (target / "old.txt").write_text("x")
    with pytest.raises(FileExistsError):
        Index.build(target, entries(), use)
    assert not (target / "meta.json").exists()


def test_open_refuses_an_incomplete_index(tmp_path, use):
    (tmp_path / "index").mkdir()
    with pytest.raises(FileNotFoundError):
        Index.open(tmp_path / "index", use)


def test_bm25_forward_index_and_feedback_terms(tmp_path):
    from knowledge.lexical import BM25

    docs = [["住民票", "写し", "交付", "窓口"], ["住民票", "郵送", "請求", "窓口", "窓口"], ["ごみ", "収集", "日"]]
    bm = BM25.build(docs)
    ptr, terms, tfs = bm.forward
    names = list(bm.vocab)
    assert {names[t]: tf for t, tf in zip(terms[ptr[1]:ptr[2]], tfs[ptr[1]:ptr[2]])} == \
        {"住民票": 1, "郵送": 1, "請求": 1, "窓口": 2}
    extra = bm.feedback_terms([1, 0], exclude={"住民票"}, n_terms=3)
    assert extra[0][0] == "窓口" and "住民票" not in dict(extra)
    assert abs(sum(w for _, w in extra) - 1.0) < 1e-6
    bm.save(tmp_path / "lex")
    again = BM25.load(tmp_path / "lex")
    assert again.feedback_terms([1, 0], {"住民票"}, 3) == extra
