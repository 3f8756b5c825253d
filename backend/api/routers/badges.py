from __future__ import annotations

from fastapi import APIRouter

from backend.api.deps import CommunityDep, ContextDep, IdPath
from backend.api.schemas import BadgeOut
from backend.services import reads

router = APIRouter(prefix="/badges", tags=["badges"])


@router.get("/{token_id}", response_model=BadgeOut)
def get_badge(ctx: ContextDep, community: CommunityDep, token_id: IdPath):
    """One badge: indicator, weight, evidence, and whether it counts now."""
    return reads.get_badge(ctx, community, token_id)
