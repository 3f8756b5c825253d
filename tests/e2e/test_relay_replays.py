"""A member's requests in flight, replayed ahead of their next request in the relay check
(backend/relay/simulation.py): those signed by the member's key run as their calls alone, with
the member's nonce set past them by a state override, since the forwarder's own work cost the
node three times the call's. On the real chain, each next request is judged exactly as the
forwarder's replays judge it: its status, its gas, its error and its events."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from eth_account import Account

from backend.chain.typed_data import forward_request_typed_data, typed_data_digest
from backend.context import Context
from backend.relay.book import HeldRequest
from backend.relay.carried import Carried, request_key
from backend.relay.gas import NONCE_READ_GAS, relay_gas
from backend.relay.simulation import _clock, _direct_ok, _nonce_read, _simulations, nonce_slot, note_key_signed
from backend.settings import Settings
from tests.e2e.conftest import ALICE, BOB, CAROL, address

# The one community the stack serves.


@pytest.fixture(scope="module")
def ctx(env) -> Context:
    return Context.build(
        Settings(rpc_url=env.anvil.url, deployments_file=env.deployments, DATABASE_URL=env.database_url)
    )


def _community(ctx: Context):
    return next(iter(ctx.deployments.communities.values()))


def _chain_nonce(ctx: Context, member: str) -> int:
    community = _community(ctx)
    data = ctx.gateway.abi("forwarder").function("nonces").encode(member)
    return int(
        ctx.gateway.rpc.request(
            "eth_call", {"to": community.contracts["forwarder"], "data": "0x" + data.hex()}, "latest"
        ),
        16,
    )


def _signed(
    ctx: Context, key: str, target: str, data: bytes, nonce: int, head: dict, gas: int = 900_000
) -> HeldRequest:
    """A request of `key`'s member at `nonce`, signed, as the outbox holds it."""
    community = _community(ctx)
    typed = forward_request_typed_data(
        chain_id=ctx.gateway.chain_id,
        forwarder=community.contracts["forwarder"],
        sender=address(key),
        target=community.contracts[target],
        data=data,
        nonce=nonce,
        deadline=int(head["timestamp"], 16) + 3600,
        gas=gas,
    )
    signature = Account.unsafe_sign_hash(typed_data_digest(typed), key).signature
    message = typed["message"]
    payload = {**message, "data": "0x" + data.hex(), "signature": "0x" + signature.hex().removeprefix("0x")}
    struct = (message["from"], message["to"], 0, gas, message["deadline"], data, signature)
    return HeldRequest(
        nonce, payload, relay_gas(struct, ctx.gateway.abi("forwarder").function("execute").encode(struct))
    )


def _as_relayed(ctx: Context, request: HeldRequest) -> dict[str, str]:
    community = _community(ctx)
    payload = request.payload
    struct = (
        payload["from"], payload["to"], 0, payload["gas"], payload["deadline"],
        bytes.fromhex(payload["data"][2:]), bytes.fromhex(payload["signature"][2:]),
    )  # fmt: skip
    execute = ctx.gateway.abi("forwarder").function("execute").encode(struct)
    return {
        "from": ctx.gateway.relayer_address,
        "to": community.contracts["forwarder"],
        "data": "0x" + execute.hex(),
        "gas": hex(request.gas),
    }


def _judged(
    ctx: Context, member: str, held: list[HeldRequest], next_request: HeldRequest, direct: bool
) -> dict[str, Any]:
    """The next request's call, as the check's simulation answers it behind `held`."""
    community = _community(ctx)
    head = ctx.gateway.rpc.request("eth_getBlockByNumber", "latest", False)
    nonce_read = {
        **_nonce_read(ctx, community, member),
        "from": ctx.gateway.relayer_address,
        "gas": hex(NONCE_READ_GAS),
    }
    [simulation] = _simulations(ctx, community, nonce_read, held, [_as_relayed(ctx, next_request)], head, direct)
    [result] = ctx.gateway.simulate([simulation])
    assert int(result[0]["calls"][0]["returnData"], 16) == held[0].nonce  # the chain's own nonce, read first
    return result[-1]["calls"][-1]


def _claim(ctx: Context, indicator: int, uri: str) -> bytes:
    from eth_utils import keccak

    return ctx.gateway.abi("badge").function("claim").encode(indicator, keccak(text=uri), uri)


def test_the_forwarders_nonce_is_where_the_override_sets_it(env, ctx):
    env.api.act("delegations", ALICE, delegatee=address(ALICE))
    community = _community(ctx)
    for key in (ALICE, BOB, CAROL):
        member = address(key)
        stored = ctx.gateway.rpc.request(
            "eth_getStorageAt", community.contracts["forwarder"], nonce_slot(member), "latest"
        )
        assert int(stored, 16) == _chain_nonce(ctx, member)
    assert _chain_nonce(ctx, address(ALICE)) > 0


