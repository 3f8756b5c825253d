"""Which door a signed submit goes through (backend/api/signed_submits.py), in process.

A route's function is told by the request's scope whether FastAPI routed it (FastAPI puts the
route there) or the lean middleware did. Requests as members' clients send them take the lean
door; every other shape goes on to FastAPI with its body intact; other methods and routes are
never touched; and the lean door's refusals are the app's exception handlers' answers.
tests/e2e/test_signed_submits.py holds the two doors' answers alike on the real service."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated

import pytest
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from backend.api import signed_submits
from backend.chain.on_loop import on_loop, wait_on_loop
from backend.chain.typed_data import forward_request_typed_data
from backend.dependencies import CommunityDep, ContextDep, WaitQuery
from backend.errors import Conflict, DomainError
from backend.relay.schemas import SignedRequestIn
from backend.settings import Settings

BODY = {
    "typed_data": forward_request_typed_data(
        chain_id=31337,
        forwarder="0x" + "11" * 20,
        sender="0x" + "22" * 20,
        target="0x" + "33" * 20,
        data=b"\x01\x02",
        nonce=3,
        deadline=2_000_000_000,
        gas=200_000,
    ),
    "signature": "0x" + "ab" * 65,
}
seen: list[dict] = []


class _Context:
    def community(self, slug: str | None) -> str:
        if slug == "nowhere":
            raise Conflict("no such community", error="Nowhere")
        return f"community {slug}"


def _extra() -> int:
    return 1


class _Running:
    """The route's calls under way at once, and the most there were."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.now = self.most = 0
        self.go = threading.Event()
        self.three = threading.Barrier(3, timeout=10)  # three calls under way at once, or it breaks

    def __enter__(self) -> None:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def __exit__(self, *exc) -> None:
        with self.lock:
            self.now -= 1


running = _Running()


def _app(checks_at_once: int = 32, checks_on_loop: bool = False) -> FastAPI:
    router = APIRouter(prefix="/claims")

    @router.post("")
    def submit(
        ctx: ContextDep,
        community: CommunityDep,
        body: SignedRequestIn,
        request: Request,
        response: Response,
        wait: WaitQuery = True,
    ) -> Response:
        if body.typed_data.message.nonce == 99:
            raise RuntimeError("unexpected")
        if body.typed_data.message.nonce == 98:
            raise Conflict("already relayed", error="ReplayedRequest", request_id=5)
        if body.typed_data.message.nonce == 97:  # a check held until the test lets it go
            with running:
                running.go.wait(timeout=10)
        if body.typed_data.message.nonce == 96:  # three at once, or BrokenBarrierError
            running.three.wait()
        if body.typed_data.message.nonce == 95:  # a check that waits for its node: on the loop, the loop waits
            with running:
                if on_loop():
                    wait_on_loop(asyncio.sleep(0.05))
                else:
                    time.sleep(0.05)
        seen.append(
            {
                "door": "fastapi" if "route" in request.scope else "lean",
                "on_loop": on_loop(),
                "community": community,
                "wait": wait,
                "nonce": body.typed_data.message.nonce,
                "path_params": dict(request.path_params),
            }
        )
        return JSONResponse({"ok": True}, status_code=202)

    @router.post("/with-dependency")
    def guarded(
        ctx: ContextDep,
        community: CommunityDep,
        body: SignedRequestIn,
        request: Request,
        response: Annotated[int, Depends(_extra)],
        wait: WaitQuery = True,
    ) -> Response:
        seen.append({"door": "fastapi" if "route" in request.scope else "lean"})
        return JSONResponse({"ok": True})

    # Alike in what they take, each unlike a signed submit in what FastAPI does with it: their answer
    # serialized (a dict), a coroutine, `wait` false when left out.
    @router.post("/answers-a-dict")
    def answers_a_dict(
        ctx: ContextDep, community: CommunityDep, body: SignedRequestIn, request: Request, response: Response,
        wait: WaitQuery = True,
    ):  # fmt: skip
        seen.append({"door": "fastapi" if "route" in request.scope else "lean"})
        response.status_code = 202
        return {"ok": True}

    @router.post("/a-coroutine")
    async def a_coroutine(
        ctx: ContextDep, community: CommunityDep, body: SignedRequestIn, request: Request, response: Response,
        wait: WaitQuery = True,
    ) -> Response:  # fmt: skip
        seen.append({"door": "fastapi" if "route" in request.scope else "lean"})
        return JSONResponse({"ok": True})

    @router.post("/waits-not")
    def waits_not(
        ctx: ContextDep, community: CommunityDep, body: SignedRequestIn, request: Request, response: Response,
        wait: WaitQuery = False,
    ) -> Response:  # fmt: skip
        seen.append({"door": "fastapi" if "route" in request.scope else "lean", "wait": wait})
        return JSONResponse({"ok": True})

    proposals = APIRouter(prefix="/proposals")

    @proposals.post("")
    def propose(
        ctx: ContextDep, community: CommunityDep, body: SignedRequestIn, request: Request, response: Response,
        wait: WaitQuery = True,
    ) -> Response:  # fmt: skip
        seen.append({"door": "fastapi" if "route" in request.scope else "lean", "on_loop": on_loop()})
        return JSONResponse({"ok": True}, status_code=202)

    app = FastAPI()
    app.state.context = _Context()
    app.include_router(router, prefix="/communities/{community}")
    app.include_router(proposals, prefix="/communities/{community}")

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError):
        return JSONResponse({"handled": exc.detail, "path": dict(request.path_params)}, status_code=exc.status)

    signed_submits.install(app, checks_at_once=checks_at_once, checks_on_loop=checks_on_loop)
    return app


