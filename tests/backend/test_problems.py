"""An error no handler answers is a 500 problem, and the connection it came on stays usable
(issue 20, item 6: uvicorn dropped it, and a browser's next request on it was reset)."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from backend.api import problems


def _app() -> FastAPI:
    app = FastAPI()
    problems.install(app)

    @app.get("/boom")
    def boom():
        b"\xff".decode()  # what json.loads of a tokenURI holding invalid UTF-8 raised

    @app.api_route("/database", methods=["GET", "POST"])
    def database():
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))

    @app.get("/ok")
    def ok():
        return {"ok": True}

    return app


def test_an_unexpected_error_is_answered_and_not_raised_again():
    # The test client raises what escapes the app, as uvicorn then drops the connection.
    response = TestClient(_app()).get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Internal error",
        "status": 500,
        "detail": "UnicodeDecodeError: the service failed; see its log",
        "instance": "/boom",
    }


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_database_gone_away_is_a_503_in_words_with_the_kind_kept_apart(method):
    response = TestClient(_app()).request(method, "/database")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    body = response.json()
    assert body["type"] == "/problems/index-unavailable"
    assert body["error"] == "OperationalError"  # for logs and clients, not in the sentence
    assert "Error" not in body["detail"] and "Try again in a few seconds" in body["detail"]
    # A write may have been recorded as the database failed: it says to send the same one again.
    assert ("send the same one again" in body["detail"]) == (method == "POST")


@contextmanager
def _served(app: FastAPI) -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.mark.parametrize("first", ["/boom", "/missing"])
def test_the_connection_stays_usable_after_a_500(first):
    with _served(_app()) as port:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        statuses, sockets = [], []
        try:
            for path in (first, "/ok", first, "/ok"):
                connection.request("GET", path)  # after a dropped connection: RemoteDisconnected here
                response = connection.getresponse()
                response.read()
                statuses.append(response.status)
                sockets.append(connection.sock)
        finally:
            connection.close()
    assert len(set(map(id, sockets))) == 1 and sockets[0] is not None  # one connection throughout
    assert statuses == [500, 200, 500, 200] if first == "/boom" else [404, 200, 404, 200]