def test_replayed_alone_or_through_the_forwarder_a_next_request_is_judged_alike(env, ctx, governed):
    """Alice has three claims in flight; her next request is judged behind them both ways: a
    claim (it succeeds, its claim id after theirs, so its events and gas are equal), the same
    claim at a nonce a replay used (the forwarder refuses it), and a claim whose evidence one of
    them already claimed, if the contract refuses that; every answer alike, byte for byte."""
    member, indicator = address(ALICE), governed["code"]
    head = ctx.gateway.rpc.request("eth_getBlockByNumber", "latest", False)
    nonce = _chain_nonce(ctx, member)
    held = [
        _signed(ctx, ALICE, "badge", _claim(ctx, indicator, f"https://x.example/replayed/{i}"), nonce + i, head)
        for i in range(3)
    ]
    for request in held:
        note_key_signed(_community(ctx).contracts["forwarder"], member, request_key(request))
    assert _direct_ok(ctx, _community(ctx), held, nonce, head)
    nexts = [
        _signed(ctx, ALICE, "badge", _claim(ctx, indicator, "https://x.example/replayed/next"), nonce + 3, head),
        _signed(ctx, ALICE, "badge", _claim(ctx, indicator, "https://x.example/replayed/late"), nonce + 2, head),
        _signed(ctx, ALICE, "badge", _claim(ctx, indicator, "https://x.example/replayed/1"), nonce + 3, head),
    ]
    answers = []
    for next_request in nexts:
        through, alone = (_judged(ctx, member, held, next_request, direct) for direct in (False, True))
        for field in ("status", "returnData", "gasUsed"):
            assert alone.get(field) == through.get(field), (field, alone, through)
        assert [(log["address"], log["topics"], log["data"]) for log in alone.get("logs", [])] == [
            (log["address"], log["topics"], log["data"]) for log in through.get("logs", [])
        ]
        answers.append(int(through["status"], 16))
    assert answers[:2] == [1, 0]  # the next claim succeeds; one at a used nonce does not


def test_a_request_the_forwarder_would_skip_is_never_replayed_alone(env, ctx, governed):
    """Replayed alone, a request runs whatever the forwarder would make of it: so only those
    signed by the member's key, from the chain's nonce with no gap, and not expired by the block
    the next request is judged in, are; any other member's are replayed through the forwarder."""
    member, indicator = address(BOB), governed["code"]
    community = _community(ctx)
    head = ctx.gateway.rpc.request("eth_getBlockByNumber", "latest", False)
    nonce = _chain_nonce(ctx, member)
    held = [
        _signed(ctx, BOB, "badge", _claim(ctx, indicator, f"https://x.example/skipped/{i}"), nonce + i, head)
        for i in range(2)
    ]
    assert _direct_ok(ctx, community, held, nonce, head)  # recovered: Bob's key signed them
    assert not _direct_ok(ctx, community, held[1:], nonce, head)  # a gap: the first is not held
    assert not _direct_ok(ctx, community, held, nonce + 1, head)  # the chain is past the first
    expired = dict(held[1].payload, deadline=int(head["timestamp"], 16))
    assert not _direct_ok(ctx, community, [held[0], held[1]._replace(payload=expired)], nonce, head)
    forged = dict(
        held[1].payload, signature=_signed(ctx, CAROL, "badge", b"\x00", nonce + 1, head).payload["signature"]
    )
    assert not _direct_ok(ctx, community, [held[0], held[1]._replace(payload=forged)], nonce, head)
    wallet = dict(held[1].payload, signature="0x" + "11" * 200)  # a contract wallet's: it may change its mind
    assert not _direct_ok(ctx, community, [held[0], held[1]._replace(payload=wallet)], nonce, head)
    # Those a carry traced on this head at this clock covers were found fit when it was traced, and
    # are not checked again (here one a wallet signed stands in, to show it); the rest are, and so
    # is the run of nonces. A carry of another head or clock vouches for nothing.
    clock = _clock(head)
    first = Carried(head["hash"], clock, (request_key(held[0]),), {})
    unfit = [held[0]._replace(payload=wallet), held[1]]
    covering = Carried(head["hash"], clock, (request_key(unfit[0]),), {})
    assert _direct_ok(ctx, community, unfit, nonce, head, clock, covering)
    assert not _direct_ok(ctx, community, unfit, nonce, head, clock, replace(covering, head="0x" + "22" * 32))
    assert not _direct_ok(ctx, community, unfit, nonce, head, clock, replace(covering, clock=clock - 1))
    assert not _direct_ok(ctx, community, [held[0], held[1]._replace(payload=expired)], nonce, head, clock, first)
    assert not _direct_ok(ctx, community, held, nonce + 1, head, clock, first)
    third = _signed(ctx, BOB, "badge", _claim(ctx, indicator, "https://x.example/skipped/2"), nonce + 2, head)
    assert _direct_ok(ctx, community, [*held, third], nonce, head, clock, first)
    assert not _direct_ok(ctx, community, [held[0], held[0], third], nonce, head, clock, first)  # 0, 0, 2
