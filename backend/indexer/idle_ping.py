"""A pooled PostgreSQL connection pinged before use only when it sat idle in the pool.

SQLAlchemy's pool_pre_ping pings the server at every checkout (with psycopg, an empty query), so
that a connection the server dropped (a restart, a proxy's idle timeout) is replaced before a
statement fails on it. A relayed write checks out a connection three times (the requests held,
the same request again, the accept), a round trip each for the service and the server: leaving
them out saved about 0.2 ms of the service's CPU a write at 100 writes a second (bench.writes
--postgres).

A connection returned to the pool less than `IDLE_SECONDS` ago was answering then. Pinging it
again finds only a server that went away in that moment, which a statement run right after a
ping could meet as well: the statement's failure invalidates the connection, and the request is
answered 503 like any request the database fails (the next checkout opens a new connection). So
only a connection idle for longer is pinged; under load, none is. Once any connection of the
pool is found dropped (its ping or a statement failed so), every connection returned before that
moment is pinged at its next checkout too: a server that restarted dropped them all, and each
would otherwise fail one request in turn.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

# Longer than any pause between a busy service's uses of a pooled connection (milliseconds), and
# far shorter than any server's or proxy's idle timeout.
IDLE_SECONDS = 1.0
_RETURNED = "returned_at"  # in each pool entry's info: when it was last returned (time.monotonic)


def ping_when_idle(engine: Engine) -> None:
    """Ping a connection at checkout when it was returned more than IDLE_SECONDS ago (the engine
    is made without pool_pre_ping). A failed ping discards it, and the pool connects anew."""
    pool = engine.pool
    dialect = engine.dialect
    dropped = float("-inf")  # when a connection of this pool was last found dropped (time.monotonic)

    @event.listens_for(pool, "checkin")
    def _returned(_dbapi_connection: Any, entry: ConnectionPoolEntry) -> None:
        entry.info[_RETURNED] = time.monotonic()

    @event.listens_for(pool, "invalidate")
    def _found_dropped(_dbapi_connection: Any, _entry: ConnectionPoolEntry, exception: BaseException | None) -> None:
        nonlocal dropped
        if exception is not None:  # a failed ping or statement (not a connection closed on purpose)
            dropped = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _checked_out(dbapi_connection: Any, entry: ConnectionPoolEntry, _proxy: PoolProxiedConnection) -> None:
        returned = entry.info.get(_RETURNED)
        if returned is None:
            return  # just connected
        if time.monotonic() - returned < IDLE_SECONDS and returned > dropped:
            return  # in use a moment ago, and no connection was found dropped since
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            # The pool discards this connection and checks out another (a new one if need be).
            raise DisconnectionError(f"the idle connection no longer answers: {exc!r}") from exc
