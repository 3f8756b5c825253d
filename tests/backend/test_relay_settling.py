"""A mined transaction is settled once (backend/relay/settling.py, Settling._settle_mined): the
relayer's transaction marked mined and each of its requests given its end and its share of the
gas, in one database transaction; a transaction no longer in flight when its receipt comes
(dropped after a rolled-back block, or settled by another process that led meanwhile) changes
nothing. Requests go back in the queue only from the state their transaction was seen in. On
SQLite and PostgreSQL, from a real outbox."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from backend.chain.receipts import Receipt
from backend.relay.outbox import BATCH_REVERTED, RelayBatch, RelayRequest
from backend.relay.settling import Settling
from backend.relay.state import RelayerState
from backend.settings import Settings

RELAYER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
SIGNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
TX_HASH = "0x" + "ab" * 32


@pytest.fixture
def sessions(outbox_engine):
    return sessionmaker(outbox_engine)


def _batch(sessions, state: str, gas_limits: list[int]) -> int:
    """A relayer transaction in `state` with requests of these gas limits, sent in it."""
    with sessions.begin() as session:
        batch = RelayBatch(
            relayer=RELAYER,
            relayer_nonce=1,
            to=RELAYER,
            gas=sum(gas_limits),
            attempts=[{"hash": TX_HASH, "raw": "0x", "max_fee": 10, "priority": 1}],
            state=state,
            sent_block=1,
        )
        session.add(batch)
        session.flush()
        for nonce, gas in enumerate(gas_limits):
            session.add(
                RelayRequest(
                    community="c",
                    kind="forward",
                    forwarder=RELAYER,
                    signer=SIGNER,
                    nonce=nonce,
                    target=RELAYER,
                    payload={},
                    gas=gas,
                    client="test",
                    state="sent",
                    batch_id=batch.id,
                    tx_hash=TX_HASH,
                )
            )
        return batch.id


def _settling(sessions) -> Settling:
    return Settling(
        settings=Settings(),
        gateway=SimpleNamespace(deployments=None),  # type: ignore[arg-type]
        sessions=sessions,
        state=RelayerState(),
        relayer=RELAYER,
    )


def _reverted_receipt(gas_used: int) -> Receipt:
    """The whole transaction reverted: none of its requests ran (no events to decode)."""
    return Receipt(tx_hash=TX_HASH, block_number=42, succeeded=False, gas_used=gas_used, gas_price=7, logs=[])


def _state(sessions, batch_id: int) -> tuple:
    with sessions() as session:
        batch = session.get(RelayBatch, batch_id)
        requests = session.execute(
            select(RelayRequest.state, RelayRequest.error, RelayRequest.block_number, RelayRequest.gas_used)
            .where(RelayRequest.batch_id == batch_id)
            .order_by(RelayRequest.nonce)
        ).all()
        return (batch.state, batch.tx_hash, batch.block_number, batch.gas_used), [tuple(r) for r in requests]


def test_a_mined_transaction_is_settled_once_with_each_share_of_its_gas(sessions):
    batch_id = _batch(sessions, "sent", [100_000, 300_000])
    settling = _settling(sessions)
    settling._settle_mined(batch_id, _reverted_receipt(40_001))
    settled = _state(sessions, batch_id)
    assert settled == (
        ("mined", TX_HASH, 42, 40_001),
        [("failed", BATCH_REVERTED, 42, 10_001), ("failed", BATCH_REVERTED, 42, 30_000)],
    )
    # The same receipt again (a second look before the first was seen, another process): nothing moves.
    settling._settle_mined(batch_id, _reverted_receipt(99_999))
    assert _state(sessions, batch_id) == settled


@pytest.mark.parametrize("state", ["dropped", "refused"])
def test_a_transaction_no_longer_in_flight_is_not_settled(sessions, state):
    batch_id = _batch(sessions, state, [100_000])
    before = _state(sessions, batch_id)
    _settling(sessions)._settle_mined(batch_id, _reverted_receipt(21_000))
    assert _state(sessions, batch_id) == before


def test_a_lost_transaction_puts_its_requests_back_in_the_queue(sessions):
    batch_id = _batch(sessions, "sent", [100_000])
    _settling(sessions)._requeue(batch_id, from_state="sent")
    assert _state(sessions, batch_id)[0][0] == "dropped"
    with sessions() as session:
        assert session.execute(select(RelayRequest.state, RelayRequest.batch_id, RelayRequest.attempts)).all() == [
            ("queued", None, 1)
        ]


def test_a_transaction_settled_meanwhile_is_not_put_back_in_the_queue(sessions):
    """Seen in flight by a leader that lost its lock, settled by the next one meanwhile."""
    batch_id = _batch(sessions, "sent", [100_000])
    _settling(sessions)._settle_mined(batch_id, _reverted_receipt(21_000))
    settled = _state(sessions, batch_id)
    _settling(sessions)._requeue(batch_id, from_state="sent")
    assert _state(sessions, batch_id) == settled
