"""A delivery received, the drafts it makes, and the drafts as each member reads them.

A delivery, in order: the source is connected (its secret is set for the community), the signature
verifies (verify.py), the source's budget is not spent (`capture_deliveries_per_minute` for the
community and source, counted in this process and over the database, so that a flood is refused
before it costs a write), the body is JSON, the delivery id was never accepted before; then it is
recorded, and read through the capture rules in force (the index's, as governance last set them),
in one transaction: every draft it makes, or none.

People are matched through the accounts members linked (site and handle, ASCII case folded, as the
contract compares them). An author no member is becomes a draft invitation, with their handle as
the name, that any member may send (inviting them and crediting the invitation, two signatures); an
author who turned capture off gets no draft at all.

Drafts are never signatures. Reading them, each is checked against the index: one whose claim (or
attestation) was signed since is done and no longer listed; one whose indicator was retired is not
listed either.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import threading
import time
from collections import deque
from collections.abc import Mapping
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend import units
from backend.capture import rules as capture_rules
from backend.capture import signing, sources, verify
from backend.capture.models import (
    ATTESTATION,
    CLAIM,
    INVITATION,
    Delivery,
    Dismissal,
    Draft,
    Item,
    Person,
    Preference,
    SignedRequest,
)
from backend.capture.rules import CaptureRules, DiscourseTopic, GitHubMerged, GitLabMerged, StandardEvent, fold
from backend.capture.schemas import CaptureRulesOut, DeliveryOut, DismissalOut, DraftOut, ImportOut, PreferenceOut
from backend.capture.sources import Reading, Work
from backend.chain.addresses import checksum
from backend.chain.deployments import Community
from backend.context import Context
from backend.errors import Conflict, Forbidden, InvalidRequest, NotFound, TooManyRequests, Unprocessable
from backend.i18n import N_, gettext
from backend.indexer.models import (
    Attestation,
    CaptureRulesDocument,
    Claim,
    Indicator,
    IndicatorVersion,
    LinkedAccount,
    Member,
)
from backend.members import offchain

MINUTE = 60.0
MAX_IMPORT_ITEMS = 5000
MAX_DRAFTS_READ = 200

# ---------------------------------------------------------------------- the budget


class Budget:
    """Deliveries taken in the last minute, per (community, source), as this process counted them: a
    delivery takes its place before anything is read from the database (at once, so that deliveries
    arriving together cannot all pass), and gives it back if it is refused afterwards."""

    def __init__(self) -> None:
        self._taken: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, key: tuple[str, str], limit: int, now: float) -> float | None:
        """None once a place is taken; otherwise the seconds until one frees up."""
        with self._lock:
            times = self._taken.setdefault(key, deque())
            while times and times[0] <= now - MINUTE:
                times.popleft()
            if len(times) >= limit:
                return times[0] + MINUTE - now
            times.append(now)
            return None

    def give_back(self, key: tuple[str, str], now: float) -> None:
        with self._lock:
            times = self._taken.get(key)
            if times is not None and now in times:
                times.remove(now)

    def reset(self) -> None:
        with self._lock:
            self._taken.clear()


BUDGET = Budget()


def _spent(ctx: Context, community: Community, source: str, retry: float) -> TooManyRequests:
    limit = ctx.settings.capture_deliveries_per_minute
    seconds = max(1, math.ceil(retry))
    return TooManyRequests(
        gettext(
            "%(count)s deliveries from %(source)s reached '%(community)s' in the last minute, as many as it takes: "
            "nothing was recorded; send it again in %(wait)s",
            count=limit,
            source=source,
            community=community.slug,
            wait=units.wait(seconds),
        ),
        budget="capture_deliveries_per_minute",
        retry_after=seconds,
    )


# ---------------------------------------------------------------------- secrets and signatures


def _secret(ctx: Context, community: Community, name: str) -> str | None:
    secret = ctx.settings.capture_secrets.get(community.slug, {}).get(name)
    return secret.get_secret_value() if secret is not None else None


def connected(ctx: Context, community: Community, source: str) -> bool:
    names = ("gitlab", "gitlab_signing") if source == "gitlab" else (source,)
    return any(_secret(ctx, community, name) for name in names)


def _require(ctx: Context, community: Community, source: str) -> None:
    if not connected(ctx, community, source):
        raise NotFound(
            gettext(
                "Capture from %(source)s is not connected in '%(community)s': its steward has set no secret for it "
                "(CC_CAPTURE_SECRETS)",
                source=source,
                community=community.slug,
            ),
            error="SourceNotConnected",
        )


def verified(ctx: Context, community: Community, source: str, headers: Mapping[str, str], body: bytes, now: float):
    _require(ctx, community, source)
    if source == "github":
        return verify.github(_secret(ctx, community, "github") or "", headers, body)
    if source == "gitlab":
        token, signing_token = _secret(ctx, community, "gitlab"), _secret(ctx, community, "gitlab_signing")
        return verify.gitlab(token, signing_token, headers, body, now)
    if source == "discourse":
        return verify.discourse(_secret(ctx, community, "discourse") or "", headers, body)
    return verify.standard(_secret(ctx, community, "standard") or "", headers, body, now)


def _json(body: bytes, what: str = N_("The delivery")) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRequest(
            gettext("%(what)s is not JSON (%(why)s): nothing was recorded", what=gettext(what), why=exc),
            error="MalformedJson",
        ) from None


def read(source: str, event: str, payload: dict[str, Any], headers: Mapping[str, str]) -> Reading:
    if source == "github":
        return sources.github(event, payload)
    if source == "gitlab":
        return sources.gitlab(payload)
    if source == "discourse":
        forum = (headers.get("x-discourse-instance") or "").strip().rstrip("/")
        return sources.discourse(event, payload, forum)
    return sources.standard(payload)


# ---------------------------------------------------------------------- receiving


def receive(ctx: Context, community: Community, source: str, headers: Mapping[str, str], body: bytes) -> DeliveryOut:
    """A delivery: verified, within budget, new, recorded with the drafts it makes."""
    now = time.time()
    checked = verified(ctx, community, source, headers, body, now)
    take_place(ctx, community, source, now)
    return record(ctx, community, source, checked, headers, body, now)


def take_place(ctx: Context, community: Community, source: str, now: float) -> None:
    """A place in the source's budget for a verified delivery, or 429: no database read either way."""
    retry = BUDGET.take((community.slug, source), ctx.settings.capture_deliveries_per_minute, now)
    if retry is not None:
        raise _spent(ctx, community, source, retry)


