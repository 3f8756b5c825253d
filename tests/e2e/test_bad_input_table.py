"""The written list of bad inputs (docs/security/bad-input.md): each case is a request, the 4xx it
gets, and a fragment of the problem+json detail that says what was wrong. None reaches the
chain. test_bad_input.py covers the refusals that come from the contracts' own rules."""

from __future__ import annotations

import pytest

from devstack.stack import rpc
from tests.e2e.conftest import ALICE, address

RELAYER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
ALICE_ADDRESS = address(ALICE)
ALICE_BAD_CHECKSUM = "0x70997970c51812dc3A010C7d01b50e0d17dc79C8"  # one letter's case changed
UINT256_OVER = str(2**256)

CLAIM = {"signer": ALICE_ADDRESS, "indicator_id": 2, "evidence_uri": "https://x.example/e"}
INDICATOR = {
    "type": "add_indicator",
    "name": "Review",
    "orientation": "object",
    "weight": 1,
    "endorsements_required": 1,
}

# (name, method, path, body or raw bytes, status, fragment of the detail)
CASES = [
    # malformed JSON and wrong types
    ("malformed JSON", "POST", "/claims/prepare", b'{"signer": ', 400, "JSON decode error"),
    ("body is not an object", "POST", "/claims/prepare", [CLAIM], 422, "valid dictionary"),
    (
        "number as text",
        "POST",
        "/claims/prepare",
        {**CLAIM, "indicator_id": "two"},
        422,
        "indicator_id: Input should be a valid integer",
    ),
    (
        "boolean for a number in a signed request (strict)",
        "POST",
        "/claims",
        {
            "typed_data": {
                "types": {},
                "primaryType": "ForwardRequest",
                "domain": {
                    "name": "CommunityForwarder",
                    "version": "1",
                    "chainId": 31337,
                    "verifyingContract": ALICE_ADDRESS,
                },
                "message": {
                    "from": ALICE_ADDRESS,
                    "to": ALICE_ADDRESS,
                    "value": 0,
                    "gas": 1,
                    "nonce": 0,
                    "deadline": False,
                    "data": "0x",
                },
            },
            "signature": "0x" + "00" * 65,
        },
        422,
        "message.deadline: Input should be a valid integer",
    ),
    (
        "unknown field",
        "POST",
        "/claims/prepare",
        {**CLAIM, "evidence": "x"},
        422,
        "evidence: Extra inputs are not permitted",
    ),
    (
        "missing field",
        "POST",
        "/claims/prepare",
        {"signer": ALICE_ADDRESS, "indicator_id": 2},
        422,
        "evidence_uri: Field required",
    ),
    (
        "unknown enum value",
        "POST",
        "/votes/prepare",
        {"signer": ALICE_ADDRESS, "proposal_id": "1", "support": "maybe"},
        422,
        "support: Input should be 'for', 'against' or 'abstain'",
    ),
    (
        "unknown answer to a nomination",
        "POST",
        "/nomination-answers/prepare",
        {"signer": ALICE_ADDRESS, "claim_id": 1, "answer": "maybe"},
        422,
        "answer: Input should be 'accept' or 'decline'",
    ),
    (
        "profile visibility that is not a boolean",
        "POST",
        "/profile-visibility/prepare",
        {"signer": ALICE_ADDRESS, "hidden": "perhaps"},
        422,
        "hidden: Input should be a valid boolean",
    ),
    (
        "unknown proposal action",
        "POST",
        "/proposals/prepare",
        {"signer": ALICE_ADDRESS, "description": "x", "actions": [{"type": "mint_money"}]},
        422,
        "does not match any of the expected tags",
    ),
    (
        "signature of the wrong length",
        "POST",
        "/claims",
        {"typed_data": {}, "signature": "0x1234"},
        422,
        "'0x1234' is not a 65-byte signature",
    ),
    (
        "signature over 2048 bytes (a contract wallet's may be longer than 65, not that long)",
        "POST",
        "/claims",
        {"typed_data": {}, "signature": "0x" + "ab" * 2049},
        422,
        "(4,100 characters) is not a 65-byte signature",
    ),
    (
        "signature of an odd number of hex digits",
        "POST",
        "/claims",
        {"typed_data": {}, "signature": "0x" + "a" * 131},
        422,
        "has an odd number of hex digits",
    ),
    ("proposal id that is not a number", "GET", "/proposals/12ab", None, 422, "'12ab' is not a decimal uint256"),
    ("transaction hash too short", "GET", "/transactions/0x1234", None, 422, "'0x1234' is not a 32-byte hash"),
    # oversize strings and URIs
    (
        "evidence URI over 2048 characters",
        "POST",
        "/claims/prepare",
        {**CLAIM, "evidence_uri": "https://x/" + "a" * 2048},
        422,
        "evidence_uri: String should have at most 2048 characters",
    ),
    (
        "empty evidence URI",
        "POST",
        "/claims/prepare",
        {**CLAIM, "evidence_uri": ""},
        422,
        "evidence_uri: String should have at least 1 character",
    ),
    (
        "vote reason over 1024 characters",
        "POST",
        "/votes/prepare",
        {"signer": ALICE_ADDRESS, "proposal_id": "1", "support": "for", "reason": "r" * 1025},
        422,
        "reason: String should have at most 1024 characters",
    ),
    (
        "proposal description over 10000 characters",
        "POST",
        "/proposals/prepare",
        {"signer": ALICE_ADDRESS, "description": "d" * 10_001, "actions": [INDICATOR]},
        422,
        "description: String should have at most 10000 characters",
    ),
    (
        "indicator name over 64 bytes of UTF-8",
        "POST",
        "/proposals/prepare",
        {"signer": ALICE_ADDRESS, "description": "x", "actions": [{**INDICATOR, "name": "é" * 33}]},
        422,
        "name must be at most 64 bytes of UTF-8",
    ),
    (
        "indicator description URI over 2048 characters",
        "POST",
        "/proposals/prepare",
        {"signer": ALICE_ADDRESS, "description": "x", "actions": [{**INDICATOR, "description_uri": "u" * 2049}]},
        422,
        "description_uri: String should have at most 2048 characters",
    ),
    # addresses
    (
        "invalid address",
        "POST",
        "/delegations/prepare",
        {"signer": ALICE_ADDRESS, "delegatee": "0x1234"},
        422,
        "'0x1234' is not an address",
    ),
    (
        "address with a wrong EIP-55 checksum",
        "POST",
        "/delegations/prepare",
        {"signer": ALICE_BAD_CHECKSUM, "delegatee": ALICE_ADDRESS},
        422,
        "not a valid EIP-55 checksum",
    ),
    ("wrong checksum in a path", "GET", f"/members/{ALICE_BAD_CHECKSUM}", None, 422, "not a valid EIP-55 checksum"),
    ("invalid address in a query", "GET", "/claims?contributor=alice", None, 422, "'alice' is not an address"),
    (
        "zero address as delegate (the contract's rule)",
        "POST",
        "/delegations/prepare",
        {"signer": ALICE_ADDRESS, "delegatee": "0x" + "00" * 20},
        422,
        "Votes cannot be delegated to 0x0000000000000000000000000000000000000000",
    ),
    # negative and overflowing numbers
    (
        "negative claim id",
        "POST",
        "/attestations/prepare",
        {"signer": ALICE_ADDRESS, "claim_id": -1},
        422,
        "claim_id: Input should be greater than or equal to 1",
    ),
    (
        "claim id over uint256",
        "POST",
        "/attestations/prepare",
        {"signer": ALICE_ADDRESS, "claim_id": 2**256},
        422,
        "claim_id: Input should be less than or equal to",
    ),
    (
        "indicator id over uint32",
        "POST",
        "/claims/prepare",
        {**CLAIM, "indicator_id": 2**32},
        422,
        "indicator_id: Input should be less than 4294967296",
    ),
    (
        "weight over uint32",
        "POST",
        "/proposals/prepare",
        {"signer": ALICE_ADDRESS, "description": "x", "actions": [{**INDICATOR, "weight": 2**32}]},
        422,
        "weight: Input should be less than or equal to 4294967295",
    ),
    (
        "proposal id over uint256",
        "POST",
        "/votes/prepare",
        {"signer": ALICE_ADDRESS, "proposal_id": UINT256_OVER, "support": "for"},
        422,
        "proposal_id must be below 2**256",
    ),
    (
        "negative badge id in a recovery",
        "POST",
        "/proposals/prepare",
        {
            "signer": ALICE_ADDRESS,
            "description": "x",
            "actions": [
                {"type": "recover_member", "lost": ALICE_ADDRESS, "replacement": ALICE_ADDRESS, "token_ids": [-1]}
            ],
        },
        422,
        "Input should be greater than or equal to 1",
    ),
    (
        "negative badge id to disown",
        "POST",
        "/disownings/prepare",
        {"signer": ALICE_ADDRESS, "token_id": 0},
        422,
        "token_id: Input should be greater than or equal to 1",
    ),
    ("negative page size", "GET", "/claims?limit=-5", None, 422, "limit: Input should be greater than or equal to 1"),
    (
        "page offset too large",
        "GET",
        "/members?offset=10000000000",
        None,
        422,
        "offset: Input should be less than or equal to 1000000000",
    ),
    (
        "cursor beyond the index's 64 bits",
        "GET",
        f"/badges?after={2**63}",
        None,
        422,
        "after: Input should be less than or equal to 9223372036854775807",
    ),
    ("negative cursor", "GET", "/claims?after=-1", None, 422, "after: Input should be greater than or equal to 0"),
    (
        "a cursor and an offset",
        "GET",
        "/claims?after=5&offset=10",
        None,
        422,
        "query.after: Give a cursor (after) or an offset, not both: offset is 10",
    ),
    (
        "claim id beyond the index's 64 bits",
        "GET",
        f"/claims/{2**64}",
        None,
        422,
        "claim_id: Input should be less than or equal to 9223372036854775807",
    ),
    # unknown ids and community
    ("unknown badge", "GET", "/badges/424242", None, 404, "No badge 424242"),
    ("unknown indicator (largest uint32)", "GET", f"/indicators/{2**32 - 1}", None, 404, "No indicator 4294967295"),
    ("unknown proposal", "GET", "/proposals/" + "9" * 78, None, 404, "No proposal"),
    (
        "answering an unknown claim (the contract's rule)",
        "POST",
        "/nomination-answers/prepare",
        {"signer": ALICE_ADDRESS, "claim_id": 424242, "answer": "accept"},
        404,
        "No claim 424242 in this community: check its number",
    ),
    (
        "disowning a badge one does not hold (the contract's rule)",
        "POST",
        "/disownings/prepare",
        {"signer": ALICE_ADDRESS, "token_id": 424242},
        403,
        "Only the holder disowns a badge",
    ),
    (
        "a non-member hiding a profile (the contract's rule)",
        "POST",
        "/profile-visibility/prepare",
        {"signer": "0x" + "ab" * 20, "hidden": True},
        403,
        "Only members can do this",
    ),
    # fair-play rules and organisations in proposals
    (
        "a cap without its period",
        "POST",
        "/proposals/prepare",
        {"signer": ALICE_ADDRESS, "description": "x", "actions": [{**INDICATOR, "earn_cap": 3}]},
        422,
        "cap_period_seconds is required with earn_cap or attest_cap",
    ),
    (
        "a cap period without a cap",
        "POST",
        "/proposals/prepare",
        {"signer": ALICE_ADDRESS, "description": "x", "actions": [{**INDICATOR, "cap_period_seconds": 86400}]},
        422,
        "cap_period_seconds needs earn_cap or attest_cap",
    ),
    (
        "an endorser indicator that does not exist",
        "POST",
        "/proposals/prepare",
        {"signer": ALICE_ADDRESS, "description": "x", "actions": [{**INDICATOR, "endorser_indicator_id": 2**32 - 1}]},
        422,
        "endorser_indicator_id 4294967295 does not exist: attesters must hold a badge of another, existing indicator",
    ),
    (
        "an indicator endorsed only by its own holders",
        "POST",
        "/proposals/prepare",
        {
            "signer": ALICE_ADDRESS,
            "description": "x",
            "actions": [{**INDICATOR, "type": "amend_indicator", "indicator_id": 2, "endorser_indicator_id": 2}],
        },
        422,
        "endorser_indicator_id 2 is the indicator itself",
    ),
    (
        "a reciprocal window over 365 days",
        "POST",
        "/proposals/prepare",
        {
            "signer": ALICE_ADDRESS,
            "description": "x",
            "actions": [
                {"type": "set_community_rules", "reciprocal_window_seconds": 365 * 86400 + 1, "score_rule": "linear"}
            ],
        },
        422,
        "reciprocal_window_seconds: Input should be less than or equal to 31536000",
    ),
    (
        "an unknown score rule",
        "POST",
        "/proposals/prepare",
        {
            "signer": ALICE_ADDRESS,
            "description": "x",
            "actions": [{"type": "set_community_rules", "reciprocal_window_seconds": 0, "score_rule": "quadratic"}],
        },
        422,
        "score_rule: Input should be 'linear' or 'square_root'",
    ),
    (
        "organisation name over 64 bytes of UTF-8",
        "POST",
        "/proposals/prepare",
        {"signer": ALICE_ADDRESS, "description": "x", "actions": [{"type": "add_organisation", "name": "é" * 33}]},
        422,
        "name must be at most 64 bytes of UTF-8",
    ),
    (
        "empty organisation name",
        "POST",
        "/proposals/prepare",
        {"signer": ALICE_ADDRESS, "description": "x", "actions": [{"type": "add_organisation", "name": ""}]},
        422,
        "name: String should have at least 1 character",
    ),
    (
        "organisation identifier over 256 bytes",
        "POST",
        "/proposals/prepare",
        {
            "signer": ALICE_ADDRESS,
            "description": "x",
            "actions": [{"type": "add_organisation", "name": "Acme", "identifier": "i" * 257}],
        },
        422,
        "identifier must be at most 256 bytes of UTF-8",
    ),
    (
        "organisation id over uint32 in a claim",
        "POST",
        "/claims/prepare",
        {**CLAIM, "organisation_id": 2**32},
        422,
        "organisation_id: Input should be less than 4294967296",
    ),
    (
        "crediting an unknown organisation (the contract's rule)",
        "POST",
        "/claims/prepare",
        {**CLAIM, "organisation_id": 2**32 - 1},
        404,
        "No organisation 4294967295 is registered in this community",
    ),
    (
        "retiring an unknown organisation (the contract's rule)",
        "POST",
        "/proposals/prepare",
        {
            "signer": ALICE_ADDRESS,
            "description": "x",
            "actions": [{"type": "retire_organisation", "organisation_id": 2**32 - 1}],
        },
        404,
        "No organisation 4294967295 is registered in this community",
    ),
    # names, invitations and vouching (issue 22)
    (
        "a name over 32 characters",
        "POST",
        "/names/prepare",
        {"signer": ALICE_ADDRESS, "name": "Ada" * 11},
        422,
        "a name is at most 32 characters (fewer with emoji); this one is 33",
    ),
    (
        "a name with an invisible character (a right-to-left override)",
        "POST",
        "/names/prepare",
        {"signer": ALICE_ADDRESS, "name": "Ada\u202e"},
        422,
        "must not hold control or invisible characters (U+202E)",
    ),
    (
        "an account on a site the directory does not know",
        "POST",
        "/linked-accounts/prepare",
        {"signer": ALICE_ADDRESS, "site": "myspace", "handle": "ada"},
        422,
        "Input should be 'github', 'gitlab', 'drupal' or 'discourse'",
    ),
    (
        "an invitation without the invitee's name",
        "POST",
        "/invitations/prepare",
        {"signer": ALICE_ADDRESS, "name": " "},
        422,
        "a name must not be empty",
    ),
    (
        "an invitation secret that is not 32 bytes of hex",
        "POST",
        "/invitations/acceptance/prepare",
        {"signer": ALICE_ADDRESS, "secret": "0x1234"},
        422,
        "'0x1234' is not a 32-byte hash (0x and 64 hex digits)",
    ),
    (
        "vouching for someone who is a member already (the contract's rule)",
        "POST",
        "/vouches/prepare",
        {"signer": ALICE_ADDRESS, "candidate": ALICE_ADDRESS},
        422,
        "cannot be invited or vouched for: it is a member already",
    ),
    ("an unknown invitation", "GET", "/invitations/0x" + "ab" * 20, None, 404, "No invitation has the address"),
    ("unknown organisation", "GET", f"/organisations/{2**32 - 1}", None, 404, "No organisation 4294967295"),
    ("never a member", "GET", "/members/0x" + "ab" * 20, None, 404, "was never a member"),
    ("unknown community", "GET", "/communities/nope/indicators", None, 404, "No community 'nope'"),
    ("unknown community, write", "POST", "/communities/nope/claims/prepare", CLAIM, 404, "No community 'nope'"),
    ("unknown route", "GET", "/badgers", None, 404, "Not Found"),
    ("method not allowed", "DELETE", "/claims", None, 405, "Method Not Allowed"),
]


