"""The period's figures and records, read from the index. Every list is sorted by a key that is
unique in it, and nothing depends on when the report is made: the same period of the same chain
gives the same figures. Whatever can change after a record was made (a badge's holder, its
revocation, an indicator's replacement, a proposal's votes and outcome) is given as it stood at the
period's end, so a complete period exports the same bytes for ever."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from backend.chain.deployments import Community
from backend.context import Context
from backend.indexer.models import (
    Attestation,
    Badge,
    Claim,
    Cursor,
    EventRecord,
    IndicatorVersion,
    Member,
    Proposal,
    Vote,
)
from backend.indexer.projections import ZERO
from backend.reports.period import Period
from backend.reports.schemas import (
    AttestationRow,
    BadgeRow,
    ByOut,
    GroupOut,
    IndicatorVersionRow,
    ProposalRow,
    ProposalVoteRow,
    ReportOut,
    TotalsOut,
    VoteRow,
)
from backend.vocabulary import SUPPORTS, word_for

DIMENSIONS = ("member", "indicator", "category", "orientation")


def _by_number(row: GroupOut) -> tuple[int, str]:
    return int(row.key), ""


def _by_text(row: GroupOut) -> tuple[int, str]:
    return 0, row.key


def _names(session, community: str) -> dict[tuple[int, int], IndicatorVersion]:
    return {
        (v.indicator_id, v.version): v
        for v in session.scalars(select(IndicatorVersion).where(IndicatorVersion.community == community))
    }


def _as_of(moment: int | None, end: int) -> int | None:
    """When something happened, if it had by `end` (the period's end); None otherwise."""
    return moment if moment is not None and moment < end else None


def _holders_at(session, community: str, moment: int) -> dict[int, str]:
    """Who held each badge that has moved since `moment`: the sender of its first move from then
    on. The index keeps only a badge's holder now; its moves (governed recoveries, rare) are in
    the event log, where the database leaves out the mints (most of a badge log's transfers)."""
    held: dict[int, str] = {}
    for args in session.scalars(
        select(EventRecord.args)
        .where(
            EventRecord.community == community,
            EventRecord.contract == "badge",
            EventRecord.name == "Transfer",
            EventRecord.timestamp >= moment,
            EventRecord.args["from"].as_string() != ZERO,
        )
        .order_by(EventRecord.block_number, EventRecord.log_index)
    ):
        held.setdefault(int(args["tokenId"]), args["from"])
    return held


def badges(ctx: Context, community: Community, period: Period) -> list[BadgeRow]:
    """Badges minted in the period, with their evidence, terms and attesters, each held by whoever
    held it at the period's end."""
    with ctx.sessions() as session:
        versions = _names(session, community.slug)
        holders = _holders_at(session, community.slug, period.end)
        rows = session.execute(
            select(Badge, Claim)
            .join(
                Claim,
                (Claim.community == Badge.community) & (Claim.claim_id == Badge.token_id),
                isouter=True,
            )
            .where(Badge.community == community.slug, Badge.minted_at >= period.start, Badge.minted_at < period.end)
            .order_by(Badge.token_id)
        ).all()
        attesters: dict[int, list[str]] = {}
        for a in session.scalars(
            select(Attestation)
            .where(Attestation.community == community.slug, Attestation.claim_id.in_([b.token_id for b, _ in rows]))
            .order_by(Attestation.claim_id, Attestation.count)
        ):
            attesters.setdefault(a.claim_id, []).append(a.attester)
    out: list[BadgeRow] = []
    for b, c in rows:
        v = versions.get((b.indicator_id, b.indicator_version))
        revoked = b.revoked_at is not None and b.revoked_at < period.end
        disowned = b.disowned_at is not None and b.disowned_at < period.end
        out.append(
            BadgeRow(
                token_id=b.token_id,
                contributor=b.contributor,
                owner=holders.get(b.token_id, b.owner),
                submitter=c.submitter if c else None,
                nomination=bool(c and c.submitter != c.contributor),
                indicator_id=b.indicator_id,
                indicator_version=b.indicator_version,
                indicator_name=v.name if v else None,
                category=b.category,
                orientation=b.orientation,
                weight=b.weight,
                validity_seconds=b.validity,
                minted_at=b.minted_at,
                evidence_uri=c.evidence_uri if c else None,
                evidence_hash=c.evidence_hash if c else None,
                attesters=attesters.get(b.token_id, []),
                revoked_at=b.revoked_at if revoked else None,
                revoke_reason=b.revoke_reason if revoked else None,
                # As of the period's end, like a revocation: the same period exports the same bytes.
                disowned_at=b.disowned_at if disowned else None,
                organisation_id=b.organisation_id,
                tx_hash=b.tx_hash,
            )
        )
    return out


def attestations(ctx: Context, community: Community, period: Period) -> list[AttestationRow]:
    """Attestations made in the period: who attested which claim, for whom, under which indicator."""
    with ctx.sessions() as session:
        versions = _names(session, community.slug)
        rows = session.execute(
            select(Attestation, Claim)
            .join(
                Claim,
                (Claim.community == Attestation.community) & (Claim.claim_id == Attestation.claim_id),
            )
            .where(
                Attestation.community == community.slug,
                Attestation.timestamp >= period.start,
                Attestation.timestamp < period.end,
            )
            .order_by(Attestation.claim_id, Attestation.count)
        ).all()
    return [
        AttestationRow(
            claim_id=a.claim_id,
            attester=a.attester,
            count=a.count,
            contributor=c.contributor,
            indicator_id=c.indicator_id,
            indicator_version=c.indicator_version,
            indicator_name=getattr(versions.get((c.indicator_id, c.indicator_version)), "name", None),
            timestamp=a.timestamp,
            tx_hash=a.tx_hash,
        )
        for a, c in rows
    ]


def indicator_versions(ctx: Context, community: Community, period: Period) -> list[IndicatorVersionRow]:
    """The indicator versions in force at some time in the period: defined before it ended, and
    not replaced by a newer version before it started. A replacement after the period's end is
    not yet one."""
    with ctx.sessions() as session:
        versions = list(
            session.scalars(
                select(IndicatorVersion)
                .where(IndicatorVersion.community == community.slug)
                .order_by(IndicatorVersion.indicator_id, IndicatorVersion.version)
            )
        )
    successor = {(v.indicator_id, v.version): v.defined_at for v in versions}
    out: list[IndicatorVersionRow] = []
    for v in versions:
        replaced = successor.get((v.indicator_id, v.version + 1))
        if v.defined_at < period.end and (replaced is None or replaced >= period.start):
            out.append(
                IndicatorVersionRow(
                    indicator_id=v.indicator_id,
                    version=v.version,
                    name=v.name,
                    description_uri=v.description_uri,
                    category=v.category,
                    orientation=v.orientation,
                    weight=v.weight,
                    endorsements_required=v.endorsements_required,
                    validity_seconds=v.validity,
                    defined_at=v.defined_at,
                    replaced_at=_as_of(replaced, period.end),
                    tx_hash=v.tx_hash,
                )
            )
    return out


def proposals(ctx: Context, community: Community, period: Period) -> list[ProposalRow]:
    """Proposals made in the period as they stood at its end: the votes cast by then, the tallies
    of those votes, and the execution or cancellation if it had come."""
    with ctx.sessions() as session:
        rows = list(
            session.scalars(
                select(Proposal)
                .where(
                    Proposal.community == community.slug,
                    Proposal.created_at >= period.start,
                    Proposal.created_at < period.end,
                )
                .order_by(Proposal.created_block, Proposal.proposal_id)
            )
        )
        votes: dict[str, list[VoteRow]] = {}
        # By support (0 against, 1 for, 2 abstain), as the index tallies each vote it reads.
        tallies: dict[str, Counter[int]] = {p.proposal_id: Counter() for p in rows}
        for v in session.scalars(
            select(Vote)
            .where(
                Vote.community == community.slug,
                Vote.proposal_id.in_([p.proposal_id for p in rows]),
                Vote.timestamp < period.end,
            )
            .order_by(Vote.block_number, Vote.log_index)
        ):
            votes.setdefault(v.proposal_id, []).append(
                VoteRow(
                    voter=v.voter,
                    support=word_for(SUPPORTS, v.support),
                    weight=v.weight,
                    reason=v.reason,
                    timestamp=v.timestamp,
                    tx_hash=v.tx_hash,
                )
            )
            tallies[v.proposal_id][v.support] += v.weight
    return [
        ProposalRow(
            proposal_id=p.proposal_id,
            proposer=p.proposer,
            description=p.description,
            created_at=p.created_at,
            vote_start=p.vote_start,
            vote_end=p.vote_end,
            for_votes=tallies[p.proposal_id][1],
            against_votes=tallies[p.proposal_id][0],
            abstain_votes=tallies[p.proposal_id][2],
            executed_at=_as_of(p.executed_at, period.end),
            canceled_at=_as_of(p.canceled_at, period.end),
            tx_hash=p.tx_hash,
            votes=votes.get(p.proposal_id, []),
        )
        for p in rows
    ]


def votes(ctx: Context, community: Community, period: Period) -> list[ProposalVoteRow]:
    """The votes cast by the period's end on its proposals, one row each (the CSV form of
    proposals' votes)."""
    return [
        ProposalVoteRow(proposal_id=p.proposal_id, **v.model_dump())
        for p in proposals(ctx, community, period)
        for v in p.votes
    ]


def indexed_through(ctx: Context, community: Community) -> int:
    with ctx.sessions() as session:
        cursor = session.get(Cursor, community.slug)
        return cursor.block_timestamp if cursor else 0


def member_names(ctx: Context, community: Community) -> dict[str, str]:
    """The names members gave themselves, by address (members without one are not in it)."""
    with ctx.sessions() as session:
        rows = session.execute(
            select(Member.address, Member.name).where(Member.community == community.slug, Member.name.is_not(None))
        )
        return {address: name for address, name in rows if name is not None}


def hidden_members(ctx: Context, community: Community) -> set[str]:
    """Members who keep their profile out of public lists."""
    with ctx.sessions() as session:
        return set(
            session.scalars(
                select(Member.address).where(Member.community == community.slug, Member.profile_hidden.is_(True))
            )
        )


def summary(ctx: Context, community: Community, period: Period) -> ReportOut:
    """Contributions recognised in the period (badges minted), by member, indicator, category and
    orientation: how many badges and their weight, and how many of them were revoked within it.
    Members who keep their profile hidden are left out of the per-member rows; their badges count in
    the totals and the other dimensions."""
    minted = badges(ctx, community, period)
    hidden = hidden_members(ctx, community)
    names = member_names(ctx, community)
    groups: dict[str, dict[str, GroupOut]] = {d: {} for d in DIMENSIONS}
    for b in minted:
        keys = {
            # Keyed by address (unique, stable); labelled with the member's name when they set one.
            "member": (b.contributor, names.get(b.contributor, b.contributor)),
            "indicator": (str(b.indicator_id), b.indicator_name or ""),
            "category": (b.category, b.category),
            "orientation": (b.orientation, f"{b.orientation}-oriented"),
        }
        for dimension, (key, label) in keys.items():
            if dimension == "member" and b.contributor in hidden:
                continue
            row = groups[dimension].get(key)
            if row is None:
                row = groups[dimension][key] = GroupOut(key=key, label=label, badges=0, weight=0, revoked=0)
            row.badges += 1
            row.weight += b.weight
            row.revoked += b.revoked_at is not None
    # Indicator ids sort as numbers, the other keys as text.
    ordered = {d: sorted(rows.values(), key=_by_number if d == "indicator" else _by_text) for d, rows in groups.items()}
    counted = [b for b in minted if b.revoked_at is None]
    return ReportOut(
        community=community.slug,
        from_=period.start_date,
        to=period.end_date,
        # Whether the index had reached the period's end when this was read: an incomplete period
        # may still grow.
        complete=indexed_through(ctx, community) >= period.end,
        totals=TotalsOut(
            badges=len(minted),
            weight=sum(b.weight for b in minted),
            revoked=len(minted) - len(counted),
            members=len({b.contributor for b in minted}),
            attestations=len(attestations(ctx, community, period)),
            proposals=len(proposals(ctx, community, period)),
        ),
        by=ByOut(**ordered),
    )
