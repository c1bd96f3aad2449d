"""The FAQ retrieval index: real Chroma on disk, real offline embedders (USE, e5), hand-written ICT helpdesk entries."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from knowledge.embeddings import DenseField, DenseFields, E5Embedder, EmbeddingError, offline_fields
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


class Counting:
    """Counts of the texts every field's embedder is asked to embed."""

    def __init__(self, fields: DenseFields):
        self.wrapped = [CountingEmbedder(f.embedder) for f in fields.fields]
        self.fields = DenseFields([replace(f, embedder=w) for f, w in zip(fields.fields, self.wrapped)])

    @property
    def passages(self) -> int:
        return sum(w.passages for w in self.wrapped)


@pytest.fixture(scope="module")
def use() -> DenseFields:
    """The offline fields, as shipped (USE on the question; e5 on the question and the answer's start)."""
    return offline_fields()


@pytest.fixture(scope="module")
def built(tmp_path_factory, use):
    root = tmp_path_factory.mktemp("kb")
    embedder = Counting(use)
    cache = VectorCache(root / "vectors.sqlite")
    index = Index.build(root / "v1", entries(), embedder.fields, cache)
    return root, embedder, cache, index


@pytest.mark.parametrize("field", ["use", "e5"])
def test_embedder_vectors_are_normalised(use, field):
    embedder = use.get(field).embedder
    v = embedder.embed(["VPNにつながらない", "プリンターの紙詰まり"], "query")
    assert v.shape == (2, embedder.dim) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)


