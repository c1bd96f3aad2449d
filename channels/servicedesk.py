"""サービスデスク: placeholder until its issue lands (says it is not ready; no fake output)."""
from __future__ import annotations

from channels.placeholder import NotReadyPipeline


class ServiceDeskPipeline(NotReadyPipeline):
    name = "servicedesk"
    title = "サービスデスク"
    description = "ICTに関する質問に、FAQを根拠として出典付きで答えます。"
