"""What the relayer pays, and whether it can: the block's fees and the relayer's balance, read
once per block; the cap on fees (`relay_max_fee_per_gas`) and the funds for the next
transaction, either of which pauses sending; and replacing a transaction not mined within
`relay_replace_after_blocks`, signed again with the same nonce and higher fees, up to the cap.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from backend.chain.gateway import ChainGateway, LatestBlock
from backend.chain.rpc import RpcError
from backend.indexer.db import DriverStatement
from backend.relay.outbox import RelayBatch, RelayRequest
from backend.relay.signing import RelayerKey
from backend.relay.state import BlockFacts, RelayerState
from backend.settings import Settings

log = logging.getLogger(__name__)

# Whether the relayer signed a transaction with this nonce before that a node may still hold: only
# when it sends again after a lost block, so asked on the driver's cursor before any is loaded (the
# load, for each transaction sent, was a fourteenth of the relayer's thread under load).
_EARLIER = DriverStatement(
    select(RelayBatch.id)
    .where(
        RelayBatch.relayer == bindparam("relayer"),
        RelayBatch.relayer_nonce == bindparam("nonce"),
        RelayBatch.state != "refused",
    )
    .limit(1)
)


class Fees:
    def __init__(
        self,
        *,
        settings: Settings,
        gateway: ChainGateway,
        sessions: sessionmaker[Session],
        reads: Engine,
        state: RelayerState,
        key: RelayerKey,
    ) -> None:
        self.settings = settings
        self.gateway = gateway
        self.sessions = sessions
        self.reads = reads  # for reads of one statement (backend/indexer/db.py, autocommit_twin)
        self.state = state
        self.key = key

    def block_facts(self, head: int) -> BlockFacts:
        """What sending needs to know of the chain at this head, in one round trip: fees, the
        relayer's balance, and which communities' contracts are there. Read once per block, and
        at every step while sending is paused (a refund or a falling fee on a chain that mines
        only on demand makes no new block).

        Contracts found at the last facts' block stay there while the chain only grows on it: a
        block whose parent is that block (or that block itself) vouches for them, and their code
        is not asked for again (under load, facts are read each block, and asking for each
        contract's code each time was a tenth of the relayer's calls, more with each community).
        Their code is left out of the round trip when `head` is that block or the next; if the
        block read then does not vouch for them (a chain reset, a reorganisation, a block mined
        meanwhile), a second round trip asks for it. Any other head asks for every contract."""
        state = self.state
        if state.facts is not None and state.facts.head == head and state.paused is None:
            return state.facts
        communities = self.gateway.deployments.communities
        contracts = [
            (slug, address)
            for slug, community in sorted(communities.items())
            for address in community.contracts.values()
        ]
        # The block the last facts were read at, when `head` is it or the next: it may vouch.
        earlier: LatestBlock | None = None
        vouchable: frozenset[str] = frozenset()
        if state.facts is not None and state.facts.block is not None and head - state.facts.block.number in (0, 1):
            earlier = state.facts.block
            vouchable = state.facts.present & {address for _, address in contracts}
        asked = [address for _, address in contracts if address not in vouchable]
        calls: list[tuple[str, list[Any]]] = [
            ("eth_getBlockByNumber", ["latest", False]),
            ("eth_maxPriorityFeePerGas", []),
            ("eth_getBalance", [self.key.address, "latest"]),
        ]
        calls += [("eth_getCode", [address, "latest"]) for address in asked]
        block, priority, balance, *codes = self.gateway.rpc.batch(calls, raise_errors=False)
        latest = LatestBlock.of(block) if isinstance(block, dict) else None
        vouched = earlier is not None and latest is not None and latest.vouches_for(earlier.number, earlier.hash)
        if vouchable and not vouched:
            again = sorted(vouchable)
            codes += self.gateway.rpc.batch([("eth_getCode", [a, "latest"]) for a in again], raise_errors=False)
            asked += again
        for answer in (balance, *codes):
            if isinstance(answer, RpcError):
                raise answer
        present = frozenset(a for a, code in zip(asked, codes) if code not in ("0x", "", None))
        if vouched:
            present |= vouchable
        # Twice the latest base fee plus the tip, so a transaction stays includable through
        # several blocks of rising base fee.
        base = int(block.get("baseFeePerGas") or "0x0", 16) if isinstance(block, dict) else 0
        tip = int(priority, 16) if isinstance(priority, str) else 1_000_000_000
        tip = min(tip, self.settings.relay_max_fee_per_gas)
        state.balance = int(balance, 16)
        state.facts = BlockFacts(
            head,
            min(2 * base + tip, self.settings.relay_max_fee_per_gas),
            tip,
            base,
            frozenset(slug for slug, address in contracts if address not in present),
            latest,
            present,
        )
        return state.facts

    def over_the_cap(self, base: int) -> str | None:
        """Why nothing can be sent while the base fee is over the cap: a transaction at the cap
        would only be refused or stay pending (and each refusal raised the next attempt's fees
        above the earlier one's, past the cap: see above_earlier)."""
        cap = self.settings.relay_max_fee_per_gas
        if base <= cap:
            return None
        return (
            f"The base fee is {base:,} wei per gas, over the cap of {cap:,} (relay_max_fee_per_gas): sending "
            "is paused until it falls"
        )

    def cannot_pay(self, cost: int) -> str | None:
        balance = self.state.balance
        if balance is None or balance >= cost:
            return None
        return (
            f"The relayer {self.key.address} holds {balance:,} wei; the next transaction may cost {cost:,}: "
            "sending is paused until it is funded"
        )

    def above_earlier(self, nonce: int, max_fee: int, priority: int) -> tuple[int, int]:
        """Fees for a new transaction with `nonce`: above any earlier one of ours with the same
        nonce that a node may still hold (a node replaces a pending transaction only for 10%
        more), so that a resend after a lost block is never refused as underpriced."""
        with self.reads.connect() as connection:
            if not _EARLIER.rows(connection, {"relayer": self.key.address, "nonce": nonce}):
                return max_fee, min(priority, max_fee)
        with self.sessions() as session:
            # Not those the node refused outright: it holds nothing of them (counting them raised
            # each attempt after a refusal 12.5% above the last, past the cap within seconds).
            earlier = session.scalars(
                select(RelayBatch).where(
                    RelayBatch.relayer == self.key.address,
                    RelayBatch.relayer_nonce == nonce,
                    RelayBatch.state != "refused",
                )
            ).all()
        for batch in earlier:
            last = batch.attempts[-1]
            max_fee = max(max_fee, last["max_fee"] * 9 // 8 + 1)
            priority = max(priority, last["priority"] * 9 // 8 + 1)
        return max_fee, min(priority, max_fee)

    # ------------------------------------------------------------------ replace

    def replace_stuck(self, head: int) -> str | None:
        """Replace what is stuck; why something stuck is not replaced (fees over the cap, no
        funds), or None."""
        after = self.settings.relay_replace_after_blocks
        with self.sessions() as session:
            stuck = session.scalars(
                select(RelayBatch).where(RelayBatch.state == "sent", RelayBatch.sent_block <= head - after)
            ).all()
        if not stuck:
            return None
        facts = self.block_facts(head)
        market_fee, market_tip = facts.max_fee, facts.priority
        held = self.over_the_cap(facts.base)
        if held:
            return held
        for batch in stuck:
            last = batch.attempts[-1]
            # A replacement must raise both fees by at least 10% (nodes' rule); 12.5% to be safe.
            max_fee = max(market_fee, last["max_fee"] * 9 // 8 + 1)
            priority = max(market_tip, last["priority"] * 9 // 8 + 1)
            if max_fee > self.settings.relay_max_fee_per_gas:
                held = (
                    f"Transaction {last['hash']} is stuck: replacing it would need a fee over the "
                    f"cap of {self.settings.relay_max_fee_per_gas:,} wei per gas"
                )
                continue
            # A relayer that cannot pay for the replacement does not sign it: the node would refuse
            # it, and each refused replacement used to raise the next one's fees by 12.5% (and
            # kept the transaction from being found lost and sent again once funded).
            held = self.cannot_pay(batch.gas * max_fee)
            if held:
                break
            attempt = self.key.sign(
                nonce=batch.relayer_nonce,
                to=batch.to,
                data=self._calldata_of(batch),
                gas=batch.gas,
                max_fee=max_fee,
                priority=min(priority, max_fee),
            )
            with self.sessions.begin() as session:
                fresh = session.get(RelayBatch, batch.id)
                if fresh is None or fresh.state != "sent":
                    continue
                fresh.attempts = [*fresh.attempts, attempt]
                fresh.sent_block = head
                for row in session.scalars(select(RelayRequest).where(RelayRequest.batch_id == batch.id)):
                    row.tx_hash = attempt["hash"]
            refusal = self.key.broadcast(attempt["raw"])
            log.info(
                "replaced stuck transaction %s with %s (max fee %s wei/gas)%s",
                last["hash"],
                attempt["hash"],
                max_fee,
                f": {refusal}" if refusal else "",
            )
        return held

    def _calldata_of(self, batch: RelayBatch) -> bytes:
        """The calldata of a batch, rebuilt from its requests (for a replacement)."""
        with self.sessions() as session:
            rows = session.scalars(
                select(RelayRequest).where(RelayRequest.batch_id == batch.id).order_by(RelayRequest.id)
            ).all()
        return self.key.calldata(rows[0].kind if rows else "forward", [row.payload for row in rows])
