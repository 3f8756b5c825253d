"""The writes of governance: a proposal and a vote a member signs, and the execution of a passed
proposal the relayer sends in its own name."""

from __future__ import annotations

from typing import Any

from backend.chain.deployments import Community
from backend.chain.hashing import keccak
from backend.context import Context
from backend.errors import Conflict
from backend.i18n import gettext as _
from backend.proposals import plan as proposal_rules
from backend.relay.checks import prepare
from backend.relay.submit import TxOutcome, send_direct
from backend.units import utc_time
from backend.vocabulary import SUPPORTS


def prepare_vote(
    ctx: Context, community: Community, *, signer: str, proposal_id: int, support: str, reason: str
) -> dict[str, Any]:
    data = (
        ctx.gateway.abi("governor").function("castVoteWithReason").encode(proposal_id, SUPPORTS.index(support), reason)
    )
    return prepare(ctx, community, signer=signer, target="governor", data=data)


def prepare_proposal(
    ctx: Context, community: Community, *, signer: str, description: str, actions: list
) -> tuple[dict[str, Any], str]:
    """The typed data to sign, and the id the proposal will have."""
    calls = proposal_rules.proposal_calls(ctx, community, actions)
    targets = [community.contracts[key] for key, _ in calls]
    values = [0] * len(calls)
    calldatas = [data for _, data in calls]
    data = ctx.gateway.abi("governor").function("propose").encode(targets, values, calldatas, description)
    typed = prepare(ctx, community, signer=signer, target="governor", data=data)
    return typed, str(proposal_rules.proposal_id(targets, values, calldatas, description))


def prepare_cancel(ctx: Context, community: Community, *, signer: str, proposal) -> dict[str, Any]:
    """The typed data for the guardian (or the proposer, before voting opens) to cancel a proposal."""
    return prepare(ctx, community, signer=signer, target="governor", data=_encoded(ctx, "cancel", proposal))


def cancels(ctx: Context, proposal, data: str) -> bool:
    """Whether a signed call's data is exactly the cancellation of `proposal`."""
    return data.lower() == "0x" + _encoded(ctx, "cancel", proposal).hex()


def execute_proposal(ctx: Context, community: Community, *, proposal, wait: bool, client: str) -> TxOutcome:
    """Carry a passed proposal as far as it can go now, whoever asks (no signature needed): queue
    it in the timelock if it is not yet, then execute it if its delay is already over (a timelock
    without delay, on a local chain). The relayer sends both in its own name. The answer is the
    last step's: `created` names `executed_proposal_id`, or only `queued_proposal_id` while the
    proposal waits (the service executes it by itself once the delay is over)."""
    if proposal.queued_at is None:
        queued = send_direct(ctx, community, "governor", _encoded(ctx, "queue", proposal), wait=wait, client=client)
        if not wait or queued.status != "succeeded":
            return queued
        eta = ctx.gateway.read(community, "governor", "proposalEta", int(proposal.proposal_id))[0]
        if eta > ctx.gateway.clock():
            return queued
    elif proposal.eta is not None and proposal.eta > ctx.gateway.clock():
        raise Conflict(
            _(
                "This proposal passed and waits in the timelock until %(when)s, so that members can see it "
                "coming: it can be carried out from then on, by anyone (this service does it by itself)",
                when=utc_time(proposal.eta),
            ),
            error="ProposalWaitsForTimelock",
            eta=proposal.eta,
        )
    return send_direct(ctx, community, "governor", _encoded(ctx, "execute", proposal), wait=wait, client=client)


def _encoded(ctx: Context, function: str, proposal) -> bytes:
    """governor.queue, .execute or .cancel of a proposal the index holds."""
    return (
        ctx.gateway.abi("governor")
        .function(function)
        .encode(
            proposal.targets,
            [int(v) for v in proposal.values],
            [bytes.fromhex(c[2:]) for c in proposal.calldatas],
            # The exact bytes proposed: a description whose text the index had to alter keeps them raw.
            keccak(
                bytes.fromhex(proposal.description_raw[2:])
                if proposal.description_raw
                else proposal.description.encode()
            ),
        )
    )
