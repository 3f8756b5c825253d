"""What the relayer spent and learned, for the community and each member who shows their profile."""

from __future__ import annotations

import time

from sqlalchemy import select

from backend.chain.deployments import Community
from backend.context import Context
from backend.indexer.models import (
    Member,
)
from backend.relay.schemas import BudgetsOut, HiddenSpentOut, MemberSpentOut, RelayerOut, Spent


def relayer(ctx: Context, community: Community) -> RelayerOut:
    """What the relayer spent and learned, per member: members who hid their profile are counted
    together, never named (their addresses are on the chain, not in this service's public lists)."""
    spent, members = ctx.book.spent(community.slug)
    strikes = ctx.book.strikes(community.slug, time.time())
    worker, settings = ctx.worker.status(), ctx.settings
    with ctx.sessions() as session:
        hidden = (
            set(
                session.scalars(
                    select(Member.address).where(Member.community == community.slug, Member.profile_hidden.is_(True))
                )
            )
            if members
            else set()
        )
    shown: list[MemberSpentOut] = []
    hidden_rows: list[MemberSpentOut] = []
    for member, figures in members.items():
        struck = strikes.get(member)
        row = MemberSpentOut(
            member=member,
            **figures,
            strikes=struck.count if struck else 0,
            standing=struck.standing(settings) if struck else "ok",
        )
        (hidden_rows if member in hidden else shown).append(row)
    hidden_total = HiddenSpentOut(
        requests=sum(r.requests for r in hidden_rows),
        succeeded=sum(r.succeeded for r in hidden_rows),
        failed=sum(r.failed for r in hidden_rows),
        gas_used=sum(r.gas_used for r in hidden_rows),
        fees_wei=sum(r.fees_wei for r in hidden_rows),
        strikes=sum(r.strikes for r in hidden_rows),
        members=len(hidden_rows),
    )
    return RelayerOut(
        address=ctx.gateway.relayer_address,
        in_flight=worker.queued + worker.sent,
        leading=worker.leading,
        paused=worker.paused,
        balance_wei=worker.balance_wei,
        spent=Spent(**spent),
        by_member=sorted(shown, key=lambda row: (-row.gas_used, row.member)),
        hidden_members=hidden_total,
        budgets=BudgetsOut(
            member_max_in_flight=settings.member_max_in_flight,
            member_requests_per_minute=settings.member_requests_per_minute,
            member_gas_per_hour=settings.member_gas_per_hour,
            client_max_in_flight=settings.client_max_in_flight,
            client_requests_per_minute=settings.client_requests_per_minute,
            client_gas_per_hour=settings.client_gas_per_hour,
            max_gas_per_request=settings.relay_max_gas_per_request,
            member_strikes_slow_after=settings.member_strikes_slow_after,
            member_strikes_refuse_after=settings.member_strikes_refuse_after,
            member_strike_cooloff_seconds=settings.member_strike_cooloff_seconds,
            min_deadline_headroom_seconds=settings.relay_min_deadline_headroom_seconds,
        ),
    )
