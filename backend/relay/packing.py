"""Sending what waits in the outbox: queued requests packed into the forwarder's `executeBatch`
(refundReceiver = the relayer, so one request that fails does not sink the others: it is
skipped, or its call reverts alone), up to `relay_batch_gas` per transaction; the relayer's own
calls (executing a proposal) one per transaction. Each transaction is written to the outbox,
signed, before it is sent, so a crash between the two sends the same transaction again, never
another.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from backend.chain.gateway import ChainGateway
from backend.indexer.db import DriverStatement
from backend.relay.fees import Fees
from backend.relay.gas import batch_gas
from backend.relay.outbox import BATCHES, Attempt, RelayBatch, RelayRequest
from backend.relay.payloads import Payloads
from backend.relay.signing import RelayerKey
from backend.relay.state import RelayerState
from backend.settings import Settings

log = logging.getLogger(__name__)

# The queue, oldest first, read on the driver's own cursor as plain rows (their payloads apart,
# from the process's memory, payloads.py): a transaction's requests loaded as ORM objects, and the
# transaction written and its requests marked through a session, were most of packing's CPU. The
# worker looks every `relay_poll_seconds` for requests other processes accepted, and most looks
# find none: then this one statement is all a look costs.
_QUEUED = DriverStatement(
    select(
        RelayRequest.id,
        RelayRequest.kind,
        RelayRequest.community,
        RelayRequest.forwarder,
        RelayRequest.target,
        RelayRequest.gas,
        RelayRequest.created_at,
    )
    .where(RelayRequest.state == "queued")
    .order_by(RelayRequest.id)
    .limit(bindparam("most"))
)
_NEW_BATCH = insert(BATCHES).returning(BATCHES.c.id)
# Only requests still queued are marked: if another process took some of them meanwhile (two
# relayers leading at once, one whose lock was lost mid-step), fewer rows change, and the
# transaction is not recorded, nor sent.
_SENT_IN = (
    update(RelayRequest)
    .where(RelayRequest.id.in_(bindparam("ids", expanding=True)), RelayRequest.state == "queued")
    .values(state="sent", batch_id=bindparam("batch"), tx_hash=bindparam("tx_hash"))
)


# A transaction the node refused outright, and its requests back in the queue.
_REFUSED = update(BATCHES).where(BATCHES.c.id == bindparam("batch"), BATCHES.c.state == "sent").values(state="refused")
_QUEUED_AGAIN = (
    update(RelayRequest)
    .where(RelayRequest.batch_id == bindparam("batch"), RelayRequest.state == "sent")
    .values(state="queued", batch_id=None, tx_hash=None)
)


@dataclass(frozen=True)
class Queued:
    """A queued request, as packing reads it: what a transaction is built from."""

    id: int
    kind: str  # forward: a member's signed request; direct: the relayer's own call
    community: str
    forwarder: str
    target: str
    gas: int  # its share of a transaction's gas limit
    payload: dict[str, Any]


def packs_of(rows: list[Queued], *, batch_gas_limit: int, batch_max: int) -> list[list[Queued]]:
    """The transactions these queued requests (oldest first) go out in, the oldest request's
    first: each direct call alone; a forwarder's requests together, in order, up to
    `batch_gas_limit` of shares and `batch_max` requests a transaction."""
    packs: list[list[Queued]] = []
    by_forwarder: dict[str, list[Queued]] = defaultdict(list)
    for row in rows:
        if row.kind == "direct":
            packs.append([row])
        else:
            by_forwarder[row.forwarder].append(row)
    for queue in by_forwarder.values():
        pack: list[Queued] = []
        for row in queue:
            if pack and (sum(r.gas for r in pack) + row.gas > batch_gas_limit or len(pack) >= batch_max):
                packs.append(pack)
                pack = []
            pack.append(row)
        if pack:
            packs.append(pack)
    packs.sort(key=lambda p: p[0].id)  # the oldest request first
    return packs


class Packing:
    def __init__(
        self,
        *,
        settings: Settings,
        gateway: ChainGateway,
        sessions: sessionmaker[Session],
        reads: Engine,
        payloads: Payloads,
        state: RelayerState,
        key: RelayerKey,
        fees: Fees,
    ) -> None:
        self.settings = settings
        self.gateway = gateway
        self.sessions = sessions
        self.engine: Engine = sessions.kw["bind"]
        self.reads = reads  # for reads of one statement (backend/indexer/db.py, autocommit_twin)
        self.payloads = payloads
        self.state = state
        self.key = key
        self.fees = fees
        # The head at which it last sent a transaction the node took (the worker's pack window).
        self.sent_at_head: int | None = None

    def _relayer_nonce(self) -> int:
        state = self.state
        if state.next_nonce is None:
            node = int(self.gateway.rpc.request("eth_getTransactionCount", self.key.address, "pending"), 16)
            with self.sessions() as session:
                ours = session.scalar(
                    select(func.max(RelayBatch.relayer_nonce)).where(
                        RelayBatch.state == "sent", RelayBatch.relayer == self.key.address
                    )
                )
            state.next_nonce = max(node, (ours + 1) if ours is not None else 0)
        return state.next_nonce

    def queued(self) -> list[Queued]:
        """What waits in the queue, oldest first (as many as eight transactions' worth).

        A payload comes from memory only when it was kept for the request the outbox holds under
        that id, accepted at the same time: an outbox replaced under the running service
        (restored from a backup) may hold another request under an id this process remembers,
        and the relayer would send that other one (payloads.py)."""
        with self.reads.connect() as connection:
            found = _QUEUED.rows(connection, {"most": self.settings.relay_batch_max * 8})
            if not found:
                return []
            payloads = self.payloads.of(connection, {row[0]: row[6] for row in found})
        return [
            Queued(request_id, kind, community, forwarder, target, gas, payloads[request_id])
            for request_id, kind, community, forwarder, target, gas, _ in found
            if request_id in payloads  # gone from the outbox between the two reads: nothing to send
        ]

    def send_queued(self, head: int) -> str | None:
        """Send what is queued; why some of it is not sent (sending paused), or None."""
        rows = self.queued()
        if not rows:
            return None
        packs = packs_of(rows, batch_gas_limit=self.settings.relay_batch_gas, batch_max=self.settings.relay_batch_max)
        # A chain reset under the service (a local chain restarted without its state) has no
        # contracts until the community is deployed again: wait for them rather than spend the
        # relayer's nonces (on a development chain, the deployer's too) on calls to nothing.
        facts = self.fees.block_facts(head)
        missing = sorted({p[0].community for p in packs} & facts.missing)
        waiting = None
        if missing:
            waiting = (
                f"The contracts of {', '.join(missing)} are not (all) on this chain: waiting for the "
                "community to be deployed"
            )
            packs = [p for p in packs if p[0].community not in missing]
            if not packs:
                return waiting
        max_fee, priority = facts.max_fee, facts.priority
        over = self.fees.over_the_cap(facts.base)
        if over:
            return over
        for pack in packs:
            stopped = self._send_pack(pack, head, max_fee, priority)
            if stopped:
                return stopped
        return waiting

    def record(self, pack: list[Queued], attempt: Attempt, *, nonce: int, to: str, gas: int, head: int) -> int | None:
        """The signed transaction written to the outbox and its requests marked sent, in one
        database transaction, before it is sent: its id, or None (nothing written) when some of
        its requests were no longer queued."""
        with self.engine.connect() as connection, connection.begin() as transaction:
            batch_id = connection.execute(
                _NEW_BATCH,
                {
                    "relayer": self.key.address,
                    "relayer_nonce": nonce,
                    "to": to,
                    "gas": gas,
                    "attempts": [attempt],
                    "state": "sent",
                    "sent_block": head,
                    "created_at": time.time(),
                },
            ).scalar_one()
            ids = [row.id for row in pack]
            marked = connection.execute(_SENT_IN, {"ids": ids, "batch": batch_id, "tx_hash": attempt["hash"]})
            if marked.rowcount != len(ids):
                transaction.rollback()
                return None
        return int(batch_id)

    def refused(self, batch_id: int) -> bool:
        """A transaction the node refused outright (recorded just before): marked refused and its
        requests back in the queue, unless another process settled or dropped it meanwhile (two
        leaders at once). Whether it was."""
        with self.engine.begin() as connection:
            if connection.execute(_REFUSED, {"batch": batch_id}).rowcount != 1:
                return False
            connection.execute(_QUEUED_AGAIN, {"batch": batch_id})
            return True

    def _send_pack(self, pack: list[Queued], head: int, max_fee: int, priority: int) -> str | None:
        """Sign, record and send one transaction: None once the node holds it, or why not."""
        first = pack[0]
        data = self.key.calldata(first.kind, [row.payload for row in pack])
        if first.kind == "direct":
            to, gas = first.target, first.gas
        else:
            to, gas = first.forwarder, batch_gas([r.gas for r in pack], data)
        nonce = self._relayer_nonce()
        max_fee, priority = self.fees.above_earlier(nonce, max_fee, priority)
        if max_fee > self.settings.relay_max_fee_per_gas:
            return (
                f"A transaction with nonce {nonce} must outbid an earlier one of the relayer's, which would need "
                f"a fee over the cap of {self.settings.relay_max_fee_per_gas:,} wei per gas"
            )
        cannot_pay = self.fees.cannot_pay(gas * max_fee)
        if cannot_pay:
            return cannot_pay
        attempt = self.key.sign(nonce=nonce, to=to, data=data, gas=gas, max_fee=max_fee, priority=priority)
        batch_id = self.record(pack, attempt, nonce=nonce, to=to, gas=gas, head=head)
        if batch_id is None:
            log.warning("requests %s were taken by another process meanwhile: not sent", [row.id for row in pack])
            return (
                "Another service process took some of the queued requests at the same moment (two relayers "
                "leading at once): this one sent nothing, and looks again at its next step"
            )
        self.state.next_nonce = nonce + 1
        refusal = self.key.broadcast(attempt["raw"])
        if refusal is None:
            if self.state.balance is not None:
                self.state.balance -= gas * max_fee
            self.sent_at_head = head
            return None
        # Refused outright: nothing of it is out there. Its requests go back in the queue.
        log.warning("the node refused the relayer's transaction %s: %s", attempt["hash"], refusal)
        self.refused(batch_id)
        self.state.next_nonce = None
        if "insufficient funds" in refusal.lower():
            return f"The relayer {self.key.address} cannot pay for gas ({refusal}): paused until funded"
        return f"The node refused the relayer's transaction ({refusal}): sending again"
