"""What is told, derived from the index, in the words a mentor uses.

For a member: a nomination waiting for their answer; a claim waiting for their endorsement (one
they may attest now, as the awaiting lists say); a badge they earned; and reminders: a vote that
closes within a day which they have not cast, a nomination left a week without an answer. For a
community: proposals opened and closing, badges minted.

Each event has a key that the chain's records alone determine (nomination:12, badge:7,
vote-reminder:<proposal id>), so the outbox's unique (member, event, channel) tells it once,
however often the index is read again or rebuilt.

Nothing is told about a member who hid their profile, except to that member: a claim of theirs is
not put before others to endorse, their badges are not in the community's feed, and a nomination
or proposal they made names them only as "a member". People are named by the name they gave
themselves, else a short address; text from the chain is made one line where it goes into a
subject, and an evidence link is shown only when its scheme is one the service links to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.chain.deployments import Community
from backend.claims import service as claim_reads
from backend.claims.schemas import ClaimOut
from backend.context import Context
from backend.i18n import N_, gettext, ngettext
from backend.indexer.models import Badge, IndicatorVersion, Member, Proposal, Vote
from backend.indexer.reads import index_time
from backend.notifications.channels import one_line
from backend.units import utc_time

DAY = 86_400
WEEK = 7 * DAY
# How many of each kind one reading takes (the oldest waiting first; the newest badges).
LIMIT = 100

# Kinds whose event may stop being true (answered, attested, closed): checked again before sending.
WAITING_KINDS = frozenset({"nomination", "nomination-reminder", "endorse", "vote-reminder"})
# Kinds told only when they happened after the member subscribed.
SINCE_KINDS = frozenset({"badge"})
# A digest's sections, in order: kinds -> heading.
SECTIONS = (
    (("nomination", "nomination-reminder"), N_("Nominations waiting for your answer")),
    (("endorse",), N_("Claims waiting for your endorsement")),
    (("vote-reminder",), N_("Votes closing soon")),
    (("badge",), N_("Badges you earned")),
    (("endpoint-off",), N_("About your messages")),
)


@dataclass(frozen=True)
class Event:
    key: str
    kind: str
    occurred_at: int  # chain seconds
    subject: str  # one line
    text: str  # the message in words, with its link
    link: str  # the web app's page of it
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Person:
    address: str
    name: str | None
    hidden: bool
    active: bool
    admitted_at: int = 0


def short(address: str) -> str:
    return f"{address[:6]}…{address[-4:]}"


class Words:
    """Names, links and times for one community's messages, in the language of the moment (the
    member's, set around the reading with use_locale)."""

    def __init__(self, ctx: Context, community: Community, people: dict[str, Person]) -> None:
        self.ctx, self.community, self.people = ctx, community, people
        self.base = f"{ctx.settings.public_base_url}/c/{community.slug}"

    def name(self, address: str, *, viewer: str | None = None) -> str:
        """Who, by their name: "a member" for someone who hid their profile (unless it is the
        viewer themselves)."""
        person = self.people.get(address)
        if person is not None and person.hidden and address != viewer:
            return gettext("a member")
        if person is not None and person.name:
            return one_line(person.name, 40)
        return short(address)

    def link(self, path: str) -> str:
        return self.base + path

    @staticmethod
    def when(seconds: int) -> str:
        return utc_time(seconds)

    @staticmethod
    def within(seconds: int) -> str:
        hours = max(0, round(seconds / 3600))
        if hours < 1:
            return gettext("within the hour")
        return ngettext("in about %(num)s hour", "in about %(num)s hours", hours)

    def evidence(self, claim: ClaimOut) -> str:
        if claim.evidence_uri_safe and claim.evidence_uri:
            return gettext("The work: %(link)s", link=one_line(claim.evidence_uri, 300))
        return gettext("Its evidence is not a web link, so it is not shown here.")


def title(description: str, limit: int = 80) -> str:
    """A proposal's title: the first line of its description, one line, at most `limit` characters."""
    first = next((line for line in description.splitlines() if line.strip()), "") or gettext("(no description)")
    return one_line(first, limit)


def people_of(session: Session, community: Community, addresses: set[str]) -> dict[str, Person]:
    if not addresses:
        return {}
    rows = session.execute(
        select(Member.address, Member.name, Member.profile_hidden, Member.active, Member.admitted_at).where(
            Member.community == community.slug, Member.address.in_(sorted(addresses))
        )
    ).all()
    return {
        a: Person(a, name, bool(hidden), bool(active), int(admitted or 0)) for a, name, hidden, active, admitted in rows
    }