@pytest.fixture
def client():
    seen.clear()
    with TestClient(_app(), raise_server_exceptions=False) as client:
        yield client


def test_the_routes_found_are_the_signed_submits_only():
    routes = signed_submits.submit_routes(_app())
    assert [r.path.pattern for r in routes] == [
        "^/communities/(?P<community>[^/]+)/claims$",
        "^/communities/(?P<community>[^/]+)/proposals$",
    ]


@pytest.mark.parametrize("query", ["", "?wait=true", "?wait=false"])
def test_requests_as_clients_send_them_take_the_lean_door(client, query):
    response = client.post("/communities/c1/claims" + query, json=BODY)
    assert response.status_code == 202, response.text
    assert seen == [
        {
            "door": "lean",
            "community": "community c1",
            "wait": query != "?wait=false",
            "nonce": 3,
            "path_params": {"community": "c1"},
            "on_loop": False,  # checks_on_loop is off here: in a thread, as FastAPI would
        }
    ]


@pytest.mark.parametrize(
    "query, content_type, body",
    [
        ("?wait=1", "application/json", json.dumps(BODY)),  # FastAPI reads 1 as true: its reading, not ours
        ("?wait=false&x=1", "application/json", json.dumps(BODY)),
        ("", "text/plain", json.dumps(BODY)),
        ("", "application/json", json.dumps(BODY)[:-1]),  # not JSON
        ("", "application/json", json.dumps({**BODY, "signature": "0x12"})),  # not a signed request
        ("", "application/json", "[" * 100_000),  # nested past the parser's depth
    ],
)
def test_anything_else_goes_on_to_fastapi_with_its_body(client, query, content_type, body):
    response = client.post("/communities/c1/claims" + query, content=body, headers={"content-type": content_type})
    if seen:  # FastAPI took it as a signed request
        assert [s["door"] for s in seen] == ["fastapi"]
        assert response.status_code == 202
    else:  # and refused it in its own words
        assert response.status_code in (400, 422), response.text


@pytest.mark.parametrize("path", ["with-dependency", "answers-a-dict", "a-coroutine", "waits-not"])
def test_a_route_unlike_a_signed_submit_stays_with_fastapi(client, path):
    response = client.post(f"/communities/c1/claims/{path}", json=BODY)
    assert response.status_code == (202 if path == "answers-a-dict" else 200), response.text
    assert [s["door"] for s in seen] == ["fastapi"]
    if path == "waits-not":
        assert seen[0]["wait"] is False


def _asgi(app: FastAPI, path: str, messages: list[dict], root_path: str = "") -> list[dict]:
    """A request of raw ASGI messages, as a server passes them; the messages of the answer."""
    import asyncio

    sent: list[dict] = []
    queue = list(messages)

    async def receive() -> dict:
        if queue:
            return queue.pop(0)
        await asyncio.sleep(3600)  # the client says nothing more
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": root_path + path, "raw_path": (root_path + path).encode(), "root_path": root_path, "query_string": b"",
        "headers": [(b"content-type", b"application/json")], "client": ("127.0.0.1", 5), "server": ("test", 80),
    }  # fmt: skip

    async def run() -> None:
        async with app.router.lifespan_context(app):
            await asyncio.wait_for(app(scope, receive, send), 10)

    asyncio.run(run())
    return sent


def test_a_body_the_client_left_in_the_middle_of_is_fastapis_answer_and_nothing_runs():
    """The whole signed request arrives, but the client leaves before the body's end: FastAPI's
    answer (400), and the route's function never runs, as without the door."""
    seen.clear()
    body = json.dumps(BODY).encode()
    answer = _asgi(_app(), "/communities/c1/claims", [
        {"type": "http.request", "body": body, "more_body": True},
        {"type": "http.disconnect"},
    ])  # fmt: skip
    assert answer[0]["status"] == 400
    assert seen == []


