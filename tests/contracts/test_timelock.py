"""Rule 2b: a passed proposal waits in the community's timelock before it runs. The delay is a
governed setting within bounds; anyone executes once it has passed; a guardian elected by
governance may cancel a queued proposal and do nothing else. The governor keeps the interface and
events Governor front-ends such as Tally read."""

import ape
import pytest
from eth_utils import keccak

from devstack.protocol import indicator_input

PENDING, ACTIVE, CANCELED, DEFEATED, SUCCEEDED, QUEUED, EXPIRED, EXECUTED = range(8)
HOUR, DAY = 3_600, 86_400
ZERO = "0x0000000000000000000000000000000000000000"


@pytest.fixture
def add_mentoring(registry):
    return [(registry, "addIndicator", (indicator_input(),))]


@pytest.fixture
def an_hour_of_delay(governance, timelock):
    governance.pass_([(timelock, "updateDelay", (HOUR,))], "an hour to react")
    assert timelock.getMinDelay() == HOUR


@pytest.fixture
def bob_guards(governance, governor, bob):
    governance.pass_([(governor, "setProposalGuardian", (bob,))], "bob guards")
    assert governor.proposalGuardian() == bob.address


def queued(governance, governor, calls, description):
    proposal_id = governance.carry(calls, description)
    governance.queue(calls, description)
    assert governor.state(proposal_id) == QUEUED
    return proposal_id


def test_the_timelock_owns_every_rule_and_nobody_administers_it(
    timelock, governor, membership, registry, badge, deployer, founders, outsider
):
    for contract in (membership, registry, badge):
        assert contract.owner() == timelock.address
    assert governor.timelock() == timelock.address
    proposer, canceller, executor, admin = (
        timelock.PROPOSER_ROLE(),
        timelock.CANCELLER_ROLE(),
        timelock.EXECUTOR_ROLE(),
        timelock.DEFAULT_ADMIN_ROLE(),
    )
    assert timelock.hasRole(proposer, governor) and timelock.hasRole(canceller, governor)
    assert timelock.hasRole(executor, ZERO)  # open execution: anyone, once the delay has passed
    assert timelock.hasRole(admin, timelock)  # it administers itself, through proposals
    for account in (deployer, *founders, outsider):
        for role in (proposer, canceller, admin):
            assert not timelock.hasRole(role, account)


def test_a_passed_proposal_waits_the_delay_then_anyone_executes_it(
    governance, governor, timelock, registry, add_mentoring, an_hour_of_delay, outsider, chain
):
    proposal_id = queued(governance, governor, add_mentoring, "mentoring, after an hour")
    eta = governor.proposalEta(proposal_id)
    assert eta == chain.blocks.head.timestamp + HOUR
    targets, values, calldatas, description = governance.proposal(add_mentoring, "mentoring, after an hour")
    description_hash = keccak(text=description)
    with ape.reverts(timelock.TimelockUnexpectedOperationState):
        governor.execute(targets, values, calldatas, description_hash, sender=outsider)
    assert registry.indicatorCount() == 0

    governance.wait_until(eta)
    receipt = governor.execute(targets, values, calldatas, description_hash, sender=outsider)
    assert governor.state(proposal_id) == EXECUTED
    assert registry.indicatorCount() == 1
    assert [log.proposalId for log in governor.ProposalExecuted.from_receipt(receipt)] == [proposal_id]


def test_queueing_is_announced_with_the_time_it_runs(governance, governor, add_mentoring, an_hour_of_delay):
    proposal_id = governance.carry(add_mentoring, "announced")
    receipt = governance.queue(add_mentoring, "announced")
    [log] = governor.ProposalQueued.from_receipt(receipt)
    assert (log.proposalId, log.etaSeconds) == (proposal_id, governor.proposalEta(proposal_id))


def test_the_guardian_cancels_a_queued_proposal(
    governance, governor, timelock, registry, add_mentoring, an_hour_of_delay, bob_guards, bob, chain
):
    proposal_id = queued(governance, governor, add_mentoring, "slipped through")
    targets, values, calldatas, description = governance.proposal(add_mentoring, "slipped through")
    description_hash = keccak(text=description)
    receipt = governor.cancel(targets, values, calldatas, description_hash, sender=bob)
    assert governor.state(proposal_id) == CANCELED
    assert [log.proposalId for log in governor.ProposalCanceled.from_receipt(receipt)] == [proposal_id]
    # The timelock's operation is gone with it: waiting out the delay does not bring it back.
    governance.wait_until(chain.blocks.head.timestamp + HOUR)
    with ape.reverts(governor.GovernorUnexpectedProposalState):
        governor.execute(targets, values, calldatas, description_hash, sender=bob)
    assert registry.indicatorCount() == 0


