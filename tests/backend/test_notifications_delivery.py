"""Being told, from a SQLite index filled by hand to a real SMTP server (aiosmtpd) and a local webhook
receiver (backend/notifications/worker.py, channels.py, feeds.py): each message's words and links;
the unsubscribe link (one click, then nothing more); the daily digest (grouped, and without what
stopped waiting); a name or evidence trying to add mail headers; webhooks whose signature an
independent implementation verifies; a receiver down then back (nothing lost, nothing twice); a
dead endpoint turned off after the threshold with a notice; a mail server away, which is not the
member's fault; the Atom feeds (feedparser, no bozo; xml.etree) and hidden profiles."""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET

import feedparser
import pytest
from eth_account import Account
from sqlalchemy import select

from backend.errors import NotFound
from backend.indexer.models import Claim, Member
from backend.notifications import feeds, service
from backend.notifications.channels import SendFailed, WebhookSender, check_webhook_url
from backend.notifications.models import FEED, Delivery, Subscription
from backend.notifications.worker import NoticeWorker
from backend.relay.leader import LeaderLock
from tests.backend.notifications_support import (
    ALICE,
    BOB,
    CAROL,
    COMMUNITY,
    DANA,
    KEYS,
    NOW,
    Inbox,
    Receiver,
    badge,
    claim,
    fill_index,
    make_ctx,
    move_clock,
    wait_for,
)

LINK = re.compile(r"https://commons\.example\.org/communities/example/notifications/unsubscribe\?token=(\S+)")


@pytest.fixture
def inbox():
    inbox = Inbox().start()
    yield inbox
    inbox.stop()


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def ctx(tmp_path, inbox):
    ctx = make_ctx(
        tmp_path,
        notify_smtp_host="127.0.0.1",
        notify_smtp_port=inbox.port,
        notify_smtp_security="none",
        notify_from="Example Commons <commons@example.org>",
        notify_allow_private_webhooks=True,
    )
    fill_index(ctx)
    return ctx


@pytest.fixture
def worker(ctx):
    return NoticeWorker(ctx=ctx, leader=LeaderLock(engine=ctx.sessions.kw["bind"]))


def subscribe(ctx, name: str, **fields) -> service.PreferencesOut:
    member = Account.from_key(KEYS[name]).address
    values = {"email": "", "email_mode": "each", "webhook_url": "", "webhook_mode": "each", "new_webhook_secret": False}
    typed = service.prepare(ctx, COMMUNITY, member=member, **{**values, **fields})
    signature = Account.sign_typed_data(KEYS[name], full_message=typed).signature.hex()
    return service.set_preferences(ctx, COMMUNITY, typed, "0x" + signature.removeprefix("0x"))


def add(ctx, *rows) -> None:
    with ctx.sessions() as session:
        session.add_all(rows)
        session.commit()


def deliveries(ctx, member: str, channel: str) -> list[tuple[str, str]]:
    with ctx.sessions() as session:
        return session.execute(
            select(Delivery.event_key, Delivery.state)
            .where(Delivery.member == member, Delivery.channel == channel)
            .order_by(Delivery.id)
        ).all()


def subjects(messages) -> list[str]:
    return sorted(m.message["subject"] for m in messages)


def test_email_tells_what_waits_in_words_with_links(ctx, worker, inbox):
    subscribe(ctx, "bob", email="bob@example.org")
    worker.step(wait=True)
    mail = inbox.to("bob@example.org")
    assert subjects(mail) == [
        "Alice nominated you for Mentoring a newcomer",
        "Carol's claim waits for your endorsement",
        "The vote on “Welcome Erin” closes in about 1 hour",
    ]
    nomination = next(m for m in mail if m.message["subject"].startswith("Alice nominated"))
    assert nomination.rcpt_tos == ["bob@example.org"] and nomination.mail_from == "commons@example.org"
    body = nomination.body
    assert body.startswith("Hello,\n\nAlice nominated you for “Mentoring a newcomer”")
    assert "The work: https://forum.example.org/t/1" in body
    assert "Say yes or no here: https://commons.example.org/c/example/claims/1" in body
    assert LINK.search(body) and nomination.message["List-Unsubscribe"] == f"<{LINK.search(body)[0]}>"
    assert nomination.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    endorse = next(m for m in mail if "endorsement" in m.message["subject"]).body
    assert "Carol claimed “Mentoring a newcomer”. It has 0 of the 2 endorsements it needs." in endorse
    # Told once: reading the index again, or after a rebuild of it, sends nothing more.
    worker.derive(COMMUNITY, force=True)
    worker.step(wait=True)
    assert len(inbox.to("bob@example.org")) == 3


