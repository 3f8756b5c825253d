"""How the pages name people (backend/web/people.py): a member by the name they set, an invitation
as "Sam (invited)", the account that accepted it by the name its inviter typed (unless a member
holds that name), the practice names on a local chain only, else a short address; the whole
address one click away; and one query per page however many people it names.

Rendered by the pages' own route functions over a SQLite index filled here, without a chain."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from eth_utils import to_checksum_address
from sqlalchemy import event
from starlette.requests import Request

from backend.chain.deployments import Community
from backend.claims import service as claim_reads
from backend.indexer.db import make_engine, make_sessionmaker
from backend.indexer.models import Claim, Indicator, IndicatorVersion, Invitation, Member
from backend.web import joining_pages, pages, present
from backend.web.people import People

COMMUNITY = Community(slug="example", name="Example Commons", deployment_block=0, contracts={})
ALICE = present.dev_accounts()[0][1]  # a practice account: "Alice" on a local chain only
NOW = 1_900_000_000


def addr(n: int) -> str:
    return to_checksum_address(f"0x{n:040x}")


NAMED, PLAIN, INVITATION, SAM, TWIN_INVITATION, TWIN = (addr(n) for n in (0xA11, 0xB22, 0xC33, 0xD44, 0xE55, 0xF66))


@pytest.fixture
def index(tmp_path):
    sessions = make_sessionmaker(make_engine(f"sqlite:///{tmp_path / 'index.sqlite3'}"))
    statements: list[str] = []
    event.listen(sessions.kw["bind"], "before_cursor_execute", lambda *args: statements.append(args[2]))
    with sessions() as session:
        for address, name in ((NAMED, "Rosa Parks"), (PLAIN, None), (ALICE, None), (SAM, None), (TWIN, None)):
            session.add(Member(community="example", address=address, admitted_at=NOW - 100, votes=1, name=name))
        for address, name, account in ((INVITATION, "Sam", SAM), (TWIN_INVITATION, "rosa parks", TWIN)):
            session.add(
                Invitation(
                    community="example",
                    address=address,
                    inviter=NAMED,
                    name=name,
                    created_at=NOW - 50,
                    expires_at=NOW + 86_400,
                    account=account,
                    accepted_at=NOW - 10,
                    tx_hash="0x",
                )
            )
        session.commit()
    return SimpleNamespace(sessions=sessions, statements=statements)


def context(index, chain_id: int = 31337):
    return SimpleNamespace(
        sessions=index.sessions,
        gateway=SimpleNamespace(chain_id=chain_id),
        deployments=SimpleNamespace(communities={"example": COMMUNITY}),
        settings=SimpleNamespace(rpc_url="http://127.0.0.1:8545", uri_schemes=("https",)),
    )


def request(path: str) -> Request:
    return Request({"type": "http", "method": "GET", "path": path, "headers": [], "query_string": b""})


def test_a_member_by_their_own_name_an_invitation_as_invited_and_a_fallback_for_the_rest(index):
    people = People(context(index), COMMUNITY, local=True)
    assert people.label(NAMED) == "Rosa Parks"
    assert people.label(INVITATION) == "Sam (invited)"
    assert people.label(SAM) == "Sam"  # joined through the invitation, no name of their own yet
    assert people.invited_as(SAM) == "Sam"
    # A name the inviter typed that a member holds does not pass for that member.
    assert people.label(TWIN) == "rosa parks (invited)"
    assert people.label(ALICE) == "Alice"
    assert people.label(PLAIN) == f"{PLAIN[:6]}…{PLAIN[-4:]}"
    assert people.href(INVITATION) == f"/c/example/invitations/{INVITATION}"
    assert people.href(NAMED) == f"/c/example/members/{NAMED}"
    # The practice names exist only on a local chain.
    assert People(context(index, chain_id=1), COMMUNITY, local=False).label(ALICE) == f"{ALICE[:6]}…{ALICE[-4:]}"


def test_a_name_set_by_a_member_wins_over_the_practice_name(index):
    with index.sessions() as session:
        session.get(Member, ("example", ALICE)).name = "Alice Liddell"
        session.commit()
    assert People(context(index), COMMUNITY, local=True).label(ALICE) == "Alice Liddell"


def test_the_members_page_names_everyone_in_one_query_with_the_address_a_click_away(index):
    html = pages.members(context(index), COMMUNITY, request("/c/example/members")).body.decode()
    for name in ("Rosa Parks", "Alice", "Sam"):
        assert f">{name}</a>" in html
    # The whole address in the link's title and its profile link; never the main label.
    assert f'href="/c/example/members/{NAMED}" title="{NAMED}">Rosa Parks</a>' in html
    assert not re.search(r">0x[0-9a-fA-F]{40}<", html)
    names_queries = [s for s in index.statements if "invitations" in s and "members" in s and "UNION" in s]
    assert len(names_queries) == 1

    with index.sessions() as session:
        for n in range(40):
            session.add(Member(community="example", address=addr(0x1000 + n), admitted_at=NOW, votes=1, name=f"P{n}"))
        session.commit()
    index.statements.clear()
    more = pages.members(context(index), COMMUNITY, request("/c/example/members")).body.decode()
    assert ">P39</a>" in more
    assert len([s for s in index.statements if "UNION" in s]) == 1  # one query, not one per row


def _mentoring(session) -> None:
    session.add(Indicator(community="example", indicator_id=1, version=1, active=True, created_at=NOW))
    session.add(
        IndicatorVersion(
            community="example",
            indicator_id=1,
            version=1,
            name="Mentoring a newcomer",
            description_uri="",
            category="mentoring",
            orientation="community",
            weight=5,
            endorsements_required=2,
            validity=0,
            defined_at=NOW,
            tx_hash="0x",
        )
    )


def test_the_nominee_picker_offers_names_and_someone_who_has_not_joined(index):
    with index.sessions() as session:
        _mentoring(session)
        session.commit()
    html = pages.claim_form(context(index), COMMUNITY, request("/c/example/claim"), indicator=None).body.decode()
    assert "Rosa Parks (a nomination)" in html and "Sam (a nomination)" in html
    assert '<option value="invite">Someone who has not joined yet (an invitation)</option>' in html


def _claim(session, claim_id: int, contributor: str, state: str | None = "pending") -> None:
    session.add(
        Claim(
            community="example",
            claim_id=claim_id,
            contributor=contributor,
            submitter=NAMED,
            indicator_id=1,
            indicator_version=1,
            evidence_hash="0x",
            evidence_uri=f"https://forum.example.org/t/{claim_id}",
            nomination_state=state,
            created_at=NOW,
            tx_hash="0x",
        )
    )


def test_waiting_for_me_finds_the_credit_made_to_the_invitation_the_person_accepted(index):
    with index.sessions() as session:
        _mentoring(session)
        _claim(session, 1, INVITATION)  # credited before Sam joined: still names the invitation
        _claim(session, 2, SAM)  # nominated after
        _claim(session, 3, INVITATION, state="accepted")  # answered already
        _claim(session, 4, TWIN_INVITATION)  # someone else's invitation
        session.commit()
    ctx = context(index)
    found, total = claim_reads.awaiting_answer(ctx, COMMUNITY, nominee=SAM.lower(), limit=50, offset=0)
    assert ([c.id for c in found], total) == ([1, 2], 2)
    assert claim_reads.awaiting_answer(ctx, COMMUNITY, nominee=NAMED, limit=50, offset=0) == ([], 0)

    html = pages.awaiting(ctx, COMMUNITY, request("/c/example/awaiting"), member=SAM).body.decode()
    assert "Accept nomination #1" in html and "Accept nomination #2" in html
    assert "nominated by <a" in html and ">Rosa Parks</a>" in html


def test_the_invitation_page_names_the_inviter_and_the_credit_in_words(index):
    with index.sessions() as session:
        session.get(Invitation, ("example", INVITATION)).account = None  # not accepted yet
        _mentoring(session)
        _claim(session, 1, INVITATION)
        session.commit()
    html = joining_pages.invitation(
        context(index), COMMUNITY, INVITATION, request(f"/c/example/invitations/{INVITATION}")
    ).body.decode()
    text = re.sub(r"<[^>]+>", "", html)
    assert "Welcome, Sam" in text
    assert "Rosa Parks invited Sam to join Example Commons" in text
    assert "Rosa Parks credited you for Mentoring a newcomer." in text
    assert 'id="accept-invitation"' in html and 'name="robots" content="noindex"' in html
    assert 'id="passkey-join"' not in html  # the page's own button joins and accepts at once


def test_the_rules_of_admission_in_words():
    rules = SimpleNamespace(vouches_required=2, vouch_cap=3, vouch_period_days=30, invitation_lifetime_days=30)
    assert present.admission_rules(rules) == [
        "2 members' vouches admit a person; each member may vouch or invite 3 times per 30 days.",
        "An invitation stays open 30 days; once accepted, it counts as its inviter's vouch.",
    ]
    off = SimpleNamespace(vouches_required=0, vouch_cap=3, vouch_period_days=30, invitation_lifetime_days=7)
    assert present.admission_rules(off)[0].startswith("Vouching is off here")


def test_a_linked_account_links_to_its_site_escaped():
    assert str(present.linked_account("github", "alice-l")) == (
        'GitHub <a href="https://github.com/alice-l" rel="nofollow noopener noreferrer ugc">alice-l</a>'
    )
    odd = str(present.linked_account("gitlab", 'a"b<c>'))
    assert "<c>" not in odd and 'a"b' not in odd
    assert str(present.linked_account("discourse", "sam")) == "Discourse sam"
