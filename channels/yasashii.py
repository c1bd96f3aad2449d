"""やさしい日本語: rewrite an official text in plain Japanese and put readings on every kanji.

Readings are always computed locally (hideki.japanese.readings). With a model, the rewrite follows the
guideline prompt in prompts/yasashii/, and the local fact checker makes sure every number, date, amount, time,
phone number, URL and proper noun of the input survives (one retry, then a warning naming what is missing).
Offline, the rule-based simplifier does the rewrite and never changes facts.
"""
from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import PurePath

from channels.base import (DOCX_TYPE, Action, Attachment, Button, OutputFile, Pipeline, PipelineContext, Reply, Request,
                           offline_note)
from hideki.documents.blocks import blocks_from_text, blocks_to_document
from hideki.documents.files import DocumentError
from hideki.documents.rewrite import MAX_CHARS as MAX_DOCUMENT_CHARS
from hideki.documents.rewrite import TOO_LONG as DOCUMENT_TOO_LONG
from hideki.documents.rewrite import DocumentRewrite, RewriteReport, document_bytes, read_document, simplify_unit
from hideki.documents.word_ruby import add_ruby
from hideki.japanese import furigana
from hideki.japanese.eras import to_western
from hideki.japanese.facts import Fact, missing_facts, strip_readings
from hideki.japanese.readings import ReadingEngine
from hideki.japanese.sentences import split_sentences
from hideki.japanese.simplify import Simplifier
from hideki.llm.gateway import LLMClient, LLMError, Usage

PART_CHARS = 2_000  # the model rewrites one part at a time

ALREADY_PLAIN = "ℹ️ この文章はすでにやさしい日本語に近いため、書き換えずに読み仮名だけを付けました。"
GUESSED = ("🔎 読みが推定の語（人名・辞書にない語）: {words}。正しい読みか確かめてください。"
           "よく使う語は、管理者が読みの辞書に登録できます。")
GUESSED_SHOWN = 10
_KIND_NAMES = {
    "number": "数字", "date": "日付", "amount": "金額", "time": "時刻", "phone": "電話番号",
    "url": "URL", "email": "メールアドレス", "proper_noun": "固有名詞",
}
DOCUMENT_DONE = ("「{name}」をやさしい日本語に書き換え、漢字にルビを付けた Word 文書を作りました"
                 "（{paragraphs} 段落のうち {rewritten} 段落を書き換えました）。")
PREVIEW_CHARS = 400  # of the rewritten document, with readings, in the chat answer
_RUBY = re.compile(r"<rt>.*?</rt>|</?ruby>|</?rp>|<rp>.*?</rp>", re.S)
_FENCE = re.compile(r"^```[a-z]*\n|\n```$")


def describe_facts(facts: list[Fact]) -> str:
    return "、".join(f"{_KIND_NAMES.get(f.kind, f.kind)}「{f.text}」" for f in facts)


def clean_model_output(text: str) -> str:
    """Drop readings and ruby the model wrote (ours are added later) and code fences around the text."""
    text = _FENCE.sub("", text.strip())
    text = _RUBY.sub("", text)
    return strip_readings(text).strip()


def parts_of(text: str, limit: int = PART_CHARS) -> list[str]:
    """Parts of at most about `limit` characters, cut between paragraphs (or sentences, in a huge paragraph)."""
    units: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        block = block.strip()
        if block:
            units.extend([block] if len(block) <= limit else split_sentences(block))
    parts: list[list[str]] = []
    size = 0
    for unit in units:
        if parts and size + len(unit) <= limit:
            parts[-1].append(unit)
            size += len(unit)
        else:
            parts.append([unit])
            size = len(unit)
    return ["\n\n".join(part) for part in parts]


@dataclass
class Rewrite:
    text: str
    usage: Usage
    missing: list[Fact]


