"""The one gateway to the chain: reads, and simulations that name the custom error a write would
revert with. Sending is the relayer worker's (backend/relay/worker.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any, NamedTuple

from backend.chain.abi import ContractAbi, ErrorDecoder
from backend.chain.combining import CombinedBatches
from backend.chain.deployments import Community, Deployments, RecordsMove
from backend.chain.on_loop import on_loop
from backend.chain.receipts import Receipt
from backend.chain.rpc import Rpc, RpcError
from backend.errors import BatchRefused, ChainRefused, NodeUnavailable
from backend.i18n import gettext as _
from backend.settings import Settings


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


# The latest block header, as a JSON-RPC call that can also go into a batch.
HEAD_CALL: tuple[str, list[Any]] = ("eth_getBlockByNumber", ["latest", False])


def clock_of(head: dict[str, Any]) -> int:
    """The chain's clock from its head block: the head's timestamp, or the wall clock if the
    chain is idle behind it (a local chain mines only when there is something to mine)."""
    return max(int(time.time()), int(head["timestamp"], 16))


class LatestBlock(NamedTuple):
    """The chain's newest block, as one read of it gives it: what the indexer needs of it."""

    number: int
    hash: str
    parent_hash: str
    timestamp: int

    @classmethod
    def of(cls, block: dict[str, Any]) -> LatestBlock:
        """From the node's answer to eth_getBlockByNumber."""
        return cls(int(block["number"], 16), block["hash"], block["parentHash"], int(block["timestamp"], 16))

    def vouches_for(self, number: int, block_hash: str) -> bool:
        """Whether this block shows, without another read, that the chain still has block `number`
        of hash `block_hash`: it is that block, or its child (a block's hash covers its parent's).
        The indexers' cursors are mostly one of the two, as the chain moves a block at a time."""
        return (self.number == number and self.hash == block_hash) or (
            self.number == number + 1 and self.parent_hash == block_hash
        )


class HeadNoted(NamedTuple):
    """The newest block's number as a read found it, and when that read was asked for (monotonic)."""

    number: int
    asked_at: float


