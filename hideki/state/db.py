"""The relational database behind every store: SQLite under the data directory, or PostgreSQL by settings.

SQL is written once, for SQLite, with `?` placeholders and `INSERT … ON CONFLICT … DO UPDATE`; on PostgreSQL
the placeholders become `%s` and schema scripts get PostgreSQL types (identity keys, DOUBLE PRECISION, BYTEA,
BIGINT for SQLite's 64-bit INTEGER). Each thread gets its own connection, in autocommit mode; `transaction()`
groups statements atomically. Statements are short indexed lookups and run inline, on the caller's thread.

Inside `transaction()` nothing may be awaited: everything on the thread uses the same connection.
"""
from __future__ import annotations

import re
import sqlite3
import threading
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Protocol, Sequence

if TYPE_CHECKING:
    from hideki.settings import Settings

# Schema scripts of several replicas starting together are serialized by this advisory lock (PostgreSQL).
_SCHEMA_LOCK = 0x48494445  # "HIDE"


class Cursor(Protocol):
    rowcount: int
    description: Any

    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class Connection(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor: ...
    def executescript(self, ddl: str) -> Any: ...


class Database:
    """One SQLite file; a connection per thread."""

    dialect = "sqlite"
    Error: type[Exception] = sqlite3.DatabaseError

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._local = threading.local()
        self._schemas: set[str] = set()
        self._schema_lock = threading.Lock()

    def connect(self) -> Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """Statements that commit together or not at all; the write lock is taken at the start."""
        conn = self.connect()
        if conn.in_transaction:  # nested: part of the outer transaction
            yield conn
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def ensure_schema(self, ddl: str) -> None:
        """Run a `CREATE … IF NOT EXISTS` script once per Database object."""
        with self._schema_lock:
            if ddl in self._schemas:
                return
            self.connect().executescript(ddl)
            self._schemas.add(ddl)

    def close(self) -> None:
        """Close this thread's connection (the next `connect()` opens a new one)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


class PostgresDatabase(Database):
    """A PostgreSQL database shared by every replica; a connection per thread."""

    dialect = "postgres"

    def __init__(self, url: str) -> None:
        import psycopg

        self.url = url
        self.Error = psycopg.DatabaseError
        self._local = threading.local()
        self._schemas = set()
        self._schema_lock = threading.Lock()

    def connect(self) -> "_PostgresConnection":
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = _PostgresConnection(self.url)
        return conn

    @contextmanager
    def transaction(self) -> Iterator["_PostgresConnection"]:
        conn = self.connect()
        with conn.transaction():
            yield conn


class _PostgresConnection:
    """A psycopg connection speaking the SQLite-flavoured SQL of the stores; reconnects once when dropped."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._conn = self._open()
        self._depth = 0

    def _open(self):
        import psycopg

        return psycopg.connect(self._url, autocommit=True, connect_timeout=10)

    def _usable(self):
        if self._conn.closed or self._conn.broken:
            if self._depth:
                raise self._error("connection lost inside a transaction")
            self._conn = self._open()
        return self._conn

    @staticmethod
    def _error(message: str) -> Exception:
        import psycopg

        return psycopg.OperationalError(message)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        import psycopg

        query = to_postgres(sql)
        conn = self._usable()
        try:
            return conn.execute(query, tuple(params))
        except psycopg.OperationalError:
            if self._depth or not conn.broken:
                raise
        return self._usable().execute(query, tuple(params))  # the connection dropped: once more on a new one

    def executescript(self, ddl: str) -> None:
        """A schema script, translated; scripts from several processes run one at a time."""
        with self.transaction():
            self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            self._conn.execute(ddl_to_postgres(ddl).encode())  # bytes: sent as is, several statements allowed

    @contextmanager
    def transaction(self) -> Iterator["_PostgresConnection"]:
        conn = self._usable()
        self._depth += 1
        try:
            with conn.transaction():
                yield self
        finally:
            self._depth -= 1

    def close(self) -> None:
        self._conn.close()


def open_database(settings: "Settings") -> Database:
    """PostgreSQL when `database_url` is set, else SQLite at `settings.db_path`."""
    url = settings.database_url.get_secret_value()
    if url:
        return PostgresDatabase(url)
    return Database(settings.db_path)


@lru_cache(maxsize=1024)
def to_postgres(sql: str) -> str:
    """`?` placeholders → `%s`, and a literal `%` → `%%`, outside quoted strings and names."""
    out: list[str] = []
    quote = ""
    for ch in sql:
        if quote:
            if ch == quote:
                quote = ""
            out.append("%%" if ch == "%" else ch)
        elif ch in ("'", '"'):
            quote = ch
            out.append(ch)
        elif ch == "?":
            out.append("%s")
        elif ch == "%":
            out.append("%%")
        else:
            out.append(ch)
    return "".join(out)


_DDL = (
    (re.compile(r"\bINTEGER\s+PRIMARY\s+KEY\s+AUTOINCREMENT\b", re.I), "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
    (re.compile(r"\bINTEGER\b", re.I), "BIGINT"),
    (re.compile(r"\bREAL\b", re.I), "DOUBLE PRECISION"),
    (re.compile(r"\bBLOB\b", re.I), "BYTEA"),
)


def ddl_to_postgres(ddl: str) -> str:
    for pattern, replacement in _DDL:
        ddl = pattern.sub(replacement, ddl)
    return ddl
