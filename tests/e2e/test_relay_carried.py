"""A member writing fast has the state their requests in flight leave carried from one relay check
to the next (backend/relay/carried.py), traced once each, instead of replayed in every check. On
the real chain, each next request is judged on the state carried exactly as on the replays: its
status, its gas, its error and its events, over a run of claims, a claim that reverts in flight, a
vote delegation (a checkpoint at the simulated clock), and a carry started through the forwarder
over requests no check traced. A carry of another head, clock or request is never used."""

from __future__ import annotations

import http.client
import json
import threading
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from eth_utils import keccak

from backend.context import Context
from backend.errors import ChainRefused
from backend.relay import carried as carrying
from backend.relay.book import HeldRequest
from backend.relay.carried import Carried, request_key, struct_key
from backend.relay.gas import NONCE_READ_GAS
from backend.relay.outbox import struct_of
from backend.relay.simulation import (
    CHECK_ANSWERS,
    NewRequest,
    _as_simulated,
    _carried,
    _carry,
    _clock,
    _nonce_read,
    _probe,
    _simulations,
    _trace,
    nonce_slot,
    note_key_signed,
)
from backend.settings import Settings
from bench.writes import Proxy
from devstack.stack import UNTHROTTLED
from tests.e2e.conftest import ALICE, BOB, CAROL, DANA, address
from tests.e2e.rpc_proxy import RecordingProxy
from tests.e2e.test_hostile_relay import claim_typed, own_server, problem, submit
from tests.e2e.test_relay_replays import _as_relayed, _chain_nonce, _community, _signed


@pytest.fixture(autouse=True)
def _writing_fast(monkeypatch):
    """Each member here writes fast: a carry is started anew at any check (in the service, once a
    member is checked four times within a second)."""
    monkeypatch.setattr(carrying, "_BUSY_CHECKS", 1)


@pytest.fixture(scope="module")
def ctx(env) -> Context:
    return Context.build(
        Settings(
            rpc_url=env.anvil.url, deployments_file=env.deployments, DATABASE_URL=env.database_url, relay_carry_from=1
        )
    )


def _claim(ctx: Context, indicator: int, uri: str) -> bytes:
    return ctx.gateway.abi("badge").function("claim").encode(indicator, keccak(text=uri), uri)


def _claim_count(ctx: Context) -> int:
    """The community's claims on chain so far (the next claim's id is one more)."""
    count = ctx.gateway.abi("badge").function("claimCount")
    badge = _community(ctx).contracts["badge"]
    return int(ctx.gateway.rpc.request("eth_call", {"to": badge, "data": "0x" + count.encode().hex()}, "latest"), 16)


def _delegate(ctx: Context, to: str) -> bytes:
    return ctx.gateway.abi("membership").function("delegate").encode(to)


def _new(request: HeldRequest) -> NewRequest:
    payload = request.payload
    struct = struct_of(payload)
    return NewRequest(
        struct_key(request.nonce, struct), payload["to"], payload["data"], payload["gas"], struct, request.gas
    )


