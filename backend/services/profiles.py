"""Contribution profiles: which badges count now, and the weighted scores they add up to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable


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


def counts(badge: ScoredBadge, now: int) -> bool:
    """As the contract's isActive: not revoked, and within its validity period."""
    if badge.revoked_at is not None:
        return False
    return badge.validity == 0 or now < badge.minted_at + badge.validity


def score(badges: Iterable[ScoredBadge], now: int) -> dict:
    badges = list(badges)
    counting = [b for b in badges if counts(b, now)]
    by_indicator: dict[int, dict] = {}
    by_category: dict[str, dict] = {}
    by_orientation = {o: {"badges": 0, "score": 0} for o in ("object", "community")}
    for b in counting:
        entry = by_indicator.setdefault(b.indicator_id, {"indicator_id": b.indicator_id, "name": b.indicator_name,
                                                         "badges": 0, "score": 0})
        entry["badges"] += 1
        entry["score"] += b.weight
        cat = by_category.setdefault(b.category, {"category": b.category, "badges": 0, "score": 0})
        cat["badges"] += 1
        cat["score"] += b.weight
        by_orientation[b.orientation]["badges"] += 1
        by_orientation[b.orientation]["score"] += b.weight
    return {
        "total_score": sum(b.weight for b in counting),
        "badges_counting": len(counting),
        "badges_not_counting": len(badges) - len(counting),
        "by_indicator": sorted(by_indicator.values(), key=lambda e: e["indicator_id"]),
        "by_category": sorted(by_category.values(), key=lambda e: e["category"]),
        "by_orientation": by_orientation,
    }
