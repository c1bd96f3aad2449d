"""The FAQ catalog in the database, so that every replica serves the same FAQ: versions, entries, history,
the CURRENT pointer and the embedding cache in the database (`hideki/state/db.py`: PostgreSQL with `HIDEKI_DATABASE_URL`, else SQLite), vectors in Chroma (a server with
`HIDEKI_CHROMA_URL`, else each replica's own Chroma under the data directory, filled from the database's cache).
`knowledge.startup` uses it when either URL is set; `knowledge.store.DiskCatalog` is the one-machine default.

Tables (created if missing):
    faq_versions   one row a version: state 'building' until complete, then 'ready'; embedder, counts, times
    faq_entries    the entries of each version, in row order (JSON)
    faq_current    the serving version: one row, switched by compare-and-set in the transaction that also
                   marks the new version ready and appends its history line
    faq_history    append-only: every import, removal and rollback (the same JSON lines as history.jsonl)
    faq_vectors    embedding cache by (embedder, field:content hash), so nothing is embedded twice by any replica

Chroma collections carry the install's prefix and the version (`hideki-v000007-questions`), so several
installations can share a server and old versions are dropped with their rows. The database is the truth: a
collection that is missing (a Chroma server restored empty) is filled again from the cache when a replica opens
that version. An import that dies before the switch leaves the serving version untouched; its rows and
collections are removed at once, or, if the process was killed, by the first publish after STALE_BUILD_S.
"""
from __future__ import annotations

import json
import logging
import re
import time
from typing import Callable, Iterable, Sequence
from urllib.parse import parse_qs, urlsplit

import numpy as np

from hideki.state.db import Database, open_database
from hideki.settings import Settings
from knowledge.entries import Entry
from knowledge.store import ConcurrentChange, KnowledgeError

log = logging.getLogger(__name__)

POLL_S = 2.0  # a replica asks for a new CURRENT at most this often (when queried)
STALE_BUILD_S = 6 * 3600  # a version still 'building' after this long belongs to an import that was killed

SCHEMA = """
CREATE TABLE IF NOT EXISTS faq_versions (
    version    INTEGER PRIMARY KEY AUTOINCREMENT,
    state      TEXT NOT NULL CHECK (state IN ('building', 'ready')),
    embedder   TEXT NOT NULL,
    dim        INTEGER NOT NULL,
    entries    INTEGER NOT NULL,
    started_at REAL NOT NULL,
    built_at   REAL
);
CREATE TABLE IF NOT EXISTS faq_entries (
    version  INTEGER NOT NULL,
    position INTEGER NOT NULL,
    data     TEXT NOT NULL,
    PRIMARY KEY (version, position)
);
CREATE TABLE IF NOT EXISTS faq_current (
    name    TEXT PRIMARY KEY,
    version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS faq_history (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    record TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS faq_vectors (
    embedder TEXT NOT NULL,
    key      TEXT NOT NULL,
    vector   BLOB NOT NULL,
    PRIMARY KEY (embedder, key)
);
"""

_PREFIX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,100}[A-Za-z0-9]$")


