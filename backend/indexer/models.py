"""Tables of the index. Every row is derived from events, so the whole index can be dropped
and rebuilt from the deployment block. Every table is keyed by community first."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


Address = String(42)
# uint256 values that do not fit 64 bits (proposal ids) are kept as decimal strings.
Uint256 = String(78)


def RawText():
    """Beside each text taken from an event: null when the text is exactly the bytes on chain,
    otherwise those bytes as 0x hex (the text had invalid UTF-8 or control characters, shown as
    U+FFFD; see backend.chain.abi.readable_text)."""
    return mapped_column(Text, nullable=True, default=None)


class Origin:
    """Where a row comes from on the chain: the event that created it or, for a row replaced whole
    (a setting, a linked account, the capture rules, a member admitted again), the event that last
    replaced it. Later changes to a row are events of their own (the `events` table). The archive
    (backend/archive) ties every record to these."""

    block_number: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None)
    log_index: Mapped[int | None] = mapped_column(Integer, nullable=True, default=None)
    tx_hash: Mapped[str | None] = mapped_column(String(66), nullable=True, default=None)


class SchemaStamp(Base):
    """A fingerprint of the tables below, so an index written by another version of the service
    is noticed and rebuilt from the chain instead of read with the wrong columns."""

    __tablename__ = "schema_stamp"
    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)


class Cursor(Base):
    """The last block indexed for a community, that block's timestamp (the index's clock) and
    hash (to notice a chain that was reset or reorganised under the index)."""

    __tablename__ = "cursors"
    community: Mapped[str] = mapped_column(String(64), primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger)
    block_timestamp: Mapped[int] = mapped_column(BigInteger, default=0)
    block_hash: Mapped[str | None] = mapped_column(String(66), nullable=True)


class CreatedCommunity(Base):
    """A community created through the community factory by a creator the service follows
    (backend/indexer/factory.py): served (`refused` null), or refused because the deployments file
    serves another community under its slug. Derived from the factory's events, whose cursor is
    the `cursors` row ":factory"."""

    __tablename__ = "created_communities"
    slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    creator: Mapped[str] = mapped_column(String(42))
    contracts: Mapped[dict[str, str]] = mapped_column(JSON)
    block_number: Mapped[int] = mapped_column(BigInteger)
    log_index: Mapped[int] = mapped_column(Integer)
    tx_hash: Mapped[str] = mapped_column(String(66))
    timestamp: Mapped[int] = mapped_column(BigInteger)
    refused: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)


class LeftOut(Base):
    """How many communities of followed creators the factory announced past the cap: left out,
    counted and nothing more (one row per factory). Derived from its events, like the table above."""

    __tablename__ = "created_communities_left_out"
    factory: Mapped[str] = mapped_column(String(42), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0)


class EventRecord(Base):
    """Every decoded event, once: (block, log index) is the key that makes indexing idempotent.
    `args` holds readable text for strings, and `<name>_raw` (0x hex of the exact bytes) beside
    any string whose text had to be altered."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("block_number", "log_index", name="uq_event_position"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    community: Mapped[str] = mapped_column(String(64), index=True)
    block_number: Mapped[int] = mapped_column(BigInteger)
    log_index: Mapped[int] = mapped_column(Integer)
    tx_hash: Mapped[str] = mapped_column(String(66))
    timestamp: Mapped[int] = mapped_column(BigInteger)
    contract: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    args: Mapped[dict[str, Any]] = mapped_column(JSON)


