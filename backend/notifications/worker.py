"""The notifier: writes every message to the outbox first, then sends it, off the request path.

In a loop, while this process leads (the relayer's leader lock: the process that indexes and
relays also tells), every `notify_poll_seconds`:
1. derive: when a community's index moved on (or every `notify_scan_seconds`, for reminders that
   come with time), read what each subscribed member should be told (events.py) and write what is
   new to `notice_deliveries`, one row per (member, event, channel): held for a daily digest, or
   pending;
2. send: each subscription with something pending (or a digest due) is served by one of
   `notify_senders` threads: a digest gathers what was held into one message (itself a delivery),
   then pending messages go in order. A failure stops that subscription's turn and backs it off
   (doubling, up to `notify_retry_max_seconds`); an endpoint that fails
   `notify_disable_after_failures` times in a row within the window (or answers 410) is turned
   off, and the member told by email (if they have another channel that works) and in their feed.

What no longer waits when its turn comes (answered, endorsed, closed) is dropped, not sent. A
message is marked sent once the endpoint accepted it: a crash in between sends it again, with the
same webhook-id (receivers deduplicate on it) or Message-ID.

Everything a member is told is written in their language (the one their preferences chose, else
English): a message when it is written to the outbox, a digest and an email's greeting when sent.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.chain.deployments import Community
from backend.context import Context
from backend.i18n import DEFAULT, N_, current_locale, gettext, ngettext, use_locale
from backend.indexer.models import Cursor
from backend.indexer.reads import index_time
from backend.members import offchain
from backend.notifications import service
from backend.notifications.channels import Email, Mailer, SendFailed, WebhookSender
from backend.notifications.events import SECTIONS, SINCE_KINDS, WAITING_KINDS, Event, member_events, member_name
from backend.notifications.models import (
    DIGESTED,
    DROPPED,
    FEED,
    HELD,
    PENDING,
    SENT,
    Delivery,
    SignedRequest,
    Subscription,
    create_notice_tables,
)
from backend.relay.leader import LeaderLock
from backend.units import utc_time

log = logging.getLogger(__name__)

# Messages one subscription's turn sends at most; held items one digest gathers at most.
TURN = 20
DIGEST_ITEMS = 200
CLEANUP_EVERY = 600.0
NO_LONGER_WAITS = "no longer waits (answered, endorsed or closed) when its turn came"  # the outbox's own note


class NoticeWorker:
    def __init__(
        self,
        *,
        ctx: Context,
        leader: LeaderLock,
        mailer: Mailer | None = None,
        webhooks: WebhookSender | None = None,
    ) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.sessions = ctx.sessions
        self.leader = leader
        self.mailer = mailer or (Mailer(ctx.settings) if ctx.settings.notify_smtp_host else None)
        self.webhooks = webhooks or WebhookSender(ctx.settings)
        self.wake = threading.Event()
        self.leading = False
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._in_flight: set[int] = set()
        self._seen: dict[str, Any] = {}
        self._scanned: dict[str, float] = {}
        self._rescan: set[str] = set()
        self._cleaned = 0.0
        self._key: bytes | None = None

    @classmethod
    def build(cls, ctx: Context) -> NoticeWorker:
        """Its tables made (if missing), leading with the relayer's lock."""
        create_notice_tables(ctx.sessions.kw["bind"])
        return cls(ctx=ctx, leader=ctx.worker.leader)

    # ------------------------------------------------------------------ loop

    def start(self) -> None:
        self._stop.clear()
        self._pool = ThreadPoolExecutor(max_workers=self.settings.notify_senders, thread_name_prefix="notify")
        self._thread = threading.Thread(target=self._run, name="notifier", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def rescan(self, slug: str) -> None:
        """Read what to tell in this community at the next step (new preferences were set)."""
        self._rescan.add(slug)
        self.wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.leader.held() or self.leader.try_acquire():
                    self.leading = True
                    self.step()
                    self.last_error = None
                else:
                    self.leading = False
            except Exception as exc:
                self.last_error = repr(exc)
                log.exception("notifier step failed")
            self.wake.wait(self.settings.notify_poll_seconds)
            self.wake.clear()

    def step(self, *, wait: bool = False) -> None:
        """Derive, send, clean up. `wait`: send in this thread and return once done (tests)."""
        for community in self.ctx.deployments.communities.values():
            try:
                self.derive(community)
            except Exception as exc:
                self.last_error = repr(exc)
                log.exception("reading what to tell in %s failed", community.slug)
        self.dispatch(wait=wait)
        if time.monotonic() - self._cleaned >= CLEANUP_EVERY:
            self.cleanup()
            self._cleaned = time.monotonic()

    @property
    def key(self) -> bytes:
        if self._key is None:
            self._key = service.service_key(self.sessions)
        return self._key

    # ------------------------------------------------------------------ derive

    def derive(self, community: Community, *, force: bool = False) -> int:
        """Write what is new for this community's subscribers; how many deliveries were written."""
        slug = community.slug
        with self.sessions() as session:
            cursor = session.get(Cursor, slug)
            mark = (cursor.block_number, cursor.block_timestamp) if cursor else None
        due = (
            force
            or slug in self._rescan
            or mark != self._seen.get(slug)
            or time.monotonic() - self._scanned.get(slug, float("-inf")) >= self.settings.notify_scan_seconds
        )
        if not due:
            return 0
        self._rescan.discard(slug)
        with self.sessions() as session:
            subscriptions = session.scalars(
                select(Subscription)
                .where(Subscription.community == slug, Subscription.active.is_(True))
                .order_by(Subscription.member, Subscription.id)
            ).all()
        by_member: dict[str, list[Subscription]] = defaultdict(list)
        for subscription in subscriptions:
            by_member[subscription.member].append(subscription)
        written = 0
        for member, subs in by_member.items():
            with use_locale(self.language(slug, member)):
                events = member_events(self.ctx, community, member, since=min(s.since for s in subs))
            for sub in subs:
                chosen = [e for e in events if e.kind not in SINCE_KINDS or e.occurred_at >= sub.since]
                with self.sessions() as session:
                    written += self._write(session, slug, member, sub.channel, chosen, held=sub.mode == "daily")
                    try:
                        session.commit()
                    except IntegrityError:  # another writer got there first: the next reading settles it
                        session.rollback()
        self._seen[slug], self._scanned[slug] = mark, time.monotonic()
        return written

    @staticmethod
    def _write(
        session: Session,
        slug: str,
        member: str,
        channel: str,
        events: list[Event],
        *,
        held: bool = False,
        urgent: bool = False,
        state: str | None = None,
    ) -> int:
        if not events:
            return 0
        existing = set(
            session.scalars(
                select(Delivery.event_key).where(
                    Delivery.community == slug,
                    Delivery.member == member,
                    Delivery.channel == channel,
                    Delivery.event_key.in_([e.key for e in events]),
                )
            )
        )
        new = [e for e in events if e.key not in existing]
        for event in new:
            session.add(
                Delivery(
                    community=slug,
                    member=member,
                    channel=channel,
                    event_key=event.key,
                    kind=event.kind,
                    subject=event.subject,
                    text=event.text,
                    data={**event.data, "link": event.link},
                    occurred_at=event.occurred_at,
                    urgent=urgent,
                    state=state or (HELD if held and not urgent else PENDING),
                    sent_at=time.time() if state == SENT else None,
                )
            )
        return len(new)

    def language(self, community: str, member: str) -> str:
        """The language the member is told in: their choice, else the default."""
        return service.language_of(self.sessions, community, member) or DEFAULT

    # ------------------------------------------------------------------ send

    def dispatch(self, *, wait: bool = False) -> int:
        """Give each subscription with something due a turn; how many turns were given."""
        now = time.time()
        with self.sessions() as session:
            pending = set(
                session.execute(
                    select(Delivery.community, Delivery.member, Delivery.channel)
                    .where(Delivery.state == PENDING)
                    .distinct()
                ).all()
            )
            held = set(
                session.execute(
                    select(Delivery.community, Delivery.member, Delivery.channel)
                    .where(Delivery.state == HELD)
                    .distinct()
                ).all()
            )
            if not pending and not held:
                return 0
            subs = session.scalars(
                select(Subscription).where(
                    Subscription.active.is_(True),
                    Subscription.next_attempt_at <= now,
                    Subscription.member.in_(sorted({m for _, m, _ in pending | held})),
                )
            ).all()
            clocks: dict[str, int] = {}
            due = []
            for sub in subs:
                key = (sub.community, sub.member, sub.channel)
                if key not in pending:
                    if key not in held or sub.mode != "daily":
                        continue
                    community = self.ctx.deployments.communities.get(sub.community)
                    if community is None:
                        continue
                    if sub.community not in clocks:
                        clocks[sub.community] = index_time(session, community)
                    if clocks[sub.community] < sub.last_digest_at + self.settings.notify_digest_seconds:
                        continue
                due.append(sub.id)
        turns = 0
        for sub_id in due:
            with self._lock:
                if sub_id in self._in_flight:
                    continue
                self._in_flight.add(sub_id)
            turns += 1
            if wait or self._pool is None:
                self._turn(sub_id)
            else:
                self._pool.submit(self._turn, sub_id)
        return turns

    def _turn(self, sub_id: int) -> None:
        try:
            with self.sessions() as session:
                sub = session.get(Subscription, sub_id)
                who = (sub.community, sub.member) if sub is not None else None
            with use_locale(self.language(*who) if who else DEFAULT):
                self.serve(sub_id)
        except Exception:
            log.exception("sending for subscription %s failed", sub_id)
        finally:
            with self._lock:
                self._in_flight.discard(sub_id)

    def serve(self, sub_id: int) -> None:
        """One subscription's turn: its digest if due, then what is pending, in order, until one fails."""
        with self.sessions() as session:
            sub = session.get(Subscription, sub_id)
            if sub is None or not sub.active:
                return
            community = self.ctx.deployments.communities.get(sub.community)
            if community is None:
                return
            now = index_time(session, community)
            if sub.mode == "daily" and now >= sub.last_digest_at + self.settings.notify_digest_seconds:
                self._digest(session, sub, community, now)
            pending = session.scalars(
                select(Delivery)
                .where(
                    Delivery.community == sub.community,
                    Delivery.member == sub.member,
                    Delivery.channel == sub.channel,
                    Delivery.state == PENDING,
                )
                .order_by(Delivery.id)
                .limit(TURN)
            ).all()
            if not pending:
                return
            waiting = self._waiting(community, sub.member, pending)
            for delivery in pending:
                if delivery.kind in WAITING_KINDS and delivery.event_key not in waiting:
                    delivery.state, delivery.last_error = DROPPED, NO_LONGER_WAITS
                    session.commit()
                    continue
                try:
                    self._send(sub, delivery, community)
                except SendFailed as failure:
                    self._failed(session, sub, delivery, failure, community)
                    session.commit()
                    return
                delivery.state, delivery.sent_at = SENT, time.time()
                delivery.attempts += 1
                sub.failures = sub.retries = 0
                sub.failing_since, sub.next_attempt_at, sub.last_error = None, 0.0, None
                session.commit()

    def _waiting(self, community: Community, member: str, deliveries: Sequence[Delivery]) -> set[str]:
        """The keys of what still waits for the member, if any of these deliveries may have stopped waiting."""
        if not any(d.kind in WAITING_KINDS for d in deliveries):
            return set()
        return {e.key for e in member_events(self.ctx, community, member)}

    def _digest(self, session: Session, sub: Subscription, community: Community, now: int) -> None:
        """Gather what was held for a daily subscription into one message, itself a delivery."""
        items = session.scalars(
            select(Delivery)
            .where(
                Delivery.community == sub.community,
                Delivery.member == sub.member,
                Delivery.channel == sub.channel,
                Delivery.state == HELD,
            )
            .order_by(Delivery.id)
            .limit(DIGEST_ITEMS)
        ).all()
        waiting = self._waiting(community, sub.member, items)
        kept = []
        for item in items:
            if item.kind in WAITING_KINDS and item.event_key not in waiting:
                item.state, item.last_error = DROPPED, NO_LONGER_WAITS
            else:
                kept.append(item)
        sub.last_digest_at = now
        if kept:
            subject, text = digest_words(self.ctx, community, sub.member, kept)
            digest = Delivery(
                community=sub.community,
                member=sub.member,
                channel=sub.channel,
                event_key=f"digest:{kept[0].id}",
                kind="digest",
                subject=subject,
                text=text,
                data={
                    "items": [{"event": d.event_key, "kind": d.kind, "subject": d.subject, **d.data} for d in kept],
                    "link": awaiting_link(self.ctx, community, sub.member),
                },
                occurred_at=now,
                state=PENDING,
            )
            session.add(digest)
            session.flush()
            for item in kept:
                item.state, item.digest_id = DIGESTED, digest.id
        session.commit()

    def _send(self, sub: Subscription, delivery: Delivery, community: Community) -> None:
        unsubscribe = service.unsubscribe_url(self.ctx, self.key, sub)
        if sub.channel == "email":
            if self.mailer is None:
                raise SendFailed(gettext("this service has no SMTP server set"), endpoint=False)
            name = member_name(self.ctx, community, sub.member)
            hello = gettext("Hello %(name)s,", name=name) if name else gettext("Hello,")
            why = (
                gettext(
                    "You get these emails because you asked %(community)s to tell you once a day.",
                    community=community.name,
                )
                if sub.mode == "daily"
                else gettext(
                    "You get these emails because you asked %(community)s to tell you as things happen.",
                    community=community.name,
                )
            )
            stop = gettext("To stop them, open this link (one click, no login): %(link)s", link=unsubscribe)
            body = f"{hello}\n\n{delivery.text}\n\n-- \n{why}\n{stop}\n"
            self.mailer.send(
                Email(
                    to=sub.target,
                    subject=delivery.subject,
                    text=body,
                    message_id=f"notice-{delivery.id}.{community.slug}",
                    unsubscribe_url=unsubscribe,
                    language=current_locale(),
                )
            )
            return
        if not sub.secret:
            raise SendFailed(gettext("the webhook has no signing secret"), endpoint=True, gone=True)
        timestamp = int(time.time())
        payload = {
            "type": f"commons.{delivery.kind}",
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp)),
            "text": f"{delivery.subject}\n{delivery.text}",
            "data": {
                "community": community.slug,
                "member": sub.member,
                "event": delivery.event_key,
                "kind": delivery.kind,
                "subject": delivery.subject,
                **delivery.data,
                "unsubscribe": unsubscribe,
            },
        }
        encoded = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        self.webhooks.send(sub.target, sub.secret, f"msg_{community.slug}_{delivery.id}", timestamp, encoded)

    def _failed(
        self, session: Session, sub: Subscription, delivery: Delivery, failure: SendFailed, community: Community
    ) -> None:
        now, settings = time.time(), self.settings
        delivery.attempts += 1
        delivery.last_error = sub.last_error = failure.reason
        sub.retries += 1
        if failure.endpoint:
            if sub.failing_since is None or now - sub.failing_since > settings.notify_failure_window_seconds:
                sub.failing_since, sub.failures = now, 1
            else:
                sub.failures += 1
        delay = min(
            settings.notify_retry_base_seconds * 2 ** min(sub.retries - 1, 30), settings.notify_retry_max_seconds
        )
        sub.next_attempt_at = now + delay * random.uniform(0.9, 1.1)
        log.info("subscription %s: %s (attempt %s)", sub.id, failure.reason, sub.retries)
        if failure.gone or (failure.endpoint and sub.failures >= settings.notify_disable_after_failures):
            self._turn_off(session, sub, failure, community)

    def _turn_off(self, session: Session, sub: Subscription, failure: SendFailed, community: Community) -> None:
        service.end(session, sub, "failing")
        webhook = sub.channel == "webhook"
        since = utc_time(int(sub.failing_since or time.time()))
        if failure.gone:
            why = (
                gettext("Your chat webhook answered that it is gone (HTTP 410)")
                if webhook
                else gettext("Your email address answered that it is gone (HTTP 410)")
            )
        else:
            said = (
                N_("Your chat webhook failed %(num)s times in a row since %(since)s (%(why)s)")
                if webhook
                else N_("Your email address failed %(num)s times in a row since %(since)s (%(why)s)")
            )
            why = gettext(said, num=sub.failures, since=since, why=failure.reason)
        link = awaiting_link(self.ctx, community, sub.member)
        notice = Event(
            key=f"endpoint-off:{sub.id}",
            kind="endpoint-off",
            occurred_at=index_time(session, community),
            subject=(
                gettext("%(community)s stopped sending to your chat webhook", community=community.name)
                if webhook
                else gettext("%(community)s stopped sending to your email address", community=community.name)
            ),
            text=gettext(
                "%(why)s, so %(community)s stopped sending to it. Nothing is lost: what waits for you is on your page "
                "and in your feed. To start again, choose how you hear once more. Your page: %(link)s",
                why=why,
                community=community.name,
                link=link,
            ),
            link=link,
            data={"channel": sub.channel},
        )
        log.warning("subscription %s turned off after repeated failures", sub.id)
        self._write(session, sub.community, sub.member, FEED, [notice], state=SENT)
        email = session.scalars(
            select(Subscription).where(
                Subscription.community == sub.community,
                Subscription.member == sub.member,
                Subscription.channel == "email",
                Subscription.active.is_(True),
                Subscription.id != sub.id,
            )
        ).first()
        if email is not None:
            self._write(session, sub.community, sub.member, "email", [notice], urgent=True)

    # ------------------------------------------------------------------ upkeep

    def cleanup(self) -> None:
        """Forget signed requests too old to be replayed anyway; drop what waits for a channel that ended."""
        horizon = time.time() - max(2 * self.settings.notify_signature_max_age_seconds, 2 * offchain.HOUR)
        with self.sessions() as session:
            session.execute(delete(SignedRequest).where(SignedRequest.accepted_at < horizon))
            active = select(Subscription.id).where(
                Subscription.community == Delivery.community,
                Subscription.member == Delivery.member,
                Subscription.channel == Delivery.channel,
                Subscription.active.is_(True),
            )
            session.execute(
                update(Delivery)
                .where(Delivery.state.in_((HELD, PENDING)), ~active.exists())
                .values(state=DROPPED, last_error="no channel to send it by")
            )
            session.commit()


