"""The web app on a 360 × 740 phone, in a mentor's words (issue 23).

Every page, as the community stands after a short story told through the API, is visited at 360 px
wide: no sideways scroll (`scrollWidth <= clientWidth`) after it loaded and after each refusal it
shows, tap targets of at least 44 px for the buttons and links of its forms and menus, and no
serious or critical axe-core finding. The header folds into a menu.

The story's refusals are shown in words, on the page and in the API's detail, and neither names a
contract's custom error (a regex over every error name of the deployed ABIs): a non-member
proposes; a self-endorsement; an expired request; a duplicate indicator; a cap reached; a missing
endorser badge. The error's name is only in a closed "Details" disclosure.

Pages offer only what the signer may do and say why not, and follow the signer as soon as it
changes; forms take durations in days, weeks, months or years; the badge page speaks no JSON; the
home page and the proposal page give the quorum as one figure; and a proposal that passed is
carried out by the service with no one pressing a button."""

from __future__ import annotations

import re
from types import SimpleNamespace
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from backend.client import ApiError, CommunityClient
from backend.settings import ANVIL_DEV_KEYS
from devstack.stack import local_stack
from tests.browser.conftest import ALICE, BOB, CAROL, DANA, WALLET_JS, Visits, Wallet, address
from tests.e2e.conftest import error_names_in

EXPECT = 30_000  # ms: a write is prepared, signed, recorded and visible well within this
OUTSIDER = ANVIL_DEV_KEYS[7]  # never a member
BASE = "/c/example"
PHONE = {"width": 360, "height": 740}
HUNDRED_YEARS = 100 * 365 * 86400  # one cap period for the whole test, whatever the chain's clock
MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """The service carries out passed proposals 2 s after it first sees them (30 s by default)."""
    settings = {"CC_AUTOEXEC_DELAY_SECONDS": "2", "CC_AUTOEXEC_POLL_SECONDS": "0.5"}
    with local_stack(tmp_path_factory.mktemp("phone"), settings=settings) as stack:
        yield stack


@pytest.fixture(scope="module")
def visits(stack):
    return Visits(stack.server.url)


@pytest.fixture(scope="module")
def wallet():
    return Wallet(chain_id=31337, key=OUTSIDER)


@pytest.fixture(scope="module")
def page(browser, stack, visits, wallet):
    context = browser.new_context(viewport=PHONE, base_url=stack.server.url)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.server.url)
    context.expose_function("__testWallet", wallet.handle)
    context.add_init_script(script=WALLET_JS)
    page = context.new_page()
    visits.watch(page)
    page.goto(BASE)  # the app's origin, whose localStorage says who signs
    yield page
    context.close()


@pytest.fixture(scope="module")
def error_names(stack) -> re.Pattern:
    """Every custom error of the deployed contracts' ABIs, as a regex over a page's words."""
    return error_names_in(stack.deployments)


@pytest.fixture(scope="module")
def api(stack):
    return CommunityClient(stack.server.url)


@pytest.fixture(scope="module")
def story(stack, api):
    """Two indicators (mentoring: one badge per member per period; code review: endorsed only by
    holders of a mentoring badge) and Dana admitted, by a vote nobody executes by hand."""
    mentoring = {
        "type": "add_indicator",
        "name": "Mentoring a newcomer",
        "category": "mentoring",
        "orientation": "community",
        "weight": 5,
        "endorsements_required": 2,
        "earn_cap": 1,
        "cap_period_seconds": HUNDRED_YEARS,
    }
    review = {
        "type": "add_indicator",
        "name": "Code review",
        "category": "code",
        "orientation": "object",
        "weight": 3,
        "endorsements_required": 1,
        "validity_seconds": 365 * 86400,
        "endorser_indicator_id": 1,
    }
    admit = {"type": "admit_member", "account": address(DANA)}
    created = api.act("proposals", ALICE, description="Count mentoring and code review", actions=[mentoring, review])
    admitted = api.act("proposals", ALICE, description="Admit Dana", actions=[admit])
    proposals = [created["created"]["proposal_id"], admitted["created"]["proposal_id"]]
    stack.anvil.skip(2)
    for proposal_id in proposals:
        for voter in (ALICE, BOB):
            api.act("votes", voter, proposal_id=proposal_id, support="for", reason="yes")
    stack.anvil.skip(301)
    return SimpleNamespace(proposal=proposals[0], admission=proposals[1])


