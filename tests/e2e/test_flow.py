"""The nominal story, every action once: propose, vote, execute, claim, nominate, attest, accept,
delegate."""

from __future__ import annotations

import time

from tests.e2e.conftest import ALICE, BOB, CAROL, DANA, address, pass_proposal, problem_of


def test_health_and_communities(env):
    health = env.api.get("/health")
    assert health["chain_id"] == 31337 and health["head_block"] >= health["indexed_block"] >= 1
    communities = env.api.get("/communities")
    assert [c["slug"] for c in communities] == ["example"]
    # Top-level aliases and the community path answer the same.
    assert env.api.get("/members") == env.api.http.get("/communities/example/members").json()
    assert {m["address"] for m in env.api.get("/members")["items"]} == {address(k) for k in (ALICE, BOB, CAROL)} | (
        {address(DANA)} if env.api.get("/members")["total"] == 4 else set()
    )
    # Founders self-delegate at their mint, so each holds one vote from deployment.
    founder = env.api.get(f"/members/{address(ALICE)}")
    assert (founder["delegate"], founder["votes"]) == (address(ALICE), 1)


def test_governance_round(env, governed):
    proposal = env.api.get(f"/proposals/{governed['proposal']['id']}")
    assert proposal["state"] == "executed"
    assert proposal["tallies"] == {"for": 2, "against": 0, "abstain": 0}
    assert proposal["quorum"] == 1 and proposal["quorum_reached"]
    assert [v["voter"] for v in proposal["votes"]] == [address(ALICE), address(BOB)]
    assert [a["function"] for a in proposal["actions"]] == ["addIndicator", "addIndicator", "admit"]
    assert governed["proposal"]["executed"]["created"]["member"] == address(DANA)
    mentoring = env.api.get(f"/indicators/{governed['mentoring']}")
    assert (mentoring["name"], mentoring["orientation"], mentoring["weight"], mentoring["version"]) == (
        "Mentoring a newcomer",
        "community",
        5,
        1,
    )
    assert len(mentoring["versions"]) == 1
    assert env.api.get(f"/members/{address(DANA)}")["active"] is True


def test_claim_attest_mint_and_profile(env, governed):
    api = env.api
    # Alice claims her own merged patch; one endorsement mints it.
    own = api.act("claims", ALICE, indicator_id=governed["code"], evidence_uri="https://git.example.org/mr/1")
    claim_id = own["created"]["claim_id"]
    assert api.get(f"/claims/{claim_id}")["state"] == "open"
    minted = api.act("attestations", BOB, claim_id=claim_id)
    assert minted["created"] == {"attestations": 1, "token_id": claim_id}
    # Bob nominates Dana for mentoring; Alice and Carol attest; Dana accepts.
    nomination = api.act(
        "claims",
        BOB,
        indicator_id=governed["mentoring"],
        contributor=address(DANA),
        evidence_uri="https://forum.example.org/t/42",
    )
    nominated = nomination["created"]["claim_id"]
    first = api.act("attestations", ALICE, claim_id=nominated)
    assert first["created"] == {"attestations": 1}
    assert api.get(f"/claims/{nominated}")["attesters"] == [address(ALICE)]
    second = api.act("attestations", CAROL, claim_id=nominated)
    assert second["created"] == {"attestations": 2}  # enough, but no badge before Dana's consent
    waiting = api.get(f"/claims/{nominated}")
    assert (waiting["state"], waiting["nomination_state"], waiting["token_id"]) == ("open", "pending", None)
    accepted = api.act("nomination-answers", DANA, claim_id=nominated, answer="accept")
    assert accepted["created"] == {"accepted_claim_id": nominated, "token_id": nominated}
    claim = api.get(f"/claims/{nominated}")
    assert claim["nomination"] and claim["state"] == "minted" and claim["submitter"] == address(BOB)
    assert claim["nomination_state"] == "accepted" and claim["answered_at"] >= claim["created_at"]
    badge = api.get(f"/badges/{nominated}")
    assert (badge["owner"], badge["weight"], badge["orientation"], badge["counts"]) == (
        address(DANA),
        5,
        "community",
        True,
    )

    profile = api.get(f"/members/{address(DANA)}/profile")
    assert profile["total_score"] >= 5
    assert profile["by_orientation"]["community"]["score"] >= 5
    assert any(c["category"] == "mentoring" for c in profile["by_category"])
    alice = api.get(f"/members/{address(ALICE)}/profile")
    assert alice["by_orientation"]["object"]["score"] >= 3
    # Filters on the claim list.
    assert all(c["contributor"] == address(DANA) for c in api.get("/claims", contributor=address(DANA))["items"])
    assert all(c["state"] == "minted" for c in api.get("/claims", state="minted")["items"])
    assert api.get("/claims", limit=1)["limit"] == 1


