"""The relayer worker: the one owner of the relayer key and its nonces.

In a loop, while this process leads (leader.py), the first two once per block:
1. settle (settling.py): receipts of the transactions it sent; each request of a mined batch
   settled from the forwarder's events, and a transaction the node lost, or whose block was
   rolled back, puts its requests back in the queue;
2. replace (fees.py): a transaction not mined within `relay_replace_after_blocks` is signed
   again with the same nonce and higher fees, up to `relay_max_fee_per_gas`;
3. send (packing.py): queued requests packed into the forwarder's `executeBatch`, up to
   `relay_batch_gas` per transaction; the relayer's own calls (executing a proposal) one per
   transaction, each written to the outbox, signed, before it is sent. Between steps it waits
   for requests (arrivals.py); while a transaction it sent still waits for its block, it gathers
   the requests that arrive into the next one, sent once they fill it or shortly before the next
   block is due (_gather).
With nothing queued, nothing in flight and nothing mined recently enough to be rolled back, a
step is one read of the outbox and asks the node nothing (`_idle`).

A relayer without the funds for the next transaction, or facing a base fee over
`relay_max_fee_per_gas`, pauses: it signs nothing, says why at GET .../relayer (`paused`), and
resumes by itself once funded or once the fee falls.

The parts share what they know of the relayer between steps through one RelayerState
(state.py): its next nonce, its balance, why sending is paused, the last block's facts.
"""

from __future__ import annotations

import logging
import statistics
import threading
import time
from collections import deque
from dataclasses import dataclass

from sqlalchemy import bindparam, exists, func, literal, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from backend.chain.gateway import ChainGateway
from backend.errors import DomainError
from backend.indexer.db import DriverStatement
from backend.relay.arrivals import Arrivals
from backend.relay.fees import Fees
from backend.relay.leader import LeaderLock
from backend.relay.outbox import ACTIVE, RelayBatch, RelayRequest, recheck_from, state_in
from backend.relay.packing import Packing
from backend.relay.payloads import Payloads
from backend.relay.settling import Settling
from backend.relay.signing import RelayerKey
from backend.relay.state import RelayerState
from backend.settings import Settings

log = logging.getLogger(__name__)

# Settle and replace at least this often (seconds), even while the head stands still.
_SETTLE_EVERY = 1.0
# Blocks seen at least this far apart: the chain mines at intervals, and gathering requests for a
# transaction costs them no block (an automining chain mines each transaction at once instead).
_INTERVAL_MINING_FROM = 0.25
# The block time taken as the median of the last few intervals the worker saw between new heads: a
# head it noticed late (a busy machine, a long step) makes one interval long and the next short, and
# a block it missed makes one twice the block time; a block time guessed too long would send
# gathered requests after their block.
_INTERVALS_KEPT = 9
# Gathered requests leave this share of the block time before the next block is due, or
# `relay_send_lead_seconds` if that is longer: a quarter of 12 s on Ethereum, where builders
# assemble a block well before its slot.
_LEAD_SHARE = 0.25
# A step takes the head a relay check (or the indexer) read at most this long ago, instead of
# asking the node again: under load the checks read it with every write. A block mined since is
# noticed at most this late, a fraction of the relayer's own poll (`relay_poll_seconds`).
HEAD_SHARED_SECONDS = 0.02

# Whether the relayer has anything to do: requests queued, a transaction of its own waiting for its
# block, or one mined recently enough to be rolled back (settling.py rechecks those). One statement
# on the driver's cursor; without any of them, a step reads nothing from the node (see `step`).
_ANYTHING_TO_DO = DriverStatement(
    select(literal(1)).where(
        or_(
            exists().where(RelayRequest.state == "queued"),
            exists().where(RelayBatch.state == "sent"),
            exists().where(RelayBatch.state == "mined", RelayBatch.block_number >= bindparam("recheck_from")),
        )
    )
)


@dataclass
class WorkerStatus:
    leading: bool
    paused: str | None  # why sending is paused (out of funds, fees over the cap), or None
    queued: int
    sent: int
    balance_wei: int | None
    last_error: str | None


