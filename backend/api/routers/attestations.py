from __future__ import annotations

from fastapi import APIRouter, Request, Response

from backend.api.deps import CommunityDep, ContextDep, WaitQuery
from backend.api.routers._tx import client_of, tx_response
from backend.api.schemas import (
    AttestationPrepareIn,
    SignedRequestIn,
    TxOut,
    TypedDataOut,
)
from backend.services import actions

router = APIRouter(prefix="/attestations", tags=["attestations"])


@router.post("/prepare", response_model=TypedDataOut)
def prepare(ctx: ContextDep, community: CommunityDep, body: AttestationPrepareIn):
    """Attest (endorse) another member's claim: the typed data to sign. For an indicator endorsed only by
    holders of another indicator's badge, the request shows the signer's counting badge of it (403
    `BadgeEndorserNotQualified` when they hold none)."""
    return TypedDataOut(typed_data=actions.prepare_attestation(ctx, community, signer=body.signer, claim_id=body.claim_id,
                                                               endorser_badge_id=body.endorser_badge_id))


@router.post("", response_model=TxOut)
def submit(ctx: ContextDep, community: CommunityDep, body: SignedRequestIn, request: Request, response: Response,
           wait: WaitQuery = True):
    """Attest (endorse) another member's claim: relay the signed request."""
    outcome = actions.submit(ctx, community, kind="attestations", typed_data=body.typed_data.as_dict(),
                             signature=body.signature, wait=wait,
                             client=client_of(request))
    return tx_response(outcome, request, response)
