"""Claims and nominations, their attestations, and what waits for a member: claims to endorse,
nominations to answer."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import BindParameter, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from backend.badges.service import counting
from backend.chain.deployments import Community
from backend.claims.schemas import ClaimOut
from backend.context import Context
from backend.errors import NotFound
from backend.i18n import gettext as _
from backend.indexer.models import (
    Attestation,
    Badge,
    Claim,
    Indicator,
    IndicatorVersion,
    Invitation,
    Member,
)
from backend.indexer.reads import address_of, index_time, listing, read_listing, row_tuple
from backend.relay import rules as request_rules
from backend.vocabulary import (
    INDEX_ID_MAX,
    INDEXED_INDICATOR_MAX,
)

_CLAIM_TERMS = select(
    IndicatorVersion.indicator_id,
    IndicatorVersion.version,
    IndicatorVersion.name,
    IndicatorVersion.endorsements_required,
).where(
    IndicatorVersion.community == bindparam("community"),
    IndicatorVersion.indicator_id.in_(bindparam("indicators", expanding=True)),
)


_CLAIM_ATTESTERS = (
    select(Attestation.claim_id, Attestation.attester)
    .where(Attestation.community == bindparam("community"), Attestation.claim_id.in_(bindparam("ids", expanding=True)))
    .order_by(Attestation.claim_id, Attestation.count)
)


# Claims are read as Core rows of the whole table and turned into named tuples: looking a Row's
# field up by name costs ten times reading a tuple's, and a page of 50 reads a thousand.
_ClaimRow = row_tuple("_ClaimRow", Claim)


_CLAIM = select(Claim.__table__).where(
    Claim.community == bindparam("community"), Claim.claim_id == bindparam("claim_id")
)


def _claims_out(ctx: Context, session: Session, rows: list) -> list[ClaimOut]:
    """Claims (rows of the whole claims table) as the API shows them, with the terms they were
    filed under and their attesters: two statements for any number of claims (one per claim was
    52 statements for a page of 50), built once and run without the ORM."""
    if not rows:
        return []
    claims = [_ClaimRow._make(row) for row in rows]
    connection = session.connection()
    community = claims[0].community
    ids = [c.claim_id for c in claims]
    terms = {
        (v.indicator_id, v.version): v
        for v in connection.execute(
            _CLAIM_TERMS, {"community": community, "indicators": list({c.indicator_id for c in claims})}
        )
    }
    attesters: dict[int, list[str]] = {claim_id: [] for claim_id in ids}
    for claim_id, attester in connection.execute(_CLAIM_ATTESTERS, {"community": community, "ids": ids}):
        attesters[claim_id].append(attester)
    return [_claim_out(ctx, c, terms.get((c.indicator_id, c.indicator_version)), attesters[c.claim_id]) for c in claims]


def _claim_out(ctx: Context, c: Claim, terms: Any, attesters: list[str]) -> ClaimOut:
    return ClaimOut(
        id=c.claim_id,
        contributor=c.contributor,
        submitter=c.submitter,
        nomination=c.submitter != c.contributor,
        indicator_id=c.indicator_id,
        indicator_version=c.indicator_version,
        indicator_name=terms.name if terms else None,
        evidence_hash=c.evidence_hash,
        evidence_uri=c.evidence_uri,
        evidence_uri_raw=c.evidence_uri_raw,
        # Whatever a member put on chain directly: show it as a link only when this is true.
        evidence_uri_safe=request_rules.uri_scheme_allowed(c.evidence_uri, ctx.settings.uri_schemes),
        attestations=c.attestations,
        endorsements_required=terms.endorsements_required if terms else None,
        attesters=attesters,
        nomination_state=c.nomination_state,
        answered_at=c.answered_at,
        organisation_id=c.organisation_id,
        state="minted" if c.minted else "declined" if c.nomination_state == "declined" else "open",
        token_id=c.claim_id if c.minted else None,
        created_at=c.created_at,
        tx_hash=c.tx_hash,
    )


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
    return listing(Claim.__table__, where, Claim.claim_id)


def list_claims(
    ctx: Context,
    community: Community,
    *,
    state: str | None,
    indicator_id: int | None,
    contributor: str | None,
    limit: int,
    offset: int,
    nomination_state: str | None = None,
    after: int | None = None,
) -> tuple[list[ClaimOut], int, int | None]:
    """A page of claims, its total and the next page's cursor."""
    if indicator_id is not None and indicator_id > INDEXED_INDICATOR_MAX:
        return [], 0, None
    listing = _claims_listing(state, nomination_state is not None, indicator_id is not None, contributor is not None)
    params = {
        "community": community.slug,
        "nomination_state": nomination_state,
        "indicator_id": indicator_id,
        "contributor": address_of(contributor) if contributor is not None else None,
    }
    with ctx.sessions() as session:
        rows, total, next_after = read_listing(session, listing, params, limit, offset, after)
        return _claims_out(ctx, session, list(rows)), total, next_after


def get_claim(ctx: Context, community: Community, claim_id: int) -> ClaimOut:
    with ctx.sessions() as session:
        claim = session.connection().execute(_CLAIM, {"community": community.slug, "claim_id": claim_id}).first()
        if claim is None:
            raise NotFound(
                _("No claim %(claim_id)s in community '%(community)s'", claim_id=claim_id, community=community.slug),
                error="BadgeUnknownClaim",
            )
        return _claims_out(ctx, session, [claim])[0]