def test_nobody_else_cancels_a_queued_proposal(
    governance, governor, add_mentoring, an_hour_of_delay, bob_guards, alice, carol, outsider
):
    proposal_id = queued(governance, governor, add_mentoring, "stays queued")
    targets, values, calldatas, description = governance.proposal(add_mentoring, "stays queued")
    for caller in (alice, carol, outsider):  # alice proposed it; carol voted for it
        with ape.reverts(governor.GovernorUnableToCancel):
            governor.cancel(targets, values, calldatas, keccak(text=description), sender=caller)
    assert governor.state(proposal_id) == QUEUED


def test_the_guardian_does_nothing_else(
    governance, governor, timelock, membership, registry, bob_guards, bob, newcomer, add_mentoring
):
    with ape.reverts(membership.OwnableUnauthorizedAccount, account=bob.address):
        membership.admit(newcomer, sender=bob)
    with ape.reverts(registry.OwnableUnauthorizedAccount, account=bob.address):
        registry.retireIndicator(1, sender=bob)
    with ape.reverts(timelock.TimelockUnauthorizedCaller, caller=bob.address):
        timelock.updateDelay(0, sender=bob)
    targets, values, calldatas, _ = governance.proposal(add_mentoring, "by bob alone")
    with ape.reverts(timelock.AccessControlUnauthorizedAccount):
        timelock.scheduleBatch(targets, values, calldatas, b"\0" * 32, b"\0" * 32, 0, sender=bob)
    with ape.reverts(governor.GovernorOnlyExecutor, account=bob.address):
        governor.setProposalGuardian(bob, sender=bob)


def test_governance_removes_the_guardian(governance, governor, add_mentoring, bob_guards, bob):
    no_guardian = [(governor, "setProposalGuardian", (ZERO,))]
    governance.carry(no_guardian, "no guardian")
    receipt = governance.execute(no_guardian, "no guardian")
    [log] = governor.ProposalGuardianSet.from_receipt(receipt)
    assert (log.oldProposalGuardian, log.newProposalGuardian) == (bob.address, ZERO)
    proposal_id = governance.carry(add_mentoring, "after bob")
    targets, values, calldatas, description = governance.proposal(add_mentoring, "after bob")
    with ape.reverts(governor.GovernorUnableToCancel):
        governor.cancel(targets, values, calldatas, keccak(text=description), sender=bob)
    assert governor.state(proposal_id) == SUCCEEDED


def test_without_a_guardian_the_proposer_cancels_only_before_voting(governance, governor, add_mentoring, alice):
    pending = governance.propose(add_mentoring, "changed my mind")
    targets, values, calldatas, description = governance.proposal(add_mentoring, "changed my mind")
    governor.cancel(targets, values, calldatas, keccak(text=description), sender=alice)
    assert governor.state(pending) == CANCELED

    passed = governance.carry(add_mentoring, "the community decided")
    targets, values, calldatas, description = governance.proposal(add_mentoring, "the community decided")
    with ape.reverts(governor.GovernorUnableToCancel):
        governor.cancel(targets, values, calldatas, keccak(text=description), sender=alice)
    assert governor.state(passed) == SUCCEEDED


def test_the_delay_is_a_governed_setting_within_bounds(governance, governor, timelock, alice, deployer, project):
    with ape.reverts(timelock.TimelockUnauthorizedCaller, caller=alice.address):
        timelock.updateDelay(HOUR, sender=alice)
    # On a local chain (chain id 31337) no delay is allowed, for practice; elsewhere an hour at least.
    assert timelock.minDelayAllowed() == 0
    assert timelock.MIN_DELAY() == HOUR and timelock.MAX_DELAY() == 30 * DAY
    governance.pass_([(timelock, "updateDelay", (30 * DAY,))], "the longest")
    assert timelock.getMinDelay() == 30 * DAY
    too_long = [(timelock, "updateDelay", (30 * DAY + 1,))]
    governance.carry(too_long, "too long")
    with ape.reverts(timelock.TimelockDelayOutOfRange):
        governance.execute(too_long, "too long")
    assert timelock.getMinDelay() == 30 * DAY
    with ape.reverts(timelock.TimelockDelayOutOfRange):
        deployer.deploy(project.CommunityTimelock, 30 * DAY + 1, [], [ZERO], ZERO)


