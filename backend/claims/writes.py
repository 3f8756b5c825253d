"""The writes of claims a member signs: a claim or nomination, and an attestation (the typed data
to sign, simulated first so that a request bound to fail is refused before anyone signs it)."""

from __future__ import annotations

from typing import Any

from backend.chain.addresses import checksum
from backend.chain.deployments import Community
from backend.chain.hashing import keccak
from backend.claims import service as claim_reads
from backend.context import Context
from backend.relay.checks import prepare


def prepare_claim(
    ctx: Context,
    community: Community,
    *,
    signer: str,
    indicator_id: int,
    evidence_uri: str,
    evidence_hash: str | None,
    contributor: str | None,
    organisation_id: int | None = None,
) -> dict[str, Any]:
    # Without a hash of the evidence's content, the URI's own hash still pins what was claimed.
    hash_bytes = bytes.fromhex(evidence_hash[2:]) if evidence_hash else keccak(text=evidence_uri)
    badge = ctx.gateway.abi("badge")
    signer = checksum(signer)
    # Without an organisation, the plain functions: crediting one costs a storage slot more.
    credit = (organisation_id,) if organisation_id else ()
    if contributor and checksum(contributor) != signer:
        function = "nominateWithOrganisation" if credit else "nominate"
        data = badge.function(function).encode(checksum(contributor), indicator_id, *credit, hash_bytes, evidence_uri)
    else:
        function = "claimWithOrganisation" if credit else "claim"
        data = badge.function(function).encode(indicator_id, *credit, hash_bytes, evidence_uri)
    return prepare(ctx, community, signer=signer, target="badge", data=data)


def prepare_attestation(
    ctx: Context, community: Community, *, signer: str, claim_id: int, endorser_badge_id: int | None = None
) -> dict[str, Any]:
    """attest, or attestWith the signer's badge when the claim's indicator is endorsed only by
    holders of another indicator's badge (the one given, or one the index finds them holding).
    When they hold none, the plain attest is simulated: the contract answers with the first of
    its checks that fails (BadgeSelfAttestation, BadgeAlreadyMinted, BadgeIndicatorChanged, ...
    before BadgeEndorserNotQualified), as it would on chain."""
    signer = checksum(signer)
    badge = ctx.gateway.abi("badge")
    required = claim_reads.endorser_indicator(ctx, community, claim_id)
    if required and endorser_badge_id is None:
        endorser_badge_id = claim_reads.endorser_badge(ctx, community, signer, required)
    if endorser_badge_id:
        data = badge.function("attestWith").encode(claim_id, endorser_badge_id)
    else:
        data = badge.function("attest").encode(claim_id)
    return prepare(ctx, community, signer=signer, target="badge", data=data)