class YasashiiPipeline(Pipeline):
    name = "yasashii"
    example = "令和7年4月1日より、窓口の受付時間を午前8時30分から午後5時までに変更いたします。"
    title = "やさしい日本語"
    description = "公用文をやさしい日本語に書き換え、漢字に読み仮名を付けます。"
    prompts = {"system": (), "user": ("text",), "retry": ("missing",)}
    max_input_chars = 20_000  # about ten pages of notices
    file_types = (".docx", ".txt", ".md", ".pdf")  # a transcript .docx/.txt goes to 議事録作成 (its `takes`)

    def __init__(self, context: PipelineContext) -> None:
        self._prompts = context.prompts
        self._results = context.results
        # Admin dictionaries ($HIDEKI_DATA_DIR/dictionaries) are read here, at start-up: a bad line stops it.
        self.readings = ReadingEngine(context.dictionaries("readings*.tsv"))
        self.simplifier = Simplifier(context.dictionaries("plain_words*.tsv"))

    async def run(self, request: Request) -> Reply:
        if request.attachments:
            return await self._run_document(request, request.attachments[0])
        text = request.text.strip()
        if await asyncio.to_thread(self.simplifier.is_already_plain, text):
            return await asyncio.to_thread(self._reply, text, text, Usage(), [ALREADY_PLAIN], [])
        if request.llm is not None:
            try:
                rewrite = await self._rewrite_with_model(text, request)
                warnings = []
                if rewrite.missing:
                    warnings.append(f"⚠️ 書き換えた文章で確認できなかった事実: {describe_facts(rewrite.missing)}。元の文章と見比べてください。")
                return await asyncio.to_thread(self._reply, text, rewrite.text, rewrite.usage, warnings, rewrite.missing)
            except LLMError as error:
                return await self._offline(text, offline_note(error))
        return await self._offline(text, offline_note())

    async def act(self, action: Action) -> Reply:
        """The 「HTML（ルビ）版」 button: the same rewrite with <ruby> readings, for web pages."""
        saved = self._results.get(str(action.data.get("result", "")), self.name)
        if saved is None:
            return Reply("この結果は保存期間を過ぎたため表示できません。もう一度、文章を送ってください。", remember=False)
        html = await asyncio.to_thread(furigana.render, saved[1], "html", None, self.readings)
        return Reply(f"HTML（ルビ）版です。ホームページ等に貼り付けてください。\n\n```html\n{html}\n```", remember=False)

    # --- the two rewriting paths ---------------------------------------------------------------------
    async def _offline(self, text: str, note: str) -> Reply:
        result = await asyncio.to_thread(self.simplifier.simplify, text)
        missing = await asyncio.to_thread(missing_facts, text, result.text)  # the simplifier reverts such sentences
        return await asyncio.to_thread(self._reply, text, result.text, Usage(), [note], missing, True)

    async def _rewrite_with_model(self, text: str, request: Request) -> Rewrite:
        llm = request.llm
        assert llm is not None
        parts = parts_of(text)
        outputs: list[str] = []
        usage = Usage()
        missing: list[Fact] = []
        for index, part in enumerate(parts, 1):
            if len(parts) > 1:
                await request.progress(f"{index}/{len(parts)}")
            rewritten, part_usage, part_missing = await self._rewrite_part(llm, part)
            outputs.append(rewritten)
            usage += part_usage
            missing += part_missing
        return Rewrite("\n\n".join(outputs), usage, missing)

    async def _rewrite_part(self, llm: LLMClient, part: str) -> tuple[str, Usage, list[Fact]]:
        messages = [
            {"role": "system", "content": self._prompts.render("system")},
            {"role": "user", "content": self._prompts.render("user", text=part)},
        ]
        completion = await llm.complete(messages)
        usage = completion.usage
        rewritten = to_western(clean_model_output(completion.text))
        missing = await asyncio.to_thread(missing_facts, part, rewritten)
        if missing:  # one retry, telling the model exactly what it dropped
            messages += [
                {"role": "assistant", "content": completion.text},
                {"role": "user", "content": self._prompts.render("retry", missing="\n".join(f"- {describe_facts([f])}" for f in missing))},
            ]
            retry = await llm.complete(messages)
            usage += retry.usage
            second = to_western(clean_model_output(retry.text))
            second_missing = await asyncio.to_thread(missing_facts, part, second)
            if len(second_missing) <= len(missing):
                rewritten, missing = second, second_missing
        return rewritten, usage, missing

    # --- a document ---------------------------------------------------------------------------------------
    async def _run_document(self, request: Request, attachment: Attachment) -> Reply:
        """A Word/text/PDF file: rewritten paragraph by paragraph, ruby added, sent back as a .docx with a short
        chat answer (what was done, a preview, the measures and the facts to check)."""
        try:
            document = await asyncio.to_thread(read_document, attachment.data, attachment.name)
        except DocumentError as error:
            return Reply(str(error), remember=False)
        rewrite = DocumentRewrite(document)
        if rewrite.chars > MAX_DOCUMENT_CHARS:
            return Reply(DOCUMENT_TOO_LONG.format(n=rewrite.chars, limit=MAX_DOCUMENT_CHARS), remember=False)
        notes: list[str] = []
        usage = Usage()
        missing: list[Fact] | None = None
        if request.llm is not None:
            try:
                texts, usage, missing = await self._rewrite_units_with_model(rewrite.units, request)
            except LLMError as error:
                notes.append(offline_note(error))
        else:
            notes.append(offline_note())
        if missing is None:  # offline: the simplifier puts back any sentence whose facts would change
            texts = await asyncio.to_thread(lambda: [simplify_unit(self.simplifier, unit) for unit in rewrite.units])
        report = rewrite.apply(texts)
        report.ruby = await asyncio.to_thread(add_ruby, document, self.readings)
        data = await asyncio.to_thread(document_bytes, document)
        if missing is None:
            missing = await asyncio.to_thread(missing_facts, report.source_text, report.rewritten_text)
        elif missing:
            notes.insert(0, f"⚠️ 書き換えた文章で確認できなかった事実: {describe_facts(missing)}。元の文書と見比べてください。")
        name = f"{PurePath(attachment.name).stem}_やさしい日本語.docx"
        reply = await asyncio.to_thread(self._document_reply, attachment.name, report, usage, notes, missing)
        reply.files = [OutputFile(name, data, DOCX_TYPE, "やさしい日本語に書き換え、ルビを付けた Word 文書")]
        reply.offline = request.llm is None or any("ローカル処理" in note for note in notes)
        reply.model_written = usage.calls > 0 and not reply.offline
        return reply

    async def _rewrite_units_with_model(self, units: list[str], request: Request) -> tuple[list[str], Usage, list[Fact]]:
        """The model rewrites the units in parts of about PART_CHARS, one blank line between units; a part whose
        answer does not come back with as many paragraphs is rewritten unit by unit. Already plain units are kept."""
        llm = request.llm
        assert llm is not None
        texts = list(units)
        plain = await asyncio.to_thread(lambda: [not unit.strip() or self.simplifier.is_already_plain(unit) for unit in units])
        todo = [i for i, done in enumerate(plain) if not done]
        groups: list[list[int]] = []
        size = 0
        for i in todo:
            if groups and size + len(units[i]) <= PART_CHARS:
                groups[-1].append(i)
                size += len(units[i])
            else:
                groups.append([i])
                size = len(units[i])
        usage = Usage()
        missing: list[Fact] = []
        for number, group in enumerate(groups, 1):
            if len(groups) > 1:
                await request.progress(f"{number}/{len(groups)}")
            rewritten, part_usage, part_missing = await self._rewrite_part(llm, "\n\n".join(units[i] for i in group))
            usage += part_usage
            pieces = [p.strip() for p in re.split(r"\n\s*\n", rewritten) if p.strip()]
            if len(pieces) == len(group):
                missing += part_missing
            else:  # the model joined or split paragraphs: one unit at a time, so that each stays in its place
                pieces = []
                for i in group:
                    one, one_usage, one_missing = await self._rewrite_part(llm, units[i])
                    usage += one_usage
                    missing += one_missing
                    pieces.append(one)
            for i, piece in zip(group, pieces):
                texts[i] = piece
        return texts, usage, missing

    def _document_reply(self, name: str, report: RewriteReport, usage: Usage, notes: list[str],
                        missing: list[Fact]) -> Reply:
        preview = report.rewritten_text[:PREVIEW_CHARS]
        cut = preview.rfind("\n")
        if len(report.rewritten_text) > PREVIEW_CHARS and cut > 0:
            preview = preview[:cut] + "\n…"
        result_id = self._results.save(self.name, "rewrite", report.rewritten_text)
        checks = [self._measures(report.source_text, report.rewritten_text, missing)]
        if guessed := list(report.ruby.guessed):
            words = "、".join(f"{surface}({reading})" for surface, reading in guessed[:GUESSED_SHOWN])
            more = len(guessed) - GUESSED_SHOWN
            checks.append(GUESSED.format(words=words + (f" ほか{more}語" if more > 0 else "")))
        left = [f"ℹ️ {line}" for line in (report.note(), report.ruby.note()) if line]
        text = DOCUMENT_DONE.format(name=name, paragraphs=report.paragraphs, rewritten=report.rewritten)
        if preview.strip():
            text += "\n\n**書き換えの始め**\n\n" + furigana.render(preview, "inline", None, self.readings)
        return Reply(
            text=text,
            buttons=[Button("HTML（ルビ）版を表示", self.action_name("html"), {"result": result_id})],
            caption="ホームページに載せるときは、ルビ（HTML）版を使えます。",
            usage=usage,
            warnings=[*checks, *left, *notes],
            remember=False,
        )

    # --- the reply ---------------------------------------------------------------------------------------
    def _reply(
        self, source: str, rewritten: str, usage: Usage, warnings: list[str], missing: list[Fact], offline: bool = False
    ) -> Reply:
        with_readings = furigana.render(rewritten, "inline", None, self.readings)
        result_id = self._results.save(self.name, "rewrite", rewritten)
        checks = [self._measures(source, rewritten, missing)]
        guessed = self.readings.guessed(rewritten)
        if guessed:
            words = "、".join(f"{surface}({reading})" for surface, reading in guessed[:GUESSED_SHOWN])
            more = len(guessed) - GUESSED_SHOWN
            checks.append(GUESSED.format(words=words + (f" ほか{more}語" if more > 0 else "")))
        return Reply(
            text=with_readings,
            buttons=[Button("HTML（ルビ）版を表示", self.action_name("html"), {"result": result_id})],
            caption="ホームページに載せるときは、ルビ（HTML）版を使えます。",
            usage=usage,
            warnings=[*checks, *warnings],
            offline=offline,
            model_written=usage.calls > 0 and not offline,
            remember=False,
            files=[self._word_file(rewritten)],
        )

    def _word_file(self, rewritten: str) -> OutputFile:
        """The rewritten text as a Word document with ruby, one paragraph a line."""
        document = blocks_to_document(blocks_from_text(rewritten, markdown=False))
        add_ruby(document, self.readings)
        return OutputFile("やさしい日本語.docx", document_bytes(document), DOCX_TYPE, "ルビを付けた Word 文書")

    def _measures(self, source: str, rewritten: str, missing: list[Fact]) -> str:
        before, after = split_sentences(source), split_sentences(rewritten)
        average = lambda sentences: round(sum(len(s) for s in sentences) / len(sentences)) if sentences else 0  # noqa: E731
        hard = self.simplifier.hard_words(rewritten)
        hard_text = f"{len(hard)}（{'、'.join(hard[:5])}{'…' if len(hard) > 5 else ''}）" if hard else "0"
        facts = describe_facts(missing) if missing else "なし"
        return f"📏 1文の平均: {average(before)}字 → {average(after)}字 ・ 難しい言葉の残り: {hard_text} ・ 確認できなかった事実: {facts}"
