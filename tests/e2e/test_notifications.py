"""Being told (issue 24, section 2) with the real service on Anvil, on SQLite and PostgreSQL: members
choose how they hear with their own signature (a passkey member's through ERC-1271 on chain); a
nomination reaches the nominee by email (a real SMTP server, aiosmtpd) and a claim its endorsers by
a webhook signed as Standard Webhooks (verified by the standardwebhooks package); the receiver down
then back loses nothing and gets nothing twice; one click on the unsubscribe link stops the emails;
a vote closing and a nomination left a week are reminded; the daily digest groups what waited; a
dead webhook is turned off with a notice; the Atom feeds validate, and a hidden profile is told
about to no one else.

Its own chain and service per database, whose settings point at the test's SMTP server and allow
webhooks to the loopback address (refused in production: tests/backend/test_notifications_preferences.py)."""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import feedparser
import httpx
import pytest
from sqlalchemy import create_engine, select

from backend.client import CommunityClient
from backend.indexer.db import _normalise
from backend.notifications.events import short
from backend.notifications.models import Delivery, Subscription
from backend.notifications.signing import digest_of
from devstack.passkeys import Passkey
from devstack.stack import UNTHROTTLED, local_stack
from tests.backend.notifications_support import Inbox, Receiver, wait_for
from tests.e2e.conftest import ALICE, BOB, CAROL, OUTSIDER, _postgres_database, address, pass_proposal, problem_of

UNSUBSCRIBE = re.compile(r"(http://127\.0\.0\.1:\d+/communities/example/notifications/unsubscribe\?token=\S+)")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stack(request, tmp_path_factory):
    workdir = tmp_path_factory.mktemp(f"notifications-{request.param}")
    database_url, cleanup = (
        (f"sqlite:///{workdir / 'index.sqlite3'}", None) if request.param == "sqlite" else _postgres_database()
    )
    inbox, receiver = Inbox().start(), Receiver().start()
    settings = {
        **UNTHROTTLED,
        "CC_NOTIFY_SMTP_HOST": "127.0.0.1",
        "CC_NOTIFY_SMTP_PORT": str(inbox.port),
        "CC_NOTIFY_SMTP_SECURITY": "none",
        "CC_NOTIFY_FROM": "Example Commons <commons@example.org>",
        "CC_NOTIFY_ALLOW_PRIVATE_WEBHOOKS": "true",
        "CC_NOTIFY_POLL_SECONDS": "0.1",
        "CC_NOTIFY_SCAN_SECONDS": "1",
        "CC_NOTIFY_RETRY_BASE_SECONDS": "0.2",
        "CC_NOTIFY_RETRY_MAX_SECONDS": "0.4",
        "CC_NOTIFY_DISABLE_AFTER_FAILURES": "4",
    }
    try:
        with local_stack(workdir, database_url=database_url, settings=settings) as s:
            api = CommunityClient(s.server.url, "example")
            env = SimpleNamespace(api=api, anvil=s.anvil)
            passkey = Passkey.generate()
            qx, qy = passkey.public
            coordinates = {"x": "0x" + qx.hex(), "y": "0x" + qy.hex()}
            account = api.post("/passkey-accounts", coordinates)["address"]
            mentoring = {
                "type": "add_indicator",
                "name": "Mentoring a newcomer",
                "category": "mentoring",
                "orientation": "community",
                "weight": 5,
                "endorsements_required": 2,
            }
            pass_proposal(
                env, ALICE, "Mentoring counts, and Pat joins", [mentoring, {"type": "admit_member", "account": account}]
            )
            assert api.post("/passkey-accounts", coordinates)["deployed"]
            api.act("names", ALICE, name="Alice")
            engine = create_engine(_normalise(database_url))
            yield SimpleNamespace(
                api=api,
                env=env,
                anvil=s.anvil,
                url=s.server.url,
                inbox=inbox,
                receiver=receiver,
                passkey=passkey,
                pat=account,
                engine=engine,
                secrets={},
            )
            engine.dispose()
    finally:
        receiver.stop()
        inbox.stop()
        if cleanup:
            cleanup()


