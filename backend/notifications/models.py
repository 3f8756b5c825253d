"""The tables of being told. Not chain data: nothing on chain can rebuild a member's email address
or the deliveries made, so, like the relayer's outbox, they live under their own metadata, which
index rebuilds never drop.

- `notice_subscriptions`: a member's channel in a community (email or webhook), with where it
  sends (private: answered only to the member's own signed request, never logged), the mode (each
  message, or a daily digest), and how its endpoint fares (failures, backoff, turned off);
- `notice_deliveries`: the outbox. Every message is written here before it is sent, unique per
  (community, member, event, channel), so nothing is told twice, whatever restarts or reindexes;
- `notice_signed_requests`: the signed requests accepted (their EIP-712 digests), so none is
  accepted twice, and a member's updates per hour are bounded;
- `notice_keys`: the service's own secret for unsubscribe links and private feed links, made on
  first use and shared by every process over the database;
- `notice_languages`: the language a member chose to be told in (with their signed preferences),
  a table of its own so that a database made before it gains it without a migration.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Channels a member subscribes to; "feed" is where notices to the member are kept for their feed.
CHANNELS = ("email", "webhook")
FEED = "feed"
MODES = ("each", "daily")

# A delivery's life: held (waits for the member's daily digest) | pending (to send) -> sent;
# held -> digested (carried by a digest, itself a delivery); dropped (no channel left to send it
# by, or what it told no longer waits).
HELD, PENDING, SENT, DIGESTED, DROPPED = "held", "pending", "sent", "digested", "dropped"


class NoticeBase(DeclarativeBase):
    pass


class Subscription(NoticeBase):
    __tablename__ = "notice_subscriptions"
    __table_args__ = (
        Index("ix_notice_subscription_member", "community", "member", "channel", "active"),
        Index("ix_notice_subscription_due", "active", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    community: Mapped[str] = mapped_column(String(64))
    member: Mapped[str] = mapped_column(String(42))
    channel: Mapped[str] = mapped_column(String(8))  # email | webhook
    target: Mapped[str] = mapped_column(Text)  # the email address or the webhook's URL: private
    secret: Mapped[str | None] = mapped_column(Text, nullable=True)  # a webhook's whsec_... signing secret
    mode: Mapped[str] = mapped_column(String(8))  # each | daily
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[float] = mapped_column(Float, default=time.time)
    # The index's clock when subscribed: badges and proposals before it are not told (what still
    # waits for the member is, however old).
    since: Mapped[int] = mapped_column(BigInteger)
    last_digest_at: Mapped[int] = mapped_column(BigInteger)  # the index's clock at the last digest
    # The endpoint: failures in a row that are its own (turning it off past a threshold), and all
    # failures in a row (the backoff); the wall-clock time before which nothing is tried again.
    failures: Mapped[int] = mapped_column(Integer, default=0)
    failing_since: Mapped[float | None] = mapped_column(Float, nullable=True, default=None)
    retries: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[float] = mapped_column(Float, default=0.0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)  # never the target
    ended_at: Mapped[float | None] = mapped_column(Float, nullable=True, default=None)
    # Why it ended: unsubscribed (the link), replaced or removed (the member's signed preferences),
    # failing (turned off after repeated failures).
    ended_because: Mapped[str | None] = mapped_column(String(16), nullable=True, default=None)


class Delivery(NoticeBase):
    __tablename__ = "notice_deliveries"
    __table_args__ = (
        UniqueConstraint("community", "member", "event_key", "channel", name="uq_notice_delivery"),
        Index("ix_notice_delivery_waiting", "community", "member", "channel", "state", "id"),
        Index("ix_notice_delivery_state", "state", "channel"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    community: Mapped[str] = mapped_column(String(64))
    member: Mapped[str] = mapped_column(String(42))
    channel: Mapped[str] = mapped_column(String(8))  # email | webhook | feed
    event_key: Mapped[str] = mapped_column(String(200))  # nomination:12, badge:7, digest:40, ...
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurred_at: Mapped[int] = mapped_column(BigInteger)  # the index's clock when it happened
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)  # sent at once even under a digest
    state: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    digest_id: Mapped[int | None] = mapped_column(Integer, nullable=True, default=None)
    created_at: Mapped[float] = mapped_column(Float, default=time.time)
    sent_at: Mapped[float | None] = mapped_column(Float, nullable=True, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)


class SignedRequest(NoticeBase):
    __tablename__ = "notice_signed_requests"
    __table_args__ = (Index("ix_notice_signed_member", "community", "member", "accepted_at"),)
    digest: Mapped[str] = mapped_column(String(66), primary_key=True)
    community: Mapped[str] = mapped_column(String(64))
    member: Mapped[str] = mapped_column(String(42))
    kind: Mapped[str] = mapped_column(String(8))  # set | read
    issued_at: Mapped[int] = mapped_column(BigInteger)
    accepted_at: Mapped[float] = mapped_column(Float, default=time.time)


class NoticeLanguage(NoticeBase):
    """The language of everything a member is told in a community: their emails, webhook messages
    and feed (a code of backend/i18n's SUPPORTED)."""

    __tablename__ = "notice_languages"
    community: Mapped[str] = mapped_column(String(64), primary_key=True)
    member: Mapped[str] = mapped_column(String(42), primary_key=True)
    language: Mapped[str] = mapped_column(String(16))


class ServiceKey(NoticeBase):
    __tablename__ = "notice_keys"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


def create_notice_tables(engine: Engine) -> None:
    """The tables and their indexes, if missing. Several processes starting at once over one
    PostgreSQL may race to create them: the loser finds them made."""
    for attempt in range(3):
        try:
            NoticeBase.metadata.create_all(engine)
            for table in NoticeBase.metadata.sorted_tables:
                for index in table.indexes:
                    index.create(engine, checkfirst=True)
            return
        except DatabaseError:
            if attempt == 2:
                raise
            time.sleep(0.2)
