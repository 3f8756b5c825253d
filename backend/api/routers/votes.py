from __future__ import annotations

from fastapi import APIRouter, Request, Response

from backend.api.deps import CommunityDep, ContextDep, WaitQuery
from backend.api.routers._tx import client_of, tx_response
from backend.api.schemas import SignedRequestIn, TxOut, TypedDataOut, VotePrepareIn
from backend.services import actions

router = APIRouter(prefix="/votes", tags=["votes"])


@router.post("/prepare", response_model=TypedDataOut)
def prepare(ctx: ContextDep, community: CommunityDep, body: VotePrepareIn):
    """Cast a vote (for, against, abstain) with a reason: the typed data to sign."""
    return TypedDataOut(typed_data=actions.prepare_vote(ctx, community, signer=body.signer, proposal_id=int(body.proposal_id), support=body.support, reason=body.reason))


@router.post("", response_model=TxOut)
def submit(ctx: ContextDep, community: CommunityDep, body: SignedRequestIn, request: Request, response: Response,
           wait: WaitQuery = True):
    """Cast a vote (for, against, abstain) with a reason: relay the signed request."""
    outcome = actions.submit(ctx, community, kind="votes", typed_data=body.typed_data.as_dict(),
                             signature=body.signature, wait=wait,
                             client=client_of(request))
    return tx_response(outcome, request, response)
