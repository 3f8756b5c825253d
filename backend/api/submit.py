"""The signed-submit route, one helper for every action: a member's signed request checked and relayed,
and its outcome as the response: 200 once mined and indexed, 202 if not waited for."""

from __future__ import annotations

from fastapi import Request, Response

from backend.api.problems import status_url
from backend.chain.deployments import Community
from backend.context import Context
from backend.relay import submit as relay_submit
from backend.relay.schemas import SignedRequestIn, TxOut
from backend.relay.submit import TxOutcome

JSON = "application/json"


def client_of(request: Request) -> str:
    """The client address a relaying budget is kept for."""
    return request.client.host if request.client else "unknown"


def tx_response(outcome: TxOutcome, request: Request, response: Response) -> TxOut:
    out = TxOut(**outcome.__dict__)
    out.status_url = status_url(request, request_id=outcome.request_id, tx_hash=outcome.tx_hash)
    if outcome.status == "pending":
        response.status_code = 202  # accepted into the outbox: follow it at Location
        response.headers["Location"] = out.status_url or ""
    return out


def relay_signed(
    ctx: Context,
    community: Community,
    kind: str,
    body: SignedRequestIn,
    request: Request,
    response: Response,
    wait: bool,
) -> Response:
    """Check a signed request of `kind` (claims, votes, ...) and relay it; its outcome as the response."""
    outcome = relay_submit.submit(
        ctx,
        community,
        kind=kind,
        typed_data=body.typed_data.as_dict(),
        signature=body.signature,
        wait=wait,
        client=client_of(request),
    )
    out = tx_response(outcome, request, response)
    # The TxOut written as JSON here, once: returned as a model, FastAPI dumps it, validates the
    # dump again as the route's response model (TxOut, which its schema still documents) and
    # serializes that, on every write. The same body, status and headers.
    answer = Response(out.model_dump_json(), status_code=response.status_code or 200, media_type=JSON)
    for name, value in response.raw_headers:
        if name not in (b"content-length", b"content-type"):
            answer.raw_headers.append((name, value))
    return answer
