"""Rule 2: adding an indicator goes propose, vote (for/against/abstain), pass on quorum and
majority, execute. Defeated or expired proposals cannot execute; nobody votes twice."""

import ape
import pytest

from devstack.protocol import ABSTAIN, AGAINST, COMMUNITY, FOR, indicator_input

PENDING, ACTIVE, CANCELED, DEFEATED, SUCCEEDED, QUEUED, EXPIRED, EXECUTED = range(8)


@pytest.fixture
def add_mentoring(registry):
    return [(registry, "addIndicator", (indicator_input(validity=86_400 * 365),))]


def test_add_indicator__nominal_workflow(governance, governor, registry, add_mentoring, alice, bob, carol):
    proposal_id = governance.propose(add_mentoring, "Mentoring counts")
    assert governor.state(proposal_id) == PENDING

    governance.wait_for_snapshot(proposal_id)
    assert governor.state(proposal_id) == ACTIVE
    governor.castVote(proposal_id, FOR, sender=alice)
    governor.castVoteWithReason(proposal_id, AGAINST, "weight too high", sender=bob)
    governor.castVote(proposal_id, FOR, sender=carol)
    against, for_, abstain = governor.proposalVotes(proposal_id)
    assert (against, for_, abstain) == (1, 2, 0)

    governance.wait_for_deadline(proposal_id)
    assert governor.state(proposal_id) == SUCCEEDED
    governance.execute(add_mentoring, "Mentoring counts")
    assert governor.state(proposal_id) == EXECUTED

    assert registry.indicatorCount() == 1
    weight, endorsements, validity, version, orientation, active, *rules = registry.terms(1)
    assert (weight, endorsements, validity, version, orientation, active) == (5, 2, 86_400 * 365, 1, COMMUNITY, True)
    assert rules == [0, 0, 0, 0]  # no endorser indicator, no caps, no cap period
    assert registry.indicatorName(1) == "Mentoring a newcomer"


def test_execute__reverts_for_defeated_proposal(governance, governor, registry, add_mentoring, alice, bob, carol):
    proposal_id = governance.propose(add_mentoring, "defeat me")
    governance.wait_for_snapshot(proposal_id)
    governor.castVote(proposal_id, AGAINST, sender=alice)
    governor.castVote(proposal_id, AGAINST, sender=bob)
    governor.castVote(proposal_id, FOR, sender=carol)
    governance.wait_for_deadline(proposal_id)
    assert governor.state(proposal_id) == DEFEATED
    with ape.reverts(governor.GovernorUnexpectedProposalState):
        governance.execute(add_mentoring, "defeat me")
    assert registry.indicatorCount() == 0


def test_execute__reverts_without_quorum(governance, governor, registry, add_mentoring, alice, bob):
    governance.pass_([(governor, "updateQuorumNumerator", (100,))], "everyone must take part")
    proposal_id = governance.propose(add_mentoring, "two of three")
    governance.wait_for_snapshot(proposal_id)
    assert governor.quorum(governor.proposalSnapshot(proposal_id)) == 3
    governor.castVote(proposal_id, FOR, sender=alice)
    governor.castVote(proposal_id, FOR, sender=bob)
    governance.wait_for_deadline(proposal_id)
    assert governor.state(proposal_id) == DEFEATED  # a unanimous majority, but no quorum
    with ape.reverts(governor.GovernorUnexpectedProposalState):
        governance.execute(add_mentoring, "two of three")
    assert registry.indicatorCount() == 0


def test_quorum_counts_abstentions_but_majority_needs_more_for(governance, governor, add_mentoring, alice, bob):
    proposal_id = governance.propose(add_mentoring, "abstain")
    governance.wait_for_snapshot(proposal_id)
    governor.castVote(proposal_id, ABSTAIN, sender=alice)
    governor.castVote(proposal_id, ABSTAIN, sender=bob)
    governance.wait_for_deadline(proposal_id)
    # Quorum reached by abstentions, but for (0) does not exceed against (0): defeated.
    assert governor.state(proposal_id) == DEFEATED


def test_execute__reverts_for_proposal_nobody_voted_on(governance, governor, registry, add_mentoring):
    proposal_id = governance.propose(add_mentoring, "expired")
    governance.wait_for_deadline(proposal_id)
    assert governor.state(proposal_id) == DEFEATED
    with ape.reverts(governor.GovernorUnexpectedProposalState):
        governance.execute(add_mentoring, "expired")
    assert registry.indicatorCount() == 0


def test_execute__reverts_while_voting(governance, governor, add_mentoring):
    proposal_id = governance.propose(add_mentoring, "early")
    governance.wait_for_snapshot(proposal_id)
    governance.vote(proposal_id)
    with ape.reverts(governor.GovernorUnexpectedProposalState):
        governance.execute(add_mentoring, "early")


def test_vote__reverts_on_second_vote(governance, governor, add_mentoring, alice):
    proposal_id = governance.propose(add_mentoring, "twice")
    governance.wait_for_snapshot(proposal_id)
    governor.castVote(proposal_id, FOR, sender=alice)
    with ape.reverts(governor.GovernorAlreadyCastVote, voter=alice.address):
        governor.castVote(proposal_id, AGAINST, sender=alice)
    assert governor.proposalVotes(proposal_id) == (0, 1, 0)


