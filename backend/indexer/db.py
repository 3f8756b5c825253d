"""Engine and sessions: SQLite by default (a file under var/), PostgreSQL when DATABASE_URL says so."""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Insert, MetaData, Select, create_engine, event, insert, inspect, select
from sqlalchemy.engine import URL, Connection, Dialect, Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from backend.indexer.idle_ping import ping_when_idle
from backend.indexer.models import Base, SchemaStamp

log = logging.getLogger(__name__)


def _normalise(url: str) -> str:
    # psycopg 3 is the installed driver; plain postgresql:// URLs would ask for psycopg2.
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


# A database that accepts the connection but never answers (a host gone, a proxy in front of a
# stopped server) would otherwise hold each connecting thread, and every index read waiting for its
# turn behind them (backend/dependencies.py), with no limit.
PG_CONNECT_TIMEOUT_SECONDS = 5


# How long a thread's statement waits for SQLite's write lock (the indexer's page of events, the
# relayer's settling, an accept) before "database is locked".
SQLITE_BUSY_TIMEOUT_SECONDS = 30


def _sqlite_engine(url: str | URL, busy_timeout: float, *pragmas: str) -> Engine:
    """An engine on a SQLite file, each connection with the index's pragmas and then `pragmas`."""
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": busy_timeout})

    @event.listens_for(engine, "connect")
    def _pragmas(connection, _record):
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers must not block the indexer's writes
        cursor.execute("PRAGMA synchronous=NORMAL")
        # 256 KiB of page cache per pooled connection instead of 2 MiB: the OS caches the file
        # anyway, and fifteen connections' caches filling up as the index grew read as a leak
        # in the soak (the Python heap stayed flat under tracemalloc).
        cursor.execute("PRAGMA cache_size=-256")
        for pragma in pragmas:
            cursor.execute(pragma)
        cursor.close()

    return engine


