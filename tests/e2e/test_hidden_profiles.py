"""A hidden profile is named in no public list of members (issue 20, item 6;
docs/members/hiding.md, docs/security/rules.md).

Gina (not one of the web app's development signers, so every page shows her by address) joins,
earns a badge credited to an organisation, attests a peer's claim, votes, and is nominated; then
she hides her profile. Every public list, page and export is read over one kept-alive connection
and searched for her address in any form (checksummed, lowercase, bare hex, or shortened as the
pages show it, 0x1234…abcd): no list of members (the members list, the nominee picker, the
Propose page's pickers of a guardian and of a member to remove or recover, the reports'
per-member figures, organisations' contributors, other members' profiles) names her, while the
records she takes part in (claims, badges, attestations, votes, the proposal that admitted her)
keep her address, as the chain shows them to anyone, and her own view (read by her address) still
shows her. Before she hides, and after she shows her profile again, the same lists name her.

The chain is this module's own (one per database), so that no other module's records or members
touch what is crawled. GET /relayer's per-member figures are not crawled here (they are the
relayer's own, tests/e2e/test_hostile_relay.py)."""

from __future__ import annotations

import json

import pytest

from backend.client import CommunityClient
from backend.settings import ANVIL_DEV_KEYS
from devstack.stack import UNTHROTTLED, KeptAlive, local_stack
from tests.e2e.conftest import ALICE, BOB, CAROL, Env, _postgres_database, address, pass_proposal

GINA = ANVIL_DEV_KEYS[8]
ALL_TIME = "from=2000-01-01&to=2099-12-31"
EXPORTS = ("badges", "attestations", "indicator-versions", "proposals", "votes")
API, WEB = "/communities/example", "/c/example"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stack(request, tmp_path_factory) -> Env:
    work = tmp_path_factory.mktemp(f"hidden-{request.param}")
    cleanup = None
    if request.param == "sqlite":
        database_url = f"sqlite:///{work / 'index.sqlite3'}"
    else:
        database_url, cleanup = _postgres_database()
    try:
        with local_stack(work, database_url=database_url, settings=UNTHROTTLED) as s:
            yield Env(s.anvil, s.server, s.deployments, database_url, CommunityClient(s.server.url), work)
    finally:
        if cleanup:
            cleanup()


@pytest.fixture(scope="module")
def story(stack) -> dict:
    """Gina's records: admitted by a proposal, a badge of hers credited to Acme, an attestation of
    Bob's claim (credited to Acme too), a vote with a reason, and a nomination by Alice."""
    api = stack.api
    admitted = pass_proposal(
        stack,
        ALICE,
        "A code indicator, Acme, and Gina",
        [
            {
                "type": "add_indicator",
                "name": "Merged patch",
                "category": "code",
                "orientation": "object",
                "weight": 3,
                "endorsements_required": 1,
            },
            {"type": "add_organisation", "name": "Acme", "identifier": "acme.example"},
            {"type": "admit_member", "account": address(GINA)},
        ],
    )
    own = api.act("claims", GINA, indicator_id=1, evidence_uri="https://x.example/gina", organisation_id=1)
    own_badge = api.act("attestations", ALICE, claim_id=own["created"]["claim_id"])["created"]["token_id"]
    bobs = api.act("claims", BOB, indicator_id=1, evidence_uri="https://x.example/bob", organisation_id=1)
    bobs_badge = api.act("attestations", GINA, claim_id=bobs["created"]["claim_id"])["created"]["token_id"]
    voted = api.act(
        "proposals",
        BOB,
        description="Mentoring counts too",
        actions=[
            {
                "type": "add_indicator",
                "name": "Mentoring",
                "category": "care",
                "orientation": "community",
                "weight": 2,
                "endorsements_required": 1,
            }
        ],
    )
    stack.anvil.skip(2)
    api.act("votes", GINA, proposal_id=voted["created"]["proposal_id"], support="for", reason="mentoring counts")
    nominated = api.act(
        "claims", ALICE, indicator_id=1, evidence_uri="https://x.example/for-gina", contributor=address(GINA)
    )
    return {
        "admission": admitted["id"],
        "vote": voted["created"]["proposal_id"],
        "own": own["created"]["claim_id"],
        "own_badge": own_badge,
        "bobs": bobs["created"]["claim_id"],
        "bobs_badge": bobs_badge,
        "nominated": nominated["created"]["claim_id"],
    }


