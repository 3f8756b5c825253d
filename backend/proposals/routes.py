from __future__ import annotations

from fastapi import APIRouter, Request, Response

from backend.api.submit import client_of, relay_signed, tx_response
from backend.dependencies import (
    CommunityDep,
    ContextDep,
    PagingDep,
    ProposalIdPath,
    WaitQuery,
)
from backend.errors import InvalidRequest
from backend.i18n import gettext as _
from backend.proposals import service as proposal_reads
from backend.proposals import writes as proposal_writes
from backend.proposals.schemas import ProposalOut, ProposalPrepareIn, ProposalTypedDataOut, VotePrepareIn
from backend.relay.schemas import SignedRequestIn, TxOut, TypedDataOut
from backend.schemas import Page, SignerIn

router = APIRouter(prefix="/proposals", tags=["proposals"])


def _id(value: str) -> int:
    if not value.isdigit() or len(value) > 78:
        raise InvalidRequest(_("'%(value)s' is not a proposal id (a decimal uint256)", value=value))
    return int(value)


@router.get("", response_model=Page[ProposalOut])
def list_proposals(ctx: ContextDep, community: CommunityDep, paging: PagingDep):
    """Proposals, newest first, with state and tallies."""
    items, total = proposal_reads.list_proposals(ctx, community, limit=paging.limit, offset=paging.offset)
    return Page(items=items, total=total, limit=paging.limit, offset=paging.offset)


@router.get("/{proposal_id}", response_model=ProposalOut)
def get_proposal(ctx: ContextDep, community: CommunityDep, proposal_id: ProposalIdPath):
    """One proposal: state, tallies, quorum, deadline and votes."""
    return proposal_reads.get_proposal(ctx, community, _id(proposal_id))


@router.post("/prepare", response_model=ProposalTypedDataOut)
def prepare_proposal(ctx: ContextDep, community: CommunityDep, body: ProposalPrepareIn):
    """Typed data for a member to sign to propose the given actions."""
    typed, proposal_id = proposal_writes.prepare_proposal(
        ctx, community, signer=body.signer, description=body.description, actions=body.actions
    )
    return ProposalTypedDataOut(typed_data=typed, proposal_id=proposal_id)


@router.post("", response_model=TxOut)
def submit_proposal(
    ctx: ContextDep,
    community: CommunityDep,
    body: SignedRequestIn,
    request: Request,
    response: Response,
    wait: WaitQuery = True,
) -> Response:
    """Relay a signed proposal; returns the transaction and the proposal id."""
    return relay_signed(ctx, community, "proposals", body, request, response, wait)


@router.post("/{proposal_id}/execute", response_model=TxOut)
def execute_proposal(
    ctx: ContextDep,
    community: CommunityDep,
    proposal_id: ProposalIdPath,
    request: Request,
    response: Response,
    wait: WaitQuery = True,
):
    """Carry out a proposal that passed; anyone may, no signature needed. It is queued in the
    timelock, and executed at once if the timelock has no delay; otherwise a second call executes
    it once the delay is over (the service also does it by itself)."""
    proposal = proposal_reads.proposal_row(ctx, community, _id(proposal_id))
    outcome = proposal_writes.execute_proposal(ctx, community, proposal=proposal, wait=wait, client=client_of(request))
    return tx_response(outcome, request, response)


@router.post("/{proposal_id}/cancel/prepare", response_model=TypedDataOut)
def prepare_cancel(ctx: ContextDep, community: CommunityDep, proposal_id: ProposalIdPath, body: SignerIn):
    """The typed data for the guardian to cancel a proposal before it runs (or its proposer,
    before voting opens); the governor refuses anyone else."""
    proposal = proposal_reads.proposal_row(ctx, community, _id(proposal_id))
    return TypedDataOut(
        typed_data=proposal_writes.prepare_cancel(ctx, community, signer=body.signer, proposal=proposal)
    )


@router.post("/{proposal_id}/cancel", response_model=TxOut)
def submit_cancel(
    ctx: ContextDep,
    community: CommunityDep,
    proposal_id: ProposalIdPath,
    body: SignedRequestIn,
    request: Request,
    response: Response,
    wait: WaitQuery = True,
) -> Response:
    """Relay a signed cancellation (the guardian's, or the proposer's before voting opens)."""
    proposal = proposal_reads.proposal_row(ctx, community, _id(proposal_id))
    if not proposal_writes.cancels(ctx, proposal, body.typed_data.message.data):
        raise InvalidRequest(
            _(
                "This signed request does not cancel proposal %(proposal)s: prepare it through "
                ".../proposals/%(proposal)s/cancel/prepare and sign what that returns",
                proposal=proposal_id,
            )
        )
    return relay_signed(ctx, community, "cancellations", body, request, response, wait)


# ---------------------------------------------------------------------- votes

votes_router = APIRouter(prefix="/votes", tags=["votes"])


@votes_router.post("/prepare", response_model=TypedDataOut)
def prepare_vote(ctx: ContextDep, community: CommunityDep, body: VotePrepareIn):
    """Cast a vote (for, against, abstain) with a reason: the typed data to sign."""
    return TypedDataOut(
        typed_data=proposal_writes.prepare_vote(
            ctx,
            community,
            signer=body.signer,
            proposal_id=int(body.proposal_id),
            support=body.support,
            reason=body.reason,
        )
    )


@votes_router.post("", response_model=TxOut)
def submit_vote(
    ctx: ContextDep,
    community: CommunityDep,
    body: SignedRequestIn,
    request: Request,
    response: Response,
    wait: WaitQuery = True,
) -> Response:
    """Cast a vote (for, against, abstain) with a reason: relay the signed request."""
    return relay_signed(ctx, community, "votes", body, request, response, wait)