class Checks:
    """A member's checks on one head and clock, each way: the requests held replayed, and carried."""

    def __init__(self, ctx: Context, member: str) -> None:
        self.ctx, self.member, self.community = ctx, member, _community(ctx)
        self.forwarder = self.community.contracts["forwarder"]
        self.head = ctx.gateway.rpc.request("eth_getBlockByNumber", "latest", False)
        self.clock = _clock(self.head)
        self.nonce_read = {
            **_nonce_read(ctx, self.community, member),
            "from": ctx.gateway.relayer_address,
            "gas": hex(NONCE_READ_GAS),
        }

    def carried(self, held: list[HeldRequest]) -> Carried:
        return carrying.carried_over(self.forwarder, self.member, self.head["hash"], self.clock, held)

    def judged(
        self, held: list[HeldRequest], request: HeldRequest, carried: Carried | None, forwarded: bool = False
    ) -> dict[str, Any]:
        """The request as the relayer sends it, or its call as the forwarder makes it (so that the
        contract's own error is seen), as the check's simulation answers it behind `held`."""
        payload = request.payload
        call = (
            {
                "from": self.forwarder,
                "to": payload["to"],
                "data": payload["data"] + self.member[2:],
                "gas": hex(3_000_000),
            }
            if forwarded
            else _as_relayed(self.ctx, request)
        )
        [simulation] = _simulations(
            self.ctx, self.community, self.nonce_read, held, [call], self.head, True, carried, self.clock
        )
        [result] = self.ctx.gateway.simulate([simulation])
        assert int(result[0]["calls"][0]["returnData"], 16) == held[0].nonce  # the chain's own nonce, read first
        return result[-1]["calls"][-1]

    def trace(self, held: list[HeldRequest], carried: Carried, request: HeldRequest) -> None:
        """The request traced on `carried`, as its check does, and the state it leaves kept."""
        new = _new(request)
        planned = _trace(self.ctx, self.community, self.member, held, self.head, self.clock, carried, new)
        assert planned is not None, "the next request held is traced"
        [answer] = self.ctx.gateway.simulate([planned.call], CHECK_ANSWERS)
        _carry(self.ctx, self.forwarder, self.member, held, carried, new, planned, answer)

    def paid(self, held: list[HeldRequest], carried: Carried, request: HeldRequest) -> dict[str, Any]:
        """The request as the relayer sends it, traced on `carried` with its gas paid, as a check
        of a member whose requests held are all carried traces it instead of simulating it: its
        answer as the check reads it (the state it leaves kept if it executed)."""
        new = _new(request)
        relayed = _as_relayed(self.ctx, request)
        planned = _trace(self.ctx, self.community, self.member, held, self.head, self.clock, carried, new, relayed)
        assert planned is not None and planned.paid
        [answer] = self.ctx.gateway.simulate([planned.call], CHECK_ANSWERS)
        judged = _as_simulated(planned, answer, self.forwarder, self.member, request.nonce, held[0].nonce)
        assert judged is not None
        if int(judged[-1]["calls"][-1]["status"], 16) == 1:
            _carry(self.ctx, self.forwarder, self.member, held, carried, new, planned, answer)
        return judged[-1]["calls"][-1]


def _note_signed(ctx: Context, requests: list[HeldRequest]) -> None:
    for request in requests:
        note_key_signed(_community(ctx).contracts["forwarder"], request.payload["from"], request_key(request))


def _alike(carried: dict[str, Any], replayed: dict[str, Any]) -> None:
    for field in ("status", "returnData", "gasUsed"):
        assert carried.get(field) == replayed.get(field), (field, carried, replayed)
    assert [(log["address"], log["topics"], log["data"]) for log in carried.get("logs", [])] == [
        (log["address"], log["topics"], log["data"]) for log in replayed.get("logs", [])
    ]


