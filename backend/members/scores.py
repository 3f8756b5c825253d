"""Contribution profiles: which badges count now, and the weighted scores they add up to."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from backend.members.schemas import CategoryScoreOut, IndicatorScoreOut, OrientationScoreOut, ScoresOut
from backend.vocabulary import ORIENTATIONS


@dataclass(frozen=True)
class ScoredBadge:
    token_id: int
    indicator_id: int
    indicator_name: str
    category: str
    orientation: str  # object | community
    weight: int
    minted_at: int
    validity: int  # seconds; 0 = forever
    revoked_at: int | None
    disowned_at: int | None


def counts(badge: ScoredBadge, now: int) -> bool:
    """As the contract's isActive: not revoked, not disowned by its holder, and within its validity period."""
    if badge.revoked_at is not None or badge.disowned_at is not None:
        return False
    return badge.validity == 0 or now < badge.minted_at + badge.validity


@dataclass(frozen=True)
class Group:
    """Counting badges of one indicator, category and orientation: what the database adds up."""

    indicator_id: int
    indicator_name: str
    category: str
    orientation: str
    badges: int
    score: int | float


def rounded(value: float) -> int | float:
    """Scores stay whole numbers under the linear rule; square roots are kept to 3 decimals."""
    return int(value) if float(value).is_integer() else round(value, 3)


def score(badges: Iterable[ScoredBadge], now: int, rule: str = "linear") -> ScoresOut:
    """Scores from badges in memory (the database does the same in members.service.profile)."""
    badges = list(badges)
    groups: dict[tuple, list[ScoredBadge]] = {}
    for b in badges:
        if counts(b, now):
            groups.setdefault((b.indicator_id, b.category, b.orientation), []).append(b)
    return add_up(
        [
            Group(i, found[0].indicator_name, c, o, len(found), sum(b.weight for b in found))
            for (i, c, o), found in groups.items()
        ],
        len(badges),
        rule=rule,
    )


def add_up(groups: Iterable[Group], owned: int, rule: str = "linear") -> ScoresOut:
    """The profile's scores, by indicator, category and orientation, from counting groups;
    `owned` is every badge the member holds, counting or not. Under the square-root rule, n
    counting badges of one indicator weigh their summed weight divided by the square root of n
    (their mean weight times the square root of n), shared among the indicator's groups."""
    groups = list(groups)
    per_indicator: dict[int, int] = {}
    for g in groups:
        per_indicator[g.indicator_id] = per_indicator.get(g.indicator_id, 0) + g.badges
    if rule == "square_root":
        groups = [
            Group(
                g.indicator_id,
                g.indicator_name,
                g.category,
                g.orientation,
                g.badges,
                g.score / math.sqrt(per_indicator[g.indicator_id]),
            )
            for g in groups
        ]
    by_indicator: dict[int, IndicatorScoreOut] = {}
    by_category: dict[str, CategoryScoreOut] = {}
    by_orientation: dict[str, OrientationScoreOut] = {o: OrientationScoreOut(badges=0, score=0) for o in ORIENTATIONS}
    for g in groups:
        indicator = by_indicator.get(g.indicator_id)
        if indicator is None:
            indicator = by_indicator[g.indicator_id] = IndicatorScoreOut(
                indicator_id=g.indicator_id, name=g.indicator_name, badges=0, score=0
            )
        category = by_category.get(g.category)
        if category is None:
            category = by_category[g.category] = CategoryScoreOut(category=g.category, badges=0, score=0)
        orientation = by_orientation[g.orientation]
        indicator.badges, indicator.score = indicator.badges + g.badges, indicator.score + g.score
        category.badges, category.score = category.badges + g.badges, category.score + g.score
        orientation.badges, orientation.score = orientation.badges + g.badges, orientation.score + g.score
    counting = sum(e.badges for e in by_orientation.values())
    entries: list[IndicatorScoreOut | CategoryScoreOut | OrientationScoreOut] = [
        *by_indicator.values(),
        *by_category.values(),
        *by_orientation.values(),
    ]
    for entry in entries:
        entry.score = rounded(entry.score)
    return ScoresOut(
        total_score=rounded(sum(e.score for e in by_orientation.values())),
        badges_counting=counting,
        badges_not_counting=owned - counting,
        by_indicator=sorted(by_indicator.values(), key=lambda e: e.indicator_id),
        by_category=sorted(by_category.values(), key=lambda e: e.category),
        by_orientation=by_orientation,
    )