class SetAside(Base):
    """An event the index could not store (its projection or the database refused it): kept here
    with its exact log data so nothing is lost, while the cursor moves past it. `/health` counts
    them; a reindex tries them again."""

    __tablename__ = "set_aside"
    community: Mapped[str] = mapped_column(String(64), primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    log_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    tx_hash: Mapped[str] = mapped_column(String(66))
    timestamp: Mapped[int] = mapped_column(BigInteger)
    contract: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    error: Mapped[str] = mapped_column(Text)
    topics: Mapped[list[str]] = mapped_column(JSON)
    data: Mapped[str] = mapped_column(Text)  # the log's data, 0x hex
    set_aside_at: Mapped[int] = mapped_column(BigInteger, index=True)  # wall clock, unix seconds


class Member(Origin, Base):
    __tablename__ = "members"
    community: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(Address, primary_key=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    admitted_at: Mapped[int] = mapped_column(BigInteger)
    removed_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    delegate: Mapped[str | None] = mapped_column(Address, nullable=True)
    votes: Mapped[int] = mapped_column(BigInteger, default=0)
    # The member keeps their profile out of public lists (ContributionBadge.setProfileHidden).
    profile_hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    # The display name the member set (Membership.setName); null until they set one.
    name: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)
    name_raw: Mapped[str | None] = RawText()


class LinkedAccount(Origin, Base):
    """A member's account on another site (Membership.linkAccount): how work done there finds them."""

    __tablename__ = "linked_accounts"
    __table_args__ = (Index("ix_linked_accounts_handle", "community", "site", "handle_folded"),)
    community: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(Address, primary_key=True)
    site: Mapped[str] = mapped_column(String(16), primary_key=True)
    handle: Mapped[str] = mapped_column(Text)
    handle_raw: Mapped[str | None] = RawText()
    # The handle with ASCII folded to lower case, as the contract compares it.
    handle_folded: Mapped[str] = mapped_column(Text)


class Invitation(Origin, Base):
    """An invitation (Membership.invite), by the address its secret controls. Nothing about the
    invitee is known but the name the inviter typed."""

    __tablename__ = "invitations"
    __table_args__ = (Index("ix_invitations_inviter", "community", "inviter"),)
    community: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(Address, primary_key=True)
    inviter: Mapped[str] = mapped_column(Address)
    name: Mapped[str] = mapped_column(Text)
    name_raw: Mapped[str | None] = RawText()
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    withdrawn_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None)
    account: Mapped[str | None] = mapped_column(Address, nullable=True, default=None)
    accepted_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None)
    tx_hash: Mapped[str] = mapped_column(String(66))


class Vouch(Origin, Base):
    """A member's vouch for a person's admission (Membership.vouch, or an accepted invitation).
    `epoch` counts the removals by governance before it: a later removal voids it."""

    __tablename__ = "vouches"
    community: Mapped[str] = mapped_column(String(64), primary_key=True)
    candidate: Mapped[str] = mapped_column(Address, primary_key=True)
    voucher: Mapped[str] = mapped_column(Address, primary_key=True)
    epoch: Mapped[int] = mapped_column(Integer, primary_key=True)
    vouches: Mapped[int] = mapped_column(Integer)  # the candidate's count after this vouch
    timestamp: Mapped[int] = mapped_column(BigInteger)


class Checkpoint(Origin, Base):
    """A value over time: membership supply and quorum numerator, read at a proposal's snapshot."""

    __tablename__ = "checkpoints"
    community: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    log_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    timestamp: Mapped[int] = mapped_column(BigInteger, index=True)
    value: Mapped[int] = mapped_column(BigInteger)


class Setting(Origin, Base):
    """The community's current settings: the governor's (voting delay, period, threshold, quorum
    numerator) and the registry's fair-play rules (reciprocal window, score rule)."""

    __tablename__ = "settings"
    community: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(Uint256)


class IndicatorVersion(Origin, Base):
    __tablename__ = "indicator_versions"
    community: Mapped[str] = mapped_column(String(64), primary_key=True)
    indicator_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    description_uri: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(Text)
    name_raw: Mapped[str | None] = RawText()
    description_uri_raw: Mapped[str | None] = RawText()
    category_raw: Mapped[str | None] = RawText()
    orientation: Mapped[str] = mapped_column(String(16))
    weight: Mapped[int] = mapped_column(BigInteger)
    endorsements_required: Mapped[int] = mapped_column(Integer)
    validity: Mapped[int] = mapped_column(BigInteger)
    # Fair-play rules of this version (IndicatorRulesDefined); 0 = off.
    endorser_indicator_id: Mapped[int] = mapped_column(BigInteger, default=0)
    earn_cap: Mapped[int] = mapped_column(Integer, default=0)
    attest_cap: Mapped[int] = mapped_column(Integer, default=0)
    cap_period: Mapped[int] = mapped_column(BigInteger, default=0)
    defined_at: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(String(66))


