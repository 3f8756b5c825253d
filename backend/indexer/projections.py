"""How each event changes the read tables. One function per event, applied in log order within
the transaction that also advances the cursor.

Text arguments arrive as readable text (backend.chain.abi decodes every string leniently); a
string whose text had to be altered also arrives as `<name>_raw`, the 0x hex of its exact
bytes, which the projection keeps in the `*_raw` column beside the text. A projection of a new
string should do the same. A projection that raises gets its event set aside (see follower)."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, insert, inspect, select, update
from sqlalchemy.orm import Session

from backend.indexer.models import (
    Attestation,
    Badge,
    CaptureRulesDocument,
    Checkpoint,
    Claim,
    Indicator,
    IndicatorVersion,
    Invitation,
    LinkedAccount,
    Member,
    Organisation,
    Proposal,
    RecordsMoveRow,
    RowCount,
    Setting,
    Vote,
    Vouch,
)
from backend.vocabulary import ORIENTATIONS, SITES, word_for

ZERO = "0x0000000000000000000000000000000000000000"


@dataclass(frozen=True)
class Log:
    community: str
    contract: str
    name: str
    args: dict[str, Any]
    block_number: int
    log_index: int
    timestamp: int
    tx_hash: str


def origin(log: Log) -> dict[str, Any]:
    """The columns that tie a row to the event that made it (backend.indexer.models.Origin)."""
    return {"block_number": log.block_number, "log_index": log.log_index, "tx_hash": log.tx_hash}


def _replaced(row: Any, log: Log) -> None:
    """A row replaced whole by a later event: it is now that event's."""
    row.block_number, row.log_index, row.tx_hash = log.block_number, log.log_index, log.tx_hash


Handler = Callable[[Session, Log], None]
# Proposals cancelled in a transaction whose forwarder event is still to come, by transaction.
_CANCELLED_IN = "projection_cancelled_in"
# Timelock operations scheduled in a transaction whose ProposalQueued is still to come.
_SCHEDULED_IN = "projection_scheduled_in"
_CACHE = "projection_rows"
_NEW = "projection_new_rows"


def _get(session: Session, model: type, key: tuple) -> Any:
    """session.get, remembering every row found or added during this transaction: a backfill
    touches the same claims and members again and again, and each miss of the session's
    identity map is a SELECT that first flushes everything pending (half of a backfill's time)."""
    rows = session.info.setdefault(_CACHE, {})
    row = rows.get((model, key))
    if row is None:
        row = session.get(model, key)
        if row is not None:
            rows[(model, key)] = row
    return row


@functools.cache
def _key_names(model: type) -> tuple[str, ...]:
    mapper: Any = inspect(model)
    return tuple(str(column.key) for column in mapper.primary_key)


class NewRow(SimpleNamespace):
    """A row added while applying a page: its values (every column, defaults filled in), read and
    changed by the projections as an ORM object would be, and inserted with the page's other new
    rows of its table in one statement (insert_new_rows). An ORM object per row, its every
    attribute set tracked and the flush sorted, was most of a backfill's time."""


@functools.cache
def _defaults(model: type) -> dict[str, Any]:
    return {
        column.key: column.default.arg if column.default is not None and column.default.is_scalar else None
        for column in model.__table__.columns  # type: ignore[attr-defined]  # a declarative model
    }


def _add(session: Session, model: type, **values: Any) -> None:
    """A new row of `model`. Only for tables the projections read by key (_get): a query of the
    table would not see the rows waiting to be inserted."""
    row = NewRow(**{**_defaults(model), **values})
    session.info.setdefault(_NEW, {}).setdefault(model, []).append(row)
    key = tuple(values[name] for name in _key_names(model))
    session.info.setdefault(_CACHE, {})[(model, key)] = row


# Tables whose rows a community's listing counts (RowCount).
COUNTED = (Claim, Badge)
_MORE = (
    update(RowCount)
    .where(RowCount.community == bindparam("c"), RowCount.table_name == bindparam("t"))
    .values(value=RowCount.value + bindparam("n"))
)


