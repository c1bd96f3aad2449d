"""The pipeline registry and channel routing: which pipeline answers in which place.

The built-in pipelines are fixed; custom pipelines (channels.custom) come and go while the bot runs: every
look-up first lets `CustomPipelines` check its folder (at most every few seconds) and, if something changed,
swaps in a new name → pipeline map at once, so a request never sees half a change.
"""
from __future__ import annotations

from pathlib import PurePath
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Mapping

from channels.base import Attachment, Pipeline, Place
from channels.definitions import key as name_key
from hideki.state.stores import BindingStore

if TYPE_CHECKING:
    from channels.custom import CustomPipelines


@dataclass(frozen=True)
class Route:
    pipeline: Pipeline
    source: str  # Japanese, for ヘルプ: where the binding comes from


class Registry:
    def __init__(self, pipelines: Iterable[Pipeline], default: str = "chat", personal: str = "chat",
                 custom: "CustomPipelines | None" = None) -> None:
        self._builtin = {p.name: p for p in pipelines}
        self.custom = custom
        self._by_name = self._merged()
        resolved = []
        for name in (default, personal):
            pipeline = self.find(name)
            if pipeline is None:
                raise ValueError(f"パイプライン '{name}' は登録されていません（登録済み: {', '.join(self._by_name)}）")
            resolved.append(pipeline.name)
        self.default, self.personal = resolved

    def _merged(self) -> dict[str, Pipeline]:
        custom = {p.name: p for p in self.custom.current()} if self.custom is not None else {}
        return {**self._builtin, **{name: p for name, p in custom.items() if name not in self._builtin}}

    def _current(self) -> dict[str, Pipeline]:
        """The name → pipeline map, after picking up changed custom definitions."""
        if self.custom is not None and self.custom.refresh():
            self._by_name = self._merged()  # one assignment: readers see the old map or the new one
        return self._by_name

    def is_custom(self, name: str) -> bool:
        return name in self._current() and name not in self._builtin

    def __iter__(self):
        return iter(list(self._current().values()))

    def names(self) -> list[str]:
        return list(self._current())

    def get(self, name: str) -> Pipeline:
        return self._current()[name]

    def find(self, word: str) -> Pipeline | None:
        """A pipeline by its id or its Japanese title (`設定 やさしい日本語` and `設定 yasashii` both work)."""
        wanted = name_key(word)
        for pipeline in self._current().values():
            if wanted in (name_key(pipeline.name), name_key(pipeline.title)):
                return pipeline
        return None

    def bindable(self) -> list[Pipeline]:
        """The pipelines a channel can be bound to, as ヘルプ lists them."""
        return [p for p in self if p.bindable]

    def find_bindable(self, word: str) -> Pipeline | None:
        """`find`, for bindings: None for a pipeline that cannot be bound."""
        pipeline = self.find(word)
        return pipeline if pipeline is not None and pipeline.bindable else None

    def for_file(self, name: str, wanted: str = "") -> Pipeline | None:
        """In a 1:1 chat, a file goes to the pipeline that takes its type (FAQ sheets, transcripts): the one the
        message names (`wanted`, its title or id) if it takes the type, else the first that does."""
        suffix = PurePath(name).suffix.lower()
        named = self.find(wanted) if wanted.strip() else None
        if named is not None and suffix in named.file_types:
            return named
        return next((p for p in self._current().values() if suffix in p.file_types), None)

    def for_attachment(self, attachment: Attachment, wanted: str = "") -> Pipeline | None:
        """The pipeline for a downloaded file: the one the message names if it takes the type (as `for_file`), else,
        of those that take its suffix, the first whose `takes` says yes, asking the ones that look at the content
        first (a .docx transcript goes to 議事録作成, a notice to やさしい日本語)."""
        suffix = PurePath(attachment.name).suffix.lower()
        named = self.find(wanted) if wanted.strip() else None
        if named is not None and suffix in named.file_types:
            return named
        candidates = [p for p in self._current().values() if suffix in p.file_types]
        candidates.sort(key=lambda p: type(p).takes is Pipeline.takes)  # content checkers first; stable otherwise
        return next((p for p in candidates if p.takes(attachment)), None)

    def route(self, place: Place, stored: BindingStore, file_bindings: Mapping[str, str]) -> Route:
        """1:1 chats → the chat pipeline. Channels: set from Teams, else the settings file by channel id,
        else by channel name, else the default. Group chats are treated like unbound channels."""
        if place.kind == "personal":
            return Route(self.get(self.personal), "1対1チャット")
        key = binding_key(place)
        if key and (binding := stored.get(key)) and (pipeline := self.find_bindable(binding.pipeline)):
            return Route(pipeline, "Teams から設定")
        for candidate, source in ((key, "設定ファイル（チャネルID）"), (place.channel_name, "設定ファイル（チャネル名）")):
            if candidate and (name := file_bindings.get(candidate)) and (pipeline := self.find_bindable(name)):
                return Route(pipeline, source)
        return Route(self.get(self.default), "既定")


def binding_key(place: Place) -> str:
    """Channels are bound by channel id; group chats by conversation id."""
    return place.channel_id or place.conversation_id.split(";")[0]


def validate_bindings(registry: Registry, file_bindings: Mapping[str, str]) -> None:
    """Start-up check: every binding in the settings file names a registered pipeline."""
    for channel, name in file_bindings.items():
        if registry.find_bindable(name) is None:
            raise ValueError(
                f"設定ファイルの bindings で、チャネル '{channel}' に未登録のパイプライン '{name}' が指定されています"
                f"（使えるもの: {', '.join(p.name for p in registry.bindable())}）"
            )
