from __future__ import annotations

from fastapi import APIRouter

from backend.api.deps import CommunityDep, ContextDep, IdPath
from backend.api.schemas import TxOut
from backend.relay.submit import request_status

router = APIRouter(prefix="/requests", tags=["transactions"])


@router.get("/{request_id}", response_model=TxOut)
def get_request(ctx: ContextDep, community: CommunityDep, request_id: IdPath):
    """A relayed request's status, from the relayer's outbox: pending (queued, then sent in a
    transaction), succeeded (with its transaction and what it created) or failed (its call
    reverted when executed, or the forwarder did not execute it: `error` says which)."""
    return request_status(ctx, community, request_id)