def mentions(text: str, account: str) -> bool:
    """Whether text names the account in any form a page, an answer or an export may use."""
    low, hex40 = text.lower(), account[2:].lower()
    short = f"{account[:6]}…{account[-4:]}".lower()
    forms = (
        hex40,
        short,
        short.replace("…", "..."),
        short.replace("…", "\\u2026"),
        short.replace("…", "&hellip;"),
        short.replace("…", "&#8230;"),
    )
    return any(form in low for form in forms)


def member_lists() -> list[str]:
    """Every public list of members, and every page or read of someone else that could name one:
    none may name a hidden member."""
    others = [address(k) for k in (ALICE, BOB, CAROL)]
    reads = [
        f"{API}/members?limit=500",
        f"{API}/members?limit=500&active=false",
        f"{API}/organisations?limit=500",
        f"{API}/organisations/1",
        f"{API}/reports?{ALL_TIME}",
        f"{API}/reports?{ALL_TIME}&format=csv",
        "/communities",
        API,
        f"{API}/indicators?limit=500",
        f"{API}/indicators/1",
    ]
    reads += [f"{API}/members/{a}{tail}" for a in others for tail in ("", "/profile", "/profile/history")]
    pages = [
        f"{WEB}/members",
        f"{WEB}/claim",
        f"{WEB}/claim?indicator=1",
        f"{WEB}/report",
        f"{WEB}/report?{ALL_TIME}",
        f"{WEB}/organisations",
        f"{WEB}/organisations/1",
        f"{WEB}/indicators",
        f"{WEB}/indicators/1",
        f"{WEB}/propose",
        f"{WEB}/awaiting",
    ]
    pages += [f"{WEB}/members/{a}" for a in others]
    return reads + pages


# The lists that name Gina while she shows her profile (the others never would: another member's
# profile, the indicators, the forms without a member picker).
LISTING_HER = {
    f"{API}/members?limit=500",
    f"{API}/organisations/1",
    f"{API}/reports?{ALL_TIME}",
    f"{API}/reports?{ALL_TIME}&format=csv",
    f"{WEB}/members",
    f"{WEB}/claim",
    f"{WEB}/claim?indicator=1",
    f"{WEB}/propose",  # the pickers of a guardian, of a member to remove or recover
    f"{WEB}/report",
    f"{WEB}/report?{ALL_TIME}",
    f"{WEB}/organisations/1",
}


def records(story: dict) -> list[str]:
    """The records Gina takes part in, their listings and the period's exports: they keep her address."""
    claims = [story[k] for k in ("own", "bobs", "nominated")]
    badges = [story["own_badge"], story["bobs_badge"]]
    proposals = [story["admission"], story["vote"]]
    reads = [
        f"{API}/claims?limit=500",
        f"{API}/badges?limit=500",
        f"{API}/proposals?limit=200",
        f"{API}/claims/awaiting?attester={address(CAROL)}",
        f"{API}/members/{address(BOB)}/credentials",
    ]
    reads += [f"{API}/claims/{c}" for c in claims] + [f"{API}/proposals/{p}" for p in proposals]
    reads += [f"{API}/badges/{b}{tail}" for b in badges for tail in ("", "/metadata", "/credential")]
    reads += [f"{API}/exports/{t}?{ALL_TIME}&format={f}" for t in EXPORTS for f in ("json", "csv")]
    pages = [WEB, f"{WEB}/claims", f"{WEB}/proposals", f"{WEB}/awaiting?member={address(CAROL)}"]
    pages += [f"{WEB}/claims/{c}" for c in claims] + [f"{WEB}/badges/{b}" for b in badges]
    pages += [f"{WEB}/proposals/{p}" for p in proposals]
    return reads + pages


