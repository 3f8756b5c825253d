"""An index written by another version of the service is rebuilt, not misread; the current
version's index is kept across restarts."""

from sqlalchemy import create_engine, inspect, text

from backend.indexer.db import make_engine, make_sessionmaker, schema_fingerprint
from backend.indexer.models import Claim, Cursor


def test_index_from_an_older_schema_is_dropped_and_recreated(tmp_path):
    url = f"sqlite:///{tmp_path / 'index.sqlite3'}"
    old = create_engine(url)
    with old.begin() as connection:  # the cursors table as it was before it kept block hashes
        connection.execute(
            text(
                "CREATE TABLE cursors (community VARCHAR(64) PRIMARY KEY, block_number BIGINT, block_timestamp BIGINT)"
            )
        )
        connection.execute(text("INSERT INTO cursors VALUES ('example', 99, 0)"))
    old.dispose()

    sessions = make_sessionmaker(make_engine(url))
    with sessions() as session:
        assert session.get(Cursor, "example") is None  # forgotten: it will be indexed again
    columns = {column["name"] for column in inspect(sessions.kw["bind"]).get_columns("cursors")}
    assert "block_hash" in columns


def test_index_of_this_version_survives_a_restart(tmp_path):
    url = f"sqlite:///{tmp_path / 'index.sqlite3'}"
    sessions = make_sessionmaker(make_engine(url))
    with sessions.begin() as session:
        session.add(Cursor(community="example", block_number=7, block_timestamp=1, block_hash="0x" + "ab" * 32))
    again = make_sessionmaker(make_engine(url))
    with again() as session:
        assert session.get(Cursor, "example").block_number == 7


def test_an_index_from_before_consent_is_rebuilt(tmp_path):
    """The consent columns (claims' nomination state, badges' disowning, members' hidden profile)
    change the schema's stamp: an index written before them is dropped and rebuilt from the chain."""
    url = f"sqlite:///{tmp_path / 'index.sqlite3'}"
    sessions = make_sessionmaker(make_engine(url))
    engine = sessions.kw["bind"]
    with engine.begin() as connection:  # as the version before consent wrote it
        for table, column in (
            ("claims", "nomination_state"),
            ("claims", "answered_at"),
            ("badges", "disowned_at"),
            ("members", "profile_hidden"),
        ):
            connection.execute(text(f"ALTER TABLE {table} DROP COLUMN {column}"))
        connection.execute(text("UPDATE schema_stamp SET fingerprint = 'before consent'"))
        connection.execute(text("INSERT INTO cursors VALUES ('example', 99, 0, NULL)"))
    engine.dispose()

    rebuilt = make_sessionmaker(make_engine(url))
    with rebuilt() as session:
        assert session.get(Cursor, "example") is None  # forgotten: indexed again, events and all
    inspector = inspect(rebuilt.kw["bind"])
    assert "nomination_state" in {c["name"] for c in inspector.get_columns("claims")}
    assert "disowned_at" in {c["name"] for c in inspector.get_columns("badges")}
    assert "profile_hidden" in {c["name"] for c in inspector.get_columns("members")}


def test_an_index_written_with_other_indexes_is_rebuilt():
    """Creating the tables skips those that exist and never adds an index to one: an index file
    written before an index was declared would go on without it. The fingerprint the index is
    stamped with covers the indexes, so such a file is rebuilt instead."""
    table = Claim.__table__
    declared = next(index for index in table.indexes if index.name == "ix_claims_contributor")
    with_it = schema_fingerprint()
    table.indexes.discard(declared)
    try:
        assert schema_fingerprint() != with_it
    finally:
        table.indexes.add(declared)
    assert schema_fingerprint() == with_it
