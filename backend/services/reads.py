"""Reads served from the index."""

from __future__ import annotations

import base64
import binascii
import functools
import json
import time
from collections import namedtuple
from typing import Any, NamedTuple

from sqlalchemy import Select, and_, bindparam, case, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import UnaryExpression

from backend.chain.abi import readable_text
from backend.chain.addresses import checksum
from backend.chain.deployments import Community
from backend.context import Context
from backend.errors import DomainError, InvalidRequest, NotFound
from backend.indexer.models import (
    Attestation,
    Badge,
    Claim,
    Cursor,
    EventRecord,
    Indicator,
    IndicatorVersion,
    Member,
    Organisation,
    Proposal,
    RowCount,
    SetAside,
    Setting,
    Vote,
)
from backend.indexer.projections import COUNTED, latest_checkpoint
from backend.relay import rules as request_rules
from backend.services import profiles
from backend.services.proposals import describe_call
from backend.vocabulary import (
    INDEX_ID_MAX,
    INDEXED_INDICATOR_MAX,
    ORIENTATIONS,
    SCORE_RULES,
    SUPPORTS,
    word_for,
)


def _address(value: str) -> str:
    try:
        return checksum(value)
    except ValueError as exc:
        raise InvalidRequest(f"'{value}' is not an address") from exc


def index_time(session: Session, community: Community) -> int:
    """The index's notion of now: the last indexed block's time, or the wall clock if later."""
    cursor = session.get(Cursor, community.slug)
    return max(int(time.time()), cursor.block_timestamp if cursor else 0)


def _page(session: Session, query, limit: int, offset: int) -> tuple[list, int]:
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return list(session.scalars(query.limit(limit).offset(offset))), total


# ---------------------------------------------------------------------- indicators


def _version_out(v: IndicatorVersion) -> dict[str, Any]:
    return {
        "version": v.version, "name": v.name, "description_uri": v.description_uri, "category": v.category,
        "name_raw": v.name_raw, "description_uri_raw": v.description_uri_raw, "category_raw": v.category_raw,
        "orientation": v.orientation, "weight": v.weight, "endorsements_required": v.endorsements_required,
        "validity_seconds": v.validity, "endorser_indicator_id": v.endorser_indicator_id or None,
        "earn_cap": v.earn_cap or None, "attest_cap": v.attest_cap or None, "cap_period_seconds": v.cap_period or None,
        "defined_at": v.defined_at, "tx_hash": v.tx_hash,
    }


def _executed_proposal(session: Session, community: str, tx_hash: str) -> str | None:
    """The proposal whose execution was transaction tx_hash, if it was one (governance changes
    happen only by executed proposals; a deployment's own founding transactions are not)."""
    args = session.scalar(select(EventRecord.args).where(
        EventRecord.community == community, EventRecord.tx_hash == tx_hash,
        EventRecord.name == "ProposalExecuted").limit(1))
    return str(args["proposalId"]) if args else None


def _indicator_out(session: Session, indicator: Indicator, history: bool) -> dict[str, Any]:
    current = session.get(IndicatorVersion, (indicator.community, indicator.indicator_id, indicator.version))
    out = {"id": indicator.indicator_id, "active": indicator.active, "created_at": indicator.created_at,
           "retired_at": indicator.retired_at, **_version_out(current)}
    if history:
        versions = session.scalars(select(IndicatorVersion).where(
            IndicatorVersion.community == indicator.community,
            IndicatorVersion.indicator_id == indicator.indicator_id).order_by(IndicatorVersion.version))
        out["versions"] = [{**_version_out(v), "proposal_id": _executed_proposal(session, v.community, v.tx_hash)}
                           for v in versions]
        if indicator.retired_at is not None:
            retired = session.execute(select(EventRecord.tx_hash, EventRecord.args).where(
                EventRecord.community == indicator.community, EventRecord.name == "IndicatorRetired",
                EventRecord.timestamp == indicator.retired_at)).all()
            retired_tx = next((tx for tx, args in retired if args.get("indicatorId") == indicator.indicator_id), None)
            out["retired_by_proposal_id"] = (_executed_proposal(session, indicator.community, retired_tx)
                                             if retired_tx else None)
    return out


def list_indicators(ctx: Context, community: Community, *, active: bool | None, limit: int, offset: int):
    with ctx.sessions() as session:
        query = select(Indicator).where(Indicator.community == community.slug).order_by(Indicator.indicator_id)
        if active is not None:
            query = query.where(Indicator.active == active)
        rows, total = _page(session, query, limit, offset)
        return [_indicator_out(session, r, False) for r in rows], total


def get_indicator(ctx: Context, community: Community, indicator_id: int) -> dict[str, Any]:
    with ctx.sessions() as session:
        indicator = session.get(Indicator, (community.slug, indicator_id)) if indicator_id <= INDEXED_INDICATOR_MAX else None
        if indicator is None:
            raise NotFound(f"No indicator {indicator_id} in community '{community.slug}'")
        return _indicator_out(session, indicator, True)


# ---------------------------------------------------------------------- proposals


def proposal_row(ctx: Context, community: Community, proposal_id: int) -> Proposal:
    with ctx.sessions() as session:
        row = session.get(Proposal, (community.slug, str(proposal_id)))
        if row is None:
            raise NotFound(f"No proposal {proposal_id} in community '{community.slug}'",
                           error="GovernorNonexistentProposal")
        return row


def _clock(ctx: Context, session: Session, community: Community) -> int:
    """Proposal states depend on time: the chain's own clock when the node answers."""
    try:
        return ctx.gateway.clock()
    except DomainError:
        return index_time(session, community)


