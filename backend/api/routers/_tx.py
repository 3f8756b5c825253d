"""Turning a relayed write's outcome into a response: 200 once mined and indexed, 202 if not waited for."""

from __future__ import annotations

from fastapi import Request, Response

from backend.api.problems import status_url
from backend.api.schemas import TxOut
from backend.relay.submit import TxOutcome


def client_of(request: Request) -> str:
    """The client address a relaying budget is kept for."""
    return request.client.host if request.client else "unknown"


def tx_response(outcome: TxOutcome, request: Request, response: Response) -> TxOut:
    out = TxOut(**outcome.__dict__)
    out.status_url = status_url(request, request_id=outcome.request_id, tx_hash=outcome.tx_hash)
    if outcome.status == "pending":
        response.status_code = 202  # accepted into the outbox: follow it at Location
        response.headers["Location"] = out.status_url
    return out