def test_each_next_request_is_judged_on_the_state_carried_as_on_the_replays(env, ctx, governed):
    """Alice sends seven requests fast: claims, one of which claims no evidence (its call reverts
    in flight, and still uses its nonce), and two vote delegations among them. Each is judged
    behind those before it both ways, and then her attestation of her first claim (refused by the
    contract as her own, which only the state carried knows exists) and one more claim: every
    answer alike, and after the first (traced through the forwarder with it), every request held
    is carried, none replayed, but for one whose check did not trace it."""
    member, indicator = address(ALICE), governed["code"]
    checks = Checks(ctx, member)
    nonce = _chain_nonce(ctx, member)
    claims_before = _claim_count(ctx)
    datas = [
        _claim(ctx, indicator, "https://x.example/carried/0"),
        _claim(ctx, indicator, "https://x.example/carried/1"),
        ctx.gateway.abi("badge").function("claim").encode(indicator, b"\x00" * 32, "https://x.example/none"),
        _delegate(ctx, address(BOB)),  # checkpoints at the simulated clock, Alice's and Bob's
        _claim(ctx, indicator, "https://x.example/carried/3"),
        _delegate(ctx, member),  # checkpoints again: refused if the carried ones were later
        _claim(ctx, indicator, "https://x.example/carried/4"),
    ]
    targets = ["badge", "badge", "badge", "membership", "badge", "membership", "badge"]
    requests = [_signed(ctx, ALICE, t, d, nonce + i, checks.head) for i, (t, d) in enumerate(zip(targets, datas))]
    _note_signed(ctx, requests)
    statuses = []
    # Carried over every request held after the first, but for the one whose check did not trace
    # it (4: the outbox took it from another process, say): the next check replays it on the state
    # carried before it, and traces it through the forwarder with its own request.
    untraced, covered = 4, {1: 0, 5: 4}
    for i in range(1, len(requests)):
        held, request = requests[:i], requests[i]
        carried = checks.carried(held)
        assert len(carried.requests) == covered.get(i, i)
        replayed = checks.judged(held, request, None)
        _alike(checks.judged(held, request, carried), replayed)
        statuses.append(int(replayed["status"], 16))
        if i != untraced:
            checks.trace(held, carried, request)
    assert statuses == [1, 0, 1, 1, 1, 1]  # the claim of no evidence is refused
    held = requests
    carried = checks.carried(held)
    assert len(carried.requests) == len(held)
    attest = ctx.gateway.abi("badge").function("attest").encode(claims_before + 1)
    following = [
        _signed(ctx, ALICE, "badge", attest, nonce + len(held), checks.head),
        _signed(
            ctx, ALICE, "badge", _claim(ctx, indicator, "https://x.example/carried/5"), nonce + len(held), checks.head
        ),
    ]
    own = "0x" + keccak(text="BadgeSelfAttestation(uint256,address)")[:4].hex()
    for request, refused in zip(following, (own, None)):
        for forwarded in (True, False):
            replayed = checks.judged(held, request, None, forwarded)
            _alike(checks.judged(held, request, carried, forwarded), replayed)
            assert (int(replayed["status"], 16) == 1) == (refused is None)
            if forwarded and refused:
                assert replayed["returnData"].startswith(refused)


def test_a_paid_trace_answers_a_check_as_its_simulation_does(env, ctx, governed):
    """Once every request a member holds is carried, a check traces its request as the relayer
    sends it, its gas paid, instead of simulating it: over claims, vote delegations (checkpoints at
    the simulated clock), a claim of no evidence and an attestation of a claim of her own (both
    refused by the contract), each answer says as the simulation on the same state does whether it
    executed, and the very gas it used; each executed one is carried, and judged behind as on the
    replays. One that failed carries nothing."""
    member, indicator = address(CAROL), governed["code"]
    checks = Checks(ctx, member)
    nonce = _chain_nonce(ctx, member)
    claims_before = _claim_count(ctx)
    first = _signed(ctx, CAROL, "badge", _claim(ctx, indicator, "https://x.example/paid/0"), nonce, checks.head)
    _note_signed(ctx, [first])
    held = [first]
    # The first carried through the forwarder (its check traced nothing), then each next one paid.
    second = _signed(ctx, CAROL, "badge", _claim(ctx, indicator, "https://x.example/paid/1"), nonce + 1, checks.head)
    checks.trace(held, checks.carried(held), second)
    held = [first, second]
    _note_signed(ctx, held)
    datas = [
        ("badge", ctx.gateway.abi("badge").function("claim").encode(indicator, b"\x00" * 32, "https://x.example/none")),
        ("membership", _delegate(ctx, address(BOB))),
        ("badge", ctx.gateway.abi("badge").function("attest").encode(claims_before + 1)),  # her own claim
        ("badge", _claim(ctx, indicator, "https://x.example/paid/2")),
        ("membership", _delegate(ctx, member)),  # checkpoints again: refused if the carried ones were later
        ("badge", _claim(ctx, indicator, "https://x.example/paid/3")),
    ]
    statuses = []
    for target, data in datas:
        request = _signed(ctx, CAROL, target, data, nonce + len(held), checks.head)
        carried = checks.carried(held)
        assert len(carried.requests) == len(held)  # every request held carried: the check pays its trace
        simulated = checks.judged(held, request, carried)
        assert _alike_on(checks.paid(held, carried, request), simulated)
        _alike(simulated, checks.judged(held, request, None))
        executed = int(simulated["status"], 16) == 1
        statuses.append(int(executed))
        if executed:
            held = [*held, request]
            _note_signed(ctx, [request])
        else:  # refused at the door, never held; and nothing carried past it
            assert len(checks.carried([*held, request]).requests) == len(held)
    assert statuses == [0, 1, 0, 1, 1, 1]


