"""Atom feeds (RFC 4287), no subscription needed: one per member (nominations for them, claims
waiting for their endorsement, votes closing that they have not cast, badges they earned, and
notices about their messages) and one per community (proposals opened and closing, badges minted).

A member who hid their profile has no public feed: theirs answers only at its private link (the one
their preferences answer), and the community's feed leaves their badges out. Text from the chain is
stripped of what XML 1.0 cannot hold, so no member's bytes can make a feed unreadable.
"""

from __future__ import annotations

import re
import time
import uuid
import xml.etree.ElementTree as ET

from sqlalchemy import select

from backend.chain.deployments import Community
from backend.context import Context
from backend.errors import NotFound
from backend.i18n import current_locale, gettext, use_locale
from backend.indexer.reads import index_time
from backend.notifications import events as told
from backend.notifications.models import FEED, Delivery
from backend.notifications.service import feed_token_valid, language_of

ATOM = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml; charset=utf-8"
ENTRIES = 100
# Characters XML 1.0 does not allow (C0 controls but tab and line breaks, surrogates, U+FFFE and U+FFFF).
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _stamp(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _id(ctx: Context, community: Community, key: str) -> str:
    """A stable id for an entry or a feed: a UUID named by its place on this service."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{ctx.settings.public_base_url}/c/{community.slug}#{key}").urn


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    if text is not None:
        element.text = _xml_text(text)
    return element


def render(
    ctx: Context,
    community: Community,
    *,
    key: str,
    title: str,
    self_url: str,
    page_url: str,
    entries: list[told.Event],
    now: int,
) -> bytes:
    # Every element below in Atom's namespace, its text in the language of the moment.
    feed = ET.Element("feed", {"xmlns": ATOM, "xml:lang": current_locale()})
    _sub(feed, "id", _id(ctx, community, key))
    _sub(feed, "title", title)
    _sub(feed, "updated", _stamp(max([now, *(e.occurred_at for e in entries)]) if entries else now))
    author = _sub(feed, "author")
    _sub(author, "name", community.name)
    _sub(feed, "link", rel="self", type="application/atom+xml", href=_xml_text(self_url))
    _sub(feed, "link", rel="alternate", type="text/html", href=_xml_text(page_url))
    _sub(feed, "generator", "Contribution Commons")
    for event in entries[:ENTRIES]:
        entry = _sub(feed, "entry")
        _sub(entry, "id", _id(ctx, community, event.key))
        _sub(entry, "title", event.subject)
        _sub(entry, "updated", _stamp(event.occurred_at))
        _sub(entry, "link", rel="alternate", type="text/html", href=_xml_text(event.link))
        _sub(entry, "category", term=event.kind)
        _sub(entry, "content", event.text, type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def member_feed(ctx: Context, community: Community, member: str, token: str | None) -> bytes:
    """The member's feed, in the language they chose to be told in (else the request's)."""
    with use_locale(language_of(ctx.sessions, community.slug, member) or current_locale()):
        return _member_feed(ctx, community, member, token)


def _member_feed(ctx: Context, community: Community, member: str, token: str | None) -> bytes:
    with ctx.sessions() as session:
        people = told.people_of(session, community, {member})
        now = index_time(session, community)
        notices = session.scalars(
            select(Delivery)
            .where(Delivery.community == community.slug, Delivery.member == member, Delivery.channel == FEED)
            .order_by(Delivery.id.desc())
            .limit(ENTRIES)
        ).all()
    person = people.get(member)
    if person is None:
        raise NotFound(
            gettext(
                "%(member)s is not a member of '%(community)s': there is no feed for them",
                member=member,
                community=community.slug,
            )
        )
    if person.hidden and not feed_token_valid(ctx, community, member, token):
        raise NotFound(
            gettext(
                "There is no public feed for %(member)s: they keep their profile out of public lists. Their own feed "
                "is at the private link their preferences answer",
                member=member,
            ),
            error="ProfileHidden",
        )
    events = told.member_events(ctx, community, member, now=now)
    events += [
        told.Event(
            key=n.event_key,
            kind=n.kind,
            occurred_at=n.occurred_at,
            subject=n.subject,
            text=n.text,
            link=n.data.get("link", ""),
        )
        for n in notices
    ]
    events.sort(key=lambda e: (e.occurred_at, e.key), reverse=True)
    name = told.Words(ctx, community, people).name(member, viewer=member)
    base = f"{ctx.settings.public_base_url}/communities/{community.slug}/feeds/members/{member}.atom"
    return render(
        ctx,
        community,
        key=f"feed/members/{member}",
        title=gettext("For %(name)s in %(community)s", name=name, community=community.name),
        self_url=base + (f"?token={token}" if token and person.hidden else ""),
        page_url=f"{ctx.settings.public_base_url}/c/{community.slug}/awaiting?member={member}",
        entries=events,
        now=now,
    )


def community_feed(ctx: Context, community: Community) -> bytes:
    with ctx.sessions() as session:
        now = index_time(session, community)
    return render(
        ctx,
        community,
        key="feed/community",
        title=gettext("%(community)s: proposals and badges", community=community.name),
        self_url=f"{ctx.settings.public_base_url}/communities/{community.slug}/feeds/community.atom",
        page_url=f"{ctx.settings.public_base_url}/c/{community.slug}",
        entries=told.community_events(ctx, community, now=now),
        now=now,
    )
