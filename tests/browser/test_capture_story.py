"""Capture in the browser: a pull request merged on GitHub (a recorded payload, signed as GitHub signs
it, sent to the running service) shows on its author's "Waiting for me" page with its link filled in,
and one click, one signature, makes it a claim on chain; another captured pull request is dismissed
by a signed request from the same page (drafts.js). The page is checked like every other: no console
error, no request elsewhere, no serious axe-core finding; screenshots in var/test-output/screenshots/.

A chain and service of its own, whose settings hold the test's GitHub secret; the community's
indicator and capture rules are set through the API (the story test walks proposals in the page)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from backend.client import CommunityClient
from devstack.stack import local_stack
from tests.browser.conftest import ALICE, CAROL, WALLET_JS, Visits, Wallet, address
from tests.e2e.conftest import pass_proposal

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "capture"
SECRET = "gh-" + secrets.token_hex(20)
EXPECT = 30_000


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    settings = {
        "CC_CAPTURE_SECRETS": json.dumps({"example": {"github": SECRET}}),
        # A mail server is set, so that members may choose email (nothing here waits for a message).
        "CC_NOTIFY_SMTP_HOST": "127.0.0.1",
        "CC_NOTIFY_SMTP_PORT": "9",
    }
    with local_stack(tmp_path_factory.mktemp("browser-capture"), settings=settings) as stack:
        api = CommunityClient(stack.server.url, "example")
        mentoring = {
            "type": "add_indicator",
            "name": "Mentoring a newcomer",
            "category": "mentoring",
            "orientation": "community",
            "weight": 5,
            "endorsements_required": 1,
        }
        rules = {
            "version": 1,
            "rules": [
                {
                    "when": "github.pull_request.merged",
                    "repository": "example/site",
                    "labels": ["mentoring"],
                    "indicator_id": 1,
                }
            ],
        }
        pass_proposal(
            SimpleNamespace(api=api, anvil=stack.anvil),
            ALICE,
            "Mentoring counts, and is captured",
            [mentoring, {"type": "set_capture_rules", "rules": rules}],
        )
        typed = api.prepare("linked-accounts", signer=address(CAROL), site="github", handle="carol-writes")[
            "typed_data"
        ]
        api.post("/names", {"typed_data": typed, "signature": api.sign(CAROL, typed)})
        yield stack


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


def deliver(stack, number: int) -> dict:
    payload = json.loads((FIXTURES / "github_pull_request_merged.json").read_text())
    payload["number"] = payload["pull_request"]["number"] = number
    payload["pull_request"]["html_url"] = f"https://github.com/example/site/pull/{number}"
    body = json.dumps(payload).encode()
    answer = httpx.post(
        f"{stack.server.url}/communities/example/capture/github",
        content=body,
        headers={
            "content-type": "application/json",
            "x-github-event": "pull_request",
            "x-github-delivery": f"browser-{number}",
            "x-hub-signature-256": "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest(),
        },
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_captured_pull_request_waits_for_its_author_and_becomes_a_claim_in_one_click(page, stack, visits, wallet):
    assert deliver(stack, 42)["drafts"] == 1
    assert deliver(stack, 43)["drafts"] == 1
    wallet.key = CAROL
    page.goto("/c/example")
    page.evaluate("localStorage.setItem('cc-signer', 'wallet')")
    page.goto("/c/example/awaiting")
    page.wait_for_url(re.compile(r"member=0x"))  # filled in with the connected member
    drafts = page.locator("section.capture-drafts")
    drafts.get_by_text("Your claim").first.wait_for()
    text = drafts.inner_text()
    assert "github.com/example/site/pull/42" in text and "Pair with Sam on the translation workflow" in text
    visits.check(page, "capture-01-drafts")

    card = page.locator("#draft-1")
    card.locator("form[data-action=claims] button[type=submit]").click()
    card.locator("form[data-action=claims] .done a").wait_for(timeout=EXPECT)
    assert wallet.signed[-1]["primaryType"] == "ForwardRequest"
    card.locator("form[data-action=claims] .done a").click()
    page.wait_for_url(re.compile(r"/c/example/claims/\d+"))
    claim = page.inner_text("main")
    assert "Mentoring a newcomer" in claim and "github.com/example/site/pull/42" in claim
    visits.check(page, "capture-02-claim")
    [made] = httpx.get(f"{stack.server.url}/communities/example/claims", params={"contributor": address(CAROL)}).json()[
        "items"
    ]
    assert made["evidence_uri"] == "https://github.com/example/site/pull/42"

    # Back on the page: the signed draft is done; the other one Carol dismisses, by a signature of her own.
    page.goto(f"/c/example/awaiting?member={address(CAROL)}")
    assert "pull/42" not in page.locator("section.capture-drafts").inner_text()
    other = page.locator("#draft-2")
    other.locator("form.capture-signed button[type=submit]").click()
    other.get_by_text("Dismissed").wait_for(timeout=EXPECT)
    assert wallet.signed[-1]["primaryType"] == "CaptureDraftDismissal"
    page.reload()
    assert "pull/43" not in page.locator("section.capture-drafts").inner_text()
    visits.check(page, "capture-03-dismissed")

    # Someone else looking at Carol's page sees her drafts but no button to sign them.
    deliver(stack, 44)
    wallet.key = ALICE
    page.goto(f"/c/example/awaiting?member={address(CAROL)}")
    page.locator("#draft-3").wait_for()
    assert page.locator("#draft-3 form[data-action=claims]").is_hidden()
    assert visits.problems == [], visits.problems


def test_a_member_chooses_how_they_hear_by_signing_on_the_page(page, stack, visits, wallet):
    """How you hear (hearing.js): an email address and a daily digest, signed off chain with the
    connected signer and answered back to that member alone, with their feed's private link."""
    wallet.key = CAROL
    page.goto("/c/example")
    page.evaluate("localStorage.setItem('cc-signer', 'wallet')")
    page.goto("/c/example/hearing")
    page.fill("#hear-email", "carol@example.org")
    page.select_option("#hear-email-mode", "daily")
    page.get_by_role("button", name="Save how I hear").click()
    saved = page.locator("#hearing-saved")
    page.locator("#hearing-saved:not([hidden]), #hearing-form .form-error:not([hidden])").first.wait_for(timeout=EXPECT)
    assert not saved.is_hidden(), page.inner_text("#hearing-form")
    assert "Email to carol@example.org, as a daily digest." in saved.inner_text()
    assert wallet.signed[-1]["primaryType"] == "NotificationPreferences"
    feed = saved.get_by_role("link", name="your own feed").get_attribute("href")
    assert address(CAROL) in feed and httpx.get(feed).status_code == 200
    # A malformed address is refused in words, and nothing is signed.
    visits.allow_refusals = True  # Chromium logs the 422 itself
    signed = len(wallet.signed)
    page.fill("#hear-email", "not an address")
    page.get_by_role("button", name="Save how I hear").click()
    page.locator("#hearing-form .form-error, #hearing-form .field-error").first.wait_for(timeout=EXPECT)
    assert len(wallet.signed) == signed
    visits.allow_refusals = False
    visits.check(page, "capture-04-hearing")
    assert visits.problems == [], visits.problems