def _alike_on(paid: dict[str, Any], simulated: dict[str, Any]) -> bool:
    """A paid trace's answer says what the simulation says: executed or not, and on what gas."""
    assert paid["status"] == simulated["status"], (paid, simulated)
    assert paid["gasUsed"] == simulated["gasUsed"], (paid, simulated)
    return True


def test_a_carry_is_used_only_on_its_head_clock_and_requests(env, ctx, governed):
    """What was carried holds for one head, one simulated clock and one run of signed requests:
    another of any of them and the check replays what it does not cover (a request at the same
    nonce signed anew is not the one traced)."""
    member, indicator = address(BOB), governed["code"]
    checks = Checks(ctx, member)
    nonce = _chain_nonce(ctx, member)
    requests = [
        _signed(ctx, BOB, "badge", _claim(ctx, indicator, f"https://x.example/carry-key/{i}"), nonce + i, checks.head)
        for i in range(3)
    ]
    _note_signed(ctx, requests)
    for i in range(1, 3):
        checks.trace(requests[:i], checks.carried(requests[:i]), requests[i])
    assert len(checks.carried(requests).requests) == 3
    forwarder, head = checks.forwarder, checks.head["hash"]
    assert carrying.carried_over(forwarder, member, "0x" + "00" * 32, checks.clock, requests).requests == ()
    assert carrying.carried_over(forwarder, member, head, checks.clock + 1, requests).requests == ()
    assert carrying.carried_over(forwarder, address(CAROL), head, checks.clock, requests).requests == ()
    resigned = _signed(
        ctx, BOB, "badge", _claim(ctx, indicator, "https://x.example/carry-key/other"), nonce + 2, checks.head
    )
    over = checks.carried([*requests[:2], resigned]).requests
    assert len(over) < 3 and request_key(resigned) not in over
    assert len(checks.carried(requests).requests) == 3  # the one traced is still known


def test_a_node_is_trusted_with_traces_only_if_it_honours_their_overrides(env, ctx, governed):
    """Before its first carry, the node is probed: a trace whose code and storage are set by a
    state override and whose block by a block override must show all three (several nodes have
    ignored overrides in debug_traceCall without a word, and a carry traced so would miss the
    writes before it). Anvil passes. A trace the node refuses in a check (most paid providers have
    no debug namespace) turns carrying off for that node: the checks replay, until it is probed
    again."""
    member = address(CAROL)
    checks = Checks(ctx, member)
    number = int(checks.head["number"], 16)
    url = ctx.gateway.rpc.url
    assert _probe(ctx, checks.head, checks.clock)
    params = carrying.probe_params(ctx.gateway.relayer_address, number, checks.clock + 1)
    honoured = ctx.gateway.rpc.request("debug_traceCall", *params)
    assert carrying.probe_passed(honoured, number, checks.clock + 1)
    assert not carrying.probe_passed(honoured, number, checks.clock + 2)  # the block's time not as overridden
    without_state = [params[0], params[1], {k: v for k, v in params[2].items() if k != "stateOverrides"}]
    assert not carrying.probe_passed(
        ctx.gateway.rpc.request("debug_traceCall", *without_state), number, checks.clock + 1
    )
    for answer in (None, {}, {"post": []}, {"post": {"0x1": "x"}}):
        assert not carrying.probe_passed(answer, number, checks.clock + 1)

    held = [_signed(ctx, CAROL, "badge", b"\x00" * 4, _chain_nonce(ctx, member), checks.head)]
    _note_signed(ctx, held)
    nobody = Carried(checks.head["hash"], checks.clock, (), {})
    following = _signed(ctx, CAROL, "badge", b"\x00" * 4, held[0].nonce + 1, checks.head)
    try:
        refusal = ctx.gateway.simulate([("debug_noSuchTracer", [])])[0]
        assert isinstance(refusal, ChainRefused)
        planned = _trace(ctx, checks.community, member, held, checks.head, checks.clock, nobody, _new(following))
        assert planned is not None
        _carry(ctx, checks.forwarder, member, held, nobody, _new(following), planned, refusal)
        assert carrying.trusted(url) is False
        assert _carried(ctx, checks.forwarder, member, held, checks.head, checks.clock) is None
        carrying._NODES[url] = carrying._Verdict(False, 0.0, 0.0)  # refused long ago: probed again, and trusted
        assert _carried(ctx, checks.forwarder, member, held, checks.head, checks.clock) is not None
        assert carrying.trusted(url) is True
    finally:
        carrying._NODES.pop(url, None)


