"""A hostile member against governance (issue 7): settings that would brick it, proposals that
could never execute, oversized proposals, removing every member, and attesting the claim of a
removed member. Each is refused by the API at prepare, with the reason and nothing sent, and,
sent straight to the contracts with the member's own key (bypassing the API), reverted by them
with a named error and nothing changed.

The module shares its chain with the other e2e modules, so it reads the governor's current
settings and members from the chain instead of assuming them, and leaves membership as it
found it."""

from __future__ import annotations

import httpx
import pytest
from eth_abi import decode
from eth_account import Account
from eth_utils import keccak

from backend.chain.deployments import Deployments
from backend.settings import ANVIL_DEV_KEYS
from devstack.stack import rpc, wait_until
from tests.e2e.conftest import ALICE, BOB, CAROL, DANA, address, problem_of

RELAYER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
EVE = ANVIL_DEV_KEYS[5]  # admitted, claims, then removed (test_attesting_a_removed_members_claim)
NEWCOMER = address(ANVIL_DEV_KEYS[6])  # never a member
DAY = 86_400


# ---------------------------------------------------------------------- helpers


class Chain:
    """The community's contracts, called with eth-account and raw JSON-RPC: no API involved."""

    def __init__(self, env) -> None:
        self.url = env.anvil.url
        deployments = Deployments.load(env.deployments)
        self.community = next(iter(deployments.communities.values()))
        self.abi = deployments.abis
        self.chain_id = deployments.chain_id

    def data(self, key: str, function: str, *args) -> bytes:
        return self.abi[key].function(function).encode(*args)

    def call(self, key: str, function: str, *args):
        fn = self.abi[key].function(function)
        raw = rpc(
            self.url, "eth_call", {"to": self.community.contracts[key], "data": "0x" + fn.encode(*args).hex()}, "latest"
        )
        return fn.decode_output(bytes.fromhex(raw[2:]))

    def revert_of(self, key: str, function: str, *args, sender: str) -> tuple[str, tuple]:
        """The custom error (name, arguments) the call reverts with, simulated as `sender`."""
        body = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "eth_estimateGas",
            "params": [
                {
                    "from": sender,
                    "to": self.community.contracts[key],
                    "data": "0x" + self.data(key, function, *args).hex(),
                }
            ],
        }
        error = httpx.post(self.url, json=body).json().get("error")
        assert error is not None, f"{key}.{function} did not revert"
        data = bytes.fromhex(error["data"][2:])
        for abi in self.abi.values():
            custom = abi.errors.get(data[:4])
            if custom is not None:
                return custom.name, tuple(decode(custom.types, data[4:]))
        raise AssertionError(f"unknown revert data {error['data']}")

    def send(self, key: str, function: str, *args, signer: str, gas: int = 3_000_000) -> dict:
        """A transaction from the member's own account, once mined (Anvil automines); its receipt."""
        account = Account.from_key(signer)
        tx = {
            "type": 2,
            "chainId": self.chain_id,
            "to": self.community.contracts[key],
            "value": 0,
            "gas": gas,
            "data": self.data(key, function, *args),
            "nonce": int(rpc(self.url, "eth_getTransactionCount", account.address, "pending"), 16),
            "maxFeePerGas": 2 * int(rpc(self.url, "eth_gasPrice"), 16) + 10**9,
            "maxPriorityFeePerGas": 10**9,
        }
        raw = account.sign_transaction(tx).raw_transaction
        tx_hash = rpc(self.url, "eth_sendRawTransaction", "0x" + raw.hex().removeprefix("0x"))
        wait_until(lambda: rpc(self.url, "eth_getTransactionReceipt", tx_hash) is not None, what=f"{function} mined")
        return rpc(self.url, "eth_getTransactionReceipt", tx_hash)

    def settings(self) -> tuple[int, int, int, int]:
        # quorumNumerator is overloaded (with a timepoint): call the one without arguments by selector.
        current_quorum = rpc(
            self.url,
            "eth_call",
            {"to": self.community.contracts["governor"], "data": "0x" + keccak(text="quorumNumerator()")[:4].hex()},
            "latest",
        )
        return (
            *(self.call("governor", name)[0] for name in ("votingDelay", "votingPeriod", "proposalThreshold")),
            int(current_quorum, 16),
        )

    def members(self, keys) -> list[str]:
        return [k for k in keys if self.call("membership", "isMember", address(k))[0]]


