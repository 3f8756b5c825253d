"""Settling what the relayer sent, once per block: receipts of its transactions in one JSON-RPC
batch; each request of a mined batch is settled from the forwarder's ExecutedForwardRequest
events (succeeded, or reverted with its nonce used), a request the forwarder skipped is failed
(its nonce is free), and a transaction the node lost, or whose block was rolled back, puts its
requests back in the queue.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

from sqlalchemy import JSON, bindparam, select, update
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.orm import Session, sessionmaker

from backend.chain.addresses import checksum
from backend.chain.gateway import ChainGateway
from backend.chain.logs import decode_logs
from backend.chain.receipts import Receipt, created_by, executed_requests
from backend.chain.rpc import RpcError
from backend.relay.outbox import (
    ACTIVE,
    BATCH_REVERTED,
    BATCHES,
    CALL_REVERTED,
    NOT_EXECUTED,
    REQUESTS,
    Attempt,
    RelayBatch,
    RelayRequest,
    recheck_from,
)
from backend.relay.state import RelayerState
from backend.settings import Settings

log = logging.getLogger(__name__)

# What settling reads of a mined batch's requests, and writes back: no payloads.
_OF_BATCH = select(
    RelayRequest.id,
    RelayRequest.kind,
    RelayRequest.community,
    RelayRequest.signer,
    RelayRequest.nonce,
    RelayRequest.gas,
    RelayRequest.state,
    RelayRequest.error,
    RelayRequest.created,
).where(RelayRequest.batch_id == bindparam("batch"))
_SETTLE = (
    update(REQUESTS)
    .where(REQUESTS.c.id == bindparam("b_id"))
    .values(
        state=bindparam("b_state"),
        error=bindparam("b_error"),
        created=bindparam("b_created", type_=JSON(none_as_null=True)),  # None: SQL NULL, as the ORM wrote it
        tx_hash=bindparam("b_tx_hash"),
        block_number=bindparam("b_block_number"),
        gas_used=bindparam("b_gas_used"),
        fee_wei=bindparam("b_fee_wei"),
        settled_at=bindparam("b_settled_at"),
    )
)


# The relayer's transactions in flight, oldest nonce first: read once a block, as plain rows.
_SENT = (
    select(RelayBatch.id, RelayBatch.relayer_nonce, RelayBatch.sent_block, RelayBatch.attempts)
    .where(RelayBatch.state == "sent")
    .order_by(RelayBatch.relayer_nonce)
)
# A sent transaction marked mined; no row changed when another process (or this one, after a
# rolled-back block was found meanwhile) settled or dropped it first.
_MINED = (
    update(BATCHES)
    .where(BATCHES.c.id == bindparam("b_id"), BATCHES.c.state == "sent")
    .values(
        state="mined",
        tx_hash=bindparam("b_tx_hash"),
        block_number=bindparam("b_block_number"),
        gas_used=bindparam("b_gas_used"),
    )
)


class _Sent(NamedTuple):
    """One of the relayer's transactions in flight, as settling reads it."""

    id: int
    relayer_nonce: int
    sent_block: int
    attempts: list[Attempt]