def test_no_trace_past_the_members_budget_or_where_a_carry_failed(env, ctx, governed):
    """A request past the member's budget of requests in flight is refused by the outbox whatever
    it leaves, and one expired by the block it is judged in is skipped by the forwarder: their
    checks trace nothing, and a carry from as many as the budget allows never
    starts (nor is the node probed). Nor is there a trace where the member's requests could not be
    carried on this head and clock (a trace that did more than write storage, say). A trace that
    shows the member's nonce as the chain has it, where the override set another, is the node
    ignoring overrides: no traces from it for a while."""
    member = address(BOB)
    checks = Checks(ctx, member)
    nonce = _chain_nonce(ctx, member)
    held = [_signed(ctx, BOB, "badge", b"\x00" * 4, nonce + i, checks.head) for i in range(3)]
    following = _new(_signed(ctx, BOB, "badge", b"\x00" * 4, nonce + 3, checks.head))
    nobody = Carried(checks.head["hash"], checks.clock, (), {})

    def trace(budget: int, new: NewRequest = following) -> Any:
        limited = SimpleNamespace(
            settings=ctx.settings.model_copy(update={"member_max_in_flight": budget}), gateway=ctx.gateway
        )
        return _trace(limited, checks.community, member, held, checks.head, checks.clock, nobody, new)  # type: ignore[arg-type]

    assert trace(4) and not trace(3)

    def due(deadline: int) -> NewRequest:
        return following._replace(struct=(*following.struct[:4], deadline, *following.struct[5:]))

    # Expired by the block it is judged in, the forwarder would skip it and use no nonce: a carry
    # is only ever traced over requests replayed directly, so nothing is traced.
    assert trace(4, due(checks.clock + 1)) and not trace(4, due(checks.clock))
    for carry_from, budget in ((3, 3), (3, 2), (0, 8)):  # a carry could never start: no probe, no carry
        settings = ctx.settings.model_copy(update={"relay_carry_from": carry_from, "member_max_in_flight": budget})
        limited = SimpleNamespace(settings=settings, gateway=ctx.gateway)
        assert _carried(limited, checks.forwarder, member, held, checks.head, checks.clock) is None  # type: ignore[arg-type]
    ignored = {"pre": {checks.forwarder.lower(): {"storage": {nonce_slot(member): "0x" + "ff" * 32}}}, "post": {}}
    try:
        _carry(ctx, checks.forwarder, member, held, nobody, following, trace(4), ignored)
        assert carrying.trusted(ctx.gateway.rpc.url) is False  # the nonce's override was not honoured
    finally:
        carrying._NODES.pop(ctx.gateway.rpc.url, None)
    _carry(
        ctx,
        checks.forwarder,
        member,
        held,
        nobody,
        following,
        trace(4),
        {"pre": {}, "post": {"0xab": {"balance": "0x1"}}},
    )
    assert not trace(4)  # not on this head and clock
    carrying._UNCARRIED.clear()
    assert trace(4)


def test_only_storage_and_only_so_much_of_it_is_carried(env, ctx):
    """Only storage is carried: a traced call that moved value, changed another account's nonce
    (created a contract) or its code is replayed instead, and so is one past the slots a carry
    holds (a bound on the memory carries take, whoever writes how fast)."""
    base = Carried("0x" + "11" * 32, 1, (), {})
    slot = "0x" + "00" * 31 + "01"
    storage_only = {"pre": {"0xAB": {"storage": {slot: "0x" + "00" * 31 + "05"}}}, "post": {"0xab": {"storage": {}}}}
    after = carrying.after_trace(base, ((1, "0xsig"),), storage_only, "0xcd")
    assert after is not None and after.writes == {"0xab": {slot: "0x" + "00" * 32}}  # written back to zero
    for field, value in (("balance", "0x1"), ("nonce", 1), ("code", "0x00")):
        trace = {"pre": {}, "post": {"0xab": {field: value}}}
        assert carrying.after_trace(base, ((1, "0xsig"),), trace, "0xcd") is None
        if field != "code":
            assert carrying.after_trace(base, ((1, "0xsig"),), trace, "0xAB") is not None  # the sender's own
    assert carrying.after_trace(base, (), None, "0xcd") is None
    assert carrying.after_trace(base, (), {"error": "x"}, "0xcd") is None
    slots = {"0x" + f"{i:064x}": "0x" + "00" * 31 + "01" for i in range(carrying._SLOTS + 1)}
    wide = {"pre": {}, "post": {"0xab": {"storage": slots}}}
    assert carrying.after_trace(base, (), wide, "0xcd") is None  # more than a carry holds: replayed
    del slots[next(iter(slots))]
    assert carrying.after_trace(base, (), wide, "0xcd") is not None