def test_the_calls_governor_front_ends_make(governance, governor, membership, timelock, add_mentoring, alice, chain):
    """What Tally and other Governor front-ends read (OpenZeppelin Governor's interface and
    ERC-6372), so a community keeps a way to vote without this service."""
    proposal_id = governance.carry(add_mentoring, "for the front-ends")
    now = chain.blocks.head.timestamp
    assert governor.name() == "Test Commons"
    assert governor.version() == "1"
    assert governor.COUNTING_MODE() == "support=bravo&quorum=for,abstain"
    assert governor.CLOCK_MODE() == membership.CLOCK_MODE() == "mode=timestamp"
    assert governor.clock() == membership.clock() >= now
    assert governor.token() == membership.address
    assert governor.timelock() == timelock.address
    assert governor.proposalGuardian() == ZERO
    assert governor.votingDelay() > 0 and governor.votingPeriod() > 0
    assert governor.proposalThreshold() == 0
    snapshot = governor.proposalSnapshot(proposal_id)
    assert governor.proposalDeadline(proposal_id) > snapshot
    assert governor.proposalProposer(proposal_id) == alice.address
    assert governor.quorum(snapshot) == 1  # 50 % of 3 members
    assert (governor.quorumNumerator(), governor.quorumDenominator()) == (50, 100)
    assert governor.hasVoted(proposal_id, alice)
    assert governor.proposalVotes(proposal_id) == (0, 3, 0)
    assert governor.getVotes(alice, snapshot) == membership.getPastVotes(alice, snapshot) == 1
    assert membership.getPastTotalSupply(snapshot) == 3
    assert membership.delegates(alice) == alice.address
    assert governor.state(proposal_id) == SUCCEEDED
    assert governor.proposalNeedsQueuing(proposal_id)
    assert governor.proposalEta(proposal_id) == 0  # not queued yet
    assert governor.supportsInterface(bytes.fromhex("01ffc9a7"))  # ERC-165 itself
    assert governor.getProposalId(*governance.proposal(add_mentoring, "")[:3], keccak(text="for the front-ends")) == (
        proposal_id
    )
    assert timelock.getMinDelay() == 0
    assert timelock.isOperation(b"\0" * 32) is False


def test_no_vote_can_leave_nobody_to_propose_cancel_or_execute(governance, governor, timelock, deployer, project):
    """A passed proposal that would end governance for good is refused when it runs: the last
    proposer, canceller or executor stays, the timelock keeps administering itself, and the
    governor moves only to a timelock that lets it propose and cancel."""
    proposer, canceller, executor, admin = (
        timelock.PROPOSER_ROLE(),
        timelock.CANCELLER_ROLE(),
        timelock.EXECUTOR_ROLE(),
        timelock.DEFAULT_ADMIN_ROLE(),
    )
    holders = [timelock.roleHolders(role) for role in (proposer, canceller, executor)]
    assert holders == [1, 1, 1]
    bricks = {
        "the governor's proposer role": ("revokeRole", (proposer, governor)),
        "the governor's canceller role": ("revokeRole", (canceller, governor)),
        "open execution": ("revokeRole", (executor, ZERO)),
        "the timelock's own administration": ("renounceRole", (admin, timelock)),
    }
    for description, (function, args) in bricks.items():
        calls = [(timelock, function, args)]
        governance.carry(calls, f"revoke {description}")
        with ape.reverts(timelock.TimelockRoleRequired):
            governance.execute(calls, f"revoke {description}")
    assert timelock.hasRole(proposer, governor) and timelock.hasRole(executor, ZERO)
    assert timelock.hasRole(admin, timelock)

    orphan = deployer.deploy(project.CommunityTimelock, 0, [], [ZERO], ZERO)
    move = [(governor, "updateTimelock", (orphan,))]
    governance.carry(move, "to a timelock that ignores us")
    with ape.reverts(governor.GovernorTimelockWithoutGovernor):
        governance.execute(move, "to a timelock that ignores us")
    assert governor.timelock() == timelock.address


def test_a_second_proposer_may_take_over_by_vote(governance, governor, timelock, outsider):
    """Handing the timelock to another proposer (a new governor, in a migration) stays possible:
    only the last holder of a role is kept."""
    proposer = timelock.PROPOSER_ROLE()
    governance.pass_([(timelock, "grantRole", (proposer, outsider))], "a second proposer")
    governance.pass_([(timelock, "revokeRole", (proposer, governor))], "the first steps down")
    assert timelock.hasRole(proposer, outsider) and not timelock.hasRole(proposer, governor)
    assert timelock.roleHolders(proposer) == 1
