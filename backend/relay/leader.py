"""Which of the service's processes writes: one sends the relayer's transactions and indexes
the chain; any number answer the API. The first process to take the lock leads; if it dies, its
lock goes with it (the connection or the file descriptor closes) and another takes over.

PostgreSQL: a session advisory lock, held on a connection of its own. SQLite (one machine): an
exclusive `flock` on a file beside the database.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)

# An arbitrary 64-bit key for pg_try_advisory_lock: "ccrelay" in ASCII.
_ADVISORY_KEY = 0x6363_7265_6C61_79


class LeaderLock:
    def __init__(self, *, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._connection: Connection | None = None
        self._fd: int | None = None

    def _sqlite_path(self) -> Path:
        database = self.engine.url.database
        if not database or database == ":memory:":
            return Path(f"/tmp/contribution-commons-{os.getpid()}.lock")  # one process: it leads
        return Path(database + ".lock")

    def held(self) -> bool:
        """Whether this process leads, checking that a PostgreSQL lock's connection still lives."""
        with self._lock:
            if self._fd is not None:
                return True
            if self._connection is None:
                return False
            try:
                self._connection.execute(text("SELECT 1"))
                return True
            except Exception:  # the database went away, and the lock with the connection
                log.warning("lost the leader lock with its database connection")
                self._drop_connection()
                return False

    def try_acquire(self) -> bool:
        with self._lock:
            if self.engine.dialect.name == "sqlite":
                if self._fd is None:
                    fd = os.open(self._sqlite_path(), os.O_RDWR | os.O_CREAT, 0o644)
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        os.close(fd)
                        return False
                    self._fd = fd
                return True
            if self._connection is not None:
                return True
            try:
                # In autocommit: the lock is the session's, and checking that the connection lives
                # (held) must leave no transaction open on it for as long as this process leads. Open,
                # it read as "idle in transaction" for hours, and a server's
                # idle_in_transaction_session_timeout would end the session, and the lock with it.
                connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
                got = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": _ADVISORY_KEY}).scalar()
            except Exception as exc:
                log.warning("cannot ask for the leader lock: %r", exc)
                return False
            if got:
                self._connection = connection
                log.info("this process leads: it relays and indexes")
                return True
            connection.close()
            return False

    def _drop_connection(self) -> None:
        try:
            if self._connection is not None:
                self._connection.invalidate()
        except Exception:
            pass
        self._connection = None

    def release(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            self._drop_connection()
