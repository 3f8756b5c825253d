"""Preferences are set only by the member's own fresh signature, once each (backend/notifications/
service.py, signing.py): a preference signed by someone else, replayed, stale, dated ahead, signed
for another community or after a newer one is refused in a sentence and changes nothing; a contract
account's signature counts when it says so (ERC-1271); a flood of updates is bounded; the email
address and the webhook are answered only to a signed reading of the member's own, once."""

from __future__ import annotations

import time

import pytest
from eth_account import Account
from sqlalchemy import func, select

from backend.errors import Conflict, Forbidden, InvalidRequest, InvalidSignature, TooManyRequests, Unprocessable
from backend.notifications import service, signing
from backend.notifications.models import SignedRequest, Subscription
from tests.backend.notifications_support import ALICE, BOB, COMMUNITY, KEYS, MALLORY, fill_index, make_ctx


@pytest.fixture
def ctx(tmp_path):
    ctx = make_ctx(tmp_path, notify_smtp_host="127.0.0.1", notify_allow_private_webhooks=False)
    fill_index(ctx)
    return ctx


def prepared(ctx, member=ALICE, **fields):
    values = {
        "email": "alice@example.org",
        "email_mode": "each",
        "webhook_url": "",
        "webhook_mode": "each",
        "new_webhook_secret": False,
        **fields,
    }
    return service.prepare(ctx, COMMUNITY, member=member, **values)


def sign(key: str, typed: dict) -> str:
    return "0x" + Account.sign_typed_data(key, full_message=typed).signature.hex().removeprefix("0x")


def subscriptions(ctx) -> list[tuple]:
    with ctx.sessions() as session:
        return session.execute(
            select(Subscription.member, Subscription.channel, Subscription.target, Subscription.active)
        ).all()


def test_a_member_sets_preferences_with_their_own_signature(ctx):
    typed = prepared(ctx)
    assert typed["domain"]["verifyingContract"] == COMMUNITY.contracts["membership"]
    assert typed["message"]["community"] == "example" and typed["message"]["member"] == ALICE
    out = service.set_preferences(ctx, COMMUNITY, typed, sign(KEYS["alice"], typed))
    assert out.email is not None and (out.email.target, out.email.mode, out.email.active) == (
        "alice@example.org",
        "each",
        True,
    )
    assert out.webhook is None and out.webhook_secret is None
    assert out.feeds.member.startswith(f"https://commons.example.org/communities/example/feeds/members/{ALICE}.atom?")
    assert subscriptions(ctx) == [(ALICE, "email", "alice@example.org", True)]


def test_a_preference_signed_by_someone_else_is_refused(ctx):
    typed = prepared(ctx)
    with pytest.raises(InvalidSignature) as refused:
        service.set_preferences(ctx, COMMUNITY, typed, sign(KEYS["mallory"], typed))
    assert f"signed by {MALLORY}, not by {ALICE}" in refused.value.detail
    assert subscriptions(ctx) == []


def test_a_replayed_preference_is_refused(ctx):
    typed = prepared(ctx)
    signature = sign(KEYS["alice"], typed)
    service.set_preferences(ctx, COMMUNITY, typed, signature)
    with pytest.raises(Conflict) as refused:
        service.set_preferences(ctx, COMMUNITY, typed, signature)
    assert refused.value.extra["error"] == "ReplayedRequest" and "used once" in refused.value.detail


def test_an_older_preference_after_a_newer_one_is_refused(ctx):
    older = prepared(ctx, email="old@example.org")
    older["message"]["issuedAt"] -= 30
    newer = prepared(ctx, email="new@example.org")
    service.set_preferences(ctx, COMMUNITY, newer, sign(KEYS["alice"], newer))
    with pytest.raises(Conflict) as refused:
        service.set_preferences(ctx, COMMUNITY, older, sign(KEYS["alice"], older))
    assert "signed before them" in refused.value.detail
    assert subscriptions(ctx) == [(ALICE, "email", "new@example.org", True)]


@pytest.mark.parametrize("offset, words", [(-601, "seconds ago"), (3600, "in the future")])
def test_a_stale_or_future_preference_is_refused(ctx, offset, words):
    typed = prepared(ctx)
    typed["message"]["issuedAt"] = int(time.time()) + offset
    with pytest.raises(Unprocessable) as refused:
        service.set_preferences(ctx, COMMUNITY, typed, sign(KEYS["alice"], typed))
    assert words in refused.value.detail
    assert subscriptions(ctx) == []


@pytest.mark.parametrize(
    "spoil",
    [
        lambda t: t["domain"].update(chainId=1),
        lambda t: t["domain"].update(verifyingContract=BOB),
        lambda t: t["message"].update(community="wiki"),
        lambda t: t["types"]["NotificationPreferences"].pop(),
    ],
)
def test_a_preference_signed_for_another_community_or_chain_is_refused(ctx, spoil):
    typed = prepared(ctx)
    spoil(typed)
    with pytest.raises(InvalidRequest):
        service.set_preferences(ctx, COMMUNITY, typed, sign(KEYS["alice"], typed))
    assert subscriptions(ctx) == []


def test_only_members_choose(ctx):
    with pytest.raises(Forbidden) as refused:
        prepared(ctx, member=MALLORY)
    assert "not a member" in refused.value.detail


