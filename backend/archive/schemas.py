"""The archive's lines, one model each (docs/developers/archive.md).

An archive is JSON Lines: a header, then every record of the community by kind in the order of
KINDS (each kind in chain order: by the block and log index of the event that made the record,
then by its key), then an end line. Each line is canonical JSON (keys sorted, no spaces, UTF-8),
so that two archives of the same chain as of the same block are the same bytes.

Every record is tied to the event that made it (`block_number`, `log_index`, `tx_hash`): the one
that created it or, for a record replaced whole (a setting, a linked account, the capture rules,
a member admitted again), the one that last replaced it. Every later change to a record is an
event of its own, and the archive holds every event (kind `event`). Text is kept as the index
reads it (readable, U+FFFD for what was not) with the exact bytes beside it in `*_raw` (0x hex)
whenever the two differ.

VERSION changes whenever a line's fields change; tests/backend/test_archive.py fails when a column
of the index is neither archived nor named as left out."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from backend.i18n import gettext as _

FORMAT: Final = "contribution-commons-archive"
VERSION = 1


class _Line(BaseModel):
    # Lines read back (verify) must be exactly what the writer writes: nothing more.
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------------- header and end


class ArchivedCommunity(_Line):
    slug: str = Field(description="The service's name for the community (a label: not on chain)")
    name: str = Field(description="Its name in the deployments file (a label: not on chain)")
    deployment_block: int = Field(description="The block its contracts were deployed in: the index starts there")
    contracts: dict[str, str] = Field(description="Its contracts by role (membership, governor, ...): addresses")


class AsOf(_Line):
    block_number: int = Field(description="The last block the archive includes")
    block_hash: str = Field(description="That block's hash: a chain reset or reorganised since is noticed")
    timestamp: int = Field(description="That block's time (Unix seconds)")


class ArchiveHeader(_Line):
    kind: Literal["header"] = "header"
    format: Literal["contribution-commons-archive"] = FORMAT
    version: int = Field(VERSION, description="The format's version: it changes whenever a line's fields change")
    chain_id: int
    community: ArchivedCommunity
    as_of: AsOf


class ArchiveEnd(_Line):
    kind: Literal["end"] = "end"
    records: dict[str, int] = Field(description="How many records of each kind the archive holds")
    sha256: str = Field(description="SHA-256 of every byte before this line (hex): a file cut short or altered")


# ---------------------------------------------------------------------- records


class Record(_Line):
    """A record of the community, tied to the event that made it."""

    kind: str  # each kind's own literal
    block_number: int = Field(description="The block of the event that made this record")
    log_index: int = Field(description="That event's position among its block's logs")
    tx_hash: str = Field(description="That event's transaction")
    # The fields that name the record among its kind's (with its kind: unique in an archive).
    key: ClassVar[tuple[str, ...]] = ()

    def named(self) -> str:
        """The record in words, for a person told that it differs."""
        raise NotImplementedError

    def identity(self) -> tuple[Any, ...]:
        """What names the record whatever its fields say (the same record in two archives): its kind
        and key; for records without one, where its event is on the chain."""
        if self.key:
            return (self.kind, *(getattr(self, name) for name in self.key))
        return (self.kind, self.block_number, self.log_index)


class SettingRecord(Record):
    kind: Literal["setting"] = "setting"
    name: str = Field(
        description="voting_delay, voting_period, proposal_threshold, quorum_numerator, timelock_delay, guardian "
        "(an address as a number; 0: none), reciprocal_window, score_rule, vouches_required, vouch_cap, "
        "vouch_period, invitation_lifetime, removals (removals by governance so far)"
    )
    value: str = Field(description="Its value, in decimal")
    key: ClassVar[tuple[str, ...]] = ("name",)

    def named(self) -> str:
        return _("the setting %(name)s", name=self.name)


class MemberRecord(Record):
    kind: Literal["member"] = "member"
    address: str
    active: bool
    admitted_at: int
    removed_at: int | None
    delegate: str | None
    votes: int
    profile_hidden: bool
    name: str | None
    name_raw: str | None
    key: ClassVar[tuple[str, ...]] = ("address",)

    def named(self) -> str:
        return _("the member %(address)s", address=self.address)


class LinkedAccountRecord(Record):
    kind: Literal["linked_account"] = "linked_account"
    address: str
    site: str
    handle: str = Field(description="Empty once unlinked")
    handle_raw: str | None
    key: ClassVar[tuple[str, ...]] = ("address", "site")

    def named(self) -> str:
        return _("the %(site)s account of %(address)s", site=self.site, address=self.address)


class InvitationRecord(Record):
    kind: Literal["invitation"] = "invitation"
    address: str = Field(description="The address the invitation's secret controls")
    inviter: str
    name: str
    name_raw: str | None
    created_at: int
    expires_at: int
    withdrawn_at: int | None
    account: str | None = Field(description="The account that accepted it")
    accepted_at: int | None
    key: ClassVar[tuple[str, ...]] = ("address",)

    def named(self) -> str:
        return _("the invitation %(address)s", address=self.address)


class VouchRecord(Record):
    kind: Literal["vouch"] = "vouch"
    candidate: str
    voucher: str
    epoch: int = Field(description="Removals by governance before it (a later one voids it)")
    vouches: int = Field(description="The candidate's vouches after this one")
    timestamp: int
    key: ClassVar[tuple[str, ...]] = ("candidate", "voucher", "epoch")

    def named(self) -> str:
        return _("the vouch of %(voucher)s for %(candidate)s", voucher=self.voucher, candidate=self.candidate)


class IndicatorRecord(Record):
    kind: Literal["indicator"] = "indicator"
    indicator_id: int
    version: int = Field(description="Its current version (every version is an indicator_version)")
    active: bool
    created_at: int
    retired_at: int | None
    key: ClassVar[tuple[str, ...]] = ("indicator_id",)

    def named(self) -> str:
        return _("indicator %(id)s", id=self.indicator_id)


class IndicatorVersionRecord(Record):
    kind: Literal["indicator_version"] = "indicator_version"
    indicator_id: int
    version: int
    name: str
    description_uri: str
    category: str
    name_raw: str | None
    description_uri_raw: str | None
    category_raw: str | None
    orientation: str
    weight: int
    endorsements_required: int
    validity: int = Field(description="How long its badges count, in seconds (0: for ever)")
    endorser_indicator_id: int
    earn_cap: int
    attest_cap: int
    cap_period: int
    defined_at: int
    key: ClassVar[tuple[str, ...]] = ("indicator_id", "version")

    def named(self) -> str:
        return _("version %(version)s of indicator %(id)s", version=self.version, id=self.indicator_id)


class OrganisationRecord(Record):
    kind: Literal["organisation"] = "organisation"
    organisation_id: int
    name: str
    name_raw: str | None
    identifier: str
    identifier_raw: str | None
    active: bool
    added_at: int
    retired_at: int | None
    key: ClassVar[tuple[str, ...]] = ("organisation_id",)

    def named(self) -> str:
        return _("organisation %(id)s", id=self.organisation_id)


class CaptureRulesRecord(Record):
    kind: Literal["capture_rules"] = "capture_rules"
    digest: str
    rules: str
    rules_raw: str | None
    set_at: int

    def identity(self) -> tuple[Any, ...]:
        return (self.kind,)  # one document per community

    def named(self) -> str:
        return _("the capture rules")


class ProposalRecord(Record):
    kind: Literal["proposal"] = "proposal"
    proposal_id: str = Field(description="A uint256, in decimal")
    proposer: str
    targets: list[str]
    values: list[str]
    calldatas: list[str]
    description: str
    description_raw: str | None
    vote_start: int
    vote_end: int
    created_at: int
    for_votes: int
    against_votes: int
    abstain_votes: int
    queued_at: int | None
    eta: int | None = Field(description="When the timelock lets it run")
    timelock_id: str | None = Field(description="Its operation's id in the timelock, once queued")
    executed_at: int | None
    canceled_at: int | None
    canceled_by: str | None
    key: ClassVar[tuple[str, ...]] = ("proposal_id",)

    def named(self) -> str:
        return _("proposal %(id)s", id=self.proposal_id)


class VoteRecord(Record):
    kind: Literal["vote"] = "vote"
    proposal_id: str
    voter: str
    support: int = Field(description="0 against, 1 for, 2 abstain")
    weight: int
    reason: str
    reason_raw: str | None
    timestamp: int
    key: ClassVar[tuple[str, ...]] = ("proposal_id", "voter")

    def named(self) -> str:
        return _("the vote of %(voter)s on proposal %(id)s", voter=self.voter, id=self.proposal_id)


class ClaimRecord(Record):
    kind: Literal["claim"] = "claim"
    claim_id: int
    contributor: str
    submitter: str
    indicator_id: int
    indicator_version: int
    evidence_hash: str
    evidence_uri: str
    evidence_uri_raw: str | None
    attestations: int
    minted: bool
    nomination_state: str | None
    answered_at: int | None
    organisation_id: int | None
    created_at: int
    key: ClassVar[tuple[str, ...]] = ("claim_id",)

    def named(self) -> str:
        return _("claim %(id)s", id=self.claim_id)


class AttestationRecord(Record):
    kind: Literal["attestation"] = "attestation"
    claim_id: int
    attester: str
    count: int = Field(description="The claim's attestations after this one")
    timestamp: int
    key: ClassVar[tuple[str, ...]] = ("claim_id", "attester")

    def named(self) -> str:
        return _("the attestation of %(attester)s on claim %(id)s", attester=self.attester, id=self.claim_id)


class BadgeRecord(Record):
    kind: Literal["badge"] = "badge"
    token_id: int
    owner: str
    contributor: str
    indicator_id: int
    indicator_version: int
    weight: int
    validity: int
    orientation: str
    category: str
    organisation_id: int | None
    minted_at: int
    holding: int = Field(description="Governed moves to another holder so far")
    held_since: int
    revoked_at: int | None
    revoke_reason: str | None
    revoke_reason_raw: str | None
    disowned_at: int | None
    key: ClassVar[tuple[str, ...]] = ("token_id",)

    def named(self) -> str:
        return _("badge %(id)s", id=self.token_id)


class CheckpointRecord(Record):
    kind: Literal["checkpoint"] = "checkpoint"
    name: str = Field(description="members (how many there were) or quorum_numerator")
    value: int
    timestamp: int
    key: ClassVar[tuple[str, ...]] = ("name",)

    def identity(self) -> tuple[Any, ...]:
        return (self.kind, self.name, self.block_number, self.log_index)

    def named(self) -> str:
        return _(
            "the %(name)s checkpoint at block %(block)s, log %(log)s",
            name=self.name,
            block=self.block_number,
            log=self.log_index,
        )


class ChainEventRecord(Record):
    kind: Literal["event"] = "event"
    contract: str = Field(description="The contract's role: membership, governor, timelock, registry, badge, ...")
    name: str
    args: dict[str, Any] = Field(
        description="By name, as the ABI declares them; integers past 2^53 in decimal text; text readable, with "
        "`<name>_raw` (0x hex of the exact bytes) beside any text that had to be altered"
    )
    timestamp: int

    def named(self) -> str:
        return _(
            "the event %(name)s at block %(block)s, log %(log)s",
            name=self.name,
            block=self.block_number,
            log=self.log_index,
        )


class SetAsideRecord(Record):
    kind: Literal["set_aside"] = "set_aside"
    contract: str
    name: str
    topics: list[str]
    data: str = Field(description="The log's data, 0x hex, as the node gave it")
    timestamp: int

    def named(self) -> str:
        return _(
            "the event set aside at block %(block)s, log %(log)s",
            block=self.block_number,
            log=self.log_index,
        )


# In the archive's order. Settings, people and rules first, then governance, then contributions,
# then the chain's own record of all of it.
KINDS: tuple[type[Record], ...] = (
    SettingRecord,
    MemberRecord,
    LinkedAccountRecord,
    InvitationRecord,
    VouchRecord,
    IndicatorRecord,
    IndicatorVersionRecord,
    OrganisationRecord,
    CaptureRulesRecord,
    ProposalRecord,
    VoteRecord,
    ClaimRecord,
    AttestationRecord,
    BadgeRecord,
    CheckpointRecord,
    ChainEventRecord,
    SetAsideRecord,
)
BY_KIND: dict[str, type[Record]] = {model.model_fields["kind"].default: model for model in KINDS}

ArchiveLine = Annotated[
    ArchiveHeader
    | SettingRecord
    | MemberRecord
    | LinkedAccountRecord
    | InvitationRecord
    | VouchRecord
    | IndicatorRecord
    | IndicatorVersionRecord
    | OrganisationRecord
    | CaptureRulesRecord
    | ProposalRecord
    | VoteRecord
    | ClaimRecord
    | AttestationRecord
    | BadgeRecord
    | CheckpointRecord
    | ChainEventRecord
    | SetAsideRecord
    | ArchiveEnd,
    Field(discriminator="kind"),
]
"""One line of an archive: the header, a record, or the end."""


def order_key(record: Record) -> tuple[Any, ...]:
    """Where a record stands in an archive: its kind's place, then chain order, then its key."""
    kind = KINDS.index(type(record))
    return (kind, record.block_number, record.log_index, *(getattr(record, name) for name in record.key))
