"""The stores of hideki/state/stores.py on both engines, and two replicas (two Database objects) sharing PostgreSQL."""
from __future__ import annotations

from hideki.state.stores import BindingStore, FeedbackStore, MemoryStore, ResultStore


def test_bindings_and_channel_names_are_shared(opener):
    a, b = BindingStore(opener()), BindingStore(opener())
    a.set("19:x@thread.tacv2", "yasashii", "aad-admin")
    assert b.get("19:x@thread.tacv2").pipeline == "yasashii"
    b.set("19:x@thread.tacv2", "qa", "aad-admin-2")
    assert (a.get("19:x@thread.tacv2").pipeline, a.get("19:x@thread.tacv2").set_by) == ("qa", "aad-admin-2")
    assert a.remove("19:x@thread.tacv2") and not b.remove("19:x@thread.tacv2") and a.get("19:x@thread.tacv2") is None
    a.remember_name("19:x", "総務課")
    b.remember_name("19:x", "総務課（新）")
    assert a.name_of("19:x") == "総務課（新）" and a.name_of("19:y") is None


def test_memory_keeps_order_budget_and_retention(opener):
    a, b = MemoryStore(opener()), MemoryStore(opener())
    a.append("conv", "user", "一つ目", 10)
    b.append("conv", "assistant", "答え一", 10)
    a.append("conv", "user", "二つ目", 10)
    b.append("conv", "assistant", "答え二", 10)
    a.append("other", "user", "別の会話", 1)
    assert [t.content for t in b.recent("conv", 40)] == ["一つ目", "答え一", "二つ目", "答え二"]
    assert [t.content for t in b.recent("conv", 30)] == ["二つ目", "答え二"]  # never starts with an answer
    assert a.purge(older_than_days=1) == 0
    assert b.clear("conv") == 4 and a.recent("conv", 100) == [] and len(a.recent("other", 100)) == 1
    assert a.purge(older_than_days=-1) == 1


def test_results_and_feedback(opener):
    results = ResultStore(opener())
    rid = results.save("yasashii", "html", "<ruby>漢<rt>かん</rt></ruby>")
    assert ResultStore(opener()).get(rid, "yasashii") == ("html", "<ruby>漢<rt>かん</rt></ruby>")
    assert results.get(rid, "qa") is None and results.get("unknown", "yasashii") is None
    a, b = FeedbackStore(opener()), FeedbackStore(opener())
    a.unanswered("VPNがつながらない", "u1", 0.2)
    b.unanswered("VPNがつながらない", "u2", None)
    a.vote("ans-1", "down", "印刷できない", ["faq-3", "faq-9"], "u1")
    b.vote("ans-1", "up", "印刷できない", ["faq-3", "faq-9"], "u1")  # the same user changes their mind
    b.vote("ans-1", "down", "印刷できない", ["faq-3", "faq-9"], "u2")
    assert a.counts() == {"unanswered": 2, "up": 1, "down": 1}
    gaps = b.gaps()
    assert [(g.kind, g.question, g.count, g.cited) for g in gaps] == [
        ("unanswered", "VPNがつながらない", 2, ""), ("down", "印刷できない", 1, "faq-3,faq-9")]
    assert all(isinstance(g.last_at, float) for g in gaps)
