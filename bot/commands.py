"""Bot commands typed after the mention — ヘルプ, 設定, 設定 解除, リセット, and pipeline actions such as FAQ状況 — read
from the text (`parse`) and answered (`Commands`), with the other fixed texts the bot answers at once."""
from __future__ import annotations

import html
import logging
import re
import unicodedata
from dataclasses import dataclass
from typing import Sequence

from channels.base import Place, User
from channels.dispatch import Dispatcher
from channels.registry import Registry, binding_key
from hideki.state.stores import BindingStore, MemoryStore

log = logging.getLogger(__name__)

_HELP = {"ヘルプ", "help", "?", "使い方", "へるぷ"}
_SET = {"設定", "set", "bind"}
_UNSET_ARGS = {"解除", "リセット", "reset", "unset", "clear"}
_RESET = {"リセット", "会話をリセット", "reset", "忘れて"}
# commands that a pipeline answers (as a card action would): text → "<pipeline>.<verb>"
_PIPELINE_COMMANDS = {"faq状況": "servicedesk.status", "faqstatus": "servicedesk.status"}


@dataclass(frozen=True)
class Command:
    kind: str  # "help", "show_binding", "bind", "unbind", "reset", "pipeline_action"
    argument: str = ""


def parse(text: str) -> Command | None:
    """The command in `text` (mention already removed), or None for ordinary input."""
    normalized = unicodedata.normalize("NFKC", text).strip()
    if "\n" in normalized or len(normalized) > 60:
        return None  # commands are one short line; anything longer is content
    head, _, rest = normalized.partition(" ")
    head, rest = head.lower(), rest.strip()
    if head in _HELP and not rest:
        return Command("help")
    if head in _SET:
        if not rest:
            return Command("show_binding")
        if rest.lower() in _UNSET_ARGS:
            return Command("unbind")
        return Command("bind", rest)
    if head in _RESET and not rest:
        return Command("reset")
    if (action := _PIPELINE_COMMANDS.get(normalized.lower().replace(" ", ""))) is not None:
        return Command("pipeline_action", action)
    return None


def strip_markup(text: str) -> str:
    """Teams sends HTML-ish text in channels: paragraphs, <br>, entities."""
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", text)
    text = re.sub(r"(?i)<(/?)(p|div|span|strong|b|i|em|u|s)(\s[^>]*)?>", "", text)
    return html.unescape(text).strip()


class Commands:
    """The answers to commands and the bot's fixed texts (help, welcome, usage, unsupported files): quick lookups
    with no model call, sent at once by the intake."""

    def __init__(self, dispatcher: Dispatcher, registry: Registry, bindings: BindingStore, memory: MemoryStore,
                 admins: Sequence[str], model: str) -> None:
        self._dispatcher = dispatcher  # for the route of a place: the same one a message would take
        self._registry = registry
        self._bindings = bindings
        self._memory = memory
        self._admins = admins
        self._model = model  # the model in use, as ヘルプ shows it

    def answer(self, command: Command, place: Place, user: User) -> str:
        """The answer to ヘルプ, 設定, 設定 <機能名>, 設定 解除 or リセット (pipeline actions go to the dispatcher)."""
        if command.kind == "help":
            return self.help_text(place)
        if command.kind == "reset":
            if place.kind != "personal":
                return "「リセット」は1対1チャットで会話の記憶を消すコマンドです。"
            removed = self._memory.clear(place.conversation_id)
            return "会話の記憶を消しました。" if removed else "消す会話の記憶はありません。"
        # binding commands
        if place.kind == "personal":
            return "1対1チャットはいつもチャット機能です。チャネルで @Hideki 設定 <機能名> と送ってください。"
        route = self._dispatcher.route(place)
        if command.kind == "show_binding":
            return f"このチャネルの機能: **{route.pipeline.title}**（{route.pipeline.name}、{route.source}）\n\nチャネルID: `{binding_key(place)}`"
        if user.aad_object_id not in self._admins:
            return (
                "チャネルの設定を変えられるのは管理者だけです。\n\n"
                f"管理者に依頼してください（あなたの Entra オブジェクトID: `{user.aad_object_id or '不明'}`）。"
            )
        key = binding_key(place)
        if command.kind == "unbind":
            self._bindings.remove(key)
            now = self._dispatcher.route(place)
            log.info("binding removed", extra={"channel": key, "by": user.aad_object_id})
            return f"Teams からの設定を解除しました。このチャネルの機能は **{now.pipeline.title}**（{now.source}）です。"
        pipeline = self._registry.find_bindable(command.argument)
        if pipeline is None:
            names = "、".join(f"{p.title}（{p.name}）" for p in self._registry.bindable() if p.name != "chat")
            return f"「{command.argument}」という機能はありません。使える機能: {names}"
        self._bindings.set(key, pipeline.name, user.aad_object_id)
        log.info("binding set", extra={"channel": key, "pipeline": pipeline.name, "by": user.aad_object_id})
        return f"このチャネルを **{pipeline.title}** に設定しました。@Hideki に続けて文章を送ると、{pipeline.title}の処理をします。"

    def help_text(self, place: Place) -> str:
        route = self._dispatcher.route(place)
        lines = ["**Hideki の使い方**", ""]
        if place.kind == "personal":
            lines.append(f"この1対1チャットの機能: **{route.pipeline.title}**")
        else:
            lines.append(f"このチャネルの機能: **{route.pipeline.title}**（{route.pipeline.name}、{route.source}）")
            lines.append(f"チャネルID: `{binding_key(place)}`")
        lines += ["", "機能の一覧:"]
        lines += [f"- **{p.title}**（{p.name}）: {p.description}" for p in self._registry.bindable()]
        lines += [
            "",
            "コマンド: `ヘルプ` ・ `設定`（今の機能を表示）・ `設定 <機能名>` と `設定 解除`（管理者のみ）・ `リセット`（1対1チャットの記憶を消す）",
            f"生成AIモデル: {self._model}",
        ]
        return "\n".join(lines)

    def welcome_text(self, place: Place) -> str:
        return "こんにちは。Hideki です。市役所の仕事を手伝う AI アシスタントです。\n\n" + self.help_text(place)

    def suggestions(self, place: Place) -> list[str]:
        """Messages the 1:1 welcome offers as one-tap suggestions: ヘルプ, 設定 and the pipeline's example."""
        example = self._dispatcher.route(place).pipeline.example
        return ["ヘルプ", "設定", *([example] if example else [])]

    def unsupported_files_text(self, names: list[str]) -> str:
        kinds = "、".join(f"{p.title}（{' '.join(p.file_types)}）" for p in self._registry if p.file_types)
        return (
            f"「{'」「'.join(names)}」は、この形式には対応していません。\n\n"
            f"1対1チャットで受け付けるファイル: {kinds or 'なし'}。文章はメッセージに貼り付けて送ってください。"
        )

    def usage_text(self, place: Place) -> str:
        return self._dispatcher.route(place).pipeline.usage_text()