def record(
    ctx: Context,
    community: Community,
    source: str,
    checked: verify.Verified,
    headers: Mapping[str, str],
    body: bytes,
    now: float,
) -> DeliveryOut:
    """The delivery recorded with its drafts (its place in the budget taken); refused, the place is given back."""
    try:
        return _record(ctx, community, source, checked, headers, body, now)
    except BaseException:
        BUDGET.give_back((community.slug, source), now)  # refused, or failed: it changed nothing, takes no place
        raise


def _record(
    ctx: Context,
    community: Community,
    source: str,
    checked: verify.Verified,
    headers: Mapping[str, str],
    body: bytes,
    now: float,
) -> DeliveryOut:
    limit = ctx.settings.capture_deliveries_per_minute
    payload = _json(body)
    if not isinstance(payload, dict):
        raise InvalidRequest(
            gettext("The delivery is JSON but not an object: nothing was recorded"), error="MalformedJson"
        )
    reading = read(source, checked.event, payload, headers)
    with ctx.sessions() as session:
        if session.scalar(_delivery_query(community, source, checked.delivery_id)) is not None:
            raise _replayed(checked.delivery_id)
        recent = session.scalars(
            select(Delivery.received_at)
            .where(
                Delivery.community == community.slug,
                Delivery.source == source,
                Delivery.received_at > now - MINUTE,
                Delivery.imported.is_(False),
            )
            .order_by(Delivery.received_at)
            .limit(limit)
        ).all()
        if len(recent) >= limit:  # other processes took the budget
            raise _spent(ctx, community, source, recent[0] + MINUTE - now)
        delivery = Delivery(
            community=community.slug,
            source=source,
            delivery_id=checked.delivery_id,
            event=checked.event[:100],
            body_sha256=hashlib.sha256(body).hexdigest(),
            received_at=now,
            imported=False,
            outcome="",
            drafts=0,
        )
        session.add(delivery)
        try:
            session.flush()
            made, outcome = apply(ctx, session, community, reading, delivery.id)
            delivery.drafts, delivery.outcome = made, outcome
            session.commit()
        except IntegrityError:  # the same delivery, or the same draft, at the same moment
            session.rollback()
            raise _replayed(checked.delivery_id) from None
        return DeliveryOut(delivery=checked.delivery_id, event=checked.event, outcome=outcome, drafts=made)


