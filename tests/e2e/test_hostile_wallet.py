"""A wallet that lies to simulations, and deadlines too close to mine (issue 20, part 1): every gas
the relayer spends is charged to the member who signed, whatever became of the request; a
signature whose request failed is never relayed again; a member whose requests keep failing on
chain after passing every check is slowed, then refused; and a deadline without headroom is
refused before anything is sent.

The lying wallet (forge-tests/utils/Wallets.sol's LyingWallet) says yes to any signature when
`tx.gasprice` is 0, as in every `eth_call` and `eth_simulateV1` the service makes, and burns the
500,000 gas the forwarder allows it in the real transaction. Its own chain and service per
database, with the default budgets: admitting a member changes the package community's quorum.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from eth_utils import to_checksum_address

from backend.client import ApiError, CommunityClient
from backend.i18n import use_locale
from backend.settings import ANVIL_DEV_KEYS, Settings
from backend.units import span
from devstack.stack import local_stack, rpc
from devstack.wallets import compiled
from tests.e2e.conftest import ALICE, _postgres_database, address, pass_proposal, problem_of

RELAYER = address(ANVIL_DEV_KEYS[0])
DEPLOYER = address(ANVIL_DEV_KEYS[9])  # deploys the wallet; never a member, never the relayer
LIAR_KEY = ANVIL_DEV_KEYS[8]  # signs for the wallet, which accepts anything when simulated
DEFAULTS = Settings()
# One server with the default budgets; one with strikes off, so that only the gas budget stops the wallet.
STRIKES_OFF = {"CC_MEMBER_STRIKES_SLOW_AFTER": "1000", "CC_MEMBER_STRIKES_REFUSE_AFTER": "1000"}


def deploy_liar(url: str) -> str:
    tx_hash = rpc(url, "eth_sendTransaction", {"from": DEPLOYER, "data": compiled()["LyingWallet"]["bytecode"]})
    return to_checksum_address(rpc(url, "eth_getTransactionReceipt", tx_hash)["contractAddress"])


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stack(request, tmp_path_factory):
    workdir = tmp_path_factory.mktemp(f"lying-wallet-{request.param}")
    database_url, cleanup = (
        (f"sqlite:///{workdir / 'index.sqlite3'}", None) if request.param == "sqlite" else _postgres_database()
    )
    try:
        with local_stack(workdir, database_url=database_url) as stack:
            url = stack.anvil.url
            liar = deploy_liar(url)
            env = SimpleNamespace(api=CommunityClient(stack.server.url), anvil=stack.anvil)
            pass_proposal(
                env,
                ALICE,
                "Mentoring counts; a wallet joins",
                [
                    {
                        "type": "add_indicator",
                        "name": "Mentoring a newcomer",
                        "category": "mentoring",
                        "orientation": "community",
                        "weight": 5,
                        "endorsements_required": 2,
                    },
                    {"type": "admit_member", "account": liar},
                ],
            )
            yield SimpleNamespace(
                env=env, api=env.api, url=url, liar=liar, stack=stack, workdir=workdir, database_url=database_url
            )
    finally:
        if cleanup:
            cleanup()


def relayer_spent_on(url: str, since_nonce: int) -> tuple[int, int]:
    """The relayer's transactions from `since_nonce` on, and the gas they used, from the chain."""
    count, gas = 0, 0
    head = int(rpc(url, "eth_blockNumber"), 16)
    for number in range(head, 0, -1):
        block = rpc(url, "eth_getBlockByNumber", hex(number), True)
        ours = [t for t in block["transactions"] if t["from"].lower() == RELAYER.lower()]
        for tx in ours:
            if int(tx["nonce"], 16) >= since_nonce:
                count += 1
                gas += int(rpc(url, "eth_getTransactionReceipt", tx["hash"])["gasUsed"], 16)
        if any(int(t["nonce"], 16) < since_nonce for t in ours):
            break
    return count, gas


