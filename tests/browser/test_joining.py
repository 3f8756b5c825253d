"""Everyone can join (issue 22), the story in a browser: Alice, a founder signing with the
development signer, names herself, then credits Sam, who has never joined, for mentoring: the page
invites Sam and nominates the invitation (two signatures) and hands her a link to pass on. Sam, with
no wallet, opens it in a fresh browser on a 360-pixel-wide phone screen, reads who invited them and
the credit waiting, and joins with a passkey, which accepts the invitation (Alice's vouch); Bob, a
second founder, vouches from "Invite and vouch", which admits Sam. Sam says yes to the credit on
"Waiting for me", Bob and Carol endorse it, and Sam finds the badge under their name on their
profile, sets their name and a linked account, and downloads the credentials. Alice withdraws an
invitation she sent to the wrong person; another expires; each link then says so in a sentence.

Pages name people, never by hex; the invitation page and the profile fit 360 pixels without
scrolling sideways; the invitation's secret travels in the link's fragment only, so it never
reaches the service (its log is searched for it). Every page visited is checked as in the story
test: no console error, no request to another host, no serious axe-core finding."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest

from backend.client import CommunityClient
from tests.browser.conftest import ALICE, BOB, CAROL, Visits, address, passkey_tab
from tests.e2e.conftest import pass_proposal

EXPECT = 30_000  # ms: a write is prepared, signed, mined and indexed well within this
BASE = "/c/example"
EVIDENCE = "https://forum.example.org/t/welcome-sam/42"
HEX_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
LINK = re.compile(r"^(http://localhost:\d+/c/example/invitations/(0x[0-9a-fA-F]{40}))#(0x[0-9a-fA-F]+)$")


@pytest.fixture(scope="module")
def origin(stack) -> str:
    return stack.server.url.replace("127.0.0.1", "localhost")


@pytest.fixture(scope="module")
def visits(origin):
    return Visits(origin)


@pytest.fixture(scope="module")
def community(stack):
    """The example community (2 vouches admit a person) with an indicator to credit, by a vote."""
    api = CommunityClient(stack.server.url)
    mentoring = {
        "type": "add_indicator",
        "name": "Mentoring a newcomer",
        "category": "mentoring",
        "orientation": "community",
        "weight": 5,
        "endorsements_required": 2,
    }
    pass_proposal(SimpleNamespace(api=api, anvil=stack.anvil), ALICE, "Mentoring counts", [mentoring])
    return SimpleNamespace(api=api)


@pytest.fixture(scope="module")
def founders(browser, origin, visits):
    """The founders' tab: no wallet, the development signer (local chain only)."""
    context = browser.new_context(viewport={"width": 1000, "height": 900}, base_url=origin)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=origin)
    page = context.new_page()
    visits.watch(page)
    yield page
    context.close()


@pytest.fixture(scope="module")
def sam(browser, origin, visits):
    """Sam's phone: a fresh browser, no wallet, a passkey authenticator, 360 pixels wide."""
    tab = passkey_tab(browser, origin, visits, width=360, height=780)
    yield tab
    tab.context.close()


def sign_as(page, key: str, name: str) -> None:
    page.select_option("#signer-choice", f"dev:{address(key)}")
    page.get_by_role("button", name="Connect").click()
    page.get_by_text(f"Signing as {name} (development signer)").wait_for()


def submit(form, expect_done: bool = True) -> None:
    form.locator("button[type=submit]").click()
    if expect_done:
        form.locator(".done a").wait_for(timeout=EXPECT)
    else:
        form.locator(".form-error:not([hidden]), .field-error:not([hidden])").first.wait_for(timeout=EXPECT)


def no_sideways_scroll(page) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1], f"{page.url} scrolls sideways at {width[1]} px: {width[0]} px wide"


def main_text(page) -> str:
    return page.inner_text("main")


def link_of(form) -> str:
    box = form.locator(".invitation-link")
    box.wait_for(timeout=EXPECT)
    return box.locator("input").input_value()


