"""The FAQ knowledge base: versions, atomic switches, history and rollback, over a catalog that stores them.

On one machine the catalog is the `DiskCatalog`:

    $HIDEKI_DATA_DIR/knowledge/
        CURRENT              the serving version number, replaced atomically (os.replace)
        versions/0007/       one complete version: entries.jsonl, manifest.json, index/ (Chroma + lexical)
        history.jsonl        append-only: every import, removal and rollback (who, when, what changed)
        vectors.sqlite       embedding cache by content hash, so a re-import embeds only what changed

An import builds a new version beside the serving one (in versions/.building-*) and switches CURRENT only
when it is complete: a crash mid-import leaves the old version answering. Old versions are kept, so any
of them can be brought back with `rollback` (`prune` deletes old ones). A running bot notices a new CURRENT
written by the CLI.

With a database or Chroma server configured, `knowledge.database.DatabaseCatalog` keeps the same things in the
database (PostgreSQL) and the vectors in Chroma, so several replicas serve one FAQ.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Protocol, Sequence

from knowledge.entries import Entry

log = logging.getLogger(__name__)


class KnowledgeError(Exception):
    """A knowledge-base operation that cannot be done; the message is Japanese, for admins."""


@dataclass
class Change:
    added: list[Entry] = field(default_factory=list)
    updated: list[tuple[Entry, Entry]] = field(default_factory=list)  # (old, new)
    removed: list[Entry] = field(default_factory=list)
    unchanged: int = 0
    notes: list[str] = field(default_factory=list)  # e.g. a dense field left out because the endpoint was down

    @property
    def empty(self) -> bool:
        return not (self.added or self.updated or self.removed)

    def summary(self) -> str:
        counts = f"追加 {len(self.added)}件・更新 {len(self.updated)}件・削除 {len(self.removed)}件（変更なし {self.unchanged}件）"
        return "\n".join([counts, *(f"⚠️ {note}" for note in self.notes)])

    def counts(self) -> dict[str, int]:
        return {"added": len(self.added), "updated": len(self.updated), "removed": len(self.removed), "unchanged": self.unchanged}


def plan(current: Sequence[Entry], incoming: Sequence[Entry], mode: str = "sync") -> tuple[list[Entry], Change]:
    """The entries after an import, and what changes.

    mode "sync" (default): the imported files are the truth for their own source names — entries of those
    sources that the files no longer contain are removed; other sources are untouched.
    mode "merge": add and update only. mode "replace": the import becomes the whole knowledge base.
    """
    if mode not in ("sync", "merge", "replace"):
        raise ValueError(f"unknown import mode {mode!r}")
    by_id = {e.id: e for e in current}
    incoming_ids = {e.id for e in incoming}
    sources = {e.source for e in incoming}
    change = Change()
    result: dict[str, Entry] = {}
    for entry in current:
        drop = mode == "replace" or (mode == "sync" and entry.source in sources)
        if entry.id in incoming_ids:
            continue
        if drop:
            change.removed.append(entry)
        else:
            result[entry.id] = entry
    for entry in incoming:
        old = by_id.get(entry.id)
        if old is None:
            change.added.append(entry)
        elif old.content_hash != entry.content_hash or old.location != entry.location or old.source != entry.source:
            change.updated.append((old, entry))
        else:
            change.unchanged += 1
        result[entry.id] = entry
    return list(result.values()), change


class ConcurrentChange(KnowledgeError):
    """Another admin or replica switched the FAQ while this change was being built; nothing was switched."""

    def __init__(self) -> None:
        super().__init__("ほかの操作が先に FAQ を更新したため、反映しませんでした。もう一度お試しください。")


class Catalog(Protocol):
    """Where the versions live: on disk (`DiskCatalog`, the default) or in a shared database and Chroma server
    (`knowledge.database.DatabaseCatalog`). A version is built complete first, then `switch` makes it current."""

    poll_s: float  # how long a serving replica may keep answering from the version it saw last before asking again

    def current_version(self) -> int | None: ...

    def versions(self) -> list[int]: ...

    def entries(self, version: int) -> list[Entry]: ...

    def history(self) -> list[dict]: ...

    def publish(self, entries: list[Entry], fields, progress: Callable[[int, int], None] | None) -> int: ...

    def switch(self, version: int, base: int | None, record: dict) -> None: ...

    def open_index(self, version: int, fields): ...

    def missing_fields(self, version: int) -> dict[str, str]: ...

    def drop(self, version: int) -> None: ...


class DiskCatalog:
    """Versions as folders under the data directory (layout in the module docstring)."""

    poll_s = 0.0  # reading CURRENT is a small file read: every query

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "versions").mkdir(parents=True, exist_ok=True)
        for leftover in (root / "versions").glob(".building-*"):  # an import that crashed: never served
            shutil.rmtree(leftover, ignore_errors=True)

    def current_version(self) -> int | None:
        try:
            return int((self.root / "CURRENT").read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def versions(self) -> list[int]:
        return sorted(int(p.name) for p in (self.root / "versions").iterdir() if p.name.isdigit())

    def _version_dir(self, version: int) -> Path:
        return self.root / "versions" / f"{version:04d}"

    def entries(self, version: int) -> list[Entry]:
        path = self._version_dir(version) / "entries.jsonl"
        with path.open(encoding="utf-8") as f:
            return [Entry.from_json(json.loads(line)) for line in f if line.strip()]

    def history(self) -> list[dict]:
        path = self.root / "history.jsonl"
        if not path.exists():
            return []
        with path.open(encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]

    def open_index(self, version: int, fields):
        from knowledge.index import Index

        return Index.open(self._version_dir(version) / "index", fields)

    def missing_fields(self, version: int) -> dict[str, str]:
        """Dense fields left out of a version when it was built, with why (from its index's meta.json)."""
        meta = json.loads((self._version_dir(version) / "index" / "meta.json").read_text(encoding="utf-8"))
        return meta.get("missing", {})

    def publish(self, entries: list[Entry], fields, progress: Callable[[int, int], None] | None) -> int:
        from knowledge.index import Index, VectorCache

        version = max(self.versions(), default=0) + 1
        building = self.root / "versions" / f".building-{uuid.uuid4().hex[:8]}"
        building.mkdir()
        try:
            Index.build(building / "index", entries, fields, VectorCache(self.root / "vectors.sqlite"), progress)
            with (building / "entries.jsonl").open("w", encoding="utf-8") as f:
                for entry in entries:
                    f.write(json.dumps(entry.to_json(), ensure_ascii=False) + "\n")
            (building / "manifest.json").write_text(
                json.dumps({"version": version, "entries": len(entries), "built_at": time.time()}), encoding="utf-8"
            )
            building.rename(self._version_dir(version))
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
        return version

    def switch(self, version: int, base: int | None, record: dict) -> None:
        tmp = self.root / f".CURRENT-{uuid.uuid4().hex[:8]}"
        tmp.write_text(f"{version}\n")
        os.replace(tmp, self.root / "CURRENT")
        with (self.root / "history.jsonl").open("a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")

    def drop(self, version: int) -> None:
        shutil.rmtree(self._version_dir(version))


class KnowledgeBase:
    def __init__(self, storage: Path | Catalog, fields_factory: Callable[[], object],
                 clock: Callable[[], float] = time.monotonic) -> None:
        """`storage`: a folder for the on-disk layout, or a catalog (e.g. one shared by replicas);
        `fields_factory`: makes the index's dense fields (`knowledge.embeddings.DenseFields`) on first use."""
        self.catalog: Catalog = DiskCatalog(Path(storage)) if isinstance(storage, (str, Path)) else storage
        self._fields_factory = fields_factory
        self._fields: object | None = None
        self._clock = clock
        self._lock = threading.RLock()  # changes, one at a time
        self._loading = threading.Lock()  # one thread opens a new version; the others keep the old one meanwhile
        self._open: tuple[int, object] | None = None  # (version, Index)
        self._seen: tuple[float, int | None] | None = None  # (when, CURRENT) as last asked

    # --- reading ---------------------------------------------------------------------------------------
    @property
    def fields(self):
        if self._fields is None:
            self._fields = self._fields_factory()
        return self._fields

    def current_version(self) -> int | None:
        """The serving version: asked from the catalog at most every `catalog.poll_s` seconds."""
        now = self._clock()
        if self._seen is None or now - self._seen[0] >= self.catalog.poll_s:
            self._seen = (now, self.catalog.current_version())
        return self._seen[1]

    def versions(self) -> list[int]:
        return self.catalog.versions()

    def entries(self, version: int | None = None) -> list[Entry]:
        version = self.current_version() if version is None else version
        return [] if version is None else self.catalog.entries(version)

    def index(self):
        """The serving version's index, reopened when CURRENT changed (e.g. an import from the CLI or another
        replica). While one thread opens the new version, the others keep answering from the old one, and so
        does everyone if it cannot be opened (e.g. the Chroma server is unreachable; tried again next query)."""
        version = self.current_version()
        if version is None:
            return None
        opened = self._open
        if opened is not None and opened[0] == version:
            return opened[1]
        if opened is not None and not self._loading.acquire(blocking=False):
            return opened[1]
        if opened is None:
            self._loading.acquire()
        try:
            if self._open is None or self._open[0] != version:
                self._open = (version, self.catalog.open_index(version, self.fields))
            return self._open[1]
        except Exception:
            if self._open is None:
                raise
            log.warning("FAQ version not opened; still answering from the previous one",
                        extra={"version": version, "serving": self._open[0]}, exc_info=True)
            return self._open[1]
        finally:
            self._loading.release()

    def search(self, query: str, k: int = 5):
        index = self.index()
        return index.search(query, k) if index is not None else []

    def get(self, entry_id: str) -> Entry | None:
        return next((e for e in self.entries() if e.id == entry_id), None)

    def history(self) -> list[dict]:
        return self.catalog.history()

    # --- changing ---------------------------------------------------------------------------------------
    def preview(self, incoming: Sequence[Entry], mode: str = "sync") -> Change:
        return plan(self.entries(), incoming, mode)[1]

    def import_entries(
        self, incoming: Sequence[Entry], who: str, note: str = "", mode: str = "sync",
        progress: Callable[[int, int], None] | None = None,
    ) -> tuple[int | None, Change]:
        """Build and switch to a new version with `incoming` applied. Returns (version, change);
        version is None when nothing changed."""
        with self._lock:
            base = self.catalog.current_version()
            entries, change = plan(self._entries_of(base), incoming, mode)
            if change.empty and base is not None:
                return None, change
            version = self.catalog.publish(entries, self.fields, progress)
            self._switch(version, base, _record("import", who, note, version, change))
            change.notes += [f"埋め込み「{key}」はこの版に入っていません（{why}）。オフラインの検索項目で回答します。"
                             "次の取り込みで追加されます。" for key, why in self.catalog.missing_fields(version).items()]
            return version, change

    def remove(self, ids: Iterable[str], who: str) -> tuple[int | None, Change]:
        with self._lock:
            wanted = set(ids)
            base = self.catalog.current_version()
            current = self._entries_of(base)
            change = Change(removed=[e for e in current if e.id in wanted], unchanged=len(current))
            change.unchanged -= len(change.removed)
            if not change.removed:
                return None, change
            version = self.catalog.publish([e for e in current if e.id not in wanted], self.fields, None)
            self._switch(version, base, _record("remove", who, ", ".join(sorted(wanted)), version, change))
            return version, change

    def reindex(self, who: str, note: str) -> int | None:
        """Build the serving entries again as a new version (e.g. after the ranking's fields changed), unchanged."""
        with self._lock:
            base = self.catalog.current_version()
            if base is None:
                return None
            current = self._entries_of(base)
            version = self.catalog.publish(current, self.fields, None)
            self._switch(version, base, _record("reindex", who, note, version, Change(unchanged=len(current))))
            return version

    def rollback(self, version: int, who: str) -> Change:
        """Serve an earlier version again (it is kept; nothing is rebuilt)."""
        with self._lock:
            versions = self.catalog.versions()
            if version not in versions:
                raise KnowledgeError(f"版 {version} はありません（あるもの: {', '.join(map(str, versions)) or 'なし'}）")
            base = self.catalog.current_version()
            _, change = plan(self._entries_of(base), self.catalog.entries(version), "replace")
            self._switch(version, base, _record("rollback", who, f"版 {version} に戻しました", version, change))
            return change

    def prune(self, keep: int) -> list[int]:
        """Delete all but the newest `keep` versions (never the serving one); returns the deleted versions."""
        if keep < 1:
            raise ValueError("keep at least one version")
        with self._lock:
            current = self.catalog.current_version()
            old = [v for v in self.catalog.versions()[:-keep] if v != current]
            for version in old:
                self.catalog.drop(version)
            return old

    def _entries_of(self, version: int | None) -> list[Entry]:
        return [] if version is None else self.catalog.entries(version)

    def _switch(self, version: int, base: int | None, record: dict) -> None:
        try:
            self.catalog.switch(version, base, record)
        finally:
            self._seen = None  # ask again at the next query: this version, or the one that came first


def _record(action: str, who: str, note: str, version: int | None, change: Change) -> dict:
    """One line of the history: who did what, when, and what changed."""
    return {
        "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "action": action,
        "who": who,
        "note": note,
        "version": version,
        **change.counts(),
        "added_ids": [e.id for e in change.added],
        "updated_ids": [new.id for _, new in change.updated],
        "removed_ids": [e.id for e in change.removed],
    }
