"""The relayer key and what it signs: one place builds a transaction's calldata from the outbox's
requests, signs it with the key and hands it to the node. Packing (packing.py) signs new
transactions; replacing a stuck one (fees.py) signs the same calldata again with higher fees."""

from __future__ import annotations

from typing import Any

from coincurve import PrivateKey
from eth_account import Account

from backend.chain.gateway import ChainGateway
from backend.chain.rpc import RpcError
from backend.chain.transactions import sign_dynamic_fee
from backend.chain.typed_data import execute_batch_calldata
from backend.relay.outbox import Attempt, struct_of


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


class RelayerKey:
    def __init__(self, *, key: str, gateway: ChainGateway) -> None:
        self.gateway = gateway
        account = Account.from_key(key)
        self._key = PrivateKey(account.key)
        self.address: str = account.address

    def calldata(self, kind: str, payloads: list[dict[str, Any]]) -> bytes:
        """A transaction's calldata from its requests' payloads, in the order given: a direct
        call's own data, or the forwarder's executeBatch of the signed requests with the relayer
        as refund receiver."""
        if kind == "direct":
            return bytes.fromhex(payloads[0]["data"][2:])
        return execute_batch_calldata([struct_of(payload) for payload in payloads], self.address)

    def sign(self, *, nonce: int, to: str, data: bytes, gas: int, max_fee: int, priority: int) -> Attempt:
        signed = sign_dynamic_fee(
            self._key,
            chain_id=self.gateway.chain_id,
            nonce=nonce,
            to=bytes.fromhex(to.removeprefix("0x")),
            data=data,
            gas=gas,
            max_fee=max_fee,
            priority=priority,
        )
        return {"hash": _hex(signed.hash), "raw": _hex(signed.raw), "max_fee": max_fee, "priority": priority}

    def broadcast(self, raw: str) -> str | None:
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