@pytest.fixture
def direct(env, governed):
    """The contracts, called straight (named apart from ape's own `chain` fixture)."""
    return Chain(env)


@pytest.fixture
def nothing_sent(env):
    """Asserts that the test sent nothing to the chain."""

    def state():
        return rpc(env.anvil.url, "eth_blockNumber"), rpc(env.anvil.url, "eth_getTransactionCount", RELAYER, "latest")

    before = state()
    yield
    assert state() == before, "a refused request reached the chain"


def voters(chain: Chain) -> list[str]:
    """Founders and Dana who are members now (other modules may have removed Dana)."""
    return chain.members((ALICE, BOB, CAROL, DANA))


def wait_out(env, chain: Chain, proposal_id: int, until: str) -> None:
    """Skip chain time just past the proposal's snapshot or deadline."""
    target = chain.call("governor", "proposalSnapshot" if until == "snapshot" else "proposalDeadline", proposal_id)[0]
    now = int(rpc(env.anvil.url, "eth_getBlockByNumber", "latest", False)["timestamp"], 16)
    env.anvil.skip(max(1, target - now + 1))


def carry_raw(env, chain: Chain, calls: list[tuple[str, str, tuple]], description: str) -> tuple:
    """Propose with Alice's own key straight to the governor, every member votes for, wait out
    the period, queue it in the timelock (no delay on this chain): ready to execute. Returns
    execute's arguments."""
    targets = [chain.community.contracts[key] for key, _, _ in calls]
    calldatas = [chain.data(key, fn, *args) for key, fn, args in calls]
    receipt = chain.send("governor", "propose", targets, [0] * len(calls), calldatas, description, signer=ALICE)
    assert receipt["status"] == "0x1", "the raw proposal was refused"
    proposal_id = chain.call(
        "governor", "hashProposal", targets, [0] * len(calls), calldatas, keccak(text=description)
    )[0]
    wait_out(env, chain, proposal_id, "snapshot")
    for key in voters(chain):
        assert chain.send("governor", "castVote", proposal_id, 1, signer=key)["status"] == "0x1"
    wait_out(env, chain, proposal_id, "deadline")
    assert chain.call("governor", "state", proposal_id)[0] == 4, "not succeeded"
    arguments = (targets, [0] * len(calls), calldatas, keccak(text=description))
    # Queueing checks nothing of what the calls do: a doomed proposal is queued like any other.
    assert chain.send("governor", "queue", *arguments, signer=BOB)["status"] == "0x1"
    assert chain.call("governor", "state", proposal_id)[0] == 5, "not queued"
    return proposal_id, arguments


def pass_via_api(env, chain: Chain, description: str, actions: list[dict]) -> str:
    """The whole lifecycle through the API, with every current member voting for."""
    proposal_id = env.api.act("proposals", ALICE, description=description, actions=actions)["created"]["proposal_id"]
    wait_out(env, chain, int(proposal_id), "snapshot")
    for key in voters(chain):
        env.api.act("votes", key, proposal_id=proposal_id, support="for")
    wait_out(env, chain, int(proposal_id), "deadline")
    env.api.execute(proposal_id)
    return proposal_id


def execute_via_api(env, proposal_id: int):
    """POST .../execute once the index has seen the (raw) proposal queued."""
    wait_until(
        lambda: (
            (r := env.api.http.get(f"/proposals/{proposal_id}")).status_code == 200 and r.json()["state"] == "queued"
        ),
        what="proposal indexed as queued",
    )
    return env.api.execute(str(proposal_id))


