"""Organisations through the API (issue 10, section 3): registered and retired by governance,
credited by claims and nominations, each with its own profile (its contributors, its weighted
score by category); a retired or unknown organisation refused in words before anything reaches
the chain; a rebuilt index answers the same.

The organisations and indicators are this module's own (its fixture's proposal), so what other
modules do to the shared community changes nothing here."""

from __future__ import annotations

import math
import uuid

import pytest
from eth_utils import keccak

from devstack.stack import dump_index, rpc, wait_until
from tests.e2e.conftest import ALICE, BOB, CAROL, DANA, address, pass_proposal, problem_of

RELAYER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
UNKNOWN = 2**32 - 1


def chain_state(env):
    return rpc(env.anvil.url, "eth_blockNumber"), rpc(env.anvil.url, "eth_getTransactionCount", RELAYER, "latest")


def registry_count(env, function: str) -> int:
    registry = env.api.http.get("/communities/example").json()["contracts"]["registry"]
    data = "0x" + keccak(text=f"{function}()")[:4].hex()
    return int(rpc(env.anvil.url, "eth_call", {"to": registry, "data": data}, "latest"), 16)


# ape's pytest plugin re-runs a module's fixtures before each test when a package fixture is
# parametrised (as `env` is), so what the module sets up once is kept here, per environment
# (keyed by its own work folder).
_ONCE: dict[str, dict] = {}


@pytest.fixture(scope="module")
def orgs(env, governed):
    if str(env.workdir) not in _ONCE:
        _ONCE[str(env.workdir)] = _register(env)
    return _ONCE[str(env.workdir)]


def _register(env) -> dict:
    """Three organisations and two indicators of this module's own, registered by one proposal: Acme
    credited only by the test of its profile, Beta by the tests of scores and rebuilding, and the
    third retired by its test."""
    tag = uuid.uuid4().hex[:6]
    indicators = registry_count(env, "indicatorCount")
    organisations = registry_count(env, "organisationCount")
    actions = [
        {"type": "add_organisation", "name": f"Acme Hosting {tag}", "identifier": "https://acme.example"},
        {"type": "add_organisation", "name": f"Övrig Förening {tag}", "identifier": "KVK 40123456"},
        {"type": "add_organisation", "name": f"Beta Co-op {tag}", "identifier": "beta.example"},
        {
            "type": "add_indicator",
            "name": "Sponsored patch",
            "category": "org-code",
            "orientation": "object",
            "weight": 3,
            "endorsements_required": 1,
        },
        {
            "type": "add_indicator",
            "name": "Sponsored docs",
            "category": "org-docs",
            "orientation": "community",
            "weight": 2,
            "endorsements_required": 1,
        },
    ]
    result = pass_proposal(env, ALICE, f"Sponsors {tag}", actions)
    created = result["executed"]["created"]
    assert created["organisation_id"] == organisations + 3 and created["indicator_id"] == indicators + 2
    return {
        "acme": organisations + 1,
        "other": organisations + 2,
        "beta": organisations + 3,
        "patch": indicators + 1,
        "docs": indicators + 2,
        "names": (actions[0]["name"], actions[1]["name"]),
    }


def credited_claim(api, key, indicator_id, uri, organisation_id, **fields) -> int:
    return api.act(
        "claims", key, indicator_id=indicator_id, evidence_uri=uri, organisation_id=organisation_id, **fields
    )["created"]["claim_id"]


def test_registered_by_proposal_and_listed(env, orgs):
    api = env.api
    acme = api.get(f"/organisations/{orgs['acme']}")
    assert (acme["id"], acme["name"], acme["identifier"], acme["active"], acme["retired_at"]) == (
        orgs["acme"],
        orgs["names"][0],
        "https://acme.example",
        True,
        None,
    )
    assert acme["name_raw"] is None and acme["identifier_raw"] is None  # exact text
    assert acme["tx_hash"].startswith("0x") and acme["added_at"] > 0
    other = api.get(f"/organisations/{orgs['other']}")
    assert other["name"] == orgs["names"][1]  # UTF-8 kept as it is
    listed = api.get("/organisations", limit=500)
    assert [o["id"] for o in listed["items"]] == sorted(o["id"] for o in listed["items"])
    by_id = {o["id"]: o for o in listed["items"]}
    assert {k: by_id[orgs["acme"]][k] for k in ("name", "identifier", "active")} == {
        "name": orgs["names"][0],
        "identifier": "https://acme.example",
        "active": True,
    }
    assert listed["total"] >= 2
    assert orgs["acme"] in [o["id"] for o in api.get("/organisations", active=True, limit=500)["items"]]
    # The proposal says what it does in its own words.
    proposals = api.get("/proposals", limit=500)["items"]
    mine = next(p for p in proposals if p["description"].startswith("Sponsors "))
    assert [a["function"] for a in api.get(f"/proposals/{mine['id']}")["actions"]][:2] == [
        "addOrganisation",
        "addOrganisation",
    ]


