"""How long a request's body may be, for every route that does not read its own.

FastAPI reads a body whole before anything else (so does the signed submits' door), and the app
set no limit: a client could make the service hold any number of gigabytes in memory, a request
at a time. Here a body is refused (413, problem+json, in the member's language) once it is
known to be longer than `api_max_body_bytes`: at once when its Content-Length says so, without
reading it; as it arrives when it comes in chunks, read up to the limit and no further. A body
within the limit goes on as it came (the server holds a declared length to its word). The
capture routes read their own bodies, with limits of their own (webhooks, imported files), and
are left to them.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette._utils import get_route_path  # the path the router matches (under a root_path)
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from backend.api.problems import domain_problem
from backend.api.received import header, receive_body
from backend.errors import too_large

_WITHOUT_BODY = ("GET", "HEAD", "OPTIONS")


class BodyLimit:
    """ASGI middleware (see the module's docstring)."""

    def __init__(self, app: ASGIApp, limit: int, reads_own_body: Callable[[str], bool]) -> None:
        self.app, self.limit, self.reads_own_body = app, limit, reads_own_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _WITHOUT_BODY or self.reads_own_body(get_route_path(scope)):
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            await self._refuse(scope, receive, send)
            return
        if declared is not None:
            await self.app(scope, receive, send)
            return
        # In chunks, of no declared length: read up to the limit, then passed on as it came.
        received = await receive_body(receive, self.limit)
        if received.size > self.limit:
            await self._refuse(scope, receive, send)
            return
        await self.app(scope, received.replay(receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        await domain_problem(request, too_large(self.limit))(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    text = (header(scope, b"content-length") or "").strip()
    return int(text) if text.isdigit() else None
