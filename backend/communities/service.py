"""The service's health: the chain, the index of each community, and what was set aside."""

from __future__ import annotations

from sqlalchemy import func, select

from backend.communities.schemas import CommunityIndexOut, FactoryFollowingOut, HealthOut, SetAsideOut
from backend.context import Context
from backend.indexer.models import (
    Cursor,
    SetAside,
)
from backend.indexer.reads import unix

RECENT_SET_ASIDE = 10


def health(ctx: Context) -> HealthOut:
    """The chain head, and per community how far the index is behind it (blocks and chain
    seconds), whether indexing it fails now, its newest error and its set-aside events.
    Raises NodeUnavailable (503) when the node cannot be reached."""
    settings, indexer = ctx.settings, ctx.indexer
    head = ctx.gateway.block_number()
    safe = max(head - settings.confirmations, 0)
    communities = ctx.deployments.communities
    with ctx.sessions() as session:
        cursors = {c.community: c for c in session.scalars(select(Cursor))}
        set_aside = dict(session.execute(select(SetAside.community, func.count()).group_by(SetAside.community)).all())
        recent = list(
            session.scalars(
                select(SetAside)
                .order_by(SetAside.set_aside_at.desc(), SetAside.block_number.desc(), SetAside.log_index.desc())
                .limit(RECENT_SET_ASIDE)
            )
        )
    indexed = {
        slug: cursors[slug].block_number if slug in cursors else c.deployment_block - 1
        for slug, c in communities.items()
    }
    # Chain times: of the safe head, and of any indexed block whose time no cursor holds yet.
    wanted = sorted({safe} | {indexed[slug] for slug in communities if slug not in cursors and indexed[slug] >= 0})
    times = {n: h[0] for n, h in ctx.gateway.block_headers(wanted).items() if h is not None}
    reasons: list[str] = []
    if indexer.chain_state.error:
        reasons.append(f"the indexer cannot read the chain head: {indexer.chain_state.error}")
    out: dict[str, CommunityIndexOut] = {}
    for slug in communities:
        state = indexer.state(slug)
        lag_blocks = max(safe - indexed[slug], 0)
        indexed_time = cursors[slug].block_timestamp if slug in cursors else times.get(indexed[slug])
        lag_seconds = None if indexed_time is None or safe not in times else max(times[safe] - indexed_time, 0)
        count = set_aside.get(slug, 0)
        out[slug] = CommunityIndexOut(
            indexed_block=indexed[slug],
            lag_blocks=lag_blocks,
            lag_seconds=lag_seconds,
            error=state.error,
            error_at=unix(state.error_at),
            last_error=state.last_error,
            last_error_at=unix(state.last_error_at),
            synced_at=unix(state.synced_at),
            set_aside=count,
        )
        if lag_blocks > settings.health_max_lag_blocks:
            behind = f" ({lag_seconds} s of chain time)" if lag_seconds is not None else ""
            reasons.append(f"community '{slug}' is indexed {lag_blocks} blocks behind the chain{behind}")
        if state.error:
            reasons.append(f"indexing community '{slug}' fails: {state.error}")
        if count:
            reasons.append(
                f"{count} event{'s' if count > 1 else ''} of community '{slug}' set aside: "
                "the index lacks them until a reindex stores them"
            )
    factory = _factory_following(ctx, reasons)
    errors = [(s.last_error_at, s.last_error) for s in (indexer.chain_state, *indexer.states.values()) if s.last_error]
    last_at, last = max(errors, key=lambda e: e[0] or 0) if errors else (None, None)
    lags = [c.lag_seconds for c in out.values() if c.lag_seconds is not None]
    return HealthOut(
        status="degraded" if reasons else "ok",
        reasons=reasons,
        chain_id=ctx.gateway.chain_id,
        head_block=head,
        confirmations=settings.confirmations,
        indexed_block=min(indexed.values(), default=None),
        indexed_blocks=indexed,
        lag_blocks=max((c.lag_blocks for c in out.values()), default=0),
        lag_seconds=max(lags, default=None),
        max_lag_blocks=settings.health_max_lag_blocks,
        indexer_error=indexer.last_error,
        last_error=last,
        last_error_at=unix(last_at),
        communities=out,
        set_aside=sum(set_aside.values()),
        set_aside_recent=[
            SetAsideOut(
                community=r.community,
                block_number=r.block_number,
                log_index=r.log_index,
                tx_hash=r.tx_hash,
                contract=r.contract,
                event=r.name,
                error=r.error,
                set_aside_at=r.set_aside_at,
            )
            for r in recent
        ],
        factory=factory,
    )


def _factory_following(ctx: Context, reasons: list[str]) -> FactoryFollowingOut | None:
    """The community factory the service follows, and what it found; why it is not "ok" added to `reasons`."""
    follower, state = ctx.indexer.factory, ctx.indexer.factory_state
    factory = follower.factory
    if factory is None:
        return None
    settings = ctx.settings
    served = sum(1 for slug in ctx.deployments.communities if slug not in follower.file_slugs)
    if state.error:
        reasons.append(f"reading the community factory's events fails: {state.error}")
    if follower.state.over_cap:
        reasons.append(
            f"{follower.state.over_cap} communities created through the factory are not served: the service "
            f"serves at most {settings.follow_max_communities} (follow_max_communities)"
        )
    for slug, why in sorted(follower.state.refused.items()):
        reasons.append(f"community '{slug}' created through the factory is not served: {why}")
    return FactoryFollowingOut(
        address=factory.address,
        creators=follower.creators(),
        served=served,
        max_served=settings.follow_max_communities,
        left_out=follower.state.over_cap,
        refused=dict(follower.state.refused),
        error=state.error,
    )
