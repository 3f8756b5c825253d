"""Proposals and their votes as the index holds them, with their state on the chain's clock,
and the governor's settings."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.chain.addresses import checksummed
from backend.chain.deployments import Community
from backend.context import Context
from backend.errors import DomainError, NotFound
from backend.i18n import gettext as _
from backend.indexer.models import (
    Proposal,
    Setting,
    Vote,
)
from backend.indexer.projections import latest_checkpoint
from backend.indexer.reads import index_time, page
from backend.proposals.plan import describe_call
from backend.proposals.schemas import ProposalOut, VoteOut
from backend.vocabulary import (
    SUPPORTS,
    word_for,
)


def proposal_row(ctx: Context, community: Community, proposal_id: int) -> Proposal:
    with ctx.sessions() as session:
        row = session.get(Proposal, (community.slug, str(proposal_id)))
        if row is None:
            raise NotFound(
                _(
                    "No proposal %(proposal)s in community '%(community)s'",
                    proposal=proposal_id,
                    community=community.slug,
                ),
                error="GovernorNonexistentProposal",
            )
        return row


def _clock(ctx: Context, session: Session, community: Community) -> int:
    """Proposal states depend on time: the chain's own clock when the node answers."""
    try:
        return ctx.gateway.clock()
    except DomainError:
        return index_time(session, community)


def _proposal_out(
    ctx: Context, session: Session, community: Community, p: Proposal, votes: bool, now: int
) -> ProposalOut:
    members = latest_checkpoint(session, community.slug, "members", p.vote_start)
    numerator = latest_checkpoint(session, community.slug, "quorum_numerator", p.vote_start)
    quorum = members * numerator // 100
    quorum_reached = quorum <= p.for_votes + p.abstain_votes
    # Governor.state(), derived the same way from stored times and tallies.
    if p.executed_at is not None:
        state = "executed"
    elif p.canceled_at is not None:
        state = "canceled"
    elif p.queued_at is not None:
        state = "queued"  # passed, waiting in the timelock until p.eta
    elif p.vote_start >= now:
        state = "pending"
    elif p.vote_end >= now:
        state = "active"
    elif quorum_reached and p.for_votes > p.against_votes:
        state = "succeeded"
    else:
        state = "defeated"
    votes_out: list[VoteOut] | None = None
    if votes:
        rows = session.scalars(
            select(Vote)
            .where(Vote.community == community.slug, Vote.proposal_id == p.proposal_id)
            .order_by(Vote.block_number, Vote.log_index)
        )
        votes_out = [
            VoteOut(
                voter=v.voter,
                support=word_for(SUPPORTS, v.support),
                weight=v.weight,
                reason=v.reason,
                reason_raw=v.reason_raw,
                timestamp=v.timestamp,
                tx_hash=v.tx_hash,
            )
            for v in rows
        ]
    return ProposalOut(
        id=p.proposal_id,
        proposer=p.proposer,
        description=p.description,
        description_raw=p.description_raw,
        state=state,
        vote_start=p.vote_start,
        vote_end=p.vote_end,
        created_at=p.created_at,
        tx_hash=p.tx_hash,
        tallies={"for": p.for_votes, "against": p.against_votes, "abstain": p.abstain_votes},
        quorum=quorum,
        quorum_reached=quorum_reached,
        executed_at=p.executed_at,
        queued_at=p.queued_at,
        eta=p.eta,
        canceled_at=p.canceled_at,
        canceled_by=_canceled_by(p),
        actions=[describe_call(ctx, community, t, c) for t, c in zip(p.targets, p.calldatas)],
        votes=votes_out,
    )


def _canceled_by(p: Proposal) -> str | None:
    """Who cancelled: the relayed cancellation's signer when the index knows it; otherwise by the
    governor's rule, only the guardian cancels once voting has opened
    (CommunityGovernor._validateCancel)."""
    if p.canceled_at is None:
        return None
    if p.canceled_by is not None:
        return "proposer" if p.canceled_by == p.proposer and p.canceled_at <= p.vote_start else "guardian"
    return "proposer" if p.canceled_at <= p.vote_start else "guardian"


def list_proposals(ctx: Context, community: Community, *, limit: int, offset: int) -> tuple[list[ProposalOut], int]:
    with ctx.sessions() as session:
        query = (
            select(Proposal)
            .where(Proposal.community == community.slug)
            .order_by(Proposal.created_block.desc(), Proposal.proposal_id)
        )
        rows, total = page(session, query, limit, offset)
        now = _clock(ctx, session, community)
        return [_proposal_out(ctx, session, community, r, False, now) for r in rows], total


def get_proposal(ctx: Context, community: Community, proposal_id: int) -> ProposalOut:
    with ctx.sessions() as session:
        row = session.get(Proposal, (community.slug, str(proposal_id)))
        if row is None:
            raise NotFound(
                _(
                    "No proposal %(proposal)s in community '%(community)s'",
                    proposal=proposal_id,
                    community=community.slug,
                ),
                error="GovernorNonexistentProposal",
            )
        return _proposal_out(ctx, session, community, row, True, _clock(ctx, session, community))


# Settings the registry holds (projections._community_rules), and the guardian (an address, see
# `guardian`); the rest are the governor's and the timelock's numbers.
_NOT_GOVERNANCE_NUMBERS = ("reciprocal_window", "score_rule", "guardian")


def governance_settings(ctx: Context, community: Community) -> dict[str, int]:
    with ctx.sessions() as session:
        rows = session.scalars(
            select(Setting).where(Setting.community == community.slug, Setting.name.not_in(_NOT_GOVERNANCE_NUMBERS))
        )
        return {r.name: int(r.value) for r in rows}


def guardian(ctx: Context, community: Community) -> str | None:
    """Who may cancel a passed proposal before it runs, if governance elected anyone."""
    with ctx.sessions() as session:
        row = session.get(Setting, (community.slug, "guardian"))
        return checksummed(f"0x{int(row.value):040x}") if row is not None and int(row.value) else None
