"""The index database a benchmark's service writes to: a SQLite file in the benchmark's work folder,
or a fresh database on a PostgreSQL server (created for the run, dropped after it). The benchmark
reads the outbox and the index's cursor from it directly, and on PostgreSQL the server's CPU: its
processes do the database's work there, where SQLite does it in the service's own process.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from bench.api import cpu_seconds


class BenchDatabase:
    def __init__(self, url: str, kind: str, drop: Callable[[], None] | None = None) -> None:
        self.url, self.kind = url, kind  # the service's DATABASE_URL; kind: sqlite | postgresql
        # psycopg 3 is the installed driver (plain postgresql:// would ask SQLAlchemy for psycopg2).
        self._engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1), poolclass=NullPool)
        self._drop = drop

    @classmethod
    def sqlite(cls, work: Path) -> BenchDatabase:
        return cls(f"sqlite:///{work / 'index.sqlite3'}", "sqlite")

    @classmethod
    def postgresql(cls, server: str) -> BenchDatabase:
        """A database of its own on the server at `server` (postgresql://user:password@host:port/db)."""
        name = f"bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(server, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')

        def drop() -> None:
            with psycopg.connect(server, autocommit=True, connect_timeout=5) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        return cls(f"{server.rsplit('/', 1)[0]}/{name}", "postgresql", drop)

    def analyze(self) -> None:
        """PostgreSQL's statistics of every table, as autovacuum gathers them on a running service
        within a minute of a table's growth. A run's timed part comes within a minute of the
        database's creation, before autovacuum's first pass: without statistics, PostgreSQL read a
        check's requests held and the same request again through the index on the member and time
        (each of the member's requests), 165-360 microseconds a read where the index by nonce takes
        10-60, a cost of the first minute only. SQLite plans without statistics."""
        if self.kind == "postgresql":
            with self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("ANALYZE"))

    def rows(self, sql: str) -> list[Any]:
        with self._engine.connect() as connection:
            return list(connection.execute(text(sql)).all())

    def scalar(self, sql: str) -> Any:
        return self.rows(sql)[0][0]

    def close(self) -> None:
        self._engine.dispose()
        if self._drop is not None:
            self._drop()


def postgres_cpu_seconds() -> float:
    """The CPU every PostgreSQL process on this machine has used (the server and its backends): read
    before and after a run, the database server's share of it. 0 without any."""
    total = 0.0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
            if command.startswith(b"postgres") or b"/postgres\0" in command:
                total += cpu_seconds(int(pid))
        except OSError:  # gone meanwhile
            continue
    return total
