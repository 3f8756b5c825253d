"""Reads served from the index."""

from __future__ import annotations

import time
from typing import Any

from eth_utils import to_checksum_address
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.chain.deployments import Community
from backend.context import Context
from backend.errors import DomainError, InvalidRequest, NotFound
from backend.indexer.models import (
    Attestation,
    Badge,
    Claim,
    Cursor,
    Indicator,
    IndicatorVersion,
    Member,
    Proposal,
    Setting,
    Vote,
)
from backend.indexer.projections import latest_checkpoint
from backend.services import profiles
from backend.services.proposals import describe_call

SUPPORT_NAMES = {0: "against", 1: "for", 2: "abstain"}
# The index keeps indicator ids (uint32 on chain) in INTEGER columns, 32-bit signed in
# PostgreSQL: a larger id is in no row, and asking PostgreSQL for it is a DataError.
INDEXED_INDICATOR_MAX = 2**31 - 1


def _address(value: str) -> str:
    try:
        return to_checksum_address(value)
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
        "orientation": v.orientation, "weight": v.weight, "endorsements_required": v.endorsements_required,
        "validity_seconds": v.validity, "defined_at": v.defined_at, "tx_hash": v.tx_hash,
    }


def _indicator_out(session: Session, indicator: Indicator, history: bool) -> dict[str, Any]:
    current = session.get(IndicatorVersion, (indicator.community, indicator.indicator_id, indicator.version))
    out = {"id": indicator.indicator_id, "active": indicator.active, "created_at": indicator.created_at,
           "retired_at": indicator.retired_at, **_version_out(current)}
    if history:
        versions = session.scalars(select(IndicatorVersion).where(
            IndicatorVersion.community == indicator.community,
            IndicatorVersion.indicator_id == indicator.indicator_id).order_by(IndicatorVersion.version))
        out["versions"] = [_version_out(v) for v in versions]
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
        "id": p.proposal_id, "proposer": p.proposer, "description": p.description, "state": state,
        "vote_start": p.vote_start, "vote_end": p.vote_end, "created_at": p.created_at, "tx_hash": p.tx_hash,
        "tallies": {"for": p.for_votes, "against": p.against_votes, "abstain": p.abstain_votes},
        "quorum": quorum, "quorum_reached": quorum_reached, "executed_at": p.executed_at,
        "actions": [describe_call(ctx, community, t, c) for t, c in zip(p.targets, p.calldatas)],
    }
    if votes:
        rows = session.scalars(select(Vote).where(Vote.community == community.slug, Vote.proposal_id == p.proposal_id)
                               .order_by(Vote.block_number, Vote.log_index))
        out["votes"] = [{"voter": v.voter, "support": SUPPORT_NAMES[v.support], "weight": v.weight,
                         "reason": v.reason, "timestamp": v.timestamp, "tx_hash": v.tx_hash} for v in rows]
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


def governance_settings(ctx: Context, community: Community) -> dict[str, int]:
    with ctx.sessions() as session:
        rows = session.scalars(select(Setting).where(Setting.community == community.slug))
        return {r.name: int(r.value) for r in rows}


# ---------------------------------------------------------------------- members


def _member_out(m: Member) -> dict[str, Any]:
    return {"address": m.address, "active": m.active, "admitted_at": m.admitted_at, "removed_at": m.removed_at,
            "delegate": m.delegate, "votes": m.votes}


def list_members(ctx: Context, community: Community, *, active: bool | None, limit: int, offset: int):
    with ctx.sessions() as session:
        query = select(Member).where(Member.community == community.slug).order_by(Member.admitted_at, Member.address)
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


def _claim_out(session: Session, c: Claim) -> dict[str, Any]:
    terms = session.get(IndicatorVersion, (c.community, c.indicator_id, c.indicator_version))
    attesters = session.scalars(select(Attestation.attester).where(
        Attestation.community == c.community, Attestation.claim_id == c.claim_id).order_by(Attestation.count))
    return {
        "id": c.claim_id, "contributor": c.contributor, "submitter": c.submitter, "nomination": c.submitter != c.contributor,
        "indicator_id": c.indicator_id, "indicator_version": c.indicator_version,
        "evidence_hash": c.evidence_hash, "evidence_uri": c.evidence_uri, "attestations": c.attestations,
        "endorsements_required": terms.endorsements_required if terms else None,
        "attesters": list(attesters), "state": "minted" if c.minted else "open",
        "token_id": c.claim_id if c.minted else None, "created_at": c.created_at, "tx_hash": c.tx_hash,
    }


