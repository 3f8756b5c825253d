"""Members, delegations and contribution profiles."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from backend.relay.schemas import TxOut
from backend.schemas import HEX32, BodyIn, SignerIn
from backend.vocabulary import (
    Address,
    HandleOrEmpty,
    NameOrEmpty,
    Site,
)


class DelegationPrepareIn(SignerIn):
    delegatee: Address


class NamePrepareIn(SignerIn):
    name: NameOrEmpty = Field(
        description="The name others see instead of your address: 1-32 characters, unique in the community "
        "(ignoring upper and lower case); an empty one clears yours"
    )


class LinkedAccountPrepareIn(SignerIn):
    site: Site
    handle: HandleOrEmpty = Field(description="Your user name there, without @; an empty one unlinks it")


class LinkedAccountOut(BaseModel):
    site: Site
    handle: str


class MemberOut(BaseModel):
    address: str
    name: str | None = Field(description="The name the member gave themselves; null until they set one")
    linked_accounts: list[LinkedAccountOut] = Field(
        description="Their accounts on GitHub, GitLab, drupal.org or the community's Discourse, as they declared them"
    )
    active: bool
    admitted_at: int
    removed_at: int | None
    delegate: str | None
    votes: int
    profile_hidden: bool = Field(
        description="The member keeps their profile out of public lists (GET /members, "
        "the nominee picker, reports' and organisations' per-member figures); it is still "
        "answered here, counts everywhere, and records they take part in keep their address"
    )


class ProfileBadgeOut(BaseModel):
    token_id: int
    indicator_id: int
    indicator_name: str
    category: str
    orientation: str
    weight: int
    minted_at: int
    counts: bool


class IndicatorScoreOut(BaseModel):
    indicator_id: int
    name: str
    badges: int = Field(description="Counting badges of this indicator")
    score: int | float


class CategoryScoreOut(BaseModel):
    category: str
    badges: int = Field(description="Counting badges of this category")
    score: int | float


class OrientationScoreOut(BaseModel):
    badges: int = Field(description="Counting badges of this orientation")
    score: int | float


class ScoresOut(BaseModel):
    """What counting badges add up to (backend/members/scores.py), for a profile or an organisation."""

    total_score: int | float
    badges_counting: int
    badges_not_counting: int
    by_indicator: list[IndicatorScoreOut]
    by_category: list[CategoryScoreOut]
    by_orientation: dict[str, OrientationScoreOut]


class ProfileOut(BaseModel):
    address: str
    member: bool
    profile_hidden: bool = Field(
        description="The member keeps this profile out of public lists; it still counts "
        "and is answered to anyone who asks for it by address"
    )
    as_of: int = Field(description="Chain time the profile was computed at")
    score_rule: Literal["linear", "square_root"] = Field(
        description="How the scores add up, as the community set it: linear sums the weights of an indicator's "
        "badges; square_root gives n badges of one indicator their mean weight times the square root of "
        "n (rounded to 3 decimals)"
    )
    total_score: int | float
    badges_counting: int
    badges_not_counting: int
    by_indicator: list[IndicatorScoreOut]
    by_category: list[CategoryScoreOut]
    by_orientation: dict[str, OrientationScoreOut] = Field(description="object and community")
    badges_total: int = Field(description="Every badge the member holds, counting or not")
    badges_limit: int
    badges_offset: int
    badges: list[ProfileBadgeOut] = Field(description="One page of the member's badges, oldest first")


class ScorePointOut(BaseModel):
    at: int = Field(description="Chain time (unix seconds) from which this score holds")
    total: int | float
    object: int | float = Field(description="Score from object-oriented indicators (code, documents, ...)")
    community: int | float = Field(description="Score from community-oriented indicators (mentoring, events, ...)")


class ScoreHistoryOut(BaseModel):
    address: str
    as_of: int = Field(description="Chain time the history was computed at")
    score_rule: Literal["linear", "square_root"] = Field(
        description="The community's score rule, applied at every point as the profile applies it"
    )
    points: list[ScorePointOut] = Field(description="One point at each badge minted, revoked or expired, oldest first")


class PasskeyAccountIn(BodyIn):
    """A passkey's P-256 public key, as the browser's navigator.credentials.create returns it."""

    x: str = Field(pattern=HEX32, description="The public key's x coordinate: 0x and 64 hex digits")
    y: str = Field(pattern=HEX32, description="The public key's y coordinate: 0x and 64 hex digits")
    invitation_secret: str | None = Field(
        None,
        pattern=HEX32,
        description="The secret of an open invitation this account is about to accept: the account is then "
        "deployed before it is a member",
    )


class PasskeyKeyPrepareIn(SignerIn):
    """Another passkey for the signer's own passkey account, or one to remove from it."""

    signer: Address = Field(description="The passkey account, signing with a passkey it holds")
    x: str = Field(pattern=HEX32, description="The other passkey's public key, x: 0x and 64 hex digits")
    y: str = Field(pattern=HEX32, description="Its y coordinate")
    change: Literal["add", "remove"] = "add"


class PasskeyAccountOut(BaseModel):
    address: str = Field(description="The member address of this passkey: admit or credit it, sign as it")
    deployed: bool = Field(
        description="Whether the account exists (or this call deployed it). It is deployed once it can act: "
        "when its address is a member, or with the secret of an open invitation"
    )
    deployed_now: bool = Field(description="Whether this call deployed the account")
    tx: TxOut | None = Field(None, description="The relayed deployment, when this call sent one")
