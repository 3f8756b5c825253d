from __future__ import annotations

import re

from fastapi import APIRouter

from backend.dependencies import CommunityDep, ContextDep, IdPath, TxHashPath
from backend.errors import InvalidRequest
from backend.i18n import gettext as _
from backend.relay import report as relay_report
from backend.relay.schemas import RelayerOut, TxOut
from backend.relay.submit import request_status, status

router = APIRouter(prefix="/relayer", tags=["relayer"])


@router.get("", response_model=RelayerOut)
def get_relayer(ctx: ContextDep, community: CommunityDep):
    """What the relayer spent for this community and each of its members since the service
    started, what it has in flight, and the budgets that bound what anyone can make it spend."""
    return relay_report.relayer(ctx, community)


# ---------------------------------------------------------------------- requests

requests_router = APIRouter(prefix="/requests", tags=["transactions"])


@requests_router.get("/{request_id}", response_model=TxOut)
def get_request(ctx: ContextDep, community: CommunityDep, request_id: IdPath):
    """A relayed request's status, from the relayer's outbox: pending (queued, then sent in a
    transaction), succeeded (with its transaction and what it created) or failed (its call
    reverted when executed, or the forwarder did not execute it: `error` says which)."""
    return request_status(ctx, community, request_id)


# ---------------------------------------------------------------------- transactions

transactions_router = APIRouter(prefix="/transactions", tags=["transactions"])


@transactions_router.get("/{tx_hash}", response_model=TxOut)
def get_transaction(ctx: ContextDep, community: CommunityDep, tx_hash: TxHashPath):
    """A relayed transaction's status: pending, succeeded (with created ids) or failed."""
    if not re.fullmatch(r"0x[0-9a-fA-F]{64}", tx_hash):
        raise InvalidRequest(_("'%(hash)s' is not a transaction hash", hash=tx_hash))
    return status(ctx, community, tx_hash)
