"""The index rebuilt from the chain equals the live one; a restarted service resumes; a node
that goes away gives 503 and the service recovers when it is back."""

from __future__ import annotations

import time

from sqlalchemy import create_engine, func, select

from backend.indexer.db import _normalise
from backend.indexer.models import Badge, Claim, EventRecord
from tests.e2e.conftest import ALICE, BOB, address
from tests.e2e.harness import dump_index as _dump
from tests.e2e.harness import wait_until


def _caught_up(env) -> None:
    wait_until(lambda: (h := env.api.get("/health"))["indexed_block"] == h["head_block"], what="index catch-up")


def test_reindex_from_the_chain_equals_the_live_index(env, governed):
    _caught_up(env)
    rebuilt = f"sqlite:///{env.workdir / 'rebuilt.sqlite3'}"
    result = env.server.run("reindex", env={"DATABASE_URL": rebuilt})
    assert result.returncode == 0, result.stderr
    live, fresh = _dump(env.database_url), _dump(rebuilt)
    assert live["events"] and live["proposals"]
    assert live == fresh
    # And a second rebuild over the first changes nothing (idempotent).
    assert env.server.run("reindex", env={"DATABASE_URL": rebuilt}).returncode == 0
    assert _dump(rebuilt) == fresh


def test_listing_totals_kept_by_the_index_equal_its_rows(env, governed):
    """The totals of /claims and /badges unfiltered come from the counts the indexer keeps
    (RowCount); after everything the suite did on this stack (hostile pages stored one event
    at a time included), they equal the rows themselves, and the filtered totals that count."""
    _caught_up(env)
    engine = create_engine(_normalise(env.database_url))
    with engine.connect() as connection:
        rows = {model: connection.scalar(select(func.count()).select_from(model)) for model in (Claim, Badge)}
    engine.dispose()
    assert rows[Claim] > 0 and rows[Badge] > 0
    claims, badges = env.api.get("/claims", limit=1), env.api.get("/badges", limit=1)
    assert (claims["total"], badges["total"]) == (rows[Claim], rows[Badge])
    by_state = sum(env.api.get("/claims", state=state, limit=1)["total"] for state in ("open", "minted", "declined"))
    assert by_state == claims["total"]


def test_restarted_service_resumes_from_its_cursor(env, governed):
    _caught_up(env)
    before = env.api.get("/health")["indexed_block"]
    engine = create_engine(_normalise(env.database_url))
    with engine.connect() as connection:
        events = connection.scalar(select(func.count()).select_from(EventRecord))
    env.server.stop()
    env.server.start()
    assert env.api.get("/health")["indexed_block"] >= before
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(EventRecord)) == events
    engine.dispose()


def test_node_down_then_back(env, governed):
    env.anvil.stop()
    response = env.api.http.get("/health")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "cannot be reached" in response.json()["detail"]
    prepare = env.api.http.post("/claims/prepare", json={"signer": address(ALICE), "indicator_id": governed["code"],
                                                         "evidence_uri": "https://x.example/down"})
    assert prepare.status_code == 503
    # Reads are served from the index while the node is away.
    assert env.api.http.get("/members").status_code == 200

    env.anvil.start()
    wait_until(lambda: env.api.http.get("/health").status_code == 200, what="recovery")
    claim = env.api.act("claims", ALICE, indicator_id=governed["code"], evidence_uri="https://x.example/back")
    minted = env.api.act("attestations", BOB, claim_id=claim["created"]["claim_id"])
    assert minted["created"]["token_id"] == claim["created"]["claim_id"]
    time.sleep(0.3)
    assert env.api.get("/health")["indexer_error"] is None
