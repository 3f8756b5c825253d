from __future__ import annotations

from fastapi import APIRouter

from backend.api.deps import CommunityDep, ContextDep
from backend.api.schemas import RelayerOut
from backend.relay import report as relay_report

router = APIRouter(prefix="/relayer", tags=["relayer"])


@router.get("", response_model=RelayerOut)
def get_relayer(ctx: ContextDep, community: CommunityDep):
    """What the relayer spent for this community and each of its members since the service
    started, what it has in flight, and the budgets that bound what anyone can make it spend."""
    return relay_report.relayer(ctx, community)
