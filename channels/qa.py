"""Q&A生成: question/answer pairs from a notice or a manual, as a table and as FAQ-import CSV.

Offline, questions are built from the text's sentences and every answer is a span of it (hideki.qa.generate).
With a model, pairs come from the prompt in prompts/qa/ and are checked locally: a pair whose answer is not
supported by the text, or that repeats another, is dropped and the user is told. An admin can add the
pairs to the service desk's FAQ with one button.
"""
from __future__ import annotations

import asyncio

from channels.base import XLSX_TYPE, Action, Button, OutputFile, Pipeline, PipelineContext, Reply, Request, offline_note
from hideki.documents.files import DocumentError
from hideki.documents.qa_xlsx import qa_xlsx_bytes
from hideki.documents.rewrite import read_document_text
from hideki.llm.gateway import LLMError
from hideki.llm.structured import ModelOutputError, parse_json_answer
from hideki.qa.generate import QAPair, check_pairs, generate_pairs, parse_requested_count, to_faq_csv
from knowledge.importers import read_source

DEFAULT_COUNT = 10
TOO_SHORT = "文章が短すぎて、質問と回答を作れません。お知らせやマニュアルの本文を、数文以上貼り付けてください。"


def split_request(message: str) -> tuple[int, str]:
    """(count, text): a first line like 「20問作って」 sets the count and is not part of the text."""
    first, _, rest = message.strip().partition("\n")
    if rest.strip() and len(first) <= 30 and (count := parse_requested_count(first)) is not None:
        return count, rest.strip()
    return DEFAULT_COUNT, message.strip()


def table(pairs: list[QAPair]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "｜").replace("\n", " ")

    rows = ["| # | 質問 | 回答 |", "|---|---|---|"]
    rows += [f"| {i} | {cell(p.question)} | {cell(p.answer)} |" for i, p in enumerate(pairs, 1)]
    return "\n".join(rows)


class QAPipeline(Pipeline):
    name = "qa"
    title = "Q&A生成"
    description = "お知らせやマニュアルから、FAQ 用の質問と回答の組を作ります（FAQ 取り込み用 CSV 付き）。"
    prompts = {"system": (), "user": ("n", "text")}
    max_input_chars = 30_000

    def __init__(self, context: PipelineContext) -> None:
        self._prompts = context.prompts
        self._results = context.results
        self._admins = set(context.admins)
        self.knowledge = context.knowledge

    async def run(self, request: Request) -> Reply:
        message = request.text
        if request.attachments:  # a notice as a file (`hideki run qa notice.docx`): its text, after a 「20問」 line if any
            attachment = request.attachments[0]
            try:
                document = await asyncio.to_thread(read_document_text, attachment.data, attachment.name)
            except DocumentError as error:
                return Reply(str(error), remember=False)
            message = f"{message.strip()}\n{document}" if message.strip() else document
        count, text = split_request(message)
        warnings: list[str] = []
        pairs: list[QAPair] | None = None
        usage = None
        if request.llm is not None:
            try:
                completion = await request.llm.complete(
                    [{"role": "system", "content": self._prompts.render("system")},
                     {"role": "user", "content": self._prompts.render("user", n=count, text=text)}]
                )
                usage = completion.usage
                pairs, dropped = self._checked(completion.text, text)
                if dropped:
                    warnings.append(f"⚠️ 文章で根拠を確認できない、または重複する {dropped} 組を除きました。")
            except LLMError as error:
                warnings.append(offline_note(error))
            except ModelOutputError:
                warnings.append("⚠️ 生成AIの出力を読み取れなかったため、ローカル処理で作成しました。")
        if pairs is None:
            generated = await asyncio.to_thread(generate_pairs, text, count)
            pairs = list(generated)
            if generated.note:
                warnings.insert(0, f"ℹ️ {generated.note}")
            if not any(w.startswith(("⚠️", "ℹ️ 生成AI")) for w in warnings):
                warnings.append(offline_note())
        if not pairs:
            return Reply(TOO_SHORT, warnings=[w for w in warnings if not w.startswith("ℹ️ 文章")], remember=False)
        pairs = pairs[:count]
        csv_text = to_faq_csv(pairs, "Q&A生成")
        result_id = self._results.save(self.name, "faq_csv", csv_text)
        reply = Reply(
            f"**質問と回答（{len(pairs)}組）**\n\n{table(pairs)}\n\n"
            f"**FAQ 取り込み用 CSV**（サービスデスクの FAQ 形式）\n```csv\n{csv_text.strip()}\n```",
            buttons=[Button("FAQ に追加（管理者）", self.action_name("add_to_faq"), {"result": result_id})],
            caption="管理者は、この Q&A をサービスデスクの FAQ にそのまま追加できます。",
            warnings=warnings,
            offline=request.llm is None or any("ローカル処理" in w for w in warnings),
            model_written=usage is not None and not any("ローカル処理" in w for w in warnings),
            remember=False,
        )
        if usage is not None:
            reply.usage = usage
        data = await asyncio.to_thread(qa_xlsx_bytes, pairs, "Q&A生成")
        reply.files = [OutputFile("Q&A.xlsx", data, XLSX_TYPE, "FAQ 取り込み形式の Excel ファイル")]
        return reply

    def _checked(self, output: str, text: str) -> tuple[list[QAPair], int]:
        raw = parse_json_answer(output).get("pairs") or []
        candidates = [QAPair(str(p.get("question", "")).strip(), str(p.get("answer", "")).strip(), kind="model")
                      for p in raw if isinstance(p, dict)]
        kept: list[QAPair] = []
        for pair in candidates:
            if pair.question and pair.answer and not check_pairs(kept + [pair], text):
                kept.append(pair)
        return kept, len(candidates) - len(kept)

    async def act(self, action: Action) -> Reply:
        if action.name != "add_to_faq":
            return Reply("この操作には対応していません。", remember=False)
        if not action.user.aad_object_id or action.user.aad_object_id not in self._admins:
            return Reply("FAQ への追加は管理者だけができます。CSV をコピーして管理者に渡してください。", remember=False)
        saved = self._results.get(str(action.data.get("result", "")), self.name)
        if saved is None or self.knowledge is None:
            return Reply("この Q&A は保存期間を過ぎたため追加できません。もう一度作ってください。", remember=False)
        result = read_source(data=saved[1].encode("utf-8"), name="Q&A生成.csv")
        version, change = await asyncio.to_thread(
            self.knowledge.import_entries, result.entries, action.user.aad_object_id, "Q&A生成から追加", "merge"
        )
        if version is None:
            return Reply("すでに FAQ にある Q&A です。変更はありません。", remember=False)
        return Reply(f"FAQ に追加しました（版 {version}）。{change.summary()}", remember=False)