class DatabaseVectorCache:
    """Passage vectors by (embedder name, field:content hash) in the database; the interface of VectorCache."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get_many(self, embedder: str, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        conn = self.db.connect()
        for i in range(0, len(keys), 500):
            chunk = list(keys[i:i + 500])
            marks = ",".join("?" * len(chunk))
            rows = conn.execute(f"SELECT key, vector FROM faq_vectors WHERE embedder = ? AND key IN ({marks})",
                                [embedder, *chunk]).fetchall()
            for key, blob in rows:
                found[key] = np.frombuffer(bytes(blob), dtype=np.float32)
        return found

    def put_many(self, embedder: str, items: Iterable[tuple[str, np.ndarray]]) -> None:
        with self.db.transaction() as conn:
            for key, vector in items:
                conn.execute("INSERT INTO faq_vectors (embedder, key, vector) VALUES (?, ?, ?) "
                             "ON CONFLICT (embedder, key) DO UPDATE SET vector = excluded.vector",
                             (embedder, key, np.asarray(vector, dtype=np.float32).tobytes()))


class DatabaseCatalog:
    """The catalog of a `knowledge.store.KnowledgeBase` in the database, with a Chroma client for the vectors."""

    def __init__(self, db: Database, client, prefix: str = "hideki", poll_s: float = POLL_S) -> None:
        if not _PREFIX.match(prefix):
            raise ValueError(f"Chroma collection prefix {prefix!r}: 2-102 letters, digits, '.', '_' or '-'")
        self.db = db
        self.client = client
        self.prefix = prefix
        self.poll_s = poll_s
        self.cache = DatabaseVectorCache(db)
        self._built: tuple[int, object] | None = None  # (version, Index) just published here: served without reopening
        db.ensure_schema(SCHEMA)

    # --- reading ---------------------------------------------------------------------------------------
    def current_version(self) -> int | None:
        row = self.db.connect().execute("SELECT version FROM faq_current WHERE name = 'current'").fetchone()
        return None if row is None else int(row[0])

    def versions(self) -> list[int]:
        rows = self.db.connect().execute(
            "SELECT version FROM faq_versions WHERE state = 'ready' ORDER BY version").fetchall()
        return [int(r[0]) for r in rows]

    def entries(self, version: int) -> list[Entry]:
        rows = self.db.connect().execute(
            "SELECT data FROM faq_entries WHERE version = ? ORDER BY position", (version,)).fetchall()
        return [Entry.from_json(json.loads(r[0])) for r in rows]

    def history(self) -> list[dict]:
        rows = self.db.connect().execute("SELECT record FROM faq_history ORDER BY id").fetchall()
        return [json.loads(r[0]) for r in rows]

    def collection_names(self, version: int) -> dict[str, str]:
        """Our collection names → the names on the Chroma server for `version`."""
        from knowledge.index import COLLECTIONS

        return {name: f"{self.prefix}-v{version:06d}-{name}" for name in COLLECTIONS}

    def open_index(self, version: int, fields):
        from knowledge.index import Index

        built, self._built = self._built, None
        if built is not None and built[0] == version:
            return built[1]
        row = self.db.connect().execute("SELECT embedder, dim FROM faq_versions WHERE version = ?",
                                        (version,)).fetchone()
        if row is None:
            raise KnowledgeError(f"版 {version} はありません")
        if row[0] != fields.name or int(row[1]) != fields.dim:
            raise ValueError(f"version {version} was built with {row[0]!r}, not {fields.name!r}: import it again")
        return Index.open_in(self.client, self.collection_names(version), self.entries(version), fields, self.cache)

    def missing_fields(self, version: int) -> dict[str, str]:
        """Dense fields left out of the version just published here, with why."""
        return self._built[1].missing_fields if self._built is not None and self._built[0] == version else {}

    # --- changing ---------------------------------------------------------------------------------------
    def publish(self, entries: list[Entry], fields, progress: Callable[[int, int], None] | None) -> int:
        """Build a complete version (rows and collections), not yet serving; returns its number."""
        from knowledge.index import Index

        self._discard_stale()
        version = int(self.db.connect().execute(
            "INSERT INTO faq_versions (state, embedder, dim, entries, started_at) VALUES ('building', ?, ?, ?, ?) "
            "RETURNING version", (fields.name, fields.dim, len(entries), time.time())).fetchall()[0][0])
        try:
            index = Index.build_in(self.client, self.collection_names(version), entries, fields, self.cache, progress)
            with self.db.transaction() as conn:
                for position, entry in enumerate(entries):
                    conn.execute("INSERT INTO faq_entries (version, position, data) VALUES (?, ?, ?)",
                                 (version, position, json.dumps(entry.to_json(), ensure_ascii=False)))
        except BaseException:
            self._discard(version)
            raise
        self._built = (version, index)
        return version

    def switch(self, version: int, base: int | None, record: dict) -> None:
        """Serve `version` if CURRENT is still `base`: pointer, readiness and history in one transaction."""
        try:
            with self.db.transaction() as conn:
                if base is None:
                    cur = conn.execute("INSERT INTO faq_current (name, version) VALUES ('current', ?) "
                                       "ON CONFLICT (name) DO NOTHING", (version,))
                else:
                    cur = conn.execute("UPDATE faq_current SET version = ? WHERE name = 'current' AND version = ?",
                                       (version, base))
                if cur.rowcount != 1:
                    raise ConcurrentChange()
                cur = conn.execute("UPDATE faq_versions SET state = 'ready', built_at = COALESCE(built_at, ?) "
                                   "WHERE version = ?", (time.time(), version))
                if cur.rowcount != 1:
                    raise KnowledgeError(f"版 {version} はありません")
                conn.execute("INSERT INTO faq_history (record) VALUES (?)", (json.dumps(record, ensure_ascii=False),))
        except KnowledgeError:
            state = self.db.connect().execute("SELECT state FROM faq_versions WHERE version = ?",
                                              (version,)).fetchone()
            if state is not None and state[0] == "building":  # built for this change, which will not be served
                self._discard(version)
            raise

    def drop(self, version: int) -> None:
        """Delete a version that is not serving: its collections and its rows."""
        self._drop_collections(version)
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM faq_entries WHERE version = ?", (version,))
            conn.execute("DELETE FROM faq_versions WHERE version = ?", (version,))

    def _drop_collections(self, version: int) -> None:
        from chromadb.errors import NotFoundError

        for name in self.collection_names(version).values():
            try:
                self.client.delete_collection(name)
            except NotFoundError:
                pass

    def _discard(self, version: int) -> None:
        """Best-effort removal of a version that never served; what fails here, `_discard_stale` removes later."""
        try:
            self.drop(version)
        except Exception:
            log.warning("unfinished FAQ version left for later clean-up", extra={"version": version}, exc_info=True)

    def _discard_stale(self) -> None:
        rows = self.db.connect().execute("SELECT version FROM faq_versions WHERE state = 'building' AND started_at < ?",
                                         (time.time() - STALE_BUILD_S,)).fetchall()
        for (version,) in rows:
            log.info("removing an FAQ version whose import never finished", extra={"version": int(version)})
            self._discard(int(version))


def chroma_client(url: str):
    """`http(s)://host:port` → (HttpClient, collection prefix). `?prefix=name` lets installations share a server."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"HIDEKI_CHROMA_URL must look like http://host:8000, not {url!r}")
    ssl = parts.scheme == "https"
    prefix = parse_qs(parts.query).get("prefix", ["hideki"])[0]
    client = chromadb.HttpClient(host=parts.hostname, port=parts.port or (443 if ssl else 8000), ssl=ssl,
                                 settings=ChromaSettings(anonymized_telemetry=False))
    return client, prefix


def open_database_catalog(settings: Settings) -> DatabaseCatalog:
    """The catalog for `database_url` / `chroma_url` (either may be empty: SQLite, or a local Chroma)."""
    from knowledge.index import local_chroma_client

    if settings.chroma_url:
        client, prefix = chroma_client(settings.chroma_url)
    else:
        client, prefix = local_chroma_client(settings.knowledge_dir), "hideki"
    return DatabaseCatalog(open_database(settings), client, prefix)