def insert_new_rows(session: Session) -> None:
    """The rows added while applying, one multi-row insert per table, in the transaction of the
    page (a row the database refuses fails the page, as a refused flush did); and the counts of
    the COUNTED tables moved by as many."""
    connection = session.connection()
    for model, rows in session.info.pop(_NEW, {}).items():
        connection.execute(model.__table__.insert(), [vars(row) for row in rows])
        if model in COUNTED:
            for community, added in Counter(row.community for row in rows).items():
                _count_more(connection, community, model.__tablename__, added)


def _count_more(connection, community: str, table: str, added: int) -> None:
    params = {"c": community, "t": table, "n": added}
    if connection.execute(_MORE, params).rowcount == 0:
        connection.execute(insert(RowCount).values(community=community, table_name=table, value=added))


HANDLERS: dict[tuple[str, str], Handler] = {}


def on(contract: str, name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[(contract, name)] = fn
        return fn

    return register


def apply(session: Session, log: Log) -> None:
    handler = HANDLERS.get((log.contract, log.name))
    if handler is not None:
        handler(session, log)


def _checkpoint(session: Session, log: Log, name: str, value: int) -> None:
    session.add(
        Checkpoint(
            community=log.community,
            name=name,
            block_number=log.block_number,
            log_index=log.log_index,
            timestamp=log.timestamp,
            value=value,
            tx_hash=log.tx_hash,
        )
    )


def _setting(session: Session, log: Log, name: str, value: int) -> None:
    session.merge(Setting(community=log.community, name=name, value=str(value), **origin(log)))


def latest_checkpoint(session: Session, community: str, name: str, at: int | None = None) -> int:
    query = select(Checkpoint.value).where(Checkpoint.community == community, Checkpoint.name == name)
    if at is not None:
        query = query.where(Checkpoint.timestamp <= at)
    query = query.order_by(Checkpoint.block_number.desc(), Checkpoint.log_index.desc()).limit(1)
    return session.scalar(query) or 0


# ---------------------------------------------------------------------- membership


@on("membership", "Transfer")
def _membership_transfer(session: Session, log: Log) -> None:
    # Total supply over time is what the quorum is a fraction of.
    supply = latest_checkpoint(session, log.community, "members")
    if log.args["from"] == ZERO:
        _checkpoint(session, log, "members", supply + 1)
        # The mint comes before its DelegateChanged/DelegateVotesChanged and MemberAdmitted events,
        # so the member exists by the time their self-delegation is applied.
        _admit(session, log, log.args["to"])
    elif log.args["to"] == ZERO:
        _checkpoint(session, log, "members", supply - 1)
        member = _get(session, Member, (log.community, log.args["from"]))
        if member is not None:  # a burn: removal or recovery to a new address
            member.active, member.removed_at = False, log.timestamp


def _admit(session: Session, log: Log, account: str) -> None:
    member = _get(session, Member, (log.community, account))
    if member is None:
        _add(
            session,
            Member,
            community=log.community,
            address=account,
            active=True,
            admitted_at=log.timestamp,
            removed_at=None,
            votes=0,
            profile_hidden=False,
            **origin(log),
        )
    else:  # readmitted after a removal
        member.active, member.admitted_at, member.removed_at = True, log.timestamp, None
        _replaced(member, log)


@on("membership", "DelegateChanged")
def _delegate_changed(session: Session, log: Log) -> None:
    member = _get(session, Member, (log.community, log.args["delegator"]))
    if member is not None:
        member.delegate = log.args["toDelegate"]


@on("membership", "DelegateVotesChanged")
def _votes_changed(session: Session, log: Log) -> None:
    member = _get(session, Member, (log.community, log.args["delegate"]))
    if member is not None:
        member.votes = log.args["newVotes"]


@on("membership", "MemberRemoved")
def _removed(session: Session, log: Log) -> None:
    # A removal by governance voids the vouches in progress (Admissions' epoch).
    _setting(session, log, "removals", _setting_value(session, log.community, "removals") + 1)


# ---------------------------------------------------------------------- names and admission


def _setting_value(session: Session, community: str, name: str) -> int:
    row = session.get(Setting, (community, name))
    return int(row.value) if row is not None else 0


@on("membership", "NameSet")
def _name_set(session: Session, log: Log) -> None:
    member = _get(session, Member, (log.community, log.args["member"]))
    if member is not None:
        member.name = log.args["name"] or None
        member.name_raw = log.args.get("name_raw")


def _ascii_folded(text: str) -> str:
    return "".join(c.lower() if "A" <= c <= "Z" else c for c in text)


@on("membership", "AccountLinked")
def _account_linked(session: Session, log: Log) -> None:
    a = log.args
    site = word_for(("", *SITES), a["site"])
    row = _get(session, LinkedAccount, (log.community, a["member"], site))
    # An unlinked account keeps its row with an empty handle: rows added in this page are not
    # in the database yet to be deleted.
    values = {"handle": a["handle"], "handle_raw": a.get("handle_raw"), "handle_folded": _ascii_folded(a["handle"])}
    if row is None:
        _add(session, LinkedAccount, community=log.community, address=a["member"], site=site, **values, **origin(log))
    else:
        for name, value in values.items():
            setattr(row, name, value)
        _replaced(row, log)


# AdmissionRulesChanged's arguments -> the names of their settings.
ADMISSION_SETTINGS = {
    "vouchesRequired": "vouches_required",
    "vouchCap": "vouch_cap",
    "vouchPeriod": "vouch_period",
    "invitationLifetime": "invitation_lifetime",
}


@on("membership", "AdmissionRulesChanged")
def _admission_rules(session: Session, log: Log) -> None:
    for arg, name in ADMISSION_SETTINGS.items():
        _setting(session, log, name, log.args[arg])


@on("membership", "Vouched")
def _vouched(session: Session, log: Log) -> None:
    a = log.args
    _add(
        session,
        Vouch,
        community=log.community,
        candidate=a["candidate"],
        voucher=a["voucher"],
        epoch=_setting_value(session, log.community, "removals"),
        vouches=a["vouches"],
        timestamp=log.timestamp,
        **origin(log),
    )


@on("membership", "InvitationCreated")
def _invitation_created(session: Session, log: Log) -> None:
    a = log.args
    _add(
        session,
        Invitation,
        community=log.community,
        address=a["invitation"],
        inviter=a["inviter"],
        name=a["name"],
        name_raw=a.get("name_raw"),
        created_at=log.timestamp,
        expires_at=a["expiresAt"],
        **origin(log),
    )


@on("membership", "InvitationWithdrawn")
def _invitation_withdrawn(session: Session, log: Log) -> None:
    invitation = _get(session, Invitation, (log.community, log.args["invitation"]))
    if invitation is not None:
        invitation.withdrawn_at = log.timestamp


@on("membership", "InvitationAccepted")
def _invitation_accepted(session: Session, log: Log) -> None:
    invitation = _get(session, Invitation, (log.community, log.args["invitation"]))
    if invitation is not None:
        invitation.account, invitation.accepted_at = log.args["account"], log.timestamp


# ---------------------------------------------------------------------- governor


@on("governor", "VotingDelaySet")
def _voting_delay(session: Session, log: Log) -> None:
    _setting(session, log, "voting_delay", log.args["newVotingDelay"])


@on("governor", "VotingPeriodSet")
def _voting_period(session: Session, log: Log) -> None:
    _setting(session, log, "voting_period", log.args["newVotingPeriod"])


@on("governor", "ProposalThresholdSet")
def _threshold(session: Session, log: Log) -> None:
    _setting(session, log, "proposal_threshold", log.args["newProposalThreshold"])


@on("governor", "QuorumNumeratorUpdated")
def _quorum(session: Session, log: Log) -> None:
    _setting(session, log, "quorum_numerator", log.args["newQuorumNumerator"])
    _checkpoint(session, log, "quorum_numerator", log.args["newQuorumNumerator"])


@on("governor", "ProposalCreated")
def _proposal_created(session: Session, log: Log) -> None:
    a = log.args
    _add(
        session,
        Proposal,
        community=log.community,
        proposal_id=str(a["proposalId"]),
        proposer=a["proposer"],
        targets=a["targets"],
        values=[str(v) for v in a["values"]],
        calldatas=a["calldatas"],
        description=a["description"],
        description_raw=a.get("description_raw"),
        vote_start=a["voteStart"],
        vote_end=a["voteEnd"],
        created_at=log.timestamp,
        created_block=log.block_number,
        log_index=log.log_index,
        tx_hash=log.tx_hash,
        for_votes=0,
        against_votes=0,
        abstain_votes=0,
    )


def _count_vote(session: Session, log: Log) -> None:
    a = log.args
    proposal = _get(session, Proposal, (log.community, str(a["proposalId"])))
    if proposal is None:
        return
    field = {0: "against_votes", 1: "for_votes", 2: "abstain_votes"}[a["support"]]
    setattr(proposal, field, getattr(proposal, field) + a["weight"])
    _add(
        session,
        Vote,
        community=log.community,
        proposal_id=str(a["proposalId"]),
        voter=a["voter"],
        support=a["support"],
        weight=a["weight"],
        reason=a["reason"],
        reason_raw=a.get("reason_raw"),
        timestamp=log.timestamp,
        block_number=log.block_number,
        log_index=log.log_index,
        tx_hash=log.tx_hash,
    )


on("governor", "VoteCast")(_count_vote)
on("governor", "VoteCastWithParams")(_count_vote)


@on("governor", "ProposalExecuted")
def _executed(session: Session, log: Log) -> None:
    proposal = _get(session, Proposal, (log.community, str(log.args["proposalId"])))
    if proposal is not None:
        proposal.executed_at = log.timestamp


@on("governor", "ProposalCanceled")
def _canceled(session: Session, log: Log) -> None:
    proposal = _get(session, Proposal, (log.community, str(log.args["proposalId"])))
    if proposal is not None:
        proposal.canceled_at = log.timestamp
        # Who cancelled is not in the event: a relayed cancellation names its signer in the
        # forwarder's event, later in the same transaction (_forwarded).
        session.info.setdefault(_CANCELLED_IN, {})[log.tx_hash] = proposal


@on("forwarder", "ExecutedForwardRequest")
def _forwarded(session: Session, log: Log) -> None:
    proposal = session.info.get(_CANCELLED_IN, {}).pop(log.tx_hash, None)
    if proposal is not None and log.args["success"]:
        proposal.canceled_by = log.args["signer"]


@on("governor", "ProposalQueued")
def _queued(session: Session, log: Log) -> None:
    """A passed proposal waits in the timelock until `etaSeconds` (then anyone may execute it)."""
    proposal = _get(session, Proposal, (log.community, str(log.args["proposalId"])))
    if proposal is not None:
        proposal.queued_at, proposal.eta = log.timestamp, log.args["etaSeconds"]
        # Its operation in the timelock, scheduled earlier in the same transaction (_scheduled).
        proposal.timelock_id = session.info.get(_SCHEDULED_IN, {}).pop(log.tx_hash, None)


@on("timelock", "CallScheduled")
def _scheduled(session: Session, log: Log) -> None:
    session.info.setdefault(_SCHEDULED_IN, {})[log.tx_hash] = log.args["id"]


@on("timelock", "CallExecuted")
def _executed_by_the_timelock(session: Session, log: Log) -> None:
    """Anyone may carry out a ready operation straight through the timelock (executeBatch), past the
    governor: it then emits no ProposalExecuted, but the operation ran, and the proposal with it."""
    proposal = session.scalar(
        select(Proposal).where(
            Proposal.community == log.community,
            Proposal.timelock_id == log.args["id"],
            Proposal.executed_at.is_(None),
        )
    )
    if proposal is not None:
        proposal.executed_at = log.timestamp


@on("governor", "ProposalGuardianSet")
def _guardian(session: Session, log: Log) -> None:
    """The guardian, kept as a number like every setting (0: none); reads turn it into an address."""
    _setting(session, log, "guardian", int(log.args["newProposalGuardian"], 16))


# ---------------------------------------------------------------------- timelock


@on("timelock", "MinDelayChange")
def _timelock_delay(session: Session, log: Log) -> None:
    _setting(session, log, "timelock_delay", log.args["newDuration"])


# ---------------------------------------------------------------------- registry


@on("registry", "IndicatorDefined")
def _indicator_defined(session: Session, log: Log) -> None:
    a = log.args
    _add(
        session,
        IndicatorVersion,
        community=log.community,
        indicator_id=a["indicatorId"],
        version=a["version"],
        name=a["name"],
        description_uri=a["descriptionURI"],
        category=a["category"],
        name_raw=a.get("name_raw"),
        description_uri_raw=a.get("descriptionURI_raw"),
        category_raw=a.get("category_raw"),
        orientation=ORIENTATIONS[a["orientation"]],
        weight=a["weight"],
        endorsements_required=a["endorsementsRequired"],
        validity=a["validity"],
        defined_at=log.timestamp,
        **origin(log),
    )
    indicator = _get(session, Indicator, (log.community, a["indicatorId"]))
    if indicator is None:
        _add(
            session,
            Indicator,
            community=log.community,
            indicator_id=a["indicatorId"],
            version=a["version"],
            active=True,
            created_at=log.timestamp,
            **origin(log),
        )
    else:
        indicator.version = a["version"]


@on("registry", "IndicatorRulesDefined")
def _indicator_rules(session: Session, log: Log) -> None:
    a = log.args
    version = _get(session, IndicatorVersion, (log.community, a["indicatorId"], a["version"]))
    if version is not None:
        version.endorser_indicator_id, version.earn_cap = a["endorserIndicatorId"], a["earnCap"]
        version.attest_cap, version.cap_period = a["attestCap"], a["capPeriod"]


@on("registry", "CommunityRulesSet")
def _community_rules(session: Session, log: Log) -> None:
    _setting(session, log, "reciprocal_window", log.args["reciprocalWindow"])
    _setting(session, log, "score_rule", log.args["scoreRule"])


@on("registry", "CaptureRulesSet")
def _capture_rules(session: Session, log: Log) -> None:
    # The latest document replaces the one before; the service reads and checks it (backend/capture).
    a = log.args
    session.merge(
        CaptureRulesDocument(
            community=log.community,
            digest=a["digest"],
            rules=a["rules"],
            rules_raw=a.get("rules_raw"),
            set_at=log.timestamp,
            **origin(log),
        )
    )


@on("registry", "OrganisationAdded")
def _organisation_added(session: Session, log: Log) -> None:
    a = log.args
    _add(
        session,
        Organisation,
        community=log.community,
        organisation_id=a["organisationId"],
        name=a["name"],
        name_raw=a.get("name_raw"),
        identifier=a["identifier"],
        identifier_raw=a.get("identifier_raw"),
        active=True,
        added_at=log.timestamp,
        **origin(log),
    )


@on("registry", "OrganisationRetired")
def _organisation_retired(session: Session, log: Log) -> None:
    organisation = _get(session, Organisation, (log.community, log.args["organisationId"]))
    if organisation is not None:
        organisation.active, organisation.retired_at = False, log.timestamp


@on("registry", "IndicatorRetired")
def _indicator_retired(session: Session, log: Log) -> None:
    indicator = _get(session, Indicator, (log.community, log.args["indicatorId"]))
    if indicator is not None:
        indicator.active, indicator.retired_at = False, log.timestamp


@on("registry", "RecordsMoved")
def _records_moved(session: Session, log: Log) -> None:
    # Read by query (the carry's events, the processes' refresh), so added and flushed at once.
    session.add(
        RecordsMoveRow(
            community=log.community,
            to_address=log.args["to"],
            from_address=log.args["from"],
            claim_count=log.args["claimCount"],
            carried=0,
            timestamp=log.timestamp,
            **origin(log),
        )
    )
    session.flush()


# ---------------------------------------------------------------------- badges


@on("badge", "ClaimSubmitted")
def _claim(session: Session, log: Log) -> None:
    a = log.args
    _add(
        session,
        Claim,
        community=log.community,
        claim_id=a["claimId"],
        contributor=a["contributor"],
        submitter=a["submitter"],
        indicator_id=a["indicatorId"],
        indicator_version=a["indicatorVersion"],
        evidence_hash=a["evidenceHash"],
        evidence_uri=a["evidenceURI"],
        evidence_uri_raw=a.get("evidenceURI_raw"),
        attestations=0,
        minted=False,
        nomination_state="pending" if a["submitter"] != a["contributor"] else None,
        created_at=log.timestamp,
        **origin(log),
    )


def _answered(session: Session, log: Log, state: str) -> None:
    claim = _get(session, Claim, (log.community, log.args["claimId"]))
    if claim is not None:
        claim.nomination_state, claim.answered_at = state, log.timestamp


@on("badge", "NominationAccepted")
def _accepted(session: Session, log: Log) -> None:
    _answered(session, log, "accepted")


@on("badge", "NomineeJoined")
def _nominee_joined(session: Session, log: Log) -> None:
    # A nomination made to an invitation is now the account's that accepted the invitation.
    claim = _get(session, Claim, (log.community, log.args["claimId"]))
    if claim is not None:
        claim.contributor = log.args["account"]


@on("badge", "NominationDeclined")
def _declined(session: Session, log: Log) -> None:
    _answered(session, log, "declined")


@on("badge", "ClaimCredited")
def _credited(session: Session, log: Log) -> None:
    claim = _get(session, Claim, (log.community, log.args["claimId"]))
    if claim is not None:
        claim.organisation_id = log.args["organisationId"]


@on("badge", "Attested")
def _attested(session: Session, log: Log) -> None:
    a = log.args
    _add(
        session,
        Attestation,
        community=log.community,
        claim_id=a["claimId"],
        attester=a["attester"],
        count=a["attestations"],
        timestamp=log.timestamp,
        **origin(log),
    )
    claim = _get(session, Claim, (log.community, a["claimId"]))
    if claim is not None:
        claim.attestations = a["attestations"]


@on("badge", "BadgeMinted")
def _minted(session: Session, log: Log) -> None:
    a = log.args
    claim = _get(session, Claim, (log.community, a["tokenId"]))
    terms = _get(session, IndicatorVersion, (log.community, claim.indicator_id, claim.indicator_version))
    claim.minted = True
    _add(
        session,
        Badge,
        community=log.community,
        token_id=a["tokenId"],
        owner=a["contributor"],
        contributor=a["contributor"],
        indicator_id=a["indicatorId"],
        indicator_version=claim.indicator_version,
        weight=a["weight"],
        validity=terms.validity,
        orientation=terms.orientation,
        category=terms.category,
        organisation_id=claim.organisation_id,
        minted_at=log.timestamp,
        held_since=log.timestamp,
        **origin(log),
    )


@on("badge", "Transfer")
def _badge_transfer(session: Session, log: Log) -> None:
    # Mints are recorded by BadgeMinted; other transfers are governed recoveries: a new holding,
    # whose credential is a new one (the lost key's is revoked by the status list).
    if log.args["from"] == ZERO:
        return
    badge = _get(session, Badge, (log.community, log.args["tokenId"]))
    if badge is not None:
        badge.owner = log.args["to"]
        badge.holding += 1
        badge.held_since = log.timestamp


@on("badge", "BadgeRevoked")
def _revoked(session: Session, log: Log) -> None:
    badge = _get(session, Badge, (log.community, log.args["tokenId"]))
    if badge is not None:
        badge.revoked_at, badge.revoke_reason = log.timestamp, log.args["reason"]
        badge.revoke_reason_raw = log.args.get("reason_raw")


@on("badge", "BadgeDisowned")
def _disowned(session: Session, log: Log) -> None:
    badge = _get(session, Badge, (log.community, log.args["tokenId"]))
    if badge is not None:
        badge.disowned_at = log.timestamp


@on("badge", "ProfileVisibilityChanged")
def _profile_visibility(session: Session, log: Log) -> None:
    member = _get(session, Member, (log.community, log.args["member"]))
    if member is not None:
        member.profile_hidden = bool(log.args["hidden"])


@on("badge", "RecordsCarried")
def _records_carried(session: Session, log: Log) -> None:
    # Only the version the records were last moved to carries them: the community's latest move.
    move = session.scalars(
        select(RecordsMoveRow)
        .where(RecordsMoveRow.community == log.community)
        .order_by(RecordsMoveRow.block_number.desc(), RecordsMoveRow.log_index.desc())
        .limit(1)
    ).first()
    if move is not None:
        move.carried = max(move.carried, log.args["lastClaimId"])
