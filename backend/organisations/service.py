"""Organisations a community registered, and the contributions made on their behalf."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import func, select

from backend.badges.service import counting
from backend.chain.deployments import Community
from backend.context import Context
from backend.errors import NotFound
from backend.i18n import gettext as _
from backend.indexer.models import (
    Badge,
    Member,
    Organisation,
)
from backend.indexer.reads import index_time, page
from backend.indicators.service import score_rule
from backend.members import scores as profiles
from backend.members.schemas import CategoryScoreOut
from backend.organisations.schemas import OrganisationContributorOut, OrganisationOut, OrganisationProfileOut

Out = TypeVar("Out", bound=OrganisationOut)


def _organisation_out(o: Organisation, model: type[Out], **more: Any) -> Out:
    """An organisation as `model` (in a list, or its profile with `more`)."""
    return model(
        id=o.organisation_id,
        name=o.name,
        name_raw=o.name_raw,
        identifier=o.identifier,
        identifier_raw=o.identifier_raw,
        active=o.active,
        added_at=o.added_at,
        retired_at=o.retired_at,
        tx_hash=o.tx_hash,
        **more,
    )


def list_organisations(
    ctx: Context, community: Community, *, active: bool | None, limit: int, offset: int
) -> tuple[list[OrganisationOut], int]:
    """The organisations governance registered, oldest first."""
    with ctx.sessions() as session:
        query = (
            select(Organisation).where(Organisation.community == community.slug).order_by(Organisation.organisation_id)
        )
        if active is not None:
            query = query.where(Organisation.active == active)
        rows, total = page(session, query, limit, offset)
        return [_organisation_out(o, OrganisationOut) for o in rows], total


def organisation_profile(ctx: Context, community: Community, organisation_id: int) -> OrganisationProfileOut:
    """An organisation's credited work: its contributors (but those who hide their profile) and its
    weighted score, in total and by category, over the counting badges whose claims credit it.
    Scores follow the community's score rule per contributor and indicator, as members' profiles do."""
    with ctx.sessions() as session:
        # A BIGINT column: every uint32 id the path admits can be asked for.
        organisation = session.get(Organisation, (community.slug, organisation_id))
        if organisation is None:
            raise NotFound(
                _(
                    "No organisation %(organisation_id)s in community '%(community)s'",
                    organisation_id=organisation_id,
                    community=community.slug,
                ),
                error="RegistryUnknownOrganisation",
            )
        now = index_time(session, community)
        rule = score_rule(session, community.slug)
        rows = session.execute(
            select(
                Badge.owner, Badge.indicator_id, Badge.category, Badge.orientation, func.count(), func.sum(Badge.weight)
            )
            .where(Badge.community == community.slug, Badge.organisation_id == organisation_id, counting(now))
            # Indicator first: grouped by owner first, SQLite walks every badge of the community in
            # the owner index's order instead of the organisation's few (5x slower at 10,000 badges).
            .group_by(Badge.indicator_id, Badge.owner, Badge.category, Badge.orientation)
        ).all()
        hidden = (
            set(
                session.scalars(
                    select(Member.address).where(
                        Member.community == community.slug,
                        Member.profile_hidden.is_(True),
                        Member.address.in_({row[0] for row in rows}),
                    )
                )
            )
            if rows
            else set()
        )
    by_member: dict[str, list[profiles.Group]] = {}
    for owner, indicator_id, category, orientation, n, w in rows:
        by_member.setdefault(owner, []).append(
            profiles.Group(indicator_id, "", category, orientation, int(n), int(w or 0))
        )
    contributors: list[OrganisationContributorOut] = []
    categories: dict[str, CategoryScoreOut] = {}
    for owner, groups in sorted(by_member.items()):
        scores = profiles.add_up(groups, 0, rule=rule)
        contributors.append(
            OrganisationContributorOut(address=owner, badges=scores.badges_counting, score=scores.total_score)
        )
        for entry in scores.by_category:
            total = categories.get(entry.category)
            if total is None:
                total = categories[entry.category] = CategoryScoreOut(category=entry.category, badges=0, score=0)
            total.badges += entry.badges
            total.score = profiles.rounded(total.score + entry.score)
    contributors.sort(key=lambda c: (-c.score, c.address))
    # A member who hides their profile is left out of the list, as from GET /members; their badges
    # still count in the organisation's totals.
    listed = [c for c in contributors if c.address not in hidden]
    return _organisation_out(
        organisation,
        OrganisationProfileOut,
        as_of=now,
        score_rule=rule,
        total_score=profiles.rounded(sum(c.score for c in contributors)),
        badges_counting=sum(c.badges for c in contributors),
        contributors=listed,
        contributors_hidden=len(contributors) - len(listed),
        by_category=sorted(categories.values(), key=lambda e: e.category),
    )