def choose(stack, who, **fields) -> dict:
    """prepare, sign (a key, or Pat's passkey), submit: a member's preferences."""
    member = stack.pat if who == "pat" else address(who)
    typed = stack.api.post("/notifications/prepare", {"member": member, **fields})["typed_data"]
    return stack.api.post("/notifications", {"typed_data": typed, "signature": signed(stack, who, typed)})


def signed(stack, who, typed) -> str:
    if who == "pat":
        return "0x" + stack.passkey.sign(digest_of(typed)).hex()
    return CommunityClient.sign(who, typed)


def rows(stack, model, *where):
    with stack.engine.connect() as connection:
        return connection.execute(select(model).where(*where)).all()


def mail(stack, to: str, subject: str):
    found = wait_for(
        lambda: [m for m in stack.inbox.to(to) if m.message["subject"] == subject],
        timeout=20,
        what=f"{subject!r} to {to}",
    )
    return found[0]


def hooks(stack, event: str) -> list[dict]:
    payloads = stack.receiver.verified(stack.secrets["bob"])  # standardwebhooks raises on a bad signature
    return [p for p in payloads if p["data"]["event"] == event]


def test_members_choose_how_they_hear_with_their_own_signature(stack):
    carol = choose(stack, CAROL, email="carol@example.org")
    assert carol["email"]["target"] == "carol@example.org" and carol["webhook"] is None
    bob = choose(stack, BOB, webhook_url=stack.receiver.url)
    assert bob["webhook_secret"].startswith("whsec_")
    stack.secrets["bob"] = bob["webhook_secret"]
    # Pat has no key: the passkey signs, and the account says yes on chain (ERC-1271).
    assert choose(stack, "pat", email="pat@example.org")["email"]["target"] == "pat@example.org"

    api = stack.api
    typed = api.post("/notifications/prepare", {"member": address(BOB), "email": "bob@evil.example.org"})["typed_data"]
    status, problem = problem_of(
        lambda: api.post("/notifications", {"typed_data": typed, "signature": CommunityClient.sign(CAROL, typed)})
    )
    assert status == 403 and f"not by {address(BOB)}" in problem["detail"]
    status, problem = problem_of(
        lambda: api.post(
            "/notifications", {"typed_data": typed, "signature": "0x" + stack.passkey.sign(digest_of(typed)).hex()}
        )
    )
    assert status == 403  # Pat's passkey is not Bob's
    fields = {"member": address(ALICE), "email": "alice@example.org", "email_mode": "daily"}
    replayed = api.post("/notifications/prepare", fields)["typed_data"]
    signature = CommunityClient.sign(ALICE, replayed)
    api.post("/notifications", {"typed_data": replayed, "signature": signature})
    status, problem = problem_of(lambda: api.post("/notifications", {"typed_data": replayed, "signature": signature}))
    assert (status, problem["error"]) == (409, "ReplayedRequest")
    stale = {**replayed, "message": {**replayed["message"], "issuedAt": int(time.time()) - 3600}}
    status, problem = problem_of(
        lambda: api.post("/notifications", {"typed_data": stale, "signature": CommunityClient.sign(ALICE, stale)})
    )
    assert status == 422 and "prepare and sign it again" in problem["detail"]
    status, problem = problem_of(lambda: api.post("/notifications/prepare", {"member": address(OUTSIDER)}))
    assert status == 403 and "not a member" in problem["detail"]

    # Bob reads his own preferences with a signed reading, once; the same signature reads nothing again.
    reading = api.post("/notifications/reading/prepare", {"member": address(BOB)})["typed_data"]
    query = {
        "member": address(BOB),
        "issued_at": reading["message"]["issuedAt"],
        "signature": CommunityClient.sign(BOB, reading),
    }
    mine = api.get("/notifications/preferences", **query)
    assert mine["webhook"]["target"] == stack.receiver.url and mine["webhook_secret"] is None
    assert problem_of(lambda: api.get("/notifications/preferences", **query))[0] == 409
    forged = {**query, "signature": CommunityClient.sign(CAROL, reading)}
    assert problem_of(lambda: api.get("/notifications/preferences", **forged))[0] == 403


