"""Organisations and the contributions made on their behalf, as read."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from backend.members.schemas import CategoryScoreOut
from backend.schemas import raw_field


class OrganisationOut(BaseModel):
    id: int
    name: str
    name_raw: str | None = raw_field("name")
    identifier: str = Field(description="Its address, domain or other identifier, as governance registered it")
    identifier_raw: str | None = raw_field("identifier")
    active: bool = Field(description="False once retired: new claims cannot credit it")
    added_at: int
    retired_at: int | None
    tx_hash: str


class OrganisationContributorOut(BaseModel):
    address: str
    badges: int = Field(description="Counting badges whose claims credit the organisation")
    score: int | float


class OrganisationProfileOut(OrganisationOut):
    as_of: int = Field(description="Chain time the scores were computed at")
    score_rule: Literal["linear", "square_root"]
    total_score: int | float
    badges_counting: int
    contributors: list[OrganisationContributorOut] = Field(
        description="Highest score first; members who keep their profile out of public lists are not listed"
    )
    contributors_hidden: int = Field(
        description="Contributors left out of the list because they hide their "
        "profile; their badges still count in the totals"
    )
    by_category: list[CategoryScoreOut]
