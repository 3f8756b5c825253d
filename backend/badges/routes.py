from __future__ import annotations

from fastapi import APIRouter

from backend.badges import service as badge_reads
from backend.badges.schemas import BadgeMetadataOut, BadgeOut
from backend.dependencies import (
    AddressQuery,
    CommunityDep,
    ContextDep,
    CursorPagingDep,
    IdPath,
    IndexRead,
)
from backend.schemas import CursorPage

router = APIRouter(prefix="/badges", tags=["badges"])


@router.get("", response_model=CursorPage[BadgeOut], dependencies=[IndexRead])
def list_badges(ctx: ContextDep, community: CommunityDep, paging: CursorPagingDep, owner: AddressQuery = None):
    """Badges, newest first, optionally those one member holds. Page through them by `offset`, or by
    `after` (each page's `next_after`: older badges than that token), which stays as fast however far down."""
    items, total, next_after = badge_reads.list_badges(
        ctx, community, owner=owner, limit=paging.limit, offset=paging.offset, after=paging.after
    )
    return CursorPage(
        items=items, total=total, limit=paging.limit, offset=paging.offset, after=paging.after, next_after=next_after
    )


@router.get("/{token_id}", response_model=BadgeOut, dependencies=[IndexRead])
def get_badge(ctx: ContextDep, community: CommunityDep, token_id: IdPath):
    """One badge: indicator, weight, evidence, and whether it counts now."""
    return badge_reads.get_badge(ctx, community, token_id)


@router.get("/{token_id}/metadata", response_model=BadgeMetadataOut)
def get_badge_metadata(ctx: ContextDep, community: CommunityDep, token_id: IdPath):
    """The badge's on-chain metadata: its tokenURI read from the contract, and that JSON decoded."""
    return badge_reads.badge_metadata(ctx, community, token_id)
