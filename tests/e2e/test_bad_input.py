"""Bad input never reaches the chain: each gets problem+json with a fitting status and the
contract's custom error name, and the chain's head and the relayer's nonce do not move."""

from __future__ import annotations

import copy

import pytest

from devstack.stack import rpc
from tests.e2e.conftest import ALICE, BOB, CAROL, OUTSIDER, address, problem_of


@pytest.fixture
def untouched(env):
    """Asserts that the test sent nothing to the chain."""
    relayer = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    before = (rpc(env.anvil.url, "eth_blockNumber"), rpc(env.anvil.url, "eth_getTransactionCount", relayer, "latest"))
    yield
    after = (rpc(env.anvil.url, "eth_blockNumber"), rpc(env.anvil.url, "eth_getTransactionCount", relayer, "latest"))
    assert after == before, "a refused request reached the chain"


@pytest.fixture
def open_claim(env, governed):
    """A mentoring claim by Alice (needs two attestations), attested once by Bob."""
    claim = env.api.act("claims", ALICE, indicator_id=governed["mentoring"], evidence_uri="https://x.example/1")
    env.api.act("attestations", BOB, claim_id=claim["created"]["claim_id"])
    return claim["created"]["claim_id"]


def test_unknown_indicator(env, governed, untouched):
    status, body = problem_of(
        lambda: env.api.prepare("claims", signer=address(ALICE), indicator_id=99, evidence_uri="https://x.example")
    )
    assert (status, body["error"]) == (404, "RegistryUnknownIndicator")
    assert "No indicator 99 in this community" in body["detail"]


def test_non_member_claims_and_votes(env, governed, untouched):
    status, body = problem_of(
        lambda: env.api.prepare(
            "claims", signer=address(OUTSIDER), indicator_id=governed["code"], evidence_uri="https://x"
        )
    )
    assert (status, body["error"]) == (403, "BadgeNotMember")
    status, body = problem_of(
        lambda: env.api.prepare(
            "votes", signer=address(OUTSIDER), proposal_id=governed["proposal"]["id"], support="for"
        )
    )
    assert status in (403, 409) and body["error"] in ("GovernorNotMember", "GovernorUnexpectedProposalState")


def test_self_attestation(env, open_claim, untouched):
    status, body = problem_of(lambda: env.api.prepare("attestations", signer=address(ALICE), claim_id=open_claim))
    assert (status, body["error"]) == (409, "BadgeSelfAttestation")


def test_double_attestation(env, open_claim, untouched):
    status, body = problem_of(lambda: env.api.prepare("attestations", signer=address(BOB), claim_id=open_claim))
    assert (status, body["error"]) == (409, "BadgeAlreadyAttested")


def test_unknown_claim_and_reads(env, governed, untouched):
    status, body = problem_of(lambda: env.api.prepare("attestations", signer=address(BOB), claim_id=10_000))
    assert (status, body["error"]) == (404, "BadgeUnknownClaim")
    for path in ("/claims/10000", "/badges/10000", "/proposals/123", "/indicators/99", f"/members/{address(OUTSIDER)}"):
        assert problem_of(lambda: env.api.get(path))[0] == 404
    assert (
        problem_of(
            lambda: (
                env.api.http.get("/communities/nope/members").raise_for_status() and None
                if False
                else env.api._check(env.api.http.get("/communities/nope/members"))
            )
        )[0]
        == 404
    )


def test_double_vote(env, governed):
    proposal = env.api.act(
        "proposals",
        ALICE,
        description="A proposal to vote on twice",
        actions=[{"type": "admit_member", "account": address(OUTSIDER)}],
    )
    env.anvil.skip(2)
    env.api.act("votes", BOB, proposal_id=proposal["created"]["proposal_id"], support="against")
    status, body = problem_of(
        lambda: env.api.act("votes", BOB, proposal_id=proposal["created"]["proposal_id"], support="for")
    )
    assert (status, body["error"]) == (409, "GovernorAlreadyCastVote")
    # Executing before the vote ends is refused by the governor, by name.
    status, body = problem_of(lambda: env.api.execute(proposal["created"]["proposal_id"]))
    assert (status, body["error"]) == (409, "GovernorUnexpectedProposalState")


def _signed_claim(env, governed, key=CAROL):
    typed = env.api.prepare(
        "claims", signer=address(key), indicator_id=governed["code"], evidence_uri="https://x.example/signed"
    )["typed_data"]
    return typed, env.api.sign(key, typed)


def _submit(env, path, typed, signature):
    return env.api._check(env.api.http.post(path, json={"typed_data": typed, "signature": signature}))


def test_wrong_signer_and_tampered_request(env, governed, untouched):
    typed, _ = _signed_claim(env, governed)
    status, body = problem_of(lambda: _submit(env, "/claims", typed, env.api.sign(BOB, typed)))
    assert (status, body["error"]) == (403, "ERC2771ForwarderInvalidSigner")
    typed, signature = _signed_claim(env, governed)
    tampered = copy.deepcopy(typed)
    tampered["message"]["gas"] += 1
    status, body = problem_of(lambda: _submit(env, "/claims", tampered, signature))
    assert status == 403


