"""The writes of consent a member signs: answering a nomination, disowning a badge, hiding a profile."""

from __future__ import annotations

from typing import Any

from backend.chain.deployments import Community
from backend.context import Context
from backend.relay.checks import prepare


def prepare_nomination_answer(
    ctx: Context, community: Community, *, signer: str, claim_id: int, answer: str
) -> dict[str, Any]:
    function = {"accept": "acceptNomination", "decline": "declineNomination"}[answer]
    data = ctx.gateway.abi("badge").function(function).encode(claim_id)
    return prepare(ctx, community, signer=signer, target="badge", data=data)


def prepare_disowning(ctx: Context, community: Community, *, signer: str, token_id: int) -> dict[str, Any]:
    data = ctx.gateway.abi("badge").function("disown").encode(token_id)
    return prepare(ctx, community, signer=signer, target="badge", data=data)


def prepare_profile_visibility(ctx: Context, community: Community, *, signer: str, hidden: bool) -> dict[str, Any]:
    data = ctx.gateway.abi("badge").function("setProfileHidden").encode(hidden)
    return prepare(ctx, community, signer=signer, target="badge", data=data)