def test_claims_and_nominations_credit_it_and_its_profile_adds_them_up(env, orgs):
    api = env.api
    acme = orgs["acme"]
    empty = api.get(f"/organisations/{acme}")
    assert (empty["total_score"], empty["badges_counting"], empty["contributors"], empty["by_category"]) == (
        0,
        0,
        [],
        [],
    )
    # Carol's own patch, credited; one attestation mints it.
    patch = credited_claim(api, CAROL, orgs["patch"], "https://git.example.org/org/patch-1", acme)
    claim = api.get(f"/claims/{patch}")
    assert (claim["organisation_id"], claim["state"]) == (acme, "open")
    api.act("attestations", ALICE, claim_id=patch)
    # Bob nominates Dana for docs written for Acme; she accepts, Alice attests.
    docs = credited_claim(
        api, BOB, orgs["docs"], "https://wiki.example.org/org/docs-1", acme, contributor=address(DANA)
    )
    assert api.get(f"/claims/{docs}")["organisation_id"] == acme
    api.act("nomination-answers", DANA, claim_id=docs, answer="accept")
    assert api.act("attestations", ALICE, claim_id=docs)["created"]["token_id"] == docs
    # A second patch of Carol's, and one credited to nobody (not Acme's).
    second = credited_claim(api, CAROL, orgs["patch"], "https://git.example.org/org/patch-2", acme)
    api.act("attestations", BOB, claim_id=second)
    plain = api.act(
        "claims", CAROL, indicator_id=orgs["patch"], evidence_uri="https://git.example.org/org/patch-plain"
    )["created"]["claim_id"]
    assert api.get(f"/claims/{plain}")["organisation_id"] is None
    api.act("attestations", BOB, claim_id=plain)
    # Another organisation's credit stays its own.
    theirs = credited_claim(api, DANA, orgs["patch"], "https://git.example.org/org/patch-beta", orgs["beta"])
    api.act("attestations", CAROL, claim_id=theirs)

    profile = api.get(f"/organisations/{acme}")
    assert (
        profile["score_rule"]
        == env.api.http.get("/communities/example").json()["parameters"]["rules"]["score_rule"]
        == "linear"
    )
    assert (profile["total_score"], profile["badges_counting"]) == (8, 3)
    assert profile["contributors"] == [
        {"address": address(CAROL), "badges": 2, "score": 6},
        {"address": address(DANA), "badges": 1, "score": 2},
    ]
    assert profile["by_category"] == [
        {"category": "org-code", "badges": 2, "score": 6},
        {"category": "org-docs", "badges": 1, "score": 2},
    ]
    assert profile["name"] == orgs["names"][0] and profile["as_of"] > 0
    beta = api.get(f"/organisations/{orgs['beta']}")
    assert address(DANA) in [c["address"] for c in beta["contributors"]]
    # A badge that stops counting leaves the organisation's score too.
    api.act("disownings", CAROL, token_id=second)
    after = api.get(f"/organisations/{acme}")
    assert (after["total_score"], after["badges_counting"]) == (5, 2)
    assert after["contributors"][0] == {"address": address(CAROL), "badges": 1, "score": 3}
    assert after["contributors_hidden"] == 0
    # A contributor who hides their profile leaves the public list, not the totals.
    api.act("profile-visibility", DANA, hidden=True)
    try:
        hidden = api.get(f"/organisations/{acme}")
        assert [c["address"] for c in hidden["contributors"]] == [address(CAROL)]
        assert (hidden["contributors_hidden"], hidden["total_score"], hidden["badges_counting"]) == (1, 5, 2)
    finally:
        api.act("profile-visibility", DANA, hidden=False)
    assert api.get(f"/organisations/{acme}")["contributors_hidden"] == 0