def relayer_nonce(url: str) -> int:
    return int(rpc(url, "eth_getTransactionCount", RELAYER, "latest"), 16)


def liar_claim(api: CommunityClient, liar: str, n: int) -> tuple[dict, str]:
    typed = api.prepare("claims", signer=liar, indicator_id=1, evidence_uri=f"https://forum.example.org/t/lie-{n}")[
        "typed_data"
    ]
    return typed, api.sign(LIAR_KEY, typed)


def charged(api: CommunityClient, member: str) -> dict:
    rows = {row["member"]: row for row in api.get("/relayer")["by_member"]}
    return rows[member]


def test_a_lying_wallet_pays_for_every_failure_is_slowed_then_refused(stack):
    api, url, liar = stack.api, stack.url, stack.liar
    since = relayer_nonce(url)
    outcomes: list[tuple[int, str]] = []

    # First request: it passes every check (the wallet says yes when simulated), is sent, and the
    # forwarder skips it on chain (the wallet burned its gas and said nothing).
    typed, signature = liar_claim(api, liar, 0)
    status, problem = problem_of(lambda: api.post("/claims", {"typed_data": typed, "signature": signature}))
    assert (status, problem["error"]) == (409, "RequestNotExecuted"), problem
    sent, gas = relayer_spent_on(url, since)
    assert sent == 1 and gas > 500_000
    # Charged, all of it, although it failed.
    assert charged(api, liar)["gas_used"] == gas and charged(api, liar)["strikes"] == 1

    # The same signed request again is never relayed again.
    before = relayer_nonce(url)
    status, problem = problem_of(lambda: api.post("/claims", {"typed_data": typed, "signature": signature}))
    assert (status, problem["error"]) == (409, "RequestAlreadyFailed"), problem
    assert "A signature is relayed once" in problem["detail"]
    assert relayer_nonce(url) == before

    # New requests, as fast as it can: each fails on chain and is a strike; past the default
    # refuse_after strikes, the member is refused before anything is sent.
    refuse_after = DEFAULTS.member_strikes_refuse_after
    for n in range(1, refuse_after + 3):
        typed, signature = liar_claim(api, liar, n)
        try:
            api.post("/claims", {"typed_data": typed, "signature": signature})
            outcomes.append((200, "accepted"))
        except ApiError as exc:
            outcomes.append((exc.status, exc.problem.get("error") or exc.problem.get("budget")))
            if exc.status == 429:
                refusal = exc.problem
    sent, gas = relayer_spent_on(url, since)
    assert sent == refuse_after, outcomes
    assert outcomes[: refuse_after - 1] == [(409, "RequestNotExecuted")] * (refuse_after - 1)
    assert all(status == 429 for status, _ in outcomes[refuse_after - 1 :]), outcomes
    assert refusal["budget"] == "strikes" and "failed on chain" in refusal["detail"]
    assert "Retry in 6 hours" in refusal["detail"] and int(refusal["retry_after"]) > 3600 * 5
    mine = charged(api, liar)
    assert (mine["gas_used"], mine["strikes"], mine["standing"]) == (gas, refuse_after, "refused")
    assert mine["failed"] == refuse_after and mine["succeeded"] == 0
    budgets = api.get("/relayer")["budgets"]
    assert budgets["member_strikes_refuse_after"] == refuse_after


