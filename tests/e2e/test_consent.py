"""Consent through the API (issue 10, section 1): a nomination counts only once its nominee
accepts it, a nominee may decline, a holder may disown a badge, a member may keep their profile
out of public lists. Each is prepare + submit like every member action; each refusal is answered
in words, with the contract's error, before anything reaches the chain. Every test leaves the
community as it found it for the other modules of the package (profiles shown again; only badges
made here are disowned)."""

from __future__ import annotations

from devstack.stack import rpc
from tests.e2e.conftest import ALICE, BOB, CAROL, DANA, address, problem_of

RELAYER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def nominate(api, nominator, nominee, indicator_id, uri):
    return api.act("claims", nominator, indicator_id=indicator_id, contributor=address(nominee), evidence_uri=uri)[
        "created"
    ]["claim_id"]


def chain_state(env):
    return rpc(env.anvil.url, "eth_blockNumber"), rpc(env.anvil.url, "eth_getTransactionCount", RELAYER, "latest")


def test_accepting_mints_a_nomination_that_has_its_attestations(env, governed):
    api = env.api
    # The indicator's weight as it is now: a module run before this one may have amended it
    # (test_flow makes mentoring 8, where governed made it 5).
    weight = api.get(f"/indicators/{governed['mentoring']}")["weight"]
    claim_id = nominate(api, ALICE, CAROL, governed["mentoring"], "https://forum.example.org/t/consent-accept")
    assert claim_id in [
        c["id"] for c in api.get("/claims", contributor=address(CAROL), nomination_state="pending", limit=500)["items"]
    ]
    # Attestations gather while it waits: it is still offered to attesters.
    assert claim_id in [c["id"] for c in api.get("/claims/awaiting", attester=address(BOB), limit=500)["items"]]
    api.act("attestations", BOB, claim_id=claim_id)
    assert api.act("attestations", DANA, claim_id=claim_id)["created"] == {"attestations": 2}
    assert api.http.get(f"/badges/{claim_id}").status_code == 404
    before = api.get(f"/members/{address(CAROL)}/profile")["total_score"]

    accepted = api.act("nomination-answers", CAROL, claim_id=claim_id, answer="accept")
    assert accepted["created"] == {"accepted_claim_id": claim_id, "token_id": claim_id}
    claim = api.get(f"/claims/{claim_id}")
    assert (claim["state"], claim["nomination_state"], claim["token_id"]) == ("minted", "accepted", claim_id)
    badge = api.get(f"/badges/{claim_id}")
    assert (badge["counts"], badge["weight"]) == (True, weight)
    assert api.get(f"/members/{address(CAROL)}/profile")["total_score"] == before + weight
    assert claim_id not in [
        c["id"] for c in api.get("/claims", contributor=address(CAROL), nomination_state="pending", limit=500)["items"]
    ]


def test_a_declined_nomination_stays_on_record_and_closes(env, governed):
    api = env.api
    claim_id = nominate(api, BOB, DANA, governed["mentoring"], "https://forum.example.org/t/consent-decline")
    api.act("attestations", ALICE, claim_id=claim_id)
    declined = api.act("nomination-answers", DANA, claim_id=claim_id, answer="decline")
    assert declined["created"] == {"declined_claim_id": claim_id}
    claim = api.get(f"/claims/{claim_id}")
    assert (claim["state"], claim["nomination_state"], claim["attesters"]) == ("declined", "declined", [address(ALICE)])
    assert claim_id in [c["id"] for c in api.get("/claims", state="declined", limit=500)["items"]]
    assert claim_id not in [c["id"] for c in api.get("/claims", state="open", limit=500)["items"]]
    assert claim_id not in [c["id"] for c in api.get("/claims/awaiting", attester=address(CAROL), limit=500)["items"]]

    before = chain_state(env)
    status, problem = problem_of(lambda: api.act("attestations", CAROL, claim_id=claim_id))
    assert (status, problem["error"]) == (409, "BadgeNominationDeclined")
    assert f"The nominee declined claim {claim_id}" in problem["detail"]
    status, problem = problem_of(lambda: api.act("nomination-answers", DANA, claim_id=claim_id, answer="accept"))
    assert (status, problem["error"]) == (409, "BadgeNominationDeclined")
    assert chain_state(env) == before, "a refused request reached the chain"


def test_answers_refused_in_words(env, governed):
    api = env.api
    claim_id = nominate(api, ALICE, BOB, governed["code"], "https://git.example.org/mr/consent-refusals")
    own = api.act(
        "claims", ALICE, indicator_id=governed["code"], evidence_uri="https://git.example.org/mr/consent-own"
    )["created"]["claim_id"]
    before = chain_state(env)
    status, problem = problem_of(lambda: api.act("nomination-answers", CAROL, claim_id=claim_id, answer="accept"))
    assert (status, problem["error"]) == (403, "BadgeNotNominee")
    assert (
        f"Only the nominee answers a nomination: {address(CAROL)} is not the contributor of claim {claim_id}"
        in problem["detail"]
    )
    status, problem = problem_of(lambda: api.act("nomination-answers", ALICE, claim_id=own, answer="decline"))
    assert (status, problem["error"]) == (409, "BadgeNotNomination")
    assert "its contributor's own claim, not a nomination" in problem["detail"]
    assert chain_state(env) == before
    # Accepted before any attestation: the one attestation needed mints it.
    assert api.act("nomination-answers", BOB, claim_id=claim_id, answer="accept")["created"] == {
        "accepted_claim_id": claim_id
    }
    for answer in ("accept", "decline"):
        status, problem = problem_of(lambda: api.act("nomination-answers", BOB, claim_id=claim_id, answer=answer))
        assert (status, problem["error"]) == (409, "BadgeNominationAlreadyAccepted")
    assert api.act("attestations", CAROL, claim_id=claim_id)["created"]["token_id"] == claim_id


