"""サービスデスク: answers to staff ICT questions from the FAQ, with citations; FAQ management for admins.

Every question ends in one of three outcomes (knowledge.index.Index.decide):
- answer: offline, the best entry's answer verbatim with its source and up to three related questions;
- clarify: 「次のどれについてですか？」 with 2-3 candidate questions as buttons; a press answers that entry and is
  logged (which entries are confused, which one was meant: `FAQ状況`, `hideki faq gaps`);
- decline: the FAQ has no answer; the helpdesk contact, and the question logged for admins.
With a model and HIDEKI_FAQ_REWRITE, the model first rewrites the question into up to 3 FAQ-style search queries
(a two-part question becomes two); the entries found for each are read together, and a question declined as asked
is answered when a rewritten query finds entries. A rewrite that fails or is unusable is skipped, never shown.
With a model, unless declined, the model reads the best entries (quoted data, instructions inside them are not
followed) and answers from them with [n] citations in fenced JSON, or says none applies, and the bot hands off
to the helpdesk instead of guessing. An unusable answer (no JSON, no citation, a citation of an entry it was not
given) falls back to the offline outcome with a note. Every answer asks for 👍/👎 (Teams' own feedback
controls or card buttons; a comment given with it is kept for the gap report).
In a 1:1 chat an admin can send an Excel/CSV file: the bot shows what would change and applies it on 反映.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePath

from channels.base import (Action, Attachment, Button, Feedback, Pipeline, PipelineContext, Reply, Request, Source,
                           offline_note)
from hideki.llm.gateway import LLMError, Usage
from hideki.metrics import FEEDBACK
from hideki.llm.structured import ModelOutputError, parse_json_answer
from hideki.state.stores import Confusion
from knowledge.entries import Entry, ImportResult
from knowledge.index import Decision, Hit
from knowledge.importers import read_source, validation_report
from knowledge.store import KnowledgeBase, KnowledgeError

log = logging.getLogger(__name__)
NO_ANSWER = "FAQ には、この質問に当てはまる回答が見つかりませんでした。\n\nお手数ですが、{contact} にお問い合わせください。"
NO_CORPUS = "FAQ がまだ登録されていません。管理者が FAQ を登録するまで、{contact} にお問い合わせください。"
UNGROUNDED = "⚠️ 生成AIの回答に FAQ の出典がなかったため、FAQ の回答をそのまま表示しています。"
CLARIFY = "次のどれについてですか？ 当てはまるものを押してください。"
CLARIFY_CAPTION = "どれも違うときは、{contact} にお問い合わせください。"
NOT_A_QUESTION = "質問を文章で書いてください（例:「VPN につながらない」「パスワードを忘れた」）。URL や絵文字だけでは FAQ を探せません。"
MODEL_ENTRIES = 5  # entries the model reads (and the bot searches)
REWRITES = 3  # FAQ-style queries a question may be rewritten into
_CITATION = re.compile(r"\[(\d+)\]")
SEARCHING = "FAQ を検索しています…"
_URL = re.compile(r"(?:https?|ftp)://\S+|www\.\S+", re.I)


def source_of(number: int, entry: Entry) -> Source:
    """An FAQ entry as the answer's source [number]."""
    return Source(number, entry.question, entry.url, f"{entry.source} {entry.location}".strip(), entry.updated, entry.answer)


def quoted_entries(entries: list[Entry]) -> str:
    """Entries as data for the prompt: JSON strings cannot close the block or pose as instructions."""
    return "\n".join(
        f"[{i}] " + json.dumps({"質問": e.question, "回答": e.answer, "カテゴリ": e.category, "URL": e.url}, ensure_ascii=False)
        for i, e in enumerate(entries, 1)
    )


@dataclass(frozen=True)
class Rewrite:
    """The model's FAQ-style queries for a question (empty when it was skipped) and what they cost."""

    queries: list[str]
    usage: Usage | None


def interleaved(rankings: list[list[Hit]]) -> list[Entry]:
    """Entries of several rankings taken in turn (the first of each, then the second …), each once: the question as
    asked leads, and every part of a several-part question gets its best entries read."""
    seen: set[str] = set()
    out: list[Entry] = []
    for rank in range(max((len(r) for r in rankings), default=0)):
        for ranking in rankings:
            if rank < len(ranking) and ranking[rank].entry.id not in seen:
                seen.add(ranking[rank].entry.id)
                out.append(ranking[rank].entry)
    return out


