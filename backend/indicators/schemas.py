"""Indicators and their versions, as read."""

from __future__ import annotations

from pydantic import BaseModel, Field

from backend.schemas import raw_field
from backend.vocabulary import (
    Orientation,
    ScoreRule,
)


class IndicatorVersionOut(BaseModel):
    version: int
    name: str
    description_uri: str
    category: str
    name_raw: str | None = raw_field("name")
    description_uri_raw: str | None = raw_field("description_uri")
    category_raw: str | None = raw_field("category")
    orientation: Orientation
    weight: int
    endorsements_required: int
    validity_seconds: int
    endorser_indicator_id: int | None = Field(
        description="Only holders of a counting badge of this indicator may attest; null: any member"
    )
    earn_cap: int | None = Field(description="Badges one member may earn of it per cap period; null: no cap")
    attest_cap: int | None = Field(description="Claims one member may attest of it per cap period; null: no cap")
    cap_period_seconds: int | None = Field(
        description="The caps' period (fixed windows from the Unix epoch); null without caps"
    )
    defined_at: int
    tx_hash: str


class IndicatorHistoryOut(IndicatorVersionOut):
    proposal_id: str | None = Field(
        None, description="The executed proposal that defined this version; none for one defined at deployment"
    )


class IndicatorOut(IndicatorVersionOut):
    id: int
    active: bool
    created_at: int
    retired_at: int | None
    retired_by_proposal_id: str | None = Field(
        None, description="The executed proposal that retired it (with versions)"
    )
    versions: list[IndicatorHistoryOut] | None = Field(
        None, description="Every version, oldest first (one indicator read only)"
    )


class CommunityRulesOut(BaseModel):
    """The community-wide fair-play rules (a community's `parameters.rules`)."""

    reciprocal_window_seconds: int = Field(
        description="No endorsing back on the same indicator within this many seconds of being endorsed; 0: off"
    )
    score_rule: ScoreRule
