"""The index rebuilt from the chain equals the live one; a restarted service resumes; a node
that goes away gives 503 and the service recovers when it is back."""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import create_engine, func, select

from backend.indexer.db import _normalise
from backend.indexer.models import Badge, Claim, EventRecord
from devstack.stack import dump_index as _dump
from devstack.stack import wait_until
from tests.e2e.conftest import ALICE, BOB, CAROL, address
from tests.e2e.rpc_proxy import RecordingProxy
from tests.e2e.test_hostile_relay import claim_typed, own_server, submit


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


@pytest.fixture(scope="module")
def listed(env, governed) -> None:
    """Four more claims (three of Alice's), each attested: four more badges, whatever ran before."""
    for key, count in ((ALICE, 3), (CAROL, 1)):
        for i in range(count):
            claim = env.api.act(
                "claims",
                key,
                indicator_id=governed["code"],
                evidence_uri=f"https://x.example/cursor/{address(key)}/{i}",
            )
            env.api.act("attestations", BOB, claim_id=claim["created"]["claim_id"])


def test_listing_totals_kept_by_the_index_equal_its_rows(env, listed):
    """The totals of /claims and /badges unfiltered come from the counts the indexer keeps
    (RowCount); after everything the suite did on this stack (hostile pages stored one event
    at a time included), they equal the rows themselves, and the filtered totals that count.
    The module's own claims and badges (`listed`) make sure there are rows to count when it
    runs alone, on a stack no module before it filled."""
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


_ID = {"/claims": "id", "/badges": "token_id"}  # a row's id in each listing, its cursor


def _by_cursor(env, path: str, **query) -> list[dict]:
    """Every row of a listing, three at a time, each page asked after the one before's next_after."""
    rows, after = [], None
    for _ in range(1000):
        page = env.api.get(path, limit=3, **query, **({} if after is None else {"after": after}))
        assert page["after"] == after and len(page["items"]) <= 3
        rows += page["items"]
        after = page["next_after"]
        if after is None:
            assert len(page["items"]) < 3 or not env.api.get(path, limit=3, after=rows[-1][_ID[path]], **query)["items"]
            return rows
        assert after == page["items"][-1][_ID[path]]
    raise AssertionError(f"{path} never reached its last page")


def _by_offset(env, path: str, **query) -> list[dict]:
    total = env.api.get(path, limit=1, **query)["total"]
    return [row for offset in range(0, total, 3) for row in env.api.get(path, limit=3, offset=offset, **query)["items"]]


@pytest.mark.parametrize("path", ["/claims", "/badges"])
def test_pages_after_a_cursor_are_the_pages_by_offset(env, listed, path):
    """Paging by cursor (?after=, each page's next_after) walks the same rows, in the same order,
    as paging by offset: whole, filtered by a member, and past the end; a cursor beside an offset
    is refused, naming the cursor."""
    _caught_up(env)
    rows = _by_cursor(env, path)
    assert [r[_ID[path]] for r in rows] == [r[_ID[path]] for r in _by_offset(env, path)]
    assert len(rows) == env.api.get(path, limit=1)["total"] > 3
    order = [r[_ID[path]] for r in rows]
    assert order == sorted(order, reverse=path == "/badges")  # claims oldest first, badges newest first
    member = {"contributor": address(ALICE)} if path == "/claims" else {"owner": address(ALICE)}
    mine = _by_cursor(env, path, **member)
    assert mine and [r[_ID[path]] for r in mine] == [r[_ID[path]] for r in _by_offset(env, path, **member)]
    past = env.api.get(path, limit=3, after=order[-1])
    assert (past["items"], past["next_after"], past["total"]) == ([], None, len(rows))
    refused = env.api.http.get(path, params={"after": order[0], "offset": 3})
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["errors"][0]["loc"] == ["query", "after"] and "not both" in problem["detail"], problem


def test_the_claims_page_lists_the_latest_minted_first(env, listed):
    """The web app's claims page shows the minted claims newest first, from the latest."""
    minted = env.api.get("/claims", state="minted", limit=1)["total"]
    latest = env.api.get("/claims", state="minted", limit=1, offset=minted - 1)["items"][0]["id"]
    page = env.api.http.get("/c/example/claims")
    assert page.status_code == 200
    shown = [int(i) for i in re.findall(r'href="/c/example/claims/(\d+)"', page.text.split("Badges minted")[1])]
    assert shown[0] == latest and shown == sorted(shown, reverse=True) and len(shown) == min(minted, 100), shown


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
    prepare = env.api.http.post(
        "/claims/prepare",
        json={"signer": address(ALICE), "indicator_id": governed["code"], "evidence_uri": "https://x.example/down"},
    )
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


# A whole batch answered with one error: as an object (providers), and as geth and Erigon answer a
# batch over their limit, a list of one.
_REFUSALS = {
    "object": b'{"jsonrpc":"2.0","id":null,"error":{"code":-32005,"message":"batch requests are not allowed"}}',
    "list of one": b'[{"jsonrpc":"2.0","id":0,"error":{"code":-32600,"message":"batch requests are not allowed"}}]',
}


@pytest.mark.parametrize("shape", list(_REFUSALS))
def test_a_node_that_refuses_batches_is_told_in_words_and_nothing_is_recorded(env, governed, shape):
    """Class: a provider that answers a whole batch with one error. A member's prepare and submit
    are refused 503 in a sentence that says what happened and what to do (not a 500 naming an
    exception), and nothing is accepted."""

    def refused(body: bytes) -> bytes | None:
        return _REFUSALS[shape] if body.lstrip().startswith(b"[") else None

    proxy = RecordingProxy(env.anvil.url, instead=refused)
    try:
        with own_server(env, rpc_url=proxy.url) as api:
            typed = claim_typed(env.api, ALICE, governed["code"], "https://x.example/no-batches")
            for response in (
                api.http.post(
                    "/claims/prepare",
                    json={
                        "signer": address(ALICE),
                        "indicator_id": governed["code"],
                        "evidence_uri": "https://x.example/no-batches",
                    },
                ),
                submit(api, "claims", typed, ALICE),
            ):
                problem = response.json()
                assert response.status_code == 503, response.text
                assert "turned away the service's checks (batch requests are not allowed)" in problem["detail"]
                assert "Try again in a minute" in problem["detail"] and "Error" not in problem["detail"]
            assert api.get("/relayer")["in_flight"] == 0
    finally:
        proxy.stop()
