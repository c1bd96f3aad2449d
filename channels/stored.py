"""Pipeline definitions kept in the database, with history and rollback, and written into each replica's folder.

The database (`hideki/state/db.py`: SQLite under the data directory, or PostgreSQL shared by every replica) holds
what came through Teams (反映) or the CLI (`hideki pipelines apply|rollback|remove`). Tables (created if missing):

    pipeline_versions  one row per change: (pipeline_id, version) numbered 1, 2, … per id; the definition as one
                       TOML text with its prompts inline ('' for a removal); who, when, the action ('applied',
                       'rolled back', 'removed') and a note saying what changed
    pipeline_serving   the serving version per id, set in the transaction that appends its row

The folder `$HIDEKI_DATA_DIR/pipelines/` stays the one source the loader reads (channels.custom): `FolderSync`
writes the serving version of an id into `pipelines/<id>/` when it changes in the database, and records the version
it wrote in `pipelines/.stored/<id>`. So each change reaches the folder once; between changes the folder is the
admin's, and a hand edit is served until the next upload, rollback or removal of that id. A folder whose id the
database never saw is never touched. A stored version that fails the checks is logged and not written: the
previous files, and so the previous pipeline, stay in use.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from channels.definitions import (
    FILE_NAMES, Definition, DefinitionError, Reserved, check_titles, folders, load_folder, parse_definition,
)
from hideki.state.db import Database

log = logging.getLogger(__name__)

HISTORY = ".history"  # pipelines/.history/<id>/<time>-<who>/: the files a write replaced
MARKS = ".stored"  # pipelines/.stored/<id>: the database version last written into pipelines/<id>/
ACTIONS = {"applied": "反映", "rolled back": "ロールバック", "removed": "削除"}

SCHEMA = """
CREATE TABLE IF NOT EXISTS pipeline_versions (
    pipeline_id TEXT NOT NULL,
    version     INTEGER NOT NULL,
    definition  TEXT NOT NULL,
    who         TEXT NOT NULL,
    at          REAL NOT NULL,
    action      TEXT NOT NULL CHECK (action IN ('applied', 'rolled back', 'removed')),
    note        TEXT NOT NULL,
    PRIMARY KEY (pipeline_id, version)
);
CREATE TABLE IF NOT EXISTS pipeline_serving (
    pipeline_id TEXT PRIMARY KEY,
    version     INTEGER NOT NULL
);
"""

_write_lock = threading.Lock()  # one writer of the folder at a time in this process (upload, sync)


class StoreError(ValueError):
    """A change the store refuses; the message is Japanese."""


@dataclass(frozen=True)
class StoredVersion:
    pipeline_id: str
    version: int
    definition: str  # TOML with the prompts inline; "" for a removal
    who: str
    at: float
    action: str  # "applied", "rolled back" or "removed"
    note: str

    @property
    def when(self) -> str:
        return dt.datetime.fromtimestamp(self.at).astimezone().strftime("%Y-%m-%d %H:%M:%S")


class DefinitionStore:
    """The versions of every stored definition and the serving one per id."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.ensure_schema(SCHEMA)

    def serving(self) -> dict[str, int]:
        rows = self.db.connect().execute("SELECT pipeline_id, version FROM pipeline_serving").fetchall()
        return {pipeline_id: int(version) for pipeline_id, version in rows}

    def get(self, pipeline_id: str, version: int) -> StoredVersion | None:
        row = self.db.connect().execute(
            "SELECT pipeline_id, version, definition, who, at, action, note FROM pipeline_versions "
            "WHERE pipeline_id = ? AND version = ?", (pipeline_id, version)).fetchone()
        return _version(row) if row else None

    def history(self, pipeline_id: str | None = None) -> list[StoredVersion]:
        """Every change, oldest first (of one id, or of all)."""
        sql = "SELECT pipeline_id, version, definition, who, at, action, note FROM pipeline_versions"
        if pipeline_id is None:
            rows = self.db.connect().execute(sql + " ORDER BY at, pipeline_id, version").fetchall()
        else:
            rows = self.db.connect().execute(sql + " WHERE pipeline_id = ? ORDER BY version", (pipeline_id,)).fetchall()
        return [_version(row) for row in rows]

    def apply(self, pipeline_id: str, toml: str, who: str, note: str) -> int:
        """Store a checked definition as the new serving version of `pipeline_id`; its number."""
        return self._append(pipeline_id, toml, who, "applied", note)

    def rollback(self, pipeline_id: str, version: int, who: str) -> int:
        """Serve the definition of an earlier version again, as a new version; its number."""
        old = self.get(pipeline_id, version)
        if old is None:
            raise StoreError(f"「{pipeline_id}」の版 {version} はありません（hideki pipelines history {pipeline_id} で確かめてください）。")
        if old.action == "removed":
            raise StoreError(f"「{pipeline_id}」の版 {version} は削除の記録です。定義のある版を指定してください。")
        return self._append(pipeline_id, old.definition, who, "rolled back", f"版 {version} に戻しました")

    def remove(self, pipeline_id: str, who: str) -> int:
        """Stop serving `pipeline_id` (recorded as a version without a definition)."""
        version = self.serving().get(pipeline_id)
        current = self.get(pipeline_id, version) if version else None
        if current is None or current.action == "removed":
            raise StoreError(f"「{pipeline_id}」はデータベースに保存された定義ではありません"
                             f"（手で置いたフォルダなら、フォルダを消してください）。")
        return self._append(pipeline_id, "", who, "removed", "削除しました")

    def _append(self, pipeline_id: str, definition: str, who: str, action: str, note: str) -> int:
        with self.db.transaction() as conn:
            # the serving row is written first: it locks this id until the commit, so versions never collide
            conn.execute("INSERT INTO pipeline_serving (pipeline_id, version) VALUES (?, 0) "
                         "ON CONFLICT (pipeline_id) DO UPDATE SET version = pipeline_serving.version", (pipeline_id,))
            top = conn.execute("SELECT MAX(version) FROM pipeline_versions WHERE pipeline_id = ?",
                               (pipeline_id,)).fetchone()[0]
            version = int(top or 0) + 1
            conn.execute("INSERT INTO pipeline_versions (pipeline_id, version, definition, who, at, action, note) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?)", (pipeline_id, version, definition, who, time.time(), action, note))
            conn.execute("UPDATE pipeline_serving SET version = ? WHERE pipeline_id = ?", (version, pipeline_id))
        return version


