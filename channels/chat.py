"""1:1 chat: a general assistant that remembers the conversation within a token budget."""
from __future__ import annotations

import datetime as dt
from typing import Callable

from channels.base import Pipeline, PipelineContext, Reply, Request, offline_note
from hideki.llm.gateway import LLMError

_WEEKDAYS = "月火水木金土日"

OFFLINE_TEXT = (
    "自由な質問に答えるには生成AIモデルが必要です。管理者がモデルを設定すると使えるようになります。\n\n"
    "チャネルの機能（やさしい日本語、Q&A生成、議事録作成、サービスデスク）は、モデルがなくても使えます。"
    "「ヘルプ」と送ると一覧を表示します。"
)


class ChatPipeline(Pipeline):
    name = "chat"
    title = "チャット"
    description = "何でも相談できる汎用アシスタントです。会話の流れ（チャネルではスレッドごと）を覚えて答えます。"
    example = "住民票の写しの取り方を、窓口とコンビニで比べて教えて"
    prompts = {"system": ("today",)}
    uses_memory = True
    max_input_chars = 20_000

    def __init__(self, context: PipelineContext, today: Callable[[], dt.date] = dt.date.today) -> None:
        self._prompts = context.prompts
        self._today = today

    async def run(self, request: Request) -> Reply:
        if request.llm is None:
            return Reply(OFFLINE_TEXT, warnings=[offline_note()], offline=True, remember=False)
        llm = request.llm
        today = self._today()
        system = {"role": "system", "content": self._prompts.render("system", today=f"{today:%Y年%m月%d日}（{_WEEKDAYS[today.weekday()]}）")}
        warnings: list[str] = []
        budget = llm.input_budget - llm.counter.count_messages([system])
        text = request.text
        if llm.counter.count(text) > budget:
            text = llm.counter.truncate(text, budget)
            warnings.append("⚠️ メッセージが長すぎるため、前半だけを読んで答えています。")
        question = {"role": "user", "content": text}
        budget -= llm.counter.count_messages([question])
        history: list[dict[str, str]] = []
        for turn in reversed(request.history):  # newest first, until the budget is spent
            cost = turn.tokens + 4
            if cost > budget:
                break
            history.insert(0, {"role": turn.role, "content": turn.content})
            budget -= cost
        while history and history[0]["role"] == "assistant":
            history.pop(0)
        try:
            completion = await llm.complete([system, *history, question], on_text=request.stream)
        except LLMError as exc:
            if exc.partial:  # a streamed answer broke off: keep what the user has already seen, and say so
                return Reply(exc.partial, warnings=[f"⚠️ {exc.user_message}回答は途中までです。同じメッセージをもう一度送ってください。"],
                             model_written=True, remember=False)
            if exc.kind == "pii_blocked":
                return Reply(f"⚠️ {exc.user_message}個人情報を除いてから、もう一度送ってください。", offline=True, remember=False)
            return Reply(
                f"⚠️ {exc.user_message}少し待ってから、同じメッセージをもう一度送ってください。",
                offline=True,
                remember=False,
            )
        if completion.truncated:
            warnings.append("⚠️ 回答が長いため途中で終わっています。「続けて」と送ると続きを書きます。")
        return Reply(completion.text, usage=completion.usage, warnings=warnings, model_written=True)