def test_a_contract_account_signs_through_erc1271(ctx):
    account = Account.create().address  # a contract account, as the node says
    with ctx.sessions() as session:
        from backend.indexer.models import Member

        session.add(Member(community="example", address=account, admitted_at=0, votes=1))
        session.commit()
    ctx.gateway.rpc.contracts[account] = True
    typed = prepared(ctx, member=account, email="passkey@example.org")
    signature = "0x" + "ab" * 400  # whatever the account takes: it is asked
    assert service.set_preferences(ctx, COMMUNITY, typed, signature).email.target == "passkey@example.org"
    ctx.gateway.rpc.contracts[account] = False
    typed = prepared(ctx, member=account, email="other@example.org")
    with pytest.raises(InvalidSignature) as refused:
        service.set_preferences(ctx, COMMUNITY, typed, signature)
    assert refused.value.extra["error"] == "WalletRefusedSignature"


def test_a_flood_of_updates_is_bounded(tmp_path):
    ctx = make_ctx(tmp_path, notify_smtp_host="127.0.0.1", notify_requests_per_hour=5)
    fill_index(ctx)
    for n in range(5):
        typed = prepared(ctx, email=f"alice+{n}@example.org")
        service.set_preferences(ctx, COMMUNITY, typed, sign(KEYS["alice"], typed))
    typed = prepared(ctx, email="alice+flood@example.org")
    with pytest.raises(TooManyRequests) as refused:
        service.set_preferences(ctx, COMMUNITY, typed, sign(KEYS["alice"], typed))
    assert refused.value.extra["retry_after"] > 0 and "5 times in the last hour" in refused.value.detail
    # Bogus signatures cost the member nothing, and another member keeps their own budget.
    with ctx.sessions() as session:
        assert session.scalar(select(func.count()).select_from(SignedRequest)) == 5
    typed = prepared(ctx, member=BOB, email="bob@example.org")
    service.set_preferences(ctx, COMMUNITY, typed, sign(KEYS["bob"], typed))


def test_preferences_are_read_only_by_the_members_own_fresh_signature(ctx):
    typed = prepared(ctx, webhook_url="https://93.184.215.14/hooks/commons")
    out = service.set_preferences(ctx, COMMUNITY, typed, sign(KEYS["alice"], typed))
    assert out.webhook_secret and out.webhook_secret.startswith("whsec_")
    reading = service.prepare_reading(ctx, COMMUNITY, ALICE)
    issued = reading["message"]["issuedAt"]
    mine = service.read_preferences(ctx, COMMUNITY, ALICE, issued, sign(KEYS["alice"], reading))
    assert mine.email.target == "alice@example.org" and mine.webhook.target.endswith("/hooks/commons")
    assert mine.webhook_secret is None  # shown once, when it was made
    with pytest.raises(Conflict):  # a reading seen in a log reads nothing
        service.read_preferences(ctx, COMMUNITY, ALICE, issued, sign(KEYS["alice"], reading))
    other = service.prepare_reading(ctx, COMMUNITY, ALICE)
    with pytest.raises(InvalidSignature):
        service.read_preferences(ctx, COMMUNITY, ALICE, other["message"]["issuedAt"], sign(KEYS["bob"], other))


@pytest.mark.parametrize(
    "url, words",
    [
        ("http://93.184.215.14/hook", "must start with https://"),
        ("https://127.0.0.1/hook", "private, loopback or reserved"),
        ("https://10.1.2.3/hook", "private, loopback or reserved"),
        ("https://169.254.169.254/latest/meta-data", "private, loopback or reserved"),
        ("https://[::1]/hook", "private, loopback or reserved"),
        ("https://[::ffff:192.168.1.1]/hook", "private, loopback or reserved"),
        ("https://0.0.0.0/hook", "private, loopback or reserved"),
        ("https://user:pw@93.184.215.14/hook", "user name or password"),
        ("https://93.184.215.14/a\r\nHost: evil", "line breaks"),
    ],
)
def test_a_webhook_to_a_private_or_loopback_address_is_refused_in_production(ctx, url, words):
    with pytest.raises(Unprocessable) as refused:
        prepared(ctx, webhook_url=url)
    assert words in refused.value.detail


def test_private_webhooks_are_allowed_where_the_steward_allows_them(tmp_path):
    ctx = make_ctx(tmp_path, notify_allow_private_webhooks=True)
    fill_index(ctx)
    typed = prepared(ctx, email="", webhook_url="http://127.0.0.1:9/hook")
    assert typed["message"]["webhookUrl"] == "http://127.0.0.1:9/hook"


def test_no_email_is_offered_without_an_smtp_server(tmp_path):
    ctx = make_ctx(tmp_path)
    fill_index(ctx)
    with pytest.raises(Unprocessable) as refused:
        prepared(ctx)
    assert "no SMTP server" in refused.value.detail


@pytest.mark.parametrize(
    "address", ["alice@example.org\r\nBcc: all@example.org", "Alice <alice@example.org>", "a@b", "a,b@example.org"]
)
def test_an_email_address_with_more_in_it_is_refused(ctx, address):
    with pytest.raises(Unprocessable):
        prepared(ctx, email=address)


def test_the_typed_data_is_what_eth_account_signs(ctx):
    typed = prepared(ctx)
    signature = sign(KEYS["alice"], typed)
    recovered = Account._recover_hash(signing.digest_of(typed), signature=signature)
    assert recovered == ALICE
