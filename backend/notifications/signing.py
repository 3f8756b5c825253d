"""What a member signs to choose how they hear, or to read what they chose: off-chain EIP-712 typed
data naming the community, the member, the channels and when it was signed. Nothing of it goes on
chain; its domain is bound to one chain and to the community's Membership contract, so a signature
made for one community (or one chain) is no use in another.

A key's signature is recovered (eth-account's EIP-712 hashing, eth_keys' recovery); any other
signer must be a contract account that accepts the signature when asked on chain, as ERC-1271
has it (a passkey account, a Safe): `isValidSignature(digest, signature)` through the chain
gateway, with no more gas than the forwarder would give it.
"""

from __future__ import annotations

import copy
from typing import Any

from eth_abi import encode
from eth_account.messages import _hash_eip191_message, encode_typed_data

from backend.chain.addresses import checksum
from backend.chain.deployments import Community
from backend.chain.rpc import RpcError
from backend.chain.typed_data import ERC1271_MAGIC_VALUE, recover_signer
from backend.context import Context
from backend.errors import InvalidRequest, InvalidSignature, NodeUnavailable
from backend.relay.gas import wallet_check_gas

DOMAIN_NAME = "Contribution Commons notifications"
DOMAIN_VERSION = "1"

_DOMAIN = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
PREFERENCES_TYPES: dict[str, list[dict[str, str]]] = {
    "EIP712Domain": _DOMAIN,
    "NotificationPreferences": [
        {"name": "community", "type": "string"},
        {"name": "member", "type": "address"},
        {"name": "email", "type": "string"},
        {"name": "emailMode", "type": "string"},
        {"name": "webhookUrl", "type": "string"},
        {"name": "webhookMode", "type": "string"},
        {"name": "newWebhookSecret", "type": "bool"},
        {"name": "issuedAt", "type": "uint64"},
    ],
}
READING_TYPES: dict[str, list[dict[str, str]]] = {
    "EIP712Domain": _DOMAIN,
    "NotificationPreferencesReading": [
        {"name": "community", "type": "string"},
        {"name": "member", "type": "address"},
        {"name": "issuedAt", "type": "uint64"},
    ],
}
# What each kind of signed request is, by its primary type.
KINDS = {
    "NotificationPreferences": ("set", PREFERENCES_TYPES),
    "NotificationPreferencesReading": ("read", READING_TYPES),
}


def domain(ctx: Context, community: Community) -> dict[str, Any]:
    return {
        "name": DOMAIN_NAME,
        "version": DOMAIN_VERSION,
        "chainId": ctx.gateway.chain_id,
        "verifyingContract": community.contracts["membership"],
    }


def preferences_typed_data(ctx: Context, community: Community, message: dict[str, Any]) -> dict[str, Any]:
    return {
        "types": copy.deepcopy(PREFERENCES_TYPES),
        "primaryType": "NotificationPreferences",
        "domain": domain(ctx, community),
        "message": message,
    }


def reading_typed_data(ctx: Context, community: Community, member: str, issued_at: int) -> dict[str, Any]:
    return {
        "types": copy.deepcopy(READING_TYPES),
        "primaryType": "NotificationPreferencesReading",
        "domain": domain(ctx, community),
        "message": {"community": community.slug, "member": checksum(member), "issuedAt": issued_at},
    }


def digest_of(typed_data: dict[str, Any]) -> bytes:
    """The EIP-712 digest: what a key signs and what a contract account is asked about."""
    return _hash_eip191_message(encode_typed_data(full_message=typed_data))


def check_shape(ctx: Context, community: Community, typed_data: dict[str, Any]) -> str:
    """The signed request is one of ours, for this community on this chain: its kind (set, read)."""
    primary = typed_data.get("primaryType")
    if primary not in KINDS or typed_data.get("types") != KINDS[primary][1]:
        raise InvalidRequest(
            "typed_data is not notification preferences as .../notifications/prepare returns them: sign exactly "
            "the typed data it answered"
        )
    expected = domain(ctx, community)
    given = dict(typed_data.get("domain") or {})
    if given.get("verifyingContract"):
        given["verifyingContract"] = checksum(given["verifyingContract"])
    if given != expected:
        raise InvalidRequest(
            f"The preferences were signed for another community or chain (domain {given}); this is "
            f"'{community.slug}' on chain {expected['chainId']}, whose Membership is {expected['verifyingContract']}"
        )
    if typed_data["message"].get("community") != community.slug:
        raise InvalidRequest(
            f"The preferences name community {typed_data['message'].get('community')!r}, not '{community.slug}'"
        )
    return KINDS[primary][0]


def check_signer(ctx: Context, digest: bytes, signature: bytes, member: str) -> None:
    """The member signed `digest`: with their key, or, if the member is a contract account, as it
    says when asked (ERC-1271). Otherwise refused in words."""
    recovered = None
    if len(signature) == 65:
        try:
            recovered = recover_signer(digest, signature)
        except Exception:
            recovered = None
        if recovered == member:
            return
    call = ERC1271_MAGIC_VALUE + encode(["bytes32", "bytes"], [digest, signature])
    code, answer = ctx.gateway.rpc.batch(
        [
            ("eth_getCode", [member, "latest"]),
            ("eth_call", [{"to": member, "data": "0x" + call.hex(), "gas": hex(wallet_check_gas(call))}, "latest"]),
        ],
        raise_errors=False,
    )
    if isinstance(code, RpcError):
        raise NodeUnavailable(f"The chain node could not say whether {member} is a contract account: {code.message}")
    if code in ("0x", "0x0", ""):
        who = f"by {recovered}" if recovered else "by no key that can be recovered"
        raise InvalidSignature(
            f"These preferences are signed {who}, not by {member}: only a member chooses how they hear, "
            "with their own signature",
            error="NotTheMembersSignature",
        )
    if isinstance(answer, str) and bytes.fromhex(answer[2:])[:32] == ERC1271_MAGIC_VALUE.ljust(32, b"\0"):
        return
    raise InvalidSignature(
        f"{member} is a contract account, and it refused this signature (its isValidSignature did not answer "
        "ERC-1271's magic value): sign exactly the typed data .../prepare answered, as the account signs",
        error="WalletRefusedSignature",
    )
