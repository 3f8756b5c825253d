"""Request (…In) and response (…Out) bodies. Anything that carries a signature is strict:
no coercion ("false" is not 0), no extra fields."""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from backend.proposals.actions import ProposalActions
from backend.vocabulary import (
    MAX_DESCRIPTION,
    MAX_TEXT,
    MAX_URI,
    UINT256,
    Address,
    Orientation,
    RequestState,
    Support,
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
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130,4096}$",
                           description="Signature of typed_data: 65 bytes (a key's ECDSA signature), or up to "
                                       "2,048 for a contract wallet (ERC-1271: a Safe's owners, a passkey)")

    @field_validator("signature")
    @classmethod
    def _whole_bytes(cls, value: str) -> str:
        if len(value) % 2:
            raise ValueError(f"{value[:80]!r} has an odd number of hex digits: a signature is whole bytes")
        return value


class TypedDataOut(BaseModel):
    typed_data: dict[str, Any] = Field(description="EIP-712 typed data for eth_signTypedData_v4")


class ProposalTypedDataOut(TypedDataOut):
    proposal_id: str


class TxOut(BaseModel):
    """A write's answer: its request in the relayer's outbox, and its transaction once sent."""

    request_id: int | None = Field(None, description="The request's id in the relayer's outbox (relayed writes)")
    tx_hash: str | None = Field(None, description="The transaction that carries it; null while it waits to be sent")
    status: Literal["pending", "succeeded", "failed"]
    state: RequestState | None = Field(
        None, description="The outbox's finer state: queued, sent, succeeded, reverted (its call failed when "
                          "executed; its nonce is used) or failed (not executed; its nonce is free)")
    error: str | None = None
    block_number: int | None = None
    created: dict[str, Any] = {}
    indexed: bool = False
    status_url: str | None = Field(None, description="Where to follow it")


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
    organisation_id: int | None = Field(None, ge=1, lt=2**32, description="A registered, active organisation "
                                        "the work was done for (its sponsor, employer or customer) to credit")


class AttestationPrepareIn(_SignerIn):
    claim_id: int = Field(ge=1, le=UINT256)
    endorser_badge_id: int | None = Field(None, ge=1, le=UINT256, description="For an indicator endorsed only by "
                                          "holders of another indicator's badge: the signer's counting badge to "
                                          "show. Omitted, the service picks one the signer holds")


class NominationAnswerPrepareIn(_SignerIn):
    claim_id: int = Field(ge=1, le=UINT256, description="A nomination of the signer, still pending")
    answer: Literal["accept", "decline"] = Field(description="accept: the nomination counts (its badge is minted "
                                                 "once it has its attestations, at once if it has them already); "
                                                 "decline: it stays on record as declined and closes")


class DisowningPrepareIn(_SignerIn):
    token_id: int = Field(ge=1, le=UINT256, description="A badge the signer holds: it stops counting for good")


class ProfileVisibilityPrepareIn(_SignerIn):
    hidden: bool = Field(description="true: keep the signer's profile out of public lists; false: show it again")


class VotePrepareIn(_SignerIn):
    proposal_id: str = Field(pattern=r"^[0-9]{1,78}$", description="A decimal uint256")
    support: Support
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
    actions: ProposalActions


# ---------------------------------------------------------------------- reads


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class CursorPage(Page[T], Generic[T]):
    after: int | None = Field(description="The cursor this page was asked after, if any")
    next_after: int | None = Field(description="The cursor of the next page (?after=): null on the last page")


class Spent(BaseModel):
    """What the relayer paid, from its outbox."""

    requests: int = Field(description="Requests sent in a transaction")
    succeeded: int
    failed: int = Field(description="Reverted when executed, or not executed")
    gas_used: int = Field(description="Gas of their transactions, shared out by each request's gas limit")
    fees_wei: int = Field(description="That gas times the effective gas price")


class MemberSpentOut(Spent):
    member: str
    strikes: int = Field(0, description="Requests that passed every check, then failed on chain, within the "
                                        "cool-off (member_strike_cooloff_seconds)")
    standing: Literal["ok", "slowed", "refused"] = Field(
        "ok", description="slowed: one request in flight at a time; refused: none until strikes age out")


class HiddenSpentOut(Spent):
    """Members who hid their profile, together: counted, never named."""

    members: int
    strikes: int


class BudgetsOut(BaseModel):
    member_max_in_flight: int
    member_requests_per_minute: int
    member_gas_per_hour: int
    client_max_in_flight: int
    client_requests_per_minute: int
    client_gas_per_hour: int
    max_gas_per_request: int
    member_strikes_slow_after: int
    member_strikes_refuse_after: int
    member_strike_cooloff_seconds: int
    min_deadline_headroom_seconds: int


