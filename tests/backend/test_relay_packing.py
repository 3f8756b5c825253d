"""What the relayer packs is what the outbox holds (backend/relay/packing.py).

- Payloads come from the memory the checks keep only while they were kept for the request the
  outbox holds under that id (accepted at the same time). An outbox replaced under the running
  service (restored from a backup) may hold another request under an id this process remembers:
  the relayer then packs the outbox's request, never the remembered one.
- A transaction is recorded only if every one of its requests is still queued: another process
  that took some meanwhile (two relayers leading at once) leaves it unwritten, and unsent. One the
  node refused goes back in the queue, unless another process settled it meanwhile.

On SQLite and PostgreSQL, from a real outbox."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import sessionmaker

from backend.relay.book import RelayBook
from backend.relay.outbox import RelayBatch, RelayRequest, signature_key
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
        key=SimpleNamespace(address=SIGNER),  # type: ignore[arg-type]
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
    # Another request under each id, accepted at another time. A contract wallet's signature is any
    # bytes it likes, so the same signature would not tell two of its requests apart.
    theirs = _signed(OTHER, "aa")
    _replace_in_outbox(book, forward, signer=OTHER, payload=theirs, created_at=1.0)
    _replace_in_outbox(book, direct, payload={"data": "0x02"}, created_at=2.0)
    assert [q.payload for q in packing.queued()] == [theirs, {"data": "0x02"}]
    assert book.payloads.kept[forward].payload == theirs  # and remembered from now on


def test_an_empty_queue_packs_nothing(packing):
    assert packing.queued() == []


def _states(book: RelayBook) -> list[tuple]:
    with book.sessions() as session:
        return [
            tuple(r)
            for r in session.execute(select(RelayRequest.state, RelayRequest.batch_id).order_by(RelayRequest.id))
        ]


def _batches(book: RelayBook) -> int:
    with book.sessions() as session:
        return session.scalar(select(func.count()).select_from(RelayBatch))


def _record(packing: Packing, pack) -> int | None:
    attempt = {"hash": "0x" + "cd" * 32, "raw": "0x", "max_fee": 10, "priority": 1}
    return packing.record(pack, attempt, nonce=0, to="0xF", gas=200_000, head=7)  # type: ignore[arg-type]


def test_a_transaction_is_recorded_with_its_requests_marked_sent(book, packing):
    _accept_forward(book, _signed(SIGNER, "aa"))
    _accept_direct(book, "0x01")
    batch = _record(packing, packing.queued())
    assert batch is not None and _batches(book) == 1
    assert _states(book) == [("sent", batch), ("sent", batch)]
    assert packing.queued() == []


def test_requests_another_process_took_meanwhile_leave_the_transaction_unwritten(book, packing):
    first = _accept_forward(book, _signed(SIGNER, "aa"))
    _accept_direct(book, "0x01")
    pack = packing.queued()
    _replace_in_outbox(book, first, state="sent", batch_id=99)  # another relayer sent it meanwhile
    assert _record(packing, pack) is None
    assert _batches(book) == 0
    assert _states(book) == [("sent", 99), ("queued", None)]  # the other request still queued, as it was


def test_a_refused_transaction_puts_its_requests_back_in_the_queue(book, packing):
    _accept_forward(book, _signed(SIGNER, "aa"))
    batch = _record(packing, packing.queued())
    assert batch is not None
    assert packing.refused(batch) is True
    assert _states(book) == [("queued", None)]
    assert [q.id for q in packing.queued()] == [1]


def test_a_refused_transaction_another_process_settled_meanwhile_is_left_as_it_is(book, packing):
    _accept_forward(book, _signed(SIGNER, "aa"))
    batch = _record(packing, packing.queued())
    with book.sessions.begin() as session:
        session.execute(update(RelayBatch).where(RelayBatch.id == batch).values(state="mined"))
    assert packing.refused(batch) is False
    assert _states(book) == [("sent", batch)]