def problem_of(call) -> dict:
    with pytest.raises(ApiError) as caught:
        call()
    return caught.value.problem


def fits(page, what: str) -> None:
    """No sideways scroll, and every visible button and link of a form or a menu at least 44 px tall."""
    width, client = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width <= client, f"{what} ({page.url}) scrolls sideways at {client} px: {width} px wide"
    small = page.evaluate("""() => [...document.querySelectorAll(
            'form button, form a, nav a, header button, main button, summary, .done a')]
        .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && r.height < 44; })
        .map(e => e.tagName + ' "' + e.textContent.trim().slice(0, 40) + '" '
                  + Math.round(e.getBoundingClientRect().height) + ' px')""")
    assert not small, f"{what} ({page.url}): tap targets under 44 px: {small}"


def in_words(page, error_names: re.Pattern, what: str) -> str:
    """The page's visible words name no contract error (the closed "Details" disclosure may)."""
    text = page.inner_text("main")
    found = error_names.search(text)
    assert not found, f"{what}: the page shows the error name {found.group(0)}: {text}"
    return text


def api_in_words(problem: dict, error_names: re.Pattern, error: str, what: str) -> None:
    assert problem.get("error") == error, (what, problem)
    found = error_names.search(problem["detail"])
    assert not found, f"{what}: the API's detail names {found.group(0)}: {problem['detail']}"


def sign_as(page, key: str) -> None:
    """The development signer `key`, chosen in the folded menu as a person on a phone would."""
    page.locator(".menu-toggle").click()
    page.select_option("#signer-choice", f"dev:{address(key)}")
    page.locator(".menu-toggle").click()


def use(page, key: str) -> None:
    """Sign as `key` from the next page on (set before a page loads)."""
    page.evaluate("key => localStorage.setItem('cc-signer', 'dev:' + key)", address(key))


def refused(page, form, visits, what: str) -> str:
    visits.allow_refusals = True
    form.locator("button[type=submit]").click()
    form.locator(".form-error:not([hidden]), .field-error:not([hidden])").first.wait_for(timeout=EXPECT)
    visits.allow_refusals = False
    return form.locator(".form-error:not([hidden]), .field-error:not([hidden])").first.inner_text()


def recorded(form) -> None:
    form.locator("button[type=submit]").click()
    form.locator(".done a").wait_for(timeout=EXPECT)


def test_a_passed_proposal_is_carried_out_without_a_click(page, story, stack, visits, api):
    page.goto(f"{BASE}/proposals/{story.proposal}")
    text = page.inner_text("main")
    if "carried out" not in page.locator(".state").first.inner_text():
        assert "The service carries out passed proposals by itself, usually within a minute" in text
    # Nobody presses anything: the page shows it carried out once the service did.
    for _ in range(60):
        if api.get(f"/proposals/{story.proposal}")["state"] == "executed":
            break
        page.wait_for_timeout(500)
    # The admission is the service's next: queued in the same moment, executed at its next look (the
    # chain's clock may not have reached the queue's block yet); waited for below.
    assert api.get(f"/proposals/{story.admission}")["state"] in ("succeeded", "queued", "executed")
    page.reload()
    text = page.inner_text("main")
    assert re.search(rf"Carried out \d+ ({MONTHS}) \d{{4}}, \d\d:\d\d UTC", text), text
    assert "carried out" in page.locator(".state").first.inner_text()
    visits.check(page, "phone-01-proposal-carried-out")
    fits(page, "a proposal carried out")
    # The quorum is one figure on the proposal page and the home page: members' votes.
    assert "at least 1 of 3 members vote for it or abstain" in text  # the founders, at its snapshot
    for _ in range(60):
        if api.get(f"/proposals/{story.admission}")["state"] == "executed":
            break
        page.wait_for_timeout(500)
    page.goto(BASE)
    home = page.inner_text("main")
    assert "at least 2 of 4 members vote for it or abstain (the quorum, 50% of members)" in home, home
    assert "Code review" in home and "counts for 1 year" in home


