"""The relayer worker: the one owner of the relayer key and its nonces.

In a loop, while this process leads (leader.py), the first two once per block:
1. settle (settling.py): receipts of the transactions it sent; each request of a mined batch
   settled from the forwarder's events, and a transaction the node lost, or whose block was
   rolled back, puts its requests back in the queue;
2. replace (fees.py): a transaction not mined within `relay_replace_after_blocks` is signed
   again with the same nonce and higher fees, up to `relay_max_fee_per_gas`;
3. send (packing.py): queued requests packed into the forwarder's `executeBatch`, up to
   `relay_batch_gas` per transaction; the relayer's own calls (executing a proposal) one per
   transaction, each written to the outbox, signed, before it is sent.

A relayer without the funds for the next transaction, or facing a base fee over
`relay_max_fee_per_gas`, pauses: it signs nothing, says why at GET .../relayer (`paused`), and
resumes by itself once funded or once the fee falls.

The parts share what they know of the relayer between steps through one RelayerState
(state.py): its next nonce, its balance, why sending is paused, the last block's facts.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend.chain.gateway import ChainGateway
from backend.errors import DomainError
from backend.relay.fees import Fees
from backend.relay.leader import LeaderLock
from backend.relay.outbox import ACTIVE, RelayBatch, RelayRequest, state_in
from backend.relay.packing import Packing
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
        leader: LeaderLock,
        wake: threading.Event,
    ) -> None:
        self.settings = settings
        self.gateway = gateway
        self.sessions = sessions
        self.leader = leader
        self.wake = wake  # set when a request is accepted (RelayBook.accept): a step at once
        self.state = RelayerState()
        self.key = RelayerKey(key=settings.relayer_key.get_secret_value(), gateway=gateway)
        self.fees = Fees(settings=settings, gateway=gateway, sessions=sessions, state=self.state, key=self.key)
        self.packing = Packing(
            settings=settings, gateway=gateway, sessions=sessions, state=self.state, key=self.key, fees=self.fees
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
        self._block_interval: float | None = None  # and the time between the last two it saw

    # ------------------------------------------------------------------ loop

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="relayer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.wake.set()
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
            if self.wake.wait(self.settings.relay_poll_seconds):
                self._gather()
            self.wake.clear()

    def _gather(self) -> None:
        """Woken by a request while a transaction it sent at this very head still waits for its
        block: the requests accepted in the next few milliseconds (`relay_pack_window_seconds`) go
        in one transaction with it, since they would share that block anyway. Each transaction
        costs the service and the node about as much as several requests, and under a burst it
        sent one for every few. A request alone, or the first after a block, goes at once, and so
        does every request on a chain that mines each transaction as it comes (blocks seen less
        than _INTERVAL_MINING_FROM apart)."""
        window = self.settings.relay_pack_window_seconds
        if not (window and self.leading and self.packing.sent_at_head is not None):
            return
        if self._block_interval is None or self._block_interval < _INTERVAL_MINING_FROM:
            return  # blocks come with each transaction (automining): waiting gathers nothing
        try:
            same_block = self.packing.sent_at_head == self.gateway.block_number()
        except DomainError:  # the node is away: the step says so
            return
        if same_block:
            self._stop.wait(window)

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
        requests accepted while it sends go out together in the next one."""
        head = self.gateway.block_number()
        if head != self._last_head or time.monotonic() - self._settled_at >= _SETTLE_EVERY:
            if head != self._last_head:
                now = time.monotonic()
                if self._head_changed_at is not None:
                    self._block_interval = now - self._head_changed_at
                self._head_changed_at = now
                self.settling.recheck(head)
            self.settling.settle(head)
            # One answer per step: a stuck transaction it cannot replace pauses sending as much as
            # queued requests it cannot send (an empty queue used to clear the first at once, so
            # GET .../relayer showed a pause for fees or funds only now and then).
            self._held = self.fees.replace_stuck(head)
            self._last_head, self._settled_at = head, time.monotonic()
        waiting = self.packing.send_queued(head)
        self.state.paused = self._held or waiting

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
