"""サービスデスク: answers to staff ICT questions from the FAQ, with citations; FAQ management for admins.

Offline, the best entry's answer is shown verbatim with its source and up to three related questions as
buttons. With a model, the answer is written only from the retrieved entries (passed as quoted data) and
cites them as [1], [2]; an answer without a valid citation is replaced by the verbatim FAQ answer. Under the
calibrated score threshold the bot says plainly that the FAQ has no answer, gives the helpdesk contact and
logs the question for admins (`hideki faq gaps`, `@Hideki FAQ状況`). Every answer asks for 👍/👎 (Teams' own feedback
controls or card buttons; a comment given with it is kept for the gap report).
In a 1:1 chat an admin can send an Excel/CSV file: the bot shows what would change and applies it on 反映.
"""
from __future__ import annotations

import asyncio
import json
import re
from pathlib import PurePath

from channels.base import (Action, Attachment, Button, Feedback, Partial, Pipeline, PipelineContext, Reply, Request, Source,
                           offline_note)
from hideki.llm.gateway import LLMError
from hideki.metrics import FEEDBACK
from knowledge.entries import Entry, ImportResult
from knowledge.importers import read_source, validation_report
from knowledge.store import KnowledgeBase, KnowledgeError

NO_ANSWER = "FAQ には、この質問に当てはまる回答が見つかりませんでした。\n\nお手数ですが、{contact} にお問い合わせください。"
NO_CORPUS = "FAQ がまだ登録されていません。管理者が FAQ を登録するまで、{contact} にお問い合わせください。"
UNGROUNDED = "⚠️ 生成AIの回答に FAQ の出典がなかったため、FAQ の回答をそのまま表示しています。"
_CITATION = re.compile(r"\[(\d+)\]")
SEARCHING = "FAQ を検索しています…"


def _unless_no_answer(sink: Partial) -> Partial:
    """`sink` for a streamed answer, except the model's NO_ANSWER signal, which is never shown."""
    async def shown(text: str) -> None:
        start = text.lstrip()[:len("NO_ANSWER")]
        if not "NO_ANSWER".startswith(start):
            await sink(text)

    return shown


def source_of(number: int, entry: Entry) -> Source:
    """An FAQ entry as the answer's source [number]."""
    return Source(number, entry.question, entry.url, f"{entry.source} {entry.location}".strip(), entry.updated, entry.answer)


def quoted_entries(entries: list[Entry]) -> str:
    """Entries as data for the prompt: JSON strings cannot close the block or pose as instructions."""
    return "\n".join(
        f"[{i}] " + json.dumps({"質問": e.question, "回答": e.answer, "カテゴリ": e.category, "URL": e.url}, ensure_ascii=False)
        for i, e in enumerate(entries, 1)
    )


class ServiceDeskPipeline(Pipeline):
    name = "servicedesk"
    title = "サービスデスク"
    description = "ICT に関する質問に、FAQ を根拠として出典付きで答えます。"
    example = "パスワードを忘れました"
    prompts = {"system": ("contact",), "user": ("entries", "question")}
    max_input_chars = 2_000
    file_types = (".csv", ".xlsx")  # in a 1:1 chat, admins send FAQ files to import

    def __init__(self, context: PipelineContext) -> None:
        self._prompts = context.prompts
        self._results = context.results
        self._feedback = context.feedback
        self._admins = set(context.admins)
        self._contact = context.helpdesk_contact
        self.knowledge: KnowledgeBase | None = context.knowledge

    # --- questions ----------------------------------------------------------------------------------------
    async def run(self, request: Request) -> Reply:
        if request.attachments:
            return await self._preview_import(request)
        question = request.text.strip()
        if self.knowledge is None or self.knowledge.current_version() is None:
            return Reply(NO_CORPUS.format(contact=self._contact), remember=False)
        await request.progress(SEARCHING)
        index = await asyncio.to_thread(self.knowledge.index)
        hits = await asyncio.to_thread(index.search, question, 5)
        if not hits or not index.answerable(hits):
            self._feedback.unanswered(question, request.user.aad_object_id or request.user.id, hits[0].score if hits else None)
            return Reply(NO_ANSWER.format(contact=self._contact), remember=False)
        strong = [h.entry for h in hits if index.answerable([h])] or [hits[0].entry]
        if request.llm is None:
            return self._verbatim(question, strong[0], hits, [offline_note()])
        try:
            completion = await request.llm.complete(
                [
                    {"role": "system", "content": self._prompts.render("system", contact=self._contact)},
                    {"role": "user", "content": self._prompts.render("user", entries=quoted_entries(strong[:3]), question=question)},
                ],
                on_text=_unless_no_answer(request.stream) if request.stream else None,
            )
        except LLMError as error:
            return self._verbatim(question, strong[0], hits, [offline_note(error)])
        text = completion.text.strip()
        if text.startswith("NO_ANSWER"):
            self._feedback.unanswered(question, request.user.aad_object_id or request.user.id, hits[0].score)
            return Reply(NO_ANSWER.format(contact=self._contact), usage=completion.usage, remember=False)
        used = sorted({int(n) for n in _CITATION.findall(text) if 1 <= int(n) <= len(strong[:3])})
        if not used:
            reply = self._verbatim(question, strong[0], hits, [UNGROUNDED])
            reply.usage = completion.usage
            return reply
        cited = [strong[n - 1] for n in used]
        answer_id = self._results.save(self.name, "answer", json.dumps({"question": question, "cited": [e.id for e in cited]}))
        return Reply(
            text,
            sources=[source_of(n, strong[n - 1]) for n in used],
            feedback=Feedback(self.action_name("feedback"), answer_id),
            related=self._related([h.entry for h in hits if h.entry not in cited][:3]),
            usage=completion.usage,
            remember=False,
            model_written=True,
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
        return "\n".join(lines)


def _read(attachment: Attachment) -> ImportResult:
    return read_source(data=attachment.data, name=PurePath(attachment.name).name)