def _proposal_out(ctx: Context, session: Session, community: Community, p: Proposal, votes: bool,
                  now: int) -> dict[str, Any]:
    members = latest_checkpoint(session, community.slug, "members", p.vote_start)
    numerator = latest_checkpoint(session, community.slug, "quorum_numerator", p.vote_start)
    quorum = members * numerator // 100
    quorum_reached = quorum <= p.for_votes + p.abstain_votes
    # Governor.state(), derived the same way from stored times and tallies.
    if p.executed_at is not None:
        state = "executed"
    elif p.canceled_at is not None:
        state = "canceled"
    elif p.vote_start >= now:
        state = "pending"
    elif p.vote_end >= now:
        state = "active"
    elif quorum_reached and p.for_votes > p.against_votes:
        state = "succeeded"
    else:
        state = "defeated"
    out = {
        "id": p.proposal_id, "proposer": p.proposer, "description": p.description,
        "description_raw": p.description_raw, "state": state,
        "vote_start": p.vote_start, "vote_end": p.vote_end, "created_at": p.created_at, "tx_hash": p.tx_hash,
        "tallies": {"for": p.for_votes, "against": p.against_votes, "abstain": p.abstain_votes},
        "quorum": quorum, "quorum_reached": quorum_reached, "executed_at": p.executed_at,
        "actions": [describe_call(ctx, community, t, c) for t, c in zip(p.targets, p.calldatas)],
    }
    if votes:
        rows = session.scalars(select(Vote).where(Vote.community == community.slug, Vote.proposal_id == p.proposal_id)
                               .order_by(Vote.block_number, Vote.log_index))
        out["votes"] = [{"voter": v.voter, "support": word_for(SUPPORTS, v.support), "weight": v.weight,
                         "reason": v.reason, "reason_raw": v.reason_raw, "timestamp": v.timestamp, "tx_hash": v.tx_hash} for v in rows]
    return out


def list_proposals(ctx: Context, community: Community, *, limit: int, offset: int):
    with ctx.sessions() as session:
        query = select(Proposal).where(Proposal.community == community.slug).order_by(
            Proposal.created_block.desc(), Proposal.proposal_id)
        rows, total = _page(session, query, limit, offset)
        now = _clock(ctx, session, community)
        return [_proposal_out(ctx, session, community, r, False, now) for r in rows], total


def get_proposal(ctx: Context, community: Community, proposal_id: int) -> dict[str, Any]:
    with ctx.sessions() as session:
        row = session.get(Proposal, (community.slug, str(proposal_id)))
        if row is None:
            raise NotFound(f"No proposal {proposal_id} in community '{community.slug}'",
                           error="GovernorNonexistentProposal")
        return _proposal_out(ctx, session, community, row, True, _clock(ctx, session, community))


# Settings the registry holds (projections._community_rules); the rest are the governor's.
_RULE_SETTINGS = ("reciprocal_window", "score_rule")


def governance_settings(ctx: Context, community: Community) -> dict[str, int]:
    with ctx.sessions() as session:
        rows = session.scalars(select(Setting).where(Setting.community == community.slug,
                                                     Setting.name.not_in(_RULE_SETTINGS)))
        return {r.name: int(r.value) for r in rows}


def _score_rule(session: Session, community: str) -> str:
    value = session.get(Setting, (community, "score_rule"))
    return _score_rule_of(value.value if value is not None else None)


def _score_rule_of(value: str | int | None) -> str:
    """The score rule a settings value names; linear when unset or out of range."""
    return SCORE_RULES[int(value)] if value is not None and int(value) < len(SCORE_RULES) else "linear"


def community_rules(ctx: Context, community: Community) -> dict[str, Any]:
    """The community-wide fair-play rules: the reciprocal-endorsement window and the score rule."""
    with ctx.sessions() as session:
        window = session.get(Setting, (community.slug, "reciprocal_window"))
        return {"reciprocal_window_seconds": int(window.value) if window else 0,
                "score_rule": _score_rule(session, community.slug)}


# ---------------------------------------------------------------------- members


def _member_out(m: Member) -> dict[str, Any]:
    return {"address": m.address, "active": m.active, "admitted_at": m.admitted_at, "removed_at": m.removed_at,
            "delegate": m.delegate, "votes": m.votes, "profile_hidden": bool(m.profile_hidden)}


def list_members(ctx: Context, community: Community, *, active: bool | None, limit: int, offset: int,
                 include_hidden: bool = False):
    """The public list of members: those who keep their profile hidden are left out, unless the
    community's own read asks for everyone (`include_hidden`: its member count, which names nobody)."""
    with ctx.sessions() as session:
        query = select(Member).where(Member.community == community.slug).order_by(Member.admitted_at, Member.address)
        if not include_hidden:
            query = query.where(Member.profile_hidden.is_(False))
        if active is not None:
            query = query.where(Member.active == active)
        rows, total = _page(session, query, limit, offset)
        return [_member_out(m) for m in rows], total


def get_member(ctx: Context, community: Community, address: str) -> dict[str, Any]:
    with ctx.sessions() as session:
        member = session.get(Member, (community.slug, _address(address)))
        if member is None:
            raise NotFound(f"{address} was never a member of community '{community.slug}'")
        return _member_out(member)


# ---------------------------------------------------------------------- claims and badges


_CLAIM_TERMS = select(IndicatorVersion.indicator_id, IndicatorVersion.version, IndicatorVersion.name,
                      IndicatorVersion.endorsements_required) \
    .where(IndicatorVersion.community == bindparam("community"),
           IndicatorVersion.indicator_id.in_(bindparam("indicators", expanding=True)))
_CLAIM_ATTESTERS = select(Attestation.claim_id, Attestation.attester) \
    .where(Attestation.community == bindparam("community"), Attestation.claim_id.in_(bindparam("ids", expanding=True))) \
    .order_by(Attestation.claim_id, Attestation.count)


