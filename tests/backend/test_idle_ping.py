"""PostgreSQL connections pinged at checkout only after sitting idle (backend/indexer/idle_ping.py),
on the test server: none pinged while in use, an idle one pinged, one the server dropped while
idle replaced before any statement meets it, and once one is found dropped, every other
returned before then pinged too."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from backend.indexer import idle_ping
from backend.indexer.db import DriverStatement, autocommit_twin, make_engine
from tests.e2e.conftest import _postgres_database

IDLE = idle_ping.IDLE_SECONDS


@pytest.fixture
def engines(monkeypatch) -> Iterator[tuple[Engine, Engine, list[str]]]:
    """The service's engine and its autocommit twin on a database of their own, and the backend
    process ids each ping went to."""
    url, cleanup = _postgres_database()
    engine = make_engine(url)
    twin = autocommit_twin(engine)
    pinged: list[str] = []
    for each in (engine, twin):
        dialect = each.dialect
        ping = dialect.do_ping

        def counted(dbapi_connection, ping=ping):
            pinged.append(dbapi_connection.info.backend_pid)
            return ping(dbapi_connection)

        monkeypatch.setattr(dialect, "do_ping", counted)
    try:
        yield engine, twin, pinged
    finally:
        twin.dispose()
        engine.dispose()
        cleanup()


# As the service's reads and its accept run (on the driver's cursor): a connection found dropped
# is invalidated alone, where SQLAlchemy's own execution would mark the whole pool stale.
_PID = DriverStatement(select(func.pg_backend_pid()))


def _backend(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT pg_backend_pid()")).scalar_one()


def _terminate(engine: Engine, pid: int) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        connection.commit()


@pytest.mark.parametrize("which", ["engine", "twin"])
def test_a_connection_in_use_a_moment_ago_is_not_pinged_and_an_idle_one_is(engines, which):
    engine, twin, pinged = engines
    pool_of = engine if which == "engine" else twin
    first = _backend(pool_of)  # a new connection: nothing to ping
    for _ in range(5):  # in use a moment ago, each time
        assert _backend(pool_of) == first
    assert pinged == []
    time.sleep(IDLE * 1.5)
    assert _backend(pool_of) == first
    assert pinged == [first]


@pytest.mark.parametrize("which", ["engine", "twin"])
def test_a_connection_the_server_dropped_while_idle_is_replaced_before_any_statement(engines, which):
    engine, twin, pinged = engines
    pool_of = engine if which == "engine" else twin
    other = twin if which == "engine" else engine
    dropped = _backend(pool_of)
    _terminate(other, dropped)
    time.sleep(IDLE * 1.5)
    fresh = _backend(pool_of)  # no error: the ping failed and the pool connected anew
    assert fresh != dropped
    assert pinged == [dropped]


def test_a_connection_dropped_in_the_moment_after_its_use_fails_once_and_is_replaced(engines):
    """The trade: a server gone less than IDLE after the connection's last use is met by the next
    statement, as any statement meets a server that goes away while it runs; that connection is
    discarded (the request fails 503), and the next checkout connects anew."""
    engine, twin, pinged = engines
    dropped = _backend(twin)
    _terminate(engine, dropped)
    with pytest.raises(OperationalError) as failed:
        _backend(twin)
    assert failed.value.connection_invalidated
    assert _backend(twin) != dropped
    assert pinged == []


def test_once_a_connection_is_found_dropped_every_other_returned_before_is_pinged(engines):
    """A server that restarted dropped every pooled connection: the first met by a statement fails
    it once, and each other one, returned before that moment, is pinged at its next checkout and
    replaced instead of failing a request of its own."""
    engine, twin, pinged = engines
    with twin.connect() as first, twin.connect() as second:  # two connections in the pool
        pids = [c.execute(text("SELECT pg_backend_pid()")).scalar_one() for c in (first, second)]
    for pid in pids:
        _terminate(engine, pid)
    with pytest.raises(OperationalError), twin.connect() as connection:
        _PID.rows(connection, {})  # in use a moment ago: not pinged, and the service's statement fails
    with twin.connect() as connection:
        assert _PID.rows(connection, {})[0][0] not in pids  # the other: pinged, found dropped, replaced
    assert len(pinged) == 1 and pinged[0] in pids
