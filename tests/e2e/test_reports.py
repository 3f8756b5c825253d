"""Period reports and exports, checked against the chain's own logs and the index (through the
API's reads) for a seeded history, and byte for byte stable."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime

import pytest
from web3 import Web3

from devstack.stack import rpc
from tests.e2e.conftest import ALICE, BOB, CAROL, DANA, address, pass_proposal

ALL_TIME = {"from": "2000-01-01", "to": "2099-12-31"}


def chain_day(env) -> str:
    now = int(rpc(env.anvil.url, "eth_getBlockByNumber", "latest", False)["timestamp"], 16)
    return datetime.fromtimestamp(now, tz=UTC).date().isoformat()


def fetch(env, path: str, **params) -> bytes:
    response = env.api.http.get(f"/communities/example{path}", params=params)
    assert response.status_code == 200, response.text
    return response.content


def chain_mints(env) -> list[dict]:
    """BadgeMinted events read straight from the node with web3.py (not the index), with block times."""
    deployments = json.loads(env.deployments.read_text())
    community = deployments["communities"]["example"]
    w3 = Web3(Web3.HTTPProvider(env.anvil.url))
    badge = w3.eth.contract(address=community["contracts"]["badge"], abi=deployments["abis"]["badge"])
    out = []
    for log in badge.events.BadgeMinted.get_logs(from_block=community["deployment_block"]):
        out.append(
            {
                "token_id": log.args.tokenId,
                "contributor": log.args.contributor,
                "indicator_id": log.args.indicatorId,
                "weight": log.args.weight,
                "minted_at": w3.eth.get_block(log.blockNumber)["timestamp"],
            }
        )
    return out


# Once per service: ape's isolation plugin may set module fixtures up again for each test of a
# parametrized package fixture (`env`), and the history must be made only once.
_MADE: dict[str, dict] = {}


@pytest.fixture(scope="module")
def seeded(env, governed):
    if env.server.url not in _MADE:
        _MADE[env.server.url] = _seeded(env, governed)
    return _MADE[env.server.url]


def _seeded(env, governed):
    """A known history on top of whatever the package did before: a patch of Bob's (attested by
    Dana), a mentoring nomination of Carol's (Alice and Dana attest), then the patch revoked."""
    api = env.api
    patch = api.act("claims", BOB, indicator_id=governed["code"], evidence_uri="https://git.example.org/mr/report")
    patch_id = patch["created"]["claim_id"]
    api.act("attestations", DANA, claim_id=patch_id)
    mentoring = api.act(
        "claims",
        ALICE,
        indicator_id=governed["mentoring"],
        contributor=address(CAROL),
        evidence_uri="https://forum.example.org/t/report",
    )["created"]["claim_id"]
    api.act("attestations", DANA, claim_id=mentoring)
    api.act("attestations", BOB, claim_id=mentoring)
    api.act("nomination-answers", CAROL, claim_id=mentoring, answer="accept")
    revoked = pass_proposal(
        env,
        ALICE,
        "Revoke a patch reported twice",
        [{"type": "revoke_badge", "token_id": patch_id, "reason": "reported twice"}],
    )
    return {"patch": patch_id, "mentoring": mentoring, "proposal": revoked["id"]}