def test_a_nomination_reaches_the_nominee_by_email_and_an_endorser_by_webhook(stack):
    claim = stack.api.act(
        "claims",
        ALICE,
        indicator_id=1,
        contributor=address(CAROL),
        evidence_uri="https://forum.example.org/t/welcome-sam/42",
    )["created"]["claim_id"]
    stack.claim = claim
    message = mail(stack, "carol@example.org", "Alice nominated you for Mentoring a newcomer")
    body = message.body
    assert "The work: https://forum.example.org/t/welcome-sam/42" in body
    assert f"Say yes or no here: {stack.url}/c/example/claims/{claim}" in body
    assert UNSUBSCRIBE.search(body) and message.rcpt_tos == ["carol@example.org"]
    (endorse,) = wait_for(lambda: hooks(stack, f"endorse:{claim}"), what="Bob's webhook")
    assert endorse["type"] == "commons.endorse"
    assert endorse["data"]["link"] == f"{stack.url}/c/example/claims/{claim}"
    assert endorse["text"].startswith(f"Alice's nomination of {address(CAROL)[:6]}…")


def test_a_receiver_down_then_back_loses_nothing_and_gets_nothing_twice(stack):
    stack.receiver.stop()
    first = stack.api.act("claims", CAROL, indicator_id=1, evidence_uri="https://forum.example.org/t/1")
    second = stack.api.act("claims", ALICE, indicator_id=1, evidence_uri="https://forum.example.org/t/2")
    ids = [first["created"]["claim_id"], second["created"]["claim_id"]]
    stack.own_claim = ids[0]
    wait_for(
        lambda: any(s.retries for s in rows(stack, Subscription, Subscription.channel == "webhook")),
        what="a failed attempt",
    )
    stack.receiver.start()
    for claim in ids:
        wait_for(lambda: hooks(stack, f"endorse:{claim}"), what=f"endorse:{claim} once the receiver is back")
    webhook_ids = [hook.headers["webhook-id"] for hook in stack.receiver.hooks]
    assert len(webhook_ids) == len(set(webhook_ids))
    for claim in ids:
        assert len(hooks(stack, f"endorse:{claim}")) == 1


def test_one_click_on_the_unsubscribe_link_and_nothing_more_is_sent(stack):
    link = UNSUBSCRIBE.search(stack.inbox.to("carol@example.org")[0].body)[1]
    page = httpx.get(link)
    assert page.status_code == 200 and "You will get no more emails from Example Commons" in page.text
    emails = len(stack.inbox.to("carol@example.org"))
    claim = stack.api.act(
        "claims", BOB, indicator_id=1, contributor=address(CAROL), evidence_uri="https://forum.example.org/t/3"
    )["created"]["claim_id"]
    endorsers = f"{short(address(BOB))}'s nomination of {short(address(CAROL))} waits for your endorsement"
    mail(stack, "pat@example.org", endorsers)  # the notifier read the nomination
    time.sleep(0.5)
    assert len(stack.inbox.to("carol@example.org")) == emails
    assert not rows(stack, Delivery, Delivery.event_key == f"nomination:{claim}", Delivery.channel == "email")
    assert httpx.get(link).status_code == 200  # a second click: already done
    assert httpx.get(link[:-3] + "xyz").status_code == 404


