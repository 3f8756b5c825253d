"""Passed proposals carried out by the service itself, so that a vote that passed takes effect
without anyone having to come back and press Execute.

In a loop, while this process leads (the relayer's leader lock: the process that relays), every
`autoexec_poll_seconds`: each community's proposals that passed and are not executed yet (read from
the index, their state derived on the chain's clock as the pages derive it) are executed through
the same path as POST .../proposals/{id}/execute (proposals/writes.py's `execute_proposal`, the
relayer's own call through the outbox: `send_direct`), charged to the client `autoexec` within the
relayer's budgets. A proposal is left `autoexec_delay_seconds` after it is first seen passed, so
that whoever executes it by hand right after the vote (the page's Execute button, the command line)
is not raced. The manual path stays, for anyone, as a fallback.

A proposal whose execution is refused (it would revert, a budget is spent) is tried again later,
waiting longer each time (up to an hour); one that someone else executed meanwhile is refused with
GovernorUnexpectedProposalState and leaves the list once the index has seen the execution.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from sqlalchemy import select

from backend.chain.deployments import Community
from backend.context import Context
from backend.errors import ChainRefused, DomainError, TooManyRequests
from backend.indexer.models import Proposal
from backend.indexer.projections import latest_checkpoint
from backend.proposals import writes
from backend.proposals.service import _clock

log = logging.getLogger(__name__)

CLIENT = "autoexec"  # the client whose relaying budgets the service's own executions are charged to
RETRY_FIRST, RETRY_MOST = 60.0, 3600.0


@dataclass
class _Attempt:
    retry_at: float = 0.0
    failures: int = 0
    last_error: str | None = None


class ProposalExecutor:
    """Executes passed proposals while this process leads (backend/app.py starts it beside the relayer)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.leader = ctx.worker.leader
        self.leading = False
        self.last_error: str | None = None
        self.executed: dict[tuple[str, str], int] = {}  # (community, proposal) -> the block it was executed in
        self._first_seen: dict[tuple[str, str], float] = {}
        self._attempts: dict[tuple[str, str], _Attempt] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if not self.settings.autoexec:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="autoexec", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                # The relayer worker takes the lock; this only follows it, and acts while it is held.
                self.leading = self.leader.held()
                if self.leading:
                    self.step()
                    self.last_error = None
            except Exception as exc:
                self.last_error = repr(exc)
                log.exception("carrying out passed proposals failed")
            self._stop.wait(self.settings.autoexec_poll_seconds)

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
        waiting = {(community.slug, p.proposal_id) for p in out}
        for key in [k for k in self._first_seen if k[0] == community.slug and k not in waiting]:
            self._first_seen.pop(key, None)
            self._attempts.pop(key, None)
        return out

    def execute_if_due(self, community: Community, proposal: Proposal, *, now: float) -> bool:
        key = (community.slug, proposal.proposal_id)
        first = self._first_seen.setdefault(key, now)
        attempt = self._attempts.setdefault(key, _Attempt())
        if now - first < self.settings.autoexec_delay_seconds or now < attempt.retry_at:
            return False
        try:
            outcome = writes.execute_proposal(self.ctx, community, proposal=proposal, wait=True, client=CLIENT)
        except TooManyRequests as exc:  # the relayer's budget for its own calls is spent: later
            self._later(attempt, exc.detail, float(exc.extra.get("retry_after") or RETRY_FIRST))
            return False
        except ChainRefused as exc:
            # Executed meanwhile by someone else (the index will show it), or it would revert: later.
            self._later(attempt, exc.detail, min(RETRY_MOST, RETRY_FIRST * 2**attempt.failures))
            log.info("proposal %s of %s not executed: %s", proposal.proposal_id, community.slug, exc.detail)
            return False
        except DomainError as exc:  # the node or the database away, a receipt late: try again soon
            self._later(attempt, exc.detail, RETRY_FIRST)
            log.warning("executing proposal %s of %s failed: %s", proposal.proposal_id, community.slug, exc.detail)
            return False
        self.executed[key] = outcome.block_number or 0
        log.info("executed passed proposal %s of %s in %s", proposal.proposal_id, community.slug, outcome.tx_hash)
        return True

    @staticmethod
    def _later(attempt: _Attempt, why: str, wait: float) -> None:
        attempt.failures += 1
        attempt.last_error = why
        attempt.retry_at = time.monotonic() + wait
