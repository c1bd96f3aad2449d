"""The server fixtures themselves: each test sees an empty database and an empty Redis; Chroma answers."""
from __future__ import annotations

import psycopg
import pytest
import redis


@pytest.mark.parametrize("round", [1, 2])
def test_every_test_starts_empty(postgres_url, redis_url, round):
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0] == 0
        conn.execute("CREATE TABLE left_behind (n INTEGER)")
    client = redis.Redis.from_url(redis_url)
    assert client.dbsize() == 0
    client.set("left-behind", round)


def test_chroma_server_answers(chroma_url):
    import chromadb

    client = chromadb.HttpClient(host=chroma_url.split("//")[1].split(":")[0], port=int(chroma_url.rsplit(":", 1)[1]))
    assert client.heartbeat() > 0