def test_the_header_folds_into_a_menu(page, story, visits):
    use(page, ALICE)
    page.goto(BASE)
    nav = page.get_by_role("navigation", name="Main")
    assert nav.is_hidden() and page.locator("#signer-choice").is_hidden()
    header = page.locator("header").bounding_box()
    assert header["height"] <= 120, header  # the bar alone: the community's name, the signer, the menu
    page.locator(".menu-toggle").click()
    assert nav.is_visible() and page.locator(".menu-toggle").get_attribute("aria-expanded") == "true"
    fits(page, "the menu open")
    visits.check(page, "phone-02-menu")
    page.locator(".menu-toggle").click()
    assert nav.is_hidden()


def test_every_page_fits_a_phone(page, story, stack, api, visits):
    # A nomination endorsed and accepted: a badge; an open claim; an invitation.
    nomination = api.act(
        "claims",
        CAROL,
        indicator_id=1,
        evidence_uri="https://forum.example.org/t/a-very-long-thread-title-about-mentoring-newcomers-on-a-phone",
        contributor=address(BOB),
    )["created"]["claim_id"]
    for key in (ALICE, DANA):
        api.act("attestations", key, claim_id=nomination)
    api.act("nomination-answers", BOB, claim_id=nomination, answer="accept")
    open_claim = api.act("claims", ALICE, indicator_id=2, evidence_uri="https://git.example.org/mr/7")["created"]
    prepared = api.prepare("invitations", signer=address(ALICE), name="Sam")
    api.post(
        "/invitations", {"typed_data": prepared["typed_data"], "signature": api.sign(ALICE, prepared["typed_data"])}
    )
    story.badge, story.claim = nomination, open_claim["claim_id"]

    use(page, ALICE)
    pages = [
        ("/", "home"),
        (f"{BASE}/indicators", "indicators"),
        (f"{BASE}/indicators/1", "indicator"),
        (f"{BASE}/proposals", "proposals"),
        (f"{BASE}/proposals/{story.proposal}", "proposal"),
        (f"{BASE}/propose", "propose"),
        (f"{BASE}/claim", "claim"),
        (f"{BASE}/claims", "claims"),
        (f"{BASE}/claims/{story.badge}", "claim-minted"),
        (f"{BASE}/claims/{story.claim}", "claim-open"),
        (f"{BASE}/awaiting", "awaiting"),
        (f"{BASE}/members", "members"),
        (f"{BASE}/members/{address(BOB)}", "profile"),
        (f"{BASE}/admission", "admission"),
        (f"{BASE}/hearing", "hearing"),
        (f"{BASE}/invitations/{prepared['invitation']}", "invitation"),
        (f"{BASE}/organisations", "organisations"),
        (f"{BASE}/report", "report"),
        (f"{BASE}/badges/{story.badge}", "badge"),
        (f"{BASE}/badges/{story.badge}/certificate", "certificate"),
    ]
    for path, name in pages:
        page.goto(path)
        page.wait_for_load_state("load")
        fits(page, name)
        visits.check(page, f"phone-03-{name}")
    visits.allow_refusals = True  # Chromium logs the 404 itself
    assert page.goto(f"{BASE}/badges/999").status == 404
    fits(page, "not found")
    visits.allow_refusals = False
    # The icon: linked from every page, and where browsers look for it by default.
    assert page.locator("link[rel=icon]").get_attribute("href") == "/static/favicon.svg"
    icon = httpx.get(stack.server.url + "/favicon.ico", follow_redirects=True)
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    # Long ids are shortened, whole in their title and one tap from the clipboard.
    page.goto(f"{BASE}/proposals/{story.proposal}")
    long_id = page.locator(".long", has=page.locator(f"code[title='{story.proposal}']"))
    assert long_id.locator("code").inner_text() == f"{story.proposal[:6]}…{story.proposal[-4:]}"
    long_id.get_by_role("button", name="Copy the proposal's id").click()
    assert page.evaluate("navigator.clipboard.readText()") == story.proposal
    assert not visits.problems, "\n".join(visits.problems)


