"""Admission without a vote per person: vouches, invitations and the rules governance set."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response

from backend.admissions import service as admission_reads
from backend.admissions import writes as admission_writes
from backend.admissions.schemas import (
    AcceptancePrepareIn,
    AdmissionOut,
    InvitationOut,
    InvitationPreparedOut,
    InvitationPrepareIn,
    VouchPrepareIn,
)
from backend.api.submit import relay_signed
from backend.dependencies import AddressPath, CommunityDep, ContextDep, IndexRead, WaitQuery
from backend.relay.schemas import SignedRequestIn, TxOut, TypedDataOut
from backend.schemas import SignerIn
from backend.vocabulary import Address

router = APIRouter(tags=["admission"])


@router.get("/admission", response_model=AdmissionOut, dependencies=[IndexRead])
def get_admission(ctx: ContextDep, community: CommunityDep):
    """How people join besides a proposal: how many members' vouches admit a person (0: vouching is
    off), how many vouches and invitations each member may give per period, how long an invitation
    stays open; and the people gathering vouches now."""
    return admission_reads.admission(ctx, community)


@router.post("/vouches/prepare", response_model=TypedDataOut)
def prepare_vouch(ctx: ContextDep, community: CommunityDep, body: VouchPrepareIn):
    """Vouch for a person's admission: the typed data to sign. At the community's number of vouches they
    are admitted. Refused when vouching is off, when you vouched for them already, when you used this
    period's vouches, or when governance removed them (only a proposal admits them again)."""
    typed_data = admission_writes.prepare_vouch(ctx, community, signer=body.signer, candidate=body.candidate)
    return TypedDataOut(typed_data=typed_data)


@router.post("/vouches", response_model=TxOut)
def submit_vouch(
    ctx: ContextDep,
    community: CommunityDep,
    body: SignedRequestIn,
    request: Request,
    response: Response,
    wait: WaitQuery = True,
) -> Response:
    """Vouch for a person: relay the signed request."""
    return relay_signed(ctx, community, "vouches", body, request, response, wait)


@router.get("/invitations", response_model=list[InvitationOut], dependencies=[IndexRead])
def list_invitations(
    ctx: ContextDep,
    community: CommunityDep,
    inviter: Address | None = None,
    limit: int = Query(50, ge=1, le=200),
):
    """Invitations, newest first (one member's with `inviter`): the invitee's name as the inviter typed
    it, whether it is open, accepted, withdrawn or expired, and the credit waiting for the invitee."""
    return admission_reads.list_invitations(ctx, community, inviter=inviter, limit=limit)


@router.get("/invitations/{address}", response_model=InvitationOut, dependencies=[IndexRead])
def get_invitation(ctx: ContextDep, community: CommunityDep, address: AddressPath):
    """One invitation, by its address (the one in its link)."""
    return admission_reads.get_invitation(ctx, community, address)


@router.post("/invitations/prepare", response_model=InvitationPreparedOut)
def prepare_invitation(ctx: ContextDep, community: CommunityDep, body: InvitationPrepareIn):
    """Invite a person who is not a member yet, by the name you know them by: the typed data to sign,
    the invitation's address (nominate it to credit them before they join) and its secret, for the link
    you pass on. An invitation counts as your vouch once accepted, and uses one of this period's vouches."""
    typed_data, invitation, secret = admission_writes.prepare_invitation(
        ctx, community, signer=body.signer, name=body.name
    )
    return InvitationPreparedOut(typed_data=typed_data, invitation=invitation, secret=secret)


@router.post("/invitations/{address}/withdrawal/prepare", response_model=TypedDataOut)
def prepare_withdrawal(ctx: ContextDep, community: CommunityDep, address: AddressPath, body: SignerIn):
    """Withdraw an invitation you made that was not accepted: the typed data to sign. Its link stops working."""
    typed_data = admission_writes.prepare_withdrawal(ctx, community, signer=body.signer, invitation=address)
    return TypedDataOut(typed_data=typed_data)


@router.post("/invitations/acceptance/prepare", response_model=TypedDataOut)
def prepare_acceptance(ctx: ContextDep, community: CommunityDep, body: AcceptancePrepareIn):
    """Accept an invitation as your account (a passkey account or a wallet), with the secret from its link:
    the typed data for your account to sign. The secret signs that this account takes the invitation; it is
    used for this call only and never goes on chain. Refused when the invitation was accepted, withdrawn or
    has expired."""
    typed_data = admission_writes.prepare_acceptance(ctx, community, signer=body.signer, secret=body.secret)
    return TypedDataOut(typed_data=typed_data)


@router.post("/invitations", response_model=TxOut)
def submit_invitation(
    ctx: ContextDep,
    community: CommunityDep,
    body: SignedRequestIn,
    request: Request,
    response: Response,
    wait: WaitQuery = True,
) -> Response:
    """Invite, withdraw an invitation, or accept one: relay the signed request (any of the three prepares')."""
    return relay_signed(ctx, community, "invitations", body, request, response, wait)