def test_expired_request(env, governed, untouched):
    typed, _ = _signed_claim(env, governed)
    typed["message"]["deadline"] = 1_000
    status, body = problem_of(lambda: _submit(env, "/claims", typed, env.api.sign(CAROL, typed)))
    assert (status, body["error"]) == (422, "ERC2771ForwarderExpiredRequest")


def test_the_same_signed_request_again_is_the_request_accepted_before(env, governed):
    """Submitting is idempotent: a client that lost the answer sends the same signed request
    again and is answered with the first one; nothing is sent a second time."""
    typed, signature = _signed_claim(env, governed)
    first = _submit(env, "/claims", typed, signature)
    assert first["status"] == "succeeded"
    block = rpc(env.anvil.url, "eth_blockNumber")
    again = _submit(env, "/claims", typed, signature)
    assert (again["request_id"], again["tx_hash"], again["created"]) == (
        first["request_id"],
        first["tx_hash"],
        first["created"],
    )
    assert rpc(env.anvil.url, "eth_blockNumber") == block


def test_a_used_nonce_signed_anew_is_refused(env, governed):
    typed, signature = _signed_claim(env, governed)
    assert _submit(env, "/claims", typed, signature)["status"] == "succeeded"
    other = copy.deepcopy(typed)  # the same nonce, another evidence link: another request
    other["message"]["data"] = env.api.prepare(
        "claims",
        signer=typed["message"]["from"],
        indicator_id=governed["code"],
        evidence_uri="https://x.example/another",
    )["typed_data"]["message"]["data"]
    block = rpc(env.anvil.url, "eth_blockNumber")
    status, body = problem_of(lambda: _submit(env, "/claims", other, env.api.sign(CAROL, other)))
    assert (status, body["error"]) == (409, "ReplayedRequest")
    assert rpc(env.anvil.url, "eth_blockNumber") == block


def test_wrong_chain_wrong_endpoint(env, governed, untouched):
    typed, _ = _signed_claim(env, governed)
    other_chain = copy.deepcopy(typed)
    other_chain["domain"]["chainId"] = 1
    assert problem_of(lambda: _submit(env, "/claims", other_chain, env.api.sign(CAROL, other_chain)))[0] == 400
    other_forwarder = copy.deepcopy(typed)
    other_forwarder["domain"]["verifyingContract"] = address(BOB)
    assert problem_of(lambda: _submit(env, "/claims", other_forwarder, env.api.sign(CAROL, other_forwarder)))[0] == 400
    status, body = problem_of(lambda: _submit(env, "/attestations", typed, env.api.sign(CAROL, typed)))
    assert status == 400 and "badge.claim" in body["detail"]


def test_malformed_bodies(env, governed, untouched):
    typed, signature = _signed_claim(env, governed)
    http = env.api.http
    response = http.post("/claims", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400 and response.headers["content-type"] == "application/problem+json"
    lax = copy.deepcopy(typed)
    lax["message"]["deadline"] = False  # strict: a boolean is not a number
    response = http.post("/claims", json={"typed_data": lax, "signature": signature})
    assert response.status_code == 422 and response.json()["errors"]
    as_string = copy.deepcopy(typed)
    as_string["message"]["nonce"] = str(typed["message"]["nonce"])
    assert http.post("/claims", json={"typed_data": as_string, "signature": signature}).status_code == 422
    assert http.post("/claims", json={"typed_data": typed, "signature": "0x1234"}).status_code == 422
    assert http.post("/claims", json={"typed_data": typed, "signature": signature, "extra": 1}).status_code == 422
    assert (
        http.post("/claims/prepare", json={"signer": "alice", "indicator_id": 1, "evidence_uri": "x"}).status_code
        == 422
    )
    bad_indicator = {
        "signer": address(ALICE),
        "description": "bad",
        "actions": [
            {"type": "add_indicator", "name": "", "orientation": "object", "weight": 0, "endorsements_required": 1}
        ],
    }
    assert http.post("/proposals/prepare", json=bad_indicator).status_code == 422


def test_proposals_that_could_never_execute(env, governed, untouched):
    status, body = problem_of(
        lambda: env.api.prepare(
            "proposals",
            signer=address(ALICE),
            description="retire what does not exist",
            actions=[{"type": "retire_indicator", "indicator_id": 999}],
        )
    )
    assert (status, body["error"]) == (404, "RegistryUnknownIndicator")
    status, body = problem_of(
        lambda: env.api.prepare(
            "proposals",
            signer=address(ALICE),
            description="admit a member twice",
            actions=[{"type": "admit_member", "account": address(BOB)}],
        )
    )
    assert (status, body["error"]) == (409, "MembershipAlreadyMember")
    status, body = problem_of(
        lambda: env.api.prepare(
            "proposals",
            signer=address(OUTSIDER),
            description="outsider proposes",
            actions=[{"type": "admit_member", "account": address(OUTSIDER)}],
        )
    )
    assert (status, body["error"]) == (403, "GovernorNotMember")
