"""A complete period's exports never change (issue 20, item 5): a day is exported once the index
has passed its end (`complete: true`); then, the next day, its indicator is amended, one of its
badges revoked, another disowned, a member's membership and badge recovered to a new address,
a claim of that day attested, and its last proposal voted on and executed. The day exported again
is the same, byte for byte, in every report and export, JSON and CSV: each record as it stood at
the day's end. The two days together show that all of it did happen.

The module shares its chain with the other e2e modules: it moves the chain's clock to the start
of a day of its own and on to the next, its indicator is its own, and the member it admits (and
recovers) is removed again, so membership and the quorum are as they were."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from eth_utils import keccak

from devstack.stack import wait_until
from tests.e2e.conftest import ALICE, BOB, CAROL, address, pass_proposal
from tests.e2e.test_fair_play import chain_now, skip_to
from tests.e2e.test_reports import fetch

DAY = 86_400
LOST = "0x" + keccak(text="tests/e2e/test_stable_exports.py lost").hex()
REPLACEMENT = address("0x" + keccak(text="tests/e2e/test_stable_exports.py replacement").hex())
PATHS = (
    "/reports",
    "/exports/badges",
    "/exports/attestations",
    "/exports/indicator-versions",
    "/exports/proposals",
    "/exports/votes",
)
INDICATOR = {
    "name": "Stable exports: kept the minutes",
    "category": "stable-exports",
    "orientation": "community",
    "weight": 2,
    "endorsements_required": 1,
}


def day_of(moment: int) -> str:
    return datetime.fromtimestamp(moment, tz=UTC).date().isoformat()


def exports(env, period: dict[str, str]) -> dict[tuple[str, str], bytes]:
    return {(path, fmt): fetch(env, path, **period, format=fmt) for path in PATHS for fmt in ("json", "csv")}


def rows(env, table: str, period: dict[str, str]) -> list[dict]:
    return json.loads(fetch(env, f"/exports/{table}", **period))["rows"]


# Once per service: ape's isolation plugin may set module fixtures up again for each test of a
# parametrized package fixture (`env`), and the history must be made only once.
_MADE: dict[str, dict] = {}


@pytest.fixture(scope="module")
def history(env):
    if env.server.url not in _MADE:
        _MADE[env.server.url] = _history(env)
    return _MADE[env.server.url]


def _history(env) -> dict:
    api = env.api
    start = (chain_now(env) // DAY + 1) * DAY
    skip_to(env, start)
    end = start + DAY
    day = {"from": day_of(start), "to": day_of(start)}
    # The day: an indicator and a member, three badges of theirs and a claim not yet attested.
    pass_proposal(
        env,
        ALICE,
        "Stable exports: an indicator and a member",
        [{"type": "add_indicator", **INDICATOR}, {"type": "admit_member", "account": address(LOST)}],
    )
    indicator = next(i["id"] for i in api.get("/indicators", limit=500)["items"] if i["name"] == INDICATOR["name"])
    claims = [
        api.act("claims", LOST, indicator_id=indicator, evidence_uri=f"https://example.org/minutes/{n}")["created"][
            "claim_id"
        ]
        for n in range(4)
    ]
    recovered, disowned, revoked = (
        api.act("attestations", CAROL, claim_id=c)["created"]["token_id"] for c in claims[:3]
    )
    # Its last proposal, made in its last minute, is voted on and executed the next day.
    skip_to(env, end - 60)
    later = api.act(
        "proposals",
        ALICE,
        description="Stable exports: what changes after the day",
        actions=[
            {"type": "amend_indicator", "indicator_id": indicator, **INDICATOR, "weight": 3},
            {"type": "revoke_badge", "token_id": revoked, "reason": "after the day's end"},
            {"type": "recover_member", "lost": address(LOST), "replacement": REPLACEMENT, "token_ids": [recovered]},
            {"type": "remove_member", "account": REPLACEMENT},
        ],
    )["created"]["proposal_id"]
    assert chain_now(env) < end
    skip_to(env, end)
    wait_until(lambda: json.loads(fetch(env, "/reports", **day))["complete"], what="the index past the day's end")
    before = exports(env, day)
    # The next day.
    for voter in (ALICE, BOB):
        api.act("votes", voter, proposal_id=later, support="for", reason="after the day's end")
    api.act("disownings", LOST, token_id=disowned)
    minted_later = api.act("attestations", CAROL, claim_id=claims[3])["created"]["token_id"]
    skip_to(env, api.get(f"/proposals/{later}")["vote_end"] + 1)
    api.execute(later)
    assert day_of(chain_now(env)) == day_of(end)
    return {
        "day": day,
        "both": {"from": day_of(start), "to": day_of(end)},
        "before": before,
        "end": end,
        "indicator": indicator,
        "proposal": later,
        "recovered": recovered,
        "disowned": disowned,
        "revoked": revoked,
        "minted_later": minted_later,
    }


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_a_complete_days_exports_do_not_change(env, history, path, fmt):
    again = fetch(env, path, **history["day"], format=fmt)
    assert again == history["before"][(path, fmt)]


def test_the_changes_did_happen_after_the_day(env, history):
    badge = env.api.get(f"/badges/{history['recovered']}")
    assert badge["owner"] == REPLACEMENT
    proposal = env.api.get(f"/proposals/{history['proposal']}")
    assert proposal["executed_at"] >= history["end"]
    assert not {m["address"] for m in env.api.get("/members", limit=200)["items"] if m["active"]} & {
        address(LOST),
        REPLACEMENT,
    }


def test_a_badge_is_held_by_its_holder_at_the_periods_end(env, history):
    day = {b["token_id"]: b for b in rows(env, "badges", history["day"])}
    both = {b["token_id"]: b for b in rows(env, "badges", history["both"])}
    recovered, disowned, revoked = (history[k] for k in ("recovered", "disowned", "revoked"))
    assert day[recovered]["owner"] == address(LOST) and both[recovered]["owner"] == REPLACEMENT
    assert day[disowned]["disowned_at"] is None and both[disowned]["disowned_at"] >= history["end"]
    assert (day[revoked]["revoked_at"], day[revoked]["revoke_reason"]) == (None, None)
    assert both[revoked]["revoke_reason"] == "after the day's end"
    assert history["minted_later"] not in day and history["minted_later"] in both
    report = json.loads(fetch(env, "/reports", **history["day"]))
    assert report["complete"] is True and report["totals"]["revoked"] == 0


def test_an_indicator_version_is_replaced_only_by_the_periods_end(env, history):
    def versions(period):
        return {
            v["version"]: v
            for v in rows(env, "indicator-versions", period)
            if v["indicator_id"] == history["indicator"]
        }

    day, both = versions(history["day"]), versions(history["both"])
    assert list(day) == [1] and day[1]["replaced_at"] is None
    assert list(both) == [1, 2] and both[1]["replaced_at"] == both[2]["defined_at"] >= history["end"]


def test_a_proposal_stands_as_it_did_at_the_periods_end(env, history):
    def proposal(period):
        return next(p for p in rows(env, "proposals", period) if p["proposal_id"] == history["proposal"])

    day, both = proposal(history["day"]), proposal(history["both"])
    assert (day["votes"], day["for_votes"], day["executed_at"]) == ([], 0, None)
    assert [v["voter"] for v in both["votes"]] == [address(ALICE), address(BOB)]
    assert both["for_votes"] == sum(v["weight"] for v in both["votes"]) > 0 and both["executed_at"] >= history["end"]
    assert history["proposal"] not in {v["proposal_id"] for v in rows(env, "votes", history["day"])}