def gas_shares(gas_used: int, limits: list[int]) -> list[int]:
    """Each request's share of its transaction's gas, by its share of the gas limit. What rounding
    down leaves goes to the first ones, a unit each: the shares add up to the gas used, so what the
    relayer reports per member is what its transactions used."""
    if not limits:
        return []
    total = sum(limits) or 1
    shares = [gas_used * limit // total for limit in limits]
    for index in range(gas_used - sum(shares)):
        shares[index % len(shares)] += 1
    return shares


@dataclass
class _Settled:
    """A request of a mined batch, as settling reads it and decides its end."""

    id: int
    kind: str
    community: str
    signer: str | None
    nonce: int | None
    gas: int
    state: str
    error: str | None
    created: dict[str, Any] | None


# A transaction is taken for lost when the node knows none of its versions this many blocks
# after it was (re)sent.
_LOST_AFTER_BLOCKS = 5


class Settling:
    def __init__(
        self,
        *,
        settings: Settings,
        gateway: ChainGateway,
        sessions: sessionmaker[Session],
        state: RelayerState,
        relayer: str,
    ) -> None:
        self.settings = settings
        self.gateway = gateway
        self.sessions = sessions
        self.engine: Engine = sessions.kw["bind"]
        self.state = state
        self.relayer = relayer  # the relayer's address
        # The hash of each block this process saw one of the relayer's transactions mined in: a
        # block's hash vouches for every block before it, so whether the last of them is still on
        # the chain says whether any was rolled back (recheck), in one call instead of a receipt
        # for every transaction of the last blocks (under load, most of the service's calls).
        self._block_hashes: dict[int, str] = {}

    def settle(self, head: int) -> None:
        with self.engine.connect() as connection:
            batches = [_Sent(*row) for row in connection.execute(_SENT)]
        if not batches:
            return
        hashes = [(batch.id, attempt["hash"]) for batch in batches for attempt in batch.attempts]
        answers = self.gateway.rpc.batch(
            [("eth_getTransactionCount", [self.relayer, "latest"])]
            + [("eth_getTransactionReceipt", [h]) for _, h in hashes],
            raise_errors=False,
        )
        mined_nonce, receipts = answers[0], answers[1:]
        if isinstance(mined_nonce, str) and not any(isinstance(r, dict) for r in receipts):
            # Nothing of ours mined, and the chain waits for a nonce none of our transactions has:
            # the one that had it was lost with a rolled-back block or the node's pool. Everything
            # after it would wait for ever: its requests go back in the queue, to be sent again
            # from the chain's nonce.
            expected = int(mined_nonce, 16)
            if batches[0].relayer_nonce > expected:
                log.warning(
                    "relayer nonce gap: the chain expects %s, our oldest transaction has %s: resending",
                    expected,
                    batches[0].relayer_nonce,
                )
                for batch in batches:
                    self._requeue(batch.id, from_state="sent")
                return
        mined: dict[int, dict[str, Any]] = {}
        for (batch_id, _), receipt in zip(hashes, receipts):
            if isinstance(receipt, dict):
                mined[batch_id] = receipt
                self._saw_block(receipt)
        for batch in batches:
            if batch.id in mined:
                self._settle_mined(batch.id, Receipt.of(mined[batch.id]))
            elif head - batch.sent_block >= _LOST_AFTER_BLOCKS and not self._node_knows(batch):
                self._requeue_lost(batch.id)

    def recheck(self, head: int) -> None:
        """A transaction mined in the last few blocks whose receipt is gone was rolled back with
        its block (a node restarted from an older state, a reorganisation): its requests' nonces
        are unused again, so the same signed requests go back in the queue and are sent again."""
        with self.sessions() as session:
            recent = session.execute(
                select(RelayBatch.id, RelayBatch.tx_hash, RelayBatch.block_number).where(
                    RelayBatch.state == "mined",
                    RelayBatch.block_number >= recheck_from(head, self.settings.confirmations),
                )
            ).all()
        if not recent:
            self._block_hashes.clear()
            return
        oldest = recheck_from(head, self.settings.confirmations)
        self._block_hashes = {n: h for n, h in self._block_hashes.items() if n >= oldest}
        if self._still_on_chain({number for _, _, number in recent}):
            return
        receipts = self.gateway.rpc.batch(
            [("eth_getTransactionReceipt", [h]) for _, h, _ in recent], raise_errors=False
        )
        for (batch_id, tx_hash, _), receipt in zip(recent, receipts):
            if isinstance(receipt, dict):
                self._saw_block(receipt)
            if receipt is None:
                log.warning(
                    "relayer transaction %s was rolled back with its block: its requests are queued again", tx_hash
                )
                self._requeue(batch_id, from_state="mined")

    def _saw_block(self, receipt: dict[str, Any]) -> None:
        if receipt.get("blockHash") and receipt.get("blockNumber"):
            self._block_hashes[int(receipt["blockNumber"], 16)] = receipt["blockHash"]

    def _still_on_chain(self, numbers: set[int | None]) -> bool:
        """Whether the blocks of these numbers are the ones the relayer's transactions were seen
        mined in: the newest of them still has the hash it had, so every one before it has too.
        False when it changed or is gone, or when a block's hash was never seen (mined before
        this process started): then every receipt is read again."""
        if not numbers or None in numbers or any(n not in self._block_hashes for n in numbers):
            return False
        newest = max(n for n in numbers if n is not None)
        try:
            block = self.gateway.rpc.request("eth_getBlockByNumber", hex(newest), False)
        except RpcError:
            return False
        return isinstance(block, dict) and block.get("hash") == self._block_hashes[newest]

    def _node_knows(self, batch: _Sent) -> bool:
        known = self.gateway.rpc.batch(
            [("eth_getTransactionByHash", [a["hash"]]) for a in batch.attempts], raise_errors=False
        )
        return any(isinstance(tx, dict) for tx in known)

    def _settle_mined(self, batch_id: int, receipt: Receipt) -> None:
        now = time.time()
        deployments = self.gateway.deployments
        with self.engine.begin() as connection:
            marked = connection.execute(
                _MINED,
                {
                    "b_id": batch_id,
                    "b_tx_hash": receipt.tx_hash,
                    "b_block_number": receipt.block_number,
                    "b_gas_used": receipt.gas_used,
                },
            )
            if marked.rowcount != 1:  # settled or dropped meanwhile
                return
            # The batch's requests as plain rows, and their settlement as one executemany: loaded
            # as ORM objects (each payload's JSON parsed) and flushed one by one, settling was the
            # worker's largest cost per request under load.
            rows = [_Settled(*row) for row in connection.execute(_OF_BATCH, {"batch": batch_id})]
            by_key = {(r.signer, r.nonce): r for r in rows if r.kind == "forward"}
            if receipt.succeeded and rows and rows[0].kind == "forward":
                community = deployments.communities[rows[0].community]
                for done in executed_requests(decode_logs(deployments.abis, community, receipt.logs)):
                    row = by_key.pop((checksum(done.signer), done.nonce), None)
                    if row is not None:
                        row.state = "succeeded" if done.success else "reverted"
                        row.created = done.created
                        if not done.success:
                            row.error = CALL_REVERTED
                for row in by_key.values():  # skipped by the forwarder: expired, or its nonce already used
                    row.state, row.error = "failed", NOT_EXECUTED
            elif receipt.succeeded:  # a direct call
                community = deployments.communities[rows[0].community]
                rows[0].state = "succeeded"
                rows[0].created = created_by(decode_logs(deployments.abis, community, receipt.logs))
            else:  # the whole transaction reverted: nothing in it ran, no member nonce was used
                for row in rows:
                    row.state, row.error = "failed", BATCH_REVERTED
            shares = gas_shares(receipt.gas_used, [row.gas for row in rows])
            settled = []
            for row, share in zip(rows, shares):
                settled.append(
                    {
                        "b_id": row.id,
                        "b_state": row.state,
                        "b_error": row.error,
                        "b_created": row.created,
                        "b_tx_hash": receipt.tx_hash,
                        "b_block_number": receipt.block_number,
                        "b_gas_used": share,
                        "b_fee_wei": share * receipt.gas_price,
                        "b_settled_at": now,
                    }
                )
            if settled:
                connection.execute(_SETTLE, settled)

    def _requeue_lost(self, batch_id: int) -> None:
        """The node knows none of the transaction's versions (restarted from an older state, a
        reorganisation): its requests go back in the queue, and the relayer's nonce is read anew."""
        log.warning("relayer transaction of batch %s was lost by the node: its requests are queued again", batch_id)
        self._requeue(batch_id, from_state="sent")

    def _requeue(self, batch_id: int, from_state: str) -> None:
        with self.sessions.begin() as session:
            # Dropped only from the state it was seen in, in the statement itself: one another
            # process settled or dropped meanwhile (two leaders at once) is left as it is.
            dropped = session.execute(
                update(BATCHES).where(BATCHES.c.id == batch_id, BATCHES.c.state == from_state).values(state="dropped")
            )
            if cast(CursorResult, dropped).rowcount != 1:
                return
            for row in session.scalars(select(RelayRequest).where(RelayRequest.batch_id == batch_id)).all():
                taken = row.kind == "forward" and session.scalar(
                    select(RelayRequest.id).where(
                        RelayRequest.forwarder == row.forwarder,
                        RelayRequest.signer == row.signer,
                        RelayRequest.nonce == row.nonce,
                        RelayRequest.state.in_(ACTIVE),
                        RelayRequest.id != row.id,
                    )
                )
                row.batch_id, row.tx_hash, row.block_number = None, None, None
                row.gas_used = row.fee_wei = row.settled_at = None
                row.created, row.error = None, None
                if taken:  # the member's nonce went to a newer request meanwhile: this one is over
                    row.state, row.error = "failed", f"Rolled back; request {taken} has its nonce now"
                    row.settled_at = time.time()
                    continue
                row.state = "queued"
                row.attempts += 1
        self.state.next_nonce = None