def _version(row) -> StoredVersion:
    pipeline_id, version, definition, who, at, action, note = row
    return StoredVersion(pipeline_id, int(version), definition, who, float(at), action, note)


# --------------------------------------------------------------------------- checking a new definition

def check_new(pipeline_id: str | None, data: bytes, where: Path, directory: Path, reserved: Reserved) -> Definition:
    """Check a one-file definition about to be applied, and that its title is not another definition's
    (`pipeline_id` None: taken from its `id` key)."""
    definition = parse_definition(pipeline_id, data, {}, where, reserved)
    others = []
    for folder in folders(directory):
        if folder.name != definition.id:
            try:
                others.append(load_folder(folder, reserved))
            except (DefinitionError, OSError):
                continue  # a broken neighbour is its own problem (and not in use)
    check_titles([*others, definition])
    return definition


def existing(directory: Path, pipeline_id: str, reserved: Reserved) -> Definition | None:
    """The definition in the folder of `pipeline_id`, or None if there is none (or it is broken)."""
    folder = directory / pipeline_id
    if not (folder / "pipeline.toml").exists():
        return None
    try:
        return load_folder(folder, reserved)
    except (DefinitionError, OSError):
        return None


def describe_change(old: Definition | None, new: Definition, done: bool = False) -> str:
    """What applying `new` over `old` does (`done`: did), in one Japanese line: the preview, and the history's note."""
    add, replace = ("追加しました", "置き換えました") if done else ("追加します", "置き換えます")
    if old is None:
        return f"新しい機能「{new.title}」（{new.id}）を{add}"
    before, after = old.spec.model_dump(exclude={"system", "user"}), new.spec.model_dump(exclude={"system", "user"})
    changed = [key for key in after if before[key] != after[key]]
    if old.system_text != new.system_text:
        changed.append("システムプロンプト")
    if old.user_text != new.user_text:
        changed.append("ユーザープロンプト")
    what = "、".join(changed) if changed else "変更なし"
    return f"「{old.title}」（{new.id}）を{replace}（変わる項目: {what}）"


