"""The outbox's book of member nonces, on a real SQLite outbox. The case that matters: a
request the client saw succeed, whose block the node then lost (restarted from an older state,
or a reorganisation). The chain gives its nonce back, and the relayer will send that same
signed request again; until its block is too deep to roll back, no new request may get it."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import sessionmaker

from backend.errors import Conflict
from backend.indexer.db import make_engine
from backend.relayer.book import RelayBook
from backend.relayer.outbox import RECHECK_BLOCKS, RelayRequest, create_outbox
from backend.settings import Settings

SIGNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


@pytest.fixture
def book(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'outbox.sqlite3'}")
    create_outbox(engine)
    yield RelayBook(Settings(confirmations=0), sessionmaker(engine, expire_on_commit=False))
    engine.dispose()


def _request(book: RelayBook, nonce: int, state: str, block: int | None = None) -> None:
    with book.sessions.begin() as session:
        session.add(RelayRequest(community="c", kind="forward", forwarder="0xF", signer=SIGNER, nonce=nonce,
                                 target="0xT", payload={}, gas=100_000, client="test", state=state,
                                 block_number=block))


def test_in_flight_nonces_are_skipped(book):
    _request(book, 0, "succeeded", block=10)
    _request(book, 1, "queued")
    _request(book, 2, "sent")
    assert book.next_nonce("c", SIGNER, chain_nonce=1, head=10) == 3


def test_a_rolled_back_success_keeps_its_nonce_until_its_block_is_deep(book):
    # Mined in block 37; the node came back at block 34 and gives nonce 5 back.
    _request(book, 5, "succeeded", block=37)
    assert book.next_nonce("c", SIGNER, chain_nonce=5, head=34) == 6
    with pytest.raises(Conflict) as refused:
        book.check_nonce("c", SIGNER, chain_nonce=5, nonce=5, head=34)
    assert refused.value.extra["error"] == "ReplayedRequest"
    book.check_nonce("c", SIGNER, chain_nonce=5, nonce=6, head=34)  # no gap: 5 is the relayer's to resend
    # Once the block is deeper than the relayer rechecks, the chain's word is final.
    deep = 37 + RECHECK_BLOCKS + 1
    assert book.next_nonce("c", SIGNER, chain_nonce=5, head=deep) == 5


def test_a_reverted_call_holds_its_nonce_like_a_success_and_a_failure_frees_it(book):
    _request(book, 3, "reverted", block=20)
    assert book.next_nonce("c", SIGNER, chain_nonce=3, head=20) == 4
    _request(book, 7, "failed", block=None)
    assert book.next_nonce("c", SIGNER, chain_nonce=7, head=20) == 7


def test_a_nonce_past_a_gap_is_refused(book):
    _request(book, 5, "queued")
    with pytest.raises(Conflict) as refused:
        book.check_nonce("c", SIGNER, chain_nonce=5, nonce=7, head=40)
    assert refused.value.extra["error"] == "NonceAhead"
