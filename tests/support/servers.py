"""Real PostgreSQL, Redis and Chroma servers on loopback, for the scale-out tests.

Each server starts once per session on a free port, logs into the session's temporary directory and stops at
the end. `postgres_url` gives every test a fresh empty database, `redis_url` a flushed Redis, and `chroma_url` a
Chroma server shared by the session (tests use unique collection names). `db` runs a test on both engines: a
SQLite file, then PostgreSQL. A missing binary skips the test with
the reason, unless HIDEKI_REQUIRE_SERVERS=1 (CI with the servers installed): then it fails.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Callable, Iterator

import pytest

_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only, never through a proxy
REQUIRED = os.environ.get("HIDEKI_REQUIRE_SERVERS") == "1"  # read at import: tests clean HIDEKI_* from the environment
START_TIMEOUT_S = 90.0


def missing(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"{reason} (HIDEKI_REQUIRE_SERVERS=1)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(ready: Callable[[], bool], process: subprocess.Popen, what: str, log: Path) -> None:
    """Poll `ready` until it holds; fail at once if the server exits, or after START_TIMEOUT_S."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while not ready():
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}; see {log}:\n{_tail(log)}")
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"{what} did not become ready in {START_TIMEOUT_S} s; see {log}:\n{_tail(log)}")
        time.sleep(0.1)


def _tail(log: Path) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-20:])
    except OSError:
        return ""


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- PostgreSQL -----------------------------------------------------------------------------------------

def postgres_bin() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(versions[-1]).parent if versions else None


def _as_postgres_user() -> list[str]:
    """PostgreSQL refuses to run as root: run it as the `postgres` user then."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _can_connect(url: str) -> bool:
    import psycopg

    try:
        psycopg.connect(url, connect_timeout=2).close()
        return True
    except psycopg.OperationalError:
        return False


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL server on loopback; yields its base URL (`postgresql://hideki@127.0.0.1:PORT`)."""
    bindir = postgres_bin()
    if bindir is None:
        missing("PostgreSQL is not installed (initdb not found; Debian: apt-get install postgresql)")
    logs = tmp_path_factory.mktemp("postgres")
    # a directory the postgres user can reach (pytest's own temporary directories are private to root)
    data = Path(tempfile.mkdtemp(prefix="hideki-pg-"))
    log = logs / "postgres.log"
    run_as = _as_postgres_user()
    if run_as:
        shutil.chown(data, "postgres", "postgres")
    subprocess.run([*run_as, str(bindir / "initdb"), "-D", str(data / "db"), "-U", "hideki", "-A", "trust", "-E", "UTF8",
                    "--locale=C", "--no-sync"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*run_as, str(bindir / "postgres"), "-D", str(data / "db"), "-p", str(port), "-k", str(data),
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
             "-c", "full_page_writes=off", "-c", "max_connections=200"],
            stdout=out, stderr=subprocess.STDOUT,
        )
    base = f"postgresql://hideki@127.0.0.1:{port}"
    try:
        wait_until(lambda: _can_connect(f"{base}/postgres"), process, "postgres", log)
        yield base
    finally:
        stop(process)
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database for this test (dropped afterwards)."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(f"{postgres_server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"{postgres_server}/{name}"
    with psycopg.connect(f"{postgres_server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- Redis ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        missing("Redis is not installed (redis-server not found; Debian: apt-get install redis-server)")
    import redis

    work = tmp_path_factory.mktemp("redis")
    port = free_port()
    log = work / "redis.log"
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(work),
         "--logfile", str(log)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"redis://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            return redis.Redis.from_url(base, socket_timeout=2).ping()
        except redis.RedisError:
            return False

    try:
        wait_until(ready, process, "redis-server", log)
        yield base
    finally:
        stop(process)


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """Redis database 0, emptied for this test."""
    import redis

    url = f"{redis_server}/0"
    client = redis.Redis.from_url(url)
    client.flushall()
    client.close()
    return url


# --- Chroma ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Chroma server (`chroma run`) with its own data directory for the session; use unique collection names."""
    binary = Path(sys.executable).parent / "chroma"
    if not binary.exists():
        missing(f"the chroma command is not installed next to {sys.executable} (pip install chromadb)")
    work = tmp_path_factory.mktemp("chroma")
    port = free_port()
    log = work / "chroma.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(binary), "run", "--path", str(work / "data"), "--host", "127.0.0.1", "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        )
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            with _direct.open(f"{url}/api/v2/heartbeat", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    try:
        wait_until(ready, process, "chroma run", log)
        yield url
    finally:
        stop(process)


@pytest.fixture(params=["sqlite", "postgres"])
def db(request, tmp_path):
    """The project's Database on each engine in turn: a SQLite file, then a fresh PostgreSQL database."""
    from hideki.state.db import Database, PostgresDatabase

    if request.param == "sqlite":
        return Database(tmp_path / "h.db")
    return PostgresDatabase(request.getfixturevalue("postgres_url"))