def test_the_badge_page_speaks_no_json(page, story, visits):
    use(page, CAROL)
    page.goto(f"{BASE}/badges/{story.badge}")
    text = page.inner_text("main")
    for jargon in ("tokenURI", "data:application", "valid_for_seconds", "application/vc+jwt", "minted_at", "base64"):
        assert jargon not in text, jargon
    assert "counts for ever" in text and re.search(rf"\d+ ({MONTHS}) \d{{4}}", text)
    assert "Download the signed credential" in text
    # Carol does not hold it: no Disown, and why.
    assert page.locator("form[data-action=disownings]").is_hidden()
    assert page.get_by_text("Only Bob, who holds it, may disown this badge.").is_visible()
    sign_as(page, BOB)  # the page follows the signer at once
    page.locator("form[data-action=disownings]").wait_for()
    assert page.get_by_text("Only Bob, who holds it, may disown this badge.").is_hidden()


def test_a_badge_to_share(page, story, stack, visits):
    """A certificate to print (or save as a PDF), with a QR code to the badge's page, and LinkedIn's
    "Add to profile" link filled in."""
    page.goto(f"{BASE}/badges/{story.badge}")
    page.get_by_role("link", name="Its certificate").click()
    page.wait_for_url(f"**{BASE}/badges/{story.badge}/certificate")
    text = " ".join(page.inner_text("main").split())
    assert "This certifies that Bob made a contribution the community counts: Mentoring a newcomer" in text
    assert re.search(rf"Recognised on \d+ ({MONTHS}) \d{{4}}, when 2 fellow members endorsed it: Alice, Dana", text)
    badge_page = f"{stack.server.url}{BASE}/badges/{story.badge}"
    assert page.locator("svg.qr[role=img] title").text_content().endswith(badge_page)
    assert page.locator(".certificate a", has_text=badge_page).get_attribute("href") == badge_page
    linkedin = urlsplit(page.get_by_role("link", name="Add to LinkedIn").get_attribute("href"))
    assert (linkedin.netloc, linkedin.path) == ("www.linkedin.com", "/profile/add")
    fields = dict(parse_qsl(linkedin.query))
    assert fields["startTask"] == "CERTIFICATION_NAME" and fields["name"] == "Mentoring a newcomer"
    assert fields["organizationName"] == "Example Commons" and fields["certUrl"] == badge_page
    assert fields["certId"] == f"example-{story.badge}" and "expirationYear" not in fields  # it counts for ever
    fits(page, "a certificate")
    visits.check(page, "phone-07-certificate")
    # On paper: the certificate alone.
    page.emulate_media(media="print")
    try:
        assert page.locator("header").is_hidden() and page.get_by_role("button", name="Print it").is_hidden()
        assert page.locator(".certificate").is_visible()
    finally:
        page.emulate_media(media="screen")


