"""The budgets as the accepting statement's condition (budgets.WITHIN_BUDGETS) answer as the
refusals do (member_refusal_of, client_refusal_of), on SQLite and PostgreSQL: over random outboxes
of one member around every limit (strikes slowing and refusing, requests in flight, the minute,
the hour's gas, the client's requests in flight), the statement writes a request exactly when the
read finds nothing to refuse."""

from __future__ import annotations

import random
import time

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.orm import sessionmaker

from backend.errors import TooManyRequests
from backend.relay import book as outbox_book
from backend.relay.book import RelayBook
from backend.relay.budgets import WITHIN_BUDGETS, budget_params, budget_refusal
from backend.relay.outbox import NOT_EXECUTED, RelayRequest
from backend.settings import Settings

SIGNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
CLIENT = "203.0.113.9"
# Small limits, so that a few rows reach each.
LIMITS = Settings(
    member_max_in_flight=3,
    member_requests_per_minute=5,
    member_gas_per_hour=1_000_000,
    member_strikes_slow_after=1,
    member_strikes_refuse_after=2,
    member_strike_cooloff_seconds=600,
    client_max_in_flight=4,
)
SCENARIOS = 150


def _row(rng: random.Random, nonce: int, now: float) -> dict:
    """One of the member's requests (or, now and then, another client's or another member's) in a
    state and at a time that counts toward some budget, or just misses it."""
    state = rng.choice(["queued", "sent", "succeeded", "reverted", "failed", "failed"])
    created = now - rng.choice([5, 30, 59, 61, 600, 3_500, 3_601, 7_200])
    settled = None if state in ("queued", "sent") else now - rng.choice([1, 300, 599, 601, 5_000])
    mined = state in ("succeeded", "reverted") or (state == "failed" and rng.random() < 0.5)
    why = NOT_EXECUTED if state == "failed" and rng.random() < 0.5 else ("reverted" if state != "queued" else None)
    return {
        "community": "c",
        "kind": "forward",
        "forwarder": "0xF",
        "signer": SIGNER if rng.random() < 0.9 else "0x" + "5" * 40,
        "nonce": nonce,
        "target": "0xT",
        "payload": {},
        "signature": f"0x{nonce:04x}",
        "gas": rng.choice([90_000, 250_000, 400_000]),
        "client": CLIENT if rng.random() < 0.7 else "198.51.100.1",
        "state": state,
        "attempts": 0,
        "created_at": created,
        "settled_at": settled,
        "gas_used": rng.choice([60_000, 300_000]) if mined else None,
        "error": why,
    }


def _near_the_limits(rng: random.Random, now: float) -> list[dict]:
    """Rows that bring one member's figures to each limit or just short of it: strikes, requests in
    flight, requests of the last minute, the hour's gas, and the client's requests in flight
    (another member's, from the same address)."""
    rows: list[dict] = []

    def add(**fields) -> None:
        rows.append({**_row(rng, len(rows), now), "signer": SIGNER, "client": CLIENT, **fields})

    for _ in range(rng.choice([0, 0, 0, 0, 1, 2])):  # strikes within the cool-off
        add(state="reverted", created_at=now - 300, settled_at=now - 200, gas_used=60_000, error="reverted")
    for _ in range(rng.choice([0, 0, 1, 2, 3])):  # in flight (and of the last minute)
        add(state="queued", created_at=now - 20, settled_at=None, gas_used=None, gas=90_000, error=None)
    for _ in range(rng.choice([0, 1, 2, 4, 5])):  # settled, of the last minute
        add(state="succeeded", created_at=now - 30, settled_at=now - 25, gas_used=60_000, error=None)
    if rng.random() < 0.3:  # the hour's gas near the budget
        add(state="succeeded", created_at=now - 1_800, settled_at=now - 1_790, gas_used=rng.choice([600_000, 950_000]))
    for _ in range(rng.choice([0, 0, 2, 3, 4])):  # the client's others in flight
        add(signer="0x" + "5" * 40, state="sent", created_at=now - 10, settled_at=None, gas_used=None, error=None)
    return rows


def _both_answers(engine, rows: list[dict], gas: int, now: float) -> tuple[bool, TooManyRequests | None]:
    """The outbox made of `rows` alone; then whether the accepting statement's condition holds for
    a request of `gas` more, and the refusal the read would give (None: within every budget)."""
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM relay_requests"))
        if rows:
            connection.execute(insert(RelayRequest), rows)
    who = {"community": "c", "signer": SIGNER, "client": CLIENT, "gas": gas}
    with engine.connect() as connection:
        within = connection.execute(select(WITHIN_BUDGETS), {**who, **budget_params(LIMITS, now=now)}).scalar()
        refusal = budget_refusal(connection, LIMITS, community="c", signer=SIGNER, client=CLIENT, gas=gas, now=now)
    return bool(within), refusal