# Claims are read as Core rows of the whole table and turned into named tuples: looking a Row's
# field up by name costs ten times reading a tuple's, and a page of 50 reads a thousand.
_ClaimRow = namedtuple("_ClaimRow", [column.key for column in Claim.__table__.columns])
_CLAIM = select(Claim.__table__).where(Claim.community == bindparam("community"),
                                       Claim.claim_id == bindparam("claim_id"))


def _claims_out(ctx: Context, session: Session, rows: list) -> list[dict[str, Any]]:
    """Claims (rows of the whole claims table) as the API shows them, with the terms they were
    filed under and their attesters: two statements for any number of claims (one per claim was
    52 statements for a page of 50), built once and run without the ORM."""
    if not rows:
        return []
    claims = [_ClaimRow._make(row) for row in rows]
    connection = session.connection()
    community = claims[0].community
    ids = [c.claim_id for c in claims]
    terms = {(v.indicator_id, v.version): v for v in connection.execute(
        _CLAIM_TERMS, {"community": community, "indicators": list({c.indicator_id for c in claims})})}
    attesters: dict[int, list[str]] = {claim_id: [] for claim_id in ids}
    for claim_id, attester in connection.execute(_CLAIM_ATTESTERS, {"community": community, "ids": ids}):
        attesters[claim_id].append(attester)
    return [_claim_out(ctx, c, terms.get((c.indicator_id, c.indicator_version)), attesters[c.claim_id])
            for c in claims]


def _claim_out(ctx: Context, c: Claim, terms: Any, attesters: list[str]) -> dict[str, Any]:
    return {
        "id": c.claim_id, "contributor": c.contributor, "submitter": c.submitter, "nomination": c.submitter != c.contributor,
        "indicator_id": c.indicator_id, "indicator_version": c.indicator_version,
        "indicator_name": terms.name if terms else None,
        "evidence_hash": c.evidence_hash, "evidence_uri": c.evidence_uri,
        "evidence_uri_raw": c.evidence_uri_raw,
        # Whatever a member put on chain directly: show it as a link only when this is true.
        "evidence_uri_safe": request_rules.uri_scheme_allowed(c.evidence_uri, ctx.settings.uri_schemes),
        "attestations": c.attestations,
        "endorsements_required": terms.endorsements_required if terms else None,
        "attesters": attesters, "nomination_state": c.nomination_state, "answered_at": c.answered_at,
        "organisation_id": c.organisation_id,
        "state": "minted" if c.minted else "declined" if c.nomination_state == "declined" else "open",
        "token_id": c.claim_id if c.minted else None, "created_at": c.created_at, "tx_hash": c.tx_hash,
    }


def _not_declined():
    return or_(Claim.nomination_state.is_(None), Claim.nomination_state != "declined")


@functools.cache
def _claims_listing(state: str | None, nomination_state: bool, indicator: bool, contributor: bool):
    """/claims' page and count for one combination of filters, built once (each value a bind
    parameter), as Core statements over the claims table."""
    where = [Claim.community == bindparam("community")]
    if state == "declined":
        where.append(Claim.nomination_state == "declined")
    elif state is not None:
        where += [Claim.minted == (state == "minted"), _not_declined()]
    if nomination_state:
        where.append(Claim.nomination_state == bindparam("nomination_state"))
    if indicator:
        where.append(Claim.indicator_id == bindparam("indicator_id"))
    if contributor:
        where.append(Claim.contributor == bindparam("contributor"))
    return _listing(Claim.__table__, where, Claim.claim_id)


class Listing(NamedTuple):
    page: Select
    page_after: Select
    count: Select
    cursor: str  # the column a page's `next_after` is read from


def _listing(table, where: list, order) -> Listing:
    """A listing's statements: a page of the table's rows by offset (limit and offset bind
    parameters), a page after a cursor (limit and after: the rows past that id in the listing's
    order, found through the index however far down; an offset walks every row before it), and
    the count of them all: for all of a community's rows of a COUNTED table, the count the index
    keeps (RowCount); counted row by row, it grew with the index."""
    page = select(table).where(*where).order_by(order).limit(bindparam("limit")).offset(bindparam("offset"))
    descending = isinstance(order, UnaryExpression)  # column.desc()
    column = order.element if descending else order
    past = column < bindparam("after") if descending else column > bindparam("after")
    page_after = select(table).where(*where, past).order_by(order).limit(bindparam("limit"))
    if len(where) == 1 and table.name in {model.__tablename__ for model in COUNTED}:
        kept = select(RowCount.value).where(RowCount.community == bindparam("community"),
                                            RowCount.table_name == table.name).scalar_subquery()
        return Listing(page, page_after, select(func.coalesce(kept, 0)), column.key)
    return Listing(page, page_after, select(func.count()).select_from(table).where(*where), column.key)


def _read_listing(session: Session, listing: Listing, params: dict, limit: int, offset: int,
                  after: int | None = None) -> tuple[list, int, int | None]:
    """A `_listing`'s page of rows (by offset, or after a cursor), its total, and the cursor of
    the next page (None when this page is the last)."""
    connection = session.connection()
    if after is None:
        rows = connection.execute(listing.page, {**params, "limit": limit, "offset": offset}).all()
    else:
        rows = connection.execute(listing.page_after, {**params, "limit": limit, "after": after}).all()
    next_after = getattr(rows[-1], listing.cursor) if len(rows) == limit else None
    return rows, connection.execute(listing.count, params).scalar_one(), next_after