class RelayWorker:
    def __init__(
        self,
        *,
        settings: Settings,
        gateway: ChainGateway,
        sessions: sessionmaker[Session],
        reads: Engine,
        payloads: Payloads,
        leader: LeaderLock,
        arrivals: Arrivals,
    ) -> None:
        self.settings = settings
        self.gateway = gateway
        self.sessions = sessions
        self.reads = reads  # for reads of one statement (backend/indexer/db.py, autocommit_twin)
        self.leader = leader
        self.arrivals = arrivals  # told of each request accepted (RelayBook.accept): a step at once
        self.state = RelayerState()
        self.key = RelayerKey(key=settings.relayer_key.get_secret_value(), gateway=gateway)
        self.fees = Fees(
            settings=settings, gateway=gateway, sessions=sessions, reads=reads, state=self.state, key=self.key
        )
        self.packing = Packing(
            settings=settings,
            gateway=gateway,
            sessions=sessions,
            reads=reads,
            payloads=payloads,
            state=self.state,
            key=self.key,
            fees=self.fees,
        )
        self.settling = Settling(
            settings=settings, gateway=gateway, sessions=sessions, state=self.state, relayer=self.key.address
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.leading = False  # this process's worker leads (holds the leader lock): it is the one that sends
        self.last_error: str | None = None
        self._last_head: int | None = None
        self._settled_at = 0.0  # monotonic time of the last settle and replace
        self._held: str | None = None  # why a stuck transaction is not replaced, as of that settle
        self._head_changed_at: float | None = None  # monotonic time the worker last saw a new head
        self._intervals: deque[float] = deque(maxlen=_INTERVALS_KEPT)  # times between the last heads it saw
        self._block_interval: float | None = None  # the block time, as their median

    # ------------------------------------------------------------------ loop

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="relayer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.arrivals.interrupt()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.leader.held() or self.leader.try_acquire():
                    if not self.leading:
                        self.leading = True
                        self._take_over()
                    self.step()
                    self.last_error = None
                else:
                    self.leading = False
            except DomainError as exc:  # the node is away: try again
                self.last_error = exc.detail
                self.state.forget()
            except Exception as exc:
                self.last_error = repr(exc)
                self.state.forget()
                log.exception("relayer step failed")
            if self.arrivals.wait(self.settings.relay_poll_seconds):
                self._gather()

    def _saw_new_head(self, now: float) -> None:
        """A new head seen at `now` (monotonic): the block time guessed again."""
        if self._head_changed_at is not None:
            self._intervals.append(now - self._head_changed_at)
            self._block_interval = statistics.median(self._intervals)
        self._head_changed_at = now

    def _gather(self) -> None:
        """Woken by a request while a transaction it sent at this very head still waits for its
        block: the requests accepted until shortly before the next block is due go in one
        transaction, since they would share that block anyway, or sooner once they fill one
        (arrivals.py). Each transaction costs the service, the node and the gas bill about as much
        as several requests: sent 30 ms after the last, at 100 writes a second a transaction
        carried 5 requests. The next block is due a block time after the worker saw the head;
        the requests leave `_send_lead` before it, and at least `relay_pack_window_seconds` after
        they woke it. A request alone, or the first after a block, goes at once, and so does every
        request on a chain that mines each transaction as it comes (blocks seen less than
        _INTERVAL_MINING_FROM apart)."""
        window = self.settings.relay_pack_window_seconds
        if not (window and self.leading and self.packing.sent_at_head is not None):
            return
        interval = self._block_interval
        if interval is None or interval < _INTERVAL_MINING_FROM:
            return  # blocks come with each transaction (automining): waiting gathers nothing
        try:
            sent_at = self.packing.sent_at_head
            same_block = sent_at == self.gateway.head_number(HEAD_SHARED_SECONDS, not_below=sent_at)
        except DomainError:  # the node is away: the step says so
            return
        if same_block:
            self.arrivals.gather(max(window, self._until_send(interval)))

    def _until_send(self, interval: float) -> float:
        """Seconds until the gathered requests leave: `_send_lead` before the next block is due
        (the head seen a block time ago or more: at once, the block is late)."""
        if self._head_changed_at is None:
            return 0.0
        due = self._head_changed_at + interval
        return due - self._send_lead(interval) - time.monotonic()

    def _send_lead(self, interval: float) -> float:
        """How long before the next block is due gathered requests leave."""
        return max(self.settings.relay_send_lead_seconds, interval * _LEAD_SHARE)

    def _take_over(self) -> None:
        """Leading from now on: send again what a crashed leader may have signed but not sent."""
        self.state.next_nonce = None
        with self.sessions() as session:
            batches = session.scalars(select(RelayBatch).where(RelayBatch.state == "sent")).all()
        for batch in batches:
            self.key.broadcast(batch.attempts[-1]["raw"])

    def step(self) -> None:
        """Settle and replace once per new block (receipts come only with blocks; a transaction
        is stuck after a number of blocks), and at least every `_SETTLE_EVERY` seconds; send what
        is queued every step. A step woken by a request accepted within the same block is then a
        database read, a signature and one eth_sendRawTransaction for everything queued: the
        requests accepted while it sends go out together in the next one.

        With nothing to do (`_idle`), a step is that one statement: an idle relayer asked the node
        for its head ten times a second (each call billed by a provider), and read the outbox several
        times over, to find nothing."""
        if self._idle():
            # The time until it next reads a head spans no block interval of the chain's.
            self._head_changed_at = None
            self._held = self.state.paused = None
            return
        head = self.gateway.head_number(HEAD_SHARED_SECONDS, not_below=self._last_head)
        if head != self._last_head or time.monotonic() - self._settled_at >= _SETTLE_EVERY:
            if head != self._last_head:
                self._saw_new_head(time.monotonic())
                self.settling.recheck(head)
            self.settling.settle(head)
            # One answer per step: a stuck transaction it cannot replace pauses sending as much as
            # queued requests it cannot send (an empty queue used to clear the first at once, so
            # GET .../relayer showed a pause for fees or funds only now and then).
            self._held = self.fees.replace_stuck(head)
            self._last_head, self._settled_at = head, time.monotonic()
        self.arrivals.taken()  # what arrived so far is sent now: those after fill the next transaction
        waiting = self.packing.send_queued(head)
        self.state.paused = self._held or waiting

    def _idle(self) -> bool:
        """Nothing queued, nothing of its own in flight, nothing mined since the head it last saw
        that could still be rolled back. (Its last head only grows older while it is idle, so the
        window read from it only widens: a batch that needs rechecking is never missed.) Never
        idle before it has seen a head."""
        if self._last_head is None:
            return False
        since = recheck_from(self._last_head, self.settings.confirmations)
        with self.reads.connect() as connection:
            return not _ANYTHING_TO_DO.rows(connection, {"recheck_from": since})

    # ------------------------------------------------------------------ status

    def status(self) -> WorkerStatus:
        with self.sessions() as session:
            counts = dict(
                session.execute(
                    select(RelayRequest.state, func.count()).where(state_in(ACTIVE)).group_by(RelayRequest.state)
                ).all()
            )
        return WorkerStatus(
            self.leading,
            self.state.paused,
            counts.get("queued", 0),
            counts.get("sent", 0),
            self.state.balance,
            self.last_error,
        )
