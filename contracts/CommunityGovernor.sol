// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Governor} from "@openzeppelin/contracts/governance/Governor.sol";
import {GovernorSettings} from "@openzeppelin/contracts/governance/extensions/GovernorSettings.sol";
import {GovernorCountingSimple} from "@openzeppelin/contracts/governance/extensions/GovernorCountingSimple.sol";
import {GovernorVotes} from "@openzeppelin/contracts/governance/extensions/GovernorVotes.sol";
import {
    GovernorVotesQuorumFraction
} from "@openzeppelin/contracts/governance/extensions/GovernorVotesQuorumFraction.sol";
import {GovernorTimelockControl} from "@openzeppelin/contracts/governance/extensions/GovernorTimelockControl.sol";
import {GovernorProposalGuardian} from "@openzeppelin/contracts/governance/extensions/GovernorProposalGuardian.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {IMembership} from "./interfaces/IMembership.sol";

/// @title The community's governor: members propose and vote; it alone changes the rules
/// @notice OpenZeppelin's Governor with for/against/abstain counting, a quorum as a fraction of
/// members, and a timestamp clock. Only current members propose and vote; a vote weighs what the
/// voter held (own vote plus delegations) at the proposal's snapshot. A passed proposal is queued
/// in the community's timelock and runs after its delay, executed by anyone; until then a guardian
/// elected by governance may cancel it.
/// @dev The timelock (CommunityTimelock) owns Membership, IndicatorRegistry and
/// ContributionBadge and carries out proposals, so governance calls to the governor itself come
/// from the timelock too. The governor keeps OpenZeppelin's interface and events, which Tally and
/// other Governor front-ends read. Its settings stay within bounds that keep governance alive (a
/// proposal can always be made, voted on in time, pass and execute, so a bad setting can be undone
/// within at most 90 days with the timelock's longest delay): the constructor and every setting
/// change check them.
/// The guardian may cancel a proposal at any stage, queued ones included, and do nothing else.
/// Without a guardian, only the proposer cancels, and only before voting opens (Governor's own
/// rule): OpenZeppelin's extension would also let a proposer cancel after the vote, overriding the
/// community's decision.
contract CommunityGovernor is
    Governor,
    GovernorSettings,
    GovernorCountingSimple,
    GovernorVotes,
    GovernorVotesQuorumFraction,
    GovernorTimelockControl,
    GovernorProposalGuardian,
    ERC2771Context
{
    /// @notice Only current members can propose or vote.
    error GovernorNotMember(address account);
    /// @notice `account` held no votes at the proposal's snapshot (admitted after it, or delegated away).
    error GovernorNoVotingPower(address account, uint256 proposalId);

    /// @notice A new timelock that does not let this governor propose and cancel: nothing could run
    /// again, and no vote could undo it.
    error GovernorTimelockWithoutGovernor(address timelock);

    /// @notice A setting change or a constructor argument outside the governor's bounds.
    error GovernorVotingDelayOutOfRange(uint256 value, uint256 min, uint256 max);
    /// @notice See {GovernorVotingDelayOutOfRange}.
    error GovernorVotingPeriodOutOfRange(uint256 value, uint256 min, uint256 max);
    /// @notice See {GovernorVotingDelayOutOfRange}.
    error GovernorQuorumOutOfRange(uint256 value, uint256 min, uint256 max);
    /// @notice See {GovernorVotingDelayOutOfRange}.
    error GovernorProposalThresholdOutOfRange(uint256 value, uint256 min, uint256 max);

    /// @notice Shortest voting delay, in seconds: a proposal may open to votes at once.
    uint256 public constant MIN_VOTING_DELAY = 0;
    /// @notice Longest voting delay: 30 days. A longer one would let a single proposal put every
    /// later one out of reach (at 2**48 - 1 seconds, proposing overflows: governance is bricked).
    uint256 public constant MAX_VOTING_DELAY = 30 days;
    /// @notice Shortest voting period: 60 seconds, so members have time to vote at all.
    uint256 public constant MIN_VOTING_PERIOD = 60;
    /// @notice Longest voting period: 30 days, so a bad setting can be voted away within 60 days.
    uint256 public constant MAX_VOTING_PERIOD = 30 days;
    /// @notice Smallest quorum, in percent of members at the proposal's snapshot.
    uint256 public constant MIN_QUORUM_PERCENT = 1;
    /// @notice Largest quorum: every member.
    uint256 public constant MAX_QUORUM_PERCENT = 100;
    /// @notice Smallest proposal threshold: none (membership is checked anyway).
    uint256 public constant MIN_PROPOSAL_THRESHOLD = 0;
    /// @notice Largest proposal threshold: one vote. Only members propose anyway, each holds one
    /// vote of their own (delegated away, it comes back by delegating to oneself), and removals can
    /// leave fewer members than any higher threshold, after which nobody could propose again.
    uint256 public constant MAX_PROPOSAL_THRESHOLD = 1;

    IMembership private immutable _membership;

    constructor(
        string memory name_,
        IVotes membership,
        address forwarder,
        uint48 votingDelay_,
        uint32 votingPeriod_,
        uint256 proposalThreshold_,
        uint256 quorumPercent,
        TimelockController timelock_
    )
        Governor(name_)
        GovernorSettings(votingDelay_, votingPeriod_, proposalThreshold_)
        GovernorVotes(membership)
        GovernorVotesQuorumFraction(quorumPercent)
        GovernorTimelockControl(timelock_)
        ERC2771Context(forwarder)
    {
        _membership = IMembership(address(membership));
    }

    /// @notice Creates a proposal; the caller must be a member (and meet the proposal threshold).
    function propose(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        string memory description
    ) public override returns (uint256) {
        _requireMember(_msgSender());
        return super.propose(targets, values, calldatas, description);
    }

    /// @inheritdoc Governor
    function votingDelay() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.votingDelay();
    }

    /// @inheritdoc Governor
    function votingPeriod() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.votingPeriod();
    }

    /// @inheritdoc Governor
    function proposalThreshold() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.proposalThreshold();
    }

    /// @inheritdoc Governor
    function quorum(uint256 timepoint) public view override(Governor, GovernorVotesQuorumFraction) returns (uint256) {
        return super.quorum(timepoint);
    }

    /// @dev Every way the voting delay is set (constructor and governance) checks its bounds.
    function _setVotingDelay(uint48 newVotingDelay) internal override {
        if (newVotingDelay > MAX_VOTING_DELAY) {
            revert GovernorVotingDelayOutOfRange(newVotingDelay, MIN_VOTING_DELAY, MAX_VOTING_DELAY);
        }
        super._setVotingDelay(newVotingDelay);
    }

    /// @dev Every way the voting period is set (constructor and governance) checks its bounds.
    function _setVotingPeriod(uint32 newVotingPeriod) internal override {
        if (newVotingPeriod < MIN_VOTING_PERIOD || newVotingPeriod > MAX_VOTING_PERIOD) {
            revert GovernorVotingPeriodOutOfRange(newVotingPeriod, MIN_VOTING_PERIOD, MAX_VOTING_PERIOD);
        }
        super._setVotingPeriod(newVotingPeriod);
    }

    /// @dev Every way the proposal threshold is set (constructor and governance) checks its bounds.
    function _setProposalThreshold(uint256 newProposalThreshold) internal override {
        if (newProposalThreshold > MAX_PROPOSAL_THRESHOLD) {
            revert GovernorProposalThresholdOutOfRange(
                newProposalThreshold, MIN_PROPOSAL_THRESHOLD, MAX_PROPOSAL_THRESHOLD
            );
        }
        super._setProposalThreshold(newProposalThreshold);
    }

    /// @dev Every way the quorum is set (constructor and governance) checks its bounds.
    function _updateQuorumNumerator(uint256 newQuorumNumerator) internal override {
        if (newQuorumNumerator < MIN_QUORUM_PERCENT || newQuorumNumerator > MAX_QUORUM_PERCENT) {
            revert GovernorQuorumOutOfRange(newQuorumNumerator, MIN_QUORUM_PERCENT, MAX_QUORUM_PERCENT);
        }
        super._updateQuorumNumerator(newQuorumNumerator);
    }

    function _castVote(uint256 proposalId, address account, uint8 support, string memory reason, bytes memory params)
        internal
        override
        returns (uint256)
    {
        _requireMember(account);
        return super._castVote(proposalId, account, support, reason, params);
    }

    /// @dev A vote of zero weight would still mark the voter as having voted: refuse it instead.
    function _countVote(uint256 proposalId, address account, uint8 support, uint256 totalWeight, bytes memory params)
        internal
        override(Governor, GovernorCountingSimple)
        returns (uint256)
    {
        if (totalWeight == 0) revert GovernorNoVotingPower(account, proposalId);
        return super._countVote(proposalId, account, support, totalWeight, params);
    }

    /// @notice Moves the governor to another timelock (by a proposal): only to one that already lets
    /// this governor propose and cancel, so that governance goes on.
    /// @dev Checked after GovernorTimelockControl's own (governance only, which consumes the call's
    /// authorisation once: this override must not add a second onlyGovernance).
    function updateTimelock(TimelockController newTimelock) public override {
        super.updateTimelock(newTimelock);
        if (
            !newTimelock.hasRole(newTimelock.PROPOSER_ROLE(), address(this))
                || !newTimelock.hasRole(newTimelock.CANCELLER_ROLE(), address(this))
        ) revert GovernorTimelockWithoutGovernor(address(newTimelock));
    }

    /// @inheritdoc GovernorTimelockControl
    function state(uint256 proposalId) public view override(Governor, GovernorTimelockControl) returns (ProposalState) {
        return super.state(proposalId);
    }

    /// @inheritdoc GovernorTimelockControl
    function proposalNeedsQueuing(uint256 proposalId)
        public
        view
        override(Governor, GovernorTimelockControl)
        returns (bool)
    {
        return super.proposalNeedsQueuing(proposalId);
    }

    function _queueOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint48) {
        return super._queueOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    function _executeOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) {
        super._executeOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    function _cancel(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint256) {
        return super._cancel(targets, values, calldatas, descriptionHash);
    }

    function _executor() internal view override(Governor, GovernorTimelockControl) returns (address) {
        return super._executor();
    }

    /// @dev The guardian cancels at any stage; otherwise Governor's own rule (the proposer, while
    /// the proposal is pending). Skips GovernorProposalGuardian's fallback on purpose: see the
    /// contract's notes.
    function _validateCancel(uint256 proposalId, address caller)
        internal
        view
        override(Governor, GovernorProposalGuardian)
        returns (bool)
    {
        address guardian = proposalGuardian();
        return (guardian != address(0) && caller == guardian) || Governor._validateCancel(proposalId, caller);
    }

    function _requireMember(address account) private view {
        if (!_membership.isMember(account)) revert GovernorNotMember(account);
    }

    function _msgSender() internal view override(Context, ERC2771Context) returns (address) {
        return ERC2771Context._msgSender();
    }

    function _msgData() internal view override(Context, ERC2771Context) returns (bytes calldata) {
        return ERC2771Context._msgData();
    }

    function _contextSuffixLength() internal view override(Context, ERC2771Context) returns (uint256) {
        return ERC2771Context._contextSuffixLength();
    }
}