def make_engine(url: str) -> Engine:
    url = _normalise(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return _sqlite_engine(url, SQLITE_BUSY_TIMEOUT_SECONDS)
    engine = create_engine(url, pool_size=10, max_overflow=20, **_pg_args(make_url(url)))
    ping_when_idle(engine)
    return engine


def _pg_args(url: URL) -> dict[str, Any]:
    """libpq's connect_timeout, unless the URL's query sets its own."""
    return {"connect_args": {} if "connect_timeout" in url.query else {"connect_timeout": PG_CONNECT_TIMEOUT_SECONDS}}


def autocommit_twin(engine: Engine) -> Engine:
    """An engine for reads of one statement each, in autocommit, beside `engine`. On PostgreSQL a
    pool of its own, whose connections never begin a transaction: a read on `engine` is a BEGIN,
    the statement, and the ROLLBACK the pool sends when the connection comes back, three round
    trips where one does. (Setting autocommit on `engine`'s connections for the read instead, and
    back after, cost the service more than the two round trips.) On SQLite `engine` itself, whose
    driver begins no transaction for a read."""
    if engine.dialect.name != "postgresql":
        return engine
    twin = create_engine(engine.url, isolation_level="AUTOCOMMIT", pool_size=5, max_overflow=5, **_pg_args(engine.url))
    ping_when_idle(twin)
    return twin


def loop_twin(engine: Engine) -> Engine | None:
    """On SQLite, an engine on the same file for writes made on the event loop (a relay check's
    accept: backend/chain/on_loop.py), whose connections never wait there for the write lock that
    the indexer or the relayer may hold for a page of events: told SQLITE_BUSY at once (timeout 0),
    the caller yields to the loop and tries again (RelayBook._written). Nor do their commits
    checkpoint the WAL (the others' commits do), which would sync the file to disk on the loop.
    None elsewhere: PostgreSQL's inserts wait for no other writer."""
    if engine.dialect.name != "sqlite":
        return None
    return _sqlite_engine(engine.url, 0, "PRAGMA wal_autocheckpoint=0")


def schema_fingerprint() -> str:
    """The index's tables, columns and indexes: an index written with other indexes is rebuilt
    too (creating the tables skips those that exist, and would never add an index to one)."""
    shape = sorted(
        (table.name, column.name, str(column.type), bool(column.primary_key))
        for table in Base.metadata.sorted_tables
        for column in table.columns
    ) + sorted(
        (table.name, index.name or "", tuple(column.name for column in index.columns))
        for table in Base.metadata.sorted_tables
        for index in table.indexes
    )
    return hashlib.sha256(repr(shape).encode()).hexdigest()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions over an index whose tables match this version of the service. An index from
    another version is dropped and rebuilt: the chain holds everything it derives from."""
    fingerprint = schema_fingerprint()
    existing = set(inspect(engine).get_table_names())
    known = {table.name for table in Base.metadata.sorted_tables}
    if existing & known:
        stamped = None
        if SchemaStamp.__tablename__ in existing:
            with engine.connect() as connection:
                stamped = connection.scalar(select(SchemaStamp.fingerprint))
        if stamped != fingerprint:
            log.warning("the index was written by another version of the service: rebuilding it from the chain")
            Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    sessions = sessionmaker(engine, expire_on_commit=False)
    with sessions.begin() as session:
        if session.get(SchemaStamp, fingerprint) is None:
            session.add(SchemaStamp(fingerprint=fingerprint))
    return sessions


# ---------------------------------------------------------------------- rebuilding beside

# How the live connection names the scratch index while copying it in: an attached SQLite file,
# or a schema of the same PostgreSQL database.
_SCRATCH = "cc_rebuild"


@dataclass
class Scratch:
    """A fresh, empty index beside the live one, to rebuild into; `swap` then replaces the live
    index's rows with its rows in one transaction, so readers see the old index or the new one,
    never a half-built one, and a rebuild that fails before the swap changes nothing."""

    sessions: sessionmaker[Session]
    live: Engine
    schema: str
    sqlite_path: Path | None = None

    def swap(self) -> None:
        self.sessions.kw["bind"].dispose()  # SQLite: the scratch file's WAL checkpointed and closed
        engine = create_engine(self.live.url, poolclass=NullPool, **_connect_args(self.live))
        try:
            with engine.connect() as connection:
                if self.sqlite_path is not None:
                    connection.exec_driver_sql(f"ATTACH DATABASE ? AS {self.schema}", (str(self.sqlite_path),))
                    connection.commit()
                with connection.begin():
                    _copy(connection, self.schema)
        finally:
            engine.dispose()


def _connect_args(engine: Engine) -> dict:
    return {"connect_args": {"timeout": 30}} if engine.dialect.name == "sqlite" else {}


def _copy(connection, schema: str) -> None:
    tables = [t for t in Base.metadata.sorted_tables if t.name != SchemaStamp.__tablename__]
    if connection.dialect.name == "postgresql":
        # Writers (a running service's indexer) wait for the swap; readers keep the old rows until it commits.
        names = ", ".join(connection.dialect.identifier_preparer.format_table(t) for t in tables)
        connection.exec_driver_sql(f"LOCK TABLE {names} IN EXCLUSIVE MODE")
    scratch = MetaData()
    for table in reversed(tables):
        connection.execute(table.delete())
    for table in tables:
        source = table.to_metadata(scratch, schema=schema)
        # Surrogate ids are the live table's own (its sequence goes on from them).
        columns = [c.name for c in table.columns if c is not table.autoincrement_column]
        if table.autoincrement_column is None:
            order = list(source.primary_key.columns)
        else:  # the events: new ids in chain order
            order = [source.c.block_number, source.c.log_index]
        query = select(*(source.c[name] for name in columns)).order_by(*order)
        connection.execute(insert(table).from_select(columns, query))


@contextmanager
def scratch_index(live: Engine) -> Iterator[Scratch]:
    """An empty index beside `live`, dropped on the way out whatever happened: on SQLite a file
    next to the live one, on PostgreSQL a schema of its own in the same database."""
    if live.dialect.name == "sqlite":
        database = live.url.database
        if database in (None, "", ":memory:"):
            folder = Path(tempfile.mkdtemp(prefix="cc-rebuild-"))
            path, cleanup = folder / "index.sqlite3", lambda: shutil.rmtree(folder, ignore_errors=True)
        else:
            path = Path(database).with_name(f"{Path(database).name}.rebuild-{uuid.uuid4().hex[:8]}")

            def cleanup() -> None:
                for suffix in ("", "-wal", "-shm", "-journal"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)

        engine = make_engine(f"sqlite:///{path}")
        try:
            yield Scratch(make_sessionmaker(engine), live, _SCRATCH, path)
        finally:
            engine.dispose()
            cleanup()
        return
    if live.dialect.name != "postgresql":
        raise RuntimeError(f"rebuilding beside the index is not supported on {live.dialect.name}")
    schema = f"{_SCRATCH}_{uuid.uuid4().hex[:8]}"
    with live.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    engine = create_engine(live.url, poolclass=NullPool, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield Scratch(make_sessionmaker(engine), live, schema)
    finally:
        engine.dispose()
        with live.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@dataclass(frozen=True)
class _ForDriver:
    sql: str
    order: tuple[str, ...] | None  # the parameters' order (a positional paramstyle), or None: by name
    defaults: dict[str, Any]  # the statement's own values (a LIMIT, say)
    processors: dict[str, Callable[[Any], Any]]  # what SQLAlchemy does to a value before sending it (JSON)


class DriverStatement:
    """A Core statement compiled once per kind of database and run on the driver's own cursor,
    on a Connection SQLAlchemy checked out (its pool, pre-ping and transaction as usual). The SQL,
    the parameters and the values sent are those connection.execute sends; only its work around
    each execution is left out (the compiled cache's lookup, the parameters built, the result's
    machinery): four fifths of each outbox read a write runs, 32 against 5 microseconds on
    SQLite, and a fifth of the accept's insert. An insert names every column it writes: no
    Python-side column default runs here. Rows come back as the driver gives them (no result
    processing: use it for columns that need none). Errors are raised as connection.execute raises
    them (sqlalchemy.exc.DBAPIError and its kinds, IntegrityError among them), and a connection the
    database dropped is invalidated. While anyone listens to the engine's executions, it runs
    through connection.execute instead."""

    def __init__(self, statement: Select[*tuple[Any, ...]] | Insert) -> None:
        self.statement = statement
        self._compiled: dict[str, _ForDriver] = {}

    def _for(self, dialect: Dialect) -> _ForDriver:
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self.statement.compile(dialect=dialect)
            order = tuple(compiled.positiontup) if compiled.positiontup is not None else None
            processors = {
                name: cast(Callable[[Any], Any], process)
                for name, process in compiled._bind_processors.items()
                if process is not None
            }
            defaults = dict(compiled.construct_params(_check=False))
            found = _ForDriver(compiled.string, order, defaults, processors)
            self._compiled[dialect.name] = found
        return found

    def rows(self, connection: Connection, params: dict[str, Any]) -> list[tuple]:
        if connection._has_events or connection.engine._has_events or connection._echo:
            # Someone watches SQLAlchemy's executions (a listener, echo): they get one, the same SQL.
            return [tuple(row) for row in connection.execute(self.statement, params)]
        statement = self._for(connection.dialect)
        values = {**statement.defaults, **params}
        for name, process in statement.processors.items():
            values[name] = process(values[name])
        sent = tuple(values[name] for name in statement.order) if statement.order is not None else values
        driver = connection.connection.driver_connection
        cursor = None
        try:
            # Inside the try: a connection the server closed may refuse a cursor already.
            cursor = driver.cursor()  # type: ignore[union-attr]
            cursor.execute(statement.sql, sent)
            return cursor.fetchall() if cursor.description is not None else []
        except connection.dialect.loaded_dbapi.Error as exc:
            dropped = connection.dialect.is_disconnect(exc, driver, cursor)
            if dropped:
                connection.invalidate(exc)
            elif not connection.in_transaction():
                # The driver's own transaction, which SQLAlchemy does not know of (PostgreSQL
                # refuses everything after an error until it ends): ended, as a rollback() would.
                driver.rollback()  # type: ignore[union-attr]
            raise DBAPIError.instance(
                statement.sql,
                sent,
                exc,
                connection.dialect.loaded_dbapi.Error,
                connection_invalidated=dropped,
                dialect=connection.dialect,
            ) from exc
        finally:
            if cursor is not None:
                cursor.close()
