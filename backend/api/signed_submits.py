"""Signed requests POSTed the usual way, answered without FastAPI's per-request machinery.

Each signed submit (a claim, an attestation, a vote ...) is a FastAPI route whose function takes
the service's context, the community, the signed request (SignedRequestIn), the request, a
response and `wait`. FastAPI finds those for each request by solving the route's dependencies and
validating its parameters: measured over 2,000 claims (bench.writes), that and its routing were a
third of the event loop's work a write. Members' writes are nearly all alike (JSON, `wait=true`
or `false` or nothing), so a middleware just outside the router takes those: it reads and
validates the body with the same model, finds the community as the dependency does, and calls
the route's own function with them in a thread, as FastAPI would: a `wait=false` request's
among at most `signed_check_slots` at once, handed out in turn by client (fair_slots.py), since
with a node on the same machine more threads only contend for Python's interpreter lock. Where
the node is on this machine and the index on SQLite (Settings.checks_on_loop), a `wait=false`
request's function runs on the event loop itself instead, suspended while it waits for the node
(backend/chain/on_loop.py): no thread, and no hand-off of the interpreter lock; but for a
proposal's (CHECKED_IN_THREADS), whose long stretches of Python only a thread lets the loop break into.

Anything else goes on to FastAPI, with exactly what the client sent, and is answered as before,
in its words: another content type or query, a body that is not JSON or not a valid signed
request, a body the client left in the middle of (FastAPI answers 400 and nothing runs), one
longer than any signed request (so that it is not read twice). Refusals the route's function
raises (the chain's, the budgets') are answered by the app's own exception handlers, as any
route's are, and every middleware outside this one (the language, the security headers, the
500s) applies.

The routes are found by what their function takes and returns (is_signed_submit), so a new signed
submit takes this path by itself; one that takes more, is a coroutine, leaves its answer to
FastAPI to serialize, or has a body limit of its own stays with FastAPI: slower, never different.
tests/e2e/test_signed_submits.py holds both doors to the same answers on the service;
tests/backend/test_signed_submits.py, which door each kind of request and route takes.
"""

from __future__ import annotations

import inspect
import json
import re
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeGuard

from anyio import CapacityLimiter, to_thread
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import ValidationError
from starlette._utils import get_route_path  # what Starlette's router matches: the same path
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from backend.api.fair_slots import FairSlots
from backend.api.received import header, receive_body
from backend.api.submit import client_of
from backend.chain.on_loop import run_on_loop
from backend.dependencies import get_community, get_context
from backend.errors import TooManyRequests
from backend.i18n import gettext
from backend.relay.schemas import SignedRequestIn
from backend.units import number

# The parameters of a signed submit's function, as every one in the routers declares them.
_PARAMETERS = ("ctx", "community", "body", "request", "response", "wait")
# The queries taken here; any other (wait=1, wait=yes, another parameter) goes on to FastAPI,
# which reads it as it always did.
_WAIT = {b"": True, b"wait=true": True, b"wait=false": False}
# Longer than any signed request (a proposal's calls hold at most 16 KB of calldata): such a body is
# passed on unparsed, so that it is not read twice.
_LONGEST = 128 * 1024


# Signed submits whose checks stay in threads where the others run on the event loop: a proposal's
# check reads, encodes and simulates each of its actions (up to 20, holding up to 500 ids) before
# its signature is known to be good, tens of milliseconds of Python that the loop could not break
# into (a thread gives the interpreter lock back every 5 ms).
CHECKED_IN_THREADS = frozenset({"proposals"})

# Requests of one client (an address) waiting for a check slot at most; more are refused (429)
# unread past their body: each waiting holds its body (up to _LONGEST), and a flood would hold
# them all.
MOST_WAITING_PER_CLIENT = 64


def crowded(waiting: int) -> TooManyRequests:
    return TooManyRequests(
        gettext(
            "%(count)s requests sent from your network address are still waiting to be checked, the most "
            "this service keeps waiting at once: nothing was recorded; send this one again once some are answered",
            count=number(waiting),
        ),
        budget="checks_waiting",
        retry_after=1,
    )


@dataclass(frozen=True)
class SubmitRoute:
    """A signed submit's path (as the router matches it, and its last segment) and the route's own function."""

    path: re.Pattern[str]
    last: str
    endpoint: Any


def is_signed_submit(route: Any) -> TypeGuard[APIRoute]:
    """A POST route of FastAPI's whose function takes exactly what a signed submit's does, and
    nothing else FastAPI would solve: the context and the community from their dependencies, a
    SignedRequestIn body, the request, the response, and `wait` from the query (true when left
    out); a plain function (FastAPI runs it in a thread, as this door does) that returns
    the Response itself (anything else FastAPI would serialize, and this door does not)."""
    if not isinstance(route, APIRoute) or "POST" not in (route.methods or ()) or route.dependencies:
        return False
    endpoint = route.endpoint
    if (
        not inspect.isfunction(endpoint)
        or inspect.iscoroutinefunction(endpoint)
        or inspect.isgeneratorfunction(endpoint)
    ):
        return False
    signature = inspect.signature(endpoint)
    dependant = route.dependant
    body = dependant.body_params
    wait = dependant.query_params
    return (
        tuple(signature.parameters) == _PARAMETERS
        and signature.return_annotation in (Response, "Response")
        and signature.parameters["wait"].default is True
        and [d.call for d in dependant.dependencies] == [get_context, get_community]
        and [(p.name, p.alias) for p in wait] == [("wait", "wait")]
        and len(body) == 1
        and body[0].field_info.annotation is SignedRequestIn
        and not (dependant.path_params or dependant.header_params or dependant.cookie_params)
        and (dependant.request_param_name, dependant.response_param_name) == ("request", "response")
    )


