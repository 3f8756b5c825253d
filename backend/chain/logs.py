"""The one decoder of a community's event logs, for everyone who reads them: the indexer (each
page of eth_getLogs), the relayer settling a mined transaction and a write's answer (a
receipt's logs, backend/chain/receipts.py).

Decoding is lenient, as the index needs it: strings become readable text (backend.chain.abi),
and a log whose data does not decode as its ABI says is kept, with the error, for the reader to
weigh (the indexer sets it aside; the relayer takes it for a fault). Logs of other contracts,
events no ABI declares and logs a node marks as removed are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backend.chain.abi import ContractAbi
from backend.chain.deployments import Community


@dataclass(frozen=True)
class DecodedLog:
    """One event of one of a community's contracts, with where it is on the chain."""

    contract: str  # the contract's key: forwarder, membership, governor, registry or badge
    name: str  # the event's
    args: dict[str, Any]  # by name; empty when its data does not decode (`error` says why)
    block_number: int
    log_index: int
    tx_hash: str
    raw: dict[str, Any]  # the log as the node sent it (topics and data, kept exactly)
    error: Exception | None = None  # why its data does not decode as its ABI says

    def decoded(self) -> dict[str, Any]:
        """The arguments, or the decoding error raised: for readers that cannot do without them."""
        if self.error is not None:
            raise self.error
        return self.args


def decode_logs(abis: dict[str, ContractAbi], community: Community, logs: list[dict[str, Any]]) -> list[DecodedLog]:
    """The events among `logs` that the community's contracts declare, in the logs' order."""
    by_address = {address.lower(): key for key, address in community.contracts.items()}
    by_address |= {address.lower(): "badge" for address in community.badge_versions()}
    decoded: list[DecodedLog] = []
    for entry in logs:
        if entry.get("removed"):
            continue
        key = by_address.get(entry["address"].lower())
        topics = [bytes.fromhex(t[2:]) for t in entry["topics"]]
        event = abis[key].events.get(topics[0]) if key and topics else None
        if key is None or event is None:
            continue
        args: dict[str, Any] = {}
        error: Exception | None = None
        try:
            args = event.decode(topics, bytes.fromhex(entry["data"][2:]))
        except Exception as exc:  # data that does not decode as the ABI says
            error = exc
        decoded.append(
            DecodedLog(
                key,
                event.name,
                args,
                int(entry["blockNumber"], 16),
                int(entry["logIndex"], 16),
                entry["transactionHash"],
                entry,
                error,
            )
        )
    return decoded
