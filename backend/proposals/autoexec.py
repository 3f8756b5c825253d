"""Passed proposals carried out by the service itself, so that a vote that passed takes effect
without anyone having to come back and press Execute: queued in the timelock as soon as they pass,
and executed once the timelock's delay is over (during which members see what is coming and the
guardian may cancel it).

In a loop, while this process leads (the relayer's leader lock: the process that relays), every
`autoexec_poll_seconds`: each community's proposals that passed and are not executed yet (read from
the index, their state derived on the chain's clock as the pages derive it) are executed through
the same path as POST .../proposals/{id}/execute (proposals/writes.py's `execute_proposal`, the
relayer's own call through the outbox: `send_direct`), charged to the client `autoexec` within the
relayer's budgets. A proposal is left `autoexec_delay_seconds` after it is first seen passed, so
that whoever executes it by hand right after the vote (the page's Execute button, the command line)
is not raced. The manual path stays, for anyone, as a fallback.

A proposal the contract refuses to execute when it is due (it would revert: a member it removes
is gone already, a setting out of bounds) is left to the members: the service does not try it
again, lest it carry out, days later, what no longer means what the members voted for once the
community has changed (the proposal's page says why; anyone may still execute it). One that someone
else executed meanwhile is refused with GovernorUnexpectedProposalState and leaves the list once the
index has seen the execution. A failure of the service's own (the node away, a budget spent) is
tried again, waiting longer each time, at most `RETRIES` times.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from sqlalchemy import or_, select

from backend.chain.deployments import Community
from backend.context import Context
from backend.errors import ChainRefused, DomainError, TooManyRequests
from backend.indexer.models import Proposal
from backend.indexer.projections import latest_checkpoint
from backend.proposals import writes
from backend.proposals.service import _clock
from backend.relay.following_leader import FollowingLeader

log = logging.getLogger(__name__)

CLIENT = "autoexec"  # the client whose relaying budgets the service's own executions are charged to
RETRY_FIRST, RETRY_MOST, RETRIES = 30.0, 3600.0, 8


@dataclass
class Attempt:
    """What the service tried with one proposal: when to try again, or why it gave up."""

    retry_at: float = 0.0
    failures: int = 0
    last_error: str | None = None
    gave_up: bool = False


class ProposalExecutor(FollowingLeader):
    """Executes passed proposals while this process leads (backend/app.py starts it beside the relayer)."""

    thread_name = "autoexec"
    failure = "carrying out passed proposals failed"

    def __init__(self, ctx: Context) -> None:
        super().__init__(
            ctx.worker.leader, enabled=ctx.settings.autoexec, poll_seconds=ctx.settings.autoexec_poll_seconds
        )
        self.ctx = ctx
        self.settings = ctx.settings
        self.executed: dict[tuple[str, str], int] = {}  # (community, proposal) -> the block it was executed in
        self._first_seen: dict[tuple[str, str], float] = {}
        self._attempts: dict[tuple[str, str], Attempt] = {}

    # ------------------------------------------------------------------ one round

    def step(self, *, now: float | None = None) -> list[tuple[str, str]]:
        """Execute what is due in every community; returns the (community, proposal) executed."""
        done: list[tuple[str, str]] = []
        for community in self.ctx.deployments.communities.values():
            for row in self.passed(community):
                if self._stop.is_set():
                    return done
                if self.execute_if_due(community, row, now=time.monotonic() if now is None else now):
                    done.append((community.slug, row.proposal_id))
        return done

    def passed(self, community: Community) -> list[Proposal]:
        """The community's proposals that passed and wait to be executed, oldest first: the vote
        is over, more voted for than against, and the quorum (of the members at the snapshot) was
        reached, as proposals/service.py derives Governor.state()."""
        with self.ctx.sessions() as session:
            now = _clock(self.ctx, session, community)
            rows = session.scalars(
                select(Proposal)
                .where(
                    Proposal.community == community.slug,
                    Proposal.executed_at.is_(None),
                    Proposal.canceled_at.is_(None),
                    Proposal.vote_end < now,
                    Proposal.for_votes > Proposal.against_votes,
                    # Queued ones once their timelock delay is over; not yet queued ones at once
                    # (queueing starts the delay).
                    or_(Proposal.eta.is_(None), Proposal.eta <= now),
                )
                .order_by(Proposal.vote_end, Proposal.proposal_id)
            ).all()
            out = []
            for p in rows:
                members = latest_checkpoint(session, community.slug, "members", p.vote_start)
                numerator = latest_checkpoint(session, community.slug, "quorum_numerator", p.vote_start)
                if members * numerator // 100 <= p.for_votes + p.abstain_votes:
                    out.append(p)
            session.expunge_all()
        self.forget_left(community.slug, {p.proposal_id for p in out})
        return out

    def forget_left(self, slug: str, waiting: set[str]) -> None:
        """Forget the proposals of `slug` that no longer wait (executed, cancelled), except those
        given up on: an index being rebuilt leaves every proposal out for a moment, and one the
        service left to the members must stay theirs, never tried again by itself."""
        for key in [k for k in self._first_seen if k[0] == slug and k[1] not in waiting]:
            attempt = self._attempts.get(key)
            if attempt is not None and attempt.gave_up:
                continue
            self._first_seen.pop(key, None)
            self._attempts.pop(key, None)

    def execute_if_due(self, community: Community, proposal: Proposal, *, now: float) -> bool:
        key = (community.slug, proposal.proposal_id)
        first = self._first_seen.setdefault(key, now)
        attempt = self._attempts.setdefault(key, Attempt())
        if attempt.gave_up or now - first < self.settings.autoexec_delay_seconds or now < attempt.retry_at:
            return False
        try:
            outcome = writes.execute_proposal(self.ctx, community, proposal=proposal, wait=True, client=CLIENT)
        except ChainRefused as exc:
            if exc.error == "GovernorUnexpectedProposalState":  # executed meanwhile: the index will show it
                self._later(attempt, exc.detail, RETRY_FIRST, now)
            else:  # it would revert: left to the members
                attempt.gave_up, attempt.last_error = True, exc.detail
            log.info("proposal %s of %s not executed: %s", proposal.proposal_id, community.slug, exc.detail)
            return False
        except DomainError as exc:  # a budget spent, the node or the database away, a receipt late
            wait = float(exc.extra.get("retry_after") or 0) if isinstance(exc, TooManyRequests) else 0.0
            self._later(attempt, exc.detail, max(wait, min(RETRY_MOST, RETRY_FIRST * 2**attempt.failures)), now)
            attempt.gave_up = attempt.failures >= RETRIES
            log.warning("executing proposal %s of %s failed: %s", proposal.proposal_id, community.slug, exc.detail)
            return False
        self.executed[key] = outcome.block_number or 0
        log.info("executed passed proposal %s of %s in %s", proposal.proposal_id, community.slug, outcome.tx_hash)
        return True

    def attempt(self, community: str, proposal_id: str) -> Attempt | None:
        """What this process tried with a proposal, if anything (for its page)."""
        return self._attempts.get((community, str(proposal_id)))

    @staticmethod
    def _later(attempt: Attempt, why: str, wait: float, now: float) -> None:
        attempt.failures += 1
        attempt.last_error = why
        attempt.retry_at = now + wait
