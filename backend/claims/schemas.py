"""Claims and attestations: what a member sends to prepare them, and a claim as read."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from backend.schemas import HEX32, SignerIn, raw_field
from backend.vocabulary import (
    MAX_URI,
    UINT256,
    Address,
)


class ClaimPrepareIn(SignerIn):
    indicator_id: int = Field(ge=1, lt=2**32)
    evidence_uri: str = Field(min_length=1, max_length=MAX_URI)
    evidence_hash: str | None = Field(
        None, pattern=HEX32, description="keccak256 of the evidence; defaults to keccak256 of evidence_uri"
    )
    contributor: Address | None = Field(
        None, description="Another member to nominate; omit to claim your own contribution"
    )
    organisation_id: int | None = Field(
        None,
        ge=1,
        lt=2**32,
        description="A registered, active organisation "
        "the work was done for (its sponsor, employer or customer) to credit",
    )


class AttestationPrepareIn(SignerIn):
    claim_id: int = Field(ge=1, le=UINT256)
    endorser_badge_id: int | None = Field(
        None,
        ge=1,
        le=UINT256,
        description="For an indicator endorsed only by "
        "holders of another indicator's badge: the signer's counting badge to "
        "show. Omitted, the service picks one the signer holds",
    )


class ClaimOut(BaseModel):
    id: int
    contributor: str
    submitter: str
    nomination: bool
    indicator_id: int
    indicator_version: int
    indicator_name: str | None = None
    evidence_hash: str
    evidence_uri: str
    evidence_uri_raw: str | None = raw_field("evidence_uri")
    evidence_uri_safe: bool = Field(
        description="The URI's scheme is one the service accepts (CC_URI_SCHEMES); "
        "a claim sent straight to the contract may hold anything: show it as a "
        "link only when true"
    )
    attestations: int
    endorsements_required: int | None
    attesters: list[str]
    nomination_state: Literal["pending", "accepted", "declined"] | None = Field(
        description="null for a claim of one's own; for a nomination, whether the nominee accepted it (only an "
        "accepted nomination is minted) or declined it (then closed, kept on record)"
    )
    answered_at: int | None = Field(description="When the nominee accepted or declined (unix seconds)")
    organisation_id: int | None = Field(description="The organisation the claim credits, if any")
    state: Literal["open", "minted", "declined"]
    token_id: int | None
    created_at: int
    tx_hash: str