def list_claims(ctx: Context, community: Community, *, state: str | None, indicator_id: int | None,
                contributor: str | None, limit: int, offset: int, nomination_state: str | None = None,
                after: int | None = None) -> tuple[list[dict[str, Any]], int, int | None]:
    """A page of claims, its total and the next page's cursor."""
    if indicator_id is not None and indicator_id > INDEXED_INDICATOR_MAX:
        return [], 0, None
    listing = _claims_listing(state, nomination_state is not None, indicator_id is not None, contributor is not None)
    params = {"community": community.slug, "nomination_state": nomination_state, "indicator_id": indicator_id,
              "contributor": _address(contributor) if contributor is not None else None}
    with ctx.sessions() as session:
        rows, total, next_after = _read_listing(session, listing, params, limit, offset, after)
        return _claims_out(ctx, session, rows), total, next_after


def get_claim(ctx: Context, community: Community, claim_id: int) -> dict[str, Any]:
    with ctx.sessions() as session:
        claim = session.connection().execute(_CLAIM, {"community": community.slug, "claim_id": claim_id}).first()
        if claim is None:
            raise NotFound(f"No claim {claim_id} in community '{community.slug}'", error="BadgeUnknownClaim")
        return _claims_out(ctx, session, [claim])[0]


def endorser_indicator(ctx: Context, community: Community, claim_id: int) -> int:
    """The indicator whose counting badge attesting this claim requires now (its indicator's
    current terms, as the contract checks them); 0 when any member may attest, or the index
    does not know the claim (the chain then decides)."""
    with ctx.sessions() as session:
        row = session.execute(
            select(IndicatorVersion.endorser_indicator_id).join(Indicator, and_(
                Indicator.community == IndicatorVersion.community,
                Indicator.indicator_id == IndicatorVersion.indicator_id,
                Indicator.version == IndicatorVersion.version))
            .join(Claim, and_(Claim.community == Indicator.community, Claim.indicator_id == Indicator.indicator_id))
            .where(Claim.community == community.slug, Claim.claim_id == claim_id)).first() \
            if claim_id <= INDEX_ID_MAX else None
        return int(row[0] or 0) if row else 0


def endorser_badge(ctx: Context, community: Community, holder: str, indicator_id: int) -> int | None:
    """A counting badge of `indicator_id` that `holder` holds (the oldest), if any."""
    with ctx.sessions() as session:
        now = index_time(session, community)
        return session.scalar(select(Badge.token_id).where(
            Badge.community == community.slug, Badge.owner == holder, Badge.indicator_id == indicator_id,
            _counting(now)).order_by(Badge.token_id).limit(1))


# Badges, as claims: Core rows of the whole table as named tuples, statements built once.
_BadgeRow = namedtuple("_BadgeRow", [column.key for column in Badge.__table__.columns])
_BADGE = select(Badge.__table__).where(Badge.community == bindparam("community"),
                                       Badge.token_id == bindparam("token_id"))
_BADGE_NAMES = select(IndicatorVersion.indicator_id, IndicatorVersion.version, IndicatorVersion.name) \
    .where(IndicatorVersion.community == bindparam("community"),
           IndicatorVersion.indicator_id.in_(bindparam("indicators", expanding=True)))


def _badges_out(session: Session, rows: list, now: int) -> list[dict[str, Any]]:
    """Badges (rows of the whole badges table) as the API shows them, named by the indicator
    version each was earned under: one statement for the names, whatever the number of badges."""
    if not rows:
        return []
    badges = [_BadgeRow._make(row) for row in rows]
    names = {(i, v): name for i, v, name in session.connection().execute(
        _BADGE_NAMES, {"community": badges[0].community, "indicators": list({b.indicator_id for b in badges})})}
    return [_badge_out(b, names.get((b.indicator_id, b.indicator_version)), now) for b in badges]


def _badge_out(b: Badge, name: str | None, now: int) -> dict[str, Any]:
    return {
        "token_id": b.token_id, "owner": b.owner, "contributor": b.contributor, "indicator_id": b.indicator_id,
        "indicator_version": b.indicator_version, "indicator_name": name, "category": b.category,
        "orientation": b.orientation, "weight": b.weight, "validity_seconds": b.validity, "minted_at": b.minted_at,
        "revoked_at": b.revoked_at, "revoke_reason": b.revoke_reason, "revoke_reason_raw": b.revoke_reason_raw,
        "disowned_at": b.disowned_at, "counts": profiles.counts(_scored(b, name), now), "tx_hash": b.tx_hash,
    }


def _scored(b: Badge, name: str) -> profiles.ScoredBadge:
    return profiles.ScoredBadge(b.token_id, b.indicator_id, name or "", b.category, b.orientation, b.weight,
                                b.minted_at, b.validity, b.revoked_at, b.disowned_at)


def get_badge(ctx: Context, community: Community, token_id: int) -> dict[str, Any]:
    with ctx.sessions() as session:
        badge = session.connection().execute(_BADGE, {"community": community.slug, "token_id": token_id}).first()
        if badge is None:
            raise NotFound(f"No badge {token_id} in community '{community.slug}'", error="ERC721NonexistentToken")
        return _badges_out(session, [badge], index_time(session, community))[0]


def _counting(now: int):
    """As the contract's isActive, in SQL: not revoked, not disowned, and within its validity period."""
    return and_(Badge.revoked_at.is_(None), Badge.disowned_at.is_(None),
                or_(Badge.validity == 0, Badge.minted_at + Badge.validity > now))