def _delivery_query(community: Community, source: str, delivery_id: str):
    return select(Delivery.id).where(
        Delivery.community == community.slug, Delivery.source == source, Delivery.delivery_id == delivery_id
    )


def _replayed(delivery_id: str) -> Conflict:
    return Conflict(
        gettext(
            "Delivery %(delivery)s was received already: a delivery is accepted once (a replay changes nothing)",
            delivery=delivery_id,
        ),
        error="ReplayedDelivery",
    )


# ---------------------------------------------------------------------- the rules and the people


_PARSED: dict[str, tuple[CaptureRules | None, str | None]] = {}


def rules_in_force(
    session: Session, community: Community
) -> tuple[CaptureRulesDocument | None, CaptureRules | None, str | None]:
    """The document governance last set (from the index), its rules, and why it cannot be applied (if so)."""
    row = session.get(CaptureRulesDocument, community.slug)
    if row is None:
        return None, None, "no capture rules were ever set: capture is off"
    if row.rules_raw is not None:
        return row, None, "the capture rules on chain are not valid UTF-8 text: capture is off until they are set again"
    if row.digest not in _PARSED:
        try:
            _PARSED[row.digest] = (capture_rules.parse(row.rules), None)
        except ValueError as exc:
            _PARSED[row.digest] = (None, capture_rules.problem_of(exc))
    rules, problem = _PARSED[row.digest]
    if rules is None and problem is None:
        problem = "the capture rules are empty: capture is off"
    return row, rules, problem


def _matches(rule: Any, work: Work) -> bool:
    def any_of(wanted: list[str]) -> bool:
        return not wanted or bool({fold(w) for w in wanted} & {fold(label) for label in work.labels})

    if isinstance(rule, GitHubMerged):
        return work.source == "github" and fold(rule.repository) == fold(work.container) and any_of(rule.labels)
    if isinstance(rule, GitLabMerged):
        return work.source == "gitlab" and fold(rule.project) == fold(work.container) and any_of(rule.labels)
    if isinstance(rule, DiscourseTopic):
        return (
            work.source == "discourse"
            and fold(rule.forum.rstrip("/")) == fold(work.container.rstrip("/"))
            and work.category_id == rule.category_id
            and any_of(rule.tags)
        )
    if isinstance(rule, StandardEvent):
        return work.source == "standard" and work.type == rule.type
    return False


def member_of(session: Session, community: str, site: str, handle: str) -> str | None:
    """The active member who linked this account, if any."""
    folded = fold(handle.strip().removeprefix("@"))
    if not folded:
        return None
    return session.scalar(
        select(LinkedAccount.address)
        .join(Member, and_(Member.community == LinkedAccount.community, Member.address == LinkedAccount.address))
        .where(
            LinkedAccount.community == community,
            LinkedAccount.site == site,
            LinkedAccount.handle_folded == folded,
            Member.active.is_(True),
        )
        .limit(1)
    )


def capture_on(session: Session, community: str, member: str) -> bool:
    preference = session.get(Preference, (community, member))
    return preference is None or preference.capture


def _indicator_active(session: Session, community: str, indicator_id: int) -> bool:
    return bool(
        session.scalar(
            select(Indicator.active).where(Indicator.community == community, Indicator.indicator_id == indicator_id)
        )
    )


def _item(session: Session, community: str, work: Work, indicator_id: int, author: str) -> Item:
    found = session.scalars(
        select(Item).where(
            Item.community == community,
            Item.source == work.source,
            Item.item_key == work.item_key,
            Item.indicator_id == indicator_id,
        )
    ).first()
    if found is not None:
        return found
    item = Item(
        community=community,
        source=work.source,
        item_key=work.item_key[:400],
        url=work.url,
        title=work.title,
        indicator_id=indicator_id,
        author_site=work.author_site,
        author_handle=author,
        author_folded=fold(author),
        captured_at=time.time(),
    )
    session.add(item)
    session.flush()
    return item


