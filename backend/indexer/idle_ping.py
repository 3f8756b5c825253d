"""A pooled PostgreSQL connection pinged before use only when it sat idle in the pool.

SQLAlchemy's pool_pre_ping asks the server `SELECT 1` at every checkout, so that a connection the
server dropped (a restart, a proxy's idle timeout) is replaced before a statement fails on it. A
relayed write checks out a connection three times (the requests held, the same request again, the
accept), and each ping is a round trip and a statement for PostgreSQL to parse and run: counted
with pg_stat_statements, a ping was the most frequent statement of a write.

A connection returned to the pool less than `IDLE_SECONDS` ago was answering then. Pinging it
again finds only a server that went away in that moment, which a statement run right after a
ping could meet as well: the statement's failure invalidates the connection, and the request is
answered 503 like any request the database fails (the next checkout opens a new connection). So
only a connection idle for longer is pinged; under load, none is.
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

    @event.listens_for(pool, "checkin")
    def _returned(_dbapi_connection: Any, entry: ConnectionPoolEntry) -> None:
        entry.info[_RETURNED] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _checked_out(dbapi_connection: Any, entry: ConnectionPoolEntry, _proxy: PoolProxiedConnection) -> None:
        returned = entry.info.get(_RETURNED)
        if returned is None or time.monotonic() - returned < IDLE_SECONDS:
            return  # just connected, or in use a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            # The pool discards this connection and checks out another (a new one if need be).
            raise DisconnectionError(f"the idle connection no longer answers: {exc!r}") from exc
