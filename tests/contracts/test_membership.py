"""Rule 1: founders from deployment; admission and removal only by executed proposal;
one member, one vote, delegable to members; votes count at the proposal's snapshot."""

import ape

from devstack.protocol import FOR


def test_founders_are_members_with_one_vote_each(membership, founders, outsider):
    assert membership.memberCount() == len(founders)
    for founder in founders:
        assert membership.isMember(founder)
        assert membership.getVotes(founder) == 1
        assert membership.delegates(founder) == founder
    assert not membership.isMember(outsider)
    assert membership.getVotes(outsider) == 0


def test_membership_is_owned_by_the_timelock(membership, timelock):
    assert membership.owner() == timelock.address


def test_admit__only_by_governance(membership, alice, newcomer, outsider):
    for caller in (alice, outsider):
        with ape.reverts(membership.OwnableUnauthorizedAccount, account=caller.address):
            membership.admit(newcomer, sender=caller)
    assert not membership.isMember(newcomer)


def test_admit_and_remove_by_executed_proposal(governance, membership, newcomer, carol):
    governance.pass_([(membership, "admit", (newcomer.address,))], "admit newcomer")
    assert membership.isMember(newcomer)
    assert membership.getVotes(newcomer) == 1  # self-delegated at admission
    assert membership.memberCount() == 4

    governance.pass_([(membership, "remove", (carol.address,))], "remove carol")
    assert not membership.isMember(carol)
    assert membership.getVotes(carol) == 0
    assert membership.memberCount() == 3


def test_remove__only_by_governance(membership, alice, bob):
    with ape.reverts(membership.OwnableUnauthorizedAccount, account=alice.address):
        membership.remove(bob, sender=alice)
    assert membership.isMember(bob)


def test_admit__reverts_for_existing_member(governance, membership, alice):
    calls = [(membership, "admit", (alice.address,))]
    governance.carry(calls, "admit alice twice")
    # The Governor bubbles the target's custom error up.
    with ape.reverts(membership.MembershipAlreadyMember, account=alice.address):
        governance.execute(calls, "admit alice twice")
    assert membership.memberCount() == 3


def test_remove__reverts_for_the_last_member(governance, membership, alice, bob, carol):
    calls = [(membership, "remove", (member.address,)) for member in (alice, bob, carol)]
    governance.carry(calls, "remove everyone")
    with ape.reverts(membership.MembershipLastMember, account=carol.address):
        governance.execute(calls, "remove everyone")
    assert membership.memberCount() == 3  # the whole proposal reverted

    # One by one, down to a single member: that one stays.
    for index, voters in ((0, [alice, bob, carol]), (1, [bob, carol]), (2, [carol])):
        description = f"remove member {index}"
        proposal_id = governance.propose(calls[index : index + 1], description, proposer=voters[-1])
        governance.wait_for_snapshot(proposal_id)
        governance.vote(proposal_id, FOR, voters=voters)
        governance.wait_for_deadline(proposal_id)
        if index < 2:
            governance.execute(calls[index : index + 1], description, sender=carol)
    assert membership.memberCount() == 1
    with ape.reverts(membership.MembershipLastMember, account=carol.address):
        governance.execute(calls[2:], description, sender=carol)
    assert membership.isMember(carol) and membership.memberCount() == 1


def test_deploy__reverts_without_founders(deployer, forwarder, project):
    with ape.reverts(project.Membership.MembershipNoFounders):
        deployer.deploy(project.Membership, "Empty", "E", [], forwarder, deployer)


def test_delegate__moves_the_vote_to_another_member(membership, alice, bob):
    # `delegate` is taken on ape contract objects, hence invoke_transaction.
    membership.invoke_transaction("delegate", bob, sender=alice)
    assert membership.getVotes(alice) == 0
    assert membership.getVotes(bob) == 2


def test_delegate__reverts_to_a_non_member(membership, alice, outsider):
    with ape.reverts(membership.MembershipInvalidDelegate, delegatee=outsider.address):
        membership.invoke_transaction("delegate", outsider, sender=alice)
    assert membership.getVotes(alice) == 1


def test_delegate__reverts_for_a_non_member(membership, outsider, alice):
    with ape.reverts(membership.MembershipNotMember, account=outsider.address):
        membership.invoke_transaction("delegate", alice, sender=outsider)


def test_delegated_vote_counts_once_for_the_delegate(governance, governor, membership, alice, bob):
    membership.invoke_transaction("delegate", bob, sender=alice)
    proposal_id = governance.propose([(membership, "remove", (alice.address,))], "weights", proposer=bob)
    governance.wait_for_snapshot(proposal_id)
    governor.castVote(proposal_id, FOR, sender=bob)
    assert governor.proposalVotes(proposal_id)[1] == 2
    # Alice gave her vote away: voting herself would count it twice.
    with ape.reverts(governor.GovernorNoVotingPower, account=alice.address, proposalId=proposal_id):
        governor.castVote(proposal_id, FOR, sender=alice)
    assert governor.proposalVotes(proposal_id)[1] == 2


def test_vote__reverts_for_member_admitted_after_the_snapshot(governance, governor, membership, newcomer, alice):
    admit = [(membership, "admit", (newcomer.address,))]
    admission = governance.propose(admit, "admit newcomer")
    governance.wait_for_snapshot(admission)
    governance.vote(admission)
    # A proposal whose snapshot falls before the admission is executed.
    earlier = governance.propose([(membership, "remove", (alice.address,))], "created before admission")
    governance.wait_for_deadline(admission)
    governance.execute(admit, "admit newcomer")
    assert membership.isMember(newcomer)
    assert governor.state(earlier) == 1  # Active: still open when the newcomer arrives
    with ape.reverts(governor.GovernorNoVotingPower, account=newcomer.address, proposalId=earlier):
        governor.castVote(earlier, FOR, sender=newcomer)

    # A proposal created after admission counts the newcomer's vote.
    later = governance.propose([(membership, "remove", (alice.address,))], "created after admission")
    governance.wait_for_snapshot(later)
    governor.castVote(later, FOR, sender=newcomer)
    assert governor.proposalVotes(later)[1] == 1


def test_soulbound_membership_cannot_be_transferred(membership, alice, bob):
    token_id = int(alice.address, 16)
    with ape.reverts(membership.SoulboundTokenLocked, tokenId=token_id):
        membership.transferFrom(alice, bob, token_id, sender=alice)
    with ape.reverts(membership.SoulboundTokenLocked, tokenId=token_id):
        membership.approve(bob, token_id, sender=alice)
    assert membership.ownerOf(token_id) == alice.address
