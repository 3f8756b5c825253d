"""Relay checks that ask the node at the same time share round trips (backend/chain/combining.py),
on Anvil: each thread gets exactly its own answers (its members' nonces, the head, a refusal of
its own call), the head is read once for a round trip, and a node that went away is told to
every check waiting."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from backend.chain.gateway import HEAD_CALL
from backend.context import Context
from backend.errors import ChainRefused, NodeUnavailable
from backend.relay.simulation import CHECK_ANSWERS
from backend.settings import ANVIL_DEV_KEYS, Settings
from tests.e2e.conftest import address

MEMBERS = [address(key) for key in ANVIL_DEV_KEYS[1:9]]


@pytest.fixture(scope="module")
def ctx(env) -> Context:
    return Context.build(
        Settings(rpc_url=env.anvil.url, deployments_file=env.deployments, DATABASE_URL=env.database_url)
    )


def _nonces_call(ctx: Context, member: str) -> tuple[str, list]:
    community = next(iter(ctx.deployments.communities.values()))
    data = ctx.gateway.abi("forwarder").function("nonces").encode(member)
    return "eth_call", [{"to": community.contracts["forwarder"], "data": "0x" + data.hex()}, "latest"]


def _refused_call(ctx: Context) -> tuple[str, list]:
    """A call the chain refuses: the forwarder's execute with no arguments."""
    community = next(iter(ctx.deployments.communities.values()))
    return "eth_call", [{"to": community.contracts["forwarder"], "data": "0xdeadbeef"}, "latest"]


def test_checks_at_once_each_get_their_own_answers_and_share_round_trips(ctx: Context) -> None:
    expected = {m: int(ctx.gateway.rpc.request("eth_call", *_nonces_call(ctx, m)[1]), 16) for m in MEMBERS}
    head_number = ctx.gateway.block_number()

    def check(i: int) -> bool:
        member = MEMBERS[i % len(MEMBERS)]
        refused = i % 5 == 0
        calls = [HEAD_CALL, _nonces_call(ctx, member), *([_refused_call(ctx)] if refused else [])]
        head, nonce, *rest = ctx.gateway.simulate(calls, CHECK_ANSWERS)
        assert int(head["number"], 16) >= head_number
        assert int(nonce, 16) == expected[member]
        assert [isinstance(r, ChainRefused) for r in rest] == ([True] if refused else [])
        return True

    with ThreadPoolExecutor(16) as pool:
        assert all(pool.map(check, range(400), timeout=120))
    combiner = ctx.gateway._combiner(CHECK_ANSWERS)
    assert combiner.batches >= 400
    assert combiner.round_trips < combiner.batches  # some round trips were shared


def test_a_node_gone_is_told_to_every_check_waiting(env) -> None:
    gone = Context.build(
        Settings(
            rpc_url="http://127.0.0.1:9",  # nothing listens there
            rpc_timeout_seconds=2,
            deployments_file=env.deployments,
            DATABASE_URL=env.database_url,
        )
    )

    def check(_: int) -> str:
        try:
            gone.gateway.simulate([HEAD_CALL], CHECK_ANSWERS)
        except NodeUnavailable as exc:
            return str(exc)
        return "answered"

    with ThreadPoolExecutor(8) as pool:
        said = list(pool.map(check, range(32), timeout=60))
    assert all("cannot be reached" in s for s in said), said[:3]
