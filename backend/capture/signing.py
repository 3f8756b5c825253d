"""What a member signs to dismiss a draft or to turn capture off (or on again) for themselves:
off-chain EIP-712 typed data naming the community, the member and when it was signed, bound to one
chain and to the community's Membership contract. Nothing of it goes on chain.

The signature is checked as notifications' are (backend/notifications/signing.py, reused): a key's
is recovered, a contract account (a passkey's) is asked on chain (ERC-1271).
"""

from __future__ import annotations

import copy
from typing import Any

from backend.chain.addresses import checksum
from backend.chain.deployments import Community
from backend.context import Context
from backend.errors import InvalidRequest, InvalidSignature
from backend.notifications import signing as notice_signing

DOMAIN_NAME = "Contribution Commons capture"
DOMAIN_VERSION = "1"

_DOMAIN = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
DISMISSAL_TYPES: dict[str, list[dict[str, str]]] = {
    "EIP712Domain": _DOMAIN,
    "CaptureDraftDismissal": [
        {"name": "community", "type": "string"},
        {"name": "member", "type": "address"},
        {"name": "draft", "type": "uint64"},
        {"name": "issuedAt", "type": "uint64"},
    ],
}
PREFERENCE_TYPES: dict[str, list[dict[str, str]]] = {
    "EIP712Domain": _DOMAIN,
    "CapturePreference": [
        {"name": "community", "type": "string"},
        {"name": "member", "type": "address"},
        {"name": "capture", "type": "bool"},
        {"name": "issuedAt", "type": "uint64"},
    ],
}
KINDS = {"CaptureDraftDismissal": ("dismissal", DISMISSAL_TYPES), "CapturePreference": ("preference", PREFERENCE_TYPES)}


def domain(ctx: Context, community: Community) -> dict[str, Any]:
    return {
        "name": DOMAIN_NAME,
        "version": DOMAIN_VERSION,
        "chainId": ctx.gateway.chain_id,
        "verifyingContract": community.contracts["membership"],
    }


def typed_data(ctx: Context, community: Community, primary: str, message: dict[str, Any]) -> dict[str, Any]:
    return {
        "types": copy.deepcopy(KINDS[primary][1]),
        "primaryType": primary,
        "domain": domain(ctx, community),
        "message": message,
    }


def check_shape(ctx: Context, community: Community, typed: dict[str, Any]) -> str:
    """The signed request is one of ours, for this community on this chain: its kind."""
    primary = typed.get("primaryType")
    if primary not in KINDS or typed.get("types") != KINDS[primary][1]:
        raise InvalidRequest(
            "typed_data is not a capture request as .../capture/dismissals/prepare or .../capture/preferences/prepare "
            "answer it: sign exactly the typed data it answered"
        )
    given = dict(typed.get("domain") or {})
    if given.get("verifyingContract"):
        given["verifyingContract"] = checksum(given["verifyingContract"])
    expected = domain(ctx, community)
    if given != expected:
        raise InvalidRequest(
            f"The request was signed for another community or chain (domain {given}); this is '{community.slug}' on "
            f"chain {expected['chainId']}, whose Membership is {expected['verifyingContract']}"
        )
    if typed["message"].get("community") != community.slug:
        raise InvalidRequest(
            f"The request names community {typed['message'].get('community')!r}, not '{community.slug}'"
        )
    return KINDS[primary][0]


def check_signer(ctx: Context, typed: dict[str, Any], signature: str, member: str) -> bytes:
    """The member signed it (a key, or their contract account says so): its digest; refused in words otherwise."""
    digest = notice_signing.digest_of(typed)
    try:
        notice_signing.check_signer(ctx, digest, bytes.fromhex(signature[2:]), member)
    except InvalidSignature as exc:
        raise InvalidSignature(
            f"This request is not signed by {member}: only a member dismisses their drafts or turns capture off for "
            "themselves, with their own signature",
            error=exc.extra.get("error", "NotTheMembersSignature"),
        ) from None
    return digest
