"""What the relayer packs is the signed request the outbox holds (backend/relay/packing.py,
Packing.queued): payloads come from the memory the checks keep only while they are the outbox's
own request under that id. An outbox replaced under the running service (restored from a backup)
may hold another request under an id this process remembers: the relayer then packs the outbox's
request, never the remembered one. On SQLite and PostgreSQL, from a real outbox."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlalchemy.orm import sessionmaker

from backend.relay.book import RelayBook
from backend.relay.outbox import RelayRequest, signature_key
from backend.relay.packing import Packing
from backend.settings import Settings

SIGNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
OTHER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"


def _signed(signer: str, byte: str) -> dict:
    return {"from": signer, "data": "0x" + byte * 4, "signature": "0x" + byte * 65}


@pytest.fixture
def book(outbox_engine):
    return RelayBook(settings=Settings(confirmations=0), sessions=sessionmaker(outbox_engine, expire_on_commit=False))


@pytest.fixture
def packing(book):
    return Packing(
        settings=Settings(),
        gateway=None,  # type: ignore[arg-type]
        sessions=book.sessions,
        reads=book.reads,
        payloads=book.payloads,
        state=None,  # type: ignore[arg-type]
        key=None,  # type: ignore[arg-type]
        fees=None,  # type: ignore[arg-type]
    )


def _accept_forward(book: RelayBook, payload: dict) -> int:
    return book.accept(
        community="c", kind="forward", forwarder="0xF", signer=payload["from"], nonce=0, target="0xT",
        payload=payload, signature=signature_key(payload["signature"]), gas=100_000, client="test",
    )  # fmt: skip


def _accept_direct(book: RelayBook, data: str) -> int:
    return book.accept(
        community="c", kind="direct", forwarder="0xF", signer=None, nonce=None, target="0xT",
        payload={"data": data}, signature=None, gas=100_000, client="test",
    )  # fmt: skip


def _replace_in_outbox(book: RelayBook, request_id: int, **columns) -> None:
    """The outbox holds another request under this id, as a restored backup may."""
    with book.sessions.begin() as session:
        session.execute(update(RelayRequest).where(RelayRequest.id == request_id).values(**columns))


def test_the_queue_comes_with_the_payloads_kept_in_memory(book, packing):
    mine = _signed(SIGNER, "aa")
    forward = _accept_forward(book, mine)
    direct = _accept_direct(book, "0x01")
    queued = packing.queued()
    assert [(q.id, q.kind, q.payload) for q in queued] == [
        (forward, "forward", mine),
        (direct, "direct", {"data": "0x01"}),
    ]
    assert queued[0].payload is mine  # from memory: not read and parsed again


def test_a_request_replaced_under_a_remembered_id_is_packed_as_the_outbox_holds_it(book, packing):
    forward = _accept_forward(book, _signed(SIGNER, "aa"))
    direct = _accept_direct(book, "0x01")
    theirs = _signed(OTHER, "bb")
    _replace_in_outbox(book, forward, signer=OTHER, payload=theirs, signature=signature_key(theirs["signature"]))
    _replace_in_outbox(book, direct, payload={"data": "0x02"})
    assert [q.payload for q in packing.queued()] == [theirs, {"data": "0x02"}]
    assert book.payloads.kept[forward] == theirs  # and remembered from now on


def test_an_empty_queue_packs_nothing(packing):
    assert packing.queued() == []
