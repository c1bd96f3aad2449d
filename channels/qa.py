"""Q&A生成: placeholder until its issue lands (says it is not ready; no fake output)."""
from __future__ import annotations

from channels.placeholder import NotReadyPipeline


class QAPipeline(NotReadyPipeline):
    name = "qa"
    title = "Q&A生成"
    description = "お知らせやマニュアルから、FAQ用の質問と回答の組を作ります。"
