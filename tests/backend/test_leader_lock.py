"""The relayer's leader lock on PostgreSQL (backend/relay/leader.py), on the test server: held on a
connection of its own that leaves no transaction open while it leads, so that a server's
idle_in_transaction_session_timeout never ends the session and the lock with it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from backend.indexer.db import make_engine
from backend.relay.leader import _ADVISORY_KEY, LeaderLock
from tests.e2e.conftest import _postgres_database


@pytest.fixture
def engine() -> Iterator[Engine]:
    url, cleanup = _postgres_database()
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
        cleanup()


def _sessions_holding_the_lock(engine: Engine) -> list[str]:
    """The state (pg_stat_activity) of each session holding the leader's advisory lock."""
    with engine.connect() as connection:
        return list(
            connection.execute(
                text(
                    "SELECT a.state FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE l.locktype = 'advisory' AND l.granted "
                    "AND ((l.classid::bigint << 32) | l.objid::bigint) = :key"
                ),
                {"key": _ADVISORY_KEY},
            ).scalars()
        )


def test_the_leader_holds_its_lock_with_no_transaction_open(engine):
    leader, other = LeaderLock(engine=engine), LeaderLock(engine=engine)
    try:
        assert leader.try_acquire()
        assert not other.try_acquire()  # one leader at a time
        for _ in range(3):
            assert leader.held()  # as the relayer checks at each step
        assert _sessions_holding_the_lock(engine) == ["idle"]  # not "idle in transaction"
    finally:
        leader.release()
        other.release()
    assert _sessions_holding_the_lock(engine) == []
    assert other.try_acquire()  # released with its connection
    other.release()
