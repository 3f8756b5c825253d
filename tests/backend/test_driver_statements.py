"""The outbox reads every relay check runs on the driver's own cursor (DriverStatement,
backend/indexer/db.py), on SQLite and PostgreSQL: the same rows as SQLAlchemy's execution, the
same errors (SQLAlchemy's kinds, which the API answers 503), and SQLAlchemy's own execution
whenever anyone listens to the engine."""

from __future__ import annotations

import time

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import column, event, select, table
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import sessionmaker

from backend.errors import Conflict
from backend.indexer.db import DriverStatement, make_engine
from backend.relay import book as outbox_book
from backend.relay import budgets
from backend.relay.book import RelayBook
from backend.relay.outbox import RelayRequest, create_outbox
from backend.settings import Settings
from tests.e2e.conftest import _postgres_database

SIGNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


@pytest.fixture(params=["sqlite", "postgresql"])
def book(request, tmp_path):
    url, cleanup = (f"sqlite:///{tmp_path / 'outbox.sqlite3'}", None)
    if request.param == "postgresql":
        url, cleanup = _postgres_database()
    engine = make_engine(url)
    create_outbox(engine)
    now = time.time()
    with sessionmaker(engine).begin() as session:
        for nonce, state, block, error in [
            (0, "succeeded", 10, None),
            (1, "reverted", 11, "reverted"),
            (2, "sent", None, None),
            (3, "queued", None, None),
        ]:
            session.add(
                RelayRequest(
                    community="c", kind="forward", forwarder="0xF", signer=SIGNER, nonce=nonce, target="0xT",
                    payload={"n": nonce}, signature=f"0x{nonce:02x}", gas=100_000 + nonce, client="127.0.0.1",
                    state=state, block_number=block, error=error, created_at=now - 30 * nonce,
                    settled_at=now - 5 if block else None, gas_used=50_000 if block else None,
                )
            )  # fmt: skip
    yield RelayBook(settings=Settings(confirmations=0), sessions=sessionmaker(engine))
    engine.dispose()
    if cleanup:
        cleanup()


def _reads(now: float) -> list[tuple[DriverStatement, dict]]:
    member = {"community": "c", "signer": SIGNER}
    spent = {
        **member,
        "client": "127.0.0.1",
        "strike_from": now - 3600,
        "minute_from": now - 60,
        "hour_from": now - 3600,
    }
    return [
        (outbox_book._FLYING_READ, {**member, "chain_nonce": 1, "recent_from": 5}),
        (outbox_book._FLYING_MINED_READ, {**member, "chain_nonce": 0, "recent_from": 5}),
        (outbox_book._SAME_READ, {**member, "forwarder": "0xF", "nonce": 1, "signature": "0x01"}),
        (budgets._SPENT_READS[False], spent),
        (budgets._SPENT_READS[True], spent),
    ]


def test_the_drivers_rows_are_sqlalchemys(book):
    with book.engine.connect() as connection:
        for read, params in _reads(time.time()):
            rows = read.rows(connection, params)
            assert rows, read.statement
            assert sorted(rows) == sorted(tuple(row) for row in connection.execute(read.statement, params))


def test_a_failing_read_is_sqlalchemys_error_and_the_connection_goes_on(book):
    """A database error is raised as SQLAlchemy raises it (the API answers those 503), and the
    connection serves the next read."""
    read, params = _reads(time.time())[2]
    with book.engine.connect() as connection:
        with pytest.raises((OperationalError, ProgrammingError)):  # SQLite's kind; PostgreSQL's
            DriverStatement(select(column("x")).select_from(table("no_such_table"))).rows(connection, {})
        connection.rollback()
        assert read.rows(connection, params) == [tuple(r) for r in connection.execute(read.statement, params)]


