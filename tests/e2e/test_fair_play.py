"""Fair play through the API (issue 10, sections 2 and 4): an indicator endorsed only by holders
of another's badge, caps per indicator and period on badges earned and claims attested, the
community's reciprocal-endorsement window and its score rule. Each rule is set by a proposal and
each refusal is answered in words, with the contract's error, before anything reaches the chain.

The indicators are this module's own (a proposal of its fixture), so what other modules do to the
shared community changes nothing here; the community-wide rules (window, score rule) are put back
as they were at the end of each test. The caps count in fixed windows of chain time: a test that
needs a whole window to itself first moves the chain to the start of one (evm_increaseTime)."""

from __future__ import annotations

import math
import re
import time
import uuid

import pytest
from eth_utils import keccak

from devstack.stack import rpc, wait_until
from tests.e2e.conftest import ALICE, BOB, CAROL, DANA, address, pass_proposal, problem_of
from tests.e2e.test_hostile_relay import interval_mining, relayer_nonce, submit

RELAYER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
CAP_PERIOD = 3600
WINDOW = 3600


def chain_state(env):
    return rpc(env.anvil.url, "eth_blockNumber"), rpc(env.anvil.url, "eth_getTransactionCount", RELAYER, "latest")


def chain_now(env) -> int:
    return int(rpc(env.anvil.url, "eth_getBlockByNumber", "latest", False)["timestamp"], 16)


def indicator_count(env) -> int:
    """The registry's own count (not the index's), so the next ids are known before proposing."""
    registry = env.api.http.get("/communities/example").json()["contracts"]["registry"]
    data = "0x" + keccak(text="indicatorCount()")[:4].hex()
    return int(rpc(env.anvil.url, "eth_call", {"to": registry, "data": data}, "latest"), 16)


def words_date(unix: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(unix))


def skip_to(env, moment: int) -> None:
    """Mine a block at or after `moment` (chain time)."""
    while (now := chain_now(env)) < moment:
        env.anvil.skip(moment - now)


