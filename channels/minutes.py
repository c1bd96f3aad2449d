"""議事録作成: placeholder until its issue lands (says it is not ready; no fake output)."""
from __future__ import annotations

from channels.placeholder import NotReadyPipeline


class MinutesPipeline(NotReadyPipeline):
    name = "minutes"
    title = "議事録作成"
    description = "会議の文字起こし（貼り付け、.vtt、.docx）から議事録を作ります。"