def test_actions_follow_the_signer(page, story, stack, api, visits):
    # The claim form: the member signing is not offered as their own nominee.
    use(page, ALICE)
    page.goto(f"{BASE}/claim")

    def offered() -> list[str]:
        return page.eval_on_selector_all(
            "#c-contributor option", "os => os.filter(o => !o.hidden && o.value).map(o => o.value)"
        )

    alice_offered = f"!document.querySelector('#c-contributor option[value=\"{address(ALICE)}\"]').hidden"
    page.wait_for_function(f"!({alice_offered})")
    values = offered()
    assert address(ALICE) not in values and address(BOB) in values
    sign_as(page, BOB)
    page.wait_for_function(alice_offered)
    values = offered()
    assert address(BOB) not in values and address(ALICE) in values

    # An open claim: its contributor is told why there is no Endorse; an endorser, after endorsing.
    use(page, ALICE)
    page.goto(f"{BASE}/claims/{story.claim}")
    assert page.get_by_text("You made this claim, so others endorse it.").is_visible()
    assert page.locator("form[data-action=attestations]").is_hidden()
    sign_as(page, BOB)  # Bob holds a mentoring badge: he may endorse a code review
    form = page.locator("form[data-action=attestations]")
    form.wait_for()
    recorded(form)
    assert page.locator("form[data-action=attestations] button[type=submit]").is_hidden()  # folded once done
    page.reload()
    assert page.get_by_text("You endorsed this claim already").is_visible() or "badge minted" in page.inner_text("main")

    # The vote form is gone once one has voted, and says so.
    proposal = api.act(
        "proposals",
        ALICE,
        description="Register the sponsor",
        actions=[{"type": "add_organisation", "name": "Example Foundation", "identifier": "example.org"}],
    )["created"]["proposal_id"]
    stack.anvil.skip(2)
    use(page, DANA)
    page.goto(f"{BASE}/proposals/{proposal}")
    vote = page.locator("form[data-action=votes]")
    vote.wait_for()
    recorded(vote)
    assert page.locator("#vote-reason").is_hidden()
    page.reload()
    assert vote.is_hidden() and page.get_by_text(re.compile(r"You voted for \d+ ")).is_visible()

    # "Waiting for me" follows a change of signer without a reload.
    use(page, ALICE)
    page.goto(f"{BASE}/awaiting")
    page.wait_for_url(re.compile(r"member=" + address(ALICE)))
    page.evaluate("window.__stayed = true")
    sign_as(page, DANA)
    page.wait_for_url(re.compile(r"member=" + address(DANA)))
    assert page.evaluate("window.__stayed === true"), "the page was reloaded"
    assert "Peers nominated Dana" in page.inner_text("main")
    fits(page, "waiting for Dana")
    assert not visits.problems, "\n".join(visits.problems)


def test_durations_in_units_people_use(page, story, api, visits):
    use(page, ALICE)
    page.goto(f"{BASE}/propose")
    page.select_option("#p-type", "add_indicator")
    page.fill("#add-name", "Translating a guide")
    page.fill("#add-weight", "2")
    page.fill("#add-endorsements", "1")
    page.fill("#add-validity", "1 year")
    page.fill("#p-description", "Translations count for a year")
    form = page.locator("form.write")
    refusal = refused(page, form, visits, "a year typed as words")
    assert refusal == "How long a badge counts: type a number of days"
    fits(page, "a field refused")
    page.fill("#add-validity", "1")
    page.select_option("#add-validity-unit", label="years")
    recorded(form)
    form.locator(".done a").click()
    page.wait_for_url(re.compile(rf"{BASE}/proposals/\d+"))
    assert "add indicator Translating a guide: weight 2, 1 endorsement, community-oriented, counts for 1 year" in (
        page.inner_text("main")
    )
    # The voting settings: spans in minutes to weeks, the quorum as members.
    page.goto(f"{BASE}/propose")
    page.select_option("#p-type", "change_settings")
    assert "Now 5 minutes" in page.inner_text("#settings-period-hint")
    page.fill("#settings-quorum", "75")
    assert page.inner_text("#settings-quorum-words") == "With 4 members now, that is 3 of 4."
    assert [o.inner_text() for o in page.locator("#settings-period-unit option").all()] == [
        "minutes",
        "hours",
        "days",
        "weeks",
    ]
    fits(page, "the voting settings")


