"""A transaction the relayer signs with a nonce it signed before (a resend after a lost block) must
outbid every earlier version a node may still hold, by more than the 10 % a node asks for
(backend/relay/fees.py, Fees.above_earlier); one with a nonce never signed before pays the market's
fees. On SQLite and PostgreSQL, the earlier versions read from a real outbox."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy.orm import sessionmaker

from backend.indexer.db import autocommit_twin
from backend.relay.fees import Fees
from backend.relay.outbox import RelayBatch
from backend.settings import Settings

RELAYER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
OTHER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


@pytest.fixture
def fees(outbox_engine):
    engine = outbox_engine
    sessions = sessionmaker(engine)
    with sessions.begin() as session:
        for relayer, nonce, state, max_fee, priority in [
            (RELAYER, 7, "dropped", 100, 10),  # lost with its block: a node may hold it still
            (RELAYER, 7, "dropped", 300, 20),  # the same nonce, outbid once already
            (RELAYER, 8, "refused", 10_000, 1_000),  # refused outright: no node holds it
            (OTHER, 9, "sent", 10_000, 1_000),  # another relayer's
        ]:
            session.add(
                RelayBatch(
                    relayer=relayer,
                    relayer_nonce=nonce,
                    to=RELAYER,
                    gas=21_000,
                    attempts=[{"hash": "0x" + "00" * 32, "raw": "0x", "max_fee": max_fee, "priority": priority}],
                    state=state,
                    sent_block=1,
                )
            )
    reads = autocommit_twin(engine)
    yield Fees(
        settings=Settings(),
        gateway=None,  # type: ignore[arg-type]
        sessions=sessions,
        reads=reads,
        state=None,  # type: ignore[arg-type]
        key=SimpleNamespace(address=RELAYER),  # type: ignore[arg-type]
    )
    if reads is not engine:
        reads.dispose()


def test_a_nonce_signed_before_outbids_every_earlier_version(fees):
    assert fees.above_earlier(7, 50, 5) == (300 * 9 // 8 + 1, 20 * 9 // 8 + 1)
    assert fees.above_earlier(7, 1_000, 500) == (1_000, 500)  # the market's fees are higher already


def test_a_new_nonce_pays_the_market(fees):
    assert fees.above_earlier(10, 50, 5) == (50, 5)
    assert fees.above_earlier(8, 50, 5) == (50, 5)  # the only earlier one was refused outright
    assert fees.above_earlier(9, 50, 5) == (50, 5)  # another relayer's nonce


def test_the_tip_never_exceeds_the_fee_cap(fees):
    assert fees.above_earlier(10, 50, 80) == (50, 50)
