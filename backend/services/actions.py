"""The member actions relayed through the forwarder: each becomes one contract call."""

from __future__ import annotations

from typing import Any

from eth_utils import keccak

from backend.chain.addresses import checksum
from backend.chain.deployments import Community
from backend.claims import service as claim_reads
from backend.context import Context
from backend.relay.checks import check, prepare
from backend.relay.submit import TxOutcome, follow, relay, send_direct
from backend.services import proposals as proposal_rules
from backend.vocabulary import SUPPORTS

# Which contract functions each submit endpoint relays.
ALLOWED = {
    "claims": {("badge", "claim"), ("badge", "nominate"), ("badge", "claimWithOrganisation"),
               ("badge", "nominateWithOrganisation")},
    "attestations": {("badge", "attest"), ("badge", "attestWith")},
    "votes": {("governor", "castVote"), ("governor", "castVoteWithReason")},
    "delegations": {("membership", "delegate")},
    "proposals": {("governor", "propose")},
    "nomination-answers": {("badge", "acceptNomination"), ("badge", "declineNomination")},
    "disownings": {("badge", "disown")},
    "profile-visibility": {("badge", "setProfileHidden")},
}


def prepare_claim(ctx: Context, community: Community, *, signer: str, indicator_id: int, evidence_uri: str,
                  evidence_hash: str | None, contributor: str | None,
                  organisation_id: int | None = None) -> dict[str, Any]:
    # Without a hash of the evidence's content, the URI's own hash still pins what was claimed.
    hash_bytes = bytes.fromhex(evidence_hash[2:]) if evidence_hash else keccak(text=evidence_uri)
    badge = ctx.gateway.abi("badge")
    signer = checksum(signer)
    # Without an organisation, the plain functions: crediting one costs a storage slot more.
    credit = (organisation_id,) if organisation_id else ()
    if contributor and checksum(contributor) != signer:
        function = "nominateWithOrganisation" if credit else "nominate"
        data = badge.function(function).encode(checksum(contributor), indicator_id, *credit, hash_bytes,
                                                evidence_uri)
    else:
        function = "claimWithOrganisation" if credit else "claim"
        data = badge.function(function).encode(indicator_id, *credit, hash_bytes, evidence_uri)
    return prepare(ctx, community, signer=signer, target="badge", data=data)


def prepare_attestation(ctx: Context, community: Community, *, signer: str, claim_id: int,
                        endorser_badge_id: int | None = None) -> dict[str, Any]:
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


def prepare_nomination_answer(ctx: Context, community: Community, *, signer: str, claim_id: int,
                              answer: str) -> dict[str, Any]:
    function = {"accept": "acceptNomination", "decline": "declineNomination"}[answer]
    data = ctx.gateway.abi("badge").function(function).encode(claim_id)
    return prepare(ctx, community, signer=signer, target="badge", data=data)


def prepare_disowning(ctx: Context, community: Community, *, signer: str, token_id: int) -> dict[str, Any]:
    data = ctx.gateway.abi("badge").function("disown").encode(token_id)
    return prepare(ctx, community, signer=signer, target="badge", data=data)


def prepare_profile_visibility(ctx: Context, community: Community, *, signer: str, hidden: bool) -> dict[str, Any]:
    data = ctx.gateway.abi("badge").function("setProfileHidden").encode(hidden)
    return prepare(ctx, community, signer=signer, target="badge", data=data)


def prepare_vote(ctx: Context, community: Community, *, signer: str, proposal_id: int, support: str,
                 reason: str) -> dict[str, Any]:
    data = ctx.gateway.abi("governor").function("castVoteWithReason").encode(proposal_id, SUPPORTS.index(support), reason)
    return prepare(ctx, community, signer=signer, target="governor", data=data)


def prepare_delegation(ctx: Context, community: Community, *, signer: str, delegatee: str) -> dict[str, Any]:
    data = ctx.gateway.abi("membership").function("delegate").encode(checksum(delegatee))
    return prepare(ctx, community, signer=signer, target="membership", data=data)


def prepare_proposal(ctx: Context, community: Community, *, signer: str, description: str,
                     actions: list) -> tuple[dict[str, Any], str]:
    """The typed data to sign, and the id the proposal will have."""
    calls = proposal_rules.proposal_calls(ctx, community, actions)
    targets = [community.contracts[key] for key, _ in calls]
    values = [0] * len(calls)
    calldatas = [data for _, data in calls]
    data = ctx.gateway.abi("governor").function("propose").encode(targets, values, calldatas, description)
    typed = prepare(ctx, community, signer=signer, target="governor", data=data)
    return typed, str(proposal_rules.proposal_id(targets, values, calldatas, description))


def submit(ctx: Context, community: Community, *, kind: str, typed_data: dict[str, Any], signature: str,
           wait: bool, client: str) -> TxOutcome:
    request = check(ctx, community, typed_data, signature, ALLOWED[kind])
    if request.accepted_as is not None:
        return follow(ctx, community, request.accepted_as, wait=wait)
    return relay(ctx, community, request, wait=wait, client=client)


def execute_proposal(ctx: Context, community: Community, *, proposal, wait: bool, client: str) -> TxOutcome:
    data = ctx.gateway.abi("governor").function("execute").encode(
        proposal.targets,
        [int(v) for v in proposal.values],
        [bytes.fromhex(c[2:]) for c in proposal.calldatas],
        # The exact bytes proposed: a description whose text the index had to alter keeps them raw.
        keccak(bytes.fromhex(proposal.description_raw[2:]) if proposal.description_raw
               else proposal.description.encode()),
    )
    return send_direct(ctx, community, "governor", data, wait=wait, client=client)