def test_refusals_in_words(page, story, stack, api, wallet, visits, error_names):
    """The story's refusals: in a sentence on the page and in the API's detail, no error's name in
    either; the page still fits the phone with the refusal shown."""
    # A non-member proposes (a wallet whose account is no member).
    page.evaluate("localStorage.setItem('cc-signer', 'wallet')")
    wallet.key = OUTSIDER
    page.goto(f"{BASE}/propose")
    page.select_option("#p-type", "admit_member")
    page.fill("#admit-account", address(OUTSIDER))
    page.fill("#p-description", "Let me in")
    form = page.locator("form.write")
    text = refused(page, form, visits, "a non-member proposes")
    assert text.startswith("Only members make proposals and vote"), text
    assert form.locator(".problem-details summary").inner_text() == "Details"
    assert not form.locator(".problem-details").get_attribute("open")
    in_words(page, error_names, "a non-member proposes")
    fits(page, "a non-member's proposal refused")
    visits.check(page, "phone-04-refused-not-a-member")
    api_in_words(
        problem_of(
            lambda: api.prepare(
                "proposals",
                signer=address(OUTSIDER),
                description="x",
                actions=[{"type": "admit_member", "account": address(OUTSIDER)}],
            )
        ),
        error_names,
        "GovernorNotMember",
        "a non-member proposes",
    )

    # A duplicate indicator: said at once in the form, and refused at prepare.
    use(page, ALICE)
    page.goto(f"{BASE}/propose")
    page.fill("#add-name", "  mentoring A newcomer ")
    error = page.locator("#add-name-error")
    assert error.is_visible() and "already called “Mentoring a newcomer”" in error.inner_text()
    in_words(page, error_names, "a duplicate indicator")
    fits(page, "a duplicate indicator")
    duplicate = {
        "type": "add_indicator",
        "name": "MENTORING A NEWCOMER",
        "orientation": "community",
        "weight": 1,
        "endorsements_required": 1,
    }
    problem = problem_of(lambda: api.prepare("proposals", signer=address(ALICE), description="x", actions=[duplicate]))
    api_in_words(problem, error_names, "IndicatorNameTaken", "a duplicate indicator")
    assert problem["status"] == 409

    # A self-endorsement, from a page whose script had not yet hidden its form (it hides it for the
    # claim's contributor, saying why).
    mine = api.act("claims", ALICE, indicator_id=1, evidence_uri="https://forum.example.org/t/mine")["created"]
    use(page, ALICE)
    page.goto(f"{BASE}/claims/{mine['claim_id']}")
    assert page.get_by_text("You made this claim, so others endorse it.").is_visible()
    form = page.locator("form[data-action=attestations]")
    form.evaluate("f => { f.removeAttribute('data-hidden-for'); f.hidden = false; }")
    text = refused(page, form, visits, "a self-endorsement")
    assert "Alice's own contribution, so others endorse it" in text and "0x" not in text, text
    in_words(page, error_names, "a self-endorsement")
    fits(page, "a self-endorsement refused")
    visits.check(page, "phone-05-refused-self-endorsement")
    api_in_words(
        problem_of(lambda: api.prepare("attestations", signer=address(ALICE), claim_id=mine["claim_id"])),
        error_names,
        "BadgeSelfAttestation",
        "a self-endorsement",
    )

    # A missing endorser badge: Carol holds no mentoring badge, so she may not endorse a code review.
    other = api.act("claims", DANA, indicator_id=2, evidence_uri="https://git.example.org/mr/8")["created"]["claim_id"]
    use(page, CAROL)
    page.goto(f"{BASE}/claims/{other}")
    text = refused(page, page.locator("form[data-action=attestations]"), visits, "a missing endorser badge")
    assert "Only holders of a counting badge of indicator 1 may attest" in text and "Carol" in text, text
    in_words(page, error_names, "a missing endorser badge")
    fits(page, "a missing endorser badge")
    api_in_words(
        problem_of(lambda: api.prepare("attestations", signer=address(CAROL), claim_id=other)),
        error_names,
        "BadgeEndorserNotQualified",
        "a missing endorser badge",
    )

    # A cap reached: Bob earned the one mentoring badge a member may earn per period, so a second
    # nomination of him is refused.
    use(page, CAROL)
    page.goto(f"{BASE}/claim")
    page.select_option("#c-indicator", "1")
    page.select_option("#c-contributor", address(BOB))
    page.fill("#c-evidence", "https://forum.example.org/t/again")
    text = refused(page, page.locator("form.write"), visits, "a cap reached")
    assert "Bob already earned as many badges of indicator 1" in text and "0x" not in text, text
    in_words(page, error_names, "a cap reached")
    fits(page, "a cap reached")
    visits.check(page, "phone-06-refused-cap")
    again = {"indicator_id": 1, "evidence_uri": "https://forum.example.org/t/again", "contributor": address(BOB)}
    api_in_words(
        problem_of(lambda: api.prepare("claims", signer=address(CAROL), **again)),
        error_names,
        "BadgeEarnCapReached",
        "a cap reached",
    )

    # An expired request: the claim sits in the wallet past its deadline before it is signed.
    page.evaluate("localStorage.setItem('cc-signer', 'wallet')")
    wallet.key = DANA
    wallet.before_sign = lambda: stack.anvil.skip(3601)
    page.goto(f"{BASE}/claim")
    page.fill("#c-evidence", "https://wiki.example.org/translation-sprint")
    try:
        text = refused(page, page.locator("form.write"), visits, "an expired request")
    finally:
        wallet.before_sign = None
    assert "expired on" in text and re.search(rf"\d+ ({MONTHS})|\d{{4}}-\d\d-\d\d", text), text
    in_words(page, error_names, "an expired request")
    fits(page, "an expired request")
    typed = api.prepare("claims", signer=address(DANA), indicator_id=2, evidence_uri="https://x.example/late")
    signature = api.sign(DANA, typed["typed_data"])
    stack.anvil.skip(3601)
    late = httpx.post(
        stack.server.url + "/communities/example/claims",
        json={"typed_data": typed["typed_data"], "signature": signature},
    )
    api_in_words(late.json(), error_names, "ERC2771ForwarderExpiredRequest", "an expired request")
    assert not visits.problems, "\n".join(visits.problems)