def test_through_the_service_a_member_writing_fast_is_judged_on_the_state_carried(env, governed):
    """Through the HTTP API, sending paused (a relayer without funds), so that every request stays
    held: Bob's claims and an attestation, each accepted behind those before it, carried from
    check to check. The node is asked for traces, and the checks simulate fewer calls than the
    replays would (each of those held again in each check); a second attestation of the same
    claim is refused all the same (traced once at most), and his next, different request accepted
    behind them."""
    claim = env.api.act("claims", ALICE, indicator_id=governed["mentoring"], evidence_uri="https://x.example/carry")[
        "created"
    ]["claim_id"]
    penniless = "0x" + keccak(text="a relayer without funds, for carried state").hex()
    proxy = Proxy(env.anvil.url, env.workdir / "carried-proxy.log")
    settings = {"relayer_key": penniless, "rpc_url": proxy.url, "relay_carry_from": 2}
    simulated, traces, paid, claims = 0, 0, 0, 12
    try:
        with own_server(env, **settings, **{k.removeprefix("CC_").lower(): v for k, v in UNTHROTTLED.items()}) as api:

            def submitted(action: str, typed: dict, status: int = 202) -> httpx.Response:
                nonlocal simulated, traces, paid
                proxy.counts(reset=True)
                response = submit(api, action, typed, BOB, wait=False)
                counts = proxy.counts()
                simulated += counts["simulated"]
                traces += counts["traces"].get("prestateTracer", 0)
                # A check with every request held carried traces its request paid, and simulates
                # nothing: a trace and no simulation in its round trip.
                if counts["calls"].get("debug_traceCall", 0) and not counts["calls"].get("eth_simulateV1", 0):
                    paid += 1
                assert response.status_code == status, response.text
                return response

            for i in range(claims):
                submitted("claims", claim_typed(api, BOB, governed["code"], f"https://x.example/carry/{i}"))
            first = api.prepare("attestations", signer=address(BOB), claim_id=claim)["typed_data"]
            submitted("attestations", first)
            second = {**first, "message": {**first["message"], "nonce": first["message"]["nonce"] + 1}}
            proxy.counts(reset=True)
            assert problem(submit(api, "attestations", second, BOB), 409)["error"] == "BadgeAlreadyAttested"
            # Refused, its check traced it once at most (the one simulation, then the two, not again).
            assert proxy.counts()["traces"].get("prestateTracer", 0) <= 1
            following = claim_typed(api, BOB, governed["code"], "https://x.example/carry/next")
            assert following["message"]["nonce"] == first["message"]["nonce"] + 1
            submitted("claims", following)
            assert api.get("/relayer")["in_flight"] == claims + 2
    finally:
        proxy.stop()
    # Replayed, each check simulates the nonce read, those held and its own request: 2 + h for h
    # held, 0 to claims + 1, 119 in all. Carried from the fourth check within a second (the
    # member writing fast), 2 each, and those not covered again once after each second the wall
    # clock turns (the clock carries are traced at): 43 or so, 60 at most with a turn.
    replayed = sum(2 + held for held in range(claims + 2))
    assert traces >= claims - 5
    # Paid from the fifth check or so, but after each turn of the wall clock's second (a carry
    # starts anew through the forwarder): 8 of 14 on a quiet machine.
    assert paid >= 4, paid
    assert simulated < replayed * 0.7, (simulated, replayed)
    assert env.api.get(f"/claims/{claim}")["attestations"] == 0


