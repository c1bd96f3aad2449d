"""Opening the knowledge base from settings, and seeding it with the sample FAQ on the first start."""
from __future__ import annotations

import logging
from pathlib import Path

from hideki.settings import Settings
from knowledge.store import ConcurrentChange, KnowledgeBase

log = logging.getLogger(__name__)


def knowledge_base(settings: Settings) -> KnowledgeBase:
    """On disk under the data directory by default; shared by replicas when a database or Chroma server is set."""
    from knowledge.index import default_embedder

    if settings.database_url.get_secret_value() or settings.chroma_url:
        from knowledge.database import open_database_catalog

        return KnowledgeBase(open_database_catalog(settings), default_embedder)
    return KnowledgeBase(settings.knowledge_dir, default_embedder)


def open_knowledge(settings: Settings) -> KnowledgeBase:
    kb = knowledge_base(settings)
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
    try:
        version, change = kb.import_entries(result.entries, who="hideki (初回起動)", note=f"サンプル FAQ {path.name}")
    except ConcurrentChange:  # another replica starting at the same time seeded it first
        log.info("sample FAQ imported by another replica", extra={"version": kb.current_version()})
        return
    log.info("sample FAQ imported", extra={"version": version, "entries": len(change.added)})
