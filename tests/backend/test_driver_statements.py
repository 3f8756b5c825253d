"""The outbox reads every relay check runs on the driver's own cursor (DriverStatement,
backend/indexer/db.py), on SQLite and PostgreSQL: the same rows as SQLAlchemy's execution, the
same errors (SQLAlchemy's kinds, which the API answers 503), and SQLAlchemy's own execution
whenever anyone listens to the engine."""

from __future__ import annotations

import re
import time

import pytest
from psycopg import ClientCursor
from psycopg.pq import TransactionStatus
from sqlalchemy import column, event, insert, select, table
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import sessionmaker

from backend.errors import Conflict
from backend.indexer.db import DriverStatement
from backend.relay import book as outbox_book
from backend.relay import budgets
from backend.relay.book import NONCES_AHEAD, RelayBook
from backend.relay.outbox import RelayRequest
from backend.settings import Settings

SIGNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


@pytest.fixture
def book(outbox_engine):
    engine = outbox_engine
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
    return RelayBook(settings=Settings(confirmations=0), sessions=sessionmaker(engine))


def _reads(now: float) -> list[tuple[DriverStatement, dict]]:
    member = {"community": "c", "signer": SIGNER}
    spent = {
        **member,
        "client": "127.0.0.1",
        "strike_from": now - 3600,
        "minute_from": now - 60,
        "hour_from": now - 3600,
        "until": now + 86400,
    }
    return [
        (outbox_book._FLYING_READ, {**member, "chain_nonce": 1, "nonce_to": NONCES_AHEAD, "recent_from": 5}),
        (outbox_book._FLYING_MINED_READ, {**member, "chain_nonce": 0, "nonce_to": NONCES_AHEAD, "recent_from": 5}),
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


# Searched through one of these, a read is bounded by the member's requests in flight (a partial
# index of those alone), or by an index term past who the member is.
_IN_FLIGHT_ONLY = "uq_relay_request_active"
_WHO = ("community", "signer", "client")
_PG_TYPES = {str: "text", int: "bigint", float: "double precision"}


def _scans(node: dict) -> list[dict]:
    """Every search of relay_requests in a plan of PostgreSQL's EXPLAIN (FORMAT JSON): each index
    searched (a bitmap heap scan's own index searches are its children), and any scan of the table."""
    whole_table = node.get("Node Type") == "Seq Scan" and node.get("Relation Name") == "relay_requests"
    found = [node] if "Index Name" in node or whole_table else []
    return found + [scan for child in node.get("Plans", []) for scan in _scans(child)]


def test_on_postgresql_a_writes_reads_never_walk_a_members_history(book):
    """PostgreSQL's side of tests/backend/test_relay_book.py's plans. With 8 members' histories of
    2,500 requests each, interleaved over 30 days, analyzed as autovacuum does, each read
    a check runs is planned through an index on more than who the member is, both with its
    parameters and with the plan for any parameters that a statement prepared by the driver runs
    from its sixth execution on a connection. That one read the member's whole history for the
    nonces held (`nonce >= x`) and the last hour (`created_at > x`), until each range had both its
    ends as parameters."""
    if book.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's plans: tests/backend/test_relay_book.py")
    now = time.time()
    with book.engine.begin() as connection:
        # Interleaved, as members write: each one's requests spread over the whole table.
        signers = [SIGNER, *[f"0x{m:040x}" for m in range(7)]]
        history = [
            {
                "community": "c", "kind": "forward", "forwarder": "0xF", "signer": signers[i % 8], "nonce": i // 8,
                "target": "0xT", "payload": {}, "signature": f"0x{i:08x}", "gas": 100_000, "client": "127.0.0.1",
                "state": "succeeded", "attempts": 0, "created_at": now - 30 * 86400 + i * 129.6,
                "settled_at": now - 30 * 86400 + i * 129.6 + 1, "gas_used": 50_000, "block_number": i // 20,
            }
            for i in range(20_000)
        ]  # fmt: skip
        connection.execute(insert(RelayRequest), history)
        connection.exec_driver_sql("ANALYZE relay_requests")
    # A check of the member's next request: the chain at their last nonces, the head at their last block.
    latest = {"chain_nonce": 2498, "nonce_to": 2498 + NONCES_AHEAD, "nonce": 2499, "recent_from": 997}
    for read, params in _reads(now):
        params = {**params, **{k: v for k, v in latest.items() if k in params}}
        compiled = read.statement.compile(dialect=book.engine.dialect)
        sql = str(compiled)
        names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", sql)))
        values = {**{k: v for k, v in compiled.params.items() if v is not None}, **params}
        numbered = re.sub(r"%\((\w+)\)s", lambda m: f"${names.index(m.group(1)) + 1}", sql)
        with book.engine.connect() as connection:
            # Client-side binding: EXPLAIN, a utility statement, takes no parameters of the protocol.
            cursor = ClientCursor(connection.connection.driver_connection)
            types = [_PG_TYPES[type(values[n])] for n in names]
            cursor.execute(f"PREPARE read ({', '.join(types)}) AS {numbered}")
            for mode in ("force_custom_plan", "force_generic_plan"):
                cursor.execute(f"SET plan_cache_mode = {mode}")
                arguments = ", ".join(["%s"] * len(names))
                [[plan]] = cursor.execute(
                    f"EXPLAIN (FORMAT JSON) EXECUTE read({arguments})", [values[n] for n in names]
                ).fetchall()
                scans = _scans(plan[0]["Plan"])
                assert scans, (mode, sql)
                for scan in scans:
                    index, condition = scan.get("Index Name"), scan.get("Index Cond", "")
                    searched = set(re.findall(r"\(+(\w+)\)*(?:::\w+)?\s*(?:=|<|>)", condition))
                    bounded = index == _IN_FLIGHT_ONLY or bool(searched - set(_WHO))
                    assert index and bounded, f"{mode} reads the member's whole history: {scan}\n{sql}"
            cursor.execute("DEALLOCATE read")
            connection.rollback()


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