def _no_traces_in_batches(body: bytes) -> bytes | None:
    """A provider that allows a trace alone and refuses a batch holding one: its one error."""
    if body.lstrip().startswith(b"[") and b'"debug_traceCall"' in body:
        return b'{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"no debug_ in batches"}}'
    return None


def test_a_provider_that_refuses_traces_in_a_batch_costs_no_member_a_request(env, governed):
    """Class: a node that answers the probe (a trace alone) and refuses a batch holding a trace.
    The check whose batch was refused runs again without its trace; the member's requests are
    all accepted, and the node is asked for no more traces."""
    penniless = "0x" + keccak(text="a relayer without funds, for batches refused").hex()
    proxy = RecordingProxy(env.anvil.url, instead=_no_traces_in_batches)
    settings = {"relayer_key": penniless, "rpc_url": proxy.url, "relay_carry_from": 2}
    try:
        with own_server(env, **settings, **{k.removeprefix("CC_").lower(): v for k, v in UNTHROTTLED.items()}) as api:
            for i in range(6):
                typed = claim_typed(api, CAROL, governed["code"], f"https://x.example/batch-refused/{i}")
                response = submit(api, "claims", typed, CAROL, wait=False)
                assert response.status_code == 202, response.text
            assert api.get("/relayer")["in_flight"] == 6
    finally:
        proxy.stop()
    refused = [methods for methods, answer in proxy.answers if b"no debug_ in batches" in answer]
    assert len(refused) == 1 and "debug_traceCall" in refused[0]


class _PaidTraces:
    """A node that answers a check's trace of its request as the relayer sends it (its gas paid) as
    some nodes might: charging no gas in a trace ("free"), ignoring the state carried (its slots
    shown before the call as another value: "ignored"), refusing the trace ("refused") or the
    whole batch that holds it ("batch refused", as some providers refuse debug_ in batches); or as a
    request whose call paid the relayer back ("paid back": the relayer's balance rose, another's
    fell), the first `times` such traces (None: all). It answers everything else as the node does,
    and keeps what each round trip asked (`asked`, its methods) and which held such a trace
    (`paid`, their places in `asked`)."""

    def __init__(self, upstream: str, how: str, times: int | None = None) -> None:
        self.target, self.how, self.times = urlsplit(upstream), how, times
        self.asked: list[str] = []
        self.paid: list[int] = []
        self.lock = threading.Lock()

    def __call__(self, body: bytes) -> bytes | None:
        asked = json.loads(body)
        entries = asked if isinstance(asked, list) else [asked]
        with self.lock:
            self.asked.append(",".join(str(e.get("method")) for e in entries))
            place = len(self.asked) - 1
            if b'"baseFeePerGas"' not in body:
                return None
            self.paid.append(place)
            if self.times is not None and len(self.paid) > self.times:
                return None
        if self.how == "batch refused":
            return b'{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"no debug_ in batches"}}'
        connection = http.client.HTTPConnection(self.target.hostname or "127.0.0.1", self.target.port, timeout=30)
        connection.request("POST", "/", body, {"Content-Type": "application/json"})
        answers = json.loads(connection.getresponse().read())
        connection.close()
        traced = {e["id"] for e in entries if e.get("method") == "debug_traceCall" and "baseFeePerGas" in json.dumps(e)}
        for answer in answers:
            if answer.get("id") in traced:
                self._answer(answer)
        return json.dumps(answers).encode()

    def _answer(self, answer: dict[str, Any]) -> None:
        trace = answer.get("result")
        payer = next(a for a, before in trace["pre"].items() if before.get("balance") == hex(carrying.TRACE_BALANCE))
        if self.how == "free":
            trace["post"][payer]["balance"] = trace["pre"][payer]["balance"]
        elif self.how == "paid back":
            trace["post"][payer]["balance"] = hex(carrying.TRACE_BALANCE + 10**15)
            other = "0x" + "77" * 20
            trace["pre"][other], trace["post"][other] = {"balance": hex(10**18)}, {"balance": hex(10**18 - 10**15)}
        elif self.how == "ignored":
            for before in trace["pre"].values():
                before["storage"] = {slot: "0x" + "ee" * 32 for slot in before.get("storage") or {}}
        else:
            del answer["result"]
            answer["error"] = {"code": -32000, "message": "max fee per gas less than block base fee"}