def test_a_signed_answer_goes_only_to_its_own_endpoint(env, governed):
    api = env.api
    claim_id = nominate(api, ALICE, CAROL, governed["code"], "https://git.example.org/mr/consent-endpoint")
    typed = api.prepare("nomination-answers", signer=address(CAROL), claim_id=claim_id, answer="decline")["typed_data"]
    signed = {"typed_data": typed, "signature": api.sign(CAROL, typed)}
    for wrong in ("/attestations", "/disownings", "/claims"):
        response = api.http.post(wrong, json=signed)
        assert response.status_code == 400 and "declineNomination" in response.json()["detail"]
    declined = api.post("/nomination-answers", signed)
    assert declined["created"] == {"declined_claim_id": claim_id}
    # The same signed request again is the one accepted before (submitting is idempotent), not a second answer.
    again = api.post("/nomination-answers", signed)
    assert (again["request_id"], again["tx_hash"]) == (declined["request_id"], declined["tx_hash"])


def test_disowning_stops_counting_for_good(env, governed):
    api = env.api
    token_id = api.act(
        "claims", DANA, indicator_id=governed["code"], evidence_uri="https://git.example.org/mr/consent-disown"
    )["created"]["claim_id"]
    api.act("attestations", ALICE, claim_id=token_id)
    profile = api.get(f"/members/{address(DANA)}/profile")
    status, problem = problem_of(lambda: api.act("disownings", ALICE, token_id=token_id))
    assert (status, problem["error"]) == (403, "BadgeNotHolder")
    assert f"Only the holder disowns a badge: {address(ALICE)} does not hold badge {token_id}" in problem["detail"]

    disowned = api.act("disownings", DANA, token_id=token_id)
    assert disowned["created"] == {"disowned_token_id": token_id}
    badge = api.get(f"/badges/{token_id}")
    assert badge["disowned_at"] is not None and badge["counts"] is False and badge["owner"] == address(DANA)
    after = api.get(f"/members/{address(DANA)}/profile")
    assert after["total_score"] == profile["total_score"] - 3
    assert after["badges_not_counting"] == profile["badges_not_counting"] + 1
    assert next(b for b in after["badges"] if b["token_id"] == token_id)["counts"] is False
    history = api.get(f"/members/{address(DANA)}/profile/history")["points"]
    assert history[-1]["at"] == badge["disowned_at"] and history[-1]["total"] == after["total_score"]
    metadata = api.get(f"/badges/{token_id}/metadata")  # the contract's own tokenURI says so
    assert (metadata["active"], metadata["disowned_at"], metadata["revoked_at"]) == (False, badge["disowned_at"], 0)
    # Its Open Badges credential no longer stands: the status list's bit is set.
    assert api.get(f"/badges/{token_id}/credential")["revoked"] is True
    # Exports say so too, in JSON and CSV.
    export = api.http.get("/exports/badges", params={"from": "2000-01-01", "to": "2099-12-31"}).json()["rows"]
    assert next(r for r in export if r["token_id"] == token_id)["disowned_at"] == badge["disowned_at"]
    csv_rows = api.http.get(
        "/exports/badges", params={"from": "2000-01-01", "to": "2099-12-31", "format": "csv"}
    ).text.splitlines()
    header = csv_rows[0].split(",")
    row = next(r.split(",") for r in csv_rows[1:] if r.startswith(f"{token_id},"))
    assert row[header.index("disowned_at")] == str(badge["disowned_at"])
    status, problem = problem_of(lambda: api.act("disownings", DANA, token_id=token_id))
    assert (status, problem["error"]) == (409, "BadgeAlreadyDisowned")
    assert "cannot be undone" in problem["detail"]


def test_a_hidden_profile_leaves_public_lists_and_still_counts(env, governed):
    api = env.api
    listed = api.get("/members", limit=500)
    profile = api.get(f"/members/{address(BOB)}/profile")
    assert address(BOB) in [m["address"] for m in listed["items"]]
    assert api.act("profile-visibility", BOB, hidden=True)["created"] == {"profile_hidden": True}
    try:
        hidden = api.get("/members", limit=500)
        assert address(BOB) not in [m["address"] for m in hidden["items"]]
        assert hidden["total"] == listed["total"] - 1
        # Still answered by address, and every score counts the same.
        assert api.get(f"/members/{address(BOB)}")["profile_hidden"] is True
        again = api.get(f"/members/{address(BOB)}/profile")
        assert again["profile_hidden"] is True
        assert {k: again[k] for k in ("total_score", "by_category", "by_orientation")} == {
            k: profile[k] for k in ("total_score", "by_category", "by_orientation")
        }
        assert any(b["owner"] == address(BOB) for b in api.get("/badges", limit=500)["items"])
        page = api.http.get("/c/example/members")
        assert page.status_code == 200 and f"/members/{address(BOB)}" not in page.text
    finally:
        assert api.act("profile-visibility", BOB, hidden=False)["created"] == {"profile_hidden": False}
    assert api.get("/members", limit=500) == listed
    assert f"/members/{address(BOB)}" in api.http.get("/c/example/members").text
    status, problem = problem_of(lambda: api.prepare("profile-visibility", signer="0x" + "ab" * 20, hidden=True))
    assert (status, problem["error"]) == (403, "BadgeNotMember")