def test_a_body_sent_in_pieces_is_read_whole():
    seen.clear()
    body = json.dumps(BODY).encode()
    pieces = [{"type": "http.request", "body": body[i : i + 100], "more_body": True} for i in range(0, len(body), 100)]
    answer = _asgi(
        _app(), "/communities/c1/claims", [*pieces, {"type": "http.request", "body": b"", "more_body": False}]
    )
    assert answer[0]["status"] == 202
    assert [s["door"] for s in seen] == ["lean"]


def test_under_a_root_path_the_door_matches_the_routers_path():
    seen.clear()
    body = json.dumps(BODY).encode()
    answer = _asgi(_app(), "/communities/c2/claims", [{"type": "http.request", "body": body}], root_path="/api")
    assert answer[0]["status"] == 202
    assert seen[0]["door"] == "lean" and seen[0]["community"] == "community c2"


def test_a_body_longer_than_any_signed_request_is_not_parsed_twice(client):
    padded = json.dumps(BODY) + " " * (signed_submits._LONGEST + 1)  # still the same JSON
    response = client.post("/communities/c1/claims", content=padded, headers={"content-type": "application/json"})
    assert response.status_code == 202
    assert [s["door"] for s in seen] == ["fastapi"]


def test_overridden_dependencies_are_fastapis_to_solve():
    app = _app()
    app.dependency_overrides[_extra] = lambda: 2
    seen.clear()
    with TestClient(app) as client:
        assert client.post("/communities/c1/claims", json=BODY).status_code == 202
    assert [s["door"] for s in seen] == ["fastapi"]


def test_other_methods_are_not_touched(client):
    assert client.get("/communities/c1/claims").status_code == 405
    assert seen == []


def test_refusals_are_the_apps_handlers_answers(client):
    # The community the dependency would refuse, and a refusal of the route's function: both by the
    # app's handler, with the request's path parameters.
    nowhere = client.post("/communities/nowhere/claims", json=BODY)
    assert (nowhere.status_code, nowhere.json()) == (
        409,
        {"handled": "no such community", "path": {"community": "nowhere"}},
    )
    body = {**BODY, "typed_data": {**BODY["typed_data"], "message": {**BODY["typed_data"]["message"], "nonce": 98}}}
    refused = client.post("/communities/c1/claims", json=body)
    assert (refused.status_code, refused.json()) == (409, {"handled": "already relayed", "path": {"community": "c1"}})
    # What no handler answers is the app's 500, as from any route.
    body["typed_data"]["message"]["nonce"] = 99
    assert client.post("/communities/c1/claims", json=body).status_code == 500


