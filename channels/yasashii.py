"""やさしい日本語: placeholder until its issue lands (says it is not ready; no fake output)."""
from __future__ import annotations

from channels.placeholder import NotReadyPipeline


class YasashiiPipeline(NotReadyPipeline):
    name = "yasashii"
    title = "やさしい日本語"
    description = "公用文をやさしい日本語に書き換え、漢字に読み仮名を付けます。"
