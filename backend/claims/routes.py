from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response

from backend.api.submit import relay_signed
from backend.claims import service as claim_reads
from backend.claims import writes as claim_writes
from backend.claims.schemas import AttestationPrepareIn, ClaimOut, ClaimPrepareIn
from backend.dependencies import (
    AddressQuery,
    AttesterQuery,
    CommunityDep,
    ContextDep,
    CursorPagingDep,
    IdPath,
    IndexRead,
    IndicatorIdQuery,
    PagingDep,
    WaitQuery,
)
from backend.relay.schemas import SignedRequestIn, TxOut, TypedDataOut
from backend.schemas import CursorPage, Page

router = APIRouter(prefix="/claims", tags=["claims"])


@router.get("", response_model=CursorPage[ClaimOut], dependencies=[IndexRead])
def list_claims(
    ctx: ContextDep,
    community: CommunityDep,
    paging: CursorPagingDep,
    state: Literal["open", "minted", "declined"] | None = None,
    indicator_id: IndicatorIdQuery = None,
    contributor: AddressQuery = None,
    nomination_state: Literal["pending", "accepted", "declined"] | None = None,
):
    """Claims, filtered by state (open, minted, or declined by its nominee), indicator, contributor or
    nomination state (`nomination_state=pending&contributor=0x...`: the nominations waiting for that
    member's answer), oldest first. Page through them by `offset`, or by `after` (each page's
    `next_after`), which stays as fast however far down."""
    items, total, next_after = claim_reads.list_claims(
        ctx,
        community,
        state=state,
        indicator_id=indicator_id,
        contributor=contributor,
        limit=paging.limit,
        offset=paging.offset,
        nomination_state=nomination_state,
        after=paging.after,
    )
    return CursorPage(
        items=items, total=total, limit=paging.limit, offset=paging.offset, after=paging.after, next_after=next_after
    )


@router.get("/awaiting", response_model=Page[ClaimOut], dependencies=[IndexRead])
def awaiting(ctx: ContextDep, community: CommunityDep, attester: AttesterQuery, paging: PagingDep):
    """Open claims this member may attest now, oldest first: not their own, not yet attested by them, not
    declined by their nominee, and filed under the indicator's current, active version (empty for someone who
    is not a member). Nominations still waiting for their nominee's answer are here: attestations may gather
    before the nominee accepts."""
    items, total = claim_reads.awaiting_attestation(
        ctx, community, attester=attester, limit=paging.limit, offset=paging.offset
    )
    return Page(items=items, total=total, limit=paging.limit, offset=paging.offset)


@router.get("/{claim_id}", response_model=ClaimOut, dependencies=[IndexRead])
def get_claim(ctx: ContextDep, community: CommunityDep, claim_id: IdPath):
    """One claim with its attesters."""
    return claim_reads.get_claim(ctx, community, claim_id)


@router.post("/prepare", response_model=TypedDataOut)
def prepare(ctx: ContextDep, community: CommunityDep, body: ClaimPrepareIn):
    """Claim your own contribution, or nominate another member (contributor): the typed data to sign."""
    return TypedDataOut(
        typed_data=claim_writes.prepare_claim(
            ctx,
            community,
            signer=body.signer,
            indicator_id=body.indicator_id,
            evidence_uri=body.evidence_uri,
            evidence_hash=body.evidence_hash,
            contributor=body.contributor,
            organisation_id=body.organisation_id,
        )
    )


@router.post("", response_model=TxOut)
def submit(
    ctx: ContextDep,
    community: CommunityDep,
    body: SignedRequestIn,
    request: Request,
    response: Response,
    wait: WaitQuery = True,
) -> Response:
    """Relay a signed claim or nomination; returns the claim id."""
    return relay_signed(ctx, community, "claims", body, request, response, wait)


# ---------------------------------------------------------------------- attestations

attestations_router = APIRouter(prefix="/attestations", tags=["attestations"])


@attestations_router.post("/prepare", response_model=TypedDataOut)
def prepare_attestation(ctx: ContextDep, community: CommunityDep, body: AttestationPrepareIn):
    """Attest (endorse) another member's claim: the typed data to sign. For an indicator endorsed only by
    holders of another indicator's badge, the request shows the signer's counting badge of it (403
    `BadgeEndorserNotQualified` when they hold none)."""
    return TypedDataOut(
        typed_data=claim_writes.prepare_attestation(
            ctx, community, signer=body.signer, claim_id=body.claim_id, endorser_badge_id=body.endorser_badge_id
        )
    )


@attestations_router.post("", response_model=TxOut)
def submit_attestation(
    ctx: ContextDep,
    community: CommunityDep,
    body: SignedRequestIn,
    request: Request,
    response: Response,
    wait: WaitQuery = True,
) -> Response:
    """Attest (endorse) another member's claim: relay the signed request."""
    return relay_signed(ctx, community, "attestations", body, request, response, wait)
