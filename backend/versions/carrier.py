"""The records carried over to a later version of the badge contract by the service itself, so
that a community's vote to move them takes effect without anyone having to call carryOver by hand.

Anyone may carry them (IBadgeVersions.carryOver), and the contract proves every record against the
version before, so the service only saves members the work: in a loop, while this process leads,
every `carry_over_poll_seconds`, for each community whose last move the index holds and whose new
version holds fewer claims than the old one, it sends the next batch of `carry_over_batch_claims`
claims in its own name (the relayer, through the outbox, charged to the client `carrier` within its
budgets). The attesters of each open claim come from the index, in increasing order of address;
the contract refuses a batch whose lists are not exactly the chain's, so a wrong index costs a
refused transaction, never a wrong record. How far it went is read from the chain (the new
version's claimCount), not from the index, so a batch is never sent twice.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from backend.chain.deployments import Community
from backend.context import Context
from backend.indexer.models import Attestation, Claim, RecordsMoveRow
from backend.relay.following_leader import FollowingLeader
from backend.relay.submit import send_direct

log = logging.getLogger(__name__)

CLIENT = "carrier"  # the client whose relaying budgets the service's carrying is charged to


class RecordsCarrier(FollowingLeader):
    """Carries moved records over while this process leads (backend/app.py starts it)."""

    thread_name = "carrier"
    failure = "carrying records over failed"

    def __init__(self, ctx: Context) -> None:
        super().__init__(
            ctx.worker.leader, enabled=ctx.settings.carry_over, poll_seconds=ctx.settings.carry_over_poll_seconds
        )
        self.ctx = ctx
        self.settings = ctx.settings

    def step(self) -> int:
        """One batch for each community that has records left to carry; returns the batches sent."""
        sent = 0
        for community in list(self.ctx.deployments.communities.values()):
            if community.moves and not self._stop.is_set() and self.carry_batch(community):
                sent += 1
        return sent

    def carry_batch(self, community: Community) -> bool:
        """Sends the community's next batch, if any is left; returns whether one was sent."""
        move = community.moves[-1]
        with self.ctx.sessions() as session:
            row = session.get(RecordsMoveRow, (community.slug, move.to_address))
        if row is None or row.carried >= row.claim_count:
            return False
        carried = self.ctx.gateway.read(community, "badge", "claimCount")[0]
        if carried >= row.claim_count:
            return False
        last = min(carried + self.settings.carry_over_batch_claims, row.claim_count)
        attesters = self.open_claims_attesters(community.slug, carried + 1, last)
        data = self.ctx.gateway.abi("badge").function("carryOver").encode(last - carried, attesters)
        outcome = send_direct(self.ctx, community, "badge", data, wait=True, client=CLIENT)
        log.info("community %s: claims %s to %s carried over (%s)", community.slug, carried + 1, last, outcome.status)
        return True

    def open_claims_attesters(self, slug: str, first: int, last: int) -> list[list[str]]:
        """For each claim of `first` to `last` still open (no badge, not declined), in order, the
        addresses that attested it, in increasing order: as carryOver takes them."""
        with self.ctx.sessions() as session:
            open_ids = session.scalars(
                select(Claim.claim_id)
                .where(
                    Claim.community == slug,
                    Claim.claim_id.between(first, last),
                    Claim.minted.is_(False),
                    Claim.nomination_state.is_distinct_from("declined"),
                )
                .order_by(Claim.claim_id)
            ).all()
            rows = session.execute(
                select(Attestation.claim_id, Attestation.attester).where(
                    Attestation.community == slug, Attestation.claim_id.in_(open_ids)
                )
            ).all()
        by_claim: dict[int, list[str]] = {claim_id: [] for claim_id in open_ids}
        for claim_id, attester in rows:
            by_claim[claim_id].append(attester)
        return [sorted(by_claim[claim_id], key=lambda a: int(a, 16)) for claim_id in open_ids]
