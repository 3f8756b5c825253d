from __future__ import annotations

from fastapi import APIRouter

from backend.communities import service as community_reads
from backend.communities.schemas import CommunityOut, HealthOut
from backend.dependencies import CommunityDep, ContextDep
from backend.indicators import service as indicator_reads
from backend.proposals import service as proposal_reads

router = APIRouter(tags=["communities"])


@router.get("/communities", response_model=list[CommunityOut])
def list_communities(ctx: ContextDep):
    """Every community this service serves."""
    return [
        CommunityOut(
            slug=c.slug,
            name=c.name,
            deployment_block=c.deployment_block,
            contracts=c.contracts,
            parameters=c.parameters,
            creator=c.creator,
        )
        for c in ctx.deployments.communities.values()
    ]


@router.get("/health", response_model=HealthOut)
def health(ctx: ContextDep):
    """The chain and the index: "ok" only when every community is indexed to within
    `max_lag_blocks` of the chain, no indexing is failing and no event was set aside; otherwise
    "degraded" (still 200), with `reasons`, the lag per community in blocks and chain seconds,
    the current and newest errors, and the newest set-aside events. 503 when the chain node is down."""
    return community_reads.health(ctx)


community_router = APIRouter(tags=["communities"])


@community_router.get("", response_model=CommunityOut)
def get_community(ctx: ContextDep, community: CommunityDep):
    """One community: contracts, founding parameters, governance settings (with `timelock_delay`,
    in seconds, how long a passed proposal waits before it runs), its guardian, and its fair-play
    rules (`rules`: the reciprocal-endorsement window in seconds, 0 = off, and the score rule)."""
    parameters = {
        **community.parameters,
        "governance": proposal_reads.governance_settings(ctx, community),
        # Who may cancel a passed proposal while it waits in the timelock; null: nobody.
        "guardian": proposal_reads.guardian(ctx, community),
        "rules": indicator_reads.community_rules(ctx, community),
    }
    return CommunityOut(
        slug=community.slug,
        name=community.name,
        deployment_block=community.deployment_block,
        contracts=community.contracts,
        parameters=parameters,
        creator=community.creator,
    )