@pytest.mark.parametrize("query, expected", [
    ("パスワードを思い出せない", "pw-reset"),
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
    expected = use.primary.embedder.embed([FAQ[12][1]], "passage")[0]
    assert np.allclose(np.asarray(got["embeddings"][0]), expected, atol=1e-4)


def test_incremental_rebuild_embeds_only_changed_entries(built):
    root, embedder, cache, _ = built
    changed = entries()
    changed[3] = replace(changed[3], question="在宅勤務のVPN利用を申し込むには？")
    changed.append(Entry(id="new", question="内線電話の転送設定を知りたい。", answer="受話器を上げて転送ボタンを押します。"))
    before = embedder.passages
    index = Index.build(root / "v2", changed, embedder.fields, cache)
    assert embedder.passages - before == 2 * 2  # the question of the changed and the new entry, in both fields
    assert index.search("在宅勤務でVPNを使う申し込み", k=1)[0].entry.id == "vpn-apply"
    before = embedder.passages
    Index.build(root / "v3", changed, embedder.fields, cache)
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


@pytest.mark.parametrize("query, expected", [
    ("Teams会議でカメラが映らない", ["teams-camera"]),
    ("怪しいメールの添付を開いてしまった", ["phishing"]),
    ("パスワードがわからなくなった", None),  # forgotten or expired: two entries fit equally, so it asks
    ("日本で一番高い山は何ですか", []),
])
def test_decide_answers_asks_back_or_declines(built, query, expected):
    _, _, _, index = built
    decision = index.decide(index.search(query, k=5))
    if expected is None:
        assert decision.action == "clarify" and {"pw-reset", "pw-expire"} <= set(decision.ids)
        assert len(decision.ids) == 3
    else:
        assert decision.action == ("answer" if expected else "decline") and decision.ids == expected


class Failing:
    """An embedder that is down (or returns bad vectors): every call raises EmbeddingError."""

    name = "endpoint:down"
    dim = 8

    def embed(self, texts, kind):
        raise EmbeddingError("埋め込みエンドポイントに接続できませんでした（テスト）。")


def test_a_field_that_fails_is_left_out_whole_and_the_others_rank(tmp_path, use):
    fields = DenseFields([*use.fields, DenseField("endpoint", Failing(), 0.4)])
    index = Index.build(tmp_path / "v1", entries(), fields, VectorCache(tmp_path / "vectors.sqlite"))
    assert set(index.missing_fields) == {"endpoint"} and "接続できません" in index.missing_fields["endpoint"]
    assert not (tmp_path / "v1" / "field-endpoint.npy").exists()
    reopened = Index.open(tmp_path / "v1", fields)
    assert reopened.search("パスワードを思い出せない", k=1)[0].entry.id == "pw-reset"


def test_e5_batches_split_over_engines_give_the_one_engine_vectors(use):
    texts = [q + "\n" + a[:50] for _, q, a in FAQ]
    one = E5Embedder(workers=1).embed(texts, "passage")
    two = use.get("e5").embedder.embed(texts, "passage")  # the shipped embedder: two engines on batches
    assert use.get("e5").embedder._workers == 2
    assert two.shape == one.shape and np.allclose(one, two, atol=1e-5)
    assert np.allclose(two[:1], use.get("e5").embedder.embed(texts[:1], "passage"), atol=1e-5)  # a query's path


def test_the_e5_field_embeds_the_question_and_the_start_of_the_answer(built, use):
    root, _, _, _ = built
    e5 = use.get("e5")
    assert e5.answer_chars == 50 and e5.text("質問", "回答" * 40) == "質問\n" + ("回答" * 40)[:50]
    meta = Index.open(root / "v1", use).meta
    assert meta["fields"]["e5"]["text"] == "question+answer[:50]" and meta["fields"]["use"]["text"] == "question"
    stored = np.load(root / "v1" / "field-e5.npy").astype(np.float32)
    pw = [i for i, (key, _, _) in enumerate(FAQ) if key == "pw-reset"][0]
    expected = e5.embedder.embed([e5.text(FAQ[pw][1], FAQ[pw][2])], "passage")[0]
    assert np.allclose(stored[pw], expected, atol=2e-3)  # float16 on disk


def test_a_field_built_from_other_texts_is_not_mixed_in(built, use, tmp_path):
    """A version whose e5 vectors embed the question only (an earlier release) does not rank with them."""
    question_only = DenseFields([use.get("use"), replace(use.get("e5"), answer_chars=0)])
    Index.build(tmp_path / "v1", entries(), question_only)
    index = Index.open(tmp_path / "v1", use)
    assert set(index.missing_fields) == {"e5"}
    assert set(index.search("VPNにつながらない", k=1)[0].cosines) == {"use"}


def test_a_shared_version_embeds_again_a_local_field_its_cache_lacks(tmp_path, use):
    """Server mode: vectors come from the shared cache. After a release changes what a local field embeds the
    cache lacks them: the local model embeds them again; an endpoint's field is left out instead."""
    from knowledge.index import local_chroma_client

    client = local_chroma_client(tmp_path)
    cache = VectorCache(tmp_path / "vectors.sqlite")
    names = {"questions": "v1-questions"}
    Index.build_in(client, names, entries(), DenseFields([use.get("use"), replace(use.get("e5"), answer_chars=0)]),
                   cache)
    counting = Counting(use)
    endpoint = DenseField("endpoint", Failing(), 0.4)
    index = Index.open_in(client, names, entries(), DenseFields([*counting.fields.fields, endpoint]), cache)
    assert counting.wrapped[0].passages == 0 and counting.wrapped[1].passages == len(FAQ)  # e5 only, once
    assert set(index.missing_fields) == {"endpoint"}
    assert index.search("家からVPNがつながらない", k=1)[0].entry.id == "vpn-connect"


@pytest.mark.parametrize("text, nouns", [
    ("印刷できない、紙詰まりではない", ["紙詰まり"]),
    ("紙詰まりじゃないのに印刷できない", ["紙詰まり"]),
    ("VPNではなく無線LANにつながらない", ["vpn"]),
    ("市役所以外で住民票を取れる所はありますか", []),  # 以外 asks for alternatives, whose entries name 市役所
    ("ログインできない", []),
    ("Teamsで会議を予約したい", []),
])
def test_negated_finds_what_a_question_says_it_is_not_about(text, nouns):
    from knowledge.lexical import negated

    assert negated(text) == nouns


def test_a_question_that_negates_the_best_entry_is_not_answered_with_it(built):
    _, _, _, index = built
    hits = index.search("プリンターの紙詰まりではないのに印刷できない", k=5)
    assert hits[0].entry.id == "printer-jam" and hits[0].negated  # the ranking does not see the negation
    decision = index.decide(hits)
    assert decision.action == "clarify" and decision.ids[0] != "printer-jam"
    assert index.decide(index.search("プリンターで紙詰まりが起きた", k=5)).ids == ["printer-jam"]


def test_an_answer_needs_every_signal_to_rank_the_entry_first(built):
    _, _, _, index = built
    hits = index.search("Teams会議でカメラが映らない", k=5)
    assert hits[0].votes == hits[0].signals == 3 and index.decide(hits).action == "answer"
    split = [replace(hits[0], votes=2), *hits[1:]]
    assert index.decide(split).action == "clarify"
    with_endpoint = [replace(hits[0], votes=3, signals=4), *hits[1:]]  # an added field must agree too
    assert index.decide(with_endpoint).action == "clarify"
