"""The pipeline interface: `Request` in, `Reply` out. Nothing here knows about Teams."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, ClassVar, Mapping, Protocol

from hideki.llm.gateway import LLMClient, LLMError, Usage
from hideki.state.stores import FeedbackStore, ResultStore, Turn
from knowledge.store import KnowledgeBase
from prompts import PromptSet

OFFLINE_NOTE = "ℹ️ 生成AIモデルが設定されていないため、ローカル処理で作成しました。"
FALLBACK_NOTE = "⚠️ {reason} ローカル処理で作成しました。"

Progress = Callable[[str], Awaitable[None]]


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
    llm: LLMClient | None = None
    progress: Progress = _no_progress
    correlation_id: str = ""


@dataclass
class Reply:
    text: str  # Markdown
    card: dict[str, Any] | None = None  # Adaptive Card content
    usage: Usage = field(default_factory=Usage)
    warnings: list[str] = field(default_factory=list)
    offline: bool = False  # answered without the model (none configured, or it failed)
    remember: bool = True  # store this exchange in conversation memory (chat)

    def full_text(self) -> str:
        """The text, then each warning or note on a short line of its own."""
        return "\n\n".join(part for part in [self.text.rstrip(), *self.warnings] if part)


def offline_note(error: LLMError | None = None) -> str:
    """The one line that says the reply was made without a generative model, and why."""
    return FALLBACK_NOTE.format(reason=error.user_message) if error else OFFLINE_NOTE


@dataclass(frozen=True)
class Action:
    """A button press on one of our cards (Action.Submit / Action.Execute data)."""

    name: str
    data: Mapping[str, Any]
    user: User
    place: Place


class Pipeline(Protocol):
    name: ClassVar[str]  # id used in settings and `設定 <name>`
    title: ClassVar[str]  # Japanese name shown to users
    description: ClassVar[str]  # one line, shown by ヘルプ
    prompts: ClassVar[Mapping[str, tuple[str, ...]]]  # template name -> placeholders

    async def run(self, request: Request) -> Reply: ...

    # Optional: `async def act(self, action: Action) -> Reply` answers the buttons of the pipeline's cards;
    # their data carry {"hideki_action": "<pipeline name>.<verb>", ...}.


@dataclass(frozen=True)
class PipelineContext:
    """What a pipeline may use when it is built: its prompt set and shared services."""

    prompts: PromptSet | None = None  # set per pipeline by build_registry
    results: ResultStore | None = None
    feedback: FeedbackStore | None = None
    knowledge: KnowledgeBase | None = None
    admins: tuple[str, ...] = ()
    helpdesk_contact: str = "ICTヘルプデスク"
    dictionaries_dir: Path | None = None  # admin-extensible dictionaries ($HIDEKI_DATA_DIR/dictionaries)

    def dictionaries(self, pattern: str) -> list[Path]:
        if self.dictionaries_dir is None or not self.dictionaries_dir.is_dir():
            return []
        return sorted(self.dictionaries_dir.glob(pattern))