# A profile is the read members make most: its three statements are built once (building a
# statement cost more than running it) and run on the session's connection, without the ORM.
_PROFILE_MEMBER = select(
    Member.active, Member.profile_hidden,
    select(Cursor.block_timestamp).where(Cursor.community == bindparam("community")).scalar_subquery(),
    select(Setting.value).where(Setting.community == bindparam("community"), Setting.name == "score_rule")
    .scalar_subquery(),
).where(Member.community == bindparam("community"), Member.address == bindparam("address"))
_MINE = and_(Badge.community == bindparam("community"), Badge.owner == bindparam("address"))
_COUNTS = _counting(bindparam("now"))
# Every badge the member holds, grouped: how many, how many count now and their weight, and the
# indicator's current name (one scan of the member's badges, however many they hold).
_PROFILE_GROUPS = select(
    Badge.indicator_id, Badge.category, Badge.orientation, func.count(),
    func.sum(case((_COUNTS, 1), else_=0)), func.sum(case((_COUNTS, Badge.weight), else_=0)),
    select(IndicatorVersion.name).join(Indicator, and_(
        Indicator.community == IndicatorVersion.community, Indicator.indicator_id == IndicatorVersion.indicator_id,
        Indicator.version == IndicatorVersion.version))
    .where(Indicator.community == bindparam("community"), Indicator.indicator_id == Badge.indicator_id)
    .scalar_subquery(),
).where(_MINE).group_by(Badge.indicator_id, Badge.category, Badge.orientation)
_PROFILE_PAGE = select(
    Badge.token_id, Badge.indicator_id, IndicatorVersion.name, Badge.category, Badge.orientation,
    Badge.weight, Badge.minted_at, Badge.validity, Badge.revoked_at, Badge.disowned_at,
).join(IndicatorVersion, and_(IndicatorVersion.community == Badge.community,
                              IndicatorVersion.indicator_id == Badge.indicator_id,
                              IndicatorVersion.version == Badge.indicator_version), isouter=True) \
    .where(_MINE).order_by(Badge.token_id).limit(bindparam("limit")).offset(bindparam("offset"))


def profile(ctx: Context, community: Community, address: str, *, limit: int = 50, offset: int = 0) -> dict[str, Any]:
    """The member's scores, added up by the database (a handful of rows back, whatever the number
    of badges), and one page of their badges, oldest first."""
    address = _address(address)
    params = {"community": community.slug, "address": address}
    with ctx.sessions() as session:
        connection = session.connection()
        member = connection.execute(_PROFILE_MEMBER, params).first()
        if member is None:
            raise NotFound(f"{address} was never a member of community '{community.slug}'")
        active, hidden, indexed_at, rule_value = member
        now = max(int(time.time()), indexed_at or 0)  # as index_time
        groups = connection.execute(_PROFILE_GROUPS, {**params, "now": now}).all()
        page = connection.execute(_PROFILE_PAGE, {**params, "limit": limit, "offset": offset}).all()
    rule = _score_rule_of(rule_value)
    owned = sum(int(g[3]) for g in groups)
    badges = [profiles.ScoredBadge(row[0], row[1], row[2] or "", *row[3:]) for row in page]
    scores = profiles.add_up([profiles.Group(i, name or "", c, o, int(n), int(w or 0))
                              for i, c, o, _, n, w, name in groups if n], owned, rule=rule)
    return {
        "address": address, "member": active, "profile_hidden": bool(hidden), "as_of": now,
        "score_rule": rule, **scores,
        "badges_total": owned, "badges_limit": limit, "badges_offset": offset,
        "badges": [{"token_id": s.token_id, "indicator_id": s.indicator_id, "indicator_name": s.indicator_name,
                    "category": s.category, "orientation": s.orientation, "weight": s.weight,
                    "minted_at": s.minted_at, "counts": profiles.counts(s, now)} for s in badges],
    }


# ---------------------------------------------------------------------- organisations


def _organisation_out(o: Organisation) -> dict[str, Any]:
    return {"id": o.organisation_id, "name": o.name, "name_raw": o.name_raw, "identifier": o.identifier,
            "identifier_raw": o.identifier_raw, "active": o.active, "added_at": o.added_at,
            "retired_at": o.retired_at, "tx_hash": o.tx_hash}


def list_organisations(ctx: Context, community: Community, *, active: bool | None, limit: int, offset: int):
    """The organisations governance registered, oldest first."""
    with ctx.sessions() as session:
        query = select(Organisation).where(Organisation.community == community.slug) \
            .order_by(Organisation.organisation_id)
        if active is not None:
            query = query.where(Organisation.active == active)
        rows, total = _page(session, query, limit, offset)
        return [_organisation_out(o) for o in rows], total


