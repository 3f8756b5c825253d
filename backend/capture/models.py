"""The tables of capture. Not chain data: nothing on chain can rebuild the deliveries a source made
or the drafts waiting for members, so, like the relayer's outbox and the notices, they live under
their own metadata, which index rebuilds never drop.

- `capture_deliveries`: every delivery accepted (and every item imported), unique per (community,
  source, delivery id): a delivery replayed is refused, an item imported twice is skipped. Its body
  is not kept, only its SHA-256 and what came of it;
- `capture_items`: the work a rule captured (a merged pull request, a topic), by its key at the
  source: what an `/endorse` comment on it refers to;
- `capture_drafts`: what waits for a member to sign (a claim, an attestation) or for any member to
  send (an invitation of an author no member is), unique per (community, kind, item, who), so that
  a redelivery or a second import makes nothing twice. A draft is never a signature: it becomes a
  claim, attestation or invitation only when a member signs one at the usual prepare endpoints,
  and the reads see it done once the index holds what was signed;
- `capture_dismissals`: a member's signed "not this one" for a draft;
- `capture_preferences`: a member who turned capture off (or on again), by signed request;
- `capture_signed_requests`: the signed requests accepted (their EIP-712 digests), each once;
- `capture_people`: GitLab's numbers of people and their user names, as deliveries show them
  (a merge request's hook names its author by number only).
"""

from __future__ import annotations

import time

from sqlalchemy import BigInteger, Boolean, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SOURCES = ("github", "gitlab", "discourse", "standard")
# What a draft becomes when signed.
CLAIM, ATTESTATION, INVITATION = "claim", "attestation", "invitation"


class CaptureBase(DeclarativeBase):
    pass


class Delivery(CaptureBase):
    __tablename__ = "capture_deliveries"
    __table_args__ = (
        UniqueConstraint("community", "source", "delivery_id", name="uq_capture_delivery"),
        Index("ix_capture_delivery_recent", "community", "source", "received_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    community: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))
    delivery_id: Mapped[str] = mapped_column(String(200))  # X-GitHub-Delivery, webhook-id, import:<sha256>, ...
    event: Mapped[str] = mapped_column(String(100))
    body_sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[float] = mapped_column(Float, default=time.time)
    imported: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[str] = mapped_column(Text)  # what came of it, in words
    drafts: Mapped[int] = mapped_column(Integer, default=0)


class Item(CaptureBase):
    __tablename__ = "capture_items"
    __table_args__ = (UniqueConstraint("community", "source", "item_key", "indicator_id", name="uq_capture_item"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    community: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))
    item_key: Mapped[str] = mapped_column(String(400))  # owner/name#12, group/app!4, https://forum/t/42, ...
    url: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    indicator_id: Mapped[int] = mapped_column(BigInteger)
    author_site: Mapped[str] = mapped_column(String(16))
    author_handle: Mapped[str] = mapped_column(Text)
    author_folded: Mapped[str] = mapped_column(Text)
    captured_at: Mapped[float] = mapped_column(Float, default=time.time)


class Draft(CaptureBase):
    __tablename__ = "capture_drafts"
    __table_args__ = (
        UniqueConstraint("community", "kind", "item_id", "subject", name="uq_capture_draft"),
        Index("ix_capture_draft_member", "community", "member", "id"),
        Index("ix_capture_draft_kind", "community", "kind", "id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    community: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # claim | attestation | invitation
    item_id: Mapped[int] = mapped_column(Integer)
    # Who signs it: the member (claim, attestation); null for an invitation, which any member may send.
    member: Mapped[str | None] = mapped_column(String(42), nullable=True)
    # What makes it unique beside the item: the member's address, or site:handle for an invitation.
    subject: Mapped[str] = mapped_column(String(200))
    indicator_id: Mapped[int] = mapped_column(BigInteger)
    evidence_uri: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))
    # The author (of the work) by their handle at the source: the invitee's name for an invitation.
    author_site: Mapped[str] = mapped_column(String(16))
    author_handle: Mapped[str] = mapped_column(Text)
    delivery: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[float] = mapped_column(Float, default=time.time)


class Dismissal(CaptureBase):
    __tablename__ = "capture_dismissals"
    draft_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member: Mapped[str] = mapped_column(String(42), primary_key=True)
    community: Mapped[str] = mapped_column(String(64))
    dismissed_at: Mapped[float] = mapped_column(Float, default=time.time)


class Preference(CaptureBase):
    __tablename__ = "capture_preferences"
    community: Mapped[str] = mapped_column(String(64), primary_key=True)
    member: Mapped[str] = mapped_column(String(42), primary_key=True)
    capture: Mapped[bool] = mapped_column(Boolean)
    issued_at: Mapped[int] = mapped_column(BigInteger)


class SignedRequest(CaptureBase):
    __tablename__ = "capture_signed_requests"
    __table_args__ = (Index("ix_capture_signed_member", "community", "member", "accepted_at"),)
    digest: Mapped[str] = mapped_column(String(66), primary_key=True)
    community: Mapped[str] = mapped_column(String(64))
    member: Mapped[str] = mapped_column(String(42))
    kind: Mapped[str] = mapped_column(String(16))  # dismissal | preference
    issued_at: Mapped[int] = mapped_column(BigInteger)
    accepted_at: Mapped[float] = mapped_column(Float, default=time.time)


class Person(CaptureBase):
    __tablename__ = "capture_people"
    community: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(16), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    handle: Mapped[str] = mapped_column(Text)


def create_capture_tables(engine: Engine) -> None:
    """The tables and their indexes, if missing (several processes may race to make them)."""
    for attempt in range(3):
        try:
            CaptureBase.metadata.create_all(engine)
            return
        except DatabaseError:
            if attempt == 2:
                raise
            time.sleep(0.2)
