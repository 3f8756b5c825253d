"""Rule 9: a member's EIP-712 signed request, relayed by anyone, acts as that member for
every action; replayed, expired, tampered and other-chain requests are rejected."""

import time

import ape
import pytest
from eth_utils import keccak

from devstack.protocol import EVIDENCE_HASH, EVIDENCE_URI, FOR, indicator_input


def test_relayed_propose_vote_delegate_claim_nominate_attest_act_as_the_signer(
    relay, governance, governor, membership, registry, badge, alice, bob, carol, relayer
):
    # Propose and vote, signed by members, paid by the relayer.
    calls = [(registry, "addIndicator", (indicator_input(endorsements=2),))]
    targets, values, calldatas, description = governance.proposal(calls, "relayed proposal")
    relay.call(alice, governor, "propose", targets, values, calldatas, description)
    proposal_id = governor.hashProposal(targets, values, calldatas, keccak(text=description))
    assert governor.proposalProposer(proposal_id) == alice.address

    relay.call(carol, membership, "delegate", bob.address)
    assert membership.delegates(carol) == bob.address

    governance.wait_for_snapshot(proposal_id)
    relay.call(alice, governor, "castVote", proposal_id, FOR)
    relay.call(bob, governor, "castVoteWithReason", proposal_id, FOR, "yes, for carol and me")
    assert governor.hasVoted(proposal_id, alice) and governor.hasVoted(proposal_id, bob)
    assert governor.proposalVotes(proposal_id) == (0, 3, 0)
    assert not governor.hasVoted(proposal_id, relayer)
    governance.wait_for_deadline(proposal_id)
    governance.execute(calls, "relayed proposal", sender=relayer)  # anyone may execute

    # Claim, nominate and attest.
    relay.call(alice, badge, "claim", 1, EVIDENCE_HASH, EVIDENCE_URI)
    relay.call(bob, badge, "nominate", carol.address, 1, EVIDENCE_HASH, EVIDENCE_URI)
    assert badge.getClaim(1).contributor == alice.address
    assert badge.getClaim(2).contributor == carol.address
    relay.call(bob, badge, "attest", 1)
    relay.call(carol, badge, "attest", 1)
    assert badge.ownerOf(1) == alice.address
    assert badge.hasAttested(1, bob) and not badge.hasAttested(1, relayer)


def test_relayed_request_keeps_the_targets_rules(relay, badge, mentoring, alice, forwarder):
    # Self-attestation through the forwarder is still self-attestation; the nonce is not spent.
    badge.claim(mentoring, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    nonce = forwarder.nonces(alice)
    with ape.reverts(forwarder.FailedCall):
        relay.call(alice, badge, "attest", 1)
    assert forwarder.nonces(alice) == nonce
    assert badge.getClaim(1).attestations == 0


def test_replayed_request__rejected(relay, badge, mentoring, alice, bob, forwarder):
    badge.claim(mentoring, EVIDENCE_HASH, EVIDENCE_URI, sender=alice)
    typed_data = relay.typed_data(bob, badge, "attest", 1)
    signature = relay.sign(bob, typed_data)
    relay.submit(typed_data, signature)
    with ape.reverts(forwarder.ERC2771ForwarderInvalidSigner):
        relay.submit(typed_data, signature)  # the nonce moved on, so the signer no longer matches
    assert badge.getClaim(1).attestations == 1


def test_expired_request__rejected(relay, badge, mentoring, alice, forwarder, chain):
    expired = chain.blocks.head.timestamp - 1
    with ape.reverts(forwarder.ERC2771ForwarderExpiredRequest, deadline=expired):
        relay.call(alice, badge, "claim", mentoring, EVIDENCE_HASH, EVIDENCE_URI, deadline=expired)
    assert badge.claimCount() == 0


@pytest.mark.parametrize("field", ["data", "from", "gas", "deadline"])
def test_tampered_request__rejected(relay, badge, mentoring, alice, bob, forwarder, field):
    typed_data = relay.typed_data(alice, badge, "claim", mentoring, EVIDENCE_HASH, EVIDENCE_URI)
    signature = relay.sign(alice, typed_data)
    tampered = {**typed_data, "message": dict(typed_data["message"])}
    tampered["message"][field] = {
        "data": bytes(badge.nominate.encode_input(bob.address, mentoring, EVIDENCE_HASH, EVIDENCE_URI)).hex(),
        "from": bob.address,
        "gas": 2_000_000,
        "deadline": int(time.time()) + 7200,
    }[field]
    if field == "data":
        tampered["message"]["data"] = "0x" + tampered["message"]["data"]
    with ape.reverts(forwarder.ERC2771ForwarderInvalidSigner):
        relay.submit(tampered, signature)
    assert badge.claimCount() == 0


def test_request_signed_for_another_chain__rejected(relay, badge, mentoring, alice, forwarder, chain):
    with ape.reverts(forwarder.ERC2771ForwarderInvalidSigner):
        relay.call(alice, badge, "claim", mentoring, EVIDENCE_HASH, EVIDENCE_URI, chain_id=chain.chain_id + 1)
    assert badge.claimCount() == 0


def test_request_signed_by_non_member__relayed_but_refused_by_the_target(relay, badge, mentoring, outsider, forwarder):
    with ape.reverts(forwarder.FailedCall):
        relay.call(outsider, badge, "claim", mentoring, EVIDENCE_HASH, EVIDENCE_URI)
    assert badge.claimCount() == 0


def test_untrusting_target__rejected(relay, registry, alice, forwarder):
    # The registry is changed only by the Governor and does not trust the forwarder.
    with ape.reverts(forwarder.ERC2771UntrustfulTarget):
        relay.call(alice, registry, "retireIndicator", 1)
