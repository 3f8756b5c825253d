"""RFC 9457 problem+json for every error, in one place."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from backend.errors import DomainError

log = logging.getLogger(__name__)
MEDIA_TYPE = "application/problem+json"


def problem(status: int, title: str, detail: str, request: Request, type_: str = "about:blank", **extra) -> JSONResponse:
    body = {"type": type_ if type_ == "about:blank" else f"/problems/{type_}", "title": title, "status": status,
            "detail": detail, "instance": request.url.path, **extra}
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE)


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError):
        return problem(exc.status, exc.title, exc.detail, request, exc.type, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        where = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors[:5])
        # A body that is not even JSON is a 400; a well-formed body with wrong fields is 422.
        malformed = any(e["type"] == "json_invalid" for e in errors)
        status = 400 if malformed else 422
        title = "Malformed request body" if malformed else "Invalid request fields"
        return problem(status, title, where, request, "validation", errors=errors)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException):
        return problem(exc.status_code, str(exc.detail), str(exc.detail), request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unexpected error on %s", request.url.path)
        return problem(500, "Internal error", f"{type(exc).__name__}: the service failed; see its log", request)
