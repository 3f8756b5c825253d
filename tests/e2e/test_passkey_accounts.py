"""Passkey members through the API (issue 22, step 2): a person without a wallet gets a member
address from their passkey's public key, the relayer deploys the account (once), governance admits
it, and a claim signed with the passkey (a WebAuthn assertion over the request's EIP-712 digest) is
relayed like any other; a spoiled assertion is refused in words before anything is sent.

Its own chain and service per database: admitting a member changes the package community's quorum."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from backend.client import CommunityClient
from devstack.passkeys import FLAG_UP, Passkey
from devstack.stack import local_stack, rpc
from tests.e2e.conftest import ALICE, _postgres_database, pass_proposal, problem_of

RELAYER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stack(request, tmp_path_factory):
    workdir = tmp_path_factory.mktemp(f"passkeys-{request.param}")
    database_url, cleanup = (
        (f"sqlite:///{workdir / 'index.sqlite3'}", None) if request.param == "sqlite" else _postgres_database()
    )
    try:
        with local_stack(workdir, database_url=database_url) as stack:
            env = SimpleNamespace(api=CommunityClient(stack.server.url), anvil=stack.anvil)
            pass_proposal(
                env,
                ALICE,
                "Mentoring counts",
                [
                    {
                        "type": "add_indicator",
                        "name": "Mentoring a newcomer",
                        "category": "mentoring",
                        "orientation": "community",
                        "weight": 5,
                        "endorsements_required": 2,
                    }
                ],
            )
            yield SimpleNamespace(env=env, api=env.api, url=stack.anvil.url)
    finally:
        if cleanup:
            cleanup()


def coordinates(passkey: Passkey) -> dict[str, str]:
    qx, qy = passkey.public
    return {"x": "0x" + qx.hex(), "y": "0x" + qy.hex()}


def chain_state(url: str):
    return rpc(url, "eth_blockNumber"), rpc(url, "eth_getTransactionCount", RELAYER, "latest")


def test_a_passkey_member_is_admitted_and_claims_without_a_wallet(stack):
    api, passkey = stack.api, Passkey.generate()
    # Anyone can make P-256 keys by the thousand: a stranger's is answered its address, and costs the
    # relayer nothing until the address can act.
    before = chain_state(stack.url)
    stranger = api.post("/passkey-accounts", coordinates(passkey))
    assert (stranger["deployed"], stranger["deployed_now"], stranger["tx"]) == (False, False, None)
    assert chain_state(stack.url) == before
    account = stranger["address"]

    # Governance admits the address; asked again, the relayer deploys the account, once.
    pass_proposal(stack.env, ALICE, "A passkey member joins", [{"type": "admit_member", "account": account}])
    first = api.post("/passkey-accounts", coordinates(passkey))
    assert first["deployed_now"] and first["tx"]["status"] == "succeeded" and first["address"] == account
    assert rpc(stack.url, "eth_getCode", account, "latest") not in ("0x", "")
    before = chain_state(stack.url)
    again = api.post("/passkey-accounts", coordinates(passkey))
    assert (again["address"], again["deployed"], again["deployed_now"], again["tx"]) == (account, True, False, None)
    assert chain_state(stack.url) == before

    # It claims, signing with the passkey alone.
    typed = api.prepare(
        "claims", signer=account, indicator_id=1, evidence_uri="https://forum.example.org/t/passkey-mentoring"
    )["typed_data"]
    signature = "0x" + passkey.sign_request(typed).hex()
    claim_id = api.post("/claims", {"typed_data": typed, "signature": signature})["created"]["claim_id"]
    assert api.get(f"/claims/{claim_id}")["contributor"] == account


@pytest.fixture(scope="module")
def passkey_member(stack):
    """A passkey and its account, deployed and admitted once for the refusals below."""
    passkey = Passkey.generate()
    account = stack.api.post("/passkey-accounts", coordinates(passkey))["address"]
    pass_proposal(stack.env, ALICE, f"Admit {account}", [{"type": "admit_member", "account": account}])
    assert stack.api.post("/passkey-accounts", coordinates(passkey))["deployed"]
    return passkey, account


@pytest.mark.parametrize(
    "spoil, why",
    [({"flags": FLAG_UP}, "no user verification"), ({"high_s": True}, "high s"), ({}, "another key")],
)
def test_a_spoiled_passkey_signature_is_refused_before_anything_is_sent(stack, passkey_member, spoil, why):
    api, (passkey, account) = stack.api, passkey_member
    typed = api.prepare("claims", signer=account, indicator_id=1, evidence_uri=f"https://example.org/{why}")[
        "typed_data"
    ]
    signer = Passkey.generate() if why == "another key" else passkey
    signature = "0x" + signer.sign_request(typed, **spoil).hex()
    before = chain_state(stack.url)
    status, problem = problem_of(lambda: api.post("/claims", {"typed_data": typed, "signature": signature}))
    assert (status, problem["error"]) == (403, "WalletRefusedSignature"), (why, problem)
    assert "it refused this signature" in problem["detail"]
    assert chain_state(stack.url) == before


@pytest.mark.parametrize("x, y", [("0x" + "00" * 32, "0x" + "00" * 31 + "01"), ("0x" + "11" * 32, "0x" + "22" * 32)])
def test_a_key_that_is_not_a_passkeys_is_refused_in_words(stack, x, y):
    before = chain_state(stack.url)
    status, problem = problem_of(lambda: stack.api.post("/passkey-accounts", {"x": x, "y": y}))
    assert status == 422 and "not a point of the P-256 curve" in problem["detail"], problem
    assert chain_state(stack.url) == before


def test_a_member_adds_a_second_passkey_and_removes_the_first(stack, passkey_member):
    api, (first, account) = stack.api, passkey_member
    second = Passkey.generate()

    def change(signing: Passkey, key: Passkey, how: str) -> dict:
        typed = api.post("/passkey-accounts/keys/prepare", {"signer": account, **coordinates(key), "change": how})[
            "typed_data"
        ]
        return api.post(
            "/passkey-accounts/keys", {"typed_data": typed, "signature": "0x" + signing.sign_request(typed).hex()}
        )

    def claim(signing: Passkey, uri: str) -> dict:
        typed = api.prepare("claims", signer=account, indicator_id=1, evidence_uri=uri)["typed_data"]
        return api.post("/claims", {"typed_data": typed, "signature": "0x" + signing.sign_request(typed).hex()})

    assert change(first, second, "add")["status"] == "succeeded"
    assert claim(second, "https://example.org/second-device")["created"]["claim_id"]
    status, problem = problem_of(lambda: change(second, second, "add"))
    assert status == 409 and "already one of your account's" in problem["detail"]
    assert change(second, first, "remove")["status"] == "succeeded"
    status, problem = problem_of(lambda: claim(first, "https://example.org/removed-device"))
    assert (status, problem["error"]) == (403, "WalletRefusedSignature")
    status, problem = problem_of(lambda: change(second, second, "remove"))
    assert status == 409 and "last passkey" in problem["detail"]
    not_a_point = {"signer": account, "x": "0x" + "00" * 32, "y": "0x" + "00" * 31 + "01"}
    status, problem = problem_of(lambda: api.post("/passkey-accounts/keys/prepare", not_a_point))
    assert status == 422 and "not a point of the P-256 curve" in problem["detail"]
