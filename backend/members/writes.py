"""The writes of members about themselves: delegating one's vote, one's name and linked accounts."""

from __future__ import annotations

from typing import Any

from backend.chain.addresses import checksum
from backend.chain.deployments import Community
from backend.context import Context
from backend.relay.checks import prepare
from backend.vocabulary import SITES, Site


def prepare_delegation(ctx: Context, community: Community, *, signer: str, delegatee: str) -> dict[str, Any]:
    data = ctx.gateway.abi("membership").function("delegate").encode(checksum(delegatee))
    return prepare(ctx, community, signer=signer, target="membership", data=data)


def prepare_name(ctx: Context, community: Community, *, signer: str, name: str) -> dict[str, Any]:
    """setName: the contract refuses a name another member holds (DirectoryTaken), in the simulation."""
    data = ctx.gateway.abi("membership").function("setName").encode(name)
    return prepare(ctx, community, signer=signer, target="membership", data=data)


def prepare_linked_account(
    ctx: Context, community: Community, *, signer: str, site: Site, handle: str
) -> dict[str, Any]:
    data = ctx.gateway.abi("membership").function("linkAccount").encode(SITES.index(site) + 1, handle)
    return prepare(ctx, community, signer=signer, target="membership", data=data)
