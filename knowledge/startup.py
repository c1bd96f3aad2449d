"""Opening the knowledge base the settings describe, and importing the sample FAQ on a new installation."""
from __future__ import annotations

import logging
from pathlib import Path

from hideki.settings import Settings
from knowledge.embeddings import default_embedder
from knowledge.store import ConcurrentChange, KnowledgeBase

log = logging.getLogger(__name__)


def open_knowledge_base(settings: Settings) -> KnowledgeBase:
    """On disk under the data directory by default; in the database and Chroma (one FAQ for every replica)
    when `database_url` or `chroma_url` is set."""
    if settings.database_url.get_secret_value() or settings.chroma_url:
        from knowledge.database import open_database_catalog

        return KnowledgeBase(open_database_catalog(settings), default_embedder)
    return KnowledgeBase(settings.knowledge_dir, default_embedder)


def open_and_seed_knowledge_base(settings: Settings) -> KnowledgeBase:
    """What the bot serves: `open_knowledge_base`, with the sample FAQ (`faq_seed`) imported if it is empty."""
    kb = open_knowledge_base(settings)
    if kb.current_version() is None and settings.faq_seed:
        import_sample_faq(kb, Path(settings.faq_seed))
    return kb


def import_sample_faq(kb: KnowledgeBase, path: Path) -> None:
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
