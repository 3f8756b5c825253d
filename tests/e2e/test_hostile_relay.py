"""A hostile member against the relayer: whatever they sign by hand, however fast, the relayer
pays only for requests that will succeed, and never more than the budgets allow.

One test per class of attack (issue 7, parts 2, 3, 4 and 6), on SQLite and PostgreSQL. Each
counts what the relayer actually sent and what reverted, from the chain itself.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

import httpx
import pytest
from eth_abi import encode
from eth_account import Account
from eth_utils import keccak

from backend.chain.typed_data import forward_request_struct, typed_data_digest
from backend.client import ApiError, CommunityClient
from backend.context import Context
from backend.relay.gas import (
    FORWARDER_OWN_GAS,
    FORWARDER_OWN_GAS_PER_BYTE,
    call_gas_bounds,
    calldata_gas,
    gas_ceiling,
    relay_gas,
)
from backend.relay.simulation import as_forwarded, chain_and_outbox, gas_needed, last_call, simulated_behind
from backend.settings import ANVIL_DEV_KEYS, Settings
from devstack.stack import Server, rpc, service_env, wait_until
from tests.e2e.conftest import ALICE, BOB, CAROL, address, pass_proposal

RELAYER = Account.from_key(ANVIL_DEV_KEYS[0]).address
# A second service on the same chain relays with a key of its own, so the two never share nonces.
OWN_RELAYER_KEY = ANVIL_DEV_KEYS[9]
OWN_RELAYER = Account.from_key(OWN_RELAYER_KEY).address


# ---------------------------------------------------------------------------------- helpers


def relayer_nonce(env, relayer: str = RELAYER) -> int:
    return int(rpc(env.anvil.url, "eth_getTransactionCount", relayer, "latest"), 16)


def relayer_receipts(env, since_nonce: int, relayer: str = RELAYER) -> list[dict]:
    """Receipts of every transaction the relayer sent from nonce `since_nonce` on, oldest first."""
    receipts, head = [], int(rpc(env.anvil.url, "eth_blockNumber"), 16)
    for number in range(head, 0, -1):
        block = rpc(env.anvil.url, "eth_getBlockByNumber", hex(number), True)
        ours = [t for t in block["transactions"] if t["from"].lower() == relayer.lower()]
        receipts[:0] = [
            rpc(env.anvil.url, "eth_getTransactionReceipt", t["hash"])
            for t in ours
            if int(t["nonce"], 16) >= since_nonce
        ]
        if any(int(t["nonce"], 16) < since_nonce for t in ours):
            break
    return receipts


def reverted(receipts: list[dict]) -> list[dict]:
    return [r for r in receipts if int(r["status"], 16) != 1]


def problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


def submit(api: CommunityClient, action: str, typed: dict, key: str, wait: bool = True) -> httpx.Response:
    return api.http.post(
        f"/{action}",
        params={} if wait else {"wait": "false"},
        json={"typed_data": typed, "signature": CommunityClient.sign(key, typed)},
    )


def badge_call(env, function: str, *args) -> str:
    types = {"claim": ["uint32", "bytes32", "string"], "attest": ["uint256"]}[function]
    selector = keccak(text=f"{function}({','.join(types)})")[:4]
    return "0x" + (selector + encode(types, list(args))).hex()


@contextmanager
def interval_mining(env, seconds: int = 2):
    """Blocks every `seconds` instead of one per transaction, so that requests stay in flight."""
    rpc(env.anvil.url, "evm_setAutomine", False)
    rpc(env.anvil.url, "evm_setIntervalMining", seconds)
    try:
        yield
    finally:
        rpc(env.anvil.url, "evm_setIntervalMining", 0)
        rpc(env.anvil.url, "evm_setAutomine", True)


@contextmanager
def own_server(env, **settings):
    """A second service on the same chain with its own index and budgets, and these settings."""
    url = f"sqlite:///{env.workdir / f'index-{time.monotonic_ns()}.sqlite3'}"
    server = Server(
        {
            **service_env(env.anvil, env.deployments, url),
            "CC_RELAYER_KEY": OWN_RELAYER_KEY,
            **{f"CC_{k.upper()}": str(v) for k, v in settings.items()},
        },
        env.workdir / "own-server.log",
    )
    server.start()
    try:
        yield CommunityClient(server.url)
    finally:
        server.stop()


def claim_typed(api: CommunityClient, key: str, indicator: int, uri: str) -> dict:
    return api.prepare("claims", signer=address(key), indicator_id=indicator, evidence_uri=uri)["typed_data"]


# ---------------------------------------------------------------------------------- 2. gas


def test_signed_gas_below_the_need_is_refused_before_sending(env, governed):
    """Class: a request signed for too little gas reverts inside the forwarder without using the
    nonce, so the same signature could be replayed for ever at the relayer's cost."""
    typed = claim_typed(env.api, ALICE, governed["code"], "https://x.example/low-gas")
    sent_before = relayer_nonce(env)
    for gas in (21_000, typed["message"]["gas"] // 3):
        low = {**typed, "message": {**typed["message"], "gas": gas}}
        body = problem(submit(env.api, "claims", low, ALICE), 422)
        assert body["error"] == "RelayGasTooLow" and "needs" in body["detail"]
    high = {**typed, "message": {**typed["message"], "gas": 5_000_000}}
    body = problem(submit(env.api, "claims", high, ALICE), 422)
    assert body["error"] == "RelayGasTooHigh"
    assert relayer_nonce(env) == sent_before, "a request with the wrong gas was sent"
    # The request as prepared still goes through.
    assert submit(env.api, "claims", typed, ALICE).json()["status"] == "succeeded"


# A member of this test's own, whose every request is a first one: the founders have signed dozens
# by the time the suite reaches this module, so none of theirs is.
NEWCOMER_KEY = "0x" + keccak(text="hostile relay: a member's first request").hex()


@pytest.fixture
def newcomer(env, governed):
    """A member admitted for one test, whose forwarder nonce is 0, then removed again so that the
    modules after this one find the community as they would without it."""
    account = address(NEWCOMER_KEY)
    pass_proposal(env, ALICE, "A newcomer for the first request", [{"type": "admit_member", "account": account}])
    yield NEWCOMER_KEY
    pass_proposal(env, ALICE, "The newcomer leaves", [{"type": "remove_member", "account": account}])


def in_process(env, monkeypatch) -> Context:
    """The service's own parts on this stack's chain, to simulate as a check does (an index of its own)."""
    for name, value in service_env(env.anvil, env.deployments, f"sqlite:///{env.workdir / 'bounds.sqlite3'}").items():
        monkeypatch.setenv(name, value)
    return Context.build(Settings())


def needed_gas(ctx: Context, typed: dict) -> int:
    """What a request's call needs, simulated as the forwarder makes it (a check's exact rule)."""
    community, message = ctx.community(None), typed["message"]
    target = community.target_key(message["to"], message["from"])
    forwarded = as_forwarded(ctx, community, target, bytes.fromhex(message["data"][2:]), message["from"])
    head, nonce, held = chain_and_outbox(ctx, community, message["from"])
    _, (simulated,) = simulated_behind(ctx, community, message["from"], head, nonce, held, [forwarded])
    return gas_needed(ctx, simulated)


def test_a_request_signed_by_hand_at_the_edges_of_the_gas_rules_is_judged_exactly(env, governed, monkeypatch):
    """Class: a signed request built by hand whose gas sits where one simulation's bounds cannot
    decide. The two simulations judge it: the least and the most gas the rules allow are accepted
    and run, one gas outside either is refused in words, and nothing refused is sent."""
    ctx = in_process(env, monkeypatch)

    def ceiling(needed: int) -> int:
        return gas_ceiling(ctx.settings, needed)

    cases = [
        ("the least allowed", lambda needed: needed, None),
        ("one below it", lambda needed: needed - 1, "RelayGasTooLow"),
        ("the most allowed", ceiling, None),
        ("one above it", lambda needed: ceiling(needed) + 1, "RelayGasTooHigh"),
    ]
    for n, (what, gas_for, refused_with) in enumerate(cases):
        typed = claim_typed(env.api, ALICE, governed["code"], f"https://x.example/edge/{n}")
        edge = {**typed, "message": {**typed["message"], "gas": gas_for(needed_gas(ctx, typed))}}
        sent_before = relayer_nonce(env)
        response = submit(env.api, "claims", edge, ALICE)
        if refused_with is None:
            assert response.json()["status"] == "succeeded", (what, response.text)
        else:
            body = problem(response, 422)
            assert body["error"] == refused_with and "gas" in body["detail"], (what, body)
            assert relayer_nonce(env) == sent_before, what


def test_one_simulation_judges_the_gas_rules_by_bounds_that_hold_on_the_chain(env, governed, newcomer, monkeypatch):
    """A key-signed request is accepted on one simulation (the forwarder's execute) when its gas
    is within bounds of what its call needs (call_gas_bounds), instead of simulating the call too.
    The bounds are only sound if the call's need, simulated as the forwarder makes it, lies between
    them for every kind and size of call: here claims of 1 and 2,048 characters of evidence,
    an attestation and a delegation, on Anvil, and a member's very first request (nonce 0). And a
    request signed for as prepare signs passes them (else every write would take two simulations
    again)."""
    ctx = in_process(env, monkeypatch)
    community = ctx.community(None)
    open_claim = submit(env.api, "claims", claim_typed(env.api, ALICE, governed["code"], "https://x.example/b"), ALICE)
    claim_id = open_claim.json()["created"]["claim_id"]
    requests = {
        "claim, 1 character": (ALICE, claim_typed(env.api, ALICE, governed["code"], "https://x.example/" + "c")),
        "claim, 2,048 characters": (
            ALICE,
            claim_typed(env.api, ALICE, governed["code"], "https://x.example/" + "d" * (2_048 - 18)),
        ),
        "attestation": (BOB, env.api.prepare("attestations", signer=address(BOB), claim_id=claim_id)["typed_data"]),
        "delegation": (
            CAROL,
            env.api.prepare("delegations", signer=address(CAROL), delegatee=address(BOB))["typed_data"],
        ),
        "a member's first request, a delegation": (
            newcomer,
            env.api.prepare("delegations", signer=address(newcomer), delegatee=address(BOB))["typed_data"],
        ),
    }
    assert requests["a member's first request, a delegation"][1]["message"]["nonce"] == 0
    for what, (key, typed) in requests.items():
        message = typed["message"]
        signature = Account.unsafe_sign_hash(typed_data_digest(typed), key).signature
        struct = forward_request_struct(typed, signature)
        execute = ctx.gateway.abi("forwarder").function("execute").encode(struct)
        target = community.target_key(message["to"], message["from"])
        forwarded = as_forwarded(ctx, community, target, bytes.fromhex(message["data"][2:]), message["from"])
        as_relayed = {
            "from": ctx.gateway.relayer_address,
            "to": community.contracts["forwarder"],
            "data": "0x" + execute.hex(),
            "gas": hex(relay_gas(struct, execute)),
        }
        head, nonce, held = chain_and_outbox(ctx, community, message["from"])
        _, (simulated, relayed) = simulated_behind(
            ctx, community, message["from"], head, nonce, held, [forwarded, as_relayed]
        )
        needed = gas_needed(ctx, simulated)
        used, refusal = last_call(ctx, relayed)
        assert refusal is None, (what, refusal)
        least, most = call_gas_bounds(used, execute, bytes.fromhex(forwarded["data"][2:]))
        assert least <= needed <= most, (what, least, needed, most)
        # The forwarder's own work, measured: within the bound even for a member's first request,
        # whose nonce's first write costs 17,100 gas more (20,000 against 2,900; the newcomer's is one).
        own = used - needed - (calldata_gas(execute) - calldata_gas(bytes.fromhex(forwarded["data"][2:])))
        first_write = 0 if message["nonce"] == 0 else 17_100
        data = bytes.fromhex(message["data"][2:])
        assert own + first_write <= FORWARDER_OWN_GAS + FORWARDER_OWN_GAS_PER_BYTE * len(data), (what, own)
        assert most <= message["gas"] <= gas_ceiling(ctx.settings, least), (what, most, message["gas"], least)


def test_submit_applies_prepares_size_and_scheme_rules(env, governed):
    """Class: rules checked only at prepare are bypassed by a request built and signed by hand."""
    typed = claim_typed(env.api, ALICE, governed["code"], "https://x.example/ok")
    sent_before = relayer_nonce(env)
    cases = {
        "https://x.example/" + "a" * 100_000: "at most 2,048",
        "javascript:alert(document.cookie)": "schemes",
        "data:text/html,<script>alert(1)</script>": "schemes",
    }
    for uri, says in cases.items():
        data = badge_call(env, "claim", governed["code"], keccak(text=uri), uri)
        forged = {**typed, "message": {**typed["message"], "data": data, "gas": 3_000_000}}
        body = problem(submit(env.api, "claims", forged, ALICE), 422)
        assert says in body["detail"] and body["errors"][0]["loc"] == ["body", "evidence_uri"], body
        # prepare says the same, from the same rule
        with pytest.raises(ApiError) as caught:
            env.api.prepare("claims", signer=address(ALICE), indicator_id=governed["code"], evidence_uri=uri)
        assert caught.value.status == 422
    assert relayer_nonce(env) == sent_before


def test_a_proposal_signed_by_hand_meets_prepares_rules(env, governed):
    """Class: a proposal of calls no action makes, or too many, signed by hand."""
    typed = env.api.prepare(
        "proposals",
        signer=address(ALICE),
        description="Retire merged patch",
        actions=[{"type": "retire_indicator", "indicator_id": governed["code"]}],
    )["typed_data"]
    governor = env.api.get("/communities")[0]["contracts"]["governor"]
    registry = env.api.get("/communities")[0]["contracts"]["registry"]
    retire = "0x" + (keccak(text="retireIndicator(uint32)")[:4] + encode(["uint32"], [governed["code"]])).hex()
    sent_before = relayer_nonce(env)

    def propose(targets, calldatas, description="By hand"):
        selector = keccak(text="propose(address[],uint256[],bytes[],string)")[:4]
        data = selector + encode(
            ["address[]", "uint256[]", "bytes[]", "string"],
            [targets, [0] * len(targets), [bytes.fromhex(c[2:]) for c in calldatas], description],
        )
        forged = {**typed, "message": {**typed["message"], "data": "0x" + data.hex(), "gas": 3_000_000}}
        return submit(env.api, "proposals", forged, ALICE)

    assert "at most 20 calls" in problem(propose([registry] * 21, [retire] * 21), 422)["detail"]
    # A call no proposal action makes: the governor relaying ether, say.
    relay_call = (
        "0x"
        + (
            keccak(text="relay(address,uint256,bytes)")[:4] + encode(["address", "uint256", "bytes"], [RELAYER, 1, b""])
        ).hex()
    )
    assert "not one the API's proposal actions make" in problem(propose([governor], [relay_call]), 400)["detail"]
    # An action that cannot execute: retiring an indicator that does not exist.
    retire_unknown = "0x" + (keccak(text="retireIndicator(uint32)")[:4] + encode(["uint32"], [999])).hex()
    assert problem(propose([registry], [retire_unknown]), 404)["error"] == "RegistryUnknownIndicator"
    assert relayer_nonce(env) == sent_before


# ---------------------------------------------------------------------------------- 2. budgets


def test_a_call_needing_more_gas_than_the_relayer_pays_per_request_is_refused(env, governed):
    """Class: a call too heavy to relay (here the cap lowered below what any claim needs: its new
    storage alone costs more): its simulation runs with the cap as its gas and runs out, and
    prepare says so in words."""
    with own_server(env, relay_max_gas_per_request=30_000) as api:
        with pytest.raises(ApiError) as caught:
            claim_typed(api, ALICE, governed["code"], "https://x.example/heavy")
    assert caught.value.status == 422, caught.value.problem
    assert "needs more than 30,000 gas" in caught.value.problem["detail"], caught.value.problem


def test_member_budgets_bound_what_the_relayer_burns(env, governed):
    """Class: a member sending as fast as they can. Past the hourly gas budget every request is
    answered 429 with Retry-After, and what the relayer spent for them stays within it."""
    budget = 1_000_000
    with own_server(env, member_gas_per_hour=budget) as api:
        sent_before = relayer_nonce(env, OWN_RELAYER)
        accepted, refusals = 0, []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(refusals) < 3:
            typed = claim_typed(api, CAROL, governed["code"], f"https://x.example/farm/{time.monotonic_ns()}")
            response = submit(api, "claims", typed, CAROL, wait=False)
            if response.status_code == 429:
                refusals.append(response)
            else:
                assert response.status_code == 202, response.text
                accepted += 1
        assert refusals, "the budget never refused"
        body = problem(refusals[0], 429)
        assert body["budget"] == "gas_per_hour" and "1,000,000 gas an hour" in body["detail"]
        assert int(refusals[0].headers["Retry-After"]) >= 1
        wait_until(lambda: api.get("/relayer")["in_flight"] == 0, what="receipts")
        used = sum(int(r["gasUsed"], 16) for r in relayer_receipts(env, sent_before, OWN_RELAYER))
        assert 0 < used <= budget, (accepted, used)
        spent = api.get("/relayer")
        mine = {row["member"]: row for row in spent["by_member"]}[address(CAROL)]
        assert (mine["gas_used"], mine["requests"], mine["failed"]) == (used, accepted, 0)
        assert spent["spent"]["gas_used"] == used and spent["budgets"]["member_gas_per_hour"] == budget


def test_default_budgets_refuse_a_flood_by_rate_and_in_flight(env, governed):
    """Under the default budgets: a member's requests past 8 in flight, then past 60 a minute, are 429."""
    with own_server(env) as api, interval_mining(env, 3):
        # Eight in flight (a block every 3 s), the ninth refused until one is mined.
        responses = []
        for n in range(9):
            typed = claim_typed(api, CAROL, governed["code"], f"https://x.example/burst/{n}")
            responses.append(submit(api, "claims", typed, CAROL, wait=False))
        assert [r.status_code for r in responses] == [202] * 8 + [429], [r.text for r in responses]
        assert problem(responses[-1], 429)["budget"] == "in_flight"
        wait_until(lambda: api.get("/relayer")["in_flight"] == 0, timeout=30, what="the burst mined")
    with own_server(env) as api:
        codes, refusals = [], []
        for n in range(61):
            typed = api.prepare("delegations", signer=address(CAROL), delegatee=address(CAROL if n % 2 else BOB))[
                "typed_data"
            ]
            response = submit(api, "delegations", typed, CAROL, wait=False)
            codes.append(response.status_code)
            if response.status_code != 202:
                refusals.append((n, typed["message"]["nonce"], response.text))
            if codes[-1] == 429:
                break
        assert codes[:60] == [202] * 60 and codes[60] == 429, (codes, refusals)
        assert api.get("/relayer")["spent"]["failed"] == 0


# ---------------------------------------------------------------------------------- 4. nonces


def test_chained_requests_bound_to_fail_are_refused_not_sent(env, governed):
    """Class: requests that pass a simulation on the latest block but must fail behind the
    member's own requests in flight (the same claim attested twice, nonces chained past them)."""
    claim = env.api.act("claims", ALICE, indicator_id=governed["mentoring"], evidence_uri="https://x.example/chained")[
        "created"
    ]["claim_id"]
    sent_before = relayer_nonce(env)
    with interval_mining(env, 2):
        first = env.api.prepare("attestations", signer=address(BOB), claim_id=claim)["typed_data"]
        assert submit(env.api, "attestations", first, BOB, wait=False).status_code == 202
        # Prepared now, the second is judged behind the first (simulated after it).
        with pytest.raises(ApiError) as caught:
            env.api.prepare("attestations", signer=address(BOB), claim_id=claim)
        assert (caught.value.status, caught.value.problem["error"]) == (409, "BadgeAlreadyAttested")
        # Built by hand with the next nonce, it is refused at submit all the same.
        second = {**first, "message": {**first["message"], "nonce": first["message"]["nonce"] + 1}}
        assert problem(submit(env.api, "attestations", second, BOB), 409)["error"] == "BadgeAlreadyAttested"
        # A nonce past a gap is refused too.
        gap = {**first, "message": {**first["message"], "nonce": first["message"]["nonce"] + 5}}
        assert problem(submit(env.api, "attestations", gap, BOB), 409)["error"] == "NonceAhead"
        wait_until(lambda: env.api.get(f"/claims/{claim}")["attestations"] == 1, what="the first attestation")
    receipts = relayer_receipts(env, sent_before)
    assert len(receipts) == 1 and not reverted(receipts)


def test_requests_are_judged_behind_the_members_requests_the_node_does_not_hold_yet(env, governed):
    """Class: requests bound to fail behind the member's own accepted requests while sending is
    paused (here a relayer without funds), so that the node holds none of them. A second
    attestation of one claim is refused, prepared or built by hand; the member's next, different
    request gets the nonce after the first and is accepted behind it; nothing is sent."""
    claim = env.api.act("claims", ALICE, indicator_id=governed["mentoring"], evidence_uri="https://x.example/held")[
        "created"
    ]["claim_id"]
    penniless = "0x" + keccak(text="a relayer without funds").hex()
    with own_server(env, relayer_key=penniless) as api:
        first = api.prepare("attestations", signer=address(BOB), claim_id=claim)["typed_data"]
        assert submit(api, "attestations", first, BOB, wait=False).status_code == 202
        wait_until(
            lambda: "until it is funded" in (api.get("/relayer")["paused"] or ""), what="sending paused for funds"
        )
        with pytest.raises(ApiError) as caught:
            api.prepare("attestations", signer=address(BOB), claim_id=claim)
        assert (caught.value.status, caught.value.problem["error"]) == (409, "BadgeAlreadyAttested")
        second = {**first, "message": {**first["message"], "nonce": first["message"]["nonce"] + 1}}
        assert problem(submit(api, "attestations", second, BOB), 409)["error"] == "BadgeAlreadyAttested"
        following = claim_typed(api, BOB, governed["code"], "https://x.example/held-next")
        assert following["message"]["nonce"] == first["message"]["nonce"] + 1
        assert submit(api, "claims", following, BOB, wait=False).status_code == 202
        assert api.get("/relayer")["in_flight"] == 2
    assert env.api.get(f"/claims/{claim}")["attestations"] == 0


def test_a_request_that_loses_a_race_settles_and_its_member_goes_on(env, governed):
    """Class: two members race for a claim's last attestation; the loser's call reverts. Packed
    in the forwarder's executeBatch, the loss sinks neither the batch nor the winner: the
    relayer's transactions all succeed, the loser's request settles as reverted with its nonce
    used (it cannot be replayed), learned from the receipt with nobody asking, and the loser's
    next request is prepared with the chain's nonce and succeeds."""
    claim = env.api.act("claims", ALICE, indicator_id=governed["code"], evidence_uri="https://x.example/race")[
        "created"
    ]["claim_id"]
    sent_before = relayer_nonce(env)
    with interval_mining(env, 2):
        requests = {
            key: env.api.prepare("attestations", signer=address(key), claim_id=claim)["typed_data"]
            for key in (BOB, CAROL)
        }
        answers = {key: submit(env.api, "attestations", typed, key, wait=False) for key, typed in requests.items()}
        assert {r.status_code for r in answers.values()} == {202}
        ids = {key: r.json()["request_id"] for key, r in answers.items()}
        wait_until(
            lambda: all(env.api.get(f"/requests/{i}")["status"] != "pending" for i in ids.values()),
            timeout=15,
            what="both settled",
        )
    states = {key: env.api.get(f"/requests/{i}") for key, i in ids.items()}
    assert sorted(s["state"] for s in states.values()) == ["reverted", "succeeded"], states
    loser = next(key for key, s in states.items() if s["state"] == "reverted")
    assert "reverted" in states[loser]["error"] and states[loser]["tx_hash"]
    assert not reverted(relayer_receipts(env, sent_before)), "a batch sank with its loser"
    # The loser's nonce was used by the forwarder: their next request gets the chain's next one.
    next_nonce = env.api.prepare("delegations", signer=address(loser), delegatee=address(loser))["typed_data"]
    assert next_nonce["message"]["nonce"] == requests[loser]["message"]["nonce"] + 1
    assert env.api.act("delegations", loser, delegatee=address(loser))["status"] == "succeeded"
    # The lost request sent again is the same request, answered as it ended; nothing is sent.
    sent = relayer_nonce(env)
    again = problem(submit(env.api, "attestations", requests[loser], loser), 409)
    assert (again["error"], again["request_id"]) == ("TransactionReverted", ids[loser])
    assert relayer_nonce(env) == sent
    spent = {row["member"]: row for row in env.api.get("/relayer")["by_member"]}
    assert spent[address(loser)]["failed"] >= 1


def test_concurrent_requests_of_one_member_send_one(env, governed):
    """Class: one member's requests prepared at the same moment share a nonce; submitted at
    once, exactly one is relayed and the others are refused before sending."""
    typed = [claim_typed(env.api, BOB, governed["code"], f"https://x.example/same-moment/{n}") for n in range(4)]
    assert len({t["message"]["nonce"] for t in typed}) == 1
    sent_before = relayer_nonce(env)
    answers: list[httpx.Response] = []
    threads = [threading.Thread(target=lambda t=t: answers.append(submit(env.api, "claims", t, BOB))) for t in typed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    codes = sorted(r.status_code for r in answers)
    assert codes == [200, 409, 409, 409], [r.text for r in answers]
    receipts = relayer_receipts(env, sent_before)
    assert len(receipts) == 1 and not reverted(receipts)


# ---------------------------------------------------------------------------------- 6. smaller


def test_unknown_transaction_is_404(env):
    response = env.api.http.get("/transactions/0x" + "ab" * 32)
    assert problem(response, 404)["detail"].startswith("No transaction")


def test_unsafe_evidence_already_on_chain_is_flagged(env, governed):
    """A member can put any URI on chain by calling the contract directly: the reads say it is unsafe."""
    member = Account.from_key(CAROL)
    badge = env.api.get("/communities")[0]["contracts"]["badge"]
    uri = "javascript:alert(1)"
    tx = member.sign_transaction(
        {
            "type": 2,
            "chainId": int(rpc(env.anvil.url, "eth_chainId"), 16),
            "to": badge,
            "value": 0,
            "data": badge_call(env, "claim", governed["code"], keccak(text=uri), uri),
            "gas": 300_000,
            "nonce": int(rpc(env.anvil.url, "eth_getTransactionCount", member.address, "pending"), 16),
            "maxFeePerGas": 10**10,
            "maxPriorityFeePerGas": 10**9,
        }
    )
    rpc(env.anvil.url, "eth_sendRawTransaction", "0x" + tx.raw_transaction.hex())
    wait_until(
        lambda: any(
            c["evidence_uri"] == uri for c in env.api.get("/claims", contributor=member.address, limit=500)["items"]
        ),
        what="indexed",
    )
    claims = {c["evidence_uri"]: c for c in env.api.get("/claims", contributor=member.address, limit=500)["items"]}
    assert claims[uri]["evidence_uri_safe"] is False
    assert all(c["evidence_uri_safe"] for u, c in claims.items() if u.startswith("https://"))
