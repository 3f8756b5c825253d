"""The relayer's durable outbox: every signed request that passed the checks is written here
before anything is sent, and every transaction the relayer sends is written here before it
is sent. A service killed at any moment then loses no accepted request and sends none twice.

These tables are not part of the index: nothing on chain can rebuild them (a request that was
refused or reverted leaves no event), so they live under their own metadata, which index
rebuilds never drop.

A request is unique among those not yet settled by (forwarder, signer, nonce): the member's
forwarder nonce is what makes a signed request work once, so the same request submitted twice
(a client retrying after a broken connection, or two API processes) is one row.
"""

from __future__ import annotations

import time
from typing import Any, TypedDict, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    ColumnElement,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    bindparam,
    literal_column,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from backend.chain.hashing import keccak
from backend.i18n import N_

# Request states: queued (accepted, not yet in a transaction) -> sent (in a transaction the node
# holds) -> succeeded | reverted (its call reverted inside the batch: the member's nonce is used)
# | failed (never executed: expired, or refused by the forwarder; the member's nonce is free).
ACTIVE = ("queued", "sent")
SETTLED = ("succeeded", "reverted", "failed")
# States in which the member's nonce was used on chain.
USED_NONCE = ("succeeded", "reverted")
# Why a settled request did not succeed, as the worker writes it (`RelayRequest.error`). The first
# two passed every check and then cost the relayer gas for nothing: each is a strike (budgets.py).
# They are kept in English (budgets.py counts NOT_EXECUTED) and translated where they are shown.
NOT_EXECUTED = N_("The forwarder did not execute it (expired, or its signature or nonce was refused on chain)")
CALL_REVERTED = N_("Its call reverted when executed (the chain changed since it was checked)")
BATCH_REVERTED = N_("The relayer's transaction reverted: nothing of it ran")
# Mined transactions are checked for this many blocks (beyond the confirmation depth) after,
# in case their block is rolled back. Until then their requests still hold their member nonces:
# a block lost with a node restart or a reorganisation gives the chain back a nonce that the
# relayer will use again for the same signed request, so it must not be handed to a new one.
RECHECK_BLOCKS = 16


def recheck_from(head: int, confirmations: int) -> int:
    """The oldest block whose relayed transactions may still be rolled back and sent again."""
    return head - confirmations - RECHECK_BLOCKS


def signature_key(signature: str) -> str:
    """What the outbox keeps of a signature to know the same signed request again: the signature
    itself (a key's, 65 bytes), or the hash of a contract wallet's longer one (the outbox's column
    holds 132 characters; the whole signature is in the request's payload)."""
    signature = signature.lower()
    return signature if len(signature) <= 132 else "0x" + keccak(hexstr=signature).hex().removeprefix("0x")


def struct_of(payload: dict[str, Any]) -> tuple:
    """The ForwardRequestData tuple from a forward request's outbox JSON."""
    return (
        payload["from"],
        payload["to"],
        int(payload["value"]),
        int(payload["gas"]),
        int(payload["deadline"]),
        bytes.fromhex(payload["data"][2:]),
        bytes.fromhex(payload["signature"][2:]),
    )


class OutboxBase(DeclarativeBase):
    pass


