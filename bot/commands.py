"""Bot commands typed after the mention: ヘルプ, 設定, リセット."""
from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

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
