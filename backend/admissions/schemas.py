"""Invitations, vouches and the community's admission rules."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from backend.relay.schemas import TypedDataOut
from backend.schemas import HEX32, SignerIn
from backend.vocabulary import Address, PersonName

InvitationState = Literal["open", "accepted", "withdrawn", "expired"]


class InvitationPrepareIn(SignerIn):
    name: PersonName = Field(description="The invitee's name as others will see it until they join (1-32 characters)")


class InvitationPreparedOut(TypedDataOut):
    invitation: str = Field(description="The invitation's address: nominate it to credit the invitee before they join")
    secret: str = Field(
        description="The invitation's secret (a private key), made for this invitation and kept nowhere by the "
        "service: pass it on inside the invitation link, by any channel. It never goes on chain; whoever holds it "
        "can accept the invitation"
    )


class AcceptancePrepareIn(SignerIn):
    signer: Address = Field(description="The account joining: a passkey account or a wallet")
    secret: str = Field(pattern=HEX32, description="The secret from the invitation link")


class VouchPrepareIn(SignerIn):
    candidate: Address = Field(description="The person to admit: their passkey account or wallet address")


class AdmissionRulesOut(BaseModel):
    vouches_required: int = Field(description="Members' vouches that admit a person; 0: only by proposal")
    vouch_cap: int = Field(description="Vouches and invitations each member may give per period")
    vouch_period_days: float
    invitation_lifetime_days: float


class InvitationOut(BaseModel):
    address: str
    name: str = Field(description="The invitee's name, as the inviter typed it")
    inviter: str
    inviter_name: str | None
    state: InvitationState
    created_at: int
    expires_at: int
    account: str | None = Field(description="The account that accepted it")
    credits: list[int] = Field(description="The claims nominating the invitee, by id")


class CandidateOut(BaseModel):
    address: str
    name: str | None = Field(description="Their name from an invitation they accepted, if any")
    vouches: int
    vouchers: list[str]


class AdmissionOut(BaseModel):
    rules: AdmissionRulesOut
    candidates: list[CandidateOut] = Field(description="People with vouches, not yet admitted")