def test_report_matches_the_chain_and_the_index(env, seeded):
    report = json.loads(fetch(env, "/reports", **ALL_TIME))
    mints = chain_mints(env)
    assert report["totals"]["badges"] == len(mints) >= 2
    assert report["totals"]["weight"] == sum(m["weight"] for m in mints)
    # By member and by indicator, from the chain's logs.
    by_member = defaultdict(lambda: [0, 0])
    by_indicator = defaultdict(lambda: [0, 0])
    for m in mints:
        by_member[m["contributor"]][0] += 1
        by_member[m["contributor"]][1] += m["weight"]
        by_indicator[str(m["indicator_id"])][0] += 1
        by_indicator[str(m["indicator_id"])][1] += m["weight"]
    assert {g["key"]: [g["badges"], g["weight"]] for g in report["by"]["member"]} == dict(by_member)
    assert {g["key"]: [g["badges"], g["weight"]] for g in report["by"]["indicator"]} == dict(by_indicator)
    assert [g["key"] for g in report["by"]["member"]] == sorted(by_member)
    # By category and orientation, and revocations, from the index's badges (the API's reads).
    badges = env.api.get("/badges", limit=500)["items"]
    assert len(badges) == len(mints)
    assert {g["key"]: (g["badges"], g["weight"], g["revoked"]) for g in report["by"]["category"]} == {
        c: (
            sum(1 for b in badges if b["category"] == c),
            sum(b["weight"] for b in badges if b["category"] == c),
            sum(1 for b in badges if b["category"] == c and b["revoked_at"] is not None),
        )
        for c in {b["category"] for b in badges}
    }
    orientation = {g["key"]: g for g in report["by"]["orientation"]}
    assert orientation["community"]["label"] == "community-oriented"
    assert sum(g["weight"] for g in orientation.values()) == report["totals"]["weight"]
    assert report["totals"]["revoked"] == sum(1 for b in badges if b["revoked_at"] is not None) >= 1
    assert report["totals"]["members"] == len(by_member)
    assert (report["community"], report["from"], report["to"], report["complete"]) == (
        "example",
        "2000-01-01",
        "2099-12-31",
        False,
    )


def test_a_hidden_member_is_left_out_of_the_per_member_rows_only(env, seeded):
    shown = json.loads(fetch(env, "/reports", **ALL_TIME))
    assert address(CAROL) in [g["key"] for g in shown["by"]["member"]]
    env.api.act("profile-visibility", CAROL, hidden=True)
    try:
        hidden = json.loads(fetch(env, "/reports", **ALL_TIME))
        assert address(CAROL) not in [g["key"] for g in hidden["by"]["member"]]
        assert [g for g in hidden["by"]["member"]] == [g for g in shown["by"]["member"] if g["key"] != address(CAROL)]
        # Her badges still count: the totals and the other dimensions are the same.
        assert (hidden["totals"], hidden["by"]["category"]) == (shown["totals"], shown["by"]["category"])
    finally:
        env.api.act("profile-visibility", CAROL, hidden=False)
    assert json.loads(fetch(env, "/reports", **ALL_TIME))["by"]["member"] == shown["by"]["member"]


def test_a_period_holds_exactly_its_days(env, seeded):
    day = chain_day(env)
    today = json.loads(fetch(env, "/reports", **{"from": day, "to": day}))
    start = int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp())
    inside = [m for m in chain_mints(env) if start <= m["minted_at"] < start + 86_400]
    assert today["totals"]["badges"] == len(inside)
    before = json.loads(fetch(env, "/reports", **{"from": "2000-01-01", "to": "2000-01-31"}))
    assert before["totals"] == {"badges": 0, "weight": 0, "revoked": 0, "members": 0, "attestations": 0, "proposals": 0}
    assert before["by"] == {"member": [], "indicator": [], "category": [], "orientation": []}
    assert before["complete"] is True
    backwards = env.api.http.get("/communities/example/reports", params={"from": "2026-02-01", "to": "2026-01-01"})
    assert backwards.status_code == 422 and "before it starts" in backwards.json()["detail"]


