"""Opening the knowledge base the settings describe (its store and dense fields), and importing the sample FAQ on a
new installation."""
from __future__ import annotations

import logging
from pathlib import Path

from hideki.settings import Settings
from knowledge.embeddings import DenseField, DenseFields, offline_fields
from knowledge.store import ConcurrentChange, KnowledgeBase

log = logging.getLogger(__name__)


def open_knowledge_base(settings: Settings) -> KnowledgeBase:
    """On disk under the data directory by default; in the database and Chroma (one FAQ for every replica)
    when `database_url` or `chroma_url` is set."""
    if settings.database_url.get_secret_value() or settings.chroma_url:
        from knowledge.database import open_database_catalog

        return KnowledgeBase(open_database_catalog(settings), lambda: dense_fields(settings))
    return KnowledgeBase(settings.knowledge_dir, lambda: dense_fields(settings))


def dense_fields(settings: Settings) -> DenseFields:
    """The offline fields (USE, e5), and the embeddings endpoint when `embeddings_url` is set."""
    offline = offline_fields()
    if not settings.embeddings_url:
        return offline
    from knowledge.endpoint import EndpointEmbedder

    key = settings.embeddings_api_key.get_secret_value()
    token = None
    if settings.embeddings_azure and not key:
        key = settings.azure_api_key.get_secret_value()
        if not key and settings.azure_managed_identity_client_id:
            from hideki.llm.identity import COGNITIVE_SERVICES, ManagedIdentityTokens

            identity = ManagedIdentityTokens(settings.azure_managed_identity_client_id)
            token = lambda: identity.token(COGNITIVE_SERVICES)  # noqa: E731
    endpoint = EndpointEmbedder(
        settings.embeddings_url, settings.embeddings_model, key, azure=settings.embeddings_azure,
        api_version=settings.azure_api_version, token=token,
        query_prefix=settings.embeddings_query_prefix, passage_prefix=settings.embeddings_passage_prefix,
        query_input_type=settings.embeddings_query_input_type,
        passage_input_type=settings.embeddings_passage_input_type, dimensions=settings.embeddings_dimensions,
        batch=settings.embeddings_batch, timeout_s=settings.embeddings_timeout_s,
        max_retries=settings.embeddings_max_retries)
    return DenseFields([*offline.fields, DenseField("endpoint", endpoint, settings.embeddings_weight)])


def open_and_seed_knowledge_base(settings: Settings) -> KnowledgeBase:
    """What the bot serves: `open_knowledge_base`, with the sample FAQ (`faq_seed`) imported if it is empty."""
    kb = open_knowledge_base(settings)
    if kb.current_version() is None and settings.faq_seed:
        import_sample_faq(kb, Path(settings.faq_seed))
    elif kb.current_version() is not None:
        reindex_if_outdated(kb)
    return kb


def reindex_if_outdated(kb: KnowledgeBase) -> None:
    """An FAQ indexed by an earlier release (other fields or format) is indexed again before serving."""
    try:
        kb.index()
    except ValueError as error:  # Index.open: built with other fields or an earlier format
        log.info("FAQ index is outdated; indexing it again", extra={"reason": str(error)})
        try:
            kb.reindex("hideki (検索方式の更新)", "検索方式の更新に合わせて索引を作り直しました")
        except ConcurrentChange:  # another replica did it first
            pass


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