class RelayerOut(BaseModel):
    address: str
    in_flight: int = Field(description="Requests accepted (every community) and not yet settled")
    leading: bool = Field(description="Whether this process is the one that sends (and indexes)")
    paused: str | None = Field(description="Why sending is paused (out of funds, fees over the cap), or null")
    balance_wei: int | None
    spent: Spent = Field(description="This community, over the outbox's history")
    by_member: list[MemberSpentOut] = Field(description="Per member who shows their profile, most gas first")
    hidden_members: HiddenSpentOut = Field(description="The members who hid their profile, together")
    budgets: BudgetsOut


class CommunityOut(BaseModel):
    slug: str
    name: str
    deployment_block: int
    contracts: dict[str, str]
    parameters: dict[str, Any]


_RAW = ("Null when the text shown is exactly the bytes on chain. Otherwise the text had invalid UTF-8 "
        "or control characters (shown as U+FFFD), and this is the exact bytes, as 0x hex")


def _raw(what: str):
    return Field(None, description=f"{what}: {_RAW}")


class CommunityIndexOut(BaseModel):
    """How far one community's index is, and how its indexing goes."""

    indexed_block: int = Field(description="The last block indexed")
    lag_blocks: int = Field(description="Blocks between the last indexed and the newest the index may hold "
                                        "(the head minus the confirmation depth)")
    lag_seconds: int | None = Field(description="Chain time between those two blocks; null if unknown")
    error: str | None = Field(description="Why the last attempt to index this community failed; null once "
                                          "an attempt succeeds")
    error_at: int | None = Field(description="When (unix seconds) that attempt failed")
    last_error: str | None = Field(description="The newest error, kept after recovery (a set-aside event "
                                               "is one)")
    last_error_at: int | None
    synced_at: int | None = Field(description="When (unix seconds) this process last indexed it without error")
    set_aside: int = Field(description="Events of this community set aside: the index lacks them")


class SetAsideOut(BaseModel):
    """An event the index could not store and skipped; the raw log is kept in the index's
    `set_aside` table, and a reindex tries it again."""

    community: str
    block_number: int
    log_index: int
    tx_hash: str
    contract: str
    event: str
    error: str
    set_aside_at: int = Field(description="Unix seconds")


class HealthOut(BaseModel):
    """The chain and the index. `status` is "ok" only when every community is indexed to within
    `max_lag_blocks` of the newest block it may hold, nothing is failing and no event was set
    aside; otherwise "degraded", and `reasons` says why. The answer is 200 either way; 503 when
    the chain node cannot be reached."""

    status: Literal["ok", "degraded"]
    reasons: list[str] = Field(description="Why the status is degraded, in words; empty when ok")
    chain_id: int
    head_block: int
    confirmations: int = Field(description="Blocks the index stays behind the head on purpose")
    indexed_block: int | None = Field(description="The least indexed block over all communities")
    indexed_blocks: dict[str, int] = Field(description="The last block indexed, per community")
    lag_blocks: int = Field(description="The largest lag in blocks over all communities")
    lag_seconds: int | None = Field(description="The largest lag in chain seconds over all communities")
    max_lag_blocks: int = Field(description="The lag in blocks still called ok")
    indexer_error: str | None = Field(description="The current indexing error, if any (the chain head "
                                                  "unreadable, or '<community>: <error>')")
    last_error: str | None = Field(description="The newest indexing error, kept after recovery")
    last_error_at: int | None = Field(description="When (unix seconds) it happened")
    communities: dict[str, CommunityIndexOut]
    set_aside: int = Field(description="Events set aside over all communities")
    set_aside_recent: list[SetAsideOut] = Field(description="The newest set-aside events (at most 10)")


class IndicatorVersionOut(BaseModel):
    version: int
    name: str
    description_uri: str
    category: str
    name_raw: str | None = _raw("name")
    description_uri_raw: str | None = _raw("description_uri")
    category_raw: str | None = _raw("category")
    orientation: Orientation
    weight: int
    endorsements_required: int
    validity_seconds: int
    endorser_indicator_id: int | None = Field(description="Only holders of a counting badge of this indicator "
                                              "may attest; null: any member")
    earn_cap: int | None = Field(description="Badges one member may earn of it per cap period; null: no cap")
    attest_cap: int | None = Field(description="Claims one member may attest of it per cap period; null: no cap")
    cap_period_seconds: int | None = Field(description="The caps' period (fixed windows from the Unix epoch); "
                                           "null without caps")
    defined_at: int
    tx_hash: str


class IndicatorHistoryOut(IndicatorVersionOut):
    proposal_id: str | None = Field(None, description="The executed proposal that defined this version; "
                                    "none for one defined at deployment")


class IndicatorOut(IndicatorVersionOut):
    id: int
    active: bool
    created_at: int
    retired_at: int | None
    retired_by_proposal_id: str | None = Field(None, description="The executed proposal that retired it "
                                               "(with versions)")
    versions: list[IndicatorHistoryOut] | None = Field(None, description="Every version, oldest first "
                                                       "(one indicator read only)")


class VoteOut(BaseModel):
    voter: str
    support: Support
    weight: int
    reason: str
    reason_raw: str | None = _raw("reason")
    timestamp: int
    tx_hash: str


