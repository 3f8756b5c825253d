"""Smart-account members through the API (issue 10, section 5): a member whose address is a
contract wallet (ERC-1271; here forge-tests/utils/Wallets.sol's minimal wallet of one owner key)
claims, attests and votes with prepare + sign + submit, the owner's key signing for it. The
service asks the wallet on chain, as the forwarder will, when the signature is not the signer's
key, and refuses in words what the wallet refuses (WalletRefusedSignature), before anything is
sent: a wallet that reverts, answers garbage or burns its gas costs the relayer nothing.

Its own chain and service (SQLite): admitting members changes the package community's quorum."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from eth_abi import encode
from eth_utils import to_checksum_address

from backend.chain.typed_data import forward_request_typed_data
from backend.client import CommunityClient
from backend.settings import ANVIL_DEV_KEYS
from devstack.stack import local_stack, rpc
from devstack.wallets import HOSTILE_MODES, compiled
from tests.e2e.conftest import ALICE, BOB, CAROL, address, pass_proposal, problem_of

RELAYER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
DEPLOYER = address(ANVIL_DEV_KEYS[9])  # deploys the wallets; never a member, never the relayer
OWNER = ANVIL_DEV_KEYS[8]  # the wallet's one key; not a member itself
OTHER = ANVIL_DEV_KEYS[7]


def deploy_wallet(url: str, name: str, *args: tuple[str, object]) -> str:
    artifact = compiled()[name]
    data = artifact["bytecode"] + encode([t for t, _ in args], [v for _, v in args]).hex()
    tx_hash = rpc(url, "eth_sendTransaction", {"from": DEPLOYER, "data": data})
    return to_checksum_address(rpc(url, "eth_getTransactionReceipt", tx_hash)["contractAddress"])


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with local_stack(tmp_path_factory.mktemp("smart-accounts")) as stack:
        url = stack.anvil.url
        wallet = deploy_wallet(url, "ERC1271Wallet", ("address", address(OWNER)))
        hostile = {mode: deploy_wallet(url, "HostileWallet", ("uint8", code)) for mode, code in HOSTILE_MODES.items()}
        env = SimpleNamespace(api=CommunityClient(stack.server.url), anvil=stack.anvil)
        mentoring = {
            "type": "add_indicator",
            "name": "Mentoring a newcomer",
            "category": "mentoring",
            "orientation": "community",
            "weight": 5,
            "endorsements_required": 2,
        }
        pass_proposal(
            env, ALICE, "Mentoring counts; a wallet joins", [mentoring, {"type": "admit_member", "account": wallet}]
        )
        yield SimpleNamespace(env=env, api=env.api, url=url, wallet=wallet, hostile=hostile, mentoring=1)


def wallet_act(api: CommunityClient, action: str, wallet: str, key: str = OWNER, **fields) -> dict:
    """prepare for the wallet, signed by its owner's key, submitted: as a wallet app does."""
    typed = api.prepare(action, signer=wallet, **fields)["typed_data"]
    return api.post(f"/{action}", {"typed_data": typed, "signature": api.sign(key, typed)})


def chain_state(url: str):
    return rpc(url, "eth_blockNumber"), rpc(url, "eth_getTransactionCount", RELAYER, "latest")


def test_a_wallet_member_claims_attests_and_votes(stack):
    api, wallet = stack.api, stack.wallet
    assert api.get(f"/members/{wallet}")["address"] == wallet

    # It claims; two founders attest; the badge is the wallet's.
    claim_id = wallet_act(
        api, "claims", wallet, indicator_id=stack.mentoring, evidence_uri="https://forum.example.org/t/wallet-mentoring"
    )["created"]["claim_id"]
    assert api.get(f"/claims/{claim_id}")["contributor"] == wallet
    api.act("attestations", ALICE, claim_id=claim_id)
    assert api.act("attestations", BOB, claim_id=claim_id)["created"]["token_id"] == claim_id
    assert api.get(f"/badges/{claim_id}")["owner"] == wallet
    assert api.get(f"/members/{wallet}/profile")["total_score"] == 5

    # It attests a founder's claim.
    other = api.act(
        "claims", CAROL, indicator_id=stack.mentoring, evidence_uri="https://forum.example.org/t/carol-mentoring"
    )["created"]["claim_id"]
    wallet_act(api, "attestations", wallet, claim_id=other)
    assert api.get(f"/claims/{other}")["attesters"] == [wallet]

    # It votes on a proposal made after its admission.
    proposal = api.act(
        "proposals",
        ALICE,
        description="Reviews count too",
        actions=[
            {
                "type": "add_indicator",
                "name": "Review",
                "category": "code",
                "orientation": "object",
                "weight": 1,
                "endorsements_required": 1,
            }
        ],
    )["created"]["proposal_id"]
    stack.env.anvil.skip(2)
    wallet_act(api, "votes", wallet, proposal_id=proposal, support="for", reason="a wallet's vote")
    votes = api.get(f"/proposals/{proposal}")["votes"]
    assert [(v["voter"], v["support"], v["reason"]) for v in votes] == [(wallet, "for", "a wallet's vote")]


