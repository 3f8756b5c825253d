"""One decoder of a community's event logs (backend/chain/logs.py), shared by the indexer and the
relayer: a log that does not decode is kept with its error for the indexer to set aside, and is a
fault for the relayer, which never settles a request without its events. A batch's requests are
told apart by the forwarder's ExecutedForwardRequest, each after the logs of its own call."""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_abi.exceptions import DecodingError
from eth_utils import keccak

from backend.chain.abi import ContractAbi
from backend.chain.deployments import Community
from backend.chain.logs import decode_logs
from backend.chain.receipts import Receipt, created_by, executed_requests

FORWARDER, BADGE, STRANGER = "0x" + "f0" * 20, "0x" + "ba" * 20, "0x" + "55" * 20
SIGNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
ABIS = {
    "forwarder": ContractAbi(
        [
            {
                "type": "event",
                "name": "ExecutedForwardRequest",
                "anonymous": False,
                "inputs": [
                    {"name": "signer", "type": "address", "indexed": True},
                    {"name": "nonce", "type": "uint256", "indexed": False},
                    {"name": "success", "type": "bool", "indexed": False},
                ],
            }
        ]
    ),
    "badge": ContractAbi(
        [
            {
                "type": "event",
                "name": "ClaimSubmitted",
                "anonymous": False,
                "inputs": [
                    {"name": "claimId", "type": "uint256", "indexed": True},
                    {"name": "uri", "type": "string", "indexed": False},
                ],
            }
        ]
    ),
}
COMMUNITY = Community("c", "C", 1, {"forwarder": FORWARDER, "badge": BADGE})
EXECUTED = keccak(text="ExecutedForwardRequest(address,uint256,bool)")
CLAIMED = keccak(text="ClaimSubmitted(uint256,string)")


def _log(address: str, topics: list[bytes], data: bytes, index: int, **extra) -> dict:
    return {
        "address": address,
        "topics": ["0x" + t.hex() for t in topics],
        "data": "0x" + data.hex(),
        "blockNumber": "0x7",
        "logIndex": hex(index),
        "transactionHash": "0x" + "ab" * 32,
        **extra,
    }


def _claimed(claim_id: int, index: int, data: bytes | None = None) -> dict:
    return _log(
        BADGE,
        [CLAIMED, claim_id.to_bytes(32, "big")],
        encode(["string"], ["https://x"]) if data is None else data,
        index,
    )


def _executed(nonce: int, success: bool, index: int) -> dict:
    return _log(
        FORWARDER,
        [EXECUTED, bytes(12) + bytes.fromhex(SIGNER[2:])],
        encode(["uint256", "bool"], [nonce, success]),
        index,
    )


def test_a_batchs_requests_each_come_with_what_their_own_call_created():
    logs = [
        _claimed(11, 0),
        _executed(3, True, 1),
        _executed(4, False, 2),
        _claimed(12, 3),
        _log(STRANGER, [CLAIMED], b"", 4),
        _executed(5, True, 5),
    ]
    done = executed_requests(decode_logs(ABIS, COMMUNITY, logs))
    assert [(d.nonce, d.success, d.created) for d in done] == [
        (3, True, {"claim_id": 11}),
        (4, False, {}),
        (5, True, {"claim_id": 12}),
    ]
    assert done[0].signer.lower() == SIGNER.lower()


def test_a_log_that_does_not_decode_is_kept_with_its_error_and_is_a_fault_when_settling():
    broken = _claimed(13, 1, data=b"\x01")
    decoded = decode_logs(
        ABIS,
        COMMUNITY,
        [_claimed(12, 0), broken, _log(BADGE, [keccak(b"unknown")], b"", 2), _claimed(14, 3) | {"removed": True}],
    )
    assert [(d.name, d.log_index, d.error is None) for d in decoded] == [
        ("ClaimSubmitted", 0, True),
        ("ClaimSubmitted", 1, False),
    ]
    assert decoded[1].args == {} and decoded[1].raw is broken and decoded[1].block_number == 7
    with pytest.raises(DecodingError):
        created_by(decoded)


def test_a_receipt_is_read_once_into_its_fields():
    receipt = Receipt.of(
        {"transactionHash": "0x" + "AB" * 32, "blockNumber": "0x10", "status": "0x1", "gasUsed": "0x5208", "logs": []}
    )
    assert receipt == Receipt("0x" + "ab" * 32, 16, True, 21_000, 0, [])
