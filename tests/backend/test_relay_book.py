"""The outbox's book of member nonces, on a real SQLite outbox. The case that matters: a
request the client saw succeed, whose block the node then lost (restarted from an older state,
or a reorganisation). The chain gives its nonce back, and the relayer will send that same
signed request again; until its block is too deep to roll back, no new request may get it."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time

import pytest
from sqlalchemy import event, inspect, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker

from backend.chain.on_loop import run_on_loop
from backend.errors import Conflict
from backend.indexer.db import make_engine
from backend.relay import book as book_module
from backend.relay import payloads
from backend.relay.book import HeldRequest, RelayBook, check_nonce, next_nonce
from backend.relay.budgets import member_refusal
from backend.relay.outbox import (
    BATCH_REVERTED,
    CALL_REVERTED,
    NOT_EXECUTED,
    RECHECK_BLOCKS,
    RelayRequest,
    create_outbox,
)
from backend.settings import Settings

SIGNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


@pytest.fixture
def book(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'outbox.sqlite3'}")
    create_outbox(engine)
    yield RelayBook(settings=Settings(confirmations=0), sessions=sessionmaker(engine, expire_on_commit=False))
    engine.dispose()


def _request(book: RelayBook, nonce: int, state: str, block: int | None = None, **columns) -> None:
    with book.sessions.begin() as session:
        session.add(
            RelayRequest(
                community="c",
                kind="forward",
                forwarder="0xF",
                signer=SIGNER,
                nonce=nonce,
                target="0xT",
                payload={},
                gas=100_000,
                client="test",
                state=state,
                block_number=block,
                **columns,
            )
        )


def _rows(book: RelayBook) -> list[RelayRequest]:
    with book.sessions() as session:
        return list(session.query(RelayRequest).order_by(RelayRequest.id))


def test_held_requests_carry_their_payloads_whoever_accepted_them(book):
    """A payload is kept in memory by the process that accepted or read it (a request in flight is
    replayed in each check of its member's next ones); another process, or this one after a
    restart, reads it from the outbox: the same payload either way."""
    payload = {"from": SIGNER, "data": "0x01", "signature": "0x" + "ab" * 65}
    accepted = book.accept(
        community="c", kind="forward", forwarder="0xF", signer=SIGNER, nonce=3, target="0xT",
        payload=payload, signature=payload["signature"], gas=100_000, client="test",
    )  # fmt: skip
    _request(book, 4, "queued")
    other = RelayBook(settings=book.settings, sessions=book.sessions)
    for reader in (book, other, other):
        assert [(r.nonce, r.payload) for r in reader.held("c", SIGNER, chain_nonce=3, head=10)] == [
            (3, payload),
            (4, {}),
        ]
        assert reader.held_after("c", SIGNER, 3, 10) == (3, reader.held("c", SIGNER, chain_nonce=3, head=10))
    assert book.payloads.kept[accepted].payload is payload and set(other.payloads.kept) == {accepted, accepted + 1}


def test_a_request_replaced_under_a_remembered_id_is_replayed_as_the_outbox_holds_it(book):
    """An outbox restored from a backup under the running service may hold another request under an
    id this process remembers: the checks replay the outbox's, never the remembered one."""
    mine = {"from": SIGNER, "data": "0x01", "signature": "0x" + "ab" * 65}
    accepted = book.accept(
        community="c", kind="forward", forwarder="0xF", signer=SIGNER, nonce=3, target="0xT",
        payload=mine, signature=mine["signature"], gas=100_000, client="test",
    )  # fmt: skip
    theirs = {**mine, "data": "0x02"}  # the same signature bytes: a contract wallet's may be any
    with book.sessions.begin() as session:
        session.execute(update(RelayRequest).where(RelayRequest.id == accepted).values(payload=theirs, created_at=1.0))
    assert [r.payload for r in book.held("c", SIGNER, chain_nonce=3, head=10)] == [theirs]
    assert [r.payload for r in book.held_after("c", SIGNER, 3, 10)[1]] == [theirs]


def test_a_burst_of_accepted_requests_keeps_the_payloads_in_memory_bounded(book, monkeypatch):
    """However many requests a burst brings, the payloads kept in memory stay within the bound;
    one forgotten is read from the outbox again."""
    monkeypatch.setattr(payloads, "PAYLOADS_KEPT", 5)
    book = RelayBook(settings=Settings(confirmations=0, member_max_in_flight=100), sessions=book.sessions)
    for nonce in range(12):
        payload = {"n": nonce}
        book.accept(
            community="c", kind="forward", forwarder="0xF", signer=SIGNER, nonce=nonce, target="0xT",
            payload=payload, signature=f"0x{nonce:02x}", gas=100_000, client="test",
        )  # fmt: skip
        assert len(book.payloads.kept) <= 5
    assert [r.payload for r in book.held("c", SIGNER, chain_nonce=0, head=10)] == [{"n": n} for n in range(12)]
    assert len(book.payloads.kept) <= 5


def test_in_flight_nonces_are_skipped(book):
    _request(book, 0, "succeeded", block=10)
    _request(book, 1, "queued")
    _request(book, 2, "sent")
    assert next_nonce(1, book.held("c", SIGNER, chain_nonce=1, head=10)) == 3


def test_a_rolled_back_success_keeps_its_nonce_until_its_block_is_deep(book):
    # Mined in block 37; the node came back at block 34 and gives nonce 5 back.
    _request(book, 5, "succeeded", block=37)
    assert next_nonce(5, book.held("c", SIGNER, chain_nonce=5, head=34)) == 6
    with pytest.raises(Conflict) as refused:
        check_nonce(5, 5, book.held("c", SIGNER, chain_nonce=5, head=34))
    assert refused.value.extra["error"] == "ReplayedRequest"
    check_nonce(5, 6, book.held("c", SIGNER, chain_nonce=5, head=34))  # no gap: 5 is the relayer's to resend
    # Once the block is deeper than the relayer rechecks, the chain's word is final.
    deep = 37 + RECHECK_BLOCKS + 1
    assert next_nonce(5, book.held("c", SIGNER, chain_nonce=5, head=deep)) == 5


def test_a_reverted_call_holds_its_nonce_like_a_success_and_a_failure_frees_it(book):
    _request(book, 3, "reverted", block=20)
    assert next_nonce(3, book.held("c", SIGNER, chain_nonce=3, head=20)) == 4
    _request(book, 7, "failed", block=None)
    assert next_nonce(7, book.held("c", SIGNER, chain_nonce=7, head=20)) == 7


def test_a_nonce_past_a_gap_is_refused(book):
    _request(book, 5, "queued")
    with pytest.raises(Conflict) as refused:
        check_nonce(5, 7, book.held("c", SIGNER, chain_nonce=5, head=40))
    assert refused.value.extra["error"] == "NonceAhead"


def test_a_writes_reads_of_the_outbox_never_walk_a_members_history(book):
    """Every statement the API runs on the outbox for a write (nonces held, the same request
    again, budgets, in flight, accepting) finds its rows through an index on more than who the
    member is: the nonces from the chain's on, the requests in flight, the last hour. One that
    searched by (community, signer) alone read every request the member ever made, and a
    community's busiest members made each write slower with each one (SQLite's own query plan
    says which index and which terms it uses)."""
    engine = book.sessions.kw["bind"]
    for nonce in range(40):  # a history: settled long ago
        _request(book, nonce, "succeeded", block=1)
    statements: list[tuple[str, object]] = []

    def keep(_conn, _cursor, statement, parameters, _context, _many):
        # The reads, and the accept's insert that reads the budgets (INSERT ... SELECT ... WHERE).
        if "SELECT" in statement.upper() and "relay_requests" in statement:
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        held = book.held("c", SIGNER, chain_nonce=40, head=100)
        next_nonce(40, held)
        check_nonce(40, 40, held)
        book.same_request("c", "0xF", SIGNER, 40, "0x" + "ab" * 65)
        book.accept(
            community="c",
            kind="forward",
            forwarder="0xF",
            signer=SIGNER,
            nonce=40,
            target="0xT",
            payload={},
            signature="0x" + "ab" * 65,
            gas=100_000,
            client="test",
        )
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    # Every read above reached the database (the nonce rules read none): the nonces held, the same
    # request, and the budgets in the statement that accepts (its subqueries each a step of the
    # plan below).
    assert len(statements) == 3, statements
    assert statements[-1][0].lstrip().upper().startswith("INSERT"), statements[-1]
    with engine.connect() as connection:
        for statement, parameters in statements:
            plan = [row[3] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
            steps = [step for step in plan if "relay_requests" in step]
            assert steps, (statement, plan)
            for step in steps:
                assert step.startswith("SEARCH") and "USING" in step, (statement, plan)
                terms = step[step.index("(") + 1 : step.rindex(")")].split(" AND ")
                bounded = [t for t in terms if not t.startswith(("community=", "signer=", "client="))]
                assert bounded, f"reads the member's whole history: {step}\n{statement}"


def test_an_outbox_of_an_earlier_version_gets_the_new_indexes_and_loses_the_replaced_one(tmp_path):
    """The outbox is never dropped (nothing on chain rebuilds it): a service started on an
    outbox written by an earlier version adds the indexes it lacks, drops the replaced one,
    and keeps every request."""
    engine = make_engine(f"sqlite:///{tmp_path / 'outbox.sqlite3'}")
    create_outbox(engine)
    with engine.begin() as connection:  # as an earlier version left it
        connection.exec_driver_sql("DROP INDEX ix_relay_request_member_state")
        connection.exec_driver_sql("DROP INDEX ix_relay_request_client_state")
        connection.exec_driver_sql("CREATE INDEX ix_relay_request_client ON relay_requests (client, created_at)")
        connection.exec_driver_sql(
            "INSERT INTO relay_requests (community, kind, forwarder, signer, nonce, target, payload, gas, client, "
            "state, attempts, created_at) VALUES ('c', 'forward', '0xF', 'S', 0, '0xT', '{}', 1, 'x', 'queued', 0, 0)"
        )
    create_outbox(engine)
    names = {index["name"] for index in inspect(engine).get_indexes("relay_requests")}
    assert {"ix_relay_request_member_state", "ix_relay_request_client_state"} <= names
    assert "ix_relay_request_client" not in names
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM relay_requests").scalar() == 1
    engine.dispose()


def test_held_requests_are_the_members_own_from_the_chains_nonce_on_oldest_first(book):
    """What a member's next request is simulated behind (relay/simulation.py): their requests from
    the chain's nonce on that are in flight or executed recently enough to be rolled back, in
    nonce order, with their payloads; not those below the chain's nonce, failed ones, another
    member's or another community's."""
    for nonce, state, block in (
        (3, "sent", None),
        (1, "succeeded", 90),
        (5, "queued", None),
        (4, "succeeded", 95),
        (2, "reverted", 95),
        (6, "failed", None),
        (7, "succeeded", 1),
    ):
        with book.sessions.begin() as session:
            session.add(
                RelayRequest(
                    community="c",
                    kind="forward",
                    forwarder="0xF",
                    signer=SIGNER,
                    nonce=nonce,
                    target="0xT",
                    payload={"nonce": nonce},
                    gas=1_000 + nonce,
                    client="test",
                    state=state,
                    block_number=block,
                )
            )
    with book.sessions.begin() as session:
        session.add(
            RelayRequest(
                community="c",
                kind="forward",
                forwarder="0xF",
                signer="0xOther",
                nonce=4,
                target="0xT",
                payload={"nonce": "other"},
                gas=1,
                client="test",
                state="queued",
            )
        )
        session.add(
            RelayRequest(
                community="other",
                kind="forward",
                forwarder="0xG",
                signer=SIGNER,
                nonce=4,
                target="0xT",
                payload={"nonce": "elsewhere"},
                gas=1,
                client="test",
                state="queued",
            )
        )
    held = book.held("c", SIGNER, chain_nonce=2, head=100)
    assert held == [
        (2, {"nonce": 2}, 1_002),
        (3, {"nonce": 3}, 1_003),
        (4, {"nonce": 4}, 1_004),
        (5, {"nonce": 5}, 1_005),
    ]  # 7 mined too long ago to roll back, 6 never executed
    assert all(isinstance(r, HeldRequest) for r in held)
    assert next_nonce(2, held) == 6
    assert book.held("c", "0xNobody", chain_nonce=0, head=100) == []


def _settled(
    book: RelayBook,
    nonce: int,
    state: str,
    *,
    gas_used: int | None,
    error: str | None = None,
    settled_at: float | None = None,
) -> None:
    """A settled request: mined (a transaction, the gas it used) unless `gas_used` is None."""
    _request(
        book,
        nonce,
        state,
        gas_used=gas_used,
        error=error,
        settled_at=settled_at if settled_at is not None else time.time(),
        tx_hash=None if gas_used is None else f"0x{nonce:064x}",
    )


def _refusal(book: RelayBook, gas: int = 100_000):
    with book.engine.connect() as connection:
        return member_refusal(connection, book.settings, community="c", signer=SIGNER, gas=gas, now=time.time())


@pytest.mark.parametrize(
    "state, error",
    [("succeeded", None), ("reverted", CALL_REVERTED), ("failed", NOT_EXECUTED), ("failed", BATCH_REVERTED)],
)
def test_every_gas_spent_is_charged_whatever_became_of_the_request(tmp_path, state, error):
    """The hourly gas budget counts a settled request's gas used in every state: one the forwarder
    skipped, or in a transaction that reverted whole, cost the relayer as much as a success."""
    engine = make_engine(f"sqlite:///{tmp_path / 'outbox.sqlite3'}")
    create_outbox(engine)
    book = RelayBook(
        settings=Settings(
            member_gas_per_hour=1_000_000, member_strikes_refuse_after=100, member_strikes_slow_after=100
        ),
        sessions=sessionmaker(engine, expire_on_commit=False),
    )
    for nonce in range(4):
        _settled(book, nonce, state, gas_used=200_000, error=error)
    refusal = _refusal(book, gas=200_001)
    assert refusal is not None and refusal.extra["budget"] == "gas_per_hour"
    assert "used 800,000 gas" in refusal.detail
    assert _refusal(book, gas=200_000) is None
    engine.dispose()


def test_a_request_that_never_reached_the_chain_costs_nothing(book):
    book.settings = Settings(member_gas_per_hour=1_000_000)
    for nonce in range(30):  # rolled back and its nonce taken by a newer request: no transaction stands
        _settled(book, nonce, "failed", gas_used=None, error="Rolled back; request 9 has its nonce now")
    assert _refusal(book) is None
    _request(book, 30, "queued")  # one in flight counts its share of the limit
    assert _refusal(book, gas=900_001).extra["budget"] == "gas_per_hour"


def test_strikes_slow_then_refuse_a_member_until_they_age_out(book):
    settings = book.settings
    old = time.time() - settings.member_strike_cooloff_seconds - 10
    for nonce in range(20):  # strikes older than the cool-off count for nothing
        _settled(book, nonce, "failed", gas_used=1, error=NOT_EXECUTED, settled_at=old)
    _request(book, 100, "queued")
    assert _refusal(book) is None
    for nonce in range(20, 20 + settings.member_strikes_slow_after):
        _settled(book, nonce, "reverted", gas_used=1, error=CALL_REVERTED)
    slowed = _refusal(book)
    assert slowed is not None and slowed.extra["budget"] == "in_flight" and "one at a time" in slowed.detail
    # A transaction that reverted whole is not the member's doing: no strike.
    for nonce in range(40, 60):
        _settled(book, nonce, "failed", gas_used=1, error=BATCH_REVERTED)
    assert _refusal(book).extra["budget"] == "in_flight"
    for nonce in range(60, 60 + settings.member_strikes_refuse_after - settings.member_strikes_slow_after):
        _settled(book, nonce, "failed", gas_used=1, error=NOT_EXECUTED)
    refused = _refusal(book)
    assert refused is not None and refused.extra["budget"] == "strikes"
    assert refused.extra["retry_after"] > settings.member_strike_cooloff_seconds - 60
    assert book.strikes("c", time.time())[SIGNER].standing(settings) == "refused"


def test_a_first_request_over_the_hourly_gas_budget_alone_waits_an_hour(book):
    """Nothing charged in the hour (no oldest charge to age out): refused in words, retry in an hour."""
    book.settings = Settings(member_gas_per_hour=100_000)
    refusal = _refusal(book, gas=100_001)
    assert refusal is not None and refusal.extra["budget"] == "gas_per_hour"
    assert refusal.extra["retry_after"] == 3600 and "used 0 gas" in refusal.detail


def _write_lock_held(book: RelayBook) -> sqlite3.Connection:
    """A connection holding SQLite's write lock, as another thread's transaction (the indexer's
    page of events) holds it; released by its COMMIT or ROLLBACK."""
    holder = sqlite3.connect(book.engine.url.database, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("UPDATE relay_requests SET attempts = attempts WHERE 0")
    return holder


def _accepted_on_the_loop(book: RelayBook, nonce: int, ticks: list[float]) -> int:
    """A request accepted by code run on the event loop, as a check is: its id; `ticks` gets when
    the loop ran its other work meanwhile (every 10 ms, while it could)."""

    def accept() -> int:
        return book.accept(
            community="c", kind="forward", forwarder="0xF", signer=SIGNER, nonce=nonce, target="0xT",
            payload={"signature": f"0x{nonce:02x}"}, signature=f"0x{nonce:02x}", gas=100_000, client="test",
        )  # fmt: skip

    async def meanwhile() -> int:
        checking = asyncio.ensure_future(run_on_loop(accept))
        while not checking.done():  # the loop's other work: it runs while the accept waits
            ticks.append(time.monotonic())
            await asyncio.sleep(0.01)
        return await checking

    return asyncio.run(meanwhile())


@pytest.mark.parametrize("accepted_by", ["the budgets' statement", "the budgets read, then the insert"])
def test_on_the_loop_an_accept_waits_for_sqlites_write_lock_without_holding_the_loop(book, accepted_by, monkeypatch):
    """A check run on the event loop (backend/chain/on_loop.py) accepts while the indexer or the
    relayer holds SQLite's write lock (a page of events): the loop goes on answering others
    meanwhile, and the request is written once the lock is free, once."""
    if accepted_by != "the budgets' statement":  # as when that statement found a budget moved
        monkeypatch.setattr(book, "_accept_within_budgets", lambda *args: None)
    holder = _write_lock_held(book)
    threading.Timer(0.3, holder.execute, ["COMMIT"]).start()
    started, ticks = time.monotonic(), []
    request_id = _accepted_on_the_loop(book, 7, ticks)
    done = time.monotonic()
    holder.close()
    assert done - started >= 0.3  # it did wait for the lock
    assert sum(1 for t in ticks if t < started + 0.3) >= 10  # and the loop went on meanwhile
    assert [(r.nonce, r.state) for r in _rows(book)] == [(7, "queued")] and _rows(book)[0].id == request_id


def test_waiting_for_a_request_to_settle_is_never_done_on_the_loop(book):
    """It sleeps between looks: a `wait=true` request waits in a thread (signed_submits.py)."""
    with pytest.raises(RuntimeError, match="not on the event loop"):
        asyncio.run(run_on_loop(lambda: book.wait_settled(1, timeout=1)))


def test_the_loops_writes_never_wait_for_the_lock_nor_checkpoint_and_give_up_when_a_thread_would(book, monkeypatch):
    """loop_writes' connections are told at once that another holds the write lock (busy timeout
    0) and never checkpoint the WAL in their commits; an accept on the loop tries again until a
    thread would have given up (LOCK_WAIT_SECONDS), then fails as it would have: the loop free
    all the while."""
    with book.loop_writes.connect() as connection:
        pragma = connection.exec_driver_sql
        assert (pragma("PRAGMA busy_timeout").scalar(), pragma("PRAGMA wal_autocheckpoint").scalar()) == (0, 0)
    monkeypatch.setattr(book_module, "LOCK_WAIT_SECONDS", 0.3)
    holder = _write_lock_held(book)
    started, ticks = time.monotonic(), []
    with pytest.raises(OperationalError, match="database is locked"):
        _accepted_on_the_loop(book, 8, ticks)
    holder.rollback()
    holder.close()
    assert 0.3 <= time.monotonic() - started < 5 and len(ticks) >= 10
    assert _rows(book) == []