class ServiceDeskPipeline(Pipeline):
    name = "servicedesk"
    title = "サービスデスク"
    description = "ICT に関する質問に、FAQ を根拠として出典付きで答えます。"
    example = "パスワードを忘れました"
    prompts = {"system": ("contact",), "user": ("entries", "question"), "rewrite": ("question",)}
    max_input_chars = 2_000
    file_types = (".csv", ".xlsx")  # in a 1:1 chat, admins send FAQ files to import

    def __init__(self, context: PipelineContext) -> None:
        self._prompts = context.prompts
        self._results = context.results
        self._feedback = context.feedback
        self._admins = set(context.admins)
        self._contact = context.helpdesk_contact
        self._rewrite = context.faq_rewrite
        self.knowledge: KnowledgeBase | None = context.knowledge

    # --- questions ----------------------------------------------------------------------------------------
    async def run(self, request: Request) -> Reply:
        if request.attachments:
            return await self._preview_import(request)
        question = request.text.strip()
        if not has_words(question):
            return Reply(NOT_A_QUESTION, remember=False)
        if self.knowledge is None or self.knowledge.current_version() is None:
            return Reply(NO_CORPUS.format(contact=self._contact), remember=False)
        await request.progress(SEARCHING)
        index = await asyncio.to_thread(self.knowledge.index)
        hits = await asyncio.to_thread(index.search, question, MODEL_ENTRIES)
        decision = index.decide(hits)
        user = request.user.aad_object_id or request.user.id
        read = [h.entry for h in hits]
        rewrite = None
        if request.llm is not None and self._rewrite:
            rewrite = await self._rewritten(request, question)
            found = [await asyncio.to_thread(index.search, q, MODEL_ENTRIES) for q in rewrite.queries]
            if decision.action == "decline":  # as asked it matched nothing; a part of it may
                decision, hits = next(((d, h) for h in found for d in (index.decide(h),) if d.action != "decline"),
                                      (decision, hits))
            read = interleaved([hits, *found])[:MODEL_ENTRIES]
        reply = await self._outcome(request, question, decision, hits, read, user)
        if rewrite is not None and rewrite.usage is not None:
            reply.usage = rewrite.usage + reply.usage if reply.usage is not None else rewrite.usage
        return reply

    async def _outcome(self, request: Request, question: str, decision: Decision, hits, read: list[Entry],
                       user: str) -> Reply:
        if decision.action == "decline":
            return self._decline(question, user, hits)
        warnings = [offline_note()]
        if request.llm is not None:
            try:
                return await self._read_and_answer(request, question, read, user, hits)
            except LLMError as error:
                warnings = [offline_note(error)]
            except ModelOutputError:
                warnings = [UNGROUNDED]
        if decision.action == "clarify":
            return self._clarification(question, decision, user, warnings)
        return self._verbatim(question, hits[0].entry, hits, warnings)

    async def _rewritten(self, request: Request, question: str) -> "Rewrite":
        """FAQ-style search queries for the question (none when the model fails or answers unusably: the question
        as asked is searched anyway, so a rewrite can only add entries)."""
        assert request.llm is not None
        try:
            completion = await request.llm.complete(
                [{"role": "user", "content": self._prompts.render("rewrite", question=question)}])
            data = parse_json_answer(completion.text)
        except (LLMError, ModelOutputError) as error:
            log.info("FAQ question rewrite skipped", extra={"error": str(error)[:200]})
            return Rewrite([], None)
        queries = data.get("queries")
        out: list[str] = []
        for q in queries if isinstance(queries, list) else []:
            q = " ".join(q.split())[:200] if isinstance(q, str) else ""
            if has_words(q) and q != question and q not in out:
                out.append(q)
        return Rewrite(out[:REWRITES], completion.usage)

    async def _read_and_answer(self, request: Request, question: str, entries: list[Entry], user: str,
                               hits) -> Reply:
        """The model reads the best entries (quoted data) and answers from them with citations, or says none
        applies: then the bot hands off to the helpdesk. Raises ModelOutputError when the answer is not usable
        (no JSON, no citation, a citation of an entry it was not given)."""
        assert request.llm is not None
        completion = await request.llm.complete(
            [
                {"role": "system", "content": self._prompts.render("system", contact=self._contact)},
                {"role": "user", "content": self._prompts.render("user", entries=quoted_entries(entries), question=question)},
            ]
        )
        data = parse_json_answer(completion.text)
        if data.get("none_applies") is True:
            reply = self._decline(question, user, hits)
            reply.usage = completion.usage
            return reply
        text = str(data.get("answer") or "").strip()
        cited = {int(n) for n in _CITATION.findall(text)}
        listed = data.get("cited", [])
        if isinstance(listed, list):
            cited |= {n for n in listed if isinstance(n, int) and not isinstance(n, bool)}
        if not text or not cited or any(not 1 <= n <= len(entries) for n in cited):
            raise ModelOutputError(f"citations {sorted(cited)} not within the {len(entries)} entries given")
        used = sorted(cited)
        answer_id = self._results.save(self.name, "answer", json.dumps({"question": question, "cited": [entries[n - 1].id for n in used]}))
        return Reply(
            text,
            sources=[source_of(n, entries[n - 1]) for n in used],
            feedback=Feedback(self.action_name("feedback"), answer_id),
            related=self._related([e for i, e in enumerate(entries, 1) if i not in cited][:3]),
            usage=completion.usage,
            remember=False,
            model_written=True,
        )

    def _decline(self, question: str, user: str, hits) -> Reply:
        """No FAQ entry answers this: hand off to the helpdesk, and record the question for admins."""
        self._feedback.unanswered(question, user, hits[0].confidence if hits else None)
        return Reply(NO_ANSWER.format(contact=self._contact), remember=False)

    def _clarification(self, question: str, decision: Decision, user: str, warnings: list[str]) -> Reply:
        """「次のどれについてですか？」 with the candidate questions as buttons; a press answers that entry."""
        choices = decision.ids
        self._feedback.clarified(question, choices, user)
        data = {"question": question, "choices": ",".join(choices)}
        return Reply(
            CLARIFY,
            buttons=[Button(h.entry.question, self.action_name("choose"), {**data, "entry": h.entry.id})
                     for h in decision.hits],
            caption=CLARIFY_CAPTION.format(contact=self._contact),
            warnings=warnings,
            offline=True,
            remember=False,
        )

    def _verbatim(self, question: str, best: Entry, hits, warnings: list[str]) -> Reply:
        answer_id = self._results.save(self.name, "answer", json.dumps({"question": question, "cited": [best.id]}))
        related = [h.entry for h in hits if h.entry.id != best.id][:3]
        return Reply(
            f"**{best.question}**\n\n{best.answer}",
            sources=[source_of(1, best)],
            feedback=Feedback(self.action_name("feedback"), answer_id),
            related=self._related(related),
            warnings=warnings,
            offline=True,
            remember=False,
        )

    def _related(self, entries: list[Entry]) -> list[Button]:
        """Related FAQ questions as buttons that ask them."""
        return [Button(e.question, self.action_name("ask"), {"question": e.question}) for e in entries]

    # --- buttons and admin actions ---------------------------------------------------------------------------
    async def act(self, action: Action) -> Reply:
        if action.name == "choose":
            return self._chosen(action)
        if action.name == "ask":
            question = str(action.data.get("question", ""))
            if not question.strip():
                return Reply(self.usage_text(), remember=False)
            return await self.run(Request(text=question, user=action.user, place=action.place))
        if action.name == "feedback":
            saved = self._results.get(str(action.data.get("answer", "")), self.name)
            verdict = str(action.data.get("verdict"))
            if saved is None or verdict not in ("up", "down"):
                return Reply("この回答への評価は受け付けられませんでした（保存期間を過ぎています）。", remember=False)
            answer = json.loads(saved[1])
            self._feedback.vote(str(action.data["answer"]), verdict, answer["question"], answer["cited"],
                                action.user.aad_object_id or action.user.id, str(action.data.get("comment", "")))
            FEEDBACK.labels(self.name, verdict, str(action.data.get("via", "card"))).inc()
            return Reply("評価をありがとうございました。FAQ の改善に使います。" if verdict == "up" else
                         "評価をありがとうございました。管理者が FAQ を見直します。", remember=False)
        if not self._is_admin(action.user.aad_object_id):
            return Reply("この操作は管理者だけができます。", remember=False)
        if action.name == "status":
            return Reply(self.status_text(), remember=False)
        if action.name in ("apply", "cancel"):
            saved = self._results.get(str(action.data.get("pending", "")), self.name)
            if saved is None:
                return Reply("この取り込みは見つかりません（保存期間を過ぎたか、すでに処理されています）。", remember=False)
            if action.name == "cancel":
                return Reply("取り込みを取り消しました。FAQ は変わっていません。", remember=False)
            pending = json.loads(saved[1])
            entries = [Entry.from_json(e) for e in pending["entries"]]
            assert self.knowledge is not None
            try:
                version, change = await asyncio.to_thread(
                    self.knowledge.import_entries, entries, action.user.aad_object_id, f"Teams: {', '.join(pending['files'])}"
                )
            except KnowledgeError as exc:  # e.g. another admin or replica changed the FAQ first: nothing applied
                return Reply(f"{exc} FAQ はそのままです。", remember=False)
            if version is None:
                return Reply("変更はありませんでした。FAQ はそのままです。", remember=False)
            return Reply(f"FAQ を更新しました（版 {version}）。{change.summary()}", remember=False)
        return Reply("この操作には対応していません。", remember=False)

    def _chosen(self, action: Action) -> Reply:
        """A press on one of the choices of a clarification: that entry's answer, and the choice logged."""
        entry_id = str(action.data.get("entry", ""))
        entry = self.knowledge.get(entry_id) if self.knowledge is not None else None
        if entry is None:
            return Reply("この FAQ は見つかりませんでした（更新されたか削除されています）。もう一度質問してください。", remember=False)
        question = str(action.data.get("question", ""))
        choices = [c for c in str(action.data.get("choices", "")).split(",") if c]
        self._feedback.chose(question, choices, entry_id, action.user.aad_object_id or action.user.id)
        return self._verbatim(question or entry.question, entry, [], [])

    def _is_admin(self, aad_object_id: str) -> bool:
        return bool(aad_object_id) and aad_object_id in self._admins

    async def _preview_import(self, request: Request) -> Reply:
        if not self._is_admin(request.user.aad_object_id):
            return Reply("FAQ ファイルの取り込みは管理者だけができます。質問は文章で送ってください。", remember=False)
        if self.knowledge is None:
            return Reply("FAQ の保存先が設定されていません。", remember=False)
        results = [await asyncio.to_thread(_read, attachment) for attachment in request.attachments]
        merged = ImportResult([e for r in results for e in r.entries], [p for r in results for p in r.problems])
        report = validation_report(merged)
        if not merged.entries:
            return Reply(f"取り込める FAQ がありませんでした。\n\n```\n{report}\n```", remember=False)
        change = await asyncio.to_thread(self.knowledge.preview, merged.entries)
        files = [a.name for a in request.attachments]
        pending = self._results.save(
            self.name, "pending_import", json.dumps({"files": files, "entries": [e.to_json() for e in merged.entries]}, ensure_ascii=False)
        )
        return Reply(
            f"**FAQ の取り込み内容の確認**（{'、'.join(files)}）\n\n{change.summary()}\n\n```\n{report}\n```\n\n"
            "よければ「反映」を押してください。",
            buttons=[Button("反映", self.action_name("apply"), {"pending": pending}),
                     Button("取り消し", self.action_name("cancel"), {"pending": pending})],
            caption=f"反映すると: {change.summary()}",
            confirm=True,
            remember=False,
        )

    def status_text(self) -> str:
        gaps = self._feedback.gaps(20)
        counts = self._feedback.counts()
        version = self.knowledge.current_version() if self.knowledge else None
        lines = [
            f"**FAQ状況**（版 {version if version is not None else 'なし'}、{len(self.knowledge.entries()) if self.knowledge else 0}件）",
            f"回答できなかった質問: {counts['unanswered']}件 ・ 👍 {counts['up']}件 ・ 👎 {counts['down']}件",
        ]
        unanswered = [g for g in gaps if g.kind == "unanswered"]
        down = [g for g in gaps if g.kind == "down"]
        if unanswered:
            lines += ["", "**回答できなかった質問**（多い順）"] + [f"- {g.question}（{g.count}回）" for g in unanswered[:10]]
        if down:
            lines += ["", "**👎 が付いた回答**"] + [
                f"- {g.question} → {g.cited}（{g.count}件）" + (f"「{g.comment}」" if g.comment else "") for g in down[:10]
            ]
        confusions = self._feedback.confusions(10)
        if confusions:
            lines += ["", "**聞き返した質問**（区別できなかった FAQ の組と、選ばれた回数）"]
            lines += [f"- {confusion_line(c, self._question_of)}" for c in confusions]
        return "\n".join(lines)

    def _question_of(self, entry_id: str) -> str:
        entry = self.knowledge.get(entry_id) if self.knowledge is not None else None
        return entry.question if entry is not None else f"（削除済み {entry_id}）"


def confusion_line(confusion: Confusion, question_of) -> str:
    """「A」⇄「B」（3回、選択: A 2・B 1）: one line of FAQ状況 and `hideki faq gaps`."""
    picked = "・".join(f"{question_of(i)} {n}" for i, n in sorted(confusion.chosen.items(), key=lambda kv: -kv[1]))
    pairs = " ⇄ ".join(f"「{question_of(i)}」" for i in confusion.choices)
    return f"{pairs}（{confusion.count}回" + (f"、選択: {picked}" if picked else "、選択なし") + f"、例: {confusion.last_question}）"


def has_words(text: str) -> bool:
    """Whether a message has something to search for: letters or digits once URLs are taken out (not only a
    URL, emoji or punctuation)."""
    rest = _URL.sub(" ", text)
    return any(unicodedata.category(c)[0] in "LN" for c in rest)


def _read(attachment: Attachment) -> ImportResult:
    return read_source(data=attachment.data, name=PurePath(attachment.name).name)