def prepare_proposal(env, actions: list[dict], description: str = "hostile"):
    return env.api.prepare("proposals", signer=address(ALICE), description=description, actions=actions)


# ---------------------------------------------------------------------- 5. bricking settings

BRICKS = [
    # (change_settings fields, status, error, fragment of the detail)
    (
        {"voting_delay_seconds": 2**48 - 1},
        422,
        "GovernorVotingDelayOutOfRange",
        "voting_delay_seconds must be within the governor's bounds, 0 to 2,592,000 (0 seconds to 30 days)",
    ),
    ({"voting_delay_seconds": 30 * DAY + 1}, 422, "GovernorVotingDelayOutOfRange", "2,592,001 would be refused"),
    (
        {"voting_period_seconds": 59},
        422,
        "GovernorVotingPeriodOutOfRange",
        "voting_period_seconds must be within the governor's bounds, 60 to 2,592,000 (1 minute to 30 days)",
    ),
    ({"voting_period_seconds": 2**32 - 1}, 422, "GovernorVotingPeriodOutOfRange", "4,294,967,295 would be refused"),
    (
        {"proposal_threshold": 2},
        422,
        "GovernorProposalThresholdOutOfRange",
        "proposal_threshold must be within the governor's bounds, 0 to 1",
    ),
    (
        {"quorum_percent": 300, "voting_period_seconds": 600},
        422,
        None,
        "quorum_percent: Input should be less than or equal to 100",
    ),
    ({"quorum_percent": 0}, 422, None, "quorum_percent: Input should be greater than or equal to 1"),
]


@pytest.mark.parametrize(
    "fields, status, error, fragment", BRICKS, ids=[",".join(f"{k}={v}" for k, v in b[0].items()) for b in BRICKS]
)
def test_bricking_settings_refused_at_prepare(env, direct, nothing_sent, fields, status, error, fragment):
    before = direct.settings()
    code, body = problem_of(lambda: prepare_proposal(env, [{"type": "change_settings", **fields}], "brick it"))
    assert (code, body.get("error")) == (status, error), body
    assert fragment in body["detail"], body["detail"]
    assert direct.settings() == before


def test_settings_at_the_bounds_are_accepted_at_prepare(env, direct, nothing_sent):
    prepare_proposal(
        env,
        [
            {
                "type": "change_settings",
                "voting_delay_seconds": 30 * DAY,
                "voting_period_seconds": 60,
                "proposal_threshold": 1,
                "quorum_percent": 100,
            }
        ],
    )


def test_bricking_settings_refused_on_chain(env, direct):
    """The issue's own case: a delay of 2**48 - 1 proposed straight to the governor passes the
    vote, and its execution reverts with the named error; governance goes on."""
    before = direct.settings()
    proposal_id, execute_args = carry_raw(
        env, direct, [("governor", "setVotingDelay", (2**48 - 1,))], "Delay votes until the end of time"
    )
    assert direct.revert_of("governor", "execute", *execute_args, sender=address(BOB)) == (
        "GovernorVotingDelayOutOfRange",
        (2**48 - 1, 0, 30 * DAY),
    )
    receipt = direct.send("governor", "execute", *execute_args, signer=BOB)
    assert receipt["status"] == "0x0"
    assert direct.settings() == before
    assert direct.call("governor", "state", proposal_id)[0] == 5  # still queued, never executed
    # The API says why, by name, rather than a bare refusal.
    code, body = problem_of(lambda: execute_via_api(env, proposal_id))
    assert (code, body["error"]) == (422, "GovernorVotingDelayOutOfRange")
    # Governance is alive: the next proposal is accepted (it overflowed before the fix).
    prepare_proposal(env, [{"type": "admit_member", "account": NEWCOMER}], "still alive")


# ---------------------------------------------------------------------- 5. impossible proposals


def _remove(key_or_address: str) -> dict:
    account = (
        key_or_address if key_or_address.startswith("0x") and len(key_or_address) == 42 else address(key_or_address)
    )
    return {"type": "remove_member", "account": account}