def test_delegation(env, governed):
    api = env.api
    result = api.act("delegations", CAROL, delegatee=address(BOB))
    assert result["status"] == "succeeded"
    assert api.get(f"/members/{address(CAROL)}")["delegate"] == address(BOB)
    assert api.get(f"/members/{address(BOB)}")["votes"] == 2
    api.act("delegations", CAROL, delegatee=address(CAROL))  # back, so later rounds count as before
    assert api.get(f"/members/{address(BOB)}")["votes"] == 1


def test_not_waiting_answers_202_and_the_status_follows(env, governed):
    api = env.api
    typed = api.prepare(
        "claims", signer=address(CAROL), indicator_id=governed["code"], evidence_uri="https://git.example.org/mr/202"
    )["typed_data"]
    response = api.http.post(
        "/claims", params={"wait": "false"}, json={"typed_data": typed, "signature": api.sign(CAROL, typed)}
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "pending" and response.headers["location"] == body["status_url"]
    deadline = time.monotonic() + 20
    while (status := api.get(body["status_url"]))["status"] == "pending" or not status["indexed"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert status["status"] == "succeeded" and "claim_id" in status["created"]
    assert api.get(f"/claims/{status['created']['claim_id']}")["contributor"] == address(CAROL)


def test_second_round_amend_retire_revoke_settings_remove(env, governed):
    api = env.api
    # A badge to revoke and an indicator to retire.
    claim = api.act("claims", CAROL, indicator_id=governed["code"], evidence_uri="https://git.example.org/mr/9")
    token = api.act("attestations", ALICE, claim_id=claim["created"]["claim_id"])["created"]["token_id"]
    before = api.get(f"/members/{address(CAROL)}/profile")["total_score"]
    retire_me = {
        "type": "add_indicator",
        "name": "Event organising",
        "category": "events",
        "orientation": "community",
        "weight": 2,
        "endorsements_required": 1,
    }
    pass_proposal(env, ALICE, "An indicator to retire later", [retire_me])
    retired_id = max(i["id"] for i in api.get("/indicators")["items"])
    actions = [
        {
            "type": "amend_indicator",
            "indicator_id": governed["mentoring"],
            "name": "Mentoring a newcomer",
            "description_uri": "ipfs://mentoring-v2",
            "category": "mentoring",
            "orientation": "community",
            "weight": 8,
            "endorsements_required": 2,
            "validity_seconds": 0,
        },
        {"type": "retire_indicator", "indicator_id": retired_id},
        {"type": "revoke_badge", "token_id": token, "reason": "duplicate of an earlier claim"},
        {"type": "change_settings", "voting_period_seconds": 600, "quorum_percent": 60},
    ]
    pass_proposal(env, BOB, "Amend, retire, revoke, settings", actions)
    mentoring = api.get(f"/indicators/{governed['mentoring']}")
    assert mentoring["version"] == 2 and mentoring["weight"] == 8 and len(mentoring["versions"]) == 2
    assert api.get(f"/indicators/{retired_id}")["active"] is False
    badge = api.get(f"/badges/{token}")
    assert badge["revoked_at"] and not badge["counts"] and badge["revoke_reason"].startswith("duplicate")
    assert api.get(f"/members/{address(CAROL)}/profile")["total_score"] == before - 3
    governance = api.http.get("/communities/example").json()["parameters"]["governance"]
    assert governance["voting_period"] == 600 and governance["quorum_numerator"] == 60
    # An open claim of Dana's, waiting for an attester until she is removed.
    danas = api.act(
        "claims", DANA, indicator_id=governed["code"], evidence_uri="https://git.example.org/mr/dana-removed"
    )["created"]["claim_id"]
    assert danas in [c["id"] for c in api.get("/claims/awaiting", attester=address(ALICE), limit=500)["items"]]
    # The new period applies from here; remove Dana with it (vote, then skip past 600 s).
    proposal = api.act(
        "proposals", ALICE, description="Remove Dana", actions=[{"type": "remove_member", "account": address(DANA)}]
    )
    proposal_id = proposal["created"]["proposal_id"]
    env.anvil.skip(2)
    for voter in (ALICE, BOB, CAROL):
        api.act("votes", voter, proposal_id=proposal_id, support="for")
    env.anvil.skip(601)
    api.execute(proposal_id)
    assert api.get(f"/members/{address(DANA)}")["active"] is False
    assert address(DANA) not in {m["address"] for m in api.get("/members")["items"]}
    # A removed member's claim cannot be attested (BadgeContributorNotMember): no one is offered it.
    assert danas not in [c["id"] for c in api.get("/claims/awaiting", attester=address(ALICE), limit=500)["items"]]
    _status, problem = problem_of(lambda: api.act("attestations", ALICE, claim_id=danas))
    assert problem["error"] == "BadgeContributorNotMember", problem

    # Leave the community as `governed` made it, for the modules after this one: Dana back in,
    # the voting period and quorum as they were.
    proposal = api.act(
        "proposals",
        ALICE,
        description="Dana back, settings back",
        actions=[
            {"type": "admit_member", "account": address(DANA)},
            {"type": "change_settings", "voting_period_seconds": 300, "quorum_percent": 50},
        ],
    )
    env.anvil.skip(2)
    for voter in (ALICE, BOB, CAROL):
        api.act("votes", voter, proposal_id=proposal["created"]["proposal_id"], support="for")
    env.anvil.skip(601)
    api.execute(proposal["created"]["proposal_id"])
    assert api.get(f"/members/{address(DANA)}")["active"] is True
    assert danas in [c["id"] for c in api.get("/claims/awaiting", attester=address(ALICE), limit=500)["items"]]


def test_profile_sums_equal_the_badges_and_its_pages_cover_them(env, governed):
    """The database adds up the profile; the same scores follow from the badges one by one (each
    with its own `counts`, decided in Python), and paging the profile visits every badge once."""
    api = env.api
    for who in (ALICE, BOB, CAROL, DANA):
        badges = api.get("/badges", owner=address(who), limit=500)["items"]
        profile = api.get(f"/members/{address(who)}/profile")
        counting = [b for b in badges if b["counts"]]
        assert profile["badges_total"] == len(badges)
        assert (profile["total_score"], profile["badges_counting"], profile["badges_not_counting"]) == (
            sum(b["weight"] for b in counting),
            len(counting),
            len(badges) - len(counting),
        )
        for orientation in ("object", "community"):
            mine = [b for b in counting if b["orientation"] == orientation]
            assert profile["by_orientation"][orientation] == {
                "badges": len(mine),
                "score": sum(b["weight"] for b in mine),
            }
        assert {(c["category"], c["badges"], c["score"]) for c in profile["by_category"]} == {
            (
                cat,
                len([b for b in counting if b["category"] == cat]),
                sum(b["weight"] for b in counting if b["category"] == cat),
            )
            for cat in {b["category"] for b in counting}
        }
        seen = [
            b["token_id"]
            for offset in range(0, len(badges) + 1)
            for b in api.get(f"/members/{address(who)}/profile", limit=1, offset=offset)["badges"]
        ]
        assert seen == sorted(b["token_id"] for b in badges)