class ChainGateway:
    def __init__(self, *, settings: Settings, deployments: Deployments) -> None:
        self.settings = settings
        self.deployments = deployments
        self.rpc = Rpc(settings.rpc_url, settings.rpc_timeout_seconds)
        self.errors = ErrorDecoder(deployments.abis.values())
        # The relayer worker (backend/relay/worker.py) signs and sends; simulations run as it.
        self.relayer_address = settings.relayer_address
        self._checked_chain = False
        self._following = threading.Lock()
        # The newest head a relay check read, and each member's forwarder nonce as their last
        # check's simulation read it: where the next check starts (backend/relay/simulation.py,
        # judged), each confirmed in that check's own round trip.
        self.head_seen: dict[str, Any] | None = None
        self.nonces_seen: dict[tuple[str, str], int] = {}
        # The newest head any part of the service read (head_number): under load, the relay checks
        # read it with every write, and the relayer asked for it again at each step.
        self._head_noted: HeadNoted | None = None
        # Simulations asked for at once by several threads share round trips (combining.py), one
        # combiner for each shape of answers read.
        self._combined: dict[Any, CombinedBatches] = {}
        self._combining = threading.Lock()

    def follow(self, communities: Iterable[Community]) -> list[Community]:
        """Serve these communities too (created through the community factory: see
        backend/indexer/factory.py); a slug already served keeps its community. Every reader of
        `deployments` sees the old set or the new one, never a half-changed one. Returns those added."""
        with self._following:
            served = self.deployments.communities
            added = {c.slug: c for c in communities if c.slug not in served}
            if added:
                self.deployments = self.deployments.with_communities(added)
            return list(added.values())

    def move_records(self, moves: dict[str, tuple[RecordsMove, ...]]) -> None:
        """Serve each community's records where `moves` left them (backend/indexer/versions.py):
        a community whose moves differ from those served is replaced whole, as `follow` does."""
        with self._following:
            served = self.deployments.communities
            changed = {
                slug: served[slug].with_moves(found)
                for slug, found in moves.items()
                if slug in served and served[slug].moves != found
            }
            if changed:
                self.deployments = self.deployments.with_communities(changed)

    # ------------------------------------------------------------------ identity

    def abi(self, key: str) -> ContractAbi:
        return self.deployments.abis[key]

    @property
    def chain_id(self) -> int:
        return self.deployments.chain_id

    def check_chain(self) -> None:
        """The node must serve the chain the deployments file was written for, and the relayer
        key must be acceptable on it. Checked on first contact, so a node down at start-up
        does not stop the service."""
        if self._checked_chain:
            return
        node_chain_id = int(self.rpc.request("eth_chainId"), 16)
        if node_chain_id != self.deployments.chain_id:
            raise NodeUnavailable(
                _(
                    "The node at %(url)s serves chain %(chain)s, but the deployments file is for chain %(expected)s",
                    url=self.rpc.shown,
                    chain=node_chain_id,
                    expected=self.deployments.chain_id,
                )
            )
        self.settings.check_relayer_key(node_chain_id)
        self._checked_chain = True

    # ------------------------------------------------------------------ reads

    def _latest_block(self) -> dict[str, Any]:
        return self.rpc.request(HEAD_CALL[0], *HEAD_CALL[1])

    def clock(self) -> int:
        """The chain's clock (see `clock_of`)."""
        return clock_of(self._latest_block())

    def block_number(self) -> int:
        return int(self.rpc.request("eth_blockNumber"), 16)

    def note_head(self, head: dict[str, Any], asked_at: float) -> None:
        """A head just read by any part of the service, asked for at `asked_at` (monotonic; a
        combined batch may leave later, so its answer is at least that fresh). An answer asked for
        before the one noted does not replace it: two threads' answers may come back in either
        order. (Without a lock, two notes at once may still leave the older, and a node may
        answer two reads in another order than asked: see head_number's `not_below`.)"""
        noted = self._head_noted
        if noted is None or asked_at >= noted.asked_at:
            self._head_noted = HeadNoted(int(head["number"], 16), asked_at)

    def head_number(self, max_age: float, not_below: int | None = None) -> int:
        """The newest block's number, as a read asked for at most `max_age` seconds ago found it
        (a relay check's, the indexer's), or as one read now. Under load the relay checks read
        the head with every write (simulation.py), and the relayer's steps asked for it once
        more each: a quarter of a call a write. A noted head below `not_below` (a head the caller
        saw already) is not taken: the node is asked, and says whether the chain went back."""
        noted, now = self._head_noted, time.monotonic()
        if noted is not None and now - noted.asked_at <= max_age and (not_below is None or noted.number >= not_below):
            return noted.number
        number = self.block_number()
        self.note_head({"number": hex(number)}, now)
        return number

    def latest(self) -> LatestBlock:
        """The latest block's number, hash, parent's hash and timestamp. While the hash stays the
        same, so does the whole chain up to it (each block's hash covers its parent's): nothing
        new, and nothing undone."""
        asked_at = time.monotonic()
        block = self._latest_block()
        self.note_head(block, asked_at)
        return LatestBlock.of(block)

    def block_headers(self, numbers: list[int], latest: LatestBlock | None = None) -> dict[int, tuple[int, str] | None]:
        """(timestamp, hash) of each block, or None for a block the chain does not have; the
        latest block's from `latest` when given (read moments before), not read again."""
        known = (
            {latest.number: (latest.timestamp, latest.hash)} if latest is not None and latest.number in numbers else {}
        )
        others = [n for n in numbers if n not in known]
        blocks = self.rpc.batch([("eth_getBlockByNumber", [hex(n), False]) for n in others]) if others else []
        read = {n: (int(b["timestamp"], 16), b["hash"]) if b else None for n, b in zip(others, blocks)}
        return {**read, **known}

    def get_logs(self, addresses: list[str], from_block: int, to_block: int) -> list[dict[str, Any]]:
        return self.rpc.request(
            "eth_getLogs", {"address": addresses, "fromBlock": hex(from_block), "toBlock": hex(to_block)}
        )

    def call(self, to: str, data: bytes, sender: str | None = None) -> bytes:
        """eth_call; a revert becomes `ChainRefused` with the custom error's name."""
        tx: dict[str, Any] = {"to": to, "data": _hex(data)}
        if sender:
            tx["from"] = sender
        try:
            return bytes.fromhex(self.rpc.request("eth_call", tx, "latest")[2:])
        except RpcError as exc:
            raise self.refusal(exc) from exc

    def read(self, community: Community, key: str, function: str, *args: Any) -> tuple:
        fn = self.abi(key).function(function)
        return fn.decode_output(self.call(community.contracts[key], fn.encode(*args)))

    def estimate_gas(self, to: str, data: bytes, sender: str) -> int:
        try:
            return int(self.rpc.request("eth_estimateGas", {"from": sender, "to": to, "data": _hex(data)}), 16)
        except RpcError as exc:
            raise self.refusal(exc) from exc

    def simulate(self, calls: list[tuple[str, Any]], shape: Any = None) -> list[Any]:
        """Reads and simulations in one round trip, shared with those other threads ask for at the
        same time (combining.py); a call the chain refused yields its `ChainRefused` (custom error
        named) in place of a result, so the caller keeps the order in which refusals are reported.
        `shape`: the fields read of the answers (Rpc.batch). Code run on the event loop (on_loop.py)
        sends its own: the loop has each round trip under way at once, and waiting for another
        thread's round trip there would stop the loop."""
        try:
            if on_loop():
                answers = self.rpc.batch(calls, raise_errors=False, shape=shape)
            else:
                answers = self._combiner(shape).batch(calls)
        except RpcError as exc:
            raise BatchRefused(
                _(
                    "The chain node turned away the service's checks (%(why)s): nothing was recorded. Try again in "
                    "a minute; if it keeps happening, tell whoever runs this service that the node limits requests "
                    "sent together",
                    why=exc.message or exc.code,
                )
            ) from exc
        return [self.refusal(r) if isinstance(r, RpcError) else r for r in answers]

    def _combiner(self, shape: Any) -> CombinedBatches:
        combiner = self._combined.get(shape)
        if combiner is None:
            with self._combining:
                combiner = self._combined.setdefault(
                    shape,
                    CombinedBatches(
                        lambda calls: self.rpc.batch(calls, raise_errors=False, shape=shape),
                        most_calls=self.settings.rpc_batch_max,
                    ),
                )
        return combiner

    def refusal(self, exc: RpcError) -> ChainRefused:
        if exc.data is None:
            return ChainRefused("Reverted", {}, f"The chain refused the request: {exc.message}")
        name, args = self.errors.decode(exc.data)
        return ChainRefused(name, args)

    def receipt(self, tx_hash: str) -> Receipt | None:
        """The transaction's receipt once mined; None while it is not (or unknown)."""
        raw = self.rpc.request("eth_getTransactionReceipt", tx_hash)
        return Receipt.of(raw) if raw is not None else None
