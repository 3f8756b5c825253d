"""What a member signs to dismiss a draft or to turn capture off (or on again) for themselves:
off-chain EIP-712 typed data naming the community, the member and when it was signed, bound to one
chain and to the community's Membership contract. Nothing of it goes on chain.

The signature is checked as every member's off-chain request is (backend/members/offchain.py): a
key's is recovered, a contract account (a passkey's) is asked on chain (ERC-1271).
"""

from __future__ import annotations

from typing import Any

from backend.chain.deployments import Community
from backend.context import Context
from backend.i18n import N_
from backend.members import offchain
from backend.members.offchain import DOMAIN_FIELDS, SignedRequests

DISMISSAL_TYPES: dict[str, list[dict[str, str]]] = {
    "EIP712Domain": DOMAIN_FIELDS,
    "CaptureDraftDismissal": [
        {"name": "community", "type": "string"},
        {"name": "member", "type": "address"},
        {"name": "draft", "type": "uint64"},
        {"name": "issuedAt", "type": "uint64"},
    ],
}
PREFERENCE_TYPES: dict[str, list[dict[str, str]]] = {
    "EIP712Domain": DOMAIN_FIELDS,
    "CapturePreference": [
        {"name": "community", "type": "string"},
        {"name": "member", "type": "address"},
        {"name": "capture", "type": "bool"},
        {"name": "issuedAt", "type": "uint64"},
    ],
}
REQUESTS = SignedRequests(
    domain_name="Contribution Commons capture",
    kinds={
        "CaptureDraftDismissal": ("dismissal", DISMISSAL_TYPES),
        "CapturePreference": ("preference", PREFERENCE_TYPES),
    },
    what=N_("capture requests"),
    prepared_at=".../capture/dismissals/prepare or .../capture/preferences/prepare",
)


def domain(ctx: Context, community: Community) -> dict[str, Any]:
    return REQUESTS.domain(ctx, community)


def typed_data(ctx: Context, community: Community, primary: str, message: dict[str, Any]) -> dict[str, Any]:
    return REQUESTS.typed_data(ctx, community, primary, message)


def check_shape(ctx: Context, community: Community, typed: dict[str, Any]) -> str:
    """The signed request is one of ours, for this community on this chain: its kind."""
    return REQUESTS.check_shape(ctx, community, typed)


def check_signer(ctx: Context, typed: dict[str, Any], signature: str, member: str) -> bytes:
    """The member signed it (a key, or their contract account says so): its digest; refused in words otherwise."""
    digest = offchain.digest_of(typed)
    offchain.check_signer(
        ctx,
        digest,
        bytes.fromhex(signature[2:]),
        member,
        why="only a member dismisses their drafts or turns capture off for themselves, with their own signature",
    )
    return digest
