"""A member's preferences: prepared, signed, checked and kept; read back by their own signed request;
ended by the one-click link in every message. And the service's links that need no login: the
unsubscribe link (a subscription's) and the private feed link (a member's), each an HMAC under the
service's own key, which is made on first use and kept in the database.

A signed request is accepted once (its EIP-712 digest is kept), only while fresh (signed within
`notify_signature_max_age_seconds`), and a member's preferences only move forward (each signed
after the last one accepted). Each member has `notify_requests_per_hour` accepted per community.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.chain.addresses import checksum
from backend.chain.deployments import Community
from backend.context import Context
from backend.errors import Conflict, Forbidden, InvalidRequest, NotFound, Unprocessable
from backend.i18n import DEFAULT, N_, SUPPORTED, current_locale, gettext
from backend.indexer.models import Member
from backend.indexer.reads import index_time
from backend.members import offchain
from backend.notifications import signing
from backend.notifications.channels import check_webhook_url, email_address, new_webhook_secret
from backend.notifications.models import (
    DROPPED,
    HELD,
    PENDING,
    Delivery,
    NoticeLanguage,
    ServiceKey,
    SignedRequest,
    Subscription,
)
from backend.notifications.schemas import ChannelOut, FeedsOut, PreferencesOut

# A signature dated this far ahead of the service's clock is refused (clocks a little apart).


# ---------------------------------------------------------------------- the service's key and links


def service_key(sessions: Any) -> bytes:
    """The key of unsubscribe and private feed links: made once, by whichever process asks first."""
    with sessions() as session:
        found = session.get(ServiceKey, "links")
        if found is None:
            try:
                session.add(ServiceKey(name="links", value=base64.b64encode(secrets.token_bytes(32)).decode()))
                session.commit()
            except IntegrityError:
                session.rollback()
            found = session.get(ServiceKey, "links")
        assert found is not None
        return base64.b64decode(found.value)


def _mac(key: bytes, *parts: Any) -> str:
    digest = hmac.new(key, "\0".join(str(p) for p in parts).encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:32]


def unsubscribe_token(key: bytes, subscription: Subscription) -> str:
    mac = _mac(key, "unsubscribe", subscription.id, subscription.community, subscription.member, subscription.channel)
    return f"{subscription.id}.{mac}"


def feed_token(key: bytes, community: str, member: str) -> str:
    return _mac(key, "feed", community, checksum(member))


def feed_token_valid(ctx: Context, community: Community, member: str, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(
        feed_token(service_key(ctx.sessions), community.slug, member), str(token)
    )


def unsubscribe_url(ctx: Context, key: bytes, subscription: Subscription) -> str:
    base = f"{ctx.settings.public_base_url}/communities/{subscription.community}/notifications"
    return f"{base}/unsubscribe?token={unsubscribe_token(key, subscription)}"


def feeds_of(ctx: Context, community: Community, member: str) -> FeedsOut:
    base = f"{ctx.settings.public_base_url}/communities/{community.slug}/feeds"
    token = feed_token(service_key(ctx.sessions), community.slug, member)
    return FeedsOut(member=f"{base}/members/{checksum(member)}.atom?token={token}", community=f"{base}/community.atom")


# ---------------------------------------------------------------------- checks


def _email(ctx: Context, value: str) -> str:
    if not value:
        return ""
    if not ctx.settings.notify_smtp_host:
        raise Unprocessable(
            gettext(
                "This service sends no email: its steward has set no SMTP server. Choose a webhook or the feeds instead"
            )
        )
    try:
        return email_address(value)
    except ValueError as exc:
        raise Unprocessable(gettext("The email address cannot be used: %(why)s", why=exc)) from None


def _webhook(ctx: Context, value: str) -> str:
    if not value:
        return ""
    try:
        check_webhook_url(value, allow_private=ctx.settings.notify_allow_private_webhooks)
    except ValueError as exc:
        raise Unprocessable(gettext("The webhook cannot be used: %(why)s", why=exc)) from None
    return value.strip()


def _language(value: str | None) -> str:
    """The language chosen (one of SUPPORTED), or the request's own when none was."""
    if value is None or value == "":
        return current_locale() if current_locale() in SUPPORTED else DEFAULT
    if value not in SUPPORTED:
        raise Unprocessable(
            gettext(
                "Messages can be written in %(languages)s, not in %(language)s",
                languages=", ".join(SUPPORTED),
                language=repr(value),
            ),
            errors=[
                {
                    "loc": ["body", "language"],
                    "msg": gettext("must be one of: %(languages)s", languages=", ".join(SUPPORTED)),
                }
            ],
        )
    return value


