"""Opening the knowledge base from settings, and seeding it with the sample FAQ on the first start."""
from __future__ import annotations

import logging
from pathlib import Path

from hideki.settings import Settings
from knowledge.store import KnowledgeBase

log = logging.getLogger(__name__)


def open_knowledge(settings: Settings) -> KnowledgeBase:
    from knowledge.index import default_embedder

    kb = KnowledgeBase(settings.knowledge_dir, default_embedder)
    if kb.current_version() is None and settings.faq_seed:
        seed(kb, Path(settings.faq_seed))
    return kb


def seed(kb: KnowledgeBase, path: Path) -> None:
    """Import the sample FAQ so that a new installation can answer at once."""
    from knowledge.importers import read_source

    result = read_source(path)
    if not result.entries:
        log.warning("sample FAQ not imported", extra={"path": str(path), "problems": len(result.problems)})
        return
    version, change = kb.import_entries(result.entries, who="hideki (初回起動)", note=f"サンプル FAQ {path.name}")
    log.info("sample FAQ imported", extra={"version": version, "entries": len(change.added)})