IMPOSSIBLE = {
    "the same member removed twice": (
        lambda g: [_remove(CAROL), _remove(CAROL)],
        409,
        "MembershipNotMember",
        f"actions[1] (remove_member) removes {address(CAROL)}, who is no longer a member by then "
        f"(actions[0] (remove_member) removes them): the proposal could never execute",
    ),
    "removed then recovered": (
        lambda g: [_remove(CAROL), {"type": "recover_member", "lost": address(CAROL), "replacement": NEWCOMER}],
        409,
        "MembershipNotMember",
        f"actions[1] (recover_member) moves the membership of {address(CAROL)}, who is no longer a member by then "
        "(actions[0] (remove_member) removes them)",
    ),
    "recovered then removed": (
        lambda g: [{"type": "recover_member", "lost": address(CAROL), "replacement": NEWCOMER}, _remove(CAROL)],
        409,
        "MembershipNotMember",
        f"actions[1] (remove_member) removes {address(CAROL)}, who is no longer a member by then "
        f"(actions[0] (recover_member) moves their membership to {NEWCOMER})",
    ),
    "one account admitted twice": (
        lambda g: [{"type": "admit_member", "account": NEWCOMER}, {"type": "admit_member", "account": NEWCOMER}],
        409,
        "MembershipAlreadyMember",
        f"actions[1] (admit_member) admits {NEWCOMER}, who is a member by then (actions[0] (admit_member) admits "
        "them): the proposal could never execute",
    ),
    "admitted while already a member": (
        lambda g: [{"type": "admit_member", "account": address(BOB)}],
        409,
        "MembershipAlreadyMember",
        f"{address(BOB)} is already a member",
    ),
    "an indicator retired then amended": (
        lambda g: [
            {"type": "retire_indicator", "indicator_id": g["code"]},
            {
                "type": "amend_indicator",
                "indicator_id": g["code"],
                "name": "Merged patch",
                "category": "code",
                "orientation": "object",
                "weight": 4,
                "endorsements_required": 1,
            },
        ],
        409,
        "RegistryIndicatorRetired",
        "actions[1] (amend_indicator) amends indicator {code}, which actions[0] (retire_indicator) retires",
    ),
    "an indicator retired twice": (
        lambda g: [
            {"type": "retire_indicator", "indicator_id": g["code"]},
            {"type": "retire_indicator", "indicator_id": g["code"]},
        ],
        409,
        "RegistryIndicatorRetired",
        "actions[1] (retire_indicator) retires indicator {code}, which actions[0] (retire_indicator) already retires",
    ),
    "a badge revoked twice": (
        lambda g: [
            {"type": "revoke_badge", "token_id": g["badge"], "reason": "fraud"},
            {"type": "revoke_badge", "token_id": g["badge"], "reason": "fraud, again"},
        ],
        409,
        "BadgeAlreadyRevoked",
        "actions[1] (revoke_badge) revokes badge {badge}, which actions[0] (revoke_badge) already revokes",
    ),
    "a badge the lost address does not hold": (
        lambda g: [
            {"type": "recover_member", "lost": address(BOB), "replacement": NEWCOMER, "token_ids": [g["badge"]]}
        ],
        409,
        "BadgeNotHeldBy",
        f"actions[0] (recover_member) moves badge {{badge}}, which {address(BOB)} does not hold "
        f"({address(CAROL)} does)",
    ),
}


@pytest.fixture(scope="module")
def shapes(env, governed):
    """The governed community plus one badge of Carol's (code needs one attestation)."""
    claim = env.api.act("claims", CAROL, indicator_id=governed["code"], evidence_uri="https://x.example/hostile")
    token = env.api.act("attestations", ALICE, claim_id=claim["created"]["claim_id"])["created"]["token_id"]
    return {**governed, "badge": token}