class Organisation(Origin, Base):
    """An organisation governance registered for claims to credit (a sponsor, employer, customer)."""

    __tablename__ = "organisations"
    community: Mapped[str] = mapped_column(String(64), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    name_raw: Mapped[str | None] = RawText()
    identifier: Mapped[str] = mapped_column(Text)
    identifier_raw: Mapped[str | None] = RawText()
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    added_at: Mapped[int] = mapped_column(BigInteger)
    retired_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None)
    tx_hash: Mapped[str] = mapped_column(String(66))


class Indicator(Origin, Base):
    """An indicator's current version; earlier ones are in `indicator_versions`."""

    __tablename__ = "indicators"
    community: Mapped[str] = mapped_column(String(64), primary_key=True)
    indicator_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    retired_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class Proposal(Base):
    __tablename__ = "proposals"
    community: Mapped[str] = mapped_column(String(64), primary_key=True)
    proposal_id: Mapped[str] = mapped_column(Uint256, primary_key=True)
    proposer: Mapped[str] = mapped_column(Address)
    targets: Mapped[list[str]] = mapped_column(JSON)
    values: Mapped[list[str]] = mapped_column(JSON)
    calldatas: Mapped[list[str]] = mapped_column(JSON)
    description: Mapped[str] = mapped_column(Text)
    description_raw: Mapped[str | None] = RawText()
    vote_start: Mapped[int] = mapped_column(BigInteger)
    vote_end: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger)
    created_block: Mapped[int] = mapped_column(BigInteger, index=True)
    log_index: Mapped[int | None] = mapped_column(Integer, nullable=True, default=None)  # of ProposalCreated
    tx_hash: Mapped[str] = mapped_column(String(66))
    for_votes: Mapped[int] = mapped_column(BigInteger, default=0)
    against_votes: Mapped[int] = mapped_column(BigInteger, default=0)
    abstain_votes: Mapped[int] = mapped_column(BigInteger, default=0)
    executed_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    canceled_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # Who cancelled it, when the cancellation was relayed (the forwarder's signer); else unknown.
    canceled_by: Mapped[str | None] = mapped_column(Address, nullable=True)
    # Queued in the timelock after passing: when, and when it may be executed (ProposalQueued).
    queued_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    eta: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # Its operation's id in the timelock (CallScheduled), to see it executed there directly.
    timelock_id: Mapped[str | None] = mapped_column(String(66), nullable=True, index=True)


class Vote(Base):
    __tablename__ = "votes"
    community: Mapped[str] = mapped_column(String(64), primary_key=True)
    proposal_id: Mapped[str] = mapped_column(Uint256, primary_key=True)
    voter: Mapped[str] = mapped_column(Address, primary_key=True)
    support: Mapped[int] = mapped_column(Integer)
    weight: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    reason_raw: Mapped[str | None] = RawText()
    timestamp: Mapped[int] = mapped_column(BigInteger)
    block_number: Mapped[int] = mapped_column(BigInteger)
    log_index: Mapped[int] = mapped_column(Integer)
    tx_hash: Mapped[str] = mapped_column(String(66))


class Claim(Origin, Base):
    __tablename__ = "claims"
    # Open claims in order (the awaiting lists), and a member's or an indicator's claims in order
    # (a page of them by offset or after a cursor), each without a scan of every claim ever filed.
    __table_args__ = (
        Index("ix_claims_open", "community", "minted", "claim_id"),
        Index("ix_claims_contributor", "community", "contributor", "claim_id"),
        Index("ix_claims_indicator", "community", "indicator_id", "claim_id"),
    )
    community: Mapped[str] = mapped_column(String(64), primary_key=True)
    claim_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    contributor: Mapped[str] = mapped_column(Address)
    submitter: Mapped[str] = mapped_column(Address)
    indicator_id: Mapped[int] = mapped_column(Integer)
    indicator_version: Mapped[int] = mapped_column(Integer)
    evidence_hash: Mapped[str] = mapped_column(String(66))
    evidence_uri: Mapped[str] = mapped_column(Text)
    evidence_uri_raw: Mapped[str | None] = RawText()
    attestations: Mapped[int] = mapped_column(Integer, default=0)
    minted: Mapped[bool] = mapped_column(Boolean, default=False)
    # Null for a claim of one's own; pending, accepted or declined for a nomination.
    nomination_state: Mapped[str | None] = mapped_column(String(16), nullable=True, default=None)
    answered_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None)
    organisation_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None)
    created_at: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(String(66))


