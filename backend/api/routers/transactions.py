from __future__ import annotations

import re

from fastapi import APIRouter

from backend.api.deps import CommunityDep, ContextDep, TxHashPath
from backend.api.schemas import TxOut
from backend.errors import InvalidRequest
from backend.relay.submit import status

router = APIRouter(prefix="/transactions", tags=["transactions"])


@router.get("/{tx_hash}", response_model=TxOut)
def get_transaction(ctx: ContextDep, community: CommunityDep, tx_hash: TxHashPath):
    """A relayed transaction's status: pending, succeeded (with created ids) or failed."""
    if not re.fullmatch(r"0x[0-9a-fA-F]{64}", tx_hash):
        raise InvalidRequest(f"'{tx_hash}' is not a transaction hash")
    return status(ctx, community, tx_hash)