def test_reminders_and_the_daily_digest(stack):
    api = stack.api
    nominated = api.act(
        "claims", ALICE, indicator_id=1, contributor=stack.pat, evidence_uri="https://forum.example.org/t/pat"
    )["created"]["claim_id"]
    mail(stack, "pat@example.org", "Alice nominated you for Mentoring a newcomer")
    proposal = api.act(
        "proposals",
        BOB,
        description="Organising counts too\n\nEvents bring newcomers.",
        actions=[
            {
                "type": "add_indicator",
                "name": "Organising an event",
                "category": "events",
                "orientation": "community",
                "weight": 3,
                "endorsements_required": 1,
            }
        ],
    )["created"]["proposal_id"]
    stack.anvil.skip(2)  # voting opens, and closes within the hour
    reminder = mail(stack, "pat@example.org", "The vote on “Organising counts too” closes within the hour")
    assert f"{stack.url}/c/example/proposals/{proposal}" in reminder.body
    wait_for(lambda: hooks(stack, f"vote-reminder:{proposal}"), what="Bob's reminder")
    assert stack.inbox.to("alice@example.org") == []  # Alice's are held for her digest

    stack.anvil.skip(8 * 86_400)  # a week and a day: Pat's nomination waits; the vote closed
    mail(stack, "pat@example.org", "Alice's nomination still waits for your answer")
    digest = wait_for(lambda: stack.inbox.to("alice@example.org"), timeout=20, what="Alice's digest")[0]
    body = digest.body
    assert digest.message["subject"].endswith("for you in Example Commons today")
    assert body.startswith("Hello Alice,\n\nHere is what happened for you in Example Commons since the last digest.")
    assert "Claims waiting for your endorsement (" in body
    assert f"{stack.url}/c/example/claims/{stack.own_claim}" in body
    assert "Organising counts too" not in body  # the vote closed before the digest: left out
    assert f"claims/{nominated}" not in body  # her own nomination of Pat: she vouched for it already
    time.sleep(1.0)
    assert len(stack.inbox.to("alice@example.org")) == 1


def test_a_dead_webhook_is_turned_off_with_a_notice(stack):
    choose(stack, BOB, email="bob@example.org", webhook_url=stack.receiver.url)  # the same webhook and secret
    stack.receiver.stop()
    stack.api.act("claims", CAROL, indicator_id=1, evidence_uri="https://forum.example.org/t/dead")
    notice = mail(stack, "bob@example.org", "Example Commons stopped sending to your chat webhook")
    assert "failed 4 times in a row" in notice.body and f":{stack.receiver.port}/" not in notice.body
    webhook = max(rows(stack, Subscription, Subscription.member == address(BOB), Subscription.channel == "webhook"))
    assert (webhook.active, webhook.ended_because) == (False, "failing")
    feed = feedparser.parse(httpx.get(f"{stack.url}/communities/example/feeds/members/{address(BOB)}.atom").content)
    assert "Example Commons stopped sending to your chat webhook" in [e.title for e in feed.entries]


def atom(response: httpx.Response):
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/atom+xml")
    ET.fromstring(response.content)
    feed = feedparser.parse(response.content)
    assert not feed.bozo and feed.version == "atom10", feed.get("bozo_exception")
    return feed


def test_feeds_validate_and_a_hidden_profile_is_told_about_to_no_one_else(stack):
    api, feeds = stack.api, f"{stack.url}/communities/example/feeds"
    carol = address(CAROL)
    for endorser in (ALICE, BOB):
        api.act("attestations", endorser, claim_id=stack.own_claim)
    community = atom(httpx.get(f"{feeds}/community.atom"))
    titles = [e.title for e in community.entries]
    assert f"{short(carol)} earned a badge: Mentoring a newcomer" in titles
    assert f"{short(address(BOB))} proposed “Organising counts too”" in titles
    mine = atom(httpx.get(f"{feeds}/members/{carol}.atom"))
    assert "You earned a badge: Mentoring a newcomer" in [e.title for e in mine.entries]

    api.act("profile-visibility", CAROL, hidden=True)
    hidden_claim = api.act("claims", CAROL, indicator_id=1, evidence_uri="https://forum.example.org/t/hidden")
    hidden_claim = hidden_claim["created"]["claim_id"]
    assert "earned a badge" not in " ".join(e.title for e in atom(httpx.get(f"{feeds}/community.atom")).entries)
    assert httpx.get(f"{feeds}/members/{carol}.atom").status_code == 404
    reading = api.post("/notifications/reading/prepare", {"member": carol})["typed_data"]
    own = api.get(
        "/notifications/preferences",
        member=carol,
        issued_at=reading["message"]["issuedAt"],
        signature=CommunityClient.sign(CAROL, reading),
    )["feeds"]["member"]
    assert "You earned a badge: Mentoring a newcomer" in [e.title for e in atom(httpx.get(own)).entries]
    pat = atom(httpx.get(f"{feeds}/members/{stack.pat}.atom"))
    assert f"claims/{hidden_claim}" not in " ".join(e.link for e in pat.entries)
    time.sleep(1.5)  # a reading of the index by the notifier at least
    assert not rows(stack, Delivery, Delivery.event_key == f"endorse:{hidden_claim}")