def test_anyone_listening_to_the_engine_sees_every_read(book):
    seen: list[str] = []

    def keep(_conn, _cursor, statement, _parameters, _context, _many):
        seen.append(statement)

    event.listen(book.engine, "before_cursor_execute", keep)
    try:
        with book.engine.connect() as connection:
            for read, params in _reads(time.time()):
                read.rows(connection, params)
    finally:
        event.remove(book.engine, "before_cursor_execute", keep)
    assert len(seen) == len(_reads(0))


def test_the_books_reads_begin_no_transaction(book):
    """The book's reads (held, held_after, same_request) run on autocommit_twin: on PostgreSQL a
    pool of its own in autocommit, so that no BEGIN goes before a read and no ROLLBACK after it,
    with the engine's address and password; on SQLite the engine itself, whose driver begins no
    transaction for a read. The book answers through it as SQLAlchemy reads the rows."""
    read, params = _reads(time.time())[2]
    if book.engine.dialect.name == "sqlite":
        assert book.reads is book.engine
    else:
        assert book.reads is not book.engine
        assert book.reads.url.render_as_string(hide_password=False) == book.engine.url.render_as_string(
            hide_password=False
        )
        for engine, after_a_read in ((book.reads, TransactionStatus.IDLE), (book.engine, TransactionStatus.INTRANS)):
            with engine.connect() as connection:
                read.rows(connection, params)
                assert connection.connection.driver_connection.info.transaction_status == after_a_read
    with book.engine.connect() as connection:
        [(reverted_id,)] = connection.execute(select(RelayRequest.id).where(RelayRequest.nonce == 1)).all()
    assert book.same_request("c", "0xF", SIGNER, 1, "0x01") == (reverted_id, "reverted", "reverted")
    assert book.same_request("c", "0xF", SIGNER, 1, "0x02") is None
    assert [r.nonce for r in book.held("c", SIGNER, 2, head=20)] == [2, 3]
    assert book.held_after("c", SIGNER, 0, head=20)[0] == 2  # 0 and 1 mined by block 20


def _columns(book: RelayBook, request_id: int) -> dict:
    with book.sessions() as session:
        row = session.get(RelayRequest, request_id)
        assert row is not None
        return {c.name: getattr(row, c.name) for c in RelayRequest.__table__.columns if c.name != "id"}


def test_a_request_accepted_on_the_drivers_cursor_is_the_row_the_orm_would_write(book):
    """accept names every column it writes (the driver's cursor runs no Python-side defaults): its
    row, read back, is the row the ORM writes from the same values with its defaults. A column
    given a default later, and left out of the accept, fails here."""
    payload = {"from": SIGNER, "data": "0x" + "ab" * 40, "deadline": "99", "nested": {"é": [1, 2]}}
    accepted = book.accept(
        community="c", kind="forward", forwarder="0xF", signer=SIGNER, nonce=9, target="0xT",
        payload=payload, signature="0x09", gas=120_000, client="127.0.0.1",
    )  # fmt: skip
    written = _columns(book, accepted)
    with book.sessions.begin() as session:
        row = RelayRequest(
            community="c", kind="forward", forwarder="0xF", signer=SIGNER, nonce=10, target="0xT",
            payload=payload, signature="0x0a", gas=120_000, client="127.0.0.1", created_at=written["created_at"],
        )  # fmt: skip
        session.add(row)
        session.flush()
        by_orm = row.id
    expected = {**_columns(book, by_orm), "nonce": 9, "signature": "0x09"}
    assert written == expected
    # The same signed request again is the one accepted; another for its nonce is refused.
    assert book.accept(
        community="c", kind="forward", forwarder="0xF", signer=SIGNER, nonce=9, target="0xT",
        payload=payload, signature="0x09", gas=120_000, client="127.0.0.1",
    ) == accepted  # fmt: skip
    with pytest.raises(Conflict):
        book.accept(
            community="c", kind="forward", forwarder="0xF", signer=SIGNER, nonce=9, target="0xT",
            payload=payload, signature="0x99", gas=120_000, client="127.0.0.1",
        )  # fmt: skip