def test_the_unsubscribe_link_works_in_one_click_and_nothing_more_is_sent(ctx, worker, inbox):
    subscribe(ctx, "bob", email="bob@example.org")
    worker.step(wait=True)
    token = LINK.search(inbox.to("bob@example.org")[0].body)[1]
    subscription, already = service.unsubscribe(ctx, COMMUNITY, token)
    assert (subscription.member, subscription.channel, already) == (BOB, "email", False)
    assert service.unsubscribe(ctx, COMMUNITY, token)[1] is True  # a second click: already done
    with pytest.raises(NotFound):
        service.unsubscribe(ctx, COMMUNITY, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    add(ctx, claim(3, contributor=BOB, submitter=DANA, nomination_state="pending", created_at=NOW + 5))
    worker.derive(COMMUNITY, force=True)
    worker.step(wait=True)
    assert len(inbox.to("bob@example.org")) == 3
    assert ("nomination:3", "pending") not in deliveries(ctx, BOB, "email")
    # Bob's feed still tells it.
    feed = feedparser.parse(feeds.member_feed(ctx, COMMUNITY, BOB, None))
    assert "Dana nominated you for Mentoring a newcomer" in [e.title for e in feed.entries]


def test_the_daily_digest_groups_what_happened_and_leaves_out_what_stopped_waiting(ctx, worker, inbox):
    subscribe(ctx, "dana", email="dana@example.org", email_mode="daily")
    worker.step(wait=True)
    assert inbox.to("dana@example.org") == []  # held for the digest
    add(ctx, badge(9, DANA, NOW + 10))
    move_clock(ctx, 3600)  # the vote closed: its reminder no longer waits
    worker.step(wait=True)
    assert inbox.to("dana@example.org") == []
    move_clock(ctx, 86_400)
    worker.step(wait=True)
    (digest,) = inbox.to("dana@example.org")
    assert digest.message["subject"] == "3 things for you in Example Commons today"
    body = digest.body
    assert body.startswith("Hello Dana,\n\nHere is what happened for you in Example Commons since the last digest.")
    assert "Claims waiting for your endorsement (2)\n- Alice's nomination of 0x" in body
    assert "- Carol's claim waits for your endorsement: https://commons.example.org/c/example/claims/2" in body
    assert (
        "Badges you earned (1)\n- You earned a badge: Mentoring a newcomer: https://commons.example.org/c/example/badges/9"
        in body
    )
    assert "Votes closing soon" not in body and "Welcome Erin" not in body
    assert ("vote-reminder:77", "dropped") in deliveries(ctx, DANA, "email")
    worker.step(wait=True)
    assert len(inbox.to("dana@example.org")) == 1  # once a day


def test_a_name_or_evidence_cannot_add_mail_headers(ctx, worker, inbox):
    eve = Account.create().address
    add(
        ctx,
        Member(community="example", address=eve, admitted_at=0, votes=1, name="Eve\r\nBcc: all@example.org"),
        claim(
            4,
            contributor=BOB,
            submitter=eve,
            nomination_state="pending",
            created_at=NOW + 1,
            evidence_uri="https://x.example.org/\r\nBcc: all@example.org\r\n\r\nforged",
        ),
    )
    subscribe(ctx, "bob", email="bob@example.org")
    worker.step(wait=True)
    assert all(m.rcpt_tos == ["bob@example.org"] for m in inbox.messages)
    mail = next(m for m in inbox.messages if "Eve" in m.message["subject"])
    assert mail.message["subject"] == "Eve Bcc: all@example.org nominated you for Mentoring a newcomer"
    assert mail.message["Bcc"] is None and mail.message["To"] == "bob@example.org"
    assert "The work: https://x.example.org/ Bcc: all@example.org forged" in mail.body


def test_webhooks_are_signed_and_a_receiver_down_then_back_loses_nothing_and_gets_nothing_twice(ctx, worker, receiver):
    secret = subscribe(ctx, "carol", webhook_url=receiver.url).webhook_secret
    worker.step(wait=True)
    payloads = receiver.verified(secret)  # standardwebhooks raises on any bad signature
    assert sorted(p["type"] for p in payloads) == ["commons.endorse", "commons.vote-reminder"]
    endorse = next(p for p in payloads if p["type"] == "commons.endorse")
    assert endorse["data"]["link"] == "https://commons.example.org/c/example/claims/1"
    assert endorse["text"].startswith("Alice's nomination of 0x")
    assert endorse["data"]["unsubscribe"].startswith("https://commons.example.org/communities/example/notifications/")

    receiver.stop()  # down: connections refused
    add(ctx, claim(5, contributor=DANA, submitter=DANA, created_at=NOW + 20))
    add(ctx, claim(6, contributor=ALICE, submitter=ALICE, created_at=NOW + 21))
    worker.derive(COMMUNITY, force=True)
    worker.step(wait=True)
    with ctx.sessions() as session:
        sub = session.scalars(select(Subscription).where(Subscription.member == CAROL)).one()
        assert (sub.active, sub.failures, sub.retries) == (True, 1, 1)
        assert "could not be reached" in sub.last_error and "127.0.0.1" not in sub.last_error
    receiver.start()  # back on the same port
    wait_for(lambda: (worker.step(wait=True), len(receiver.hooks) >= 4)[1], what="the messages sent again")
    ids = [hook.headers["webhook-id"] for hook in receiver.hooks]
    assert len(ids) == len(set(ids)) == 4
    assert sorted(p["data"]["event"] for p in receiver.verified(secret)) == [
        "endorse:1",
        "endorse:5",
        "endorse:6",
        "vote-reminder:77",
    ]
    assert all(state == "sent" for _, state in deliveries(ctx, CAROL, "webhook"))


def test_a_dead_endpoint_is_turned_off_after_the_threshold_with_a_notice(ctx, worker, receiver, inbox):
    subscribe(ctx, "carol", email="carol@example.org", webhook_url=receiver.url, webhook_mode="each")
    receiver.stop()
    for _ in range(3):  # CC_NOTIFY_DISABLE_AFTER_FAILURES=3
        time.sleep(0.06)
        worker.step(wait=True)
    with ctx.sessions() as session:
        sub = session.scalars(select(Subscription).where(Subscription.channel == "webhook")).one()
    assert (sub.active, sub.ended_because, sub.failures) == (False, "failing", 3)
    worker.step(wait=True)
    notice = [m for m in inbox.to("carol@example.org") if "stopped" in m.message["subject"]]
    assert notice[0].message["subject"] == "Example Commons stopped sending to your chat webhook"
    assert "failed 3 times in a row" in notice[0].body and "Nothing is lost" in notice[0].body
    assert "127.0.0.1" not in notice[0].body  # the webhook's address is never in a message
    feed = feedparser.parse(feeds.member_feed(ctx, COMMUNITY, CAROL, None))
    assert "Example Commons stopped sending to your chat webhook" in [e.title for e in feed.entries]
    assert ("endpoint-off:" + str(sub.id), "sent") in deliveries(ctx, CAROL, FEED)
    # Nothing more is tried, and what waited for the webhook was dropped.
    hooks = len(receiver.hooks)
    worker.step(wait=True)
    assert len(receiver.hooks) == hooks and all(s == "dropped" for _, s in deliveries(ctx, CAROL, "webhook"))


def test_a_webhook_that_answers_gone_is_turned_off_at_once(ctx, worker, receiver):
    receiver.status = 410
    subscribe(ctx, "carol", webhook_url=receiver.url)
    worker.step(wait=True)
    with ctx.sessions() as session:
        sub = session.scalars(select(Subscription)).one()
    assert (sub.active, sub.ended_because) == (False, "failing")


def test_a_mail_server_away_is_not_the_members_fault(tmp_path):
    ctx = make_ctx(tmp_path, notify_smtp_host="127.0.0.1", notify_smtp_port=9, notify_smtp_security="none")
    fill_index(ctx)
    worker = NoticeWorker(ctx=ctx, leader=LeaderLock(engine=ctx.sessions.kw["bind"]))
    subscribe(ctx, "bob", email="bob@example.org")
    for _ in range(5):
        time.sleep(0.06)
        worker.step(wait=True)
    with ctx.sessions() as session:
        sub = session.scalars(select(Subscription)).one()
    assert (sub.active, sub.failures) == (True, 0) and sub.retries >= 3
    assert sub.last_error == "the mail server could not be reached (ConnectionRefusedError)"


def test_the_sender_connects_to_the_address_it_checked():
    """A host whose DNS answer turns private between the check and the call (rebinding) is refused when
    sent to, not called."""
    answers = iter([["93.184.215.14"], ["127.0.0.1"]])
    resolver = lambda host, port: next(answers)  # noqa: E731
    assert check_webhook_url("https://hooks.example.org/x", allow_private=False, resolver=resolver).addresses
    sender = WebhookSender(make_ctx_settings(), resolver=resolver)
    with pytest.raises(SendFailed) as failed:
        sender.send("https://hooks.example.org/x", "whsec_" + "QUFB" * 8, "msg_1", 1, b"{}")
    assert failed.value.endpoint and "no longer allowed" in failed.value.reason


def make_ctx_settings():
    from tests.backend.notifications_support import settings

    return settings(notify_allow_private_webhooks=False)


# ---------------------------------------------------------------------- feeds


def parsed(document: bytes):
    ET.fromstring(document)  # well-formed XML
    feed = feedparser.parse(document)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return feed


def test_feeds_are_atom_and_hidden_profiles_are_respected(ctx):
    add(ctx, badge(11, CAROL, NOW - 50), badge(12, DANA, NOW - 40))
    bob = parsed(feeds.member_feed(ctx, COMMUNITY, BOB, None))
    titles = [e.title for e in bob.entries]
    assert "Alice nominated you for Mentoring a newcomer" in titles
    assert "Carol's claim waits for your endorsement" in titles
    assert bob.feed.title == f"For {BOB[:6]}…{BOB[-4:]} in Example Commons"
    community = parsed(feeds.community_feed(ctx, COMMUNITY))
    titles = [e.title for e in community.entries]
    assert "Alice proposed “Welcome Erin”" in titles and "Carol earned a badge: Mentoring a newcomer" in titles
    assert all(
        e.id.startswith("urn:uuid:") and e.link.startswith("https://commons.example.org/c/example/")
        for e in community.entries
    )

    with ctx.sessions() as session:
        session.get(Member, ("example", CAROL)).profile_hidden = True
        session.commit()
    assert "Carol" not in " ".join(e.title for e in parsed(feeds.member_feed(ctx, COMMUNITY, BOB, None)).entries)
    assert "Carol" not in " ".join(e.title for e in parsed(feeds.community_feed(ctx, COMMUNITY)).entries)
    with pytest.raises(NotFound) as refused:
        feeds.member_feed(ctx, COMMUNITY, CAROL, None)
    assert "no public feed" in refused.value.detail
    token = service.feed_token(service.service_key(ctx.sessions), "example", CAROL)
    own = parsed(feeds.member_feed(ctx, COMMUNITY, CAROL, token))
    assert "You earned a badge: Mentoring a newcomer" in [e.title for e in own.entries]


def test_hidden_members_are_not_told_about_to_others(ctx, worker, inbox):
    with ctx.sessions() as session:
        session.get(Member, ("example", CAROL)).profile_hidden = True
        session.commit()
    subscribe(ctx, "dana", email="dana@example.org")
    worker.step(wait=True)
    assert not any("Carol" in s for s in subjects(inbox.to("dana@example.org")))
    assert "endorse:2" not in [key for key, _ in deliveries(ctx, DANA, "email")]


def test_a_feed_holds_whatever_bytes_a_member_put_on_chain(ctx):
    with ctx.sessions() as session:
        session.get(Member, ("example", ALICE)).name = "Al\x00ice\x1b[31m\ufffe"
        session.get(Claim, ("example", 2)).evidence_uri = "https://e.example.org/\x01\x02<script>&amp;"
        session.add(badge(13, ALICE, NOW))
        session.commit()
    parsed(feeds.member_feed(ctx, COMMUNITY, BOB, None))
    parsed(feeds.member_feed(ctx, COMMUNITY, ALICE, None))
    parsed(feeds.community_feed(ctx, COMMUNITY))


def test_who_is_asked_what(ctx):
    """No one is asked to endorse their own nomination, nor reminded of a vote they have no part in
    (admitted after its snapshot); a nomination is reminded once it waited a week."""
    from backend.notifications.events import member_events

    alice = {e.key for e in member_events(ctx, COMMUNITY, ALICE)}
    assert "endorse:1" not in alice and "endorse:2" in alice and "vote-reminder:77" in alice
    with ctx.sessions() as session:
        session.get(Member, ("example", DANA)).admitted_at = NOW - 50  # after the vote opened
        session.commit()
    assert "vote-reminder:77" not in {e.key for e in member_events(ctx, COMMUNITY, DANA)}
    assert "nomination-reminder:1" not in {e.key for e in member_events(ctx, COMMUNITY, BOB)}
    week = member_events(ctx, COMMUNITY, BOB, now=NOW + 7 * 86_400)
    (reminder,) = [e for e in week if e.kind == "nomination-reminder"]
    assert reminder.subject == "Alice's nomination still waits for your answer"
    assert reminder.text.startswith("A week ago Alice nominated you for “Mentoring a newcomer”")
