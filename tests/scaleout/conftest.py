"""Fixtures shared by the scale-out tests."""
from __future__ import annotations

import pytest

from hideki.state.db import Database, PostgresDatabase


@pytest.fixture(params=["sqlite", "postgres"])
def opener(request, tmp_path):
    """Opens the same database again, as another replica (or a restarted process) would."""
    if request.param == "sqlite":
        return lambda: Database(tmp_path / "h.db")
    url = request.getfixturevalue("postgres_url")
    return lambda: PostgresDatabase(url)