def list_claims(ctx: Context, community: Community, *, state: str | None, indicator_id: int | None,
                contributor: str | None, limit: int, offset: int):
    if indicator_id is not None and indicator_id > INDEXED_INDICATOR_MAX:
        return [], 0
    with ctx.sessions() as session:
        query = select(Claim).where(Claim.community == community.slug).order_by(Claim.claim_id)
        if state is not None:
            query = query.where(Claim.minted == (state == "minted"))
        if indicator_id is not None:
            query = query.where(Claim.indicator_id == indicator_id)
        if contributor is not None:
            query = query.where(Claim.contributor == _address(contributor))
        rows, total = _page(session, query, limit, offset)
        return [_claim_out(session, c) for c in rows], total


def get_claim(ctx: Context, community: Community, claim_id: int) -> dict[str, Any]:
    with ctx.sessions() as session:
        claim = session.get(Claim, (community.slug, claim_id))
        if claim is None:
            raise NotFound(f"No claim {claim_id} in community '{community.slug}'", error="BadgeUnknownClaim")
        return _claim_out(session, claim)


def _badge_out(session: Session, b: Badge, now: int) -> dict[str, Any]:
    name = session.scalar(select(IndicatorVersion.name).where(
        IndicatorVersion.community == b.community, IndicatorVersion.indicator_id == b.indicator_id,
        IndicatorVersion.version == b.indicator_version))
    return {
        "token_id": b.token_id, "owner": b.owner, "contributor": b.contributor, "indicator_id": b.indicator_id,
        "indicator_version": b.indicator_version, "indicator_name": name, "category": b.category,
        "orientation": b.orientation, "weight": b.weight, "validity_seconds": b.validity, "minted_at": b.minted_at,
        "revoked_at": b.revoked_at, "revoke_reason": b.revoke_reason,
        "counts": profiles.counts(_scored(b, name), now), "tx_hash": b.tx_hash,
    }


def _scored(b: Badge, name: str) -> profiles.ScoredBadge:
    return profiles.ScoredBadge(b.token_id, b.indicator_id, name or "", b.category, b.orientation, b.weight,
                                b.minted_at, b.validity, b.revoked_at)


def get_badge(ctx: Context, community: Community, token_id: int) -> dict[str, Any]:
    with ctx.sessions() as session:
        badge = session.get(Badge, (community.slug, token_id))
        if badge is None:
            raise NotFound(f"No badge {token_id} in community '{community.slug}'", error="ERC721NonexistentToken")
        return _badge_out(session, badge, index_time(session, community))


def profile(ctx: Context, community: Community, address: str) -> dict[str, Any]:
    address = _address(address)
    with ctx.sessions() as session:
        member = session.get(Member, (community.slug, address))
        if member is None:
            raise NotFound(f"{address} was never a member of community '{community.slug}'")
        now = index_time(session, community)
        rows = session.execute(
            select(Badge, IndicatorVersion.name).join(
                IndicatorVersion,
                (IndicatorVersion.community == Badge.community) & (IndicatorVersion.indicator_id == Badge.indicator_id)
                & (IndicatorVersion.version == Badge.indicator_version),
            ).where(Badge.community == community.slug, Badge.owner == address).order_by(Badge.token_id)
        ).all()
        scored = [_scored(b, name) for b, name in rows]
        return {
            "address": address, "member": member.active, "as_of": now,
            **profiles.score(scored, now),
            "badges": [{"token_id": s.token_id, "indicator_id": s.indicator_id, "indicator_name": s.indicator_name,
                        "category": s.category, "orientation": s.orientation, "weight": s.weight,
                        "minted_at": s.minted_at, "counts": profiles.counts(s, now)} for s in scored],
        }


def health(ctx: Context) -> dict[str, Any]:
    with ctx.sessions() as session:
        cursors = {c.community: c.block_number for c in session.scalars(select(Cursor))}
    indexed = {slug: cursors.get(slug, c.deployment_block - 1) for slug, c in ctx.deployments.communities.items()}
    return {"chain_id": ctx.gateway.chain_id, "indexed_block": min(indexed.values(), default=None),
            "indexed_blocks": indexed, "indexer_error": ctx.indexer.last_error}
