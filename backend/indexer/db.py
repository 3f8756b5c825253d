"""Engine and sessions: SQLite by default (a file under var/), PostgreSQL when DATABASE_URL says so."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from sqlalchemy import create_engine, event, inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from backend.indexer.models import Base, SchemaStamp

log = logging.getLogger(__name__)


def _normalise(url: str) -> str:
    # psycopg 3 is the installed driver; plain postgresql:// URLs would ask for psycopg2.
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str) -> Engine:
    url = _normalise(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(connection, _record):
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # readers must not block the indexer's writes
            cursor.execute("PRAGMA synchronous=NORMAL")
            # 256 KiB of page cache per pooled connection instead of 2 MiB: the OS caches the file
            # anyway, and fifteen connections' caches filling up as the index grew read as a leak
            # in the soak (the Python heap stayed flat under tracemalloc).
            cursor.execute("PRAGMA cache_size=-256")
            cursor.close()

        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def schema_fingerprint() -> str:
    shape = sorted(
        (table.name, column.name, str(column.type), bool(column.primary_key))
        for table in Base.metadata.sorted_tables
        for column in table.columns
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
