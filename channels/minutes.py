"""議事録作成: minutes from a meeting transcript (pasted text; .vtt, .docx or .txt in a 1:1 chat).

Both paths fill the editable template prompts/minutes/minutes.md. Offline, the extractive engine in
hideki.minutes.extract finds speakers, key utterances, decisions and ToDos by cue expressions, with deadlines turned
into dates. With a model, the transcript is split by tokens and processed map-reduce (progress shown as
「作成中… 3/8」); every decision, ToDo and pending item must point at a speaker and time of the transcript,
and names, dates and numbers in the minutes are checked locally against the transcript.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import PurePath
from typing import Any

from channels.base import DOCX_TYPE, Attachment, OutputFile, Pipeline, PipelineContext, Reply, Request, offline_note
from hideki.documents.minutes_docx import minutes_docx_bytes
from hideki.llm.gateway import LLMClient, LLMError, Usage
from hideki.llm.structured import ModelOutputError, parse_json_answer
from hideki.minutes.checks import minutes_facts_check, minutes_from_json, transcript_lines, untraceable
from hideki.minutes.extract import Minutes, extract_minutes, sections
from hideki.minutes.transcripts import Transcript, TranscriptError, is_transcript, parse_transcript

MAX_CHARS = 400_000  # about 12 hours of talk; a 3-hour meeting is about 100,000 characters
CHUNK_TOKENS = 6_000
# Shown after a transcript that cannot be read: the form it should have.
FORMAT_HINT = (
    "このチャネルでは、会議の文字起こしから議事録（要旨、決定事項、ToDo など）を作ります。\n\n"
    "チャネルでは、@Hideki に続けて文字起こしを貼り付けてください（各行「話者: 発言」の形）。"
    "Teams 会議の文字起こしファイル（.vtt、.docx）や .txt は、Hideki との 1対1チャットに送ってください。"
)


class MinutesPipeline(Pipeline):
    name = "minutes"
    title = "議事録作成"
    description = "会議の文字起こし（貼り付け、.vtt、.docx、.txt）から議事録を作ります。"
    prompts = {
        "minutes": ("title", "date", "attendees", "agenda", "summary", "decisions", "todos", "next_meeting", "pending"),
        "system": (),
        "map": ("part", "parts", "date", "attendees", "chunk"),
        "reduce": ("parts", "date", "attendees", "notes"),
    }
    file_types = (".vtt", ".docx", ".txt")
    max_input_chars = MAX_CHARS

    def __init__(self, context: PipelineContext, today=dt.date.today) -> None:
        self._prompts = context.prompts
        self._today = today

    def takes(self, attachment: Attachment) -> bool:
        """A .vtt, or a .docx / .txt that reads as a transcript (any other document goes to やさしい日本語)."""
        return is_transcript(attachment.data, attachment.name)

    async def run(self, request: Request) -> Reply:
        if request.attachments:
            attachment = request.attachments[0]
            source: bytes | str = attachment.data
            name = attachment.name
        else:
            source, name = request.text.strip(), ""
        if isinstance(source, bytes) and len(source) > MAX_CHARS * 4:  # a file; pasted text was checked by the dispatcher
            return self.too_long(len(source), MAX_CHARS, "文字起こし")
        try:
            transcript = await asyncio.to_thread(parse_transcript, source, name)
        except TranscriptError as error:
            return Reply(f"{error}\n\n{FORMAT_HINT}", remember=False)
        if (spoken := sum(len(u.text) for u in transcript.utterances)) > MAX_CHARS:
            return self.too_long(spoken, MAX_CHARS, "文字起こし")
        warnings: list[str] = []
        date = transcript.date
        if not date:
            date = self._today().isoformat()
            warnings.append(f"ℹ️ 会議の日付が文字起こしにないため、期限は今日（{date}）を基準に計算しました。")
        if request.llm is not None:
            try:
                minutes, usage = await self._with_model(request, transcript, date)
            except LLMError as error:
                warnings.append(offline_note(error))
            except ModelOutputError:  # the model's output was not the JSON asked for
                warnings.append("⚠️ 生成AIの出力を読み取れなかったため、ローカル処理で作成しました。")
            else:
                text = self.render(minutes)
                files = await self._files(minutes, name)
                if lost := untraceable(minutes, transcript):
                    warnings.append(f"⚠️ 発言の話者・時刻を確認できない項目があります: {'、'.join(lost[:5])}。文字起こしと見比べてください。")
                if unknown := await asyncio.to_thread(minutes_facts_check, text, transcript):
                    warnings.append(f"⚠️ 文字起こしにない名前・日付・数字: {'、'.join(unknown[:10])}。確認してください。")
                return Reply(text, usage=usage, warnings=warnings, remember=False, model_written=True, files=files)
        else:
            warnings.append(offline_note())
        minutes = await asyncio.to_thread(extract_minutes, transcript, dt.date.fromisoformat(date))
        return Reply(self.render(minutes), warnings=warnings, offline=True, remember=False,
                     files=await self._files(minutes, name))

    @staticmethod
    async def _files(minutes: Minutes, source_name: str) -> list[OutputFile]:
        """The minutes as Word, when the transcript came as a file (pasted text gets the chat answer only)."""
        if not source_name:
            return []
        data = await asyncio.to_thread(minutes_docx_bytes, minutes)
        return [OutputFile(f"{PurePath(source_name).stem}_議事録.docx", data, DOCX_TYPE, "議事録（Word、ToDo は表）")]

    def render(self, minutes: Minutes) -> str:
        return self._prompts.render("minutes", **sections(minutes))

    async def _with_model(self, request: Request, transcript: Transcript, date: str) -> tuple[Minutes, Usage]:
        llm: LLMClient = request.llm  # type: ignore[assignment]
        attendees = "、".join(transcript.speakers)
        system = {"role": "system", "content": self._prompts.render("system")}
        overhead = llm.counter.count(self._prompts.render("map", part=1, parts=1, date=date, attendees=attendees, chunk="")) + 200
        chunks = llm.counter.split(transcript_lines(transcript), max(500, min(CHUNK_TOKENS, llm.input_budget - overhead)))
        usage = Usage()
        notes: list[dict[str, Any]] = []
        for number, chunk in enumerate(chunks, 1):
            if len(chunks) > 1:
                await request.progress(f"{number}/{len(chunks) + 1}")
            prompt = self._prompts.render("map", part=number, parts=len(chunks), date=date, attendees=attendees, chunk=chunk)
            completion = await llm.complete([system, {"role": "user", "content": prompt}])
            usage += completion.usage
            notes.append(parse_json_answer(completion.text))
        while len(notes) > 1:  # reduce, in groups that fit the input budget, until one set of notes is left
            await request.progress(f"{len(chunks) + 1}/{len(chunks) + 1}")
            reduced: list[dict[str, Any]] = []
            for group in self._groups(llm, notes, llm.input_budget - overhead):
                merged = json.dumps(group, ensure_ascii=False)
                prompt = self._prompts.render("reduce", parts=len(group), date=date, attendees=attendees, notes=merged)
                completion = await llm.complete([system, {"role": "user", "content": prompt}])
                usage += completion.usage
                reduced.append(parse_json_answer(completion.text))
            if len(reduced) >= len(notes):
                raise ModelOutputError("the reduced notes do not shrink")
            notes = reduced
        return minutes_from_json(notes[0], transcript, date), usage

    @staticmethod
    def _groups(llm: LLMClient, notes: list[dict[str, Any]], budget: int) -> list[list[dict[str, Any]]]:
        groups: list[list[dict[str, Any]]] = [[]]
        used = 0
        for note in notes:
            cost = llm.counter.count(json.dumps(note, ensure_ascii=False))
            if groups[-1] and used + cost > budget:
                groups.append([])
                used = 0
            groups[-1].append(note)
            used += cost
        if len(groups) == len(notes) and len(notes) > 1:  # every note alone fills the budget: pair them anyway
            groups = [notes[i : i + 2] for i in range(0, len(notes), 2)]
        return groups