def organisation_profile(ctx: Context, community: Community, organisation_id: int) -> dict[str, Any]:
    """An organisation's credited work: its contributors (but those who hide their profile) and its
    weighted score, in total and by category, over the counting badges whose claims credit it. Scores follow the community's
    score rule per contributor and indicator, as members' profiles do."""
    with ctx.sessions() as session:
        # A BIGINT column: every uint32 id the path admits can be asked for.
        organisation = session.get(Organisation, (community.slug, organisation_id))
        if organisation is None:
            raise NotFound(f"No organisation {organisation_id} in community '{community.slug}'",
                           error="RegistryUnknownOrganisation")
        now = index_time(session, community)
        rule = _score_rule(session, community.slug)
        rows = session.execute(
            select(Badge.owner, Badge.indicator_id, Badge.category, Badge.orientation, func.count(),
                   func.sum(Badge.weight))
            .where(Badge.community == community.slug, Badge.organisation_id == organisation_id, _counting(now))
            # Indicator first: grouped by owner first, SQLite walks every badge of the community in
            # the owner index's order instead of the organisation's few (5x slower at 10,000 badges).
            .group_by(Badge.indicator_id, Badge.owner, Badge.category, Badge.orientation)).all()
        hidden = set(session.scalars(select(Member.address).where(
            Member.community == community.slug, Member.profile_hidden.is_(True),
            Member.address.in_({row[0] for row in rows})))) if rows else set()
    by_member: dict[str, list[profiles.Group]] = {}
    for owner, indicator_id, category, orientation, n, w in rows:
        by_member.setdefault(owner, []).append(profiles.Group(indicator_id, "", category, orientation, int(n),
                                                               int(w or 0)))
    contributors, categories = [], {}
    for owner, groups in sorted(by_member.items()):
        scores = profiles.add_up(groups, 0, rule=rule)
        contributors.append({"address": owner, "badges": scores["badges_counting"], "score": scores["total_score"]})
        for entry in scores["by_category"]:
            total = categories.setdefault(entry["category"], {"category": entry["category"], "badges": 0, "score": 0})
            total["badges"] += entry["badges"]
            total["score"] = profiles.rounded(total["score"] + entry["score"])
    contributors.sort(key=lambda c: (-c["score"], c["address"]))
    # A member who hides their profile is left out of the list, as from GET /members; their badges
    # still count in the organisation's totals.
    listed = [c for c in contributors if c["address"] not in hidden]
    return {**_organisation_out(organisation), "as_of": now, "score_rule": rule,
            "total_score": profiles.rounded(sum(c["score"] for c in contributors)),
            "badges_counting": sum(c["badges"] for c in contributors),
            "contributors": listed, "contributors_hidden": len(contributors) - len(listed), "by_category": sorted(categories.values(), key=lambda e: e["category"])}


RECENT_SET_ASIDE = 10


def _unix(seconds: float | None) -> int | None:
    return None if seconds is None else int(seconds)


def health(ctx: Context) -> dict[str, Any]:
    """The chain head, and per community how far the index is behind it (blocks and chain
    seconds), whether indexing it fails now, its newest error and its set-aside events.
    Raises NodeUnavailable (503) when the node cannot be reached."""
    settings, indexer = ctx.settings, ctx.indexer
    head = ctx.gateway.block_number()
    safe = max(head - settings.confirmations, 0)
    communities = ctx.deployments.communities
    with ctx.sessions() as session:
        cursors = {c.community: c for c in session.scalars(select(Cursor))}
        set_aside = dict(session.execute(select(SetAside.community, func.count()).group_by(SetAside.community)).all())
        recent = list(session.scalars(select(SetAside).order_by(
            SetAside.set_aside_at.desc(), SetAside.block_number.desc(), SetAside.log_index.desc()
        ).limit(RECENT_SET_ASIDE)))
    indexed = {slug: cursors[slug].block_number if slug in cursors else c.deployment_block - 1
               for slug, c in communities.items()}
    # Chain times: of the safe head, and of any indexed block whose time no cursor holds yet.
    wanted = sorted({safe} | {indexed[slug] for slug in communities if slug not in cursors and indexed[slug] >= 0})
    times = {n: h[0] for n, h in ctx.gateway.block_headers(wanted).items() if h is not None}
    reasons: list[str] = []
    if indexer.chain_state.error:
        reasons.append(f"the indexer cannot read the chain head: {indexer.chain_state.error}")
    out: dict[str, dict[str, Any]] = {}
    for slug in communities:
        state = indexer.state(slug)
        lag_blocks = max(safe - indexed[slug], 0)
        indexed_time = cursors[slug].block_timestamp if slug in cursors else times.get(indexed[slug])
        lag_seconds = None if indexed_time is None or safe not in times else max(times[safe] - indexed_time, 0)
        count = set_aside.get(slug, 0)
        out[slug] = {
            "indexed_block": indexed[slug], "lag_blocks": lag_blocks, "lag_seconds": lag_seconds,
            "error": state.error, "error_at": _unix(state.error_at), "last_error": state.last_error,
            "last_error_at": _unix(state.last_error_at), "synced_at": _unix(state.synced_at), "set_aside": count,
        }
        if lag_blocks > settings.health_max_lag_blocks:
            behind = f" ({lag_seconds} s of chain time)" if lag_seconds is not None else ""
            reasons.append(f"community '{slug}' is indexed {lag_blocks} blocks behind the chain{behind}")
        if state.error:
            reasons.append(f"indexing community '{slug}' fails: {state.error}")
        if count:
            reasons.append(f"{count} event{'s' if count > 1 else ''} of community '{slug}' set aside: "
                           "the index lacks them until a reindex stores them")
    errors = [(s.last_error_at, s.last_error) for s in (indexer.chain_state, *indexer.states.values()) if s.last_error]
    last_at, last = max(errors, key=lambda e: e[0]) if errors else (None, None)
    lags = [c["lag_seconds"] for c in out.values() if c["lag_seconds"] is not None]
    return {
        "status": "degraded" if reasons else "ok", "reasons": reasons, "chain_id": ctx.gateway.chain_id,
        "head_block": head, "confirmations": settings.confirmations,
        "indexed_block": min(indexed.values(), default=None), "indexed_blocks": indexed,
        "lag_blocks": max((c["lag_blocks"] for c in out.values()), default=0),
        "lag_seconds": max(lags, default=None), "max_lag_blocks": settings.health_max_lag_blocks,
        "indexer_error": indexer.last_error, "last_error": last, "last_error_at": _unix(last_at),
        "communities": out, "set_aside": sum(set_aside.values()),
        "set_aside_recent": [{"community": r.community, "block_number": r.block_number, "log_index": r.log_index,
                              "tx_hash": r.tx_hash, "contract": r.contract, "event": r.name, "error": r.error,
                              "set_aside_at": r.set_aside_at} for r in recent],
    }


# ---------------------------------------------------------------------- reads the web app added


