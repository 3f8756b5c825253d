"""Reports and exports, as read: a period's figures by dimension and its records, one model a
row (an export's JSON rows and CSV columns are these models' fields)."""

from __future__ import annotations

from datetime import date
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

Row = TypeVar("Row")


class GroupOut(BaseModel):
    key: str = Field(description="Member address, indicator id, category or orientation")
    label: str = Field(description="In words: the indicator's name, `community-oriented`, ...")
    badges: int
    weight: int
    revoked: int = Field(description="Of those badges, how many were revoked within the period")


class ByOut(BaseModel):
    member: list[GroupOut]
    indicator: list[GroupOut]
    category: list[GroupOut]
    orientation: list[GroupOut]


class TotalsOut(BaseModel):
    badges: int
    weight: int
    revoked: int
    members: int = Field(description="Members who earned a badge in the period")
    attestations: int
    proposals: int


class ReportOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)  # built by name (from_), answered by alias ("from")

    community: str
    from_: date = Field(alias="from")
    to: date
    complete: bool = Field(
        description="The index had reached the period's end: the figures will not change "
        "(but for members who hide their profile later: see `by.member`)"
    )
    totals: TotalsOut
    by: ByOut


class BadgeRow(BaseModel):
    token_id: int
    contributor: str
    owner: str = Field(description="Its holder at the period's end (a recovery may have moved it since)")
    submitter: str | None
    nomination: bool
    indicator_id: int
    indicator_version: int
    indicator_name: str | None
    category: str
    orientation: str
    weight: int
    validity_seconds: int
    minted_at: int
    evidence_uri: str | None
    evidence_hash: str | None
    attesters: list[str]
    revoked_at: int | None
    revoke_reason: str | None
    disowned_at: int | None = Field(description="When its holder disowned it, if before the period's end")
    organisation_id: int | None = Field(description="The organisation its claim credits, if any")
    tx_hash: str


class AttestationRow(BaseModel):
    claim_id: int
    attester: str
    count: int
    contributor: str
    indicator_id: int
    indicator_version: int
    indicator_name: str | None
    timestamp: int
    tx_hash: str


class IndicatorVersionRow(BaseModel):
    indicator_id: int
    version: int
    name: str
    description_uri: str
    category: str
    orientation: str
    weight: int
    endorsements_required: int
    validity_seconds: int
    defined_at: int
    replaced_at: int | None = Field(description="When the next version replaced it, if by the period's end")
    tx_hash: str


class VoteRow(BaseModel):
    voter: str
    support: str
    weight: int
    reason: str
    timestamp: int
    tx_hash: str


class ProposalVoteRow(VoteRow):
    proposal_id: str


class ProposalRow(BaseModel):
    proposal_id: str
    proposer: str
    description: str
    created_at: int
    vote_start: int
    vote_end: int
    for_votes: int
    against_votes: int
    abstain_votes: int
    executed_at: int | None = Field(description="If by the period's end")
    canceled_at: int | None = Field(description="If by the period's end")
    tx_hash: str
    votes: list[VoteRow] = Field(description="Those cast by the period's end (the tallies count these)")


class ExportOut(BaseModel, Generic[Row]):
    model_config = ConfigDict(populate_by_name=True)

    community: str
    from_: date = Field(alias="from")
    to: date
    table: str
    rows: list[Row]