def own_view(gina: str) -> list[str]:
    """What is read by her address: hers, and anyone's who has the address (reads need no sign-in)."""
    return [
        f"{API}/members/{gina}",
        f"{API}/members/{gina}/profile",
        f"{API}/members/{gina}/profile/history",
        f"{API}/members/{gina}/credentials",
        f"{API}/claims?contributor={gina}",
        f"{API}/badges?owner={gina}",
        f"{WEB}/members/{gina}",
        f"{WEB}/awaiting?member={gina}",
    ]


def crawl(stack: Env, paths: list[str]) -> dict[str, str]:
    connection = KeptAlive(stack.server.url)
    try:
        answers = {path: connection.get(path) for path in paths}
    finally:
        connection.close()
    assert {p: (status, body[:200]) for p, (status, _, body) in answers.items() if status != 200} == {}
    return {path: body for path, (_, _, body) in answers.items()}


def test_a_hidden_member_is_in_no_list_of_members_and_keeps_their_records(stack, story):
    gina = address(GINA)
    everything = member_lists() + records(story) + own_view(gina)
    shown = crawl(stack, everything)
    # Listed while she shows her profile: the lists below are where hiding makes a difference.
    assert [p for p in member_lists() if not mentions(shown[p], gina)] == [
        p for p in member_lists() if p not in LISTING_HER
    ]

    assert stack.api.act("profile-visibility", GINA, hidden=True)["created"] == {"profile_hidden": True}
    hidden = crawl(stack, everything)
    assert [p for p in member_lists() if mentions(hidden[p], gina)] == []
    # What stays visible: the records she takes part in keep her address, as the chain shows them.
    for path in (
        f"{API}/claims/{story['own']}",
        f"{API}/claims/{story['bobs']}",
        f"{API}/claims/{story['nominated']}",
        f"{API}/badges/{story['own_badge']}",
        f"{API}/badges/{story['own_badge']}/metadata",
        f"{API}/proposals/{story['admission']}",
        f"{API}/proposals/{story['vote']}",
        f"{API}/claims?limit=500",
        f"{API}/exports/badges?{ALL_TIME}&format=csv",
        f"{API}/exports/attestations?{ALL_TIME}&format=json",
        f"{API}/exports/votes?{ALL_TIME}&format=csv",
        f"{WEB}/badges/{story['own_badge']}",
        f"{WEB}/claims/{story['bobs']}",
        f"{WEB}/proposals/{story['vote']}",
        WEB,
    ):
        assert mentions(hidden[path], gina), path
    # Her own view shows her, and says she is hidden; search engines are asked not to list her page.
    assert all(mentions(hidden[p], gina) for p in own_view(gina))
    assert json.loads(hidden[f"{API}/members/{gina}"])["profile_hidden"] is True
    assert '<meta name="robots" content="noindex">' in hidden[f"{WEB}/members/{gina}"]
    assert "noindex" not in hidden[f"{WEB}/members/{address(ALICE)}"]
    # Her badges still count: in the organisation's totals and the report's, beside the lists without her.
    acme = json.loads(hidden[f"{API}/organisations/1"])
    assert (acme["contributors_hidden"], acme["badges_counting"]) == (1, 2)
    assert (
        json.loads(hidden[f"{API}/reports?{ALL_TIME}"])["totals"]
        == json.loads(shown[f"{API}/reports?{ALL_TIME}"])["totals"]
    )

    # Not offered by the nominate form, she may still be nominated by her address (its second field).
    assert 'id="c-nominee" name="contributor"' in hidden[f"{WEB}/claim"]
    again = stack.api.act(
        "claims", BOB, indicator_id=1, evidence_uri="https://x.example/for-gina-again", contributor=gina
    )["created"]["claim_id"]
    waiting = stack.api.get("/claims", contributor=gina, nomination_state="pending", limit=500)["items"]
    assert again in [c["id"] for c in waiting]

    assert stack.api.act("profile-visibility", GINA, hidden=False)["created"] == {"profile_hidden": False}
    listed = crawl(stack, member_lists())
    assert [p for p in member_lists() if mentions(listed[p], gina)] == [p for p in member_lists() if p in LISTING_HER]