def test_a_members_gas_is_bounded_by_the_hourly_budget_however_they_sign(stack):
    """Strikes off: only the gas budget stands between the lying wallet and the relayer's funds.
    The gas the relayer burns for it, counted from the chain's receipts, stays within the default
    member budget (10,000,000 gas an hour), and the refusal says so."""
    harness = stack.stack
    from devstack.stack import Server, service_env

    url = f"sqlite:///{stack.workdir / 'strikes-off.sqlite3'}"
    server = Server(
        {**service_env(harness.anvil, harness.deployments, url), "CC_RELAYER_KEY": ANVIL_DEV_KEYS[6], **STRIKES_OFF},
        stack.workdir / "strikes-off.log",
    )
    server.start()
    relayer = address(ANVIL_DEV_KEYS[6])
    try:
        api = CommunityClient(server.url)
        since = int(rpc(stack.url, "eth_getTransactionCount", relayer, "latest"), 16)
        refusal = None
        for n in range(100, 160):
            typed, signature = liar_claim(api, stack.liar, n)
            try:
                api.post("/claims", {"typed_data": typed, "signature": signature})
            except ApiError as exc:
                if exc.status == 429:
                    refusal = exc.problem
                    break
                assert exc.problem["error"] == "RequestNotExecuted", exc.problem
        assert refusal is not None and refusal["budget"] == "gas_per_hour", refusal
        spent = _spent_by(stack.url, relayer, since)
        assert 0.8 * DEFAULTS.member_gas_per_hour < spent <= DEFAULTS.member_gas_per_hour, spent
        assert charged(api, stack.liar)["gas_used"] == spent
        assert charged(api, stack.liar)["standing"] == "ok"
    finally:
        server.stop()


def _spent_by(url: str, relayer: str, since_nonce: int) -> int:
    gas = 0
    head = int(rpc(url, "eth_blockNumber"), 16)
    for number in range(head, 0, -1):
        block = rpc(url, "eth_getBlockByNumber", hex(number), True)
        ours = [t for t in block["transactions"] if t["from"].lower() == relayer.lower()]
        gas += sum(
            int(rpc(url, "eth_getTransactionReceipt", t["hash"])["gasUsed"], 16)
            for t in ours
            if int(t["nonce"], 16) >= since_nonce
        )
        if any(int(t["nonce"], 16) < since_nonce for t in ours):
            break
    return gas


def test_a_deadline_without_headroom_is_refused_before_sending(stack):
    api, url = stack.api, stack.url
    typed = api.prepare(
        "claims", signer=address(ALICE), indicator_id=1, evidence_uri="https://forum.example.org/t/late"
    )["typed_data"]
    now = int(rpc(url, "eth_getBlockByNumber", "latest", False)["timestamp"], 16)
    headroom = DEFAULTS.relay_min_deadline_headroom_seconds
    before = relayer_nonce(url)
    for left in (1, headroom // 2, headroom - 2):  # expires before (or while) a block or two are mined
        late = {**typed, "message": {**typed["message"], "deadline": now + left}}
        status, problem = problem_of(
            lambda: api.post("/claims", {"typed_data": late, "signature": api.sign(ALICE, late)})
        )
        assert (status, problem["error"]) == (422, "RequestDeadlineTooClose"), problem
        with use_locale("en"):  # the headroom as the detail says it: "1 minute", in the largest whole unit
            assert f"at least {span(headroom)}" in problem["detail"]
    assert relayer_nonce(url) == before
    # With room to spare, the same request goes through.
    roomy = {**typed, "message": {**typed["message"], "deadline": now + headroom + 30}}
    assert api.post("/claims", {"typed_data": roomy, "signature": api.sign(ALICE, roomy)})["created"]["claim_id"]


def test_the_hidden_are_counted_not_named_in_the_relayers_figures(stack):
    """GET /relayer names members who show their profile; the hidden ones are one total."""
    api = stack.api
    figures = api.get("/relayer")
    assert any(row["member"] == address(ALICE) for row in figures["by_member"])
    api.act("profile-visibility", ALICE, hidden=True)
    figures = api.get("/relayer")
    assert all(row["member"] != address(ALICE) for row in figures["by_member"])
    assert figures["hidden_members"]["members"] == 1 and figures["hidden_members"]["requests"] >= 1
    assert address(ALICE).lower() not in str(figures).lower()
    # The community's totals still count everything the relayer spent (its own calls too: executions).
    assert (
        figures["spent"]["gas_used"]
        >= sum(row["gas_used"] for row in figures["by_member"]) + figures["hidden_members"]["gas_used"]
        > 0
    )