class ProposalOut(BaseModel):
    id: str
    proposer: str
    description: str
    description_raw: str | None = _raw("description")
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
    profile_hidden: bool = Field(description="The member keeps their profile out of public lists (GET /members, "
                                 "the nominee picker, reports' and organisations' per-member figures); it is still "
                                 "answered here, counts everywhere, and records they take part in keep their address")


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
    evidence_uri_raw: str | None = _raw("evidence_uri")
    evidence_uri_safe: bool = Field(description="The URI's scheme is one the service accepts (CC_URI_SCHEMES); "
                                    "a claim sent straight to the contract may hold anything: show it as a "
                                    "link only when true")
    attestations: int
    endorsements_required: int | None
    attesters: list[str]
    nomination_state: Literal["pending", "accepted", "declined"] | None = Field(
        description="null for a claim of one's own; for a nomination, whether the nominee accepted it (only an "
                    "accepted nomination is minted) or declined it (then closed, kept on record)")
    answered_at: int | None = Field(description="When the nominee accepted or declined (unix seconds)")
    organisation_id: int | None = Field(description="The organisation the claim credits, if any")
    state: Literal["open", "minted", "declined"]
    token_id: int | None
    created_at: int
    tx_hash: str


class OrganisationOut(BaseModel):
    id: int
    name: str
    name_raw: str | None = _raw("name")
    identifier: str = Field(description="Its address, domain or other identifier, as governance registered it")
    identifier_raw: str | None = _raw("identifier")
    active: bool = Field(description="False once retired: new claims cannot credit it")
    added_at: int
    retired_at: int | None
    tx_hash: str


class OrganisationContributorOut(BaseModel):
    address: str
    badges: int = Field(description="Counting badges whose claims credit the organisation")
    score: int | float


class OrganisationCategoryOut(BaseModel):
    category: str
    badges: int
    score: int | float


class OrganisationProfileOut(OrganisationOut):
    as_of: int = Field(description="Chain time the scores were computed at")
    score_rule: Literal["linear", "square_root"]
    total_score: int | float
    badges_counting: int
    contributors: list[OrganisationContributorOut] = Field(description="Highest score first; members who keep "
                                                           "their profile out of public lists are not listed")
    contributors_hidden: int = Field(description="Contributors left out of the list because they hide their "
                                     "profile; their badges still count in the totals")
    by_category: list[OrganisationCategoryOut]


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
    revoke_reason_raw: str | None = _raw("revoke_reason")
    disowned_at: int | None = Field(description="When its holder disowned it (unix seconds): it stays on record "
                                    "and never counts again")
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
    profile_hidden: bool = Field(description="The member keeps this profile out of public lists; it still counts "
                                 "and is answered to anyone who asks for it by address")
    as_of: int = Field(description="Chain time the profile was computed at")
    score_rule: Literal["linear", "square_root"] = Field(
        description="How the scores add up, as the community set it: linear sums the weights of an indicator's "
                    "badges; square_root gives n badges of one indicator their mean weight times the square root of "
                    "n (rounded to 3 decimals)")
    total_score: int | float
    badges_counting: int
    badges_not_counting: int
    by_indicator: list[dict[str, Any]]
    by_category: list[dict[str, Any]]
    by_orientation: dict[str, dict[str, int | float]]
    badges_total: int = Field(description="Every badge the member holds, counting or not")
    badges_limit: int
    badges_offset: int
    badges: list[ProfileBadgeOut] = Field(description="One page of the member's badges, oldest first")


class BadgeMetadataIndicatorOut(BaseModel):
    id: int
    version: int
    name: str
    orientation: Orientation


class BadgeMetadataOut(BaseModel):
    """The badge's tokenURI, read from the contract now, and its JSON decoded."""

    model_config = ConfigDict(extra="allow")
    token_uri: str = Field(description="data:application/json;base64,... as the contract returns it")
    name: str
    indicator: BadgeMetadataIndicatorOut
    contributor: str
    weight: int
    evidence_hash: str
    minted_at: int
    valid_for_seconds: int
    revoked_at: int = Field(0, description="When governance revoked it (unix seconds); 0 if never")
    disowned_at: int = Field(0, description="When its holder disowned it (unix seconds); 0 if never")
    active: bool = Field(description="isActive: not revoked, not disowned and within its validity period")


class ScorePointOut(BaseModel):
    at: int = Field(description="Chain time (unix seconds) from which this score holds")
    total: int | float
    object: int | float = Field(description="Score from object-oriented indicators (code, documents, ...)")
    community: int | float = Field(description="Score from community-oriented indicators (mentoring, events, ...)")


class ScoreHistoryOut(BaseModel):
    address: str
    as_of: int = Field(description="Chain time the history was computed at")
    score_rule: Literal["linear", "square_root"] = Field(
        description="The community's score rule, applied at every point as the profile applies it")
    points: list[ScorePointOut] = Field(description="One point at each badge minted, revoked or expired, oldest "
                                        "first")
