"""EIP-712 typed data for the community forwarder's ForwardRequest.

The dict returned is exactly what `eth_signTypedData_v4`, ethers' `signTypedData` and
eth-account's `Account.sign_typed_data(full_message=...)` take. It binds a request to one
chain (chainId), one forwarder (verifyingContract) and one use (nonce), until a deadline.

Beside it: the digest and signer of a signed request, and the calldata of the forwarder's
`execute` and `executeBatch` that carry it (encoded by hand, the same bytes as eth-abi's).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from coincurve import PublicKey

from backend.chain.addresses import checksum
from backend.chain.hashing import keccak
from backend.i18n import gettext

FORWARDER_NAME = "CommunityForwarder"
FORWARDER_VERSION = "1"
# The most gas the forwarder lets a contract wallet's ERC-1271 check use (its WALLET_SIGNATURE_GAS).
WALLET_SIGNATURE_GAS = 500_000
# ERC-1271: isValidSignature(bytes32,bytes) answers its own selector when it accepts.
ERC1271_MAGIC_VALUE = bytes.fromhex("1626ba7e")

FORWARD_REQUEST_TYPES: dict[str, list[dict[str, str]]] = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
        {"name": "verifyingContract", "type": "address"},
    ],
    "ForwardRequest": [
        {"name": "from", "type": "address"},
        {"name": "to", "type": "address"},
        {"name": "value", "type": "uint256"},
        {"name": "gas", "type": "uint256"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint48"},
        {"name": "data", "type": "bytes"},
    ],
}


def forward_request_typed_data(
    *,
    chain_id: int,
    forwarder: str,
    sender: str,
    target: str,
    data: bytes | str,
    nonce: int,
    deadline: int,
    gas: int,
    value: int = 0,
) -> dict[str, Any]:
    """The typed data a member signs so that the forwarder calls `target` with `data` as them."""
    data_hex = data if isinstance(data, str) else "0x" + data.hex()
    return {
        "types": FORWARD_REQUEST_TYPES,
        "primaryType": "ForwardRequest",
        "domain": {
            "name": FORWARDER_NAME,
            "version": FORWARDER_VERSION,
            "chainId": chain_id,
            "verifyingContract": checksum(forwarder),
        },
        "message": {
            "from": checksum(sender),
            "to": checksum(target),
            "value": value,
            "gas": gas,
            "nonce": nonce,
            "deadline": deadline,
            "data": data_hex,
        },
    }


def _type_string(name: str) -> bytes:
    fields = ",".join(f"{field['type']} {field['name']}" for field in FORWARD_REQUEST_TYPES[name])
    return f"{name}({fields})".encode()


_DOMAIN_TYPEHASH = keccak(_type_string("EIP712Domain"))
_REQUEST_TYPEHASH = keccak(_type_string("ForwardRequest"))


@lru_cache(maxsize=64)
def _domain_separator(chain_id: int, forwarder: str) -> bytes:
    return keccak(
        _DOMAIN_TYPEHASH
        + keccak(text=FORWARDER_NAME)
        + keccak(text=FORWARDER_VERSION)
        + chain_id.to_bytes(32, "big")
        + bytes.fromhex(forwarder[2:]).rjust(32, b"\0")
    )


def typed_data_digest(typed_data: dict[str, Any]) -> bytes:
    """The EIP-712 digest of a ForwardRequest as forward_request_typed_data builds it: what a key
    signs, and what a contract wallet is asked about (ERC-1271). Hashed field by field, as the
    forwarder does, rather than through eth-account's general encoder, which parses the types
    again for every request (most of a signature check's time)."""
    domain, message = typed_data["domain"], typed_data["message"]
    data = message["data"]
    struct = keccak(
        _REQUEST_TYPEHASH
        + b"".join(bytes.fromhex(message[k][2:]).rjust(32, b"\0") for k in ("from", "to"))
        + b"".join(int(message[k]).to_bytes(32, "big") for k in ("value", "gas", "nonce", "deadline"))
        + keccak(bytes.fromhex(data[2:]) if isinstance(data, str) else bytes(data))
    )
    return keccak(b"\x19\x01" + _domain_separator(int(domain["chainId"]), domain["verifyingContract"].lower()) + struct)


def recover_signer(digest: bytes, signature: bytes) -> str:
    """The address whose key made a 65-byte signature (r, s, v of 27 or 28) of `digest`: by
    libsecp256k1 (coincurve) directly, at half what eth-keys' wrapping of the same call cost."""
    v = signature[64]
    recovery = v - 27 if v >= 27 else v
    if len(signature) != 65 or recovery not in (0, 1):
        raise ValueError(f"v must be 27 or 28 (or 0 or 1), not {v}")
    public = PublicKey.from_signature_and_message(signature[:64] + bytes([recovery]), digest, hasher=None)
    return checksum("0x" + keccak(public.format(compressed=False)[1:])[-20:].hex())


# The forwarder's two entry points the relayer calls, by their selectors.
_EXECUTE = keccak(text="execute((address,address,uint256,uint256,uint48,bytes,bytes))")[:4]
_EXECUTE_BATCH = keccak(text="executeBatch((address,address,uint256,uint256,uint48,bytes,bytes)[],address)")[:4]


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")  # OverflowError past 256 bits, as eth-abi refuses it


def _address(address: str) -> bytes:
    raw = bytes.fromhex(address[2:])
    if len(raw) != 20:
        raise ValueError(f"{address} is not an address of 20 bytes")
    return raw.rjust(32, b"\0")


def _padded(data: bytes) -> bytes:
    """ABI `bytes`: its length, then the bytes padded to a whole number of words."""
    return _word(len(data)) + data + b"\0" * (-len(data) % 32)


def _encoded_request(struct: tuple) -> bytes:
    """One ForwardRequestData as the ABI lays out a tuple with dynamic members."""
    sender, target, value, gas, deadline, data, signature = struct
    if deadline >= 2**48:
        raise OverflowError(f"deadline {deadline} does not fit in a uint48")
    data_at = 7 * 32
    signature_at = data_at + 32 + len(data) + (-len(data) % 32)
    return (
        _address(sender)
        + _address(target)
        + _word(value)
        + _word(gas)
        + _word(deadline)
        + _word(data_at)
        + _word(signature_at)
        + _padded(data)
        + _padded(signature)
    )


def execute_calldata(struct: tuple) -> bytes:
    """forwarder.execute(request)'s calldata, encoded by hand: eth-abi's general encoder, with its
    checks of every value, took 85 microseconds a request, on every check and every batch (the
    result is the same, byte for byte: tests/backend/test_typed_data.py)."""
    return _EXECUTE + _word(32) + _encoded_request(struct)


def execute_batch_calldata(structs: list[tuple], refund_receiver: str) -> bytes:
    """forwarder.executeBatch(requests, refundReceiver)'s calldata, encoded by hand (execute_calldata)."""
    encoded = [_encoded_request(struct) for struct in structs]
    offsets, at = [], 32 * len(encoded)
    for request in encoded:
        offsets.append(_word(at))
        at += len(request)
    return (
        _EXECUTE_BATCH
        + _word(64)
        + _address(refund_receiver)
        + _word(len(encoded))
        + b"".join(offsets)
        + b"".join(encoded)
    )


def forward_request_struct(typed_data: dict[str, Any], signature: bytes) -> tuple:
    """The `ForwardRequestData` tuple `execute` takes: the message without its nonce, plus the signature."""
    message = typed_data["message"]
    data = message["data"]
    return (
        checksum(message["from"]),
        checksum(message["to"]),
        int(message["value"]),
        int(message["gas"]),
        int(message["deadline"]),
        bytes.fromhex(data[2:]) if isinstance(data, str) else bytes(data),
        signature,
    )


# secp256k1's group order. OpenZeppelin's ECDSA takes only the lower half of s (EIP-2) and v of
# 27 or 28; eth-account recovers the same signer from either half and from v of 0 or 1.
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def signature_flaw(signature: bytes) -> tuple[str, str] | None:
    """Why the forwarder (OpenZeppelin's ECDSA) would refuse a 65-byte signature that recovers
    off-chain: (custom error, explanation), or None."""
    s = int.from_bytes(signature[32:64], "big")
    if s > SECP256K1_N // 2:
        return (
            "ECDSAInvalidSignatureS",
            gettext(
                "The signature's s is in the upper half of the curve order (a malleable signature): the "
                "forwarder takes only low-s signatures (EIP-2); sign again with a standard wallet"
            ),
        )
    if signature[64] not in (27, 28):
        return (
            "ECDSAInvalidSignature",
            gettext(
                "The signature's v is %(v)s; the forwarder takes only 27 or 28: add 27 to a v of 0 or 1",
                v=signature[64],
            ),
        )
    return None


INVITATION_ACCEPTANCE_TYPES: dict[str, list[dict[str, str]]] = {
    "EIP712Domain": FORWARD_REQUEST_TYPES["EIP712Domain"],
    "InvitationAcceptance": [
        {"name": "invitation", "type": "address"},
        {"name": "account", "type": "address"},
    ],
}


def invitation_acceptance_typed_data(
    *, chain_id: int, membership: str, membership_name: str, invitation: str, account: str
) -> dict[str, Any]:
    """What an invitation's secret signs to hand the invitation to `account` (Membership's
    acceptInvitation): bound to that account, so a copied acceptance cannot be redirected. The
    domain is Membership's (its name is the community's name, version 1)."""
    return {
        "types": INVITATION_ACCEPTANCE_TYPES,
        "primaryType": "InvitationAcceptance",
        "domain": {
            "name": membership_name,
            "version": "1",
            "chainId": chain_id,
            "verifyingContract": checksum(membership),
        },
        "message": {"invitation": checksum(invitation), "account": checksum(account)},
    }
