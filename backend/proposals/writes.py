"""The writes of governance: a proposal and a vote a member signs, and the execution of a passed
proposal the relayer sends in its own name."""

from __future__ import annotations

from typing import Any

from eth_utils import keccak

from backend.chain.deployments import Community
from backend.context import Context
from backend.proposals import plan as proposal_rules
from backend.relay.checks import prepare
from backend.relay.submit import TxOutcome, send_direct
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


def execute_proposal(ctx: Context, community: Community, *, proposal, wait: bool, client: str) -> TxOutcome:
    data = (
        ctx.gateway.abi("governor")
        .function("execute")
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
    return send_direct(ctx, community, "governor", data, wait=wait, client=client)