def _draft(session: Session, item: Item, kind: str, member: str | None, subject: str, delivery: int | None) -> int:
    exists = session.scalar(
        select(Draft.id).where(
            Draft.community == item.community, Draft.kind == kind, Draft.item_id == item.id, Draft.subject == subject
        )
    )
    if exists is not None:
        return 0
    session.add(
        Draft(
            community=item.community,
            kind=kind,
            item_id=item.id,
            member=member,
            subject=subject,
            indicator_id=item.indicator_id,
            evidence_uri=item.url,
            title=item.title,
            source=item.source,
            author_site=item.author_site,
            author_handle=item.author_handle,
            delivery=delivery,
            created_at=time.time(),
        )
    )
    session.flush()
    return 1


def _command(body: str, command: str) -> bool:
    return re.match(re.escape(command) + r"(\s|$)", body.lstrip()) is not None


def _people(session: Session, community: str, source: str, reading: Reading) -> None:
    for number, handle in reading.people.items():
        session.merge(Person(community=community, source=source, external_id=number, handle=handle))


def _author(session: Session, community: str, work: Work) -> str | None:
    if work.author_handle:
        return work.author_handle.strip().removeprefix("@")
    if work.author_id is not None:
        person = session.get(Person, (community, work.source, work.author_id))
        return person.handle if person is not None else None
    return None


def apply(
    ctx: Context, session: Session, community: Community, reading: Reading, delivery: int | None
) -> tuple[int, str]:
    """The drafts a reading makes under the rules in force: (how many, what came of it in words)."""
    slug = community.slug
    if reading.people:  # GitLab's people, by number: a later merge request's author is found by it
        _people(session, slug, "gitlab", reading)
    if reading.ignored:
        return 0, f"nothing to capture: {reading.ignored}"
    _, rules, problem = rules_in_force(session, community)
    if rules is None:
        return 0, f"nothing captured: {problem}"
    made, notes = 0, []
    for work in reading.works:
        matched = [rule for rule in rules.rules if _matches(rule, work)]
        if not matched:
            notes.append(f"{work.url}: no capture rule names it")
            continue
        if work.private:
            notes.append(f"{work.url}: private (a private repository, project or message), not captured")
            continue
        author = _author(session, slug, work)
        if not author:
            notes.append(f"{work.url}: its author is not named in the delivery, so nobody can be credited")
            continue
        member = member_of(session, slug, work.author_site, author)
        for rule in matched:
            if not _indicator_active(session, slug, rule.indicator_id):
                notes.append(f"{work.url}: indicator {rule.indicator_id} is not an active indicator here")
                continue
            item = _item(session, slug, work, rule.indicator_id, author)
            if member is not None and not capture_on(session, slug, member):
                notes.append(f"{work.url}: its author turned capture off")
            elif member is not None:
                made += _draft(session, item, CLAIM, member, member, delivery)
            else:
                made += _draft(session, item, INVITATION, None, f"{work.author_site}:{fold(author)}"[:200], delivery)
    for comment in reading.comments:
        if rules.endorse is None or not _command(comment.body, rules.endorse.command):
            notes.append("a comment that endorses nothing")
            continue
        endorser = member_of(session, slug, comment.site, comment.handle)
        items = session.scalars(
            select(Item).where(Item.community == slug, Item.source == comment.source, Item.item_key == comment.item_key)
        ).all()
        if endorser is None:
            notes.append(f"{comment.handle} on {comment.site} is no member's linked account")
        elif not items:
            notes.append(f"{comment.item_key}: not an item the capture rules captured")
        elif not capture_on(session, slug, endorser):
            notes.append("the commenter turned capture off")
        if endorser is None or not capture_on(session, slug, endorser):
            continue
        for item in items:
            if member_of(session, slug, item.author_site, item.author_handle) == endorser:
                notes.append(f"{item.url}: nobody endorses their own work")
                continue
            made += _draft(session, item, ATTESTATION, endorser, endorser, delivery)
    words = f"{made} draft{'s' if made != 1 else ''} made"
    return made, words + (f" ({'; '.join(notes[:10])})" if notes else "")


# ---------------------------------------------------------------------- backfill


