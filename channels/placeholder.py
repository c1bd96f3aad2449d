"""Channel pipelines that are not built yet: they say so plainly and produce nothing else."""
from __future__ import annotations

from channels.base import PipelineContext, Reply, Request


class NotReadyPipeline:
    name = ""
    title = ""
    description = ""
    prompts: dict[str, tuple[str, ...]] = {}
    uses_memory = False

    def __init__(self, context: PipelineContext) -> None:
        self._context = context

    async def run(self, request: Request) -> Reply:
        return Reply(
            f"「{self.title}」はまだ準備中です。この機能の提供まで、もうしばらくお待ちください。\n\n"
            "今使える機能は「ヘルプ」で確認できます。",
            remember=False,
        )
