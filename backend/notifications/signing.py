"""What a member signs to choose how they hear, or to read what they chose: off-chain EIP-712 typed
data naming the community, the member, the channels and when it was signed. Nothing of it goes on
chain; its domain is bound to one chain and to the community's Membership contract, so a signature
made for one community (or one chain) is no use in another.

The signature is checked as every member's off-chain request is (backend/members/offchain.py): a
key's is recovered, a contract account (a passkey's) is asked on chain (ERC-1271).
"""

from __future__ import annotations

from typing import Any

from backend.chain.addresses import checksum
from backend.chain.deployments import Community
from backend.context import Context
from backend.i18n import N_
from backend.members import offchain
from backend.members.offchain import DOMAIN_FIELDS, SignedRequests, digest_of

__all__ = ["digest_of"]

PREFERENCES_TYPES: dict[str, list[dict[str, str]]] = {
    "EIP712Domain": DOMAIN_FIELDS,
    "NotificationPreferences": [
        {"name": "community", "type": "string"},
        {"name": "member", "type": "address"},
        {"name": "email", "type": "string"},
        {"name": "emailMode", "type": "string"},
        {"name": "webhookUrl", "type": "string"},
        {"name": "webhookMode", "type": "string"},
        {"name": "newWebhookSecret", "type": "bool"},
        {"name": "language", "type": "string"},
        {"name": "issuedAt", "type": "uint64"},
    ],
}
# The same before a member could choose their language: still taken (the language is then the
# request's own, as its Accept-Language or the lang cookie says).
PREFERENCES_TYPES_WITHOUT_LANGUAGE: dict[str, list[dict[str, str]]] = {
    "EIP712Domain": DOMAIN_FIELDS,
    "NotificationPreferences": [f for f in PREFERENCES_TYPES["NotificationPreferences"] if f["name"] != "language"],
}
READING_TYPES: dict[str, list[dict[str, str]]] = {
    "EIP712Domain": DOMAIN_FIELDS,
    "NotificationPreferencesReading": [
        {"name": "community", "type": "string"},
        {"name": "member", "type": "address"},
        {"name": "issuedAt", "type": "uint64"},
    ],
}
PRIMARY = "NotificationPreferences"
# What each kind of signed request is, by its primary type.
REQUESTS = SignedRequests(
    domain_name="Contribution Commons notifications",
    kinds={
        "NotificationPreferences": ("set", PREFERENCES_TYPES),
        "NotificationPreferencesReading": ("read", READING_TYPES),
    },
    what=N_("notification preferences"),
    prepared_at=".../notifications/prepare",
    earlier={"NotificationPreferences": (PREFERENCES_TYPES_WITHOUT_LANGUAGE,)},
)


def domain(ctx: Context, community: Community) -> dict[str, Any]:
    return REQUESTS.domain(ctx, community)


def preferences_typed_data(ctx: Context, community: Community, message: dict[str, Any]) -> dict[str, Any]:
    return REQUESTS.typed_data(ctx, community, "NotificationPreferences", message)


def reading_typed_data(ctx: Context, community: Community, member: str, issued_at: int) -> dict[str, Any]:
    message = {"community": community.slug, "member": checksum(member), "issuedAt": issued_at}
    return REQUESTS.typed_data(ctx, community, "NotificationPreferencesReading", message)


def check_shape(ctx: Context, community: Community, typed_data: dict[str, Any]) -> str:
    """The signed request is one of ours, for this community on this chain: its kind (set, read)."""
    return REQUESTS.check_shape(ctx, community, typed_data)


def check_signer(ctx: Context, digest: bytes, signature: bytes, member: str) -> None:
    offchain.check_signer(
        ctx, digest, signature, member, why="only a member chooses how they hear, with their own signature"
    )