def test_vote__reverts_before_snapshot_and_after_deadline(governance, governor, add_mentoring, alice):
    proposal_id = governance.propose(add_mentoring, "timing")
    with ape.reverts(governor.GovernorUnexpectedProposalState):
        governor.castVote(proposal_id, FOR, sender=alice)
    governance.wait_for_deadline(proposal_id)
    with ape.reverts(governor.GovernorUnexpectedProposalState):
        governor.castVote(proposal_id, FOR, sender=alice)


def test_propose_and_vote__revert_for_non_members(governance, governor, add_mentoring, outsider):
    targets, values, calldatas, description = governance.proposal(add_mentoring, "outsider")
    with ape.reverts(governor.GovernorNotMember, account=outsider.address):
        governor.propose(targets, values, calldatas, description, sender=outsider)
    proposal_id = governance.propose(add_mentoring, "members only")
    governance.wait_for_snapshot(proposal_id)
    with ape.reverts(governor.GovernorNotMember, account=outsider.address):
        governor.castVote(proposal_id, FOR, sender=outsider)


def test_settings_change_only_by_governance(governance, governor, alice):
    with ape.reverts(governor.GovernorOnlyExecutor, account=alice.address):
        governor.setVotingPeriod(1000, sender=alice)
    governance.pass_([(governor, "setVotingPeriod", (1000,))], "longer votes")
    assert governor.votingPeriod() == 1000


def test_clock_is_timestamp(governor, membership, chain):
    assert governor.CLOCK_MODE() == "mode=timestamp"
    assert membership.clock() == chain.blocks.head.timestamp


DAY = 86_400
# (setter, a value outside the bounds, the named error's arguments: value, min, max)
OUT_OF_BOUNDS = [
    ("setVotingDelay", 2**48 - 1, "GovernorVotingDelayOutOfRange", (2**48 - 1, 0, 30 * DAY)),
    ("setVotingDelay", 30 * DAY + 1, "GovernorVotingDelayOutOfRange", (30 * DAY + 1, 0, 30 * DAY)),
    ("setVotingPeriod", 59, "GovernorVotingPeriodOutOfRange", (59, 60, 30 * DAY)),
    ("setVotingPeriod", 30 * DAY + 1, "GovernorVotingPeriodOutOfRange", (30 * DAY + 1, 60, 30 * DAY)),
    ("updateQuorumNumerator", 0, "GovernorQuorumOutOfRange", (0, 1, 100)),
    ("updateQuorumNumerator", 101, "GovernorQuorumOutOfRange", (101, 1, 100)),
    ("setProposalThreshold", 2, "GovernorProposalThresholdOutOfRange", (2, 0, 1)),
]


def test_settings_bounds_are_public(governor):
    bounds = [
        getattr(governor, name)()
        for name in (
            "MIN_VOTING_DELAY",
            "MAX_VOTING_DELAY",
            "MIN_VOTING_PERIOD",
            "MAX_VOTING_PERIOD",
            "MIN_QUORUM_PERCENT",
            "MAX_QUORUM_PERCENT",
            "MIN_PROPOSAL_THRESHOLD",
            "MAX_PROPOSAL_THRESHOLD",
        )
    ]
    assert bounds == [0, 30 * DAY, 60, 30 * DAY, 1, 100, 0, 1]


@pytest.mark.parametrize(
    "setter, value, error, arguments", OUT_OF_BOUNDS, ids=[f"{c[0]}({c[1]})" for c in OUT_OF_BOUNDS]
)
def test_settings_out_of_bounds__refused_even_to_governance(
    governance, governor, registry, add_mentoring, setter, value, error, arguments
):
    calls = [(governor, setter, (value,))]
    before = (governor.votingDelay(), governor.votingPeriod(), governor.quorumNumerator(), governor.proposalThreshold())
    governance.carry(calls, f"brick with {setter}({value})")
    names = ("value", "min", "max")
    with ape.reverts(getattr(governor, error), **dict(zip(names, arguments))):
        governance.execute(calls, f"brick with {setter}({value})")
    assert (
        governor.votingDelay(),
        governor.votingPeriod(),
        governor.quorumNumerator(),
        governor.proposalThreshold(),
    ) == before
    # Governance still works: the next proposal passes and executes.
    governance.pass_(add_mentoring, "still alive")
    assert registry.indicatorCount() == 1


def test_settings_at_the_bounds__accepted(governance, governor):
    calls = [
        (governor, "setVotingDelay", (30 * DAY,)),
        (governor, "setVotingPeriod", (60,)),
        (governor, "updateQuorumNumerator", (100,)),
        (governor, "setProposalThreshold", (1,)),
    ]
    governance.pass_(calls, "edges")
    assert (
        governor.votingDelay(),
        governor.votingPeriod(),
        governor.quorumNumerator(),
        governor.proposalThreshold(),
    ) == (30 * DAY, 60, 100, 1)


def test_constructor__checks_the_same_bounds(deployer, membership, forwarder, timelock, project):
    with ape.reverts(project.CommunityGovernor.GovernorVotingDelayOutOfRange):
        deployer.deploy(project.CommunityGovernor, "G", membership, forwarder, 2**48 - 1, 300, 0, 50, timelock)
    with ape.reverts(project.CommunityGovernor.GovernorQuorumOutOfRange):
        deployer.deploy(project.CommunityGovernor, "G", membership, forwarder, 1, 300, 0, 0, timelock)