def test_a_newcomer_is_credited_invited_vouched_in_and_earns_the_badge(community, founders, sam, stack, visits, origin):
    api = community.api
    page = founders

    # Alice names herself on her profile: the "Your name" form shows for her alone.
    page.goto(f"{BASE}/members/{address(ALICE)}")
    assert page.locator("form[data-action=names]").is_hidden()
    sign_as(page, ALICE, "Alice")
    form = page.locator("form[data-action=names]")
    form.wait_for()
    page.fill("#n-name", "Alice Liddell")
    submit(form)
    page.reload()
    assert page.get_by_role("heading", level=1).inner_text() == "Alice Liddell"

    # She credits Sam, who has not joined: the page invites Sam, then nominates the invitation.
    page.goto(f"{BASE}/claim")
    form = page.locator("form.write")
    assert page.locator("#c-invitee").is_hidden()
    page.fill("#c-evidence", EVIDENCE)
    page.select_option("#c-contributor", "invite")
    assert page.locator("#c-nominee").is_hidden()
    visits.allow_refusals = True  # their name is needed
    submit(form, expect_done=False)
    assert "Their name is needed" in page.inner_text("#c-invitee-error")
    visits.allow_refusals = False
    page.fill("#c-invitee", "Sam")
    visits.check(page, "joining-01-credit-someone-new")
    submit(form)
    assert form.locator(".phase").inner_text() == "Step 2 of 2: crediting Sam"
    link = link_of(form)
    match = LINK.match(link)
    assert match and match.group(1).startswith(origin), link
    _, invitation, secret = match.groups()
    assert len(secret) == 66
    assert "Pass this link on to Sam by email or chat" in form.locator(".invitation-link").inner_text()
    form.get_by_role("button", name="Copy the link").click()
    form.get_by_text("Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == link
    visits.check(page, "joining-02-link-to-pass-on")
    form.locator(".done a").click()
    page.wait_for_url(re.compile(rf"{BASE}/claims/\d+"))
    claim_url = page.url
    assert "Contributor\nSam (invited)" in main_text(page) or "Sam (invited)" in main_text(page)
    assert api.get(f"/invitations/{invitation}")["inviter"] == address(ALICE)

    # Sam opens the link on their phone: who invited them, the credit waiting, one button.
    tab = sam.page
    tab.goto(link)
    text = main_text(tab)
    assert "Welcome, Sam" in text
    assert "Alice Liddell invited Sam to join Example Commons" in text
    assert "Alice Liddell credited you for Mentoring a newcomer." in text
    assert not HEX_ADDRESS.search(text), text
    assert tab.evaluate("typeof window.ethereum") == "undefined"
    no_sideways_scroll(tab)
    visits.check(tab, "joining-03-invitation-360px")
    tab.get_by_role("button", name="Join with a passkey").click()
    # The passkey made, the invitation accepted as its account: Alice's vouch counts, one more needed.
    tab.locator("main strong", has_text="more vouch").wait_for(timeout=EXPECT)
    text = main_text(tab)
    assert "1 of the 2 vouches" in text and "1 more vouch" in text and "Alice Liddell's vouch counts" in text
    assert "#" not in tab.url  # the secret left the address bar once used
    account = api.get(f"/invitations/{invitation}")["account"]
    assert account and tab.evaluate("JSON.parse(localStorage.getItem('cc-passkeys')).example.address") == account
    no_sideways_scroll(tab)
    visits.check(tab, "joining-04-waiting-for-a-vouch")

    # Bob vouches from "Invite and vouch": Sam is there by name, 1 of 2 vouches, from Alice.
    sign_as(page, BOB, "Bob")
    page.goto(f"{BASE}/admission")
    rules = main_text(page)
    assert "2 members' vouches admit a person; each member may vouch or invite 3 times per 30 days." in rules
    card = page.locator(".cards > li", has_text="Sam")
    assert "1 of 2 vouches, from Alice Liddell" in card.inner_text()
    visits.check(page, "joining-05-admission")
    submit(card.locator("form[data-action=vouches]"))
    assert api.get(f"/members/{account}")["active"]

    # Sam is a member; the credit waits on "Waiting for me", where Sam says yes with the passkey.
    tab.reload()
    assert "You are a member of Example Commons." in main_text(tab)
    tab.get_by_role("link", name="See what is waiting for you").click()
    tab.wait_for_url(re.compile(r"awaiting\?member=0x"))
    text = main_text(tab)
    assert "Mentoring a newcomer, nominated by Alice Liddell" in text and "welcome-sam" in text
    visits.check(tab, "joining-06-waiting-for-sam")
    claim_id = claim_url.rsplit("/", 1)[1]
    submit(tab.locator("form[data-action=nomination-answers]", has_text=f"Accept nomination #{claim_id}"))
    assert api.get(f"/claims/{claim_id}")["contributor"] == account

    # Two peers endorse it; the badge is minted to Sam.
    for key, name in ((BOB, "Bob"), (CAROL, "Carol")):
        sign_as(page, key, name)
        page.goto(claim_url)
        submit(page.locator("form[data-action=attestations]"))
    page.goto(claim_url)
    text = main_text(page)
    assert "Contributor\nSam" in text and "Endorsements\n2 of 2: Bob, Carol" in text, text
    assert api.get(f"/badges/{claim_id}")["owner"] == account

    # Sam's profile: the badge under their name; Sam keeps the name and links a GitHub account.
    tab.goto(f"{BASE}/members/{account}")
    assert tab.get_by_role("heading", level=1).inner_text() == "Sam"
    assert "Mentoring a newcomer #" in tab.inner_text(".badge-list")
    form = tab.locator("form[data-action=names]")
    form.wait_for()
    assert tab.input_value("#n-name") == "Sam"
    submit(form)
    form = tab.locator("form[data-action=linked-accounts]")
    tab.fill("#l-handle", "sam-mentors")
    submit(form)
    tab.reload()
    assert api.get(f"/members/{account}")["name"] == "Sam"
    text = main_text(tab)
    assert "Elsewhere: GitHub sam-mentors" in text
    assert tab.get_by_role("link", name="sam-mentors").get_attribute("href") == "https://github.com/sam-mentors"
    no_sideways_scroll(tab)
    visits.check(tab, "joining-07-profile-360px")
    with tab.expect_download() as download:
        tab.get_by_role("link", name="Download credentials").click()
    credentials = json.loads(download.value.path().read_text())
    [credential] = credentials["items"]
    assert credential["token_id"] == int(claim_id) and credentials["holder"].endswith(account)

    # Everywhere else, Sam is Sam: the claims page, the badge, the members list.
    page.goto(f"{BASE}/badges/{claim_id}")
    assert "Holder\nSam" in main_text(page)
    page.goto(f"{BASE}/members")
    assert page.get_by_role("link", name="Sam", exact=True).get_attribute("title") == account

    # The secret never reached the service: it travels in the link's fragment only.
    assert secret[2:].lower() not in (stack.server.log.read_text().lower())
    assert not visits.problems, "\n".join(visits.problems)


def test_an_invitation_withdrawn_or_expired_says_so_in_a_sentence(community, founders, sam, stack, visits):
    page = founders
    sign_as(page, ALICE, "Alice")
    links = {}
    for name in ("Kim", "Lee"):
        page.goto(f"{BASE}/admission")
        form = page.locator("form[data-action=invitations]")
        page.fill("#i-name", name)
        submit(form)
        links[name] = link_of(form)

    # Alice's own invitations, on her profile, with Withdraw for the open ones (hers alone).
    page.goto(f"{BASE}/members/{address(ALICE)}#invitations")
    kim = page.locator("#invitations + p + ul > li", has_text="Kim")
    assert "open until" in kim.inner_text()
    visits.check(page, "joining-08-invitations")
    submit(kim.locator("form"))
    page.reload()
    assert "Kim: withdrawn" in page.inner_text("#invitations + p + ul")

    tab = sam.page
    tab.goto(links["Kim"])
    assert "Alice Liddell withdrew this invitation: its link no longer works." in main_text(tab)
    assert tab.locator("#accept-invitation").count() == 0
    no_sideways_scroll(tab)

    stack.anvil.skip(31 * 86_400)
    tab.goto(links["Lee"])
    for _ in range(50):  # the index reads the new block's time
        if "expired" in main_text(tab):
            break
        tab.wait_for_timeout(200)
        tab.reload()
    assert "This invitation expired on" in main_text(tab) and "Ask Alice Liddell" in main_text(tab)
    visits.check(tab, "joining-09-expired")

    # A link cut short (its secret lost) says what is missing.
    page.goto(f"{BASE}/admission")
    form = page.locator("form[data-action=invitations]")
    page.fill("#i-name", "Max")
    submit(form)
    cut = link_of(form).split("#")[0]
    tab.goto(cut)
    assert "missing its secret" in tab.inner_text("#accept-invitation .form-error")
    assert tab.get_by_role("button", name="Accept with my passkey").is_disabled()
    assert not visits.problems, "\n".join(visits.problems)
