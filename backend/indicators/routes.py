from __future__ import annotations

from fastapi import APIRouter

from backend.dependencies import (
    CommunityDep,
    ContextDep,
    IndexRead,
    IndicatorIdPath,
    PagingDep,
)
from backend.indicators import service as indicator_reads
from backend.indicators.schemas import IndicatorOut
from backend.schemas import Page

router = APIRouter(prefix="/indicators", tags=["indicators"], dependencies=[IndexRead])


@router.get("", response_model=Page[IndicatorOut])
def list_indicators(ctx: ContextDep, community: CommunityDep, paging: PagingDep, active: bool | None = None):
    """The community's indicators of value, current versions."""
    items, total = indicator_reads.list_indicators(
        ctx, community, active=active, limit=paging.limit, offset=paging.offset
    )
    return Page(items=items, total=total, limit=paging.limit, offset=paging.offset)


@router.get("/{indicator_id}", response_model=IndicatorOut)
def get_indicator(ctx: ContextDep, community: CommunityDep, indicator_id: IndicatorIdPath):
    """One indicator with its version history."""
    return indicator_reads.get_indicator(ctx, community, indicator_id)
