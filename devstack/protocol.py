"""Helpers that speak the protocol, so contract tests read like it: the proposal lifecycle,
indicator inputs, and members' signed requests relayed through the forwarder."""

from __future__ import annotations

import time
from dataclasses import dataclass

from eth_account import Account
from eth_utils import keccak

from backend.chain.typed_data import forward_request_struct, forward_request_typed_data

VOTING_DELAY = 10
VOTING_PERIOD = 100
AGAINST, FOR, ABSTAIN = 0, 1, 2
# IGovernor.ProposalState values the helpers look at.
SUCCEEDED, QUEUED = 4, 5
OBJECT, COMMUNITY = 0, 1


class Governance:
    """Owns the proposal lifecycle so tests read like the protocol."""

    def __init__(self, governor, chain, voters):
        self.governor = governor
        self.chain = chain
        self.voters = voters

    def proposal(self, calls, description):
        targets = [contract.address for contract, _, _ in calls]
        calldatas = [getattr(contract, method).encode_input(*args) for contract, method, args in calls]
        return targets, [0] * len(calls), calldatas, description

    def propose(self, calls, description="a proposal", proposer=None):
        targets, values, calldatas, description = self.proposal(calls, description)
        self.governor.propose(targets, values, calldatas, description, sender=proposer or self.voters[0])
        return self.governor.hashProposal(targets, values, calldatas, keccak(text=description))

    def wait_until(self, timestamp):
        """Mine a block just after `timestamp`, so a timepoint that must have passed has."""
        self.chain.mine(timestamp=max(timestamp + 1, self.chain.pending_timestamp))

    def wait_for_snapshot(self, proposal_id):
        self.wait_until(self.governor.proposalSnapshot(proposal_id))

    def wait_for_deadline(self, proposal_id):
        self.wait_until(self.governor.proposalDeadline(proposal_id))

    def vote(self, proposal_id, support=1, voters=None):
        for voter in self.voters if voters is None else voters:
            self.governor.castVote(proposal_id, support, sender=voter)

    def queue(self, calls, description="a proposal", sender=None):
        """Queue a passed proposal in the timelock; it runs once the timelock's delay has passed."""
        targets, values, calldatas, description = self.proposal(calls, description)
        return self.governor.queue(
            targets, values, calldatas, keccak(text=description), sender=sender or self.voters[0]
        )

    def execute(self, calls, description="a proposal", sender=None):
        """Execute a passed proposal: queue it first if it is not yet, and wait out the delay."""
        targets, values, calldatas, description = self.proposal(calls, description)
        description_hash = keccak(text=description)
        proposal_id = self.governor.hashProposal(targets, values, calldatas, description_hash)
        if self.governor.state(proposal_id) == SUCCEEDED:
            self.queue(calls, description, sender=sender)
        eta = self.governor.proposalEta(proposal_id)
        if eta > self.chain.pending_timestamp:
            self.wait_until(eta)
        return self.governor.execute(targets, values, calldatas, description_hash, sender=sender or self.voters[0])

    def carry(self, calls, description="a proposal"):
        """Propose, let every founder vote for and wait out the period: ready to execute."""
        proposal_id = self.propose(calls, description)
        self.wait_for_snapshot(proposal_id)
        self.vote(proposal_id, FOR)
        self.wait_for_deadline(proposal_id)
        return proposal_id

    def pass_(self, calls, description="a proposal"):
        """Carry the proposal and execute it."""
        proposal_id = self.carry(calls, description)
        self.execute(calls, description)
        return proposal_id


def indicator_input(
    name="Mentoring a newcomer",
    *,
    orientation=COMMUNITY,
    category="mentoring",
    weight=5,
    endorsements=2,
    validity=0,
    description_uri="ipfs://mentoring-v1",
    endorser_indicator=0,
    earn_cap=0,
    attest_cap=0,
    cap_period=0,
):
    return (
        name,
        description_uri,
        category,
        orientation,
        weight,
        endorsements,
        validity,
        endorser_indicator,
        earn_cap,
        attest_cap,
        cap_period,
    )


EVIDENCE_HASH = keccak(text="https://example.org/pull/42 contents")
EVIDENCE_URI = "https://example.org/pull/42"


def method_handler(contract, method):
    """ape's handler for a contract method; a few names (`delegate`) are taken by ape itself."""
    handler = getattr(contract, method, None)
    return handler if handler is not None else contract._mutable_methods_[method]


@dataclass
class Relay:
    """Signs ForwardRequests with a member's key and submits them through the forwarder."""

    forwarder: object
    relayer: object
    chain_id: int

    def typed_data(self, signer, target, method, *args, deadline=None, nonce=None, chain_id=None, gas=1_000_000):
        return forward_request_typed_data(
            chain_id=self.chain_id if chain_id is None else chain_id,
            forwarder=self.forwarder.address,
            sender=signer.address,
            target=target.address,
            data=bytes(method_handler(target, method).encode_input(*args)),
            nonce=self.forwarder.nonces(signer.address) if nonce is None else nonce,
            deadline=int(time.time()) + 3600 if deadline is None else deadline,
            gas=gas,
        )

    @staticmethod
    def sign(signer, typed_data):
        return bytes(Account.sign_typed_data(signer.private_key, full_message=typed_data).signature)

    def submit(self, typed_data, signature):
        return self.forwarder.execute(forward_request_struct(typed_data, signature), sender=self.relayer)

    def call(self, signer, target, method, *args, **options):
        typed_data = self.typed_data(signer, target, method, *args, **options)
        return self.submit(typed_data, self.sign(signer, typed_data))