class Attestation(Origin, Base):
    __tablename__ = "attestations"
    # What a member already attested (the awaiting lists leave it out).
    __table_args__ = (Index("ix_attestations_attester", "community", "attester", "claim_id"),)
    community: Mapped[str] = mapped_column(String(64), primary_key=True)
    claim_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    attester: Mapped[str] = mapped_column(Address, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(String(66))


class Badge(Origin, Base):
    __tablename__ = "badges"
    # A member's badges in token order (profiles' pages, /badges?owner=), read in index order.
    # An organisation's credited badges (its profile).
    __table_args__ = (
        Index("ix_badges_owner_token", "community", "owner", "token_id"),
        Index("ix_badges_organisation", "community", "organisation_id"),
    )
    community: Mapped[str] = mapped_column(String(64), primary_key=True)
    token_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    owner: Mapped[str] = mapped_column(Address)
    contributor: Mapped[str] = mapped_column(Address)
    indicator_id: Mapped[int] = mapped_column(Integer)
    indicator_version: Mapped[int] = mapped_column(Integer)
    weight: Mapped[int] = mapped_column(BigInteger)
    validity: Mapped[int] = mapped_column(BigInteger)
    orientation: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(Text)
    minted_at: Mapped[int] = mapped_column(BigInteger)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    revoke_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    revoke_reason_raw: Mapped[str | None] = RawText()
    disowned_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None)
    # Each holder gets a credential of their own (backend/credentials): `holding` counts the
    # governed moves to another holder (lost-key recoveries), 0 for the badge's first holder;
    # `held_since` is when the current holder got it (its mint, or the last recovery).
    holding: Mapped[int] = mapped_column(Integer, default=0)
    held_since: Mapped[int] = mapped_column(BigInteger)
    # The organisation its claim credits, copied at mint so per-organisation reads need no join.
    organisation_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None)
    tx_hash: Mapped[str] = mapped_column(String(66))


class CaptureRulesDocument(Origin, Base):
    """The community's capture rules as governance last set them (IndicatorRegistry.setCaptureRules):
    the document's text and its keccak256, which the registry keeps (backend/capture reads them)."""

    __tablename__ = "capture_rules"
    community: Mapped[str] = mapped_column(String(64), primary_key=True)
    digest: Mapped[str] = mapped_column(String(66))
    rules: Mapped[str] = mapped_column(Text)
    rules_raw: Mapped[str | None] = RawText()
    set_at: Mapped[int] = mapped_column(BigInteger)
    block_number: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(String(66))


class RecordsMoveRow(Origin, Base):
    """A move of the community's records to a later version of the badge contract, by its vote
    (the registry's RecordsMoved), and how far anyone carried them over (the new version's
    RecordsCarried): each process serves the version the last move names (backend/indexer/versions.py)."""

    __tablename__ = "records_moves"
    community: Mapped[str] = mapped_column(String(64), primary_key=True)
    to_address: Mapped[str] = mapped_column(Address, primary_key=True)
    from_address: Mapped[str] = mapped_column(Address)
    claim_count: Mapped[int] = mapped_column(BigInteger)  # the claims the earlier version held, to carry
    carried: Mapped[int] = mapped_column(BigInteger, default=0)  # of them, carried over so far
    timestamp: Mapped[int] = mapped_column(BigInteger)


class RowCount(Base):
    """How many rows a community has in a table (claims, badges), kept as the projections add
    them: the first page of /claims or /badges says its total without counting every row, which
    at 10,000 claims was the page's growth with the index."""

    __tablename__ = "row_counts"
    community: Mapped[str] = mapped_column(String(64), primary_key=True)
    table_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


# Tables a rebuild empties (every one the projections write), children first.
PROJECTIONS = (
    Badge,
    Attestation,
    Claim,
    Vote,
    Proposal,
    Indicator,
    IndicatorVersion,
    Organisation,
    Setting,
    Checkpoint,
    Member,
    LinkedAccount,
    Invitation,
    Vouch,
    RowCount,
    CaptureRulesDocument,
    RecordsMoveRow,
)