# --------------------------------------------------------------------------- the folder

def write_folder(directory: Path, pipeline_id: str, toml: str, author: str, version: int | None = None) -> str:
    """Write a one-file definition into `directory/<id>/` (the previous files to the history first) and, for a
    database version, record it; the history folder (relative to `directory`), or "" if the folder is new."""
    with _write_lock:
        folder = directory / pipeline_id
        kept = ""
        if folder.exists():
            history = _history_folder(directory, pipeline_id, author)
            history.mkdir(parents=True)
            for name in FILE_NAMES:
                if (folder / name).is_file():
                    shutil.copy2(folder / name, history / name)
            kept = str(history.relative_to(directory))
        folder.mkdir(parents=True, exist_ok=True)
        for name in FILE_NAMES[1:]:  # the definition is one file: its prompts are inline
            (folder / name).unlink(missing_ok=True)
        _replace(folder / "pipeline.toml", toml)
        if version is not None:
            _mark(directory, pipeline_id, version)
        return kept


def remove_folder(directory: Path, pipeline_id: str, author: str, version: int) -> str:
    """Move `directory/<id>/` into the history (if it is there) and record the removal's version."""
    with _write_lock:
        folder = directory / pipeline_id
        kept = ""
        if folder.is_dir():
            history = _history_folder(directory, pipeline_id, author)
            history.parent.mkdir(parents=True, exist_ok=True)
            os.replace(folder, history)
            kept = str(history.relative_to(directory))
        _mark(directory, pipeline_id, version)
        return kept


def written_version(directory: Path, pipeline_id: str) -> int | None:
    """The database version last written into the folder of `pipeline_id`, if any."""
    try:
        return int((directory / MARKS / pipeline_id).read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None


def _mark(directory: Path, pipeline_id: str, version: int) -> None:
    (directory / MARKS).mkdir(parents=True, exist_ok=True)
    _replace(directory / MARKS / pipeline_id, f"{version}\n")


def _replace(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.new")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _history_folder(directory: Path, pipeline_id: str, author: str) -> Path:
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    safe = "".join(ch for ch in author[:40] if ch.isalnum() or ch in "-_.") or "admin"
    return directory / HISTORY / pipeline_id / f"{stamp}-{safe}"


class FolderSync:
    """Writes the database's serving versions into the folder of one replica (see the module docstring)."""

    def __init__(self, store: DefinitionStore, directory: Path, reserved: Reserved) -> None:
        self.store = store
        self.directory = directory
        self.reserved = reserved
        self._known: dict[str, int] = {}  # id → version known to be in the folder
        self._rejected: set[tuple[str, int]] = set()  # broken stored versions, logged once

    def sync(self) -> set[str]:
        """Bring the folder up to the database; the ids whose folder was written or removed."""
        changed: set[str] = set()
        for pipeline_id, version in self.store.serving().items():
            if version == 0 or self._known.get(pipeline_id) == version or (pipeline_id, version) in self._rejected:
                continue
            if written_version(self.directory, pipeline_id) == version:  # another replica sharing the folder, or us
                self._known[pipeline_id] = version
                continue
            stored = self.store.get(pipeline_id, version)
            if stored is None:
                continue
            if stored.action == "removed":
                remove_folder(self.directory, pipeline_id, stored.who, version)
                log.info("custom pipeline removed from the database", extra={"pipeline": pipeline_id, "version": version})
            else:
                try:
                    where = self.directory / pipeline_id / f"pipeline.toml（データベースの版 {version}）"
                    check_new(pipeline_id, stored.definition.encode("utf-8"), where, self.directory, self.reserved)
                except DefinitionError as exc:
                    log.error("stored custom pipeline not written, the previous version stays in use: %s", exc,
                              extra={"pipeline": pipeline_id, "version": version})
                    self._rejected.add((pipeline_id, version))
                    continue
                write_folder(self.directory, pipeline_id, stored.definition, stored.who, version)
                log.info("custom pipeline written from the database", extra={"pipeline": pipeline_id, "version": version})
            self._known[pipeline_id] = version
            changed.add(pipeline_id)
        return changed
