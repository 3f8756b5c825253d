"""Members and their contribution profiles: badges, weighted scores by indicator, category and
orientation, and a score's history."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import and_, bindparam, case, func, select

from backend.badges.service import counting
from backend.chain.deployments import Community
from backend.context import Context
from backend.errors import NotFound
from backend.i18n import gettext as _
from backend.indexer.models import (
    Badge,
    Cursor,
    Indicator,
    IndicatorVersion,
    LinkedAccount,
    Member,
    Setting,
)
from backend.indexer.reads import address_of, index_time, page
from backend.indicators.service import score_rule, score_rule_of
from backend.members import scores as profiles
from backend.members.schemas import (
    LinkedAccountOut,
    MemberOut,
    ProfileBadgeOut,
    ProfileOut,
    ScoreHistoryOut,
    ScorePointOut,
)
from backend.vocabulary import (
    SITES,
)


def linked_accounts(session: Any, community: str, addresses: list[str]) -> dict[str, list[LinkedAccountOut]]:
    """The accounts each of `addresses` linked, by address (sites in the contract's order)."""
    found: dict[str, list[LinkedAccountOut]] = {address: [] for address in addresses}
    if not addresses:
        return found
    rows = session.execute(
        select(LinkedAccount.address, LinkedAccount.site, LinkedAccount.handle).where(
            LinkedAccount.community == community, LinkedAccount.address.in_(addresses), LinkedAccount.handle != ""
        )
    )
    for address, site, handle in sorted(rows, key=lambda row: SITES.index(row.site) if row.site in SITES else 99):
        found[address].append(LinkedAccountOut(site=site, handle=handle))
    return found


def _member_out(m: Member, links: list[LinkedAccountOut]) -> MemberOut:
    return MemberOut(
        address=m.address,
        name=m.name,
        linked_accounts=links,
        active=m.active,
        admitted_at=m.admitted_at,
        removed_at=m.removed_at,
        delegate=m.delegate,
        votes=m.votes,
        profile_hidden=bool(m.profile_hidden),
    )


def list_members(
    ctx: Context, community: Community, *, active: bool | None, limit: int, offset: int, include_hidden: bool = False
) -> tuple[list[MemberOut], int]:
    """The public list of members: those who keep their profile hidden are left out, unless the
    community's own read asks for everyone (`include_hidden`: its member count, which names nobody)."""
    with ctx.sessions() as session:
        query = select(Member).where(Member.community == community.slug).order_by(Member.admitted_at, Member.address)
        if not include_hidden:
            query = query.where(Member.profile_hidden.is_(False))
        if active is not None:
            query = query.where(Member.active == active)
        rows, total = page(session, query, limit, offset)
        links = linked_accounts(session, community.slug, [m.address for m in rows])
        return [_member_out(m, links[m.address]) for m in rows], total


def get_member(ctx: Context, community: Community, address: str) -> MemberOut:
    with ctx.sessions() as session:
        member = session.get(Member, (community.slug, address_of(address)))
        if member is None:
            raise NotFound(_never_a_member(address, community))
        return _member_out(member, linked_accounts(session, community.slug, [member.address])[member.address])


def _never_a_member(address: str, community: Community) -> str:
    return _("%(address)s was never a member of community '%(community)s'", address=address, community=community.slug)


# A profile is the read members make most: its three statements are built once (building a
# statement cost more than running it) and run on the session's connection, without the ORM.
_PROFILE_MEMBER = select(
    Member.active,
    Member.profile_hidden,
    select(Cursor.block_timestamp).where(Cursor.community == bindparam("community")).scalar_subquery(),
    select(Setting.value)
    .where(Setting.community == bindparam("community"), Setting.name == "score_rule")
    .scalar_subquery(),
).where(Member.community == bindparam("community"), Member.address == bindparam("address"))


_MINE = and_(Badge.community == bindparam("community"), Badge.owner == bindparam("address"))


_COUNTS = counting(bindparam("now"))


# Every badge the member holds, grouped: how many, how many count now and their weight, and the
# indicator's current name (one scan of the member's badges, however many they hold).
_PROFILE_GROUPS = (
    select(
        Badge.indicator_id,
        Badge.category,
        Badge.orientation,
        func.count(),
        func.sum(case((_COUNTS, 1), else_=0)),
        func.sum(case((_COUNTS, Badge.weight), else_=0)),
        select(IndicatorVersion.name)
        .join(
            Indicator,
            and_(
                Indicator.community == IndicatorVersion.community,
                Indicator.indicator_id == IndicatorVersion.indicator_id,
                Indicator.version == IndicatorVersion.version,
            ),
        )
        .where(Indicator.community == bindparam("community"), Indicator.indicator_id == Badge.indicator_id)
        .scalar_subquery(),
    )
    .where(_MINE)
    .group_by(Badge.indicator_id, Badge.category, Badge.orientation)
)


_PROFILE_PAGE = (
    select(
        Badge.token_id,
        Badge.indicator_id,
        IndicatorVersion.name,
        Badge.category,
        Badge.orientation,
        Badge.weight,
        Badge.minted_at,
        Badge.validity,
        Badge.revoked_at,
        Badge.disowned_at,
    )
    .join(
        IndicatorVersion,
        and_(
            IndicatorVersion.community == Badge.community,
            IndicatorVersion.indicator_id == Badge.indicator_id,
            IndicatorVersion.version == Badge.indicator_version,
        ),
        isouter=True,
    )
    .where(_MINE)
    .order_by(Badge.token_id)
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)


def _scored_fields(row: Any) -> Any:
    """A profile page's row as ScoredBadge's fields (a name the index lacks reads as "")."""
    return (row[0], row[1], row[2] or "", *row[3:])


def profile(ctx: Context, community: Community, address: str, *, limit: int = 50, offset: int = 0) -> ProfileOut:
    """The member's scores, added up by the database (a handful of rows back, whatever the number
    of badges), and one page of their badges, oldest first."""
    address = address_of(address)
    params = {"community": community.slug, "address": address}
    with ctx.sessions() as session:
        connection = session.connection()
        member = connection.execute(_PROFILE_MEMBER, params).first()
        if member is None:
            raise NotFound(_never_a_member(address, community))
        active, hidden, indexed_at, rule_value = member
        now = max(int(time.time()), indexed_at or 0)  # as index_time
        groups = connection.execute(_PROFILE_GROUPS, {**params, "now": now}).all()
        page = connection.execute(_PROFILE_PAGE, {**params, "limit": limit, "offset": offset}).all()
    rule = score_rule_of(rule_value)
    owned = sum(int(g[3]) for g in groups)
    badges = [profiles.ScoredBadge(*_scored_fields(row)) for row in page]
    scores = profiles.add_up(
        [profiles.Group(i, name or "", c, o, int(n), int(w or 0)) for i, c, o, _, n, w, name in groups if n],
        owned,
        rule=rule,
    )
    return ProfileOut(
        address=address,
        member=active,
        profile_hidden=bool(hidden),
        as_of=now,
        score_rule=rule,
        total_score=scores.total_score,
        badges_counting=scores.badges_counting,
        badges_not_counting=scores.badges_not_counting,
        by_indicator=scores.by_indicator,
        by_category=scores.by_category,
        by_orientation=scores.by_orientation,
        badges_total=owned,
        badges_limit=limit,
        badges_offset=offset,
        badges=[
            ProfileBadgeOut(
                token_id=s.token_id,
                indicator_id=s.indicator_id,
                indicator_name=s.indicator_name,
                category=s.category,
                orientation=s.orientation,
                weight=s.weight,
                minted_at=s.minted_at,
                counts=profiles.counts(s, now),
            )
            for s in badges
        ],
    )


def score_history(ctx: Context, community: Community, address: str) -> ScoreHistoryOut:
    """The member's weighted score over time: one point at each badge minted, revoked or expired,
    with the score (in total and by orientation) from that moment on, added up under the
    community's score rule as the profile is (its last point is the profile's score)."""
    address = address_of(address)
    with ctx.sessions() as session:
        if session.get(Member, (community.slug, address)) is None:
            raise NotFound(_never_a_member(address, community))
        now = index_time(session, community)
        rule = score_rule(session, community.slug)
        # time, orientation, +/- weight, token id, indicator
        changes: list[tuple[int, str, int, int, int]] = []
        for b in session.scalars(select(Badge).where(Badge.community == community.slug, Badge.owner == address)):
            changes.append((b.minted_at, b.orientation, b.weight, b.token_id, b.indicator_id))
            ends = [
                t
                for t in (b.revoked_at, b.disowned_at, b.minted_at + b.validity if b.validity else None)
                if t is not None
            ]
            if ends and min(ends) <= now:
                changes.append((min(ends), b.orientation, -b.weight, b.token_id, b.indicator_id))
    groups: dict[tuple[int, str], list[int]] = {}  # (indicator, orientation) -> [badges, weight]
    points: list[ScorePointOut] = []
    for at, orientation, delta, _token_id, indicator_id in sorted(changes):
        group = groups.setdefault((indicator_id, orientation), [0, 0])
        group[0] += 1 if delta > 0 else -1
        group[1] += delta
        counting = [profiles.Group(i, "", "", o, n, w) for (i, o), (n, w) in groups.items() if n > 0]
        scores = profiles.add_up(counting, 0, rule=rule)
        point = ScorePointOut(
            at=at,
            total=scores.total_score,
            object=scores.by_orientation["object"].score,
            community=scores.by_orientation["community"].score,
        )
        if points and points[-1].at == at:
            points[-1] = point
        else:
            points.append(point)
    return ScoreHistoryOut(address=address, as_of=now, score_rule=rule, points=points)
