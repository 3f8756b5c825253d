"""Turning a relayed write's outcome into a response: 200 once mined and indexed, 202 if not waited for."""

from __future__ import annotations

from fastapi import Request, Response

from backend.api.schemas import TxOut
from backend.services.relay import TxOutcome


def tx_response(outcome: TxOutcome, request: Request, response: Response) -> TxOut:
    out = TxOut(**outcome.__dict__)
    if outcome.status == "pending":
        response.status_code = 202
        community = request.path_params.get("community")
        out.status_url = (f"/communities/{community}" if community else "") + f"/transactions/{outcome.tx_hash}"
        response.headers["Location"] = out.status_url
    return out