def test_a_retired_organisation_is_refused_for_new_claims(env, orgs):
    api = env.api
    other = orgs["other"]
    credited = credited_claim(api, BOB, orgs["patch"], "https://git.example.org/org/before-retiring", other)
    pass_proposal(env, BOB, f"Retire organisation {other}", [{"type": "retire_organisation", "organisation_id": other}])
    retired = api.get(f"/organisations/{other}")
    assert retired["active"] is False and retired["retired_at"] >= retired["added_at"]
    assert other in [o["id"] for o in api.get("/organisations", active=False, limit=500)["items"]]
    assert other not in [o["id"] for o in api.get("/organisations", active=True, limit=500)["items"]]
    # Work credited before it was retired still counts for it, and an open claim still mints.
    assert api.act("attestations", DANA, claim_id=credited)["created"]["token_id"] == credited
    assert address(BOB) in [c["address"] for c in api.get(f"/organisations/{other}")["contributors"]]

    before = chain_state(env)
    status, problem = problem_of(
        lambda: credited_claim(api, CAROL, orgs["patch"], "https://git.example.org/org/after-retiring", other)
    )
    assert (status, problem["error"]) == (409, "RegistryOrganisationRetired")
    assert problem["arguments"] == {"organisationId": other}
    assert f"Organisation {other} was retired: new claims cannot credit it" in problem["detail"]
    status, problem = problem_of(
        lambda: credited_claim(
            api, CAROL, orgs["patch"], "https://git.example.org/org/n", other, contributor=address(DANA)
        )
    )
    assert (status, problem["error"]) == (409, "RegistryOrganisationRetired")
    # Retiring it again could never execute: refused at prepare.
    again = [{"type": "retire_organisation", "organisation_id": other}]
    status, problem = problem_of(
        lambda: api.prepare("proposals", signer=address(ALICE), description="again", actions=again)
    )
    assert (status, problem["error"]) == (409, "RegistryOrganisationRetired")
    assert f"Organisation {other} was retired" in problem["detail"]
    assert chain_state(env) == before, "a refused request reached the chain"


def test_an_unknown_organisation_is_refused(env, orgs):
    api = env.api
    before = chain_state(env)
    status, problem = problem_of(
        lambda: credited_claim(api, CAROL, orgs["patch"], "https://git.example.org/org/u", UNKNOWN)
    )
    assert (status, problem["error"]) == (404, "RegistryUnknownOrganisation")
    assert f"No organisation {UNKNOWN} is registered in this community" in problem["detail"]
    status, problem = problem_of(lambda: api.get(f"/organisations/{UNKNOWN}"))
    assert (status, problem["error"]) == (404, "RegistryUnknownOrganisation")
    assert f"No organisation {UNKNOWN}" in problem["detail"]
    status, problem = problem_of(
        lambda: api.prepare(
            "proposals",
            signer=address(ALICE),
            description="unknown",
            actions=[{"type": "retire_organisation", "organisation_id": UNKNOWN}],
        )
    )
    assert (status, problem["error"]) == (404, "RegistryUnknownOrganisation")
    assert chain_state(env) == before, "a refused request reached the chain"


def test_proposals_with_bad_organisations_are_refused_in_words(env, orgs):
    before = chain_state(env)
    cases = [
        ({"type": "add_organisation", "name": "é" * 33}, "name must be at most 64 bytes of UTF-8"),
        ({"type": "add_organisation", "name": ""}, "name: String should have at least 1 character"),
        (
            {"type": "add_organisation", "name": "Big", "identifier": "x" * 257},
            "identifier must be at most 256 bytes of UTF-8",
        ),
        ({"type": "retire_organisation", "organisation_id": 0}, "Input should be greater than or equal to 1"),
    ]
    for action, fragment in cases:
        status, problem = problem_of(
            lambda: env.api.prepare("proposals", signer=address(ALICE), description="bad", actions=[action])
        )
        assert status == 422, (action, problem)
        assert fragment in problem["detail"], (action, problem["detail"])
    # Retiring an organisation twice in one proposal could never execute.
    twice = [{"type": "retire_organisation", "organisation_id": orgs["acme"]}] * 2
    status, problem = problem_of(
        lambda: env.api.prepare("proposals", signer=address(ALICE), description="twice", actions=twice)
    )
    assert (status, problem["error"]) == (409, "RegistryOrganisationRetired")
    assert (
        f"retires organisation {orgs['acme']}, which actions[0] (retire_organisation) already retires"
        in problem["detail"]
    )
    assert chain_state(env) == before


def _rules(env) -> dict:
    return env.api.http.get("/communities/example").json()["parameters"]["rules"]