def _indicator_names(session: Session, community: Community, pairs: set[tuple[int, int]]) -> dict[tuple[int, int], str]:
    if not pairs:
        return {}
    rows = session.execute(
        select(IndicatorVersion.indicator_id, IndicatorVersion.version, IndicatorVersion.name).where(
            IndicatorVersion.community == community.slug,
            IndicatorVersion.indicator_id.in_(sorted({i for i, _ in pairs})),
        )
    ).all()
    return {(i, v): name for i, v, name in rows}


def _indicator(indicator_id: int) -> str:
    """An indicator the index has no name for, by its number."""
    return gettext("indicator %(indicator)s", indicator=indicator_id)


# ---------------------------------------------------------------------- a member's events


def _nomination(words: Words, claim: ClaimOut, member: str) -> Event:
    by = words.name(claim.submitter, viewer=member)
    indicator = one_line(claim.indicator_name or _indicator(claim.indicator_id), 80)
    link = words.link(f"/claims/{claim.id}")
    return Event(
        key=f"nomination:{claim.id}",
        kind="nomination",
        occurred_at=int(claim.created_at),
        subject=gettext("%(by)s nominated you for %(indicator)s", by=by, indicator=indicator),
        text=gettext(
            "%(by)s nominated you for “%(indicator)s”: they saw work of yours that deserves recognition. "
            "%(evidence)s\nIt counts only once you say yes. Say yes or no here: %(link)s",
            by=by,
            indicator=indicator,
            evidence=words.evidence(claim),
            link=link,
        ),
        link=link,
        data={"claim_id": claim.id, "nominator": claim.submitter, "indicator": indicator},
    )


def _nomination_reminder(words: Words, claim: ClaimOut, member: str) -> Event:
    by = words.name(claim.submitter, viewer=member)
    indicator = one_line(claim.indicator_name or _indicator(claim.indicator_id), 80)
    link = words.link(f"/claims/{claim.id}")
    return Event(
        key=f"nomination-reminder:{claim.id}",
        kind="nomination-reminder",
        occurred_at=int(claim.created_at) + WEEK,
        subject=gettext("%(by)s's nomination still waits for your answer", by=by),
        text=gettext(
            "A week ago %(by)s nominated you for “%(indicator)s”, and it still waits for your yes or no. Until you "
            "answer, it cannot count. Answer here: %(link)s",
            by=by,
            indicator=indicator,
            link=link,
        ),
        link=link,
        data={"claim_id": claim.id, "nominator": claim.submitter, "indicator": indicator},
    )


def _endorse(words: Words, claim: ClaimOut, member: str) -> Event:
    contributor = words.name(claim.contributor, viewer=member)
    indicator = one_line(claim.indicator_name or _indicator(claim.indicator_id), 80)
    link = words.link(f"/claims/{claim.id}")
    needed = claim.endorsements_required
    so_far = (
        " "
        + ngettext(
            "It has %(count)s of the %(num)s endorsement it needs.",
            "It has %(count)s of the %(num)s endorsements it needs.",
            needed,
            count=claim.attestations,
        )
        if needed
        else ""
    )
    if claim.nomination:
        by = words.name(claim.submitter, viewer=member)
        what = gettext(
            "%(by)s nominated %(contributor)s for “%(indicator)s”.", by=by, contributor=contributor, indicator=indicator
        )
        subject = gettext(
            "%(by)s's nomination of %(contributor)s waits for your endorsement", by=by, contributor=contributor
        )
    else:
        what = gettext("%(contributor)s claimed “%(indicator)s”.", contributor=contributor, indicator=indicator)
        subject = gettext("%(contributor)s's claim waits for your endorsement", contributor=contributor)
    return Event(
        key=f"endorse:{claim.id}",
        kind="endorse",
        occurred_at=int(claim.created_at),
        subject=subject,
        text=gettext(
            "%(what)s%(so_far)s %(evidence)s\nIf you saw this work, endorse it here: %(link)s",
            what=what,
            so_far=so_far,
            evidence=words.evidence(claim),
            link=link,
        ),
        link=link,
        data={"claim_id": claim.id, "contributor": claim.contributor, "indicator": indicator},
    )