@pytest.fixture
def chain_before(env, governed):
    url = env.anvil.url
    return lambda: (rpc(url, "eth_blockNumber"), rpc(url, "eth_getTransactionCount", RELAYER, "latest"))


@pytest.mark.parametrize("name, method, path, body, status, fragment", CASES, ids=[c[0] for c in CASES])
def test_bad_input(env, chain_before, name, method, path, body, status, fragment):
    before = chain_before()
    if isinstance(body, bytes):
        response = env.api.http.request(method, path, content=body, headers={"content-type": "application/json"})
    else:
        response = env.api.http.request(method, path, json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status and problem["title"] and problem["instance"]
    assert fragment in problem["detail"], problem["detail"]
    assert chain_before() == before, "a refused request reached the chain"


def test_lowercase_addresses_are_accepted_and_normalised(env, governed):
    lower = ALICE_ADDRESS.lower()
    assert env.api.get(f"/members/{lower}")["address"] == ALICE_ADDRESS
    typed = env.api.prepare("delegations", signer=lower, delegatee=lower)["typed_data"]
    assert typed["message"]["from"] == ALICE_ADDRESS
    assert (
        env.api.get("/claims", contributor=lower)["total"] == env.api.get("/claims", contributor=ALICE_ADDRESS)["total"]
    )


def test_indicator_ids_beyond_the_index_columns(env, governed):
    """Regression: uint32 ids over 2**31 - 1 were a 500 (DataError) on PostgreSQL."""
    assert env.api.http.get(f"/indicators/{2**31}").status_code == 404
    assert env.api.get("/claims", indicator_id=2**32 - 1) == {
        "items": [],
        "total": 0,
        "limit": 50,
        "offset": 0,
        "after": None,
        "next_after": None,
    }


def test_405_says_which_methods_and_openapi_documents_problems(env):
    """Regressions from schemathesis: a 405 lost its Allow header; errors were undocumented."""
    response = env.api.http.delete("/health")
    assert (response.status_code, response.headers.get("allow")) == (405, "GET")
    operation = env.api.http.get("/openapi.json").json()["paths"]["/communities/{community}/claims/prepare"]["post"]
    assert {"400", "403", "404", "409", "422", "503"} <= set(operation["responses"])
    assert "application/problem+json" in operation["responses"]["422"]["content"]