def start_of_a_cap_period(env) -> int:
    """Move the chain to the start of a cap period (a whole period ahead); its end."""
    start = (chain_now(env) // CAP_PERIOD + 1) * CAP_PERIOD
    skip_to(env, start)
    assert chain_now(env) < start + 60
    return start + CAP_PERIOD


def claim(api, key, indicator_id, uri, **fields) -> int:
    return api.act("claims", key, indicator_id=indicator_id, evidence_uri=uri, **fields)["created"]["claim_id"]


def rules(env) -> dict:
    return env.api.http.get("/communities/example").json()["parameters"]["rules"]


def set_rules(env, window: int, score_rule: str) -> None:
    # The same actions and description twice would be the same proposal id: each description is its own.
    pass_proposal(
        env,
        ALICE,
        f"Community rules: window {window} s, {score_rule} scores ({uuid.uuid4().hex[:8]})",
        [{"type": "set_community_rules", "reciprocal_window_seconds": window, "score_rule": score_rule}],
    )
    assert rules(env) == {"reciprocal_window_seconds": window, "score_rule": score_rule}


# ape's pytest plugin re-runs a module's fixtures before each test when a package fixture is
# parametrised (as `env` is), so what the module sets up once is kept here, per environment
# (keyed by its own work folder).
_ONCE: dict[str, dict] = {}


@pytest.fixture(scope="module")
def fair(env, governed):
    if str(env.workdir) not in _ONCE:
        _ONCE[str(env.workdir)] = _indicators(env)
    return _ONCE[str(env.workdir)]


def _indicators(env) -> dict:
    """This module's indicators, added by one proposal: a maintainer badge, a review only its holders
    endorse (2 endorsements), an earn-capped and an attest-capped indicator, one for pairs of
    members endorsing each other, and one to score under the square-root rule."""
    base = indicator_count(env)
    ids = dict(zip(("maintainer", "review", "earn", "attest", "pairing", "translation"), range(base + 1, base + 7)))
    common = {"type": "add_indicator", "orientation": "object", "endorsements_required": 1}
    specs = [
        {**common, "name": "Fair-play maintainer", "category": "fp-maintenance", "weight": 1},
        {
            **common,
            "name": "Fair-play review",
            "category": "fp-review",
            "weight": 2,
            "endorsements_required": 2,
            "endorser_indicator_id": ids["maintainer"],
        },
        {
            **common,
            "name": "Fair-play earn cap",
            "category": "fp-earn",
            "weight": 1,
            "earn_cap": 1,
            "cap_period_seconds": CAP_PERIOD,
        },
        {
            **common,
            "name": "Fair-play attest cap",
            "category": "fp-attest",
            "weight": 1,
            "attest_cap": 1,
            "cap_period_seconds": CAP_PERIOD,
        },
        {**common, "name": "Fair-play pairing", "category": "fp-pairing", "weight": 1},
        {
            **common,
            "name": "Fair-play translation",
            "category": "fp-translation",
            "weight": 4,
            "orientation": "community",
        },
    ]
    result = pass_proposal(env, ALICE, "Fair-play indicators", specs)
    assert result["executed"]["created"]["indicator_id"] == ids["translation"]
    for spec, indicator_id in zip(specs, ids.values()):
        assert env.api.get(f"/indicators/{indicator_id}")["name"] == spec["name"]
    return ids


def test_indicator_reads_show_the_rules(env, fair):
    api = env.api
    review = api.get(f"/indicators/{fair['review']}")
    assert (
        review["endorser_indicator_id"],
        review["earn_cap"],
        review["attest_cap"],
        review["cap_period_seconds"],
    ) == (fair["maintainer"], None, None, None)
    earn = api.get(f"/indicators/{fair['earn']}")
    assert (earn["endorser_indicator_id"], earn["earn_cap"], earn["attest_cap"], earn["cap_period_seconds"]) == (
        None,
        1,
        None,
        CAP_PERIOD,
    )
    attest = api.get(f"/indicators/{fair['attest']}")
    assert (attest["earn_cap"], attest["attest_cap"], attest["cap_period_seconds"]) == (None, 1, CAP_PERIOD)
    plain = api.get(f"/indicators/{fair['maintainer']}")
    assert (plain["endorser_indicator_id"], plain["earn_cap"], plain["attest_cap"], plain["cap_period_seconds"]) == (
        None,
        None,
        None,
        None,
    )
    # Every version carries its own rules.
    assert review["versions"][-1]["endorser_indicator_id"] == fair["maintainer"]
    # And the list says the same as the single read.
    listed = {i["id"]: i for i in api.get("/indicators", limit=500)["items"]}
    assert listed[fair["earn"]]["earn_cap"] == 1
    assert listed[fair["review"]]["endorser_indicator_id"] == fair["maintainer"]


def test_only_holders_of_the_endorser_badge_attest(env, fair):
    api = env.api
    # Bob earns the maintainer badge; Carol files a review claim.
    maintainer_badge = claim(api, BOB, fair["maintainer"], "https://git.example.org/fp/maintainer-bob")
    assert api.act("attestations", ALICE, claim_id=maintainer_badge)["created"]["token_id"] == maintainer_badge
    review = claim(api, CAROL, fair["review"], "https://git.example.org/fp/review-carol")

    # Only holders are offered it to attest.
    def offered(key):
        return review in [c["id"] for c in api.get("/claims/awaiting", attester=address(key), limit=500)["items"]]

    assert offered(BOB) and not offered(DANA) and not offered(ALICE)

    # Dana holds no maintainer badge: refused at prepare, in words, before anything is signed.
    before = chain_state(env)
    status, problem = problem_of(lambda: api.act("attestations", DANA, claim_id=review))
    assert (status, problem["error"]) == (403, "BadgeEndorserNotQualified")
    assert problem["arguments"] == {
        "claimId": review,
        "attester": address(DANA),
        "endorserIndicatorId": fair["maintainer"],
        "endorserBadgeId": 0,
    }
    assert (
        f"Only holders of a counting badge of indicator {fair['maintainer']} may attest claim {review}, "
        f"and {address(DANA)} showed none"
    ) in problem["detail"]
    assert chain_state(env) == before, "a refused request reached the chain"

    # Bob holds one: the service picks it and the request shows it (attestWith).
    typed = api.prepare("attestations", signer=address(BOB), claim_id=review)["typed_data"]
    expected = (
        keccak(text="attestWith(uint256,uint256)")[:4]
        + review.to_bytes(32, "big")
        + maintainer_badge.to_bytes(32, "big")
    )
    assert typed["message"]["data"] == "0x" + expected.hex()
    attested = api.post("/attestations", {"typed_data": typed, "signature": api.sign(BOB, typed)})
    assert attested["created"] == {"attestations": 1}
    assert api.get(f"/claims/{review}")["attesters"] == [address(BOB)]

    # Alice shows Bob's badge as her own: the chain's simulation refuses it with the same error.
    before = chain_state(env)
    status, problem = problem_of(
        lambda: api.act("attestations", ALICE, claim_id=review, endorser_badge_id=maintainer_badge)
    )
    assert (status, problem["error"]) == (403, "BadgeEndorserNotQualified")
    assert problem["arguments"]["endorserBadgeId"] == maintainer_badge
    assert problem["arguments"]["attester"] == address(ALICE)
    assert (
        f"and {address(ALICE)} showed none (badge {maintainer_badge} is not a counting badge of it that they hold)"
    ) in problem["detail"]
    assert chain_state(env) == before, "a refused request reached the chain"

    # The contract's earlier checks come first, as on chain: her own claim, for the contributor.
    status, problem = problem_of(lambda: api.act("attestations", CAROL, claim_id=review))
    assert (status, problem["error"]) == (409, "BadgeSelfAttestation")

    # Once Dana earns a maintainer badge of her own, her attestation (badge picked for her) mints the review.
    dana_badge = claim(api, DANA, fair["maintainer"], "https://git.example.org/fp/maintainer-dana")
    api.act("attestations", CAROL, claim_id=dana_badge)
    assert offered(DANA)
    assert api.act("attestations", DANA, claim_id=review)["created"] == {"attestations": 2, "token_id": review}
    assert api.get(f"/badges/{review}")["owner"] == address(CAROL)
    status, problem = problem_of(lambda: api.act("attestations", ALICE, claim_id=review))
    assert (status, problem["error"]) == (409, "BadgeAlreadyMinted")


def test_earn_cap_per_period(env, fair):
    api = env.api
    indicator = fair["earn"]
    period_ends = start_of_a_cap_period(env)
    first = claim(api, DANA, indicator, "https://forum.example.org/fp/earn-1")
    assert api.act("attestations", ALICE, claim_id=first)["created"]["token_id"] == first

    # A second claim in the same period is refused as it is filed, rather than after peers attest it.
    before = chain_state(env)
    status, problem = problem_of(lambda: claim(api, DANA, indicator, "https://forum.example.org/fp/earn-2"))
    assert (status, problem["error"]) == (409, "BadgeEarnCapReached")
    assert problem["arguments"] == {
        "contributor": address(DANA),
        "indicatorId": indicator,
        "cap": 1,
        "periodEnds": period_ends,
    }
    assert (
        f"{address(DANA)} already earned as many badges of indicator {indicator} as the community allows per "
        f"period (1); more can be earned from {words_date(period_ends)}"
    ) in problem["detail"]
    # A peer's nomination of her is refused the same way: the cap is the contributor's.
    status, problem = problem_of(
        lambda: api.act(
            "claims",
            BOB,
            indicator_id=indicator,
            contributor=address(DANA),
            evidence_uri="https://forum.example.org/fp/earn-nominated",
        )
    )
    assert (status, problem["error"]) == (409, "BadgeEarnCapReached")
    assert chain_state(env) == before, "a refused request reached the chain"

    # The next period: allowed again. Two claims may be filed, but only the first to mint counts.
    skip_to(env, period_ends)
    second = claim(api, DANA, indicator, "https://forum.example.org/fp/earn-2")
    third = claim(api, DANA, indicator, "https://forum.example.org/fp/earn-3")
    nominated = api.act(
        "claims",
        BOB,
        indicator_id=indicator,
        contributor=address(DANA),
        evidence_uri="https://forum.example.org/fp/earn-nominated",
    )["created"]["claim_id"]
    assert api.act("attestations", ALICE, claim_id=nominated)["created"] == {"attestations": 1}  # waits for her
    assert api.act("attestations", ALICE, claim_id=second)["created"]["token_id"] == second
    status, problem = problem_of(lambda: api.act("attestations", BOB, claim_id=third))
    assert (status, problem["error"]) == (409, "BadgeEarnCapReached")
    assert problem["arguments"]["periodEnds"] == period_ends + CAP_PERIOD
    assert f"more can be earned from {words_date(period_ends + CAP_PERIOD)}" in problem["detail"]
    assert api.get(f"/claims/{third}")["state"] == "open"
    # Accepting the nomination would mint past the cap: refused the same way, and it still waits.
    status, problem = problem_of(lambda: api.act("nomination-answers", DANA, claim_id=nominated, answer="accept"))
    assert (status, problem["error"]) == (409, "BadgeEarnCapReached")
    assert f"more can be earned from {words_date(period_ends + CAP_PERIOD)}" in problem["detail"]
    assert api.get(f"/claims/{nominated}")["nomination_state"] == "pending"
    entry = next(
        e for e in api.get(f"/members/{address(DANA)}/profile")["by_indicator"] if e["indicator_id"] == indicator
    )
    assert entry["badges"] == 2


def test_attest_cap_per_period(env, fair):
    api = env.api
    indicator = fair["attest"]
    period_ends = start_of_a_cap_period(env)
    bobs = claim(api, BOB, indicator, "https://forum.example.org/fp/attest-bob")
    carols = claim(api, CAROL, indicator, "https://forum.example.org/fp/attest-carol")
    assert api.act("attestations", ALICE, claim_id=bobs)["created"]["token_id"] == bobs

    before = chain_state(env)
    status, problem = problem_of(lambda: api.act("attestations", ALICE, claim_id=carols))
    assert (status, problem["error"]) == (409, "BadgeAttestCapReached")
    assert problem["arguments"] == {
        "attester": address(ALICE),
        "indicatorId": indicator,
        "cap": 1,
        "periodEnds": period_ends,
    }
    assert (
        f"{address(ALICE)} already attested as many claims of indicator {indicator} as the community allows "
        f"per period (1); more can be attested from {words_date(period_ends)}"
    ) in problem["detail"]
    assert chain_state(env) == before, "a refused request reached the chain"
    # Her attestations are capped, not anyone else's (and other indicators not at all).
    assert carols in [c["id"] for c in api.get("/claims/awaiting", attester=address(DANA), limit=500)["items"]]

    skip_to(env, period_ends)
    assert api.act("attestations", ALICE, claim_id=carols)["created"]["token_id"] == carols


def test_a_burst_past_the_attest_cap_is_refused_before_it_is_sent(env, fair):
    """Class: a burst. Two attestations sent at once, while the first is still in flight: the second
    would pass on the latest block but is bound to fail behind the first (the cap of one), so it is
    simulated behind the first and refused before the relayer pays for it."""
    api = env.api
    indicator = fair["attest"]
    start_of_a_cap_period(env)
    first = claim(api, BOB, indicator, f"https://forum.example.org/fp/burst-bob-{uuid.uuid4().hex[:6]}")
    second = claim(api, CAROL, indicator, f"https://forum.example.org/fp/burst-carol-{uuid.uuid4().hex[:6]}")
    sent = relayer_nonce(env)
    with interval_mining(env, 2):
        typed = api.prepare("attestations", signer=address(ALICE), claim_id=first)["typed_data"]
        assert submit(api, "attestations", typed, ALICE, wait=False).status_code == 202

        def again():
            typed = api.prepare("attestations", signer=address(ALICE), claim_id=second)["typed_data"]
            response = submit(api, "attestations", typed, ALICE, wait=False)
            api._check(response)

        status, problem = problem_of(again)
        assert (status, problem["error"]) == (409, "BadgeAttestCapReached"), problem
    wait_until(lambda: api.get(f"/claims/{first}")["state"] == "minted", timeout=30, what="the first attestation")
    assert api.get(f"/claims/{second}")["attestations"] == 0
    assert relayer_nonce(env) == sent + 1, "the relayer sent a transaction for the request bound to fail"


def test_reciprocal_window(env, fair):
    api = env.api
    indicator = fair["pairing"]
    original = rules(env)
    try:
        if original["reciprocal_window_seconds"]:
            set_rules(env, 0, original["score_rule"])
        # Off (0): Alice and Bob endorse each other back to back.
        bobs = claim(api, BOB, indicator, "https://forum.example.org/fp/pair-off-bob")
        alices = claim(api, ALICE, indicator, "https://forum.example.org/fp/pair-off-alice")
        api.act("attestations", ALICE, claim_id=bobs)
        assert api.act("attestations", BOB, claim_id=alices)["created"]["token_id"] == alices

        set_rules(env, WINDOW, original["score_rule"])
        # The propose page's form starts from the window in force, in days: sent back as it is (app.js
        # sends whole seconds), it proposes the same window, not 3,629 seconds.
        page = api.http.get("/c/example/propose").text
        shown = re.search(r'<input id="rules-window"[^>]*value="([^"]*)"', page).group(1)
        assert round(float(shown) * 86400) == WINDOW, shown
        bobs = claim(api, BOB, indicator, "https://forum.example.org/fp/pair-on-bob")
        alices = claim(api, ALICE, indicator, "https://forum.example.org/fp/pair-on-alice")
        api.act("attestations", ALICE, claim_id=bobs)
        until = api.get(f"/badges/{bobs}")["minted_at"] + WINDOW
        before = chain_state(env)
        status, problem = problem_of(lambda: api.act("attestations", BOB, claim_id=alices))
        assert (status, problem["error"]) == (409, "BadgeReciprocalEndorsement")
        assert problem["arguments"] == {
            "claimId": alices,
            "attester": address(BOB),
            "contributor": address(ALICE),
            "until": until,
        }
        assert (
            f"{address(ALICE)} endorsed {address(BOB)} on this indicator within the community's reciprocal "
            f"window: {address(BOB)} may attest claim {alices} from {words_date(until)}"
        ) in problem["detail"]
        assert chain_state(env) == before, "a refused request reached the chain"
        # Only that way round: Bob may still attest a claim of Carol, who never endorsed him.
        carols = claim(api, CAROL, indicator, "https://forum.example.org/fp/pair-on-carol")
        api.prepare("attestations", signer=address(BOB), claim_id=carols)

        # After the window: allowed.
        skip_to(env, until)
        assert api.act("attestations", BOB, claim_id=alices)["created"]["token_id"] == alices

        # Turned off again, an endorsement made within what was the window no longer matters.
        danas = claim(api, DANA, indicator, "https://forum.example.org/fp/pair-again-dana")
        api.act("attestations", CAROL, claim_id=danas)
        set_rules(env, 0, original["score_rule"])
        assert api.act("attestations", DANA, claim_id=carols)["created"]["token_id"] == carols
    finally:
        if rules(env) != original:
            set_rules(env, original["reciprocal_window_seconds"], original["score_rule"])


def _sqrt_scores(badges: list[dict]) -> dict[int, float]:
    """Each indicator's score under the square-root rule, from the badges one by one: n counting
    badges of one indicator weigh their mean weight times the square root of n."""
    weights: dict[int, list[int]] = {}
    for b in badges:
        if b["counts"]:
            weights.setdefault(b["indicator_id"], []).append(b["weight"])
    return {i: sum(w) / len(w) * math.sqrt(len(w)) for i, w in weights.items()}


def test_square_root_scores(env, fair):
    api = env.api
    indicator = fair["translation"]
    original = rules(env)
    dana = address(DANA)
    # Two badges at weight 4, then the indicator amended to weight 7 and one more: 4, 4, 7.
    for n in (1, 2):
        api.act("attestations", ALICE, claim_id=claim(api, DANA, indicator, f"https://wiki.example.org/fp/tr-{n}"))
    pass_proposal(
        env,
        BOB,
        "Translation weighs more",
        [
            {
                "type": "amend_indicator",
                "indicator_id": indicator,
                "name": "Fair-play translation",
                "category": "fp-translation",
                "orientation": "community",
                "weight": 7,
                "endorsements_required": 1,
            }
        ],
    )
    api.act("attestations", ALICE, claim_id=claim(api, DANA, indicator, "https://wiki.example.org/fp/tr-3"))
    try:
        if original["score_rule"] != "linear":
            set_rules(env, original["reciprocal_window_seconds"], "linear")
        linear = api.get(f"/members/{dana}/profile", limit=1)
        assert linear["score_rule"] == "linear"
        entry = next(e for e in linear["by_indicator"] if e["indicator_id"] == indicator)
        assert (entry["badges"], entry["score"]) == (3, 15)

        set_rules(env, original["reciprocal_window_seconds"], "square_root")
        profile = api.get(f"/members/{dana}/profile", limit=1)
        assert profile["score_rule"] == "square_root"
        entry = next(e for e in profile["by_indicator"] if e["indicator_id"] == indicator)
        # Mean weight 5 times the square root of 3, to 3 decimals.
        assert (entry["badges"], entry["score"]) == (3, round(5 * math.sqrt(3), 3)) == (3, 8.66)
        # Every indicator of hers the same way, from her badges one by one (other modules' badges among them).
        badges = api.get("/badges", owner=dana, limit=500)["items"]
        expected = _sqrt_scores(badges)
        assert {e["indicator_id"]: e["score"] for e in profile["by_indicator"]} == {
            i: round(s, 3) if not float(s).is_integer() else int(s) for i, s in expected.items()
        }
        assert profile["total_score"] == pytest.approx(sum(expected.values()), abs=2e-3)
        community = sum(
            s
            for b_id, s in expected.items()
            if next(b for b in badges if b["indicator_id"] == b_id)["orientation"] == "community"
        )
        assert profile["by_orientation"]["community"]["score"] == pytest.approx(community, abs=2e-3)
        assert profile["badges_counting"] == linear["badges_counting"]
        # The score over time follows the same rule: its last point is the profile's score.
        history = api.get(f"/members/{dana}/profile/history")
        assert history["score_rule"] == "square_root"
        assert {k: history["points"][-1][k] for k in ("total", "object", "community")} == {
            "total": profile["total_score"],
            "object": profile["by_orientation"]["object"]["score"],
            "community": profile["by_orientation"]["community"]["score"],
        }
        assert linear["total_score"] - profile["total_score"] == pytest.approx(
            sum(b["weight"] for b in badges if b["counts"]) - sum(expected.values()), abs=2e-3
        )
    finally:
        if rules(env) != original:
            set_rules(env, original["reciprocal_window_seconds"], original["score_rule"])
    back = api.get(f"/members/{dana}/profile", limit=1)
    assert back["score_rule"] == original["score_rule"]
    assert api.get(f"/members/{dana}/profile/history")["points"][-1]["total"] == back["total_score"]
    if original["score_rule"] == "linear":
        assert {k: back[k] for k in ("total_score", "by_indicator", "by_category", "by_orientation")} == {
            k: linear[k] for k in ("total_score", "by_indicator", "by_category", "by_orientation")
        }


def _propose(env, *actions):
    return lambda: env.api.prepare("proposals", signer=address(ALICE), description="bad rules", actions=list(actions))


def test_proposals_with_bad_rules_are_refused_in_words(env, fair):
    indicator = {
        "type": "add_indicator",
        "name": "Bad rules",
        "orientation": "object",
        "weight": 1,
        "endorsements_required": 1,
    }
    before = chain_state(env)
    cases = [
        ({**indicator, "earn_cap": 2}, "cap_period_seconds is required with earn_cap or attest_cap"),
        ({**indicator, "attest_cap": 2}, "cap_period_seconds is required with earn_cap or attest_cap"),
        ({**indicator, "cap_period_seconds": 3600}, "cap_period_seconds needs earn_cap or attest_cap"),
        (
            {**indicator, "endorser_indicator_id": indicator_count(env) + 5},
            f"endorser_indicator_id {indicator_count(env) + 5} does not exist",
        ),
        (
            {**indicator, "endorser_indicator_id": indicator_count(env) + 1},
            f"endorser_indicator_id {indicator_count(env) + 1} is the indicator itself",
        ),
        (
            {
                **indicator,
                "type": "amend_indicator",
                "indicator_id": fair["review"],
                "endorser_indicator_id": fair["review"],
            },
            f"endorser_indicator_id {fair['review']} is the indicator itself",
        ),
        (
            {"type": "set_community_rules", "reciprocal_window_seconds": 365 * 86_400 + 1, "score_rule": "linear"},
            "reciprocal_window_seconds: Input should be less than or equal to 31536000",
        ),
        (
            {"type": "set_community_rules", "reciprocal_window_seconds": 0, "score_rule": "quadratic"},
            "score_rule: Input should be 'linear' or 'square_root'",
        ),
        (
            {**indicator, "earn_cap": 65_536, "cap_period_seconds": 60},
            "earn_cap: Input should be less than or equal to 65535",
        ),
    ]
    for action, fragment in cases:
        status, problem = problem_of(_propose(env, action))
        assert status == 422, (action, problem)
        assert fragment in problem["detail"], (action, problem["detail"])
    # An endorser indicator added earlier in the same proposal exists by then.
    first = indicator_count(env) + 1
    typed = _propose(env, {**indicator, "name": "Mentor"}, {**indicator, "endorser_indicator_id": first})()
    assert typed["typed_data"]["primaryType"] == "ForwardRequest"
    assert chain_state(env) == before