def _set_rules(env, window: int, score_rule: str) -> None:
    pass_proposal(
        env,
        BOB,
        f"Community rules: {score_rule} scores ({uuid.uuid4().hex[:8]})",
        [{"type": "set_community_rules", "reciprocal_window_seconds": window, "score_rule": score_rule}],
    )
    assert _rules(env) == {"reciprocal_window_seconds": window, "score_rule": score_rule}


def test_its_scores_follow_the_community_score_rule(env, orgs):
    """Under square_root, each contributor's n counting badges of one indicator credited to the
    organisation weigh their mean weight times the square root of n, as in members' profiles."""
    api = env.api
    beta = orgs["beta"]
    for n in (1, 2):  # Dana's own docs, credited: at least two of one indicator
        docs = credited_claim(api, DANA, orgs["docs"], f"https://wiki.example.org/org/docs-own-{n}", beta)
        api.act("attestations", CAROL, claim_id=docs)
    credited = [
        c
        for indicator in (orgs["patch"], orgs["docs"])
        for c in api.get("/claims", indicator_id=indicator, state="minted", limit=500)["items"]
        if c["organisation_id"] == beta
    ]
    weights: dict[str, dict[int, list[int]]] = {}
    for c in credited:
        badge = api.get(f"/badges/{c['id']}")
        if badge["counts"]:
            weights.setdefault(badge["owner"], {}).setdefault(badge["indicator_id"], []).append(badge["weight"])
    expected = {owner: sum(sum(w) / len(w) * math.sqrt(len(w)) for w in by.values()) for owner, by in weights.items()}
    assert len(weights[address(DANA)][orgs["docs"]]) >= 2
    original = _rules(env)
    linear = api.get(f"/organisations/{beta}")
    try:
        _set_rules(env, original["reciprocal_window_seconds"], "square_root")
        profile = api.get(f"/organisations/{beta}")
        assert profile["score_rule"] == "square_root"
        assert [c["address"] for c in profile["contributors"]] == sorted(expected, key=lambda a: (-expected[a], a))
        for c in profile["contributors"]:
            assert c["score"] == pytest.approx(expected[c["address"]], abs=1e-3), c
            assert c["badges"] == sum(len(w) for w in weights[c["address"]].values())
        assert profile["total_score"] == pytest.approx(sum(expected.values()), abs=2e-3)
        assert profile["badges_counting"] == linear["badges_counting"]
        docs = next(e for e in profile["by_category"] if e["category"] == "org-docs")
        assert docs["score"] == pytest.approx(
            sum(
                sum(by[orgs["docs"]]) / math.sqrt(len(by[orgs["docs"]]))
                for by in weights.values()
                if orgs["docs"] in by
            ),
            abs=1e-3,
        )
        assert profile["total_score"] < linear["total_score"]
    finally:
        if _rules(env) != original:
            _set_rules(env, original["reciprocal_window_seconds"], original["score_rule"])
    assert api.get(f"/organisations/{beta}")["contributors"] == linear["contributors"]


def _reads(api, orgs) -> dict:
    return {
        "organisations": api.get("/organisations", limit=500),
        "acme": api.get(f"/organisations/{orgs['acme']}"),
        "other": api.get(f"/organisations/{orgs['other']}"),
        "beta": api.get(f"/organisations/{orgs['beta']}"),
        "claims": api.get("/claims", indicator_id=orgs["patch"], limit=500),
        "docs": api.get("/claims", indicator_id=orgs["docs"], limit=500),
        "carol": api.get(f"/members/{address(CAROL)}/profile"),
    }


def test_a_rebuilt_index_answers_the_same(env, orgs):
    """`reindex` rebuilds the index from the chain beside the one in use and swaps it in: the
    organisations, their credited claims and profiles read the same before and after, and every
    row of the index is the same."""
    api = env.api
    credited = credited_claim(api, BOB, orgs["patch"], "https://git.example.org/org/before-rebuild", orgs["beta"])
    api.act("attestations", CAROL, claim_id=credited)
    wait_until(lambda: (h := api.get("/health"))["indexed_block"] == h["head_block"], what="index catch-up")
    before = _reads(api, orgs)
    rows = dump_index(env.database_url)
    assert rows["organisations"] and any("org-code" in row for row in map(str, rows["badges"]))
    assert before["beta"]["contributors"], before["beta"]
    assert any(c["organisation_id"] for c in before["claims"]["items"])
    rebuilt = env.server.run("reindex")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "Index rebuilt up to block" in rebuilt.stdout
    assert _reads(api, orgs) == before
    assert dump_index(env.database_url) == rows  # every row of the index, organisations and rules among them
