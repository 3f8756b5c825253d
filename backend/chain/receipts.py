"""What a mined transaction did, read from its receipt's logs: in one place for the relayer
(which request of a batch succeeded, and what each created) and for a write's answer.

In a forwarder's executeBatch, each request that was executed ends with the forwarder's
`ExecutedForwardRequest(signer, nonce, success)`; the logs of its call come just before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backend.chain.deployments import Community, Deployments

# (contract key, event) -> (the name of what it created in an answer, its argument, its type)
CREATED = {
    ("governor", "ProposalCreated"): ("proposal_id", "proposalId", str),
    ("badge", "ClaimSubmitted"): ("claim_id", "claimId", int),
    ("badge", "BadgeMinted"): ("token_id", "tokenId", int),
    ("badge", "Attested"): ("attestations", "attestations", int),
    ("governor", "VoteCast"): ("vote_weight", "weight", int),
    ("governor", "ProposalExecuted"): ("executed_proposal_id", "proposalId", str),
    ("registry", "IndicatorDefined"): ("indicator_id", "indicatorId", int),
    ("registry", "OrganisationAdded"): ("organisation_id", "organisationId", int),
    ("membership", "MemberAdmitted"): ("member", "account", str),
    ("badge", "NominationAccepted"): ("accepted_claim_id", "claimId", int),
    ("badge", "NominationDeclined"): ("declined_claim_id", "claimId", int),
    ("badge", "BadgeDisowned"): ("disowned_token_id", "tokenId", int),
    ("badge", "ProfileVisibilityChanged"): ("profile_hidden", "hidden", bool),
}


@dataclass
class Executed:
    """One forward request's fate in a mined transaction."""

    signer: str
    nonce: int
    success: bool
    created: dict[str, Any] = field(default_factory=dict)


def _decoded(deployments: Deployments, community: Community, entry: dict[str, Any]):
    key = community.key_of(entry["address"])
    topics = [bytes.fromhex(t[2:]) for t in entry["topics"]]
    event = deployments.abis[key].events.get(topics[0]) if key and topics else None
    if event is None:
        return None, None, None
    return key, event.name, event.decode(topics, bytes.fromhex(entry["data"][2:]))


def created_by(deployments: Deployments, community: Community, logs: list[dict[str, Any]]) -> dict[str, Any]:
    """What these logs created (claim id, proposal id, token id, ...), by name."""
    created: dict[str, Any] = {}
    for entry in logs:
        key, name, args = _decoded(deployments, community, entry)
        spec = CREATED.get((key, name)) if key else None
        if spec:
            label, arg, kind = spec
            created[label] = kind(args[arg])
    return created


def executed_requests(deployments: Deployments, community: Community, logs: list[dict[str, Any]]) -> list[Executed]:
    """Each forward request the transaction executed, with what its call created."""
    done: list[Executed] = []
    since = 0
    for i, entry in enumerate(logs):
        key, name, args = _decoded(deployments, community, entry)
        if (key, name) == ("forwarder", "ExecutedForwardRequest"):
            created = created_by(deployments, community, logs[since:i]) if args["success"] else {}
            done.append(Executed(args["signer"], int(args["nonce"]), bool(args["success"]), created))
            since = i + 1
    return done
