"""Fixtures shared by the backend's unit tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from backend.indexer.db import make_engine
from backend.relay.outbox import create_outbox
from tests.e2e.conftest import _postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
def outbox_engine(request, tmp_path) -> Iterator[Engine]:
    """An empty outbox (the relayer's tables) on a fresh database of each kind: a SQLite file, and a
    database of its own on the test PostgreSQL server (or a skip saying why there is none)."""
    url, cleanup = (f"sqlite:///{tmp_path / 'outbox.sqlite3'}", None)
    if request.param == "postgresql":
        url, cleanup = _postgres_database()
    engine = make_engine(url)
    create_outbox(engine)
    try:
        yield engine
    finally:
        engine.dispose()
        if cleanup:
            cleanup()
