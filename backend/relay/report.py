"""What the relayer spent and learned, for the community and each member who shows their profile."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select

from backend.chain.deployments import Community
from backend.context import Context
from backend.indexer.models import (
    Member,
)


def relayer(ctx: Context, community: Community) -> dict[str, Any]:
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
    shown: list[dict[str, Any]] = []
    hidden_rows: list[dict[str, Any]] = []
    for member, figures in members.items():
        struck = strikes.get(member)
        row = {
            "member": member,
            **figures,
            "strikes": struck.count if struck else 0,
            "standing": struck.standing(settings) if struck else "ok",
        }
        (hidden_rows if member in hidden else shown).append(row)
    hidden_total = {
        name: sum(r[name] for r in hidden_rows)
        for name in ("requests", "succeeded", "failed", "gas_used", "fees_wei", "strikes")
    } | {"members": len(hidden_rows)}
    return {
        "address": ctx.gateway.relayer_address,
        "in_flight": worker.queued + worker.sent,
        "leading": worker.leading,
        "paused": worker.paused,
        "balance_wei": worker.balance_wei,
        "spent": spent,
        "by_member": sorted(shown, key=lambda row: (-row["gas_used"], row["member"])),
        "hidden_members": hidden_total,
        "budgets": {
            name: getattr(settings, name)
            for name in (
                "member_max_in_flight",
                "member_requests_per_minute",
                "member_gas_per_hour",
                "client_max_in_flight",
                "client_requests_per_minute",
                "client_gas_per_hour",
                "member_strikes_slow_after",
                "member_strikes_refuse_after",
                "member_strike_cooloff_seconds",
            )
        }
        | {
            "max_gas_per_request": settings.relay_max_gas_per_request,
            "min_deadline_headroom_seconds": settings.relay_min_deadline_headroom_seconds,
        },
    }