def test_a_member_is_told_in_the_language_they_chose(stack):
    """Bob chooses Spanish with his preferences: his emails, his feed and the unsubscribe page are
    in Spanish (Content-Language: es), whatever language the request that sends them speaks. A
    preference signed without a language (as signers did before it existed) is still taken, in the
    language of the request that saves it; one in a language the service does not speak is refused."""
    api = stack.api
    chosen = choose(stack, BOB, email="bob@example.org", language="es")
    assert chosen["language"] == "es" and chosen["email"]["target"] == "bob@example.org"
    claim = api.act(
        "claims", ALICE, indicator_id=1, contributor=address(BOB), evidence_uri="https://forum.example.org/t/bob"
    )["created"]["claim_id"]
    message = mail(stack, "bob@example.org", "Alice te ha nominado para Mentoring a newcomer")
    assert message.message["content-language"] == "es"
    body = message.body
    assert body.startswith("Hola:") or body.startswith("Hola, ")
    assert "Alice te ha nominado para «Mentoring a newcomer»" in body
    assert "El trabajo: https://forum.example.org/t/bob" in body
    assert f"Di sí o no aquí: {stack.url}/c/example/claims/{claim}" in body
    assert "Para dejar de recibirlos, abre este enlace (un clic, sin iniciar sesión)" in body
    assert "nominated you" not in body

    feed = atom(httpx.get(f"{stack.url}/communities/example/feeds/members/{address(BOB)}.atom"))
    assert feed.feed.title.startswith("Para ") and feed.feed.get("language") == "es"
    assert "Alice te ha nominado para Mentoring a newcomer" in [e.title for e in feed.entries]
    page = httpx.get(UNSUBSCRIBE.search(body)[1], headers={"Accept-Language": "en"})
    assert "Ya no recibirás más correos de Example Commons." in page.text and 'lang="es"' in page.text

    # Signed as before languages existed: no language in the types; the request's own is kept.
    typed = api.post("/notifications/prepare", {"member": address(BOB), "email": "bob@example.org"})["typed_data"]
    assert typed["message"]["language"] == "en"  # this request asked for no language
    typed["types"]["NotificationPreferences"] = [
        f for f in typed["types"]["NotificationPreferences"] if f["name"] != "language"
    ]
    del typed["message"]["language"]
    older = httpx.post(
        f"{stack.url}/communities/example/notifications",
        json={"typed_data": typed, "signature": CommunityClient.sign(BOB, typed)},
        headers={"Accept-Language": "es"},
    )
    assert older.status_code == 200 and older.json()["language"] == "es", older.text

    refused = httpx.post(
        f"{stack.url}/communities/example/notifications/prepare",
        json={"member": address(BOB), "email": "bob@example.org", "language": "fr"},
        headers={"Accept-Language": "es"},
    )
    assert (
        refused.status_code == 422
        and refused.json()["detail"] == "Los mensajes pueden escribirse en en, es, no en 'fr'"
    )
