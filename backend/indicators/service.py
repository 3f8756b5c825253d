"""Indicators as the index holds them: each with its versions, and the community's scoring
and fair-play rules."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.chain.deployments import Community
from backend.context import Context
from backend.errors import NotFound
from backend.i18n import gettext as _
from backend.indexer.models import (
    EventRecord,
    Indicator,
    IndicatorVersion,
    Setting,
)
from backend.indexer.reads import page
from backend.indicators.schemas import CommunityRulesOut, IndicatorHistoryOut, IndicatorOut, IndicatorVersionOut
from backend.vocabulary import (
    INDEXED_INDICATOR_MAX,
    SCORE_RULES,
    ScoreRule,
)

V = TypeVar("V", bound=IndicatorVersionOut)


def _version_out(v: IndicatorVersion, model: type[V], **more: Any) -> V:
    """A version of an indicator as `model` (a version, a version in the history, the indicator)."""
    return model(
        version=v.version,
        name=v.name,
        description_uri=v.description_uri,
        category=v.category,
        name_raw=v.name_raw,
        description_uri_raw=v.description_uri_raw,
        category_raw=v.category_raw,
        orientation=v.orientation,
        weight=v.weight,
        endorsements_required=v.endorsements_required,
        validity_seconds=v.validity,
        endorser_indicator_id=v.endorser_indicator_id or None,
        earn_cap=v.earn_cap or None,
        attest_cap=v.attest_cap or None,
        cap_period_seconds=v.cap_period or None,
        defined_at=v.defined_at,
        tx_hash=v.tx_hash,
        **more,
    )


def _executed_proposal(session: Session, community: str, tx_hash: str) -> str | None:
    """The proposal whose execution was transaction tx_hash, if it was one (governance changes
    happen only by executed proposals; a deployment's own founding transactions are not)."""
    args = session.scalar(
        select(EventRecord.args)
        .where(
            EventRecord.community == community, EventRecord.tx_hash == tx_hash, EventRecord.name == "ProposalExecuted"
        )
        .limit(1)
    )
    return str(args["proposalId"]) if args else None


def _indicator_out(session: Session, indicator: Indicator, history: bool) -> IndicatorOut:
    current = session.get(IndicatorVersion, (indicator.community, indicator.indicator_id, indicator.version))
    if current is None:  # the projections write an indicator and its version together
        raise LookupError(f"indicator {indicator.indicator_id} has no version {indicator.version} in the index")
    versions: list[IndicatorHistoryOut] | None = None
    retired_by: str | None = None
    if history:
        rows = session.scalars(
            select(IndicatorVersion)
            .where(
                IndicatorVersion.community == indicator.community,
                IndicatorVersion.indicator_id == indicator.indicator_id,
            )
            .order_by(IndicatorVersion.version)
        )
        versions = [
            _version_out(v, IndicatorHistoryOut, proposal_id=_executed_proposal(session, v.community, v.tx_hash))
            for v in rows
        ]
        if indicator.retired_at is not None:
            retired = session.execute(
                select(EventRecord.tx_hash, EventRecord.args).where(
                    EventRecord.community == indicator.community,
                    EventRecord.name == "IndicatorRetired",
                    EventRecord.timestamp == indicator.retired_at,
                )
            ).all()
            retired_tx = next((tx for tx, args in retired if args.get("indicatorId") == indicator.indicator_id), None)
            retired_by = _executed_proposal(session, indicator.community, retired_tx) if retired_tx else None
    return _version_out(
        current,
        IndicatorOut,
        id=indicator.indicator_id,
        active=indicator.active,
        created_at=indicator.created_at,
        retired_at=indicator.retired_at,
        versions=versions,
        retired_by_proposal_id=retired_by,
    )


def list_indicators(
    ctx: Context, community: Community, *, active: bool | None, limit: int, offset: int
) -> tuple[list[IndicatorOut], int]:
    with ctx.sessions() as session:
        query = select(Indicator).where(Indicator.community == community.slug).order_by(Indicator.indicator_id)
        if active is not None:
            query = query.where(Indicator.active == active)
        rows, total = page(session, query, limit, offset)
        return [_indicator_out(session, r, False) for r in rows], total


def get_indicator(ctx: Context, community: Community, indicator_id: int) -> IndicatorOut:
    with ctx.sessions() as session:
        indicator = (
            session.get(Indicator, (community.slug, indicator_id)) if indicator_id <= INDEXED_INDICATOR_MAX else None
        )
        if indicator is None:
            raise NotFound(
                _(
                    "No indicator %(indicator_id)s in community '%(community)s'",
                    indicator_id=indicator_id,
                    community=community.slug,
                )
            )
        return _indicator_out(session, indicator, True)


def score_rule(session: Session, community: str) -> ScoreRule:
    value = session.get(Setting, (community, "score_rule"))
    return score_rule_of(value.value if value is not None else None)


def score_rule_of(value: str | int | None) -> ScoreRule:
    """The score rule a settings value names; linear when unset or out of range."""
    return SCORE_RULES[int(value)] if value is not None and int(value) < len(SCORE_RULES) else "linear"


def community_rules(ctx: Context, community: Community) -> CommunityRulesOut:
    """The community-wide fair-play rules: the reciprocal-endorsement window and the score rule."""
    with ctx.sessions() as session:
        window = session.get(Setting, (community.slug, "reciprocal_window"))
        return CommunityRulesOut(
            reciprocal_window_seconds=int(window.value) if window else 0,
            score_rule=score_rule(session, community.slug),
        )
