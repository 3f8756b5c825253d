"""The whole story in a browser, as members would walk it: founders propose "Mentoring a
newcomer", vote and execute; a member nominates a peer and two others endorse it from their
"waiting for me" page; the nominee accepts there and the badge is minted; the profile shows the
badge and the chart; an organisation registered by vote is credited by the nomination and its page
shows the contributor; the holder disowns it; refusals (a self-endorsement, a disowning by someone
else, an expired request, a missing field) are shown on the page in words.

Every page visited is checked: no console error, no request to another host, no serious or
critical axe-core finding; each is screenshotted to var/test-output/screenshots/."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.browser.conftest import ALICE, BOB, CAROL, DANA, WALLET_JS, Visits, Wallet, address

EXPECT = 30_000  # ms: a write is prepared, signed, mined and indexed well within this


@pytest.fixture(scope="module")
def visits(stack):
    return Visits(stack.server.url)


@pytest.fixture(scope="module")
def wallet():
    return Wallet()


@pytest.fixture(scope="module")
def page(browser, stack, visits, wallet):
    context = browser.new_context(viewport={"width": 1000, "height": 900}, base_url=stack.server.url)
    context.expose_function("__testWallet", wallet.handle)
    context.add_init_script(script=WALLET_JS)
    page = context.new_page()
    visits.watch(page)
    yield page
    context.close()


def as_member(page, wallet: Wallet, key: str) -> None:
    """Select `key` in the wallet, and the browser wallet as the page's signer."""
    wallet.key = key
    page.evaluate("localStorage.setItem('cc-signer', 'wallet')")


def submit(page, form, expect_done: bool = True) -> None:
    form.locator("button[type=submit]").click()
    if expect_done:
        form.locator(".done a").wait_for(timeout=EXPECT)
    else:
        form.locator(".form-error:not([hidden]), .field-error:not([hidden])").first.wait_for(timeout=EXPECT)