def submit_routes(app: FastAPI) -> list[SubmitRoute]:
    """Every signed submit of the app, under each path it is included at."""
    found = []
    for context in iter_route_contexts(app.router.routes):
        route = context.original_route
        limited = getattr(context, "max_body_size", None) is not None  # a body limit of its own: FastAPI's
        if is_signed_submit(route) and not getattr(context, "dependencies", None) and not limited:
            path = str(context.path)
            regex, _, _ = compile_path(path)
            found.append(SubmitRoute(regex, path.rpartition("/")[2], route.endpoint))
    return found


class SignedSubmits:
    """ASGI middleware, the innermost of the app's (see the module's docstring)."""

    def __init__(
        self, app: ASGIApp, routes: list[SubmitRoute], checks_at_once: int = 32, checks_on_loop: bool = False
    ) -> None:
        self.app = app
        self.checks_on_loop = checks_on_loop
        # `wait=false` checks run at most this many at once (Settings.signed_check_slots), handed
        # out in turn by client (fair_slots.py), on the event loop (checks_on_loop, but for
        # CHECKED_IN_THREADS) or in threads of their own (never waiting for a thread the reads
        # hold): the limiter is created in the event loop, at the first.
        self.checks = FairSlots(checks_at_once)
        self._threads: CapacityLimiter | None = None
        # By the path's last segment (claims, attestations, votes ...): a POST tries the one or two
        # paths that end as it does, and every other request is passed on after a comparison.
        self.by_last: dict[str, list[SubmitRoute]] = {}
        for route in routes:
            self.by_last.setdefault(route.last, []).append(route)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["app"].dependency_overrides:
            await self.app(scope, receive, send)  # (overridden dependencies: FastAPI's to solve)
            return
        path = get_route_path(scope)  # the path the router matches: under the app's root_path
        for route in self.by_last.get(path.rpartition("/")[2], ()):
            matched = route.path.match(path)
            if matched:
                await self._submit(route, matched.groupdict(), scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _submit(
        self, route: SubmitRoute, params: dict[str, str], scope: Scope, receive: Receive, send: Send
    ) -> None:
        received = await receive_body(receive)
        again = received.replay(receive)  # what the client sent, once more, for whoever reads it next
        # A body cut short by the client leaving, or longer than any signed request, is FastAPI's
        # to answer (it answers 400 to the first, and the second would be read twice).
        whole = received.ended and received.size <= _LONGEST
        signed, wait = _parsed(scope, received.body) if whole else (None, True)
        if signed is None:
            await self.app(scope, again, send)
            return
        scope = {**scope, "path_params": {**scope.get("path_params", {}), **params}}
        request = Request(scope, again)
        try:
            ctx = request.app.state.context
            run = partial(
                route.endpoint,
                ctx=ctx,
                community=ctx.community(params.get("community")),
                body=signed,
                request=request,
                response=Response(),
                wait=wait,
            )
            if wait:  # a request waiting for its block holds its thread for a block time: the shared pool's
                answer = await to_thread.run_sync(run)
            else:
                client = client_of(request)
                waiting = self.checks.waiting_for(client)
                if waiting >= MOST_WAITING_PER_CLIENT:
                    raise crowded(waiting)
                await self.checks.acquire(client)
                try:
                    if self.checks_on_loop and route.last not in CHECKED_IN_THREADS:  # on_loop.py: no thread
                        answer = await run_on_loop(run)
                    else:
                        answer = await to_thread.run_sync(run, limiter=self._check_threads())
                finally:
                    self.checks.release()
        except Exception as exc:
            handler = _handler(request.app, exc)
            if handler is None:  # what no handler answers: the middlewares outside answer it (a 500)
                raise
            answer = await handler(request, exc)
        await answer(scope, again, send)

    def _check_threads(self) -> CapacityLimiter:
        if self._threads is None:
            self._threads = CapacityLimiter(self.checks.slots)
        return self._threads


def _handler(app: FastAPI, exc: Exception) -> Any:
    """The app's handler of `exc`, as Starlette's ExceptionMiddleware finds it (by the exception's
    classes, nearest first); None for one only the catch-all for every Exception would answer."""
    for kind in type(exc).__mro__:
        if kind is Exception:
            return None
        if kind in app.exception_handlers:
            return app.exception_handlers[kind]
    return None


def _parsed(scope: Scope, body: bytes) -> tuple[SignedRequestIn | None, bool]:
    """The signed request and `wait`, when the request is as members' clients send it; else None."""
    wait = _WAIT.get(scope.get("query_string", b""))
    content_type = (header(scope, b"content-type") or "").partition(";")[0].strip().lower()
    if wait is None or content_type != "application/json":
        return None, True
    try:
        value: Any = json.loads(body)
        return SignedRequestIn.model_validate(value), wait
    except (ValueError, ValidationError, RecursionError):  # not JSON, or not a signed request: FastAPI says why
        return None, True


def install(app: FastAPI, checks_at_once: int = 32, checks_on_loop: bool = False) -> None:
    """The middleware, innermost: every other middleware applies to its answers. Call it once
    every router is included and every other middleware added. `checks_on_loop`: `wait=false`
    checks run on the event loop (on_loop.py), not in threads."""
    app.user_middleware.append(
        Middleware(
            SignedSubmits, routes=submit_routes(app), checks_at_once=checks_at_once, checks_on_loop=checks_on_loop
        )
    )