def test_the_guardian_is_chosen_by_name(page, story, api, visits):
    """Electing a guardian on a phone: the members by name (no hex to type), another address for a
    shared wallet refused in a sentence when it is not one, with nothing sent, and removing the
    guardian in words."""
    use(page, ALICE)
    page.goto(f"{BASE}/propose")
    page.select_option("#p-type", "set_guardian")
    names = page.eval_on_selector_all("#guardian-account option", "os => os.map(o => o.textContent.trim())")
    assert {"Alice", "Bob", "Carol"} <= set(names) and not [n for n in names if "0x" in n], names
    assert page.locator("#guardian-other").is_hidden()
    fits(page, "the guardian picker")
    visits.check(page, "phone-08-guardian")
    form = page.locator("form.write")
    page.fill("#p-description", "Carol guards, so that a hostile proposal can be stopped")
    before = api.get("/proposals")["total"]
    assert refused(page, form, visits, "no guardian picked") == "Who should be the guardian: choose someone in the list"

    # Another address that is not one: said in a sentence before anyone signs; nothing is sent.
    page.select_option("#guardian-account", label="Another address (a Safe)")
    assert page.locator("#guardian-other").is_visible()
    page.fill("#guardian-other", "Carol's Safe")
    assert refused(page, form, visits, "another address that is not one") == (
        "The shared wallet's address: “Carol's Safe” is not an address. An address is 0x and 40 hex digits, as the "
        "wallet shows it; to choose a member, pick their name in the list above"
    )
    fits(page, "another address refused")
    visits.check(page, "phone-09-guardian-refused")
    assert api.get("/proposals")["total"] == before

    # Carol, by name: the proposal elects her address.
    page.select_option("#guardian-account", label="Carol")
    assert page.locator("#guardian-other").is_hidden()
    recorded(form)
    form.locator(".done a").click()
    page.wait_for_url(re.compile(rf"{BASE}/proposals/\d+"))
    assert f"elect as guardian Carol ({address(CAROL)})" in page.inner_text("main")
    elected = api.get(f"/proposals/{page.url.rsplit('/', 1)[1]}")["actions"]
    assert [list(a["args"].values()) for a in elected] == [[address(CAROL)]]

    # No guardian, in words: the proposal removes the guardian.
    page.goto(f"{BASE}/propose")
    page.select_option("#p-type", "set_guardian")
    page.select_option("#guardian-account", label="No guardian")
    page.fill("#p-description", "No guardian after all")
    recorded(form)
    form.locator(".done a").click()
    page.wait_for_url(re.compile(rf"{BASE}/proposals/\d+"))
    assert "remove the guardian: nobody may cancel a passed proposal any more" in page.inner_text("main")
    assert not visits.problems, "\n".join(visits.problems)