class RelayRequest(OutboxBase):
    __tablename__ = "relay_requests"
    __table_args__ = (
        # One unsettled request per (forwarder, signer, nonce), on both databases.
        Index(
            "uq_relay_request_active",
            "forwarder",
            "signer",
            "nonce",
            unique=True,
            sqlite_where=text("state IN ('queued', 'sent')"),
            postgresql_where=text("state IN ('queued', 'sent')"),
        ),
        Index("ix_relay_request_state", "state", "id"),
        # A member's requests by time (budgets), by nonce (nonces held, the same request again) and
        # by state (in flight): each read the API makes for a write stays bounded however many
        # requests the member made before (bench/decay.py measures it).
        Index("ix_relay_request_signer", "community", "signer", "created_at"),
        Index("ix_relay_request_member_nonce", "community", "signer", "nonce"),
        Index("ix_relay_request_member_state", "community", "signer", "state"),
        Index("ix_relay_request_client_state", "client", "state"),
        # A member's strikes (requests that failed on chain) of the cool-off, however many they had before.
        Index("ix_relay_request_member_strikes", "community", "signer", "state", "settled_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    community: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8))  # forward: a member's signed request; direct: the relayer's own call
    forwarder: Mapped[str] = mapped_column(String(42))
    signer: Mapped[str | None] = mapped_column(String(42), nullable=True)
    nonce: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    target: Mapped[str] = mapped_column(String(42))
    # forward: [from, to, value, gas, deadline, data, signature] as JSON (hex for bytes);
    # direct: {"data": "0x..."}.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    signature: Mapped[str | None] = mapped_column(String(132), nullable=True)
    gas: Mapped[int] = mapped_column(BigInteger)  # its share of a transaction's gas limit
    client: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(12), default="queued")
    batch_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    tx_hash: Mapped[str | None] = mapped_column(String(66), nullable=True, index=True)
    block_number: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    gas_used: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # its share of the transaction's
    fee_wei: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # ids it created
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[float] = mapped_column(Float, default=time.time)
    settled_at: Mapped[float | None] = mapped_column(Float, nullable=True)


# One member's requests in one community, as bind parameters (community, signer): where the
# API's statements on the outbox start (book.py, budgets.py).
OF_MEMBER = (RelayRequest.community == bindparam("community"), RelayRequest.signer == bindparam("signer"))


def state_in(states: tuple[str, ...]) -> ColumnElement[bool]:
    """`state IN ('queued', 'sent')`, the states written into the statement. A tuple given to
    `.in_()` is a parameter that SQLAlchemy expands into the SQL text again at each execution,
    which cost the API's outbox statements more than running them."""
    return RelayRequest.state.in_([literal_column(f"'{state}'") for state in states])


class Attempt(TypedDict):
    """One signed version of a relayer transaction (signing.py), as `RelayBatch.attempts` keeps it."""

    hash: str
    raw: str  # the signed transaction, as sent to the node
    max_fee: int  # per gas
    priority: int


class RelayBatch(OutboxBase):
    """One transaction of the relayer (and its replacements: same nonce, higher fees)."""

    __tablename__ = "relay_batches"
    # Sent ones in order (settle), mined ones of the last blocks (recheck), earlier ones with a nonce
    # (a new transaction outbids them): each bounded, however many the relayer sent before.
    __table_args__ = (
        Index("ix_relay_batch_state", "state", "id"),
        Index("ix_relay_batch_state_block", "state", "block_number"),
        Index("ix_relay_batch_nonce", "relayer", "relayer_nonce"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    relayer: Mapped[str] = mapped_column(String(42))
    relayer_nonce: Mapped[int] = mapped_column(BigInteger)
    to: Mapped[str] = mapped_column(String(42))
    gas: Mapped[int] = mapped_column(BigInteger)
    # Every signed version of it, newest last: [{"hash", "raw", "max_fee", "priority"}]. Written
    # before it is sent, so that after a crash the same transaction is sent again, never another.
    attempts: Mapped[list[Attempt]] = mapped_column(JSON)
    # sent | mined | dropped (lost by the node, or rolled back) | refused (by the node, when sent)
    state: Mapped[str] = mapped_column(String(12), default="sent")
    sent_block: Mapped[int] = mapped_column(BigInteger)  # the head when last (re)sent
    tx_hash: Mapped[str | None] = mapped_column(String(66), nullable=True)  # the one mined
    block_number: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    gas_used: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[float] = mapped_column(Float, default=time.time)


# The outbox's tables, for Core statements (insert, update) that bypass the ORM's bookkeeping.
REQUESTS = cast(Table, RelayRequest.__table__)
BATCHES = cast(Table, RelayBatch.__table__)


# Indexes of earlier versions, replaced by others: dropped when the service starts.
_REPLACED_INDEXES = ("ix_relay_request_client",)


def create_outbox(engine: Engine) -> None:
    """The outbox's tables, and any index added since they were created (create_all makes only
    missing tables; the outbox is never dropped and rebuilt like the index)."""
    OutboxBase.metadata.create_all(engine)
    for table in OutboxBase.metadata.sorted_tables:
        for index in table.indexes:
            index.create(engine, checkfirst=True)
    with engine.begin() as connection:
        for name in _REPLACED_INDEXES:
            connection.execute(text(f"DROP INDEX IF EXISTS {name}"))
