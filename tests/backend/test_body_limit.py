"""The API's body limit (backend/api/body_limit.py), in process on ASGI messages as a server
passes them: a body declared too long is refused unread, one arriving in chunks is read to the
limit and no further, both in problem+json and the request's language; a body within the limit
reaches its route whole; the routes that read their own bodies, and requests without one, are
left alone."""

from __future__ import annotations

import asyncio
import json

import pytest
from fastapi import FastAPI, Request

from backend.api import problems
from backend.api.body_limit import BodyLimit
from backend.capture.routes import reads_own_body
from backend.i18n.middleware import LocaleMiddleware

LIMIT = 65_536
reached: list[int] = []


def _app() -> FastAPI:
    app = FastAPI()

    @app.post("/communities/{community}/claims")
    async def claims(request: Request) -> dict:
        reached.append(len(await request.body()))
        return {"ok": True}

    @app.post("/communities/{community}/capture/github")
    async def webhook(request: Request) -> dict:
        reached.append(len(await request.body()))
        return {"ok": True}

    @app.get("/communities/{community}/claims")
    async def listing() -> dict:
        return {"ok": True}

    app.add_middleware(BodyLimit, limit=LIMIT, reads_own_body=reads_own_body)
    problems.install(app)
    app.add_middleware(LocaleMiddleware)
    return app


def _asgi(path: str, chunks: list[bytes], *, declared: int | None, method: str = "POST", language: str = "en"):
    """The answer's status and body, and how many of the body's messages the app asked for."""
    reached.clear()
    asked = 0
    messages = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]
    sent: list[dict] = []

    async def receive() -> dict:
        nonlocal asked
        asked += 1
        if messages:
            return messages.pop(0)
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    headers = [(b"content-type", b"application/json"), (b"accept-language", language.encode())]
    if declared is not None:
        headers.append((b"content-length", str(declared).encode()))
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"", "headers": headers,
        "client": ("127.0.0.1", 5), "server": ("test", 80),
    }  # fmt: skip
    app = _app()
    asyncio.run(asyncio.wait_for(app(scope, receive, send), 10))
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], dict(sent[0]["headers"]), body, asked


def test_a_body_declared_too_long_is_refused_unread():
    status, headers, body, asked = _asgi("/communities/c/claims", [b"x" * 10], declared=LIMIT + 1)
    assert status == 413 and asked == 0 and reached == []
    assert headers[b"content-type"].startswith(b"application/problem+json")
    problem = json.loads(body)
    assert problem["type"] == "/problems/payload-too-large"
    assert "65,536 bytes" in problem["detail"] and "nothing was recorded" in problem["detail"]


def test_a_body_in_chunks_is_read_to_the_limit_and_no_further():
    chunks = [b"x" * 16_384] * 10  # 160 KB in ten pieces, no length declared
    status, _, body, asked = _asgi("/communities/c/claims", chunks, declared=None)
    assert status == 413 and reached == []
    assert asked == 5  # four pieces within the limit, the fifth past it: the others never read
    assert json.loads(body)["status"] == 413


def test_the_refusal_is_in_the_requests_language():
    _, _, body, _ = _asgi("/communities/c/claims", [b"x"], declared=LIMIT + 1, language="es")
    problem = json.loads(body)
    assert "bytes" in problem["detail"] and "no se ha registrado nada" in problem["detail"], problem


@pytest.mark.parametrize("declared", [True, False])
def test_a_body_within_the_limit_reaches_its_route_whole(declared):
    chunks = [b" " * 30_000, b"{}", b" " * 30_000]
    size = sum(map(len, chunks))
    status, _, _, _ = _asgi("/communities/c/claims", chunks, declared=size if declared else None)
    assert status == 200 and reached == [size]


def test_the_routes_that_read_their_own_bodies_are_left_to_them():
    status, _, _, _ = _asgi("/communities/c/capture/github", [b"x" * (LIMIT * 2)], declared=LIMIT * 2)
    assert status == 200 and reached == [LIMIT * 2]
    assert reads_own_body("/capture/gitlab") and reads_own_body("/communities/c/capture/standard/import")
    assert not reads_own_body("/communities/capture/claims") and not reads_own_body("/capture/dismissals")


def test_a_request_without_a_body_is_left_alone():
    status, _, _, _ = _asgi("/communities/c/claims", [b""], declared=LIMIT * 4, method="GET")
    assert status == 200


def test_every_capture_route_that_reads_its_own_body_is_left_to_it():
    """reads_own_body names the capture routes' paths by hand: held here to the routes themselves
    (those whose documented body is their own to read: a delivery, an imported file), at the top
    level and under a community, and to them alone."""
    from fastapi.routing import APIRoute

    from backend.capture.routes import router

    own = [r for r in router.routes if isinstance(r, APIRoute) and "requestBody" in (r.openapi_extra or {})]
    assert len(own) >= 5  # four webhooks and the import
    for route in router.routes:
        if not isinstance(route, APIRoute) or "POST" not in route.methods:
            continue
        for sources in ["github", "gitlab", "discourse", "standard"] if "{source}" in route.path else [""]:
            path = route.path.replace("{source}", sources)
            for prefix in ("", "/communities/c"):
                assert reads_own_body(prefix + path) == (route in own), prefix + path