def language_of(sessions: Any, community: str, member: str) -> str | None:
    """The language a member chose to be told in, in a community; None if they chose none."""
    with sessions() as session:
        chosen = session.get(NoticeLanguage, (community, member))
        return chosen.language if chosen is not None and chosen.language in SUPPORTED else None


def _member(ctx: Context, community: Community, member: str) -> None:
    with ctx.sessions() as session:
        active = session.scalar(
            select(Member.active).where(Member.community == community.slug, Member.address == member)
        )
    if not active:
        raise Forbidden(
            gettext(
                "%(member)s is not a member of '%(community)s': only members choose how they hear about what waits "
                "for them (anyone may read the community's feed)",
                member=member,
                community=community.slug,
            )
        )


def _budget(ctx: Context, community: Community, member: str) -> None:
    with ctx.sessions() as session:
        offchain.check_budget(
            session,
            SignedRequest,
            community,
            member,
            ctx.settings.notify_requests_per_hour,
            doing=N_("changed or read their preferences"),
            budget="notification_requests_per_hour",
        )


def _accept(session: Session, community: Community, member: str, kind: str, issued_at: int, digest: bytes) -> None:
    """Keep the signed request's digest: the same request is accepted once; preferences only move forward."""
    if kind == "set":
        last = session.scalar(
            select(func.max(SignedRequest.issued_at)).where(
                SignedRequest.community == community.slug, SignedRequest.member == member, SignedRequest.kind == "set"
            )
        )
        if last is not None and issued_at < last:
            raise Conflict(
                gettext(
                    "Newer preferences of this member were accepted already: this request was signed before them "
                    "(or is a replay). Prepare and sign again"
                ),
                error="ReplayedRequest",
            )
    offchain.record_once(session, SignedRequest, community, member, kind, issued_at, digest)


def _verified(
    ctx: Context, community: Community, typed_data: dict[str, Any], signature: str
) -> tuple[str, str, dict[str, Any], bytes]:
    """The signed request's kind, member, message and digest, once everything about it holds but
    its being new (which `_accept` checks with the write)."""
    kind = signing.check_shape(ctx, community, typed_data)
    message = typed_data["message"]
    member = checksum(message["member"])
    offchain.check_fresh(ctx, int(message["issuedAt"]))
    _member(ctx, community, member)
    _budget(ctx, community, member)
    digest = signing.digest_of(typed_data)
    signing.check_signer(ctx, digest, bytes.fromhex(signature[2:]), member)
    return kind, member, message, digest


# ---------------------------------------------------------------------- prepare, set, read


def prepare(
    ctx: Context,
    community: Community,
    *,
    member: str,
    email: str,
    email_mode: str,
    webhook_url: str,
    webhook_mode: str,
    new_webhook_secret: bool,
    language: str | None = None,
) -> dict[str, Any]:
    _member(ctx, community, member)
    message = {
        "community": community.slug,
        "member": checksum(member),
        "email": _email(ctx, email),
        "emailMode": email_mode,
        "webhookUrl": _webhook(ctx, webhook_url),
        "webhookMode": webhook_mode,
        "newWebhookSecret": bool(new_webhook_secret),
        "language": _language(language),
        "issuedAt": int(time.time()),
    }
    return signing.preferences_typed_data(ctx, community, message)


def prepare_reading(ctx: Context, community: Community, member: str) -> dict[str, Any]:
    _member(ctx, community, member)
    return signing.reading_typed_data(ctx, community, member, int(time.time()))


def _current(session: Session, community: Community, member: str, channel: str) -> Subscription | None:
    return session.scalars(
        select(Subscription)
        .where(
            Subscription.community == community.slug,
            Subscription.member == member,
            Subscription.channel == channel,
            Subscription.active.is_(True),
        )
        .order_by(Subscription.id.desc())
    ).first()


def end(session: Session, subscription: Subscription, because: str) -> None:
    """End a subscription; what waited to go by its channel is dropped (the feed keeps telling it)."""
    subscription.active = False
    subscription.ended_at = time.time()
    subscription.ended_because = because
    session.execute(
        update(Delivery)
        .where(
            Delivery.community == subscription.community,
            Delivery.member == subscription.member,
            Delivery.channel == subscription.channel,
            Delivery.state.in_((HELD, PENDING)),
        )
        .values(state=DROPPED, last_error=f"the subscription ended ({because})")
    )