def awaiting_link(ctx: Context, community: Community, member: str) -> str:
    return f"{ctx.settings.public_base_url}/c/{community.slug}/awaiting?member={member}"


def digest_words(ctx: Context, community: Community, member: str, items: list[Delivery]) -> tuple[str, str]:
    """A digest's subject and text: what was held, grouped by kind, each with its link."""
    count = len(items)
    subject = ngettext(
        "%(num)s thing for you in %(community)s today",
        "%(num)s things for you in %(community)s today",
        count,
        community=community.name,
    )
    parts = [gettext("Here is what happened for you in %(community)s since the last digest.", community=community.name)]
    for kinds, heading in SECTIONS:
        group = [d for d in items if d.kind in kinds]
        if group:
            lines = "\n".join(f"- {d.subject}: {d.data.get('link', '')}" for d in group)
            parts.append(f"{gettext(heading)} ({len(group)})\n{lines}")
    others = [d for d in items if not any(d.kind in kinds for kinds, _ in SECTIONS)]
    if others:
        parts.append(
            gettext("Other news") + "\n" + "\n".join(f"- {d.subject}: {d.data.get('link', '')}" for d in others)
        )
    parts.append(gettext("Everything that waits for you: %(link)s", link=awaiting_link(ctx, community, member)))
    return subject, "\n\n".join(parts)
