"""What a mined transaction did, read from its receipt: in one place for the relayer (which
request of a batch succeeded, and what each created) and for a write's answer. The logs are
decoded by the one decoder every reader of events shares (backend/chain/logs.py).

In a forwarder's executeBatch, each request that was executed ends with the forwarder's
`ExecutedForwardRequest(signer, nonce, success)`; the logs of its call come just before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backend.chain.logs import DecodedLog

# (contract key, event) -> (the name of what it created in an answer, its argument, its type)
CREATED = {
    ("governor", "ProposalCreated"): ("proposal_id", "proposalId", str),
    ("badge", "ClaimSubmitted"): ("claim_id", "claimId", int),
    ("badge", "BadgeMinted"): ("token_id", "tokenId", int),
    ("badge", "Attested"): ("attestations", "attestations", int),
    ("governor", "VoteCast"): ("vote_weight", "weight", int),
    ("governor", "ProposalExecuted"): ("executed_proposal_id", "proposalId", str),
    ("governor", "ProposalQueued"): ("queued_proposal_id", "proposalId", str),
    ("registry", "IndicatorDefined"): ("indicator_id", "indicatorId", int),
    ("registry", "OrganisationAdded"): ("organisation_id", "organisationId", int),
    ("membership", "MemberAdmitted"): ("member", "account", str),
    ("badge", "NominationAccepted"): ("accepted_claim_id", "claimId", int),
    ("badge", "NominationDeclined"): ("declined_claim_id", "claimId", int),
    ("badge", "BadgeDisowned"): ("disowned_token_id", "tokenId", int),
    ("badge", "ProfileVisibilityChanged"): ("profile_hidden", "hidden", bool),
}


@dataclass(frozen=True)
class Receipt:
    """A mined transaction's receipt, its fields parsed from the node's hex."""

    tx_hash: str  # lowercase, as the outbox keeps hashes
    block_number: int
    succeeded: bool  # the transaction as a whole (status 1)
    gas_used: int
    gas_price: int  # effective, per gas (0 from a node that leaves it out)
    logs: list[dict[str, Any]]  # as the node sent them: decode them with backend.chain.logs

    @classmethod
    def of(cls, raw: dict[str, Any]) -> Receipt:
        return cls(
            tx_hash=raw["transactionHash"].lower(),
            block_number=int(raw["blockNumber"], 16),
            succeeded=int(raw["status"], 16) == 1,
            gas_used=int(raw["gasUsed"], 16),
            gas_price=int(raw.get("effectiveGasPrice") or "0x0", 16),
            logs=raw["logs"],
        )


@dataclass
class Executed:
    """One forward request's fate in a mined transaction."""

    signer: str
    nonce: int
    success: bool
    created: dict[str, Any] = field(default_factory=dict)


# A receipt's events are the community's own contracts', emitted as their ABIs say: one that does
# not decode is a fault (DecodedLog.decoded raises it), never a request settled without its events.


def created_by(logs: list[DecodedLog]) -> dict[str, Any]:
    """What these events created (claim id, proposal id, token id, ...), by name."""
    created: dict[str, Any] = {}
    for log in logs:
        args = log.decoded()
        spec = CREATED.get((log.contract, log.name))
        if spec:
            label, arg, kind = spec
            created[label] = kind(args[arg])
    return created


def executed_requests(logs: list[DecodedLog]) -> list[Executed]:
    """Each forward request the transaction executed, with what its call created."""
    done: list[Executed] = []
    since = 0
    for i, log in enumerate(logs):
        args = log.decoded()
        if (log.contract, log.name) == ("forwarder", "ExecutedForwardRequest"):
            created = created_by(logs[since:i]) if args["success"] else {}
            done.append(Executed(args["signer"], int(args["nonce"]), bool(args["success"]), created))
            since = i + 1
    return done