def _accept(book: RelayBook, nonce: int, gas: int = 100_000) -> int:
    """The member's request of `nonce`, from CLIENT."""
    return book.accept(
        community="c", kind="forward", forwarder="0xF", signer=SIGNER, nonce=nonce, target="0xT",
        payload={"n": nonce}, signature=f"0x{nonce:02x}", gas=gas, client=CLIENT,
    )  # fmt: skip


def test_the_accepting_statements_budgets_answer_as_the_refusals_do(outbox_engine):
    rng = random.Random(26)
    decided = {True: 0, False: 0}
    for scenario in range(SCENARIOS):
        now = time.time()
        rows = _near_the_limits(rng, now) + [_row(rng, 100 + n, now) for n in range(rng.randint(0, 2))]
        gas = rng.choice([50_000, 300_000, 700_000])
        within, refusal = _both_answers(outbox_engine, rows, gas, now)
        assert within == (refusal is None), (scenario, refusal, rows, gas)
        decided[refusal is None] += 1
    # Both answers came up often enough to mean something.
    assert decided[True] >= SCENARIOS // 10 and decided[False] >= SCENARIOS // 10, decided


def test_a_request_the_statement_did_not_write_is_judged_by_the_read(outbox_engine, monkeypatch):
    """When the one statement writes nothing (a budget reached, or one that moved since), accept
    reads the budgets and says which, or writes the request if none is reached any more."""
    book = RelayBook(settings=LIMITS, sessions=sessionmaker(outbox_engine))
    accepted = _accept(book, 0)
    # As if a budget had moved between the statement and the read: the read finds none reached.
    monkeypatch.setattr(RelayBook, "_accept_within_budgets", lambda self, engine, row, now: None)
    again = _accept(book, 1)
    assert again == accepted + 1
    monkeypatch.undo()
    _accept(book, 2)
    # Three in flight, the member's budget: the statement writes nothing, and the read says why.
    with pytest.raises(TooManyRequests) as refused:
        _accept(book, 3)
    assert refused.value.extra["budget"] == "in_flight"
    with outbox_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM relay_requests")).scalar() == 3


def test_limits_past_what_a_database_holds_are_no_limits(outbox_engine):
    """An operator's "unlimited" (10^12 requests, 10^30 gas: past a database's 64-bit integers) is
    no limit to the statement either; it was a DataError on PostgreSQL and an OverflowError on SQLite."""
    unlimited = Settings(
        member_max_in_flight=10**12,
        member_requests_per_minute=10**12,
        member_gas_per_hour=10**30,
        client_max_in_flight=10**12,
        client_requests_per_minute=10**12,
        client_gas_per_hour=10**30,
        member_strikes_refuse_after=10**12,
        member_strikes_slow_after=10**12,
    )
    book = RelayBook(settings=unlimited, sessions=sessionmaker(outbox_engine))
    for nonce in range(3):
        _accept(book, nonce, gas=10**9)
    with outbox_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM relay_requests")).scalar() == 3


def test_a_request_within_every_budget_is_written_by_the_one_statement(outbox_engine, monkeypatch):
    """The read and the insert are for refusals: a request within every budget never reaches them."""

    def not_expected(*_args, **_kwargs):
        raise AssertionError("a request within every budget went the read and the insert")

    monkeypatch.setattr(outbox_book, "budget_refusal", not_expected)
    book = RelayBook(settings=LIMITS, sessions=sessionmaker(outbox_engine))
    ids = [_accept(book, nonce) for nonce in range(LIMITS.member_max_in_flight)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


@pytest.mark.parametrize(
    ("used", "gas", "strikes", "within"),
    [
        (900_000, 100_000, 0, True),  # the hour's gas exactly at the budget
        (900_001, 100_000, 0, False),  # one past it
        (0, 100_000, 1, True),  # slowed (one in flight at a time), none in flight
        (0, 100_000, 2, False),  # refused by strikes
    ],
)
def test_the_budgets_edges(outbox_engine, used, gas, strikes, within):
    now = time.time()
    rows = [
        {**_row(random.Random(n), n, now), "signer": SIGNER, "client": CLIENT, "state": "reverted",
         "created_at": now - 5_000, "settled_at": now - 100, "gas_used": 1, "error": "reverted"}
        for n in range(strikes)
    ]  # fmt: skip
    if used:
        rows.append(
            {**_row(random.Random(9), 50, now), "signer": SIGNER, "client": CLIENT, "state": "succeeded",
             "created_at": now - 1_000, "settled_at": now - 990, "gas_used": used, "error": None}
        )  # fmt: skip
    statement, refusal = _both_answers(outbox_engine, rows, gas, now)
    assert statement is within and (refusal is None) is within, refusal
