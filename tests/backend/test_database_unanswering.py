"""A PostgreSQL address that accepts connections and never answers (a host gone behind a proxy):
connecting gives up after libpq's connect_timeout instead of holding a thread for minutes."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from sqlalchemy.exc import OperationalError

from backend.indexer.db import PG_CONNECT_TIMEOUT_SECONDS, autocommit_twin, make_engine


@pytest.fixture
def silent_server():
    """A listening socket that never accepts: the kernel completes the TCP handshake, and the
    server's greeting never comes."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    yield server.getsockname()[1]
    server.close()


def _connect_seconds(url: str, twin: bool = False) -> tuple[float, BaseException | None]:
    outcome: dict = {}

    def connect():
        start = time.monotonic()
        try:
            engine = make_engine(url)
            (autocommit_twin(engine) if twin else engine).connect()
        except BaseException as exc:
            outcome["error"] = exc
        outcome["seconds"] = time.monotonic() - start

    thread = threading.Thread(target=connect, daemon=True)
    thread.start()
    thread.join(timeout=PG_CONNECT_TIMEOUT_SECONDS * 4)
    return outcome.get("seconds", float("inf")), outcome.get("error")


@pytest.mark.parametrize("twin", [False, True], ids=["engine", "its autocommit twin (the outbox's reads)"])
def test_connecting_to_a_database_that_never_answers_gives_up(silent_server, twin):
    seconds, error = _connect_seconds(f"postgresql://cc:cc@127.0.0.1:{silent_server}/cc", twin)
    assert isinstance(error, OperationalError), error
    assert PG_CONNECT_TIMEOUT_SECONDS - 1 <= seconds <= PG_CONNECT_TIMEOUT_SECONDS * 3, seconds


def test_a_timeout_in_the_url_wins(silent_server):
    seconds, error = _connect_seconds(f"postgresql://cc:cc@127.0.0.1:{silent_server}/cc?connect_timeout=2")
    assert isinstance(error, OperationalError), error
    assert seconds < PG_CONNECT_TIMEOUT_SECONDS - 1, seconds