def test_exports_carry_the_seeded_records(env, seeded):
    badges = json.loads(fetch(env, "/exports/badges", **ALL_TIME))["rows"]
    patch = next(b for b in badges if b["token_id"] == seeded["patch"])
    claim = env.api.get(f"/claims/{seeded['patch']}")
    assert (patch["contributor"], patch["attesters"], patch["evidence_uri"], patch["evidence_hash"]) == (
        address(BOB),
        [address(DANA)],
        "https://git.example.org/mr/report",
        claim["evidence_hash"],
    )
    assert patch["revoke_reason"] == "reported twice" and patch["revoked_at"] is not None
    mentoring = next(b for b in badges if b["token_id"] == seeded["mentoring"])
    assert (mentoring["contributor"], mentoring["submitter"], mentoring["nomination"], mentoring["attesters"]) == (
        address(CAROL),
        address(ALICE),
        True,
        [address(DANA), address(BOB)],
    )
    assert [b["token_id"] for b in badges] == sorted(b["token_id"] for b in chain_mints(env))
    attestations = json.loads(fetch(env, "/exports/attestations", **ALL_TIME))["rows"]
    assert [(a["attester"], a["count"]) for a in attestations if a["claim_id"] == seeded["mentoring"]] == [
        (address(DANA), 1),
        (address(BOB), 2),
    ]
    assert len(attestations) == sum(c["attestations"] for c in env.api.get("/claims", limit=500)["items"])
    proposals = json.loads(fetch(env, "/exports/proposals", **ALL_TIME))["rows"]
    revoking = next(p for p in proposals if p["proposal_id"] == seeded["proposal"])
    assert [(v["voter"], v["support"], v["reason"]) for v in revoking["votes"]] == [
        (address(ALICE), "for", "yes"),
        (address(BOB), "for", "yes"),
    ]
    assert revoking["executed_at"] is not None
    assert len(proposals) == env.api.get("/proposals", limit=500)["total"]
    votes = list(csv.DictReader(io.StringIO(fetch(env, "/exports/votes", **ALL_TIME, format="csv").decode())))
    assert sum(len(p["votes"]) for p in proposals) == len(votes)
    versions = json.loads(fetch(env, "/exports/indicator-versions", **ALL_TIME))["rows"]
    indicators = env.api.get("/indicators", limit=500)["items"]
    assert {(v["indicator_id"], v["version"]) for v in versions} >= {(i["id"], i["version"]) for i in indicators}
    assert [(v["indicator_id"], v["version"]) for v in versions] == sorted(
        (v["indicator_id"], v["version"]) for v in versions
    )


@pytest.mark.parametrize(
    "path",
    [
        "/reports",
        "/exports/badges",
        "/exports/attestations",
        "/exports/indicator-versions",
        "/exports/proposals",
        "/exports/votes",
    ],
)
@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_exports_are_byte_for_byte_stable(env, seeded, path, fmt):
    params = {"from": "2000-01-01", "to": chain_day(env), "format": fmt}
    first = env.api.http.get(f"/communities/example{path}", params=params)
    second = env.api.http.get(f"/communities/example{path}", params=params)
    assert first.status_code == 200 and first.content == second.content
    if fmt == "csv":
        assert first.headers["content-type"] == "text/csv; charset=utf-8"
        rows = list(csv.reader(io.StringIO(first.text)))
        assert len({len(r) for r in rows}) == 1 and rows[0][0] in (
            "dimension",
            "token_id",
            "claim_id",
            "indicator_id",
            "proposal_id",
        )
        # '\n' line ends: a carriage return only inside a quoted field (text that holds one).
        assert first.content.endswith(b"\n") and b"\r" not in re.sub(rb'"(?:[^"]|"")*"', b"", first.content)
    else:
        document = first.json()
        assert (
            first.content
            == (json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        )


def test_report_csv_equals_its_json(env, seeded):
    report = json.loads(fetch(env, "/reports", **ALL_TIME))
    rows = list(csv.DictReader(io.StringIO(fetch(env, "/reports", **ALL_TIME, format="csv").decode())))
    assert rows[0] == {
        "dimension": "total",
        "key": "",
        "label": "all contributions",
        "badges": str(report["totals"]["badges"]),
        "weight": str(report["totals"]["weight"]),
        "revoked": str(report["totals"]["revoked"]),
    }
    counted = Counter(r["dimension"] for r in rows[1:])
    assert counted == {
        d: len(report["by"][d]) for d in ("member", "indicator", "category", "orientation") if report["by"][d]
    }


def test_report_page(env, seeded):
    day = chain_day(env)
    page = env.api.http.get("/c/example/report", params={"from": "2000-01-01", "to": day})
    assert page.status_code == 200 and "<svg" in page.text
    report = json.loads(fetch(env, "/reports", **{"from": "2000-01-01", "to": day}))
    assert f"weight <strong>{report['totals']['weight']}</strong>" in page.text
    assert f"/communities/example/exports/badges?from=2000-01-01&amp;to={day}&amp;format=csv" in page.text
    assert "<script>" not in page.text  # the CSP allows no inline script
    profile = env.api.http.get(f"/c/example/members/{address(CAROL)}")
    assert f'href="/communities/example/members/{address(CAROL)}/credentials"' in profile.text
    assert "Download credentials" in profile.text
