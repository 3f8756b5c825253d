"""Proposals and votes: what a member sends to prepare them, and how they read."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from backend.i18n import gettext as _
from backend.proposals.actions import ProposalActions
from backend.relay.schemas import TypedDataOut
from backend.schemas import SignerIn, raw_field
from backend.vocabulary import (
    MAX_DESCRIPTION,
    MAX_TEXT,
    UINT256,
    Support,
)


class ProposalTypedDataOut(TypedDataOut):
    proposal_id: str


class VotePrepareIn(SignerIn):
    proposal_id: str = Field(pattern=r"^[0-9]{1,78}$", description="A decimal uint256")
    support: Support
    reason: str = Field("", max_length=MAX_TEXT)

    @field_validator("proposal_id")
    @classmethod
    def _uint256(cls, value: str) -> str:
        if int(value) > UINT256:
            raise ValueError(_("proposal_id must be below 2**256"))
        return value


class ProposalPrepareIn(SignerIn):
    description: str = Field(min_length=1, max_length=MAX_DESCRIPTION)
    actions: ProposalActions


class VoteOut(BaseModel):
    voter: str
    support: Support
    weight: int
    reason: str
    reason_raw: str | None = raw_field("reason")
    timestamp: int
    tx_hash: str


class ProposalOut(BaseModel):
    id: str
    proposer: str
    description: str
    description_raw: str | None = raw_field("description")
    state: Literal["pending", "active", "canceled", "defeated", "succeeded", "queued", "executed"]
    vote_start: int
    vote_end: int = Field(description="Voting deadline (unix seconds, chain time)")
    created_at: int
    tx_hash: str
    tallies: dict[str, int]
    quorum: int
    quorum_reached: bool
    executed_at: int | None
    queued_at: int | None = Field(None, description="When the passed proposal was queued in the timelock")
    eta: int | None = Field(None, description="When a queued proposal may be executed (unix seconds, chain time)")
    canceled_at: int | None = None
    canceled_by: Literal["proposer", "guardian"] | None = Field(
        None, description="The proposer cancels only before voting opens; the guardian at any stage"
    )
    actions: list[dict[str, Any]]
    votes: list[VoteOut] | None = None