def test_a_member_is_removed_or_recovered_by_name(page, story, api, visits):
    """Removing a member and recovering a lost key on a phone: the members by name (no hex to
    type), nothing picked refused in a sentence, a recovered member's new address that is not one
    refused in a sentence (what it should be, where to get it) with nothing sent, and each
    proposal naming the member picked."""
    use(page, ALICE)
    page.goto(f"{BASE}/propose")
    form = page.locator("form.write")
    page.select_option("#p-type", "remove_member")
    names = page.eval_on_selector_all("#remove-account option", "os => os.map(o => o.textContent.trim())")
    assert {"Alice", "Bob", "Carol"} <= set(names) and not [n for n in names if "0x" in n], names
    assert page.locator("#remove-other").is_hidden()
    fits(page, "the member to remove")
    page.fill("#p-description", "Bob moved on")
    before = api.get("/proposals")["total"]
    assert refused(page, form, visits, "no member picked") == "Who should be removed: choose someone in the list"
    assert api.get("/proposals")["total"] == before
    page.select_option("#remove-account", label="Bob")
    recorded(form)
    form.locator(".done a").click()
    page.wait_for_url(re.compile(rf"{BASE}/proposals/\d+"))
    assert f"remove member Bob ({address(BOB)})" in page.inner_text("main")

    page.goto(f"{BASE}/propose")
    page.select_option("#p-type", "recover_member")
    names = page.eval_on_selector_all("#recover-lost option", "os => os.map(o => o.textContent.trim())")
    assert {"Alice", "Bob", "Carol"} <= set(names) and not [n for n in names if "0x" in n], names
    page.select_option("#recover-lost", label="Carol")
    page.fill("#recover-replacement", "Carol's new phone")
    page.fill("#p-description", "Carol lost her phone")
    before = api.get("/proposals")["total"]
    assert refused(page, form, visits, "a new address that is not one") == (
        "Their new address: “Carol's new phone” is not an address. An address is 0x and 40 hex digits, as the "
        "wallet shows it: ask for it again, copied from the wallet, and paste it here"
    )
    fits(page, "a new address refused")
    visits.check(page, "phone-10-recovery-refused")
    assert api.get("/proposals")["total"] == before
    page.fill("#recover-replacement", address(OUTSIDER))
    recorded(form)
    form.locator(".done a").click()
    page.wait_for_url(re.compile(rf"{BASE}/proposals/\d+"))
    assert "recover the membership of Carol" in page.inner_text("main")
    recovered = api.get(f"/proposals/{page.url.rsplit('/', 1)[1]}")["actions"]
    assert [list(a["args"].values()) for a in recovered] == [[address(CAROL), address(OUTSIDER)]]
    assert not visits.problems, "\n".join(visits.problems)
