from __future__ import annotations

from fastapi import APIRouter, Request, Response

from backend.api.deps import CommunityDep, ContextDep, WaitQuery
from backend.api.routers._tx import client_of, tx_response
from backend.api.schemas import (
    DelegationPrepareIn,
    SignedRequestIn,
    TxOut,
    TypedDataOut,
)
from backend.services import actions

router = APIRouter(prefix="/delegations", tags=["delegations"])


@router.post("/prepare", response_model=TypedDataOut)
def prepare(ctx: ContextDep, community: CommunityDep, body: DelegationPrepareIn):
    """Delegate your vote to another member: the typed data to sign."""
    return TypedDataOut(typed_data=actions.prepare_delegation(ctx, community, signer=body.signer, delegatee=body.delegatee))


@router.post("", response_model=TxOut)
def submit(ctx: ContextDep, community: CommunityDep, body: SignedRequestIn, request: Request, response: Response,
           wait: WaitQuery = True):
    """Delegate your vote to another member: relay the signed request."""
    outcome = actions.submit(ctx, community, kind="delegations", typed_data=body.typed_data.as_dict(),
                             signature=body.signature, wait=wait,
                             client=client_of(request))
    return tx_response(outcome, request, response)
