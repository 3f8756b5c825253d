"""What the relayer worker's parts (worker.py, fees.py, packing.py, settling.py) share between
steps, in one small object each of them is handed: the relayer's next nonce, its balance, why
sending is paused, and what was read of the chain at the last block."""

from __future__ import annotations

from dataclasses import dataclass

from backend.chain.gateway import LatestBlock


@dataclass(frozen=True)
class BlockFacts:
    """What sending needs to know of the chain at one head (fees.py reads it)."""

    head: int
    max_fee: int  # per gas
    priority: int
    base: int
    missing: frozenset[str]  # communities whose contracts are not (all) on the chain
    # The newest block when they were read (it or its child vouches for `present`:
    # fees.block_facts), None if that read failed.
    block: LatestBlock | None = None
    present: frozenset[str] = frozenset()  # the served contracts on the chain there, by address


@dataclass
class RelayerState:
    """The relayer as the worker's parts know it between steps."""

    # The nonce of the relayer's next transaction; None: read it again, from the node and the outbox.
    next_nonce: int | None = None
    # The relayer's balance in wei, as read with the last block's facts, less what was sent since.
    balance: int | None = None
    # Why sending is paused (out of funds, fees over the cap), or None: the last step's answer.
    paused: str | None = None
    # The chain as read at the last head (see Fees.block_facts).
    facts: BlockFacts | None = None

    def forget(self) -> None:
        """After a step that failed (the node away, say): the nonce and the facts are read again."""
        self.next_nonce, self.facts = None, None
