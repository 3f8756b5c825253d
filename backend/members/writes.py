"""The writes of members: delegating one's vote."""

from __future__ import annotations

from typing import Any

from backend.chain.addresses import checksum
from backend.chain.deployments import Community
from backend.context import Context
from backend.relay.checks import prepare


def prepare_delegation(ctx: Context, community: Community, *, signer: str, delegatee: str) -> dict[str, Any]:
    data = ctx.gateway.abi("membership").function("delegate").encode(checksum(delegatee))
    return prepare(ctx, community, signer=signer, target="membership", data=data)