def _badge(words: Words, badge: Any, name: str | None) -> Event:
    indicator = one_line(name or _indicator(badge.indicator_id), 80)
    link = words.link(f"/badges/{badge.token_id}")
    return Event(
        key=f"badge:{badge.token_id}",
        kind="badge",
        occurred_at=int(badge.minted_at),
        subject=gettext("You earned a badge: %(indicator)s", indicator=indicator),
        text=gettext(
            "Your peers endorsed your work, and you earned the badge “%(indicator)s” (weight %(weight)s). It is "
            "yours, on your profile and as a credential you can take elsewhere: %(link)s",
            indicator=indicator,
            weight=badge.weight,
            link=link,
        ),
        link=link,
        data={"token_id": badge.token_id, "indicator": indicator},
    )


def _vote_reminder(words: Words, proposal: Any, now: int) -> Event:
    name = title(proposal.description)
    link = words.link(f"/proposals/{proposal.proposal_id}")
    return Event(
        key=f"vote-reminder:{proposal.proposal_id}",
        kind="vote-reminder",
        occurred_at=max(int(proposal.vote_start), int(proposal.vote_end) - DAY),
        subject=gettext(
            "The vote on “%(name)s” closes %(within)s", name=name, within=words.within(int(proposal.vote_end) - now)
        ),
        text=gettext(
            "The vote on “%(name)s” closes on %(when)s, and you have not voted yet. Read it and vote here: %(link)s",
            name=name,
            when=words.when(int(proposal.vote_end)),
            link=link,
        ),
        link=link,
        data={"proposal_id": proposal.proposal_id, "vote_end": int(proposal.vote_end)},
    )


def _closing(session: Session, community: Community, now: int):
    """Proposals open for votes that close within a day."""
    return session.execute(
        select(Proposal.proposal_id, Proposal.description, Proposal.vote_start, Proposal.vote_end, Proposal.proposer)
        .where(
            Proposal.community == community.slug,
            Proposal.canceled_at.is_(None),
            Proposal.executed_at.is_(None),
            Proposal.vote_start <= now,
            Proposal.vote_end > now,
            Proposal.vote_end <= now + DAY,
        )
        .order_by(Proposal.vote_end)
        .limit(LIMIT)
    ).all()


def member_events(
    ctx: Context, community: Community, member: str, *, since: int = 0, now: int | None = None
) -> list[Event]:
    """Everything that waits for `member` now, the badges they earned since `since`, and the
    reminders due: oldest first."""
    nominations, _ = claim_reads.awaiting_answer(ctx, community, nominee=member, limit=LIMIT, offset=0)
    waiting, _ = claim_reads.awaiting_attestation(ctx, community, attester=member, limit=LIMIT, offset=0)
    with ctx.sessions() as session:
        now = index_time(session, community) if now is None else now
        badges = session.execute(
            select(Badge.token_id, Badge.indicator_id, Badge.indicator_version, Badge.minted_at, Badge.weight)
            .where(
                Badge.community == community.slug,
                Badge.owner == member,
                Badge.holding == 0,
                Badge.minted_at >= since,
            )
            .order_by(Badge.token_id.desc())
            .limit(LIMIT)
        ).all()
        voted = select(Vote.proposal_id).where(Vote.community == community.slug, Vote.voter == member)
        closing = list(_closing(session, community, now))
        if closing:
            cast = set(session.scalars(voted.where(Vote.proposal_id.in_([p.proposal_id for p in closing]))))
            closing = [p for p in closing if p.proposal_id not in cast]
        addresses = {member} | {c.submitter for c in nominations} | {c.contributor for c in waiting}
        addresses |= {c.submitter for c in waiting}
        people = people_of(session, community, addresses)
        names = _indicator_names(session, community, {(b.indicator_id, b.indicator_version) for b in badges})
    words = Words(ctx, community, people)
    me = people.get(member)
    events: list[Event] = []
    for claim in nominations:
        events.append(_nomination(words, claim, member))
        if int(claim.created_at) + WEEK <= now:
            events.append(_nomination_reminder(words, claim, member))
    for claim in waiting:
        contributor = people.get(claim.contributor)
        if contributor is not None and contributor.hidden:
            continue  # nothing is told about a member who hid their profile, except to them
        if claim.submitter == member:
            continue  # their own nomination of someone: they vouched for it already
        events.append(_endorse(words, claim, member))
    events += [_badge(words, b, names.get((b.indicator_id, b.indicator_version))) for b in reversed(badges)]
    if me is not None and me.active:
        # Only a member by the proposal's snapshot (its vote start) has a vote in it.
        events += [_vote_reminder(words, p, now) for p in closing if me.admitted_at <= int(p.vote_start)]
    events.sort(key=lambda e: (e.occurred_at, e.key))
    return events


