"""RFC 9457 problem+json for every error, in one place."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.errors import DomainError
from backend.i18n import N_
from backend.i18n import gettext as _
from backend.i18n.validation import validation_message

log = logging.getLogger(__name__)
MEDIA_TYPE = "application/problem+json"


# The body every error answers with, as documented in /openapi.json.
PROBLEM_SCHEMA = {
    "title": "Problem",
    "type": "object",
    "required": ["type", "title", "status", "detail", "instance"],
    "properties": {
        "type": {"type": "string", "description": "about:blank, or /problems/<kind>"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "What was wrong, in words"},
        "instance": {"type": "string"},
        "error": {"type": "string", "description": "The contract's custom error name, when there is one"},
        "arguments": {"type": "object"},
        "errors": {"type": "array", "items": {"type": "object"}, "description": "Each invalid field"},
        "request_id": {"type": "integer", "description": "A write already accepted: follow it at status_url"},
        "tx_hash": {"type": "string", "description": "A write already sent: follow it at status_url"},
        "status_url": {"type": "string"},
        "budget": {"type": "string", "description": "Which budget is spent (429)"},
        "retry_after": {"type": "integer"},
    },
}
_ANSWERS = {
    400: "Malformed request (not JSON, not a valid id, hash or address)",
    403: "Not allowed: not a member, or a signature that is not the signer's",
    404: "Unknown community, or no such indicator, proposal, claim, badge, member or transaction",
    409: "Conflicts with the chain's state (already done, replayed, wrong state)",
    422: "Invalid fields (types, ranges, patterns), or a request the contract cannot process",
    429: "A relaying budget of the member or the client is spent: `Retry-After` says when to come back",
    503: "The chain node or the index's database is unavailable; a write already accepted carries "
    "`request_id` and a `Location` to follow it",
    504: "Sent, but not mined in time: poll the transaction's status",
}
_READ_ANSWERS = (400, 404, 422, 503)


def problem(
    status: int,
    title: str,
    detail: str,
    request: Request,
    type_: str = "about:blank",
    headers: dict[str, str] | None = None,
    **extra,
) -> JSONResponse:
    body = {
        "type": type_ if type_ == "about:blank" else f"/problems/{type_}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def domain_problem(request: Request, exc: DomainError) -> JSONResponse:
    """A domain error's answer (raised by a route, or answered by a middleware before any route)."""
    extra, headers = dict(exc.extra), {}
    if "retry_after" in extra:  # a spent budget says when to come back
        headers["Retry-After"] = str(extra["retry_after"])
    if "request_id" in extra or "tx_hash" in extra:
        # Accepted or sent: whatever failed afterwards, the client follows it instead of signing again.
        extra["status_url"] = status_url(request, request_id=extra.get("request_id"), tx_hash=extra.get("tx_hash"))
        headers["Location"] = extra["status_url"]
    title = _(exc.title)  # a catalog message, said in the request's language
    return problem(exc.status, title, exc.detail, request, exc.type, headers=headers or None, **extra)


def status_url(request: Request, *, request_id: int | None = None, tx_hash: str | None = None) -> str | None:
    """Where a relayed request (or, for a transaction not relayed by the outbox, its hash) is followed."""
    community = request.path_params.get("community")
    prefix = f"/communities/{community}" if community else ""
    if request_id is not None:
        return f"{prefix}/requests/{request_id}"
    return f"{prefix}/transactions/{tx_hash}" if tx_hash else None


def document(app: FastAPI) -> None:
    """Declare in the OpenAPI document the problem+json answers each operation can give, and
    drop FastAPI's default 422 body (HTTPValidationError), which this service never sends."""
    generate = app.openapi

    def openapi() -> dict:
        fresh = app.openapi_schema is None
        schema = generate()
        if fresh:
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.pop("HTTPValidationError", None)
            components.pop("ValidationError", None)
            components["Problem"] = PROBLEM_SCHEMA
            for operations in schema["paths"].values():
                for method, operation in operations.items():
                    codes = _READ_ANSWERS if method in ("get", "head") else _ANSWERS
                    for code in codes:
                        operation["responses"][str(code)] = {
                            "description": _ANSWERS[code],
                            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
                        }
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the schema


# Starlette's own details (an unknown path, a method a path does not take), said in the catalog's words.
_STATUS_PHRASES = (N_("Not Found"), N_("Method Not Allowed"))


def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected error on %s", request.url.path, exc_info=exc)
    return problem(
        500,
        _("Internal error"),
        _("%(kind)s: the service failed; see its log", kind=type(exc).__name__),
        request,
    )


class KeepConnection:
    """ASGI middleware: an error no handler answered is a 500 problem, and the connection stays
    open. Starlette's outermost handler answers it too, but then raises it again for the server
    to log, and uvicorn drops the connection: a client that keeps it alive (a browser, a
    connection pool) sees its next request reset."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            if started:  # half an answer is out: only ending the connection ends it
                raise
            await _internal_error(Request(scope), exc)(scope, receive, send)


def install(app: FastAPI) -> None:
    app.add_middleware(KeepConnection)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError):
        return domain_problem(request, exc)

    @app.exception_handler(SQLAlchemyError)
    async def _database(request: Request, exc: SQLAlchemyError):
        # The index's database went away (or refused): a 503 the client can retry, not a 500.
        log.warning("index database error on %s: %r", request.url.path, exc)
        if request.method == "POST":  # a write: it may have been accepted as the database failed
            detail = _(
                "The service could not reach its database just now, so it cannot say whether this was recorded. "
                "Try again in a few seconds. If you sent a signed request, send the same one again, not a newly "
                "signed one: if it was recorded, the answer is that record"
            )
        else:
            detail = _("The service could not reach its database just now. Try again in a few seconds")
        return problem(
            503,
            _("Index database unavailable"),
            detail,
            request,
            "index-unavailable",
            headers={"Retry-After": "2"},
            error=type(exc).__name__,  # for whoever reads the logs, not in the sentence
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        errors = [{"loc": list(e["loc"]), "msg": validation_message(e), "type": e["type"]} for e in exc.errors()]
        where = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors[:5])
        # A body that is not even JSON is a 400; a well-formed body with wrong fields is 422.
        malformed = any(e["type"] == "json_invalid" for e in errors)
        status = 400 if malformed else 422
        title = _("Malformed request body") if malformed else _("Invalid request fields")
        return problem(status, title, where, request, "validation", errors=errors)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException):
        # Keeps the headers (a 405 must say which methods are Allowed). Starlette's own details are
        # its status phrases, in the catalog (_STATUS_PHRASES).
        said = _(str(exc.detail))
        return problem(
            exc.status_code,
            said,
            said,
            request,
            headers=dict(exc.headers) if exc.headers else None,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        # What KeepConnection did not see (an error in a middleware outside it).
        return _internal_error(request, exc)