def set_preferences(ctx: Context, community: Community, typed_data: dict[str, Any], signature: str) -> PreferencesOut:
    signs_language = any(f["name"] == "language" for f in (typed_data.get("types") or {}).get(signing.PRIMARY, []))
    if signs_language and "language" not in (typed_data.get("message") or {}):
        raise InvalidRequest(gettext("typed_data's message has no language, although its types name one"))
    kind, member, message, digest = _verified(ctx, community, typed_data, signature)
    if kind != "set":
        raise Unprocessable(
            gettext("This is a reading of preferences, not preferences: send it to GET .../preferences")
        )
    # Signed before members chose a language: the language of the request that saves them.
    language = _language(message.get("language") if signs_language else None)
    wanted = {
        "email": (_email(ctx, message["email"]), message["emailMode"], False),
        "webhook": (_webhook(ctx, message["webhookUrl"]), message["webhookMode"], bool(message["newWebhookSecret"])),
    }
    shown_secret = None
    with ctx.sessions() as session:
        _accept(session, community, member, "set", int(message["issuedAt"]), digest)
        session.merge(NoticeLanguage(community=community.slug, member=member, language=language))
        now = index_time(session, community)
        for channel, (target, mode, renew) in wanted.items():
            current = _current(session, community, member, channel)
            if not target:
                if current is not None:
                    end(session, current, "removed")
                continue
            if current is not None and current.target == target and not renew:
                if current.mode != mode:
                    current.mode = mode
                    if mode == "each":  # what waited for the digest goes now
                        session.execute(
                            update(Delivery)
                            .where(
                                Delivery.community == community.slug,
                                Delivery.member == member,
                                Delivery.channel == channel,
                                Delivery.state == HELD,
                            )
                            .values(state=PENDING)
                        )
                continue
            since = current.since if current is not None else now
            if current is not None:
                current.active, current.ended_at, current.ended_because = False, time.time(), "replaced"
            secret = new_webhook_secret() if channel == "webhook" else None
            shown_secret = secret or shown_secret
            session.add(
                Subscription(
                    community=community.slug,
                    member=member,
                    channel=channel,
                    target=target,
                    secret=secret,
                    mode=mode,
                    active=True,
                    since=since,
                    last_digest_at=now,
                )
            )
        session.commit()
    out = preferences(ctx, community, member)
    out.webhook_secret = shown_secret
    return out


def read_preferences(ctx: Context, community: Community, member: str, issued_at: int, signature: str) -> PreferencesOut:
    typed = signing.reading_typed_data(ctx, community, member, issued_at)
    _, member, _, digest = _verified(ctx, community, typed, signature)
    with ctx.sessions() as session:
        _accept(session, community, member, "read", issued_at, digest)
        session.commit()
    return preferences(ctx, community, member)


def preferences(ctx: Context, community: Community, member: str) -> PreferencesOut:
    """A member's channels as they stand (the latest of each, active or ended): for their own signed request only."""
    channels: dict[str, ChannelOut | None] = {}
    with ctx.sessions() as session:
        for channel in ("email", "webhook"):
            latest = session.scalars(
                select(Subscription)
                .where(
                    Subscription.community == community.slug,
                    Subscription.member == member,
                    Subscription.channel == channel,
                )
                .order_by(Subscription.id.desc())
                .limit(1)
            ).first()
            channels[channel] = (
                None
                if latest is None or latest.ended_because in ("removed", "replaced")
                else ChannelOut(
                    target=latest.target,
                    mode=latest.mode,
                    active=latest.active,
                    ended_because=latest.ended_because,
                    failures=latest.failures,
                    last_error=latest.last_error,
                )
            )
    return PreferencesOut(
        community=community.slug,
        member=member,
        email=channels["email"],
        webhook=channels["webhook"],
        email_offered=bool(ctx.settings.notify_smtp_host),
        language=language_of(ctx.sessions, community.slug, member) or _language(None),
        feeds=feeds_of(ctx, community, member),
    )


# ---------------------------------------------------------------------- one click


def unsubscribe(ctx: Context, community: Community, token: str) -> tuple[Subscription, bool]:
    """End the subscription the link names: (it, whether it had ended already). A link that is not
    one of ours, or another community's, is refused without saying which part was wrong."""
    refused = NotFound(
        gettext("This unsubscribe link is not valid: use the whole link from the message, exactly as it came"),
        error="UnknownUnsubscribeLink",
    )
    number, _, _ = token.partition(".")
    if not (number.isascii() and number.isdigit()) or not 0 < int(number) < 2**31:  # ids are 32-bit in PostgreSQL
        raise refused
    key = service_key(ctx.sessions)
    with ctx.sessions() as session:
        subscription = session.get(Subscription, int(number))
        if (
            subscription is None
            or subscription.community != community.slug
            or not hmac.compare_digest(unsubscribe_token(key, subscription), token)
        ):
            raise refused
        already = not subscription.active
        if not already:
            end(session, subscription, "unsubscribed")
            session.commit()
        session.expunge(subscription)
    return subscription, already