def _until(condition, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def _door(app: FastAPI) -> signed_submits.SignedSubmits:
    door = app.middleware_stack
    while not isinstance(door, signed_submits.SignedSubmits):
        door = door.app
    return door


def _with_nonce(nonce: int) -> dict:
    message = {**BODY["typed_data"]["message"], "nonce": nonce}
    return {**BODY, "typed_data": {**BODY["typed_data"], "message": message}}


def test_checks_not_waited_for_run_at_most_so_many_at_once():
    """`wait=false` checks take one of `signed_check_slots` slots (with a node on the same
    machine, more threads only contend for the interpreter lock; the slots go to clients in turn:
    tests/backend/test_fair_slots.py); a request waiting for its block takes the shared pool, so
    that it never keeps the others from being checked."""
    running.reset()
    app = _app(checks_at_once=2)
    with TestClient(app) as client, ThreadPoolExecutor(6) as pool:
        held = [pool.submit(client.post, "/communities/c/claims?wait=false", json=_with_nonce(97)) for _ in range(3)]
        door = _door(app)
        _until(lambda: door.checks.waiting == 1 and running.now == 2)  # two checks held, the third waiting
        assert door.checks.free == 0
        waiting = _with_nonce(96)  # three waiting for their blocks at once, while the checks are held
        answers = list(pool.map(lambda _: client.post("/communities/c/claims?wait=true", json=waiting), range(3)))
        assert [a.status_code for a in answers] == [202] * 3
        running.go.set()
        assert [f.result().status_code for f in held] == [202] * 3
        assert running.most == 2  # the two checks held, then the third in a slot they left
    seen.clear()


def test_a_client_with_too_many_checks_waiting_is_refused_and_a_refusal_frees_its_slot(monkeypatch):
    """Each request waiting for a slot holds its body: past MOST_WAITING_PER_CLIENT of one
    address, 429, and nothing runs. A check the route refuses gives its slot back, and so does
    one that fails (the database or the node gone: a 500)."""
    monkeypatch.setattr(signed_submits, "MOST_WAITING_PER_CLIENT", 1)
    running.reset()
    app = _app(checks_at_once=1)
    with TestClient(app, raise_server_exceptions=False) as client, ThreadPoolExecutor(2) as pool:
        door = _door(app)
        held = pool.submit(client.post, "/communities/c/claims?wait=false", json=_with_nonce(97))
        _until(lambda: running.now == 1)
        queued = pool.submit(client.post, "/communities/c/claims?wait=false", json=_with_nonce(97))
        _until(lambda: door.checks.waiting == 1)
        refused = client.post("/communities/c/claims?wait=false", json=_with_nonce(97))
        assert refused.status_code == 429 and "waiting to be checked" in refused.json()["handled"]
        running.go.set()
        assert (held.result().status_code, queued.result().status_code) == (202, 202)
        assert running.most == 1
        for _ in range(2):  # refused by the route: each gives its slot back
            assert client.post("/communities/c/claims?wait=false", json=_with_nonce(98)).status_code == 409
            assert door.checks.free == 1 and door.checks.waiting == 0
        assert client.post("/communities/c/claims?wait=false", json=_with_nonce(99)).status_code == 500
        assert door.checks.free == 1 and door.checks.waiting == 0
    seen.clear()


@pytest.mark.parametrize(
    "rpc_url, slots, at_once",
    [
        ("http://127.0.0.1:8545", 0, 3),  # a node on this machine: round trips are nothing to wait for
        ("http://localhost:8545", 0, 3),
        ("http://[::1]:8545", 0, 3),
        ("https://eth.example.org/v2/key", 0, 32),  # a provider: checks mostly wait for it
        ("http://10.0.0.5:8545", 0, 32),
        ("http://127.0.0.1:8545", 12, 12),  # set: as set
    ],
)
def test_checks_at_once_by_where_the_node_is(rpc_url, slots, at_once):
    assert Settings(rpc_url=rpc_url, signed_check_slots=slots).signed_checks_at_once == at_once


@pytest.mark.parametrize("checks_on_loop", [True, False], ids=["on the loop", "in threads"])
def test_checks_not_waited_for_run_on_the_loop_where_set_and_a_few_at_once(checks_on_loop):
    """With checks_on_loop (a node and a database on this machine: Settings.checks_on_loop), a
    `wait=false` check runs on the event loop itself, suspended while it waits (on_loop.py): six
    sent at once overlap, at most the slots' two at a time. A request waiting for its block
    sleeps between looks, so it is a thread's either way."""
    running.reset()
    seen.clear()
    app = _app(checks_at_once=2, checks_on_loop=checks_on_loop)
    with TestClient(app) as client, ThreadPoolExecutor(6) as pool:
        body = _with_nonce(95)  # waits for its node
        answers = list(pool.map(lambda _: client.post("/communities/c/claims?wait=false", json=body), range(6)))
        assert [a.status_code for a in answers] == [202] * 6
        assert running.most == 2  # overlapping (one waits while another runs), and no more than the slots
        assert client.post("/communities/c/claims?wait=true", json=_with_nonce(1)).status_code == 202
        # A proposal's check (each of its actions read and simulated before its signature is known
        # good) stays in a thread, which the loop can break into.
        assert client.post("/communities/c/proposals?wait=false", json=BODY).status_code == 202
    assert [s["on_loop"] for s in seen] == [checks_on_loop] * 6 + [False, False]
    seen.clear()


@pytest.mark.parametrize(
    "rpc_url, database_url, set_to, on_loop_by_default",
    [
        ("http://127.0.0.1:8545", "sqlite:///var/index.sqlite3", None, True),
        ("http://localhost:8545", "sqlite:///var/index.sqlite3", None, True),
        ("http://[::1]:8545", "sqlite:///var/index.sqlite3", None, True),
        # PostgreSQL, even on this machine: each statement a round trip the loop would wait for
        ("http://127.0.0.1:8545", "postgresql://u:p@127.0.0.1:5432/d", None, False),
        ("http://127.0.0.1:8545", "postgresql:///d", None, False),  # its Unix socket
        ("http://127.0.0.1:8545", "postgresql://u:p@db.example:5432/d", None, False),
        ("https://127.0.0.1:8545", "sqlite:///var/index.sqlite3", None, False),  # TLS: urllib3's, in threads
        ("https://eth.example.org/v2/key", "sqlite:///var/index.sqlite3", None, False),
        ("http://10.0.0.5:8545", "sqlite:///var/index.sqlite3", None, False),
        ("http://10.0.0.5:8545", "sqlite:///var/index.sqlite3", True, True),  # set: as set
        ("http://127.0.0.1:8545", "sqlite:///var/index.sqlite3", False, False),
    ],
)
def test_checks_run_on_the_loop_where_the_node_is_this_machines_and_the_database_sqlite(
    rpc_url, database_url, set_to, on_loop_by_default
):
    settings = Settings(rpc_url=rpc_url, database_url=database_url, signed_checks_on_loop=set_to)
    assert settings.checks_on_loop is on_loop_by_default