def _awaiting_statements():
    """The open claims an attester may attest now, and their count: built once, every value a
    bind parameter (community, attester, now, limit, offset)."""
    community, attester = bindparam("community"), bindparam("attester")
    already = select(Attestation.claim_id).where(Attestation.community == community, Attestation.attester == attester)
    # A claim of someone no longer a member is refused (BadgeContributorNotMember) until they return.
    members = select(Member.address).where(Member.community == community, Member.active.is_(True))
    qualified = select(Badge.token_id).where(
        Badge.community == community, Badge.owner == attester,
        Badge.indicator_id == IndicatorVersion.endorser_indicator_id, _counting(bindparam("now"))).exists()
    query = (select(Claim.__table__).join(Indicator, (Indicator.community == Claim.community)
                                          & (Indicator.indicator_id == Claim.indicator_id))
             .join(IndicatorVersion, and_(IndicatorVersion.community == Indicator.community,
                                          IndicatorVersion.indicator_id == Indicator.indicator_id,
                                          IndicatorVersion.version == Indicator.version))
             .where(Claim.community == community, Claim.minted.is_(False), Claim.contributor != attester,
                    Claim.contributor.in_(members),
                    Indicator.active.is_(True), Indicator.version == Claim.indicator_version,
                    Claim.claim_id.not_in(already), _not_declined(),
                    or_(func.coalesce(IndicatorVersion.endorser_indicator_id, 0) == 0, qualified)))
    return (query.order_by(Claim.claim_id).limit(bindparam("limit")).offset(bindparam("offset")),
            select(func.count()).select_from(query.subquery()))


_AWAITING, _AWAITING_COUNT = _awaiting_statements()
_ACTIVE_MEMBER = select(Member.active).where(Member.community == bindparam("community"),
                                             Member.address == bindparam("attester"))


def awaiting_attestation(ctx: Context, community: Community, *, attester: str, limit: int,
                         offset: int) -> tuple[list[dict[str, Any]], int]:
    """Open claims `attester` may attest now, oldest first: they are a current member, not the
    contributor, have not attested yet, the contributor is still a member, the claim's indicator
    is still active at the version it was filed under, and when it is endorsed only by holders
    of another indicator's badge, they hold a counting one (as ContributionBadge.attest checks;
    its caps and the reciprocal window are left to prepare, which answers them with the date
    they lift)."""
    params = {"community": community.slug, "attester": _address(attester)}
    with ctx.sessions() as session:
        connection = session.connection()
        if not connection.execute(_ACTIVE_MEMBER, params).scalar():
            return [], 0
        params["now"] = index_time(session, community)
        total = connection.execute(_AWAITING_COUNT, params).scalar_one()
        rows = connection.execute(_AWAITING, {**params, "limit": limit, "offset": offset}).all()
        return _claims_out(ctx, session, rows), total


def awaiting_answer(ctx: Context, community: Community, *, nominee: str, limit: int,
                    offset: int) -> tuple[list[dict[str, Any]], int]:
    """Nominations of `nominee` still waiting for their answer (accept or decline), oldest first."""
    items, total, _ = list_claims(ctx, community, state=None, indicator_id=None, contributor=nominee, limit=limit,
                                  offset=offset, nomination_state="pending")
    return items, total


def list_badges(ctx: Context, community: Community, *, owner: str | None, limit: int, offset: int,
                after: int | None = None) -> tuple[list[dict[str, Any]], int, int | None]:
    """Badges, newest first, optionally of one owner: a page, its total and the next page's cursor."""
    params = {"community": community.slug, "owner": _address(owner) if owner is not None else None}
    with ctx.sessions() as session:
        rows, total, next_after = _read_listing(session, _badges_listing(owner is not None), params, limit, offset,
                                                after)
        now = index_time(session, community)
        return _badges_out(session, rows, now), total, next_after


@functools.cache
def _badges_listing(owner: bool):
    """/badges' page and count, with or without an owner, built once."""
    where = [Badge.community == bindparam("community")]
    if owner:
        where.append(Badge.owner == bindparam("owner"))
    return _listing(Badge.__table__, where, Badge.token_id.desc())


def badge_metadata(ctx: Context, community: Community, token_id: int) -> dict[str, Any]:
    """The badge's on-chain metadata: its tokenURI (a JSON data URI) read from the contract, decoded."""
    get_badge(ctx, community, token_id)  # 404 for a badge the index does not know
    uri = ctx.gateway.read(community, "badge", "tokenURI", token_id)[0]
    return {"token_uri": uri, **token_uri_json(uri, f"Badge {token_id}'s tokenURI")}


# What ContributionBadge.tokenURI answers: a JSON object, base64 encoded in a data URI, with
# these fields (a nested dict is a nested object). The API's answer and the badge page need each.
_JSON_DATA_URI = "data:application/json;base64,"
_METADATA_SHAPE = {"name": str, "contributor": str, "weight": int, "evidence_hash": str, "minted_at": int,
                   "valid_for_seconds": int, "active": bool,
                   "indicator": {"id": int, "version": int, "name": str, "orientation": str}}
_EXCERPT = 200