def _claims_until_paid(api: Any, member: str, indicator: int, how: str, node: _PaidTraces, sent: int) -> int:
    """The member's claims submitted one after another (each accepted) until a check paid for a
    trace, at most 16 more: a carry starts once the member is checked four times within a second,
    and holds for the second. How many were sent, in all."""
    seen = len(node.paid)
    for i in range(sent, sent + 16):
        typed = claim_typed(api, member, indicator, f"https://x.example/paid-{how.replace(' ', '-')}/{i}")
        response = submit(api, "claims", typed, member, wait=False)
        assert response.status_code == 202, response.text
        if len(node.paid) > seen:
            return i + 1
    raise AssertionError(f"no check paid for a trace in 16 claims ({how})")


@pytest.mark.parametrize("how", ["free", "ignored", "refused", "batch refused"])
def test_a_node_whose_paid_traces_cannot_be_trusted_costs_no_member_a_request(env, governed, how):
    """Class: a node that charges no gas in a trace, or ignores the state carried in one that pays
    for it, or refuses such a trace (one that holds to a base fee the override does not set), or
    the whole batch that holds it. The check whose paid trace could not answer it simulates
    instead (the one whose batch was refused, sent again without its trace); every request is
    accepted, and the node is asked for no more traces for a while (the checks replay)."""
    penniless = "0x" + keccak(text=f"a relayer without funds, for paid traces {how}").hex()
    node = _PaidTraces(env.anvil.url, how)
    proxy = RecordingProxy(env.anvil.url, instead=node)
    settings = {"relayer_key": penniless, "rpc_url": proxy.url, "relay_carry_from": 2}
    member = {"free": DANA, "ignored": BOB, "refused": CAROL, "batch refused": ALICE}[how]
    try:
        with own_server(env, **settings, **{k.removeprefix("CC_").lower(): v for k, v in UNTHROTTLED.items()}) as api:
            sent = _claims_until_paid(api, member, governed["code"], how, node, 0)
            for i in range(sent, sent + 4):
                typed = claim_typed(
                    api, member, governed["code"], f"https://x.example/paid-{how.replace(' ', '-')}/{i}"
                )
                assert submit(api, "claims", typed, member, wait=False).status_code == 202
            assert api.get("/relayer")["in_flight"] == sent + 4
    finally:
        proxy.stop()
    # One paid trace, answered so; then no trace of any kind, and the checks simulate (replaying).
    assert len(node.paid) == 1, node.paid
    after = node.asked[node.paid[0] + 1 :]
    assert after and not any("debug_traceCall" in methods for methods in after)
    assert sum("eth_simulateV1" in methods for methods in after) >= 4


def test_a_request_that_pays_the_relayer_turns_no_traces_off(env, governed):
    """Class: a member whose request moves value to the relayer in its paid trace (an account's own
    code, under EIP-7702, paying `tx.origin`), which puts the gas read out of what a call could
    use. That check simulates instead and the request is accepted; the member's requests are
    replayed on that head and clock, and the node keeps its traces for everyone else (a member
    must not turn them off for all)."""
    penniless = "0x" + keccak(text="a relayer without funds, for a request paying it back").hex()
    node = _PaidTraces(env.anvil.url, "paid back", times=1)
    proxy = RecordingProxy(env.anvil.url, instead=node)
    settings = {"relayer_key": penniless, "rpc_url": proxy.url, "relay_carry_from": 2}
    try:
        with own_server(env, **settings, **{k.removeprefix("CC_").lower(): v for k, v in UNTHROTTLED.items()}) as api:
            sent = _claims_until_paid(api, DANA, governed["code"], "paid back", node, 0)
            assert "eth_simulateV1" in ",".join(node.asked[node.paid[0] + 1 :])  # that check simulated
            others = _claims_until_paid(api, ALICE, governed["code"], "paid back", node, 100) - 100
            assert api.get("/relayer")["in_flight"] == sent + others
    finally:
        proxy.stop()
    assert len(node.paid) == 2  # the node was asked for a paid trace again, for another member
