"""Custom pipelines: one class, `CustomPipeline`, that runs any checked definition (channels.definitions).

Each definition becomes a subclass with its own declared name, title, description, file types, input limit and
model parameters (the dispatcher feeds those to the gateway, the PII guard and the input check), so a custom
pipeline is rate-limited, audited, counted, guarded, queued and split exactly like a built-in one.

With a model: system prompt, the definition's few-shot examples, the user prompt with `${input}`; then the local
steps it names (readings, fact check, personal-data warning) on the answer; a table answer also comes as CSV.
Offline (or when the model fails): the offline engine it names, else one line saying it needs a model.

`CustomPipelines` keeps the pipelines of `$HIDEKI_DATA_DIR/pipelines/` current: the registry asks it at most every
few seconds whether a folder changed; a changed definition replaces the old one once it passes the check, and a
broken edit is logged while the previous version stays in use. With a definition store (channels.stored) it first
writes into the folder what changed in the database (an upload or rollback on any replica), so the folder stays the
one source it reads.
"""
from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import logging
import re
import threading
import time
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path, PurePath
from typing import Callable, ClassVar

from channels.base import Pipeline, PipelineContext, Reply, Request, offline_note
from channels.definitions import (
    FILE_NAMES, Definition, DefinitionError, Reserved, check_titles, folders, load_folder,
)
from channels.stored import FolderSync
from hideki.llm.gateway import LLMError, Usage
from hideki.settings import PipelineParams

log = logging.getLogger(__name__)

RECHECK_S = 3.0  # how often a running bot looks for new or edited definitions (in the folder and the database)
NEEDS_MODEL = "ℹ️ 「{title}」には生成AIモデルが必要です。生成AIモデルが使えるようになってから、もう一度送ってください。"
SUMMARY_CHARS = (200, 800)  # the offline summary: a quarter of the input, within these bounds
_TABLE_LINE = re.compile(r"^\s*\|.*\|\s*$")
_RULE_CELL = re.compile(r"^\s*:?-{2,}:?\s*$")
_FENCED = re.compile(r"^```[A-Za-z]*\n(?P<body>.*)\n```$", re.S)


def table_rows(answer: str) -> list[list[str]]:
    """The rows of the first Markdown table in `answer` (the separator row dropped); [] if there is none."""
    rows: list[list[str]] = []
    for line in answer.splitlines():
        if _TABLE_LINE.match(line):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if not all(_RULE_CELL.match(cell) for cell in cells):
                rows.append(cells)
        elif rows:
            break
    return rows if len(rows) >= 2 else []


def to_csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def unfence(answer: str) -> str:
    """A whole answer the model wrapped in one code fence, unwrapped."""
    text = answer.strip()
    match = _FENCED.match(text)
    return match.group("body").strip() if match else text


def today_text(today: dt.date | None = None) -> str:
    day = today or dt.date.today()
    return f"{day.year}年{day.month}月{day.day}日"


@lru_cache(maxsize=4)
def _reading_engine(dictionaries: tuple[Path, ...]):
    from hideki.japanese.readings import ReadingEngine, default_engine

    return ReadingEngine(dictionaries) if dictionaries else default_engine()


@lru_cache(maxsize=4)
def _simplifier(dictionaries: tuple[Path, ...]):
    from hideki.japanese.simplify import Simplifier

    return Simplifier(dictionaries)


def read_attachment(name: str, data: bytes) -> str:
    """The text of a file sent as input (raises ValueError with a Japanese message)."""
    if PurePath(name).suffix.lower() == ".vtt":
        from hideki.minutes.transcripts import parse_transcript

        return parse_transcript(data, name).text
    from knowledge.importers import document_text

    return document_text(data, name)


