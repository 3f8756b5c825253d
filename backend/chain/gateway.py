"""The one gateway to the chain: reads, simulations that name the custom error a write would
revert with, and the relayer that sends members' signed requests with its own nonces."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import urllib3
from eth_account import Account
from eth_utils import to_checksum_address

from backend.chain.abi import ContractAbi, ErrorDecoder
from backend.chain.deployments import Community, Deployments
from backend.chain.rpc import Rpc, RpcError
from backend.errors import ChainRefused, Conflict, InvalidRequest, NodeUnavailable, TimedOut
from backend.settings import Settings

log = logging.getLogger(__name__)


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


# The latest block header, as a JSON-RPC call that can also go into a batch.
HEAD_CALL: tuple[str, list[Any]] = ("eth_getBlockByNumber", ["latest", False])


def clock_of(head: dict[str, Any]) -> int:
    """The chain's clock from its head block: the head's timestamp, or the wall clock if the
    chain is idle behind it (a local chain mines only when there is something to mine)."""
    return max(int(time.time()), int(head["timestamp"], 16))


class ChainGateway:
    def __init__(self, settings: Settings, deployments: Deployments) -> None:
        self.settings = settings
        self.deployments = deployments
        self.rpc = Rpc(settings.rpc_url, settings.rpc_timeout_seconds)
        self.errors = ErrorDecoder(deployments.abis.values())
        self.relayer = Relayer(self, settings.relayer_key.get_secret_value())
        self._checked_chain = False

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
                f"The node at {self.settings.rpc_url} serves chain {node_chain_id}, but the deployments "
                f"file is for chain {self.deployments.chain_id}"
            )
        self.settings.check_relayer_key(node_chain_id)
        self._checked_chain = True

    # ------------------------------------------------------------------ reads

    def head(self) -> tuple[int, int]:
        """The latest block number and its timestamp."""
        block = self.rpc.request(HEAD_CALL[0], *HEAD_CALL[1])
        return int(block["number"], 16), int(block["timestamp"], 16)

    def clock(self) -> int:
        """The chain's clock (see `clock_of`)."""
        return clock_of(self.rpc.request(HEAD_CALL[0], *HEAD_CALL[1]))

    def block_number(self) -> int:
        return int(self.rpc.request("eth_blockNumber"), 16)

    def block_headers(self, numbers: list[int]) -> dict[int, tuple[int, str] | None]:
        """(timestamp, hash) of each block, or None for a block the chain does not have."""
        blocks = self.rpc.batch([("eth_getBlockByNumber", [hex(n), False]) for n in numbers])
        return {n: (int(b["timestamp"], 16), b["hash"]) if b else None for n, b in zip(numbers, blocks)}

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

    def simulate(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        """Reads and simulations in one round trip; a call the chain refused yields its
        `ChainRefused` (custom error named) in place of a result, so the caller keeps the order
        in which refusals are reported."""
        return [self.refusal(r) if isinstance(r, RpcError) else r
                for r in self.rpc.batch(calls, raise_errors=False)]

    def refusal(self, exc: RpcError) -> ChainRefused:
        if exc.data is None:
            return ChainRefused("Reverted", {}, f"The chain refused the request: {exc.message}")
        name, args = self.errors.decode(exc.data)
        return ChainRefused(name, args)

    def receipt(self, tx_hash: str) -> dict[str, Any] | None:
        return self.rpc.request("eth_getTransactionReceipt", tx_hash)

    def wait_for_receipt(self, tx_hash: str, timeout: float | None = None) -> dict[str, Any]:
        deadline = time.monotonic() + (timeout or self.settings.receipt_timeout_seconds)
        delay = 0.02
        while True:
            receipt = self.receipt(tx_hash)
            if receipt is not None:
                return receipt
            if time.monotonic() > deadline:
                raise TimedOut(f"Transaction {tx_hash} was sent but not mined yet; poll its status")
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)


def _never_connected(exc: BaseException) -> bool:
    """Whether a transport error happened before any byte reached the node (connection refused)."""
    cause = exc.__cause__
    while cause is not None:
        if isinstance(cause, (ConnectionRefusedError, urllib3.exceptions.NewConnectionError)):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


class Relayer:
    """Signs and sends the service's own transactions (forwarder.execute, governor.execute).

    Nonces are assigned here under a lock, so concurrent requests never reuse one. The node's
    pending count is read before every send and wins over the count kept here: a node restarted
    from an older state (a crash, a reorganisation) has lost transactions this relayer sent, and
    a nonce past its count would wait behind the gap for ever (Anvil accepts it, never mines it).
    That costs one call per send (about 0.4 ms against a local node) under the lock.
    """

    def __init__(self, gateway: ChainGateway, key: str) -> None:
        self.gateway = gateway
        self.account = Account.from_key(key)
        self.address = self.account.address
        self._lock = threading.Lock()
        self._nonce: int | None = None
        self._fees: tuple[float, int, int] | None = None  # (fetched at, max fee, priority fee)

    def _fees_now(self) -> tuple[int, int]:
        now = time.monotonic()
        if self._fees is None or now - self._fees[0] > 10:
            gas_price = int(self.gateway.rpc.request("eth_gasPrice"), 16)
            priority = min(gas_price, 1_000_000_000)
            # Twice the current price survives several blocks of rising base fee.
            self._fees = (now, 2 * gas_price + priority, priority)
        return self._fees[1], self._fees[2]

    def send(self, to: str, data: bytes, gas: int) -> str:
        with self._lock:
            for attempt in range(2):
                node_nonce = int(self.gateway.rpc.request("eth_getTransactionCount", self.address, "pending"), 16)
                if self._nonce is not None and node_nonce != self._nonce:
                    log.warning("relayer %s: the node's next nonce is %s, not %s (transactions lost or sent "
                                "elsewhere): resynchronised", self.address, node_nonce, self._nonce)
                self._nonce = node_nonce
                max_fee, priority = self._fees_now()
                signed = self.account.sign_transaction(
                    {
                        "type": 2,
                        "chainId": self.gateway.chain_id,
                        "nonce": self._nonce,
                        "to": to_checksum_address(to),
                        "data": data,
                        "value": 0,
                        "gas": gas,
                        "maxFeePerGas": max_fee,
                        "maxPriorityFeePerGas": priority,
                    }
                )
                try:
                    tx_hash = self.gateway.rpc.request("eth_sendRawTransaction", _hex(signed.raw_transaction))
                except NodeUnavailable as exc:
                    self._nonce = None
                    if _never_connected(exc):
                        raise  # nothing reached the node: safe to try again
                    # The node may have taken the transaction before it went away: say which,
                    # so the caller reports it as sent and lets its status decide.
                    raise NodeUnavailable(
                        f"{exc.detail} (transaction {signed.hash.to_0x_hex()} may or may not have reached it)",
                        tx_hash=signed.hash.to_0x_hex(),
                    ) from exc
                except RpcError as exc:
                    self._nonce = None
                    message = exc.message.lower()
                    if attempt == 0 and ("nonce" in message or "already known" in message):
                        continue
                    if exc.data:
                        raise self.gateway.refusal(exc) from exc
                    if "insufficient funds" in message:
                        raise Conflict(f"The relayer {self.address} cannot pay for gas: {exc.message}") from exc
                    raise InvalidRequest(f"The node refused the transaction: {exc.message}") from exc
                self._nonce += 1
                return tx_hash
        raise AssertionError("unreachable")