def member_name(ctx: Context, community: Community, member: str) -> str | None:
    """The name the member gave themselves, fit for a greeting; None if they gave none."""
    with ctx.sessions() as session:
        person = people_of(session, community, {member}).get(member)
    return one_line(person.name, 40) if person is not None and person.name else None


# ---------------------------------------------------------------------- a community's events


def community_events(ctx: Context, community: Community, *, now: int | None = None) -> list[Event]:
    """The community's news, newest first: proposals opened, proposals closing within a day, and
    badges minted to members who show their profile."""
    with ctx.sessions() as session:
        now = index_time(session, community) if now is None else now
        proposals = session.execute(
            select(
                Proposal.proposal_id,
                Proposal.description,
                Proposal.vote_start,
                Proposal.vote_end,
                Proposal.proposer,
                Proposal.created_at,
            )
            .where(Proposal.community == community.slug)
            .order_by(Proposal.created_block.desc())
            .limit(LIMIT // 2)
        ).all()
        closing = _closing(session, community, now)
        hidden = select(Member.address).where(Member.community == community.slug, Member.profile_hidden.is_(True))
        badges = session.execute(
            select(
                Badge.token_id,
                Badge.owner,
                Badge.indicator_id,
                Badge.indicator_version,
                Badge.minted_at,
                Badge.weight,
            )
            .where(Badge.community == community.slug, Badge.owner.not_in(hidden))
            .order_by(Badge.token_id.desc())
            .limit(LIMIT // 2)
        ).all()
        people = people_of(
            session,
            community,
            {p.proposer for p in proposals} | {p.proposer for p in closing} | {b.owner for b in badges},
        )
        names = _indicator_names(session, community, {(b.indicator_id, b.indicator_version) for b in badges})
    words = Words(ctx, community, people)
    events = []
    for p in proposals:
        name, link = title(p.description), words.link(f"/proposals/{p.proposal_id}")
        events.append(
            Event(
                key=f"proposal:{p.proposal_id}",
                kind="proposal",
                occurred_at=int(p.created_at),
                subject=gettext("%(who)s proposed “%(name)s”", who=words.name(p.proposer), name=name),
                text=gettext(
                    "%(who)s proposed “%(name)s”. Voting opens on %(opens)s and closes on %(closes)s: %(link)s",
                    who=words.name(p.proposer),
                    name=name,
                    opens=words.when(int(p.vote_start)),
                    closes=words.when(int(p.vote_end)),
                    link=link,
                ),
                link=link,
                data={"proposal_id": p.proposal_id},
            )
        )
    for p in closing:
        name, link = title(p.description), words.link(f"/proposals/{p.proposal_id}")
        events.append(
            Event(
                key=f"proposal-closing:{p.proposal_id}",
                kind="proposal-closing",
                occurred_at=max(int(p.vote_start), int(p.vote_end) - DAY),
                subject=gettext(
                    "The vote on “%(name)s” closes %(within)s", name=name, within=words.within(int(p.vote_end) - now)
                ),
                text=gettext(
                    "The vote on “%(name)s” closes on %(when)s. Have your say: %(link)s",
                    name=name,
                    when=words.when(int(p.vote_end)),
                    link=link,
                ),
                link=link,
                data={"proposal_id": p.proposal_id},
            )
        )
    for b in badges:
        indicator = one_line(names.get((b.indicator_id, b.indicator_version)) or _indicator(b.indicator_id), 80)
        link = words.link(f"/badges/{b.token_id}")
        who = words.name(b.owner)
        events.append(
            Event(
                key=f"badge-minted:{b.token_id}",
                kind="badge-minted",
                occurred_at=int(b.minted_at),
                subject=gettext("%(who)s earned a badge: %(indicator)s", who=who, indicator=indicator),
                text=gettext(
                    "Peers endorsed %(who)s's work, and %(who)s earned the badge “%(indicator)s”: %(link)s",
                    who=who,
                    indicator=indicator,
                    link=link,
                ),
                link=link,
                data={"token_id": b.token_id, "owner": b.owner},
            )
        )
    events.sort(key=lambda e: (e.occurred_at, e.key), reverse=True)
    return events