def _import_signature(ctx: Context, community: Community, source: str, headers: Mapping[str, str], body: bytes) -> None:
    """An import is signed with the source's secret (the token, for GitLab): HMAC-SHA256 over
    "<X-Capture-Timestamp>.<body>", in X-Capture-Signature as sha256=<hex>; five minutes to live."""
    _require(ctx, community, source)
    names = ("gitlab", "gitlab_signing") if source == "gitlab" else (source,)
    secret = next((value for value in (_secret(ctx, community, name) for name in names) if value), "")
    timestamp, given = headers.get("x-capture-timestamp", ""), headers.get("x-capture-signature")
    if not given or not timestamp:
        raise verify.Unsigned(
            gettext(
                "An import carries X-Capture-Timestamp and X-Capture-Signature, made with the source's secret "
                "(`commons capture import` makes them)"
            ),
            error="Unsigned",
        )
    expected = "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(given.strip().encode("utf-8", "replace"), expected.encode()):
        raise verify.Unsigned(
            gettext("X-Capture-Signature does not verify with the source's secret"), error="BadSignature"
        )
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > verify.TOLERANCE_SECONDS:
        raise InvalidRequest(
            gettext("The import was signed more than five minutes from now: sign it again"), error="StaleDelivery"
        )


def import_items(
    ctx: Context, community: Community, source: str, headers: Mapping[str, str], body: bytes, forum: str | None
) -> ImportOut:
    """Past items, from a file in the source's own format, through the same rules; an item
    imported before is skipped (its delivery id is its content's digest), so importing twice
    changes nothing."""
    _import_signature(ctx, community, source, headers, body)
    document = _json(body, N_("The file"))
    if isinstance(document, list) and document and all(isinstance(page, list) for page in document):
        document = [item for page in document for item in page]  # pages, as `gh api --paginate --slurp` writes them
    if source == "discourse":
        if not forum:
            raise Unprocessable(gettext("A Discourse import names the forum it came from (?forum=https://...)"))
        reading = sources.discourse_list(document, forum.rstrip("/"))
    elif not isinstance(document, list):
        raise Unprocessable(
            gettext("A %(source)s import is a JSON array, as the source's API lists them", source=source)
        )
    elif source == "github":
        reading = sources.github_list(document)
    elif source == "gitlab":
        reading = sources.gitlab_list(document)
    else:
        reading = sources.standard_list(document)
    if len(reading.works) > MAX_IMPORT_ITEMS:
        raise Unprocessable(
            gettext(
                "An import holds at most %(limit)s items; this one %(count)s",
                limit=MAX_IMPORT_ITEMS,
                count=len(reading.works),
            )
        )
    imported = already = made = 0
    notes: list[str] = []
    with ctx.sessions() as session:
        for work in reading.works:
            digest = hashlib.sha256(json.dumps([work.source, work.item_key, work.url]).encode()).hexdigest()
            delivery_id = f"import:{digest}"
            if session.scalar(_delivery_query(community, source, delivery_id)) is not None:
                already += 1
                continue
            delivery = Delivery(
                community=community.slug,
                source=source,
                delivery_id=delivery_id,
                event="import",
                body_sha256=digest,
                received_at=time.time(),
                imported=True,
                outcome="",
                drafts=0,
            )
            session.add(delivery)
            session.flush()
            count, outcome = apply(ctx, session, community, Reading(works=[work]), delivery.id)
            delivery.drafts, delivery.outcome = count, outcome
            imported, made = imported + 1, made + count
            if not count:
                notes.append(outcome)
        session.commit()
    return ImportOut(items=len(reading.works), imported=imported, already=already, drafts=made, notes=notes[:50])


# ---------------------------------------------------------------------- drafts as members read them


