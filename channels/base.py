"""The pipeline contract: the `Pipeline` base class, `Request` in, `Reply` out. Nothing here knows about Teams.

A pipeline declares what it is (name, title, description, the files it takes, whether it remembers the
conversation, its input limit, its prompt templates) as class attributes, and answers a `Request` with a
`Reply` that says *what* to show: text, warnings, buttons, sources, whether 👍/👎 is wanted, whether a model
wrote the text, the files made for the user. While it works it may report progress and the answer's text so far (`Request.progress`,
`Request.stream`). `bot/` alone turns all of this into Teams messages, streams, cards and entities.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, ClassVar, Mapping

from channels.stored import DefinitionStore
from hideki.llm.gateway import LLMClient, LLMError, Usage
from hideki.settings import PipelineParams
from hideki.state.stores import FeedbackStore, ResultStore, Turn
from knowledge.store import KnowledgeBase
from prompts import PromptSet

OFFLINE_NOTE = "ℹ️ 生成AIモデルが設定されていないため、ローカル処理で作成しました。"
FALLBACK_NOTE = "⚠️ {reason} ローカル処理で作成しました。"
# The one answer to an empty message and the one answer to an over-long one, for every pipeline.
EMPTY_INPUT = (
    "このチャネルの機能は **{title}** です。{description}\n\n"
    "@Hideki に続けて文章を貼り付けて送ってください。「ヘルプ」と送ると使い方を表示します。"
)
TOO_LONG = "{what}が長すぎます（{n:,}文字）。「{title}」で受け付けるのは {limit:,}文字までです。分けて送ってください。"

Progress = Callable[[str], Awaitable[None]]  # a short status line, e.g. 「FAQ を検索しています…」
Partial = Callable[[str], Awaitable[None]]  # the answer's text so far, each call extending the last


async def _no_progress(_: str) -> None:
    return None


@dataclass(frozen=True)
class Attachment:
    """A file the user sent, already downloaded."""

    name: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class User:
    id: str
    name: str = ""
    aad_object_id: str = ""


@dataclass(frozen=True)
class Place:
    """Where the message was written."""

    conversation_id: str
    kind: str = "personal"  # "personal", "channel" or "groupChat"
    channel_id: str = ""
    channel_name: str = ""
    team_id: str = ""
    tenant_id: str = ""


@dataclass
class Request:
    text: str
    user: User
    place: Place
    attachments: list[Attachment] = field(default_factory=list)
    history: list[Turn] = field(default_factory=list)
    llm: LLMClient | None = None  # None: no model configured for this pipeline (answer offline)
    progress: Progress = _no_progress
    # Where the channel can show an answer as it is written: pass it as `on_text` to `llm.complete` for the text
    # the user will see (None: it cannot, and the model is not asked to stream). Checks still run on the whole
    # answer; the Reply's text is what is finally shown.
    stream: Partial | None = None
    correlation_id: str = ""


@dataclass(frozen=True)
class Button:
    """A button under the answer. Pressing it calls `act` of the pipeline named in `action`."""

    title: str
    action: str  # "<pipeline>.<verb>"; make it with Pipeline.action_name(verb)
    data: dict[str, str] = field(default_factory=dict)  # handed back to `act` as Action.data


@dataclass(frozen=True)
class Source:
    """A document an answer cites as [number] (the service desk's FAQ entries)."""

    number: int
    title: str
    url: str = ""
    location: str = ""  # where in the source it is, e.g. "faq.csv 行 2"
    updated: str = ""  # date of the source's last change, as written there
    excerpt: str = ""  # the cited passage in full; renderers shorten it as they need

    def markdown(self) -> str:
        """`[1] [title](url)（location、更新日 …）`: one line of the 出典 list."""
        title = f"[{self.title}]({self.url})" if self.url else self.title
        where = "、".join(part for part in (self.location, f"更新日 {self.updated}" if self.updated else "") if part)
        return f"[{self.number}] {title}" + (f"（{where}）" if where else "")


@dataclass(frozen=True)
class Feedback:
    """👍/👎 wanted on this answer. A vote calls `act` of the pipeline named in `action` with
    {"answer": answer, "verdict": "up" | "down"}."""

    action: str  # "<pipeline>.<verb>"
    answer: str  # the id the pipeline saved the answer under


@dataclass(frozen=True)
class OutputFile:
    """A document made for the user (a Word notice, minutes, an Excel sheet). `bot/` decides how it reaches them
    (in Teams: the file-consent flow of a 1:1 chat); the CLI writes it to disk."""

    name: str  # file name shown to the user, with its suffix ("議事録.docx")
    data: bytes
    media_type: str
    description: str = ""  # one Japanese line: what the file is

    @property
    def suffix(self) -> str:
        return Path(self.name).suffix.lower()


DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Reply:
    """What to show in answer: Markdown text, then sources and notes; optionally buttons, 👍/👎 and files."""

    text: str  # Markdown
    usage: Usage = field(default_factory=Usage)
    warnings: list[str] = field(default_factory=list)  # notes and checks, each shown on a line of its own
    offline: bool = False  # answered without the model (none configured, or it failed)
    remember: bool = True  # store this exchange in conversation memory (pipelines that use it)
    sources: list[Source] = field(default_factory=list)  # what the text cites as [1], [2]
    buttons: list[Button] = field(default_factory=list)  # actions on this answer
    caption: str = ""  # one line saying what the buttons are for
    confirm: bool = False  # the buttons decide on a pending change: the caption is shown prominently
    related: list[Button] = field(default_factory=list)  # follow-up questions (関連する質問), each a button
    feedback: Feedback | None = None  # ask for 👍/👎
    model_written: bool = False  # `text` is a generative model's answer (never for offline engines or fallbacks)
    files: list[OutputFile] = field(default_factory=list)  # documents made for the user, besides the text

    def full_text(self) -> str:
        """The text, the 出典 list, then each warning or note on a short line of its own."""
        cited = "**出典**\n" + "\n".join(s.markdown() for s in self.sources) if self.sources else ""
        return "\n\n".join(part for part in [self.text.rstrip(), cited, *self.warnings] if part)


def offline_note(error: LLMError | None = None) -> str:
    """The one line that says the reply was made without a generative model, and why."""
    return FALLBACK_NOTE.format(reason=error.user_message) if error else OFFLINE_NOTE


@dataclass(frozen=True)
class Action:
    """A button press on one of our answers: `name` is the verb once it reaches the pipeline."""

    name: str
    data: Mapping[str, Any]
    user: User
    place: Place


class Pipeline(ABC):
    """One job Hideki does (chat, やさしい日本語, …). Subclass it, declare the attributes, write `run`, and add
    the class to channels.PIPELINES. The dispatcher answers empty and over-long input before `run` is called."""

    name: ClassVar[str]  # id used in settings, bindings and `設定 <name>`
    title: ClassVar[str]  # Japanese name shown to users
    description: ClassVar[str]  # one line, shown by ヘルプ and in answer to an empty message
    example: ClassVar[str] = ""  # a short message to try it with, offered by Teams as a prompt starter ("": none)
    file_types: ClassVar[tuple[str, ...]] = ()  # file suffixes (".vtt") this pipeline takes in a 1:1 chat
    bindable: ClassVar[bool] = True  # a channel can be bound to it and ヘルプ lists it (False: reached by file type only)
    uses_memory: ClassVar[bool] = False  # the request carries the conversation so far, and the reply is stored
    max_input_chars: ClassVar[int | None] = None  # longest message accepted (settings may override); None: no limit
    prompts: ClassVar[Mapping[str, tuple[str, ...]]] = {}  # template name -> the placeholders it declares
    params: ClassVar[PipelineParams] = PipelineParams()  # model parameters it brings itself; hideki.toml wins

    @abstractmethod
    async def run(self, request: Request) -> Reply:
        """Answer a message. It is never empty (unless files came with it) and within the input limit."""

    def takes(self, attachment: Attachment) -> bool:
        """Whether this pipeline takes this file of one of its `file_types`, by its content. When two pipelines
        take a suffix (.docx: a meeting transcript or a notice), the registry asks the ones that override this
        first (議事録作成 takes a transcript) and the rest, which take every file of their types, after them."""
        return True

    async def act(self, action: Action) -> Reply | None:
        """Answer a press of one of this pipeline's buttons (`action.name` is the verb). None: no buttons."""
        return None

    def action_name(self, verb: str) -> str:
        """The name a button or 👍/👎 carries so that a press comes back to this pipeline's `act`."""
        return f"{self.name}.{verb}"

    @classmethod
    def usage_text(cls) -> str:
        """The answer to an empty message: what this pipeline does and how to use it."""
        return EMPTY_INPUT.format(title=cls.title, description=cls.description)

    @classmethod
    def too_long(cls, n: int, limit: int, what: str = "メッセージ") -> Reply:
        """The answer to input of `n` characters where `limit` is accepted."""
        return Reply(TOO_LONG.format(what=what, n=n, title=cls.title, limit=limit), remember=False)

    @classmethod
    def refusal(cls, text: str, has_files: bool, limit: int | None) -> Reply | None:
        """The answer to input this pipeline is not run on (empty, or longer than `limit`), else None."""
        if not text.strip() and not has_files:
            return Reply(cls.usage_text(), remember=False)
        if limit and len(text) > limit:
            return cls.too_long(len(text), limit)
        return None


@dataclass(frozen=True)
class PipelineContext:
    """What a pipeline may use when it is built: its prompt set and the services every pipeline may use."""

    prompts: PromptSet | None = None  # set per pipeline by build_registry
    results: ResultStore | None = None
    feedback: FeedbackStore | None = None
    knowledge: KnowledgeBase | None = None
    admins: tuple[str, ...] = ()
    helpdesk_contact: str = "ICTヘルプデスク"
    faq_rewrite: bool = False  # the service desk has the model rewrite questions into FAQ-style queries first
    dictionaries_dir: Path | None = None  # admin-extensible dictionaries ($HIDEKI_DATA_DIR/dictionaries)
    custom_pipelines_dir: Path | None = None  # pipelines defined by files ($HIDEKI_DATA_DIR/pipelines)
    definitions: DefinitionStore | None = None  # their versions in the database (channels.stored)

    def dictionaries(self, pattern: str) -> list[Path]:
        if self.dictionaries_dir is None or not self.dictionaries_dir.is_dir():
            return []
        return sorted(self.dictionaries_dir.glob(pattern))