def test_a_signature_the_wallet_refuses(stack):
    api, wallet, url = stack.api, stack.wallet, stack.url
    typed = api.prepare(
        "claims", signer=wallet, indicator_id=stack.mentoring, evidence_uri="https://forum.example.org/t/refused"
    )["typed_data"]
    before = chain_state(url)
    # Another key than the wallet's owner.
    status, problem = problem_of(
        lambda: api.post("/claims", {"typed_data": typed, "signature": api.sign(OTHER, typed)})
    )
    assert (status, problem["error"]) == (403, "WalletRefusedSignature")
    assert f"{wallet} is a contract wallet, and it refused this signature" in problem["detail"]
    assert "not ERC-1271's magic value 0x1626ba7e" in problem["detail"]
    # The owner's signature of a request of the owner's own, replayed for the wallet: `from` is
    # part of what is signed, so the wallet refuses it.
    own = {**typed, "message": {**typed["message"], "from": address(OWNER)}}
    status, problem = problem_of(lambda: api.post("/claims", {"typed_data": typed, "signature": api.sign(OWNER, own)}))
    assert (status, problem["error"]) == (403, "WalletRefusedSignature")
    assert chain_state(url) == before, "a refused request reached the chain"
    # The same typed data signed by the owner for the wallet still goes through.
    assert api.post("/claims", {"typed_data": typed, "signature": api.sign(OWNER, typed)})["created"]["claim_id"]


@pytest.mark.parametrize(
    "mode, words",
    [
        ("revert", "reverted (execution reverted: no)"),
        ("garbage", "answered 0x1626ba7e, not ERC-1271's magic value"),
        ("burn_gas", "ran out of the 500,000 gas the forwarder gives it"),
    ],
)
def test_a_hostile_wallet_costs_the_relayer_nothing(stack, mode, words):
    api, url, hostile = stack.api, stack.url, stack.hostile[mode]
    typed = hand_signed_claim(stack, hostile)
    before = chain_state(url)
    started = time.monotonic()
    status, problem = problem_of(
        lambda: api.post("/claims", {"typed_data": typed, "signature": api.sign(OWNER, typed)})
    )
    assert (status, problem["error"]) == (403, "WalletRefusedSignature"), problem
    assert words in problem["detail"], problem["detail"]
    assert time.monotonic() - started < 5
    assert chain_state(url) == before, "a refused request reached the chain"


def test_a_wallet_that_says_yes_to_anything_still_meets_the_contracts_rules(stack):
    """Saying yes to every signature is the wallet's own business; it is not a member here, so
    the claim is refused by the contract's rule, before anything is sent. A wallet's signature
    may be longer than a key's (a Safe's owners, a passkey): this one is 130 bytes."""
    api, url = stack.api, stack.url
    typed = hand_signed_claim(stack, stack.hostile["yes_to_all"])
    before = chain_state(url)
    for signature in (api.sign(OTHER, typed), api.sign(OTHER, typed) + api.sign(OWNER, typed)[2:]):
        status, problem = problem_of(lambda: api.post("/claims", {"typed_data": typed, "signature": signature}))
        assert (status, problem["error"]) == (403, "BadgeNotMember")
    assert chain_state(url) == before


def test_only_a_contract_wallet_signs_with_more_than_65_bytes(stack):
    api, url = stack.api, stack.url
    typed = api.prepare(
        "claims", signer=address(ALICE), indicator_id=stack.mentoring, evidence_uri="https://forum.example.org/t/long"
    )["typed_data"]
    before = chain_state(url)
    long = api.sign(ALICE, typed) + "00" * 65
    status, problem = problem_of(lambda: api.post("/claims", {"typed_data": typed, "signature": long}))
    assert (status, problem["error"]) == (403, "ECDSAInvalidSignatureLength")
    assert f"only a contract wallet's may be longer, but {address(ALICE)} is not a contract" in problem["detail"]
    for bad, words in (("0x" + "ab" * 2049, "up to 2,048 bytes"), (long[:-1], "an odd number of hex digits")):
        status, problem = problem_of(lambda: api.post("/claims", {"typed_data": typed, "signature": bad}))
        assert status == 422 and words in problem["detail"], problem
    assert chain_state(url) == before


def hand_signed_claim(stack, sender: str) -> dict:
    """A claim's typed data for `sender`, built by hand (prepare refuses non-members)."""
    member = stack.api.prepare(
        "claims", signer=stack.wallet, indicator_id=stack.mentoring, evidence_uri="https://forum.example.org/t/hostile"
    )["typed_data"]
    message = member["message"]
    return forward_request_typed_data(
        chain_id=member["domain"]["chainId"],
        forwarder=member["domain"]["verifyingContract"],
        sender=sender,
        target=message["to"],
        data=message["data"],
        nonce=0,
        deadline=message["deadline"],
        gas=message["gas"],
    )