def test_story(page, stack, visits, wallet):
    slug = "example"
    base = f"/c/{slug}"

    # The service's home redirects to the one community it serves.
    page.goto("/")
    assert page.url.endswith(base)
    assert page.get_by_role("heading", level=1).inner_text() == "Example Commons"
    visits.check(page, "01-home-empty")

    # Alice proposes the indicator, in the form's own words.
    as_member(page, wallet, ALICE)
    page.goto(f"{base}/propose")
    form = page.locator("form.write")
    page.select_option("#p-type", "add_indicator")
    page.fill("#add-name", "Mentoring a newcomer")
    page.fill("#add-weight", "5")
    page.fill("#add-endorsements", "2")
    page.select_option("#add-orientation", "community")
    page.fill("#add-category", "mentoring")
    page.fill("#add-earn-cap", "3")  # a fair-play cap, its period typed in days
    page.fill("#add-cap-period", "7")
    page.fill("#p-description", "Count the mentoring that never shows in commits")
    visits.check(page, "02-propose")
    submit(page, form)
    # The wallet was on mainnet: the page asked it to switch, then it signed a real ForwardRequest.
    assert ("wallet_switchEthereumChain", [{"chainId": "0x7a69"}]) in wallet.calls
    assert wallet.signed[-1]["primaryType"] == "ForwardRequest" and wallet.signed[-1]["domain"]["chainId"] == 31337
    # Each step of the write was shown as it happened.
    assert form.locator(".progress").get_attribute("data-state") == "visible"
    assert [step.split(":")[0] for step in form.locator(".progress li").all_inner_texts()] == [
        "Checking",
        "Waiting for your signature",
        "Sent",
        "Recorded on the chain",
        "Visible to everyone",
    ]
    form.locator(".done a").click()
    page.wait_for_url(re.compile(rf"{base}/proposals/\d+"))
    indicator_proposal = page.url

    # And a second proposal: admit Dana.
    page.goto(f"{base}/propose")
    page.select_option("#p-type", "admit_member")
    page.fill("#admit-account", address(DANA).lower())
    page.fill("#p-description", "Admit Dana, who runs our <b>translation sprints</b>")
    submit(page, page.locator("form.write"))
    admit_proposal = page.locator("form.write .done a").get_attribute("href")

    # And a third: register the organisation that sponsors the mentoring.
    page.goto(f"{base}/propose")
    page.select_option("#p-type", "add_organisation")
    page.fill("#org-name", "Example Foundation")
    page.fill("#org-identifier", "example.org")
    page.fill("#p-description", "Credit the mentoring the Example Foundation sponsors")
    visits.check(page, "02-propose-organisation")
    submit(page, page.locator("form.write"))
    organisation_proposal = page.locator("form.write .done a").get_attribute("href")

    # And a fourth: the community's fair-play rules, the window typed in days.
    page.goto(f"{base}/propose")
    page.select_option("#p-type", "set_community_rules")
    page.fill("#rules-window", "30")
    page.select_option("#rules-score", "square_root")
    page.fill("#p-description", "No returning favours for a month; repeated badges count less")
    submit(page, page.locator("form.write"))
    rules_proposal = page.locator("form.write .done a").get_attribute("href")

    # Voting opens after the one-second delay. Alice votes with the wallet, Bob with the
    # development signer (local chain only), each with a reason.
    stack.anvil.skip(2)
    for proposal, reason in (
        (indicator_proposal, "Mentors are why newcomers stay"),
        (admit_proposal, "<script>alert('a reason is text')</script>"),
        (organisation_proposal, "They pay for the sprints"),
        (rules_proposal, "Fair is fair"),
    ):
        page.goto(proposal)
        page.fill("#vote-reason", reason)
        submit(page, page.locator("form.write"))
    page.select_option("#signer-choice", f"dev:{address(BOB)}")
    page.get_by_role("button", name="Connect").click()
    page.get_by_text("Signing as Bob (development signer)").wait_for()
    for proposal in (indicator_proposal, admit_proposal, organisation_proposal, rules_proposal):
        page.goto(proposal)
        page.check("input[name=support][value=for]")
        page.fill("#vote-reason", "Yes")
        submit(page, page.locator("form.write"))
    page.goto(admit_proposal)
    main = page.inner_text("main")  # member text is escaped: shown as written, never markup or script
    assert "<script>alert('a reason is text')</script>" in main and "<b>translation sprints</b>" in main
    visits.check(page, "03-proposal-voting")

    # The vote ends. The service carries passed proposals out by itself (tests/browser/test_phone.py
    # waits for it), 30 s after; anyone may do it sooner, with no signature: here, at once.
    stack.anvil.skip(301)
    for proposal in (admit_proposal, indicator_proposal, organisation_proposal, rules_proposal):
        page.goto(proposal)
        assert "The service carries out passed proposals by itself, usually within a minute" in page.inner_text("main")
        submit(page, page.locator("form[data-action=execute]"))
    page.goto(indicator_proposal)
    text = page.inner_text("main")
    assert (
        "carried out" in page.locator(".state").first.inner_text()
        and "Carried out " in text
        and "add indicator Mentoring a newcomer: weight 5, 2 endorsements, community-oriented" in text
    )
    assert "at most 3 badges per member per 7 days" in text
    page.goto(rules_proposal)
    assert "set the fair-play rules to square root scores: no reciprocal endorsement within 30 days" in page.inner_text(
        "main"
    )
    page.goto(base)
    assert "Fair play: no returning the favour" in page.inner_text("main")
    visits.check(page, "proposal")

    # The indicator and its version history name the proposal that made it.
    page.goto(f"{base}/indicators/1")
    assert page.locator(f"a[href='{indicator_proposal.removeprefix(stack.server.url)}']").count() == 1
    assert "at most 3 badges per member per 7 days" in page.inner_text("main")
    visits.check(page, "04-indicator")

    # Carol nominates Bob; a missing evidence link is refused next to the field first.
    as_member(page, wallet, CAROL)
    page.goto(f"{base}/claim")
    form = page.locator("form.write")
    page.select_option("#c-contributor", address(BOB))
    visits.allow_refusals = True
    submit(page, form, expect_done=False)
    assert page.inner_text("#c-evidence-error") == "Evidence link: fill this in"
    assert page.get_attribute("#c-evidence", "aria-invalid") == "true"
    visits.allow_refusals = False
    page.fill("#c-evidence", "https://forum.example.org/t/first-patch-walkthrough/42")
    page.select_option("#c-organisation", label="Example Foundation (example.org)")
    submit(page, form)
    form.locator(".done a").click()
    page.wait_for_url(re.compile(rf"{base}/claims/\d+"))
    claim_url = page.url
    organisation_url = page.get_by_role("link", name="Example Foundation", exact=True).get_attribute("href")
    assert re.fullmatch(rf"{base}/organisations/\d+", organisation_url)
    assert "Fair play for Mentoring a newcomer: at most 3 badges per member per 7 days." in page.inner_text("main")
    visits.check(page, "05-claim")

    # Bob cannot endorse his own contribution: the page offers him no Endorse, and says why; a page
    # whose script had not hidden it yet is refused in words.
    as_member(page, wallet, BOB)
    page.reload()
    page.get_by_text("You were nominated for this, so others endorse it").wait_for()
    form = page.locator("form[data-action=attestations]")
    assert form.is_hidden()
    form.evaluate("f => { f.removeAttribute('data-hidden-for'); f.hidden = false; }")
    visits.allow_refusals = True
    submit(page, form, expect_done=False)
    refusal = page.inner_text("form.write .form-error")
    assert "Bob's own contribution, so others endorse it" in refusal, refusal
    assert "BadgeSelfAttestation" not in page.inner_text("main")  # only in the closed Details
    visits.check(page, "06-self-endorsement-refused")
    visits.allow_refusals = False

    # Alice and Dana endorse it from their "waiting for your endorsement" pages.
    for key in (ALICE, DANA):
        as_member(page, wallet, key)
        page.goto(f"{base}/awaiting")
        page.wait_for_url(re.compile(r"member=0x"))  # filled in with the connected member
        assert "first-patch-walkthrough" in page.inner_text("main")
        visits.check(page, f"07-awaiting-{(key == ALICE and 'alice') or 'dana'}")
        submit(page, page.locator("form.write").first)
    # Dana's endorsement was the second, but a nomination counts only once its nominee accepts it.
    page.goto(claim_url)
    assert "waiting: no badge until they accept" in page.inner_text("main")
    # Bob finds it on his "waiting for me" page and accepts: the badge is minted then.
    as_member(page, wallet, BOB)
    page.goto(f"{base}/awaiting")
    page.wait_for_url(re.compile(r"member=0x"))
    answers = page.locator("form[data-action=nomination-answers]")
    assert answers.count() == 2 and "first-patch-walkthrough" in page.inner_text("main")
    visits.check(page, "08-awaiting-answer")
    submit(page, answers.first)
    page.locator("form.write .done a").click()
    page.wait_for_url(re.compile(rf"{base}/badges/\d+"))
    badge_url = page.url
    badge = page.inner_text("main")
    assert "Mentoring a newcomer" in badge and "forum.example.org" in badge and "Counts now" in badge
    assert page.get_by_role("link", name="Example Foundation", exact=True).get_attribute("href") == organisation_url
    assert page.get_attribute("a.evidence", "href").startswith("https://forum.example.org/")
    visits.check(page, "08-badge")

    # Bob's profile: the badge, and his score as charts.
    page.goto(f"{base}/members/{address(BOB)}")
    assert "Mentoring a newcomer" in page.inner_text("main")
    chart = page.locator("svg.chart").first
    assert "mentoring: 5 points" in chart.locator("title").text_content()
    assert "Scores add up by the square root rule" in page.inner_text("main")
    visits.check(page, "profile")

    # The organisation the nomination credited: Bob contributed, for 5 points of mentoring.
    page.goto(organisation_url)
    assert "Bob" in page.inner_text("main table")
    assert "mentoring: 5 points" in page.locator("svg.chart").first.locator("title").text_content()
    visits.check(page, "08-organisation")

    # Carol cannot disown Bob's badge: no Disown for her, and why; refused in words if she tries. Bob
    # can, for good: it stays on record, shown as disowned.
    as_member(page, wallet, CAROL)
    page.goto(badge_url)
    page.get_by_text("Only Bob, who holds it, may disown this badge.").wait_for()
    form = page.locator("form[data-action=disownings]")
    assert form.is_hidden()
    form.evaluate("f => { f.removeAttribute('data-shown-for'); f.hidden = false; }")
    visits.allow_refusals = True
    submit(page, form, expect_done=False)
    assert "Only the holder disowns a badge: Carol does not hold badge" in page.inner_text("form.write .form-error")
    visits.allow_refusals = False
    as_member(page, wallet, BOB)
    page.goto(badge_url)
    submit(page, page.locator("form[data-action=disownings]"))
    page.reload()
    assert "Disowned by its holder" in page.inner_text("main")
    assert page.locator("form[data-action=disownings]").count() == 0
    visits.check(page, "08-badge-disowned")

    # An expired request: Dana's claim sits in her wallet past its deadline before she signs.
    as_member(page, wallet, DANA)
    wallet.before_sign = lambda: stack.anvil.skip(3601)
    page.goto(f"{base}/claim")
    page.fill("#c-evidence", "https://wiki.example.org/translation-sprint")
    visits.allow_refusals = True
    submit(page, page.locator("form.write"), expect_done=False)
    wallet.before_sign = None
    assert "expired" in page.inner_text("form.write .form-error").lower()
    visits.check(page, "09-expired-refused")
    visits.allow_refusals = False

    # The rest of the pages, checked as they stand at the end of the story.
    for path, name in (
        (base, "10-home"),
        (f"{base}/proposals", "11-proposals"),
        (f"{base}/indicators", "12-indicators"),
        (f"{base}/claims", "13-claims"),
        (f"{base}/members", "14-members"),
        (f"{base}/organisations", "14-organisations"),
        (f"{base}/propose", "14-propose"),
    ):
        page.goto(path)
        visits.check(page, name)
    # A page that is not there says so, as a page (Chromium logs the 404 itself).
    visits.allow_refusals = True
    assert page.goto("/c/nope").status == 404
    assert "No community 'nope' here" in page.inner_text("main")
    visits.check(page, "15-not-found")
    assert page.goto(f"{base}/organisations/99").status == 404
    assert "No organisation 99" in page.inner_text("main")

    assert not visits.problems, "\n".join(visits.problems)


def test_pages_carry_a_content_security_policy(stack):
    response = httpx.get(stack.server.url + "/c/example")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp and "unsafe-inline" not in csp
    assert "set-cookie" not in response.headers
    assert httpx.get(stack.server.url + "/c/example/badges/999").headers["content-security-policy"] == csp


def test_development_signer_signs_only_dev_keys_for_this_service(stack):
    from backend.client import CommunityClient

    api = CommunityClient(stack.server.url)
    typed = api.prepare("delegations", signer=address(CAROL), delegatee=address(CAROL))["typed_data"]
    signed = httpx.post(stack.server.url + "/dev-signer/sign", json={"address": address(CAROL), "typed_data": typed})
    assert signed.status_code == 200
    outsider = address("0x" + "11" * 32)
    refused = httpx.post(stack.server.url + "/dev-signer/sign", json={"address": outsider, "typed_data": typed})
    assert refused.status_code == 403 and "not one of the development signers" in refused.json()["detail"]
    as_form = httpx.post(stack.server.url + "/dev-signer/sign", data={"address": address(CAROL)})
    assert as_form.status_code == 400