def endorser_indicator(ctx: Context, community: Community, claim_id: int) -> int:
    """The indicator whose counting badge attesting this claim requires now (its indicator's
    current terms, as the contract checks them); 0 when any member may attest, or the index
    does not know the claim (the chain then decides)."""
    with ctx.sessions() as session:
        row = (
            session.execute(
                select(IndicatorVersion.endorser_indicator_id)
                .join(
                    Indicator,
                    and_(
                        Indicator.community == IndicatorVersion.community,
                        Indicator.indicator_id == IndicatorVersion.indicator_id,
                        Indicator.version == IndicatorVersion.version,
                    ),
                )
                .join(Claim, and_(Claim.community == Indicator.community, Claim.indicator_id == Indicator.indicator_id))
                .where(Claim.community == community.slug, Claim.claim_id == claim_id)
            ).first()
            if claim_id <= INDEX_ID_MAX
            else None
        )
        return int(row[0] or 0) if row else 0


def endorser_badge(ctx: Context, community: Community, holder: str, indicator_id: int) -> int | None:
    """A counting badge of `indicator_id` that `holder` holds (the oldest), if any."""
    with ctx.sessions() as session:
        now = index_time(session, community)
        return session.scalar(
            select(Badge.token_id)
            .where(
                Badge.community == community.slug,
                Badge.owner == holder,
                Badge.indicator_id == indicator_id,
                counting(now),
            )
            .order_by(Badge.token_id)
            .limit(1)
        )


def _awaiting_statements():
    """The open claims an attester may attest now, and their count: built once, every value a
    bind parameter (community, attester, now, limit, offset)."""
    community: BindParameter[str] = bindparam("community")
    attester: BindParameter[str] = bindparam("attester")
    already = select(Attestation.claim_id).where(Attestation.community == community, Attestation.attester == attester)
    # A claim of someone no longer a member is refused (BadgeContributorNotMember) until they return.
    members = select(Member.address).where(Member.community == community, Member.active.is_(True))
    qualified = (
        select(Badge.token_id)
        .where(
            Badge.community == community,
            Badge.owner == attester,
            Badge.indicator_id == IndicatorVersion.endorser_indicator_id,
            counting(bindparam("now")),
        )
        .exists()
    )
    query = (
        select(Claim.__table__)
        .join(Indicator, (Indicator.community == Claim.community) & (Indicator.indicator_id == Claim.indicator_id))
        .join(
            IndicatorVersion,
            and_(
                IndicatorVersion.community == Indicator.community,
                IndicatorVersion.indicator_id == Indicator.indicator_id,
                IndicatorVersion.version == Indicator.version,
            ),
        )
        .where(
            Claim.community == community,
            Claim.minted.is_(False),
            Claim.contributor != attester,
            Claim.contributor.in_(members),
            Indicator.active.is_(True),
            Indicator.version == Claim.indicator_version,
            Claim.claim_id.not_in(already),
            _not_declined(),
            or_(func.coalesce(IndicatorVersion.endorser_indicator_id, 0) == 0, qualified),
        )
    )
    return (
        query.order_by(Claim.claim_id).limit(bindparam("limit")).offset(bindparam("offset")),
        select(func.count()).select_from(query.subquery()),
    )


_AWAITING, _AWAITING_COUNT = _awaiting_statements()


_ACTIVE_MEMBER = select(Member.active).where(
    Member.community == bindparam("community"), Member.address == bindparam("attester")
)


def awaiting_attestation(
    ctx: Context, community: Community, *, attester: str, limit: int, offset: int
) -> tuple[list[ClaimOut], int]:
    """Open claims `attester` may attest now, oldest first: they are a current member, not the
    contributor, have not attested yet, the contributor is still a member, the claim's indicator
    is still active at the version it was filed under, and when it is endorsed only by holders
    of another indicator's badge, they hold a counting one (as ContributionBadge.attest checks;
    its caps and the reciprocal window are left to prepare, which answers them with the date
    they lift)."""
    params: dict[str, Any] = {"community": community.slug, "attester": address_of(attester)}
    with ctx.sessions() as session:
        connection = session.connection()
        if not connection.execute(_ACTIVE_MEMBER, params).scalar():
            return [], 0
        params["now"] = index_time(session, community)
        total = connection.execute(_AWAITING_COUNT, params).scalar_one()
        rows = connection.execute(_AWAITING, {**params, "limit": limit, "offset": offset}).all()
        return _claims_out(ctx, session, list(rows)), total


def _awaiting_answer_statements():
    """Nominations of a nominee waiting for their answer, and their count: those naming them, and
    those naming an invitation they accepted (such a claim names the invitation until its nominee
    answers it, NomineeJoined). Built once, every value a bind parameter."""
    community: BindParameter[str] = bindparam("community")
    nominee: BindParameter[str] = bindparam("nominee")
    invited = select(Invitation.address).where(Invitation.community == community, Invitation.account == nominee)
    query = select(Claim.__table__).where(
        Claim.community == community,
        Claim.nomination_state == "pending",
        or_(Claim.contributor == nominee, Claim.contributor.in_(invited)),
    )
    return (
        query.order_by(Claim.claim_id).limit(bindparam("limit")).offset(bindparam("offset")),
        select(func.count()).select_from(query.subquery()),
    )


_AWAITING_ANSWER, _AWAITING_ANSWER_COUNT = _awaiting_answer_statements()


def awaiting_answer(
    ctx: Context, community: Community, *, nominee: str, limit: int, offset: int
) -> tuple[list[ClaimOut], int]:
    """Nominations of `nominee` still waiting for their answer (accept or decline), oldest first,
    with those made to an invitation they accepted before they joined."""
    params: dict[str, Any] = {"community": community.slug, "nominee": address_of(nominee)}
    with ctx.sessions() as session:
        connection = session.connection()
        total = connection.execute(_AWAITING_ANSWER_COUNT, params).scalar_one()
        rows = connection.execute(_AWAITING_ANSWER, {**params, "limit": limit, "offset": offset}).all()
        return _claims_out(ctx, session, list(rows)), total