def token_uri_json(uri: str, what: str) -> dict[str, Any]:
    """The JSON object of a tokenURI, read leniently. The contract writes the indicator's name
    into it as a member put it on chain, escaped for JSON (quotes, backslashes, control
    characters) but its other bytes as they are, which need not be UTF-8: they are read as the
    index reads them (readable_text), and the exact bytes stay in the URI. A URI that does not
    hold such an object is refused in words, with what it holds shown as readable text: never a
    500 for what is on chain."""
    if not uri.startswith(_JSON_DATA_URI):
        raise DomainError(f"{what} is not a JSON data URI: {_excerpt(uri)}")
    try:
        raw = base64.b64decode(uri[len(_JSON_DATA_URI):], validate=True)
    except binascii.Error as exc:
        raise DomainError(f"{what} is not base64 ({exc}): {_excerpt(uri)}") from exc
    text = raw.decode("utf-8", errors="replace")
    try:
        document = json.loads(text, strict=False)  # not strict: a control character left unescaped is read too
    except json.JSONDecodeError as exc:
        raise DomainError(f"{what} does not hold JSON ({exc.msg} at character {exc.pos}): {_excerpt(text)}") from exc
    if not _shaped(document, _METADATA_SHAPE):
        raise DomainError(f"{what} does not hold the badge metadata this service reads: {_excerpt(text)}")
    return _readable(document)


def _excerpt(text: str) -> str:
    """The start of text from the chain, readable, to show in an error (which the page escapes)."""
    shown = readable_text(text)
    return repr(shown if len(shown) <= _EXCERPT else shown[:_EXCERPT] + "…")


def _shaped(value: Any, shape: Any) -> bool:
    if isinstance(shape, dict):
        return isinstance(value, dict) and all(_shaped(value.get(k), kind) for k, kind in shape.items())
    # bool is an int in Python, not in JSON: a number where a boolean belongs, or the reverse, is neither.
    return isinstance(value, shape) and (shape is bool or not isinstance(value, bool))


def _readable(value: Any) -> Any:
    """A JSON value with every string as readable text, as the index shows the same strings (a
    lone surrogate a \\u escape made, which no JSON answer can encode, too)."""
    if isinstance(value, str):
        return readable_text(value.encode("utf-8", errors="surrogatepass"))
    if isinstance(value, dict):
        return {_readable(k): _readable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_readable(v) for v in value]
    return value


def score_history(ctx: Context, community: Community, address: str) -> dict[str, Any]:
    """The member's weighted score over time: one point at each badge minted, revoked or expired,
    with the score (in total and by orientation) from that moment on, added up under the
    community's score rule as the profile is (its last point is the profile's score)."""
    address = _address(address)
    with ctx.sessions() as session:
        if session.get(Member, (community.slug, address)) is None:
            raise NotFound(f"{address} was never a member of community '{community.slug}'")
        now = index_time(session, community)
        rule = _score_rule(session, community.slug)
        # time, orientation, +/- weight, token id, indicator
        changes: list[tuple[int, str, int, int, int]] = []
        for b in session.scalars(select(Badge).where(Badge.community == community.slug, Badge.owner == address)):
            changes.append((b.minted_at, b.orientation, b.weight, b.token_id, b.indicator_id))
            ends = [t for t in (b.revoked_at, b.disowned_at, b.minted_at + b.validity if b.validity else None)
                    if t is not None]
            if ends and min(ends) <= now:
                changes.append((min(ends), b.orientation, -b.weight, b.token_id, b.indicator_id))
    groups: dict[tuple[int, str], list[int]] = {}  # (indicator, orientation) -> [badges, weight]
    points: list[dict[str, Any]] = []
    for at, orientation, delta, _token_id, indicator_id in sorted(changes):
        group = groups.setdefault((indicator_id, orientation), [0, 0])
        group[0] += 1 if delta > 0 else -1
        group[1] += delta
        counting = [profiles.Group(i, "", "", o, n, w) for (i, o), (n, w) in groups.items() if n > 0]
        scores = profiles.add_up(counting, 0, rule=rule)
        by_orientation = {o: scores["by_orientation"][o]["score"] for o in ORIENTATIONS}
        point = {"at": at, "total": scores["total_score"], **by_orientation}
        if points and points[-1]["at"] == at:
            points[-1] = point
        else:
            points.append(point)
    return {"address": address, "as_of": now, "score_rule": rule, "points": points}


def relayer(ctx: Context, community: Community) -> dict[str, Any]:
    """What the relayer spent and learned, per member: members who hid their profile are counted
    together, never named (their addresses are on the chain, not in this service's public lists)."""
    spent, members = ctx.book.spent(community.slug)
    strikes = ctx.book.strikes(community.slug, time.time())
    worker, settings = ctx.worker.status(), ctx.settings
    with ctx.sessions() as session:
        hidden = set(session.scalars(select(Member.address).where(
            Member.community == community.slug, Member.profile_hidden.is_(True)))) if members else set()
    shown, hidden_rows = [], []
    for member, figures in members.items():
        struck = strikes.get(member)
        row = {"member": member, **figures, "strikes": struck.count if struck else 0,
               "standing": struck.standing(settings) if struck else "ok"}
        (hidden_rows if member in hidden else shown).append(row)
    hidden_total = {name: sum(r[name] for r in hidden_rows) for name in (
        "requests", "succeeded", "failed", "gas_used", "fees_wei", "strikes")} | {"members": len(hidden_rows)}
    return {
        "address": ctx.gateway.relayer_address,
        "in_flight": worker.queued + worker.sent,
        "leading": worker.leading,
        "paused": worker.paused,
        "balance_wei": worker.balance_wei,
        "spent": spent,
        "by_member": sorted(shown, key=lambda row: (-row["gas_used"], row["member"])),
        "hidden_members": hidden_total,
        "budgets": {name: getattr(settings, name) for name in (
            "member_max_in_flight", "member_requests_per_minute", "member_gas_per_hour", "client_max_in_flight",
            "client_requests_per_minute", "client_gas_per_hour", "member_strikes_slow_after",
            "member_strikes_refuse_after", "member_strike_cooloff_seconds")} | {
            "max_gas_per_request": settings.relay_max_gas_per_request,
            "min_deadline_headroom_seconds": settings.relay_min_deadline_headroom_seconds},
    }
