"""Badges and their on-chain metadata, as read."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from backend.schemas import raw_field
from backend.vocabulary import (
    Orientation,
)


class BadgeOut(BaseModel):
    token_id: int
    owner: str
    contributor: str
    indicator_id: int
    indicator_version: int
    indicator_name: str | None
    category: str
    orientation: str
    weight: int
    validity_seconds: int
    minted_at: int
    revoked_at: int | None
    revoke_reason: str | None
    revoke_reason_raw: str | None = raw_field("revoke_reason")
    disowned_at: int | None = Field(
        description="When its holder disowned it (unix seconds): it stays on record and never counts again"
    )
    counts: bool
    tx_hash: str


class BadgeMetadataIndicatorOut(BaseModel):
    id: int
    version: int
    name: str
    orientation: Orientation


class BadgeMetadataOut(BaseModel):
    """The badge's tokenURI, read from the contract now, and its JSON decoded."""

    model_config = ConfigDict(extra="allow")
    token_uri: str = Field(description="data:application/json;base64,... as the contract returns it")
    name: str
    indicator: BadgeMetadataIndicatorOut
    contributor: str
    weight: int
    evidence_hash: str
    minted_at: int
    valid_for_seconds: int
    revoked_at: int = Field(0, description="When governance revoked it (unix seconds); 0 if never")
    disowned_at: int = Field(0, description="When its holder disowned it (unix seconds); 0 if never")
    active: bool = Field(description="isActive: not revoked, not disowned and within its validity period")