@pytest.mark.parametrize("name", list(IMPOSSIBLE))
def test_impossible_proposals_refused_at_prepare(env, direct, shapes, nothing_sent, name):
    actions, status, error, fragment = IMPOSSIBLE[name]
    code, body = problem_of(lambda: prepare_proposal(env, actions(shapes), name))
    assert (code, body.get("error")) == (status, error), body
    assert fragment.format(badge=shapes["badge"], code=shapes["code"]) in body["detail"], body["detail"]


def every_member(env, chain: Chain) -> list[str]:
    members = [m["address"] for m in env.api.get("/members", limit=200)["items"] if m["active"]]
    assert len(members) == chain.call("membership", "memberCount")[0], "the index lags the chain"
    return members


def test_removing_every_member_refused_at_prepare(env, direct, nothing_sent):
    members = every_member(env, direct)
    code, body = problem_of(lambda: prepare_proposal(env, [_remove(m) for m in members], "remove everyone"))
    assert (code, body["error"]) == (409, "MembershipLastMember")
    last = len(members) - 1
    earlier = ", ".join(f"actions[{i}] (remove_member)" for i in range(last))
    assert (
        f"actions[{last}] (remove_member) removes {members[-1]}, the last member left after {earlier}: "
        "a community keeps at least one member"
    ) in body["detail"], body["detail"]
    # Admitting someone first leaves a member: that proposal can execute, so it is accepted.
    prepare_proposal(env, [{"type": "admit_member", "account": NEWCOMER}, *[_remove(m) for m in members]])


def test_removing_every_member_refused_on_chain(env, direct):
    members = every_member(env, direct)
    proposal_id, execute_args = carry_raw(
        env, direct, [("membership", "remove", (m,)) for m in members], "Remove every member"
    )
    assert direct.revert_of("governor", "execute", *execute_args, sender=address(BOB)) == (
        "MembershipLastMember",
        (members[-1].lower(),),
    )
    assert direct.send("governor", "execute", *execute_args, signer=BOB)["status"] == "0x0"
    assert every_member(env, direct) == members
    assert all(direct.call("membership", "isMember", m)[0] for m in members)
    code, body = problem_of(lambda: execute_via_api(env, proposal_id))
    assert (code, body["error"]) == (409, "MembershipLastMember")


# ---------------------------------------------------------------------- 2. the size cap

SIZES = {
    "21 actions": ([{"type": "admit_member", "account": NEWCOMER}] * 21, "List should have at most 20 items"),
    "501 token ids over two recoveries": (
        [
            {"type": "recover_member", "lost": address(BOB), "replacement": NEWCOMER, "token_ids": list(range(1, 301))},
            {
                "type": "recover_member",
                "lost": address(CAROL),
                "replacement": NEWCOMER,
                "token_ids": list(range(301, 502)),
            },
        ],
        "a proposal moves at most 500 badges in all; its recover_member actions name 501 token ids",
    ),
    "20 recoveries of 500 token ids (the issue's 7.4M gas proposal)": (
        [
            {
                "type": "recover_member",
                "lost": address(BOB),
                "replacement": NEWCOMER,
                "token_ids": list(range(1 + 500 * i, 501 + 500 * i)),
            }
            for i in range(20)
        ],
        "a proposal moves at most 500 badges in all; its recover_member actions name 10000 token ids",
    ),
    "21 calls from six change_settings": (
        [
            {
                "type": "change_settings",
                "voting_delay_seconds": 1,
                "voting_period_seconds": 300,
                "proposal_threshold": 0,
                "quorum_percent": 50,
            }
        ]
        * 5
        + [{"type": "change_settings", "quorum_percent": 50}],
        "a proposal makes at most 20 calls (change_settings makes one per setting, recover_member two with badges); "
        "these actions make 21",
    ),
    "over 16 KiB of calldata": (
        [
            {
                "type": "add_indicator",
                "name": f"Long {i}",
                "description_uri": "ipfs://" + "d" * 2040,
                "orientation": "community",
                "weight": 1,
                "endorsements_required": 1,
            }
            for i in range(8)
        ],
        "a proposal's calls carry at most 16,384 bytes of calldata (the relayer pays for every byte); "
        "these actions make",
    ),
}


