"""Consent: answering a nomination, disowning a badge, hiding a profile."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from backend.schemas import SignerIn
from backend.vocabulary import (
    UINT256,
)


class NominationAnswerPrepareIn(SignerIn):
    claim_id: int = Field(ge=1, le=UINT256, description="A nomination of the signer, still pending")
    answer: Literal["accept", "decline"] = Field(
        description="accept: the nomination counts (its badge is minted "
        "once it has its attestations, at once if it has them already); "
        "decline: it stays on record as declined and closes"
    )


class DisowningPrepareIn(SignerIn):
    token_id: int = Field(ge=1, le=UINT256, description="A badge the signer holds: it stops counting for good")


class ProfileVisibilityPrepareIn(SignerIn):
    hidden: bool = Field(description="true: keep the signer's profile out of public lists; false: show it again")
