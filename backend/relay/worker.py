"""The relayer worker: the one owner of the relayer key and its nonces.

In a loop, while this process leads (leader.py), the first two once per block:
1. settle: receipts of the transactions it sent, in one JSON-RPC batch; each request of a mined
   batch is settled from the forwarder's ExecutedForwardRequest events (succeeded, or reverted
   with its nonce used), a request the forwarder skipped is failed (its nonce is free), and a
   transaction the node lost puts its requests back in the queue;
2. replace: a transaction not mined within `relay_replace_after_blocks` is signed again with
   the same nonce and higher fees, up to `relay_max_fee_per_gas`;
3. send: queued requests packed into the forwarder's `executeBatch` (refundReceiver = the
   relayer, so one request that fails does not sink the others: it is skipped, or its call
   reverts alone), up to `relay_batch_gas` per transaction; the relayer's own calls (executing
   a proposal) one per transaction. Each transaction is written to the outbox, signed, before it
   is sent, so a crash between the two sends the same transaction again, never another.

A relayer without the funds for the next transaction, or facing a base fee over
`relay_max_fee_per_gas`, pauses: it signs nothing, says why at GET .../relayer (`paused`), and
resumes by itself once funded or once the fee falls.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from backend.chain.addresses import checksum
from backend.chain.gateway import ChainGateway
from backend.chain.receipts import created_by, executed_requests
from backend.chain.rpc import RpcError
from backend.errors import DomainError
from backend.relayer.leader import LeaderLock
from backend.relayer.outbox import (
    ACTIVE,
    BATCH_REVERTED,
    CALL_REVERTED,
    NOT_EXECUTED,
    RelayBatch,
    RelayRequest,
    batch_gas,
    recheck_from,
    state_in,
    struct_of,
)
from backend.settings import Settings

log = logging.getLogger(__name__)

# A transaction is taken for lost when the node knows none of its versions this many blocks
# after it was (re)sent.
_LOST_AFTER_BLOCKS = 5
# Settle and replace at least this often (seconds), even while the head stands still.
_SETTLE_EVERY = 1.0


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


@dataclass(frozen=True)
class _BlockFacts:
    head: int
    max_fee: int  # per gas
    priority: int
    base: int
    missing: frozenset[str]  # communities whose contracts are not (all) on the chain


@dataclass
class WorkerStatus:
    leading: bool
    paused: str | None  # why sending is paused (out of funds, fees over the cap), or None
    queued: int
    sent: int
    balance_wei: int | None
    last_error: str | None


class RelayWorker:
    def __init__(self, settings: Settings, gateway: ChainGateway, sessions: sessionmaker[Session],
                 leader: LeaderLock) -> None:
        self.settings = settings
        self.gateway = gateway
        self.sessions = sessions
        self.leader = leader
        self.account = Account.from_key(settings.relayer_key.get_secret_value())
        self.address = self.account.address
        self.wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_nonce: int | None = None
        self.paused: str | None = None
        self.last_error: str | None = None
        self.balance: int | None = None
        self._last_head: int | None = None
        self._settled_at = 0.0  # monotonic time of the last settle and replace
        self._held: str | None = None  # why a stuck transaction is not replaced, as of that settle
        self._facts: _BlockFacts | None = None
        self.leading = False  # this process's worker leads (holds the leader lock): it is the one that sends

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
                self._next_nonce, self._facts = None, None
            except Exception as exc:
                self.last_error = repr(exc)
                self._next_nonce, self._facts = None, None
                log.exception("relayer step failed")
            self.wake.wait(self.settings.relay_poll_seconds)
            self.wake.clear()

    def _take_over(self) -> None:
        """Leading from now on: send again what a crashed leader may have signed but not sent."""
        self._next_nonce = None
        with self.sessions() as session:
            batches = session.scalars(select(RelayBatch).where(RelayBatch.state == "sent")).all()
        for batch in batches:
            self._broadcast(batch.attempts[-1]["raw"])

    def step(self) -> None:
        """Settle and replace once per new block (receipts come only with blocks; a transaction
        is stuck after a number of blocks), and at least every `_SETTLE_EVERY` seconds; send what
        is queued every step. A step woken by a request accepted within the same block is then a
        database read, a signature and one eth_sendRawTransaction for everything queued: the
        requests accepted while it sends go out together in the next one."""
        head = self.gateway.block_number()
        if head != self._last_head or time.monotonic() - self._settled_at >= _SETTLE_EVERY:
            if head != self._last_head:
                self.recheck(head)
            self.settle(head)
            # One answer per step: a stuck transaction it cannot replace pauses sending as much as
            # queued requests it cannot send (an empty queue used to clear the first at once, so
            # GET .../relayer showed a pause for fees or funds only now and then).
            self._held = self.replace_stuck(head)
            self._last_head, self._settled_at = head, time.monotonic()
        waiting = self.send_queued(head)
        self.paused = self._held or waiting

    # ------------------------------------------------------------------ settle

    def settle(self, head: int) -> None:
        with self.sessions() as session:
            batches = session.scalars(select(RelayBatch).where(RelayBatch.state == "sent")
                                      .order_by(RelayBatch.relayer_nonce)).all()
        if not batches:
            return
        hashes = [(batch.id, attempt["hash"]) for batch in batches for attempt in batch.attempts]
        answers = self.gateway.rpc.batch([("eth_getTransactionCount", [self.address, "latest"])]
                                         + [("eth_getTransactionReceipt", [h]) for _, h in hashes],
                                         raise_errors=False)
        mined_nonce, receipts = answers[0], answers[1:]
        if isinstance(mined_nonce, str) and not any(isinstance(r, dict) for r in receipts):
            # Nothing of ours mined, and the chain waits for a nonce none of our transactions has:
            # the one that had it was lost with a rolled-back block or the node's pool. Everything
            # after it would wait for ever: its requests go back in the queue, to be sent again
            # from the chain's nonce.
            expected = int(mined_nonce, 16)
            if batches[0].relayer_nonce > expected:
                log.warning("relayer nonce gap: the chain expects %s, our oldest transaction has %s: resending",
                            expected, batches[0].relayer_nonce)
                for batch in batches:
                    self._requeue(batch.id, from_state="sent")
                return
        mined: dict[int, dict[str, Any]] = {}
        for (batch_id, _), receipt in zip(hashes, receipts):
            if isinstance(receipt, dict):
                mined[batch_id] = receipt
        for batch in batches:
            if batch.id in mined:
                self._settle_mined(batch.id, mined[batch.id])
            elif head - batch.sent_block >= _LOST_AFTER_BLOCKS and not self._node_knows(batch):
                self._requeue_lost(batch.id)

    def recheck(self, head: int) -> None:
        """A transaction mined in the last few blocks whose receipt is gone was rolled back with
        its block (a node restarted from an older state, a reorganisation): its requests' nonces
        are unused again, so the same signed requests go back in the queue and are sent again."""
        with self.sessions() as session:
            recent = session.execute(select(RelayBatch.id, RelayBatch.tx_hash).where(
                RelayBatch.state == "mined",
                RelayBatch.block_number >= recheck_from(head, self.settings.confirmations))).all()
        if not recent:
            return
        receipts = self.gateway.rpc.batch([("eth_getTransactionReceipt", [h]) for _, h in recent],
                                          raise_errors=False)
        for (batch_id, tx_hash), receipt in zip(recent, receipts):
            if receipt is None:
                log.warning("relayer transaction %s was rolled back with its block: its requests are queued again",
                            tx_hash)
                self._requeue(batch_id, from_state="mined")

    def _node_knows(self, batch: RelayBatch) -> bool:
        known = self.gateway.rpc.batch([("eth_getTransactionByHash", [a["hash"]]) for a in batch.attempts],
                                       raise_errors=False)
        return any(isinstance(tx, dict) for tx in known)

    def _settle_mined(self, batch_id: int, receipt: dict[str, Any]) -> None:
        gas_used = int(receipt["gasUsed"], 16)
        price = int(receipt.get("effectiveGasPrice") or "0x0", 16)
        block = int(receipt["blockNumber"], 16)
        ok = int(receipt["status"], 16) == 1
        now = time.time()
        with self.sessions.begin() as session:
            batch = session.get(RelayBatch, batch_id)
            if batch is None or batch.state != "sent":
                return
            batch.state, batch.tx_hash, batch.block_number, batch.gas_used = (
                "mined", receipt["transactionHash"].lower(), block, gas_used)
            rows = session.scalars(select(RelayRequest).where(RelayRequest.batch_id == batch_id)).all()
            total = sum(r.gas for r in rows) or 1
            by_key = {(r.signer, r.nonce): r for r in rows if r.kind == "forward"}
            if ok and rows and rows[0].kind == "forward":
                community = self.gateway.deployments.communities[rows[0].community]
                for done in executed_requests(self.gateway.deployments, community, receipt["logs"]):
                    row = by_key.pop((checksum(done.signer), done.nonce), None)
                    if row is not None:
                        row.state = "succeeded" if done.success else "reverted"
                        row.created = done.created
                        if not done.success:
                            row.error = CALL_REVERTED
                for row in by_key.values():  # skipped by the forwarder: expired, or its nonce already used
                    row.state, row.error = "failed", NOT_EXECUTED
            elif ok:  # a direct call
                community = self.gateway.deployments.communities[rows[0].community]
                rows[0].state, rows[0].created = "succeeded", created_by(self.gateway.deployments, community,
                                                                         receipt["logs"])
            else:  # the whole transaction reverted: nothing in it ran, no member nonce was used
                for row in rows:
                    row.state, row.error = "failed", BATCH_REVERTED
            for row in rows:
                share = gas_used * row.gas // total
                row.tx_hash, row.block_number, row.gas_used, row.fee_wei = receipt["transactionHash"].lower(), block, share, \
                    share * price
                row.settled_at = now

    def _requeue_lost(self, batch_id: int) -> None:
        """The node knows none of the transaction's versions (restarted from an older state, a
        reorganisation): its requests go back in the queue, and the relayer's nonce is read anew."""
        log.warning("relayer transaction of batch %s was lost by the node: its requests are queued again", batch_id)
        self._requeue(batch_id, from_state="sent")

    def _requeue(self, batch_id: int, from_state: str) -> None:
        with self.sessions.begin() as session:
            batch = session.get(RelayBatch, batch_id)
            if batch is None or batch.state != from_state:
                return
            batch.state = "dropped"
            for row in session.scalars(select(RelayRequest).where(RelayRequest.batch_id == batch_id)).all():
                taken = row.kind == "forward" and session.scalar(select(RelayRequest.id).where(
                    RelayRequest.forwarder == row.forwarder, RelayRequest.signer == row.signer,
                    RelayRequest.nonce == row.nonce, RelayRequest.state.in_(ACTIVE), RelayRequest.id != row.id))
                row.batch_id, row.tx_hash, row.block_number = None, None, None
                row.gas_used = row.fee_wei = row.settled_at = None
                row.created, row.error = None, None
                if taken:  # the member's nonce went to a newer request meanwhile: this one is over
                    row.state, row.error = "failed", f"Rolled back; request {taken} has its nonce now"
                    row.settled_at = time.time()
                    continue
                row.state = "queued"
                row.attempts += 1
        self._next_nonce = None

    # ------------------------------------------------------------------ fees

    def _block_facts(self, head: int) -> _BlockFacts:
        """What sending needs to know of the chain at this head, in one round trip: fees, the
        relayer's balance, and which communities' contracts are there. Read once per block, and
        at every step while sending is paused (a refund or a falling fee on a chain that mines
        only on demand makes no new block)."""
        if self._facts is not None and self._facts.head == head and self.paused is None:
            return self._facts
        communities = self.gateway.deployments.communities
        contracts = [(slug, address) for slug, community in sorted(communities.items())
                     for address in community.contracts.values()]
        block, priority, balance, *codes = self.gateway.rpc.batch(
            [("eth_getBlockByNumber", ["latest", False]), ("eth_maxPriorityFeePerGas", []),
             ("eth_getBalance", [self.address, "latest"])]
            + [("eth_getCode", [address, "latest"]) for _, address in contracts], raise_errors=False)
        for answer in (balance, *codes):
            if isinstance(answer, RpcError):
                raise answer
        # Twice the latest base fee plus the tip, so a transaction stays includable through
        # several blocks of rising base fee.
        base = int(block.get("baseFeePerGas") or "0x0", 16) if isinstance(block, dict) else 0
        tip = int(priority, 16) if isinstance(priority, str) else 1_000_000_000
        tip = min(tip, self.settings.relay_max_fee_per_gas)
        self.balance = int(balance, 16)
        self._facts = _BlockFacts(head, min(2 * base + tip, self.settings.relay_max_fee_per_gas), tip, base,
                                  frozenset(slug for (slug, _), code in zip(contracts, codes)
                                            if code in ("0x", "", None)))
        return self._facts

    def _over_the_cap(self, base: int) -> str | None:
        """Why nothing can be sent while the base fee is over the cap: a transaction at the cap
        would only be refused or stay pending (and each refusal raised the next attempt's fees
        above the earlier one's, past the cap: see _above_earlier)."""
        cap = self.settings.relay_max_fee_per_gas
        if base <= cap:
            return None
        return (f"The base fee is {base:,} wei per gas, over the cap of {cap:,} (relay_max_fee_per_gas): sending "
                "is paused until it falls")

    def _cannot_pay(self, cost: int) -> str | None:
        if self.balance is None or self.balance >= cost:
            return None
        return (f"The relayer {self.address} holds {self.balance:,} wei; the next transaction may cost {cost:,}: "
                "sending is paused until it is funded")

    def _sign(self, *, nonce: int, to: str, data: bytes, gas: int, max_fee: int, priority: int) -> dict[str, Any]:
        signed = self.account.sign_transaction({
            "type": 2, "chainId": self.gateway.chain_id, "nonce": nonce, "to": checksum(to),
            "data": data, "value": 0, "gas": gas, "maxFeePerGas": max_fee, "maxPriorityFeePerGas": priority,
        })
        return {"hash": signed.hash.to_0x_hex(), "raw": _hex(signed.raw_transaction), "max_fee": max_fee,
                "priority": priority}

    def _broadcast(self, raw: str) -> str | None:
        """Send a signed transaction; the node's refusal as text, or None once it holds it (or
        already did, or mined it)."""
        try:
            self.gateway.rpc.request("eth_sendRawTransaction", raw)
            return None
        except RpcError as exc:
            message = exc.message.lower()
            if "already known" in message or "already imported" in message:
                return None
            return exc.message

    # ------------------------------------------------------------------ replace

    def replace_stuck(self, head: int) -> str | None:
        """Replace what is stuck; why something stuck is not replaced (fees over the cap, no
        funds), or None."""
        after = self.settings.relay_replace_after_blocks
        with self.sessions() as session:
            stuck = session.scalars(select(RelayBatch).where(
                RelayBatch.state == "sent", RelayBatch.sent_block <= head - after)).all()
        if not stuck:
            return None
        facts = self._block_facts(head)
        market_fee, market_tip = facts.max_fee, facts.priority
        held = self._over_the_cap(facts.base)
        if held:
            return held
        for batch in stuck:
            last = batch.attempts[-1]
            # A replacement must raise both fees by at least 10% (nodes' rule); 12.5% to be safe.
            max_fee = max(market_fee, last["max_fee"] * 9 // 8 + 1)
            priority = max(market_tip, last["priority"] * 9 // 8 + 1)
            if max_fee > self.settings.relay_max_fee_per_gas:
                held = (f"Transaction {last['hash']} is stuck: replacing it would need a fee over the "
                        f"cap of {self.settings.relay_max_fee_per_gas:,} wei per gas")
                continue
            # A relayer that cannot pay for the replacement does not sign it: the node would refuse
            # it, and each refused replacement used to raise the next one's fees by 12.5% (and
            # kept the transaction from being found lost and sent again once funded).
            held = self._cannot_pay(batch.gas * max_fee)
            if held:
                break
            rows_data = self._batch_call(batch)
            attempt = self._sign(nonce=batch.relayer_nonce, to=batch.to, data=rows_data, gas=batch.gas,
                                 max_fee=max_fee, priority=min(priority, max_fee))
            with self.sessions.begin() as session:
                fresh = session.get(RelayBatch, batch.id)
                if fresh is None or fresh.state != "sent":
                    continue
                fresh.attempts = [*fresh.attempts, attempt]
                fresh.sent_block = head
                for row in session.scalars(select(RelayRequest).where(RelayRequest.batch_id == batch.id)):
                    row.tx_hash = attempt["hash"]
            refusal = self._broadcast(attempt["raw"])
            log.info("replaced stuck transaction %s with %s (max fee %s wei/gas)%s", last["hash"], attempt["hash"],
                     max_fee, f": {refusal}" if refusal else "")
        return held

    def _above_earlier(self, nonce: int, max_fee: int, priority: int) -> tuple[int, int]:
        """Fees for a new transaction with `nonce`: above any earlier one of ours with the same
        nonce that a node may still hold (a node replaces a pending transaction only for 10%
        more), so that a resend after a lost block is never refused as underpriced."""
        with self.sessions() as session:
            # Not those the node refused outright: it holds nothing of them (counting them raised
            # each attempt after a refusal 12.5% above the last, past the cap within seconds).
            earlier = session.scalars(select(RelayBatch).where(
                RelayBatch.relayer == self.address, RelayBatch.relayer_nonce == nonce,
                RelayBatch.state != "refused")).all()
        for batch in earlier:
            last = batch.attempts[-1]
            max_fee = max(max_fee, last["max_fee"] * 9 // 8 + 1)
            priority = max(priority, last["priority"] * 9 // 8 + 1)
        return max_fee, min(priority, max_fee)

    def _batch_call(self, batch: RelayBatch) -> bytes:
        """The calldata of a batch, rebuilt from its requests (for a replacement)."""
        with self.sessions() as session:
            rows = session.scalars(select(RelayRequest).where(RelayRequest.batch_id == batch.id)
                                   .order_by(RelayRequest.id)).all()
        if rows and rows[0].kind == "direct":
            return bytes.fromhex(rows[0].payload["data"][2:])
        forwarder = self.gateway.abi("forwarder").function("executeBatch")
        return forwarder.encode([struct_of(r.payload) for r in rows], self.address)

    # ------------------------------------------------------------------ send

    def _relayer_nonce(self) -> int:
        if self._next_nonce is None:
            node = int(self.gateway.rpc.request("eth_getTransactionCount", self.address, "pending"), 16)
            with self.sessions() as session:
                ours = session.scalar(select(func.max(RelayBatch.relayer_nonce)).where(
                    RelayBatch.state == "sent", RelayBatch.relayer == self.address))
            self._next_nonce = max(node, (ours + 1) if ours is not None else 0)
        return self._next_nonce

    def send_queued(self, head: int) -> str | None:
        """Send what is queued; why some of it is not sent (sending paused), or None."""
        with self.sessions() as session:
            rows = session.scalars(select(RelayRequest).where(RelayRequest.state == "queued")
                                   .order_by(RelayRequest.id).limit(self.settings.relay_batch_max * 8)).all()
        if not rows:
            return None
        packs: list[list[RelayRequest]] = []
        by_forwarder: dict[str, list[RelayRequest]] = defaultdict(list)
        for row in rows:
            if row.kind == "direct":
                packs.append([row])
            else:
                by_forwarder[row.forwarder].append(row)
        for queue in by_forwarder.values():
            pack: list[RelayRequest] = []
            for row in queue:
                if pack and (sum(r.gas for r in pack) + row.gas > self.settings.relay_batch_gas
                             or len(pack) >= self.settings.relay_batch_max):
                    packs.append(pack)
                    pack = []
                pack.append(row)
            if pack:
                packs.append(pack)
        packs.sort(key=lambda p: p[0].id)  # the oldest request first
        # A chain reset under the service (a local chain restarted without its state) has no
        # contracts until the community is deployed again: wait for them rather than spend the
        # relayer's nonces (on a development chain, the deployer's too) on calls to nothing.
        facts = self._block_facts(head)
        missing = sorted({p[0].community for p in packs} & facts.missing)
        waiting = None
        if missing:
            waiting = (f"The contracts of {', '.join(missing)} are not (all) on this chain: waiting for the "
                       "community to be deployed")
            packs = [p for p in packs if p[0].community not in missing]
            if not packs:
                return waiting
        max_fee, priority = facts.max_fee, facts.priority
        over = self._over_the_cap(facts.base)
        if over:
            return over
        for pack in packs:
            stopped = self._send_pack(pack, head, max_fee, priority)
            if stopped:
                return stopped
        return waiting

    def _send_pack(self, pack: list[RelayRequest], head: int, max_fee: int, priority: int) -> str | None:
        """Sign, record and send one transaction: None once the node holds it, or why not."""
        first = pack[0]
        if first.kind == "direct":
            to, data, gas = first.target, bytes.fromhex(first.payload["data"][2:]), first.gas
        else:
            to = first.forwarder
            data = self.gateway.abi("forwarder").function("executeBatch").encode(
                [struct_of(r.payload) for r in pack], self.address)
            gas = batch_gas([r.gas for r in pack], data)
        nonce = self._relayer_nonce()
        max_fee, priority = self._above_earlier(nonce, max_fee, priority)
        if max_fee > self.settings.relay_max_fee_per_gas:
            return (f"A transaction with nonce {nonce} must outbid an earlier one of the relayer's, which would need "
                    f"a fee over the cap of {self.settings.relay_max_fee_per_gas:,} wei per gas")
        cannot_pay = self._cannot_pay(gas * max_fee)
        if cannot_pay:
            return cannot_pay
        attempt = self._sign(nonce=nonce, to=to, data=data, gas=gas, max_fee=max_fee, priority=priority)
        with self.sessions.begin() as session:
            batch = RelayBatch(relayer=self.address, relayer_nonce=nonce, to=to, gas=gas, attempts=[attempt],
                               state="sent", sent_block=head)
            session.add(batch)
            session.flush()
            session.execute(update(RelayRequest).where(RelayRequest.id.in_([row.id for row in pack]))
                            .values(state="sent", batch_id=batch.id, tx_hash=attempt["hash"])
                            .execution_options(synchronize_session=False))
            batch_id = batch.id
        self._next_nonce = nonce + 1
        refusal = self._broadcast(attempt["raw"])
        if refusal is None:
            if self.balance is not None:
                self.balance -= gas * max_fee
            return None
        # Refused outright: nothing of it is out there. Its requests go back in the queue.
        log.warning("the node refused the relayer's transaction %s: %s", attempt["hash"], refusal)
        with self.sessions.begin() as session:
            session.get(RelayBatch, batch_id).state = "refused"
            for row in session.scalars(select(RelayRequest).where(RelayRequest.batch_id == batch_id)):
                row.state, row.batch_id, row.tx_hash = "queued", None, None
        self._next_nonce = None
        if "insufficient funds" in refusal.lower():
            return f"The relayer {self.address} cannot pay for gas ({refusal}): paused until funded"
        return f"The node refused the relayer's transaction ({refusal}): sending again"

    # ------------------------------------------------------------------ status

    def status(self) -> WorkerStatus:
        with self.sessions() as session:
            counts = dict(session.execute(select(RelayRequest.state, func.count()).where(
                state_in(ACTIVE)).group_by(RelayRequest.state)).all())
        return WorkerStatus(self.leading, self.paused, counts.get("queued", 0), counts.get("sent", 0), self.balance,
                            self.last_error)
