"""Request (…In) and response (…Out) bodies. Anything that carries a signature is strict:
no coercion ("false" is not 0), no extra fields."""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from backend.services.proposals import (
    MAX_DESCRIPTION,
    MAX_TEXT,
    MAX_URI,
    UINT256,
    Address,
    ProposalAction,
)

HEX32 = r"^0x[0-9a-fA-F]{64}$"
T = TypeVar("T")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


# ---------------------------------------------------------------------- signed requests


class TypeField(_Strict):
    name: str
    type: str


class DomainIn(_Strict):
    name: str
    version: str
    chainId: int
    verifyingContract: Address


class ForwardRequestIn(_Strict):
    from_: Address = Field(alias="from")
    to: Address
    value: int = Field(ge=0)
    gas: int = Field(ge=0, lt=2**256)
    nonce: int = Field(ge=0, lt=2**256)
    deadline: int = Field(ge=0, lt=2**48)
    data: str = Field(pattern=r"^0x([0-9a-fA-F]{2})*$")


class TypedDataIn(_Strict):
    types: dict[str, list[TypeField]]
    primaryType: str
    domain: DomainIn
    message: ForwardRequestIn

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True)


class SignedRequestIn(_Strict):
    typed_data: TypedDataIn
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$", description="65-byte signature of typed_data")


class TypedDataOut(BaseModel):
    typed_data: dict[str, Any] = Field(description="EIP-712 typed data for eth_signTypedData_v4")


class ProposalTypedDataOut(TypedDataOut):
    proposal_id: str


class TxOut(BaseModel):
    tx_hash: str
    status: Literal["pending", "succeeded", "failed"]
    block_number: int | None = None
    created: dict[str, Any] = {}
    indexed: bool = False
    status_url: str | None = None


# ---------------------------------------------------------------------- actions


class _SignerIn(_In):
    signer: Address = Field(description="The member who will sign")


class ClaimPrepareIn(_SignerIn):
    indicator_id: int = Field(ge=1, lt=2**32)
    evidence_uri: str = Field(min_length=1, max_length=MAX_URI)
    evidence_hash: str | None = Field(None, pattern=HEX32, description="keccak256 of the evidence; "
                                      "defaults to keccak256 of evidence_uri")
    contributor: Address | None = Field(None, description="Another member to nominate; omit to claim your own "
                                                        "contribution")


class AttestationPrepareIn(_SignerIn):
    claim_id: int = Field(ge=1, le=UINT256)


class VotePrepareIn(_SignerIn):
    proposal_id: str = Field(pattern=r"^[0-9]{1,78}$", description="A decimal uint256")
    support: Literal["for", "against", "abstain"]
    reason: str = Field("", max_length=MAX_TEXT)

    @field_validator("proposal_id")
    @classmethod
    def _uint256(cls, value: str) -> str:
        if int(value) > UINT256:
            raise ValueError("proposal_id must be below 2**256")
        return value


class DelegationPrepareIn(_SignerIn):
    delegatee: Address


class ProposalPrepareIn(_SignerIn):
    description: str = Field(min_length=1, max_length=MAX_DESCRIPTION)
    actions: list[ProposalAction] = Field(min_length=1, max_length=20)


# ---------------------------------------------------------------------- reads


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class CommunityOut(BaseModel):
    slug: str
    name: str
    deployment_block: int
    contracts: dict[str, str]
    parameters: dict[str, Any]


class HealthOut(BaseModel):
    status: Literal["ok"]
    chain_id: int
    head_block: int
    indexed_block: int | None
    indexed_blocks: dict[str, int]
    indexer_error: str | None


class IndicatorVersionOut(BaseModel):
    version: int
    name: str
    description_uri: str
    category: str
    orientation: Literal["object", "community"]
    weight: int
    endorsements_required: int
    validity_seconds: int
    defined_at: int
    tx_hash: str


class IndicatorOut(IndicatorVersionOut):
    id: int
    active: bool
    created_at: int
    retired_at: int | None
    versions: list[IndicatorVersionOut] | None = None


class VoteOut(BaseModel):
    voter: str
    support: Literal["for", "against", "abstain"]
    weight: int
    reason: str
    timestamp: int
    tx_hash: str


class ProposalOut(BaseModel):
    id: str
    proposer: str
    description: str
    state: Literal["pending", "active", "canceled", "defeated", "succeeded", "executed"]
    vote_start: int
    vote_end: int = Field(description="Voting deadline (unix seconds, chain time)")
    created_at: int
    tx_hash: str
    tallies: dict[str, int]
    quorum: int
    quorum_reached: bool
    executed_at: int | None
    actions: list[dict[str, Any]]
    votes: list[VoteOut] | None = None


class MemberOut(BaseModel):
    address: str
    active: bool
    admitted_at: int
    removed_at: int | None
    delegate: str | None
    votes: int


class ClaimOut(BaseModel):
    id: int
    contributor: str
    submitter: str
    nomination: bool
    indicator_id: int
    indicator_version: int
    evidence_hash: str
    evidence_uri: str
    attestations: int
    endorsements_required: int | None
    attesters: list[str]
    state: Literal["open", "minted"]
    token_id: int | None
    created_at: int
    tx_hash: str


class BadgeOut(BaseModel):
    token_id: int
    owner: str
    contributor: str
    indicator_id: int
    indicator_version: int
    indicator_name: str | None
    category: str
    orientation: str
    weight: int
    validity_seconds: int
    minted_at: int
    revoked_at: int | None
    revoke_reason: str | None
    counts: bool
    tx_hash: str


class ProfileBadgeOut(BaseModel):
    token_id: int
    indicator_id: int
    indicator_name: str
    category: str
    orientation: str
    weight: int
    minted_at: int
    counts: bool


class ProfileOut(BaseModel):
    address: str
    member: bool
    as_of: int = Field(description="Chain time the profile was computed at")
    total_score: int
    badges_counting: int
    badges_not_counting: int
    by_indicator: list[dict[str, Any]]
    by_category: list[dict[str, Any]]
    by_orientation: dict[str, dict[str, int]]
    badges: list[ProfileBadgeOut]