class CustomPipeline(Pipeline):
    """Runs the definition its subclass carries; make the subclass with `CustomPipeline.of(definition)`."""

    definition: ClassVar[Definition]

    @classmethod
    def of(cls, definition: Definition) -> type["CustomPipeline"]:
        spec = definition.spec
        declared = {
            "name": definition.id,
            "title": spec.title,
            "description": spec.description,
            "file_types": tuple(spec.file_types),
            "max_input_chars": spec.max_input_chars,
            "params": PipelineParams(model=spec.model, temperature=spec.temperature, max_tokens=spec.max_tokens, pii=spec.pii),
            "definition": definition,
        }
        return type(f"CustomPipeline[{definition.id}]", (cls,), {"__module__": __name__, **declared})

    def __init__(self, context: PipelineContext) -> None:
        self._readings = tuple(context.dictionaries("readings*.tsv"))
        self._plain_words = tuple(context.dictionaries("plain_words*.tsv"))

    async def run(self, request: Request) -> Reply:
        text = request.text.strip()
        if request.attachments:
            attachment = request.attachments[0]
            try:
                text = await asyncio.to_thread(read_attachment, attachment.name, attachment.data)
            except ValueError as exc:
                return Reply(f"ファイル「{attachment.name}」を読めませんでした。{exc}", remember=False)
            if len(text) > self.max_input_chars:
                return self.too_long(len(text), self.max_input_chars, "ファイルの文字")
        if request.llm is None:
            return await self._offline(text, None)
        try:
            completion = await request.llm.complete(self.messages(text))
        except LLMError as error:
            return await self._offline(text, error)
        answer = unfence(completion.text)
        warnings = await asyncio.to_thread(self._checks, text, answer)
        if "furigana" in self.definition.spec.steps:
            answer = await asyncio.to_thread(self._furigana, answer)
        if completion.truncated:
            warnings.append("⚠️ 回答が長すぎたため、途中で切れています。入力を分けて送ってください。")
        return self._reply(answer, completion.usage, warnings)

    def messages(self, text: str) -> list[dict[str, str]]:
        """What the model is sent: the system prompt, the few-shot examples, the user prompt."""
        definition = self.definition
        values = {"input": text, "today": today_text()}
        messages = []
        if definition.system_text:
            messages.append({"role": "system", "content": definition.system.substitute(values)})
        for example in definition.spec.examples:
            messages.append({"role": "user", "content": definition.user.substitute({**values, "input": example.input})})
            messages.append({"role": "assistant", "content": example.output})
        messages.append({"role": "user", "content": definition.user.substitute(values)})
        return messages

    def _checks(self, source: str, answer: str) -> list[str]:
        steps = self.definition.spec.steps
        warnings = []
        if "check_facts" in steps:
            from channels.yasashii import describe_facts
            from hideki.japanese.facts import missing_facts

            if missing := missing_facts(source, answer):
                warnings.append(f"⚠️ 回答で確認できなかった事実: {describe_facts(missing)}。元の文章と見比べてください。")
        if "check_pii" in steps:
            from hideki.pii.detect import describe, find_pii

            if findings := find_pii(answer):
                warnings.append(f"⚠️ 回答に{describe(findings)}。外部に出す前に確認してください。")
        return warnings

    def _furigana(self, text: str) -> str:
        from hideki.japanese import furigana

        return furigana.render(text, "inline", None, _reading_engine(self._readings))

    def _reply(self, answer: str, usage: Usage, warnings: list[str], offline: bool = False) -> Reply:
        if self.definition.spec.output == "table":
            rows = table_rows(answer)
            if rows:
                answer += f"\n\n**CSV**\n```csv\n{to_csv(rows).strip()}\n```"
            else:
                warnings.insert(0, "⚠️ 回答に表が見つからなかったため、CSV は付けていません。")
        return Reply(answer, usage=usage, warnings=warnings, offline=offline, remember=False, model_written=not offline)

    async def _offline(self, text: str, error: LLMError | None) -> Reply:
        engine = self.definition.spec.offline
        if engine is None:
            line = NEEDS_MODEL.format(title=self.title)
            return Reply(f"{offline_note(error)}\n{line}" if error else line, offline=True, remember=False)
        answer = await asyncio.to_thread(self._offline_answer, engine, text)
        return Reply(answer, warnings=[offline_note(error)], offline=True, remember=False)

    def _offline_answer(self, engine: str, text: str) -> str:
        if engine == "summary":
            from hideki.minutes.summary import summarize

            low, high = SUMMARY_CHARS
            return summarize(text, max(low, min(high, len(text) // 4)))
        if engine == "yasashii":
            text = _simplifier(self._plain_words).simplify(text).text
        return self._furigana(text)


@dataclass(frozen=True)
class _Loaded:
    pipeline: CustomPipeline
    stamp: tuple[tuple[str, int, int], ...]


class CustomPipelines:
    """The custom pipelines of one directory, reloaded when their files change (see the module docstring)."""

    def __init__(self, directory: Path, reserved: Reserved, context: PipelineContext,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.directory = directory
        self.reserved = reserved
        self.context = replace(context, prompts=None)
        self.clock = clock
        self._loaded: dict[str, _Loaded] = {}
        self._rejected: dict[str, tuple] = {}  # broken edits, logged once
        self._checked_at = 0.0
        self._lock = threading.Lock()
        self._sync = FolderSync(context.definitions, directory, reserved) if context.definitions is not None else None

    def load(self) -> list[CustomPipeline]:
        """Start-up: every definition must pass (raises DefinitionError naming the file and line)."""
        if self._sync is not None:
            self._sync.sync()
        loaded = {}
        for folder in folders(self.directory):
            loaded[folder.name] = _Loaded(self._build(load_folder(folder, self.reserved)), _stamp(folder))
        check_titles(item.pipeline.definition for item in loaded.values())
        self._loaded = loaded
        self._checked_at = self.clock()
        return self.current()

    def current(self) -> list[CustomPipeline]:
        return [item.pipeline for item in self._loaded.values()]

    def refresh(self, force: bool = False) -> bool:
        """Look for new, edited and removed definitions; True if the set of pipelines changed."""
        now = self.clock()
        if not force and now - self._checked_at < RECHECK_S:
            return False
        with self._lock:
            self._checked_at = now
            written = self._from_database()
            try:
                found = folders(self.directory)
            except DefinitionError as exc:
                if self._rejected.get("") != str(exc):
                    log.error("custom pipelines not reloaded, the previous ones stay in use: %s", exc)
                    self._rejected[""] = str(exc)
                return False
            loaded = dict(self._loaded)
            changed = False
            for name in set(loaded) - {folder.name for folder in found}:
                del loaded[name]
                changed = True
                log.info("custom pipeline removed", extra={"pipeline": name})
            for folder in found:
                stamp = _stamp(folder)
                fresh = folder.name in written  # rewritten just now: its stamp may look the same within a clock tick
                if (current := loaded.get(folder.name)) is not None and current.stamp == stamp and not fresh:
                    continue
                if self._rejected.get(folder.name) == stamp and not fresh:
                    continue
                try:
                    definition = load_folder(folder, self.reserved)
                    others = [item.pipeline.definition for n, item in loaded.items() if n != folder.name]
                    check_titles([*others, definition])
                except (DefinitionError, OSError) as exc:
                    log.error("custom pipeline not (re)loaded, the previous version stays in use: %s", exc)
                    self._rejected[folder.name] = stamp
                    continue
                loaded[folder.name] = _Loaded(self._build(definition), stamp)
                self._rejected.pop(folder.name, None)
                changed = True
                log.info("custom pipeline loaded", extra={"pipeline": folder.name, "path": str(definition.where)})
            self._loaded = loaded
            return changed

    def _from_database(self) -> set[str]:
        """Write what changed in the database into the folder; the ids written. A database that cannot be reached
        is logged, and the folder is served as it is."""
        if self._sync is None:
            return set()
        try:
            return self._sync.sync()
        except (self._sync.store.db.Error, OSError) as exc:  # try again at the next look
            log.warning("stored custom pipelines not checked, the folder is served as it is: %s", exc)
            return set()

    def _build(self, definition: Definition) -> CustomPipeline:
        return CustomPipeline.of(definition)(self.context)


def _stamp(folder: Path) -> tuple[tuple[str, int, int], ...]:
    stamps = []
    for name in FILE_NAMES:
        try:
            st = (folder / name).stat()
        except OSError:
            continue
        stamps.append((name, st.st_mtime_ns, st.st_size))
    return tuple(stamps)
