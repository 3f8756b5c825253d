"""Reads answered from the index take turns (settings.index_read_slots, backend/dependencies.py):
at most that many run at once in a process, the rest wait without holding a thread; reads that
ask the node take no turn, so they never wait behind the index's readers."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from backend.app import create_app
from backend.members import service as member_reads
from backend.settings import Settings
from tests.e2e.conftest import ALICE, address


class Overlap:
    """Wraps the real profile read: counts how many run at once, each held `hold` seconds."""

    def __init__(self, hold: float) -> None:
        self.hold, self.now, self.most, self.ended = hold, 0, 0, []
        self.lock = threading.Lock()
        self.read = member_reads.profile

    def __call__(self, *args, **kwargs):
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            time.sleep(self.hold)
            return self.read(*args, **kwargs)
        finally:
            with self.lock:
                self.now -= 1
                self.ended.append(time.monotonic())


def _app(env, slots: int):
    settings = Settings(
        rpc_url=env.anvil.url,
        deployments_file=env.deployments,
        index_read_slots=slots,
        **{"DATABASE_URL": env.database_url},
    )
    return create_app(settings, run_indexer=False)


@pytest.mark.parametrize("slots", [1, 3])
def test_index_reads_take_turns(env, governed, monkeypatch, slots):
    overlap = Overlap(hold=0.1)
    monkeypatch.setattr(member_reads, "profile", overlap)
    app = _app(env, slots)
    try:
        with TestClient(app) as http, ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: http.get(f"/members/{address(ALICE)}/profile"), range(8)))
    finally:
        app.state.context.sessions.kw["bind"].dispose()
    assert [a.status_code for a in answers] == [200] * 8
    assert all(a.json()["address"] == address(ALICE) for a in answers)
    assert overlap.most == slots  # never more at once; and as many as allowed when eight wait


def test_reads_that_ask_the_node_do_not_wait_for_a_turn(env, governed, monkeypatch):
    overlap = Overlap(hold=0.4)
    monkeypatch.setattr(member_reads, "profile", overlap)
    app = _app(env, 1)
    try:
        with TestClient(app) as http, ThreadPoolExecutor(5) as pool:
            profiles = [pool.submit(http.get, f"/members/{address(ALICE)}/profile") for _ in range(4)]
            time.sleep(0.1)  # the turn is taken, three wait: 1.6 s of reads in a row
            health = http.get("/health")  # asks the node for its newest block
            answered = time.monotonic()
            assert health.status_code == 200 and health.json()["chain_id"]
            assert [p.result().status_code for p in profiles] == [200] * 4
    finally:
        app.state.context.sessions.kw["bind"].dispose()
    assert answered < sorted(overlap.ended)[1]  # before the second profile read was done