def _names(session: Session, community: str, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(
        select(IndicatorVersion.indicator_id, IndicatorVersion.name)
        .join(
            Indicator,
            and_(
                Indicator.community == IndicatorVersion.community,
                Indicator.indicator_id == IndicatorVersion.indicator_id,
                Indicator.version == IndicatorVersion.version,
            ),
        )
        .where(IndicatorVersion.community == community, Indicator.indicator_id.in_(ids), Indicator.active.is_(True))
    ).all()
    return {int(i): name for i, name in rows}


def _claims_of(session: Session, community: str, contributor: str, uris: set[str]) -> list[Any]:
    if not uris:
        return []
    return list(
        session.execute(
            select(Claim.claim_id, Claim.indicator_id, Claim.evidence_uri, Claim.minted, Claim.nomination_state).where(
                Claim.community == community, Claim.contributor == contributor, Claim.evidence_uri.in_(uris)
            )
        ).all()
    )


def drafts_for(ctx: Context, community: Community, member: str) -> list[DraftOut]:
    """What waits for `member` to sign: their claim and attestation drafts (and invitation drafts
    whose author has since linked their account as this member), and the invitations any member
    may send; none they dismissed, none done (signed since), none of a retired indicator; none of
    their own at all if they turned capture off. Oldest first."""
    slug = community.slug
    member = checksum(member)
    with ctx.sessions() as session:
        active = session.scalar(select(Member.active).where(Member.community == slug, Member.address == member))
        if not active:
            return []
        dismissed = select(Dismissal.draft_id).where(Dismissal.community == slug, Dismissal.member == member)
        own = session.scalars(
            select(Draft)
            .where(Draft.community == slug, Draft.member == member, Draft.id.not_in(dismissed))
            .order_by(Draft.id)
            .limit(MAX_DRAFTS_READ)
        ).all()
        invitations = session.scalars(
            select(Draft)
            .where(Draft.community == slug, Draft.kind == INVITATION, Draft.id.not_in(dismissed))
            .order_by(Draft.id)
            .limit(MAX_DRAFTS_READ)
        ).all()
        capturing = capture_on(session, slug, member)
        chosen: list[tuple[Draft, str, str | None]] = []  # (draft, kind as read now, the author's address)
        for draft in own:
            author = member if draft.kind == CLAIM else member_of(session, slug, draft.author_site, draft.author_handle)
            if capturing:
                chosen.append((draft, draft.kind, author))
        for draft in invitations:
            author = member_of(session, slug, draft.author_site, draft.author_handle)
            if author is None:
                chosen.append((draft, INVITATION, None))
            elif author == member and capturing:  # the author joined and linked their account: theirs to claim
                chosen.append((draft, CLAIM, member))
        names = _names(session, slug, {d.indicator_id for d, _, _ in chosen})
        mine = _claims_of(session, slug, member, {d.evidence_uri for d, kind, _ in chosen if kind == CLAIM})
        out = []
        for draft, kind, author in chosen:
            if draft.indicator_id not in names:  # retired (or never was): nothing can be claimed under it
                continue
            entry = _draft_out(draft, kind, author, names[draft.indicator_id])
            if kind == CLAIM:
                if any(c.indicator_id == draft.indicator_id and c.evidence_uri == draft.evidence_uri for c in mine):
                    continue
            elif kind == ATTESTATION:
                if author is None:
                    continue  # the author is no member (any more): their work cannot be endorsed here
                claim = next(
                    (
                        c
                        for c in _claims_of(session, slug, author, {draft.evidence_uri})
                        if c.indicator_id == draft.indicator_id and c.nomination_state != "declined"
                    ),
                    None,
                )
                if claim is not None and (
                    claim.minted or session.get(Attestation, (slug, claim.claim_id, member)) is not None
                ):
                    continue
                entry.claim_id = claim.claim_id if claim is not None else None
            elif session.scalar(
                select(Claim.claim_id)
                .where(
                    Claim.community == slug,
                    Claim.indicator_id == draft.indicator_id,
                    Claim.evidence_uri == draft.evidence_uri,
                )
                .limit(1)
            ):
                continue  # someone credited this work already
            out.append(entry)
        return out


def _draft_out(draft: Draft, kind: str, author: str | None, indicator_name: str) -> DraftOut:
    return DraftOut(
        id=draft.id,
        kind=kind,
        member=draft.member if kind != INVITATION else None,
        indicator_id=draft.indicator_id,
        indicator_name=indicator_name,
        evidence_uri=draft.evidence_uri,
        title=draft.title,
        source=draft.source,
        author_site=draft.author_site,
        author_handle=draft.author_handle,
        author=author,
        claim_id=None,
        invitee_name=_invitee_name(draft.author_handle) if kind == INVITATION else None,
        created_at=int(draft.created_at),
    )


def _invitee_name(handle: str) -> str:
    """The handle as the invitee's name: at most 32 characters, as a name on chain is."""
    return handle if len(handle) <= 32 else handle[:31] + "…"


# ---------------------------------------------------------------------- signed requests: dismiss, turn off


def _active_member(session: Session, community: Community, member: str) -> None:
    if not session.scalar(select(Member.active).where(Member.community == community.slug, Member.address == member)):
        raise Forbidden(
            gettext(
                "%(member)s is not a member of '%(community)s': only members have drafts",
                member=member,
                community=community.slug,
            )
        )


def _draft_to_dismiss(session: Session, community: Community, member: str, draft_id: int) -> Draft:
    draft = session.get(Draft, draft_id) if 0 < draft_id < 2**31 else None
    if draft is None or draft.community != community.slug:
        raise NotFound(
            gettext("No draft %(draft)s in '%(community)s'", draft=draft_id, community=community.slug),
            error="UnknownDraft",
        )
    if draft.kind != INVITATION and draft.member != member:
        raise Forbidden(
            gettext(
                "Draft %(draft)s waits for %(owner)s, not for %(member)s: only they dismiss it",
                draft=draft_id,
                owner=draft.member,
                member=member,
            )
        )
    return draft


def prepare_dismissal(ctx: Context, community: Community, member: str, draft_id: int) -> dict[str, Any]:
    member = checksum(member)
    with ctx.sessions() as session:
        _active_member(session, community, member)
        _draft_to_dismiss(session, community, member, draft_id)
    message = {"community": community.slug, "member": member, "draft": draft_id, "issuedAt": int(time.time())}
    return signing.typed_data(ctx, community, "CaptureDraftDismissal", message)


def prepare_preference(ctx: Context, community: Community, member: str, capture: bool) -> dict[str, Any]:
    member = checksum(member)
    with ctx.sessions() as session:
        _active_member(session, community, member)
    message = {"community": community.slug, "member": member, "capture": capture, "issuedAt": int(time.time())}
    return signing.typed_data(ctx, community, "CapturePreference", message)


def submit(
    ctx: Context, community: Community, typed: dict[str, Any], signature: str, expected: str
) -> DismissalOut | PreferenceOut:
    """A signed dismissal or preference: checked (ours, fresh, a member's, within budget, signed by
    them, new) and kept."""
    kind = signing.check_shape(ctx, community, typed)
    if kind != expected:
        raise Unprocessable(
            gettext(
                "This is a signed %(kind)s, not a %(expected)s: send it to its own endpoint",
                kind=kind,
                expected=expected,
            )
        )
    message = typed["message"]
    member, issued_at = checksum(message["member"]), int(message["issuedAt"])
    offchain.check_fresh(ctx, issued_at)
    with ctx.sessions() as session:
        _active_member(session, community, member)
        offchain.check_budget(
            session,
            SignedRequest,
            community,
            member,
            ctx.settings.notify_requests_per_hour,
            doing=N_("made signed capture requests"),
            budget="capture_requests_per_hour",
        )
        draft = _draft_to_dismiss(session, community, member, int(message["draft"])) if kind == "dismissal" else None
    digest = signing.check_signer(ctx, typed, signature, member)
    with ctx.sessions() as session:
        offchain.record_once(session, SignedRequest, community, member, kind, issued_at, digest)
        if draft is not None:
            if session.get(Dismissal, (draft.id, member)) is None:
                session.add(
                    Dismissal(draft_id=draft.id, member=member, community=community.slug, dismissed_at=time.time())
                )
            session.commit()
            return DismissalOut(draft=draft.id, member=member, dismissed=True)
        preference = session.get(Preference, (community.slug, member))
        if preference is not None and issued_at < preference.issued_at:
            raise Conflict(
                gettext(
                    "A newer choice of this member was accepted already: this one was signed before it. Prepare and "
                    "sign again"
                ),
                error="ReplayedRequest",
            )
        if preference is None:
            session.add(
                Preference(
                    community=community.slug, member=member, capture=bool(message["capture"]), issued_at=issued_at
                )
            )
        else:
            preference.capture, preference.issued_at = bool(message["capture"]), issued_at
        session.commit()
        return PreferenceOut(member=member, capture=bool(message["capture"]))


def preference_of(ctx: Context, community: Community, member: str) -> PreferenceOut:
    member = checksum(member)
    with ctx.sessions() as session:
        return PreferenceOut(member=member, capture=capture_on(session, community.slug, member))


def rules_out(ctx: Context, community: Community) -> CaptureRulesOut:
    with ctx.sessions() as session:
        row, rules, problem = rules_in_force(session, community)
    return CaptureRulesOut(
        community=community.slug,
        set=row is not None,
        digest=row.digest if row else None,
        document=row.rules if row else None,
        document_raw=row.rules_raw if row else None,
        rules=rules,
        valid=rules is not None,
        problem=problem,
        set_at=row.set_at if row else None,
        tx_hash=row.tx_hash if row else None,
    )