@pytest.mark.parametrize("name", list(SIZES))
def test_oversized_proposals_refused_at_prepare(env, direct, nothing_sent, name):
    actions, fragment = SIZES[name]
    code, body = problem_of(lambda: prepare_proposal(env, actions, name))
    assert code == 422, body
    assert fragment in body["detail"], body["detail"]
    assert body["errors"][0]["loc"][-1] == "actions"


def test_a_proposal_at_the_size_cap_costs_the_relayer_bounded_gas(env, direct):
    """The largest proposal prepare accepts: 16,380 bytes of calldata (seven indicators with long
    description links) and a 10,000-character description. Proposing it costs the relayer under
    1.1M gas (1,001,420 measured on osaka, where EIP-7623 prices calldata at 40 gas a byte at least;
    765,474 on cancun), where 20 recoveries of 500 token ids each cost 7.4M."""

    def indicator(i: int, link: int) -> dict:
        return {
            "type": "add_indicator",
            "name": f"Long {i}",
            "description_uri": "ipfs://" + "d" * link,
            "orientation": "community",
            "weight": 1,
            "endorsements_required": 1,
        }

    actions = [indicator(i, 2040) for i in range(6)] + [indicator(6, 473)]
    proposal = env.api.act("proposals", BOB, description="d" * 10_000, actions=actions)
    gas = int(rpc(env.anvil.url, "eth_getTransactionReceipt", proposal["tx_hash"])["gasUsed"], 16)
    assert gas < 1_100_000, gas
    # One character more (32 bytes more, in ABI words) and it is refused.
    code, body = problem_of(lambda: prepare_proposal(env, [*actions[:-1], indicator(6, 474)]))
    assert code == 422 and "at most 16,384 bytes" in body["detail"], body


# ---------------------------------------------------------------------- 6. a removed member's claim


def test_attesting_a_removed_members_claim(env, direct, governed):
    """Eve is admitted, claims a merged patch (one attestation mints), and is removed before
    anyone attests: the attestation is refused by the API with the contract's error, and by the
    contract when sent straight to it; no badge is minted to her."""
    eve = address(EVE)
    pass_via_api(env, direct, "Admit Eve", [{"type": "admit_member", "account": eve}])
    claim_id = env.api.act("claims", EVE, indicator_id=governed["code"], evidence_uri="https://git.example.org/mr/eve")[
        "created"
    ]["claim_id"]
    pass_via_api(env, direct, "Remove Eve", [{"type": "remove_member", "account": eve}])
    assert not direct.call("membership", "isMember", eve)[0]

    block = rpc(env.anvil.url, "eth_blockNumber")
    code, body = problem_of(lambda: env.api.prepare("attestations", signer=address(ALICE), claim_id=claim_id))
    assert (code, body["error"]) == (409, "BadgeContributorNotMember")
    assert body["arguments"] == {"claimId": claim_id, "contributor": eve}
    assert f"The contributor of claim {claim_id}, {eve}, is not a member of this community" in body["detail"]
    assert rpc(env.anvil.url, "eth_blockNumber") == block

    # Straight to the contract, from Alice's own account.
    assert direct.revert_of("badge", "attest", claim_id, sender=address(ALICE)) == (
        "BadgeContributorNotMember",
        (claim_id, eve.lower()),
    )
    assert direct.send("badge", "attest", claim_id, signer=ALICE, gas=300_000)["status"] == "0x0"
    assert direct.call("badge", "getClaim", claim_id)[0][3] == 0  # no attestation recorded
    assert not direct.call("badge", "isActive", claim_id)[0]
    assert direct.call("badge", "balanceOf", eve)[0] == 0
    assert problem_of(lambda: env.api.get(f"/badges/{claim_id}"))[0] == 404
    assert env.api.get(f"/claims/{claim_id}")["attestations"] == 0
